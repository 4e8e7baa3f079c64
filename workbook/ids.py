"""The ids BranchBook makes, built and taken apart here only.

- a receipt: the first 12 hex digits of a received file's SHA-256 (`1a2b3c4d5e6f`);
- a return: a branch's week (`B08-W03`);
- a session from a return: the return and the session's number in it (`B08-W03-S1`);
- a merged row's source (来源周报表): the return and the receipt it came in (`B08-W03@1a2b3c4d5e6f`).
"""
from __future__ import annotations

from typing import Any

RECEIPT_LENGTH = 12


def receipt_id(sha256: str) -> str:
    return sha256[:RECEIPT_LENGTH]


def return_id(branch_id: str, week: int) -> str:
    return f"{branch_id}-W{week:02d}"


def session_id(of_return: str, session_no: str) -> str:
    return f"{of_return}-{session_no}"


def source(of_return: str, receipt: str) -> str:
    return f"{of_return}@{receipt}"


def source_return(value: Any) -> str:
    """The return part of a source ("B03-W03@1a2b3c4d5e6f" -> "B03-W03"; a source typed by hand as is)."""
    return str(value or "").split("@", 1)[0]


def sessions_of(of_return: str) -> str:
    """The prefix every session id of a return starts with."""
    return f"{of_return}-"
