"""Turn one received file into a Submission: read safely, validate, establish whose and which week
it is, check it touches only its own branch, and shape its rows for the master."""
from __future__ import annotations

import hashlib
import re
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from . import ids
from .calendar import Campaign
from .cells import as_day, column_letter, timestamp_text
from .checks.formulas import add_return_uncalculated
from .checks.makeup import (
    MAKES_UP,
    check_made_up_again,
    check_makeup_sessions,
    known_sessions,
    latest_before,
    made_up_before,
    made_up_id,
    makeup_sheets,
)
from .checks.membership import check_periods, check_report_dates
from .checks.roster_ids import OFF_ROSTER
from .errors import UserError
from .fastread import open_sheets, saved_time
from .findings import ERROR, Finding, Report
from .i18n import Domain
from .membership import in_branch
from .offered_sessions import college_listed
from .return_reader import ReturnRead, is_return
from .safe_open import UnreadableFile
from .safe_values import made_safe, safe_label
from .schema import Schemas, load_schemas
from .seal import Seal
from .submission import Submission
from .validation import validate_return

say = Domain("checks")

_NAME_PATTERN = re.compile(r"^(?P<branch>.+?)[_\s-]*(?:第(?P<zh>\d+)周|week\s*(?P<en>\d+))", re.IGNORECASE)


def record_sheets(schemas: Schemas) -> tuple[str, ...]:
    """The return's sheets of one record per row that go to the master as they are (returns.yaml: kind
    records, all but the sessions, which become sessions and attendance)."""
    return tuple(s.key for s in schemas.returns.sheets if s.kind == "records" and s.key != "sessions")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _identify_by_name(file_name: str, data: ReturnRead, branches: list[dict], members_of: dict[str, set[str]]):
    """(branch id, week) from a retyped return's file name, confirmed by its roster; else the reason."""
    match = _NAME_PATTERN.match(Path(file_name).stem)
    if not match:
        return None, say.later("the file name is not <branch>_week<N>")
    named = [b for b in branches if b["name"] == match.group("branch").strip()]
    if len(named) != 1:
        return None, say.later("the branch '{branch}' in the file name is not in the master", branch=match.group("branch"))
    branch = named[0]
    if data.roster_ids != members_of.get(branch["branch_id"], set()):
        return None, say.later("the roster does not match that branch's in the master")
    return (branch["branch_id"], int(match.group("zh") or match.group("en"))), None


def _authorise(sub: Submission, data: ReturnRead, parsed: dict, by_id: dict[str, dict], week: tuple[date, date],
               branch_names: dict[str, str], schemas: Schemas) -> list[Finding]:
    """A return may speak only of its own branch's members: those in it some day of the week (a member
    transferred since is still the old branch's in the weeks before the move; membership.py)."""
    found = []
    for key in ("roster", *record_sheets(schemas)):
        read = data.tables.get(key)
        if read is None or "member_id" not in read.columns:
            continue
        for number, record in parsed.get(key, []):
            member = by_id.get(record.get("member_id"))
            if member and not in_branch(member, sub.branch_id, *week):
                owner = member.get("branch_id")
                found.append(Finding("other-branch", sheet=read.title, row=number,
                                     column=column_letter(read.columns["member_id"]), value=member["member_id"],
                                     params={"owner": branch_names.get(owner, owner)}))
    return found


def _one_message_a_row(findings: list[Finding], others: list[Finding]) -> list[Finding]:
    """`findings` less those on a row that names a member of another branch (`others`): that message says what
    is wrong and what to do, so the same ID is not also reported off the roster, nor its date outside his
    membership (docs/design.md, "One way to speak, configure and fail")."""
    named = {(f.sheet, f.row): f.value for f in others}
    return [f for f in findings if (f.sheet, f.row) not in named
            or not (f.code in OFF_ROSTER and f.value == named[(f.sheet, f.row)]
                    or f.code == "outside-membership" and f.params.get("member") == named[(f.sheet, f.row)])]


def _college_attended(data: ReturnRead, tables: dict[str, list[dict]]) -> tuple[dict[str, dict], list[Finding]]:
    """The college's sessions the return lists (its `_元数据`), as the ledger holds them now: their attendance is
    recorded against the one session, never a copy (docs/domain.md, "Records"). One the office has removed since
    the template went out (or given a branch) is a warning, and its column is not recorded."""
    college = {str(s["session_id"]): s for s in tables.get("sessions", []) if s.get("session_id")
               and not s.get("branch_id")}
    found, gone = {}, []
    for session in college_listed(data.meta):
        if session in college:
            found[session] = college[session]
        elif session in data.grid.session_columns:
            gone.append(Finding("college-session-gone", sheet=data.grid.title, row=data.grid.header_row,
                                column=column_letter(data.grid.session_columns[session]), column_label=session,
                                params={"session": session}))
    return found, gone


def _shape_rows(sub: Submission, parsed: dict, schemas: Schemas, known: dict[str, str],
                college: dict[str, dict]) -> dict[str, list[dict[str, Any]]]:
    """The rows to merge; a 补学活动 as the session's full ID, spelt as the ledger spells it (checks/makeup.py). The
    college's sessions (`college`, by 活动编号) are the office's: only their attendance is the branch's."""
    sessions, listed = {}, {}
    typed = [f.key for f in schemas.returns.sheet("sessions").fields if f.key != "session_no"]  # 地点 etc. too
    for _, record in parsed["sessions"]:
        number = record.get("session_no")
        if number in college:
            listed[number] = {"session_id": number, "hours": college[number].get("hours") or record.get("hours")}
        elif number and number[1:].isdigit():
            sessions[number] = {
                "session_id": ids.session_id(sub.return_id, number), "branch_id": sub.branch_id,
                **{k: record.get(k) for k in typed}}
    attendance = []
    for (member, number), status in sorted(parsed["attendance"].items()):
        session = sessions.get(number) or listed.get(number)
        if session is None:
            continue
        attendance.append({"session_id": session["session_id"], "member_id": member, "status": status,
                           "hours": session["hours"] if status == "present" else 0})
    rows = {"sessions": list(sessions.values()), "attendance": attendance}
    for key in record_sheets(schemas):
        rows[key] = [record for _, record in parsed[key]]
        sheet = schemas.returns.sheet(key)
        if "branch_id" in schemas.sheet(sheet.source).keys and "branch_id" not in sheet.keys:
            # A branch's own row (整改清单, 整改公示): its branch is the return's, as for sessions (returns.yaml omit).
            rows[key] = [{**record, "branch_id": sub.branch_id} for record in rows[key]]
    for records in rows.values():
        for record in records:
            if record.get(MAKES_UP) is not None:
                record[MAKES_UP] = made_up_id(record[MAKES_UP], sub.return_id, known)
    return rows


def load_submission(path: Path, tables: dict[str, list[dict]], *, file_name: str | None = None,
                    sender: str | None = None, received_at: datetime | None = None,
                    schemas: Schemas | None = None, lang: str = "zh", sha256: str | None = None,
                    seal: Seal | None = None, unsealed_grace_days: float = 0) -> Submission:
    """Everything the merge needs to know of one file; never raises for a bad file. With HOME's `seal`, a
    return whose metadata was edited, or made by another HOME, is refused (workbook/seal.py)."""
    sub = _load_submission(path, tables, file_name=file_name, sender=sender, received_at=received_at,
                           schemas=schemas, lang=lang, sha256=sha256, seal=seal,
                           unsealed_grace_days=unsealed_grace_days)
    if sub.report is not None:
        sub.report.tidy()  # in the order a secretary fixes them, whatever added them
    return sub


def _load_submission(path: Path, tables: dict[str, list[dict]], *, file_name: str | None,
                     sender: str | None, received_at: datetime | None, schemas: Schemas | None,
                     lang: str, sha256: str | None, seal: Seal | None, unsealed_grace_days: float) -> Submission:
    schemas = schemas or load_schemas()
    path = Path(path)
    sub = Submission(file_name=safe_label(file_name or path.name), sha256=sha256 or file_sha256(path),
                     received_at=timestamp_text(received_at or datetime.now()), sender=safe_label(sender))
    try:  # the guide is not read: the return's data is in the other sheets
        sheets = open_sheets(path, skip=schemas.returns.unread_sheet_names())
    except UnreadableFile as error:
        error.path = Path(sub.file_name)
        sub.unreadable = error
        return sub
    if not is_return(sheets, schemas):
        sub.report = Report("return", [Finding("not-a-return")])
        return sub
    sheets, cleaned = made_safe(sheets)
    report, data, parsed = validate_return(sheets, lang, schemas, today=as_day(sub.received_at))
    report.findings[:0] = cleaned
    add_return_uncalculated(report, path, schemas)
    modified = saved_time(path)
    sub.report = report
    # Excel and openpyxl store the save time in UTC; 周报 shows local time.
    sub.filled_at = timestamp_text(modified.replace(tzinfo=timezone.utc).astimezone().replace(tzinfo=None)) \
        if modified else sub.received_at
    sub.form = data.form
    branches = tables.get("branches", [])
    branch_names = {b["branch_id"]: b["name"] for b in branches}
    owner_of = {m["member_id"]: m.get("branch_id") for m in tables.get("members", [])}
    members_of: dict[str, set[str]] = {}
    for member, owner in owner_of.items():
        members_of.setdefault(owner, set()).add(member)
    if data.meta and data.meta.get("branch_id"):
        sub.branch_id, sub.week = str(data.meta["branch_id"]), _int(data.meta.get("week"))
        sealed = seal.judge(data.meta, unsealed_grace_days) if seal is not None else None
        if sealed is not None:
            report.findings.insert(0, sealed)
            if sealed.severity == ERROR:
                # Another template is to be filled in: what else this file lacks is beside the point.
                report.findings = [sealed]
                sub.identity_trusted = False
                if sealed.code == "meta-earlier-campaign":  # sealed, by the campaign before: its branch is named
                    sub.branch_name = branch_names.get(sub.branch_id)
                    # Its week is the earlier campaign's: kept in the finding, for the report, and not on its
                    # receipt, which would read as this campaign's week sent back (退回待更正).
                    sealed.params["week"], sub.week = sub.week, None
                return sub
    else:
        # Without its metadata a return's branch and week are a guess from its file name: in a sealed HOME a
        # guess could put one week's data over another's, so it is refused as an unsealed return would be
        # (taken only in a migrated HOME's grace period, docs/design.md "Sealed metadata").
        unsealed = seal.judge({}, unsealed_grace_days) if seal is not None else None
        if unsealed is not None and unsealed.severity == ERROR:
            sub.identity_trusted = False
            return sub  # its meta-missing finding says to use the college's template
        identity, reason = _identify_by_name(sub.file_name, data, branches, members_of)
        report.findings = [f for f in report.findings if f.code != "meta-missing"]
        if identity is None:
            report.findings.insert(0, Finding("identity-unknown", params={"reason": reason}))
            return sub
        sub.branch_id, sub.week = identity
        report.findings.insert(0, Finding("identity-guessed", params={"branch": branch_names[sub.branch_id],
                                                                      "week": sub.week}))
    if sub.branch_id not in branch_names:
        report.findings.insert(0, Finding("unknown-branch", value=sub.branch_id))
        return sub
    sub.branch_name = branch_names[sub.branch_id]
    try:
        week = Campaign.from_records(tables.get("phases", [])).week_range(sub.week or 0)
    except UserError as error:
        report.findings.insert(0, Finding("identity-unknown", params={"reason": error}))
        return sub
    members = {m["member_id"]: m for m in tables.get("members", []) if m.get("member_id")}
    others = _authorise(sub, data, parsed, members, week, branch_names, schemas)
    report.findings = _one_message_a_row(report.findings, others)
    report.findings += others
    report.findings += _one_message_a_row(list(check_periods(data, parsed, record_sheets(schemas), members,
                                                             sub.branch_id)), others)
    report.findings += check_report_dates(data, parsed, members, week)
    known = known_sessions(tables.get("sessions", []), sub.branch_id)
    said = {(f.sheet, f.row) for f in report.findings if f.code == "makeup-unknown"}  # by the return's own check
    report.findings += [f for f in check_makeup_sessions(makeup_sheets(schemas.returns, data.tables), parsed,
                                                         sub.return_id, known,
                                                         data.grid.offered(schemas.returns.sessions_per_week),
                                                         latest_before(tables.get("sessions", []), sub.branch_id,
                                                                       week[0]))
                        if (f.sheet, f.row) not in said]
    college, gone = _college_attended(data, tables)
    report.findings += gone
    if report.valid:
        sub.rows = _shape_rows(sub, parsed, schemas, known, college)
        report.findings += check_made_up_again(sub.rows, made_up_before(tables, sub.return_id), data.grid,
                                               data.tables["selfstudy"], parsed["selfstudy"])
    return sub


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an infinite number, which another program can write
        return None


def read_received(path: Path, tables: dict[str, list[dict]], marked: Path, **how) -> Submission:
    """load_submission(path, tables, **how), and, for a readable return that cannot be merged, a copy with
    its problem cells marked at `marked` (made here, in the reading process: openpyxl parses the file too)."""
    sub = load_submission(path, tables, **how)
    if sub.unreadable is None and sub.report is not None and not sub.acceptable:
        from .annotate import annotate

        try:
            annotate(path, sub.report, marked, how.get("lang", "zh"))
        except Exception:  # noqa: BLE001 - a marked copy is a courtesy; the report says it all without it
            marked.unlink(missing_ok=True)
    return sub
