"""What BranchBook tells people about received files and flags: the report beside a rejected or held
file, a merge's summary line, the flags in short (shown by the CLI, the service, the demo and the buttons)."""
from __future__ import annotations

from typing import Any

from ..flag_history import by_level
from ..flags import Flag, day_words, rule_title, sentences_joined
from ..i18n import N_, Domain
from ..merge import Changes, Note, Outcome
from ..schema import load_schemas
from ..submission import Submission

say = Domain("reports")
RESULT_WORDS = {"merged": N_("merged"), "duplicate": N_("a duplicate (merged before, nothing changed)"),
                "superseded": N_("an older version (the newer return stands)"), "rejected": N_("sent back"),
                "quarantined": N_("waiting for approval")}
PREVIEW_WORDS = {"merged": N_("would be merged"), "duplicate": N_("a duplicate, nothing would change"),
                 "superseded": N_("an older version, would not replace the newer"), "rejected": N_("would be sent back"),
                 "quarantined": N_("would wait for approval")}


def worded(problem: Any, lang: str) -> str:
    """A problem of a received file in `lang`: a finding or an unreadable file words itself; a hold reason
    comes worded already."""
    return problem.message(lang) if hasattr(problem, "message") else str(problem)


def outcome_data(outcome: Outcome, lang: str) -> dict[str, Any]:
    """An outcome for --json: its codes and counts, and its problems worded in `lang`."""
    data = {key: value for key, value in vars(outcome).items() if key not in ("problems", "conflicts")}
    data["conflicts"] = [{"sheet": c.sheet, "key": list(c.key)} for c in outcome.conflicts]
    data["problems"] = [worded(p, lang) for p in outcome.problems]
    data["problem_codes"] = [getattr(p, "code", getattr(p, "kind", None)) for p in outcome.problems]
    return data


def rejection_report(sub: Submission, outcome: Outcome, lang: str = "zh", marked: bool = False) -> str:
    """Why a file was refused; `marked`: a copy with its problem cells marked lies beside it."""
    lines = [
        say(lang, "File: {name}", name=sub.file_name),
        say(lang, "Received: {moment}", moment=sub.received_at),
        say(lang, "SHA-256: {sha}", sha=sub.sha256),
    ]
    earlier = next((p for p in outcome.problems if getattr(p, "code", None) == "meta-earlier-campaign"), None)
    if sub.branch_id and earlier is not None:  # sealed by the campaign before: its branch and week, of that campaign
        lines.append(say(lang, "Branch and week: {branch}, week {week} of the earlier campaign “{campaign}”, which has "
                               "ended", branch=sub.branch_name or sub.branch_id,
                         week=earlier.params.get("week") or say(lang, "unknown"),
                         campaign=earlier.params["campaign"]))
    elif sub.branch_id and not sub.identity_trusted:  # a forged week is not repeated as if it were true
        lines.append(say(lang, "Branch and week: cannot be trusted (the hidden metadata that names them was changed, "
                               "or cannot be checked)"))
    elif sub.branch_id:
        branch = say(lang, "{name} ({code})", name=sub.branch_name, code=sub.branch_id) if sub.branch_name else sub.branch_id
        lines.append(say(lang, "Branch: {branch}  Week: {week}", branch=branch, week=sub.week or say(lang, "unknown")))
    lines += ["", say(lang, "This return was not merged and the ledger was not changed. Please fix the following "
                            "and send it again:"), ""]
    lines += [f"{number}. {worded(problem, lang)}" for number, problem in enumerate(outcome.problems, start=1)]
    if marked and any(getattr(problem, "cell", None) for problem in outcome.problems):
        lines += ["", say(lang, "The marked copy in the same folder shows each cell in error in red, with a note.")]
    elif marked:  # no problem is in a cell: nothing is red there, only its first sheet lists them
        lines += ["", say(lang, "The marked copy in the same folder lists these problems on its first sheet; no cell "
                                "is marked.")]
    return "\n".join(lines) + "\n"


def hold_report(sub: Submission, lang: str = "zh") -> str:
    return "\n".join([
        say(lang, "File: {name}", name=sub.file_name), say(lang, "Sender: {sender}", sender=sub.sender),
        say(lang, "Received: {moment}", moment=sub.received_at), say(lang, "Receipt: {receipt}", receipt=sub.receipt_id),
        "",
        say(lang, "This return is not merged yet: {why}.", why=sub.hold),
        say(lang, "Once checked, run branchbook approve <HOME> {receipt} to merge it; otherwise delete this file.",
            receipt=sub.receipt_id),
    ]) + "\n"


def _rows(lang: str, counts: dict[str, int]) -> str:
    schemas = load_schemas()
    parts = [say(lang, "{sheet} {count} rows", sheet=schemas.sheet(k).name(lang), count=n) for k, n in counts.items()]
    return say(lang, ", ").join(parts)


SHOWN = 3  # how many problems or notes a one-line summary quotes


def first_few(texts: list[str], lang: str) -> str:
    """The first SHOWN of `texts` and, when there are more, how many in all: the reader knows how much is left."""
    shown = " ".join(texts[:SHOWN])
    return shown if len(texts) <= SHOWN else shown + say(lang, " … ({count} in all)", count=len(texts))


def outcome_line(outcome: Outcome, preview: bool = False, lang: str = "zh") -> str:
    words = PREVIEW_WORDS if preview else RESULT_WORDS
    result = say(lang, words[outcome.result]) if outcome.result in words else outcome.result
    if outcome.replaced_by and preview:
        return say(lang, "{name}: would be replaced by the newer version {newer} given with it; its rows would not be "
                         "kept", name=outcome.file_name, newer=outcome.replaced_by)
    if outcome.replaced_by:  # merged and replaced within one batch: its rows are not kept (docs/design.md)
        return say(lang, "{name}: replaced by the newer version {newer} received with it; its rows are not kept "
                         "(the file is archived)", name=outcome.file_name, newer=outcome.replaced_by)
    text = say(lang, "{name}: {result}", name=outcome.file_name, result=result)
    if outcome.added:
        text += say(lang, ", added {rows}", rows=_rows(lang, outcome.added))
    if outcome.removed:
        text += say(lang, ", replacing {rows} of the earlier version", rows=_rows(lang, outcome.removed))
    if outcome.conflicts:
        text += say(lang, ", {count} hand edits kept", count=len(outcome.conflicts))
    if outcome.problems:
        text += say(lang, ": {problems}", problems=first_few([worded(p, lang) for p in outcome.problems], lang))
    return text


def flags_text(flags: list[Flag], limit: int = 30, lang: str = "zh") -> list[str]:
    if not flags:
        return [say(lang, "No flags: no member or branch falls behind.")]
    flags = by_level(flags)  # in the order the Flags sheet, `branchbook flags` and the reminders give them
    counts: dict[str, int] = {}
    for flag in flags:
        counts[flag.rule] = counts.get(flag.rule, 0) + 1
    counted = [say(lang, "{rule} {count}", rule=rule_title(lang, r), count=n) for r, n in counts.items()]
    by_rule = say(lang, "; ").join(counted)
    lines = [say(lang, "{count} flags: {by_rule}", count=len(flags), by_rule=by_rule)]
    for flag in flags[:limit]:
        who = "" if flag.subject_kind in ("branch", "committee") else say(lang, "{name}: ", name=flag.name)
        lines.append(say(lang, "  [{branch}] [{level}] {who}{rule}. {detail}", branch=flag.branch_name(lang),
                         level=flag.level_word(lang), who=who, rule=flag.title(lang), detail=flag.detail(lang)))
    if len(flags) > limit:
        lines.append(say(lang, "  …and {count} more: see the Flags sheet of the master.", count=len(flags) - limit))
    return lines


NOTE_LIMIT = 5  # a receipt's note names this many problems or conflicts at most


def _listed(lang: str, lines: list[str]) -> str:
    more = say(lang, " (and {count} more)", count=len(lines) - NOTE_LIMIT) if len(lines) > NOTE_LIMIT else ""
    shown = lines[:NOTE_LIMIT]
    joined = sentences_joined(lang, shown)
    return (joined if joined is not None else say(lang, "; ").join(shown)) + more


def conflict_text(lang: str, sheet: str, key: tuple) -> str:
    return say(lang, "{sheet} {key}: this row was edited by hand after it was merged; the ledger's value is kept, "
                     "not the return's.", sheet=load_schemas().sheet(sheet).name(lang),
               key=" / ".join(str(part) for part in key))


def receipt_note(lang: str, note: Note | str | None) -> str | None:
    """A receipt's 处理说明 in the HOME's language."""
    if note is None or isinstance(note, str):
        return note
    if note.code == "problems":
        return _listed(lang, [worded(p, lang) for p in note.values["problems"]]) or None
    if note.code == "held":
        return say(lang, "{why}: waiting for the office's approval (branchbook approve … {receipt}).", **note.values)
    if note.code == "superseded":
        return say(lang, "Filled earlier than the return already merged for the same branch and week: not merged over it.")
    late = note.values.get("late_after")
    lines = [say(lang, "Late: the week's return was due by {due}.", due=day_words(lang, late))] if late else []
    return _listed(lang, lines + [conflict_text(lang, c.sheet, c.key) for c in note.values.get("conflicts", ())])


def render_notes(changes: Changes, lang: str) -> Changes:
    """The receipts' notes as text, before they are stored or journaled."""
    for receipt in changes.added.get("returns", []):
        receipt["note"] = receipt_note(lang, receipt.get("note"))
    return changes
