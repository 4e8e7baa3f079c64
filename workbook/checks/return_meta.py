"""The return's identity: metadata present, template version known, roster as sent."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..findings import Finding
from ..provenance import roster_checksum


def check_meta(meta: dict[str, Any] | None, roster: list[dict[str, Any]], supported: int,
               roster_title: str | None) -> Iterator[Finding]:
    if meta is None:
        yield Finding("meta-missing")
        return
    version = meta.get("template_version")
    try:
        version = int(version)
    except (TypeError, ValueError):
        yield Finding("meta-missing")
        return
    if version > supported:
        yield Finding("template-version", params={"found": version, "supported": supported})
    elif version < supported:
        yield Finding("template-old", params={"found": version, "supported": supported})
    members = [{"member_id": str(r.get("member_id")), "name": str(r.get("name"))} for r in roster]
    if meta.get("roster_checksum") and roster_checksum(members) != meta["roster_checksum"]:
        yield Finding("roster-changed", sheet=roster_title)
