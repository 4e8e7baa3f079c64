"""The `branchbook` command: parse, call the library, turn its errors into a message and an exit code.

One failure path (main): what the user must act on (UserError) and input that cannot be read
(UnreadableFile) become a sentence and exit code 2; anything else is logged with its traceback and
the user gets a sentence naming the log. No traceback reaches a user.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from enum import IntEnum
from pathlib import Path

from . import __version__
from .workbook.errors import UserError
from .workbook.home import check_lang
from .workbook.i18n import N_, Domain, raw
from .workbook.safe_open import UnreadableFile as UnreadableFileError
from .workbook.schema import LANGS, SchemaError

say = Domain("cli")
# argparse's own words (it asks gettext for them): given in --help's language.
ARGPARSE_WORDS = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("expected one argument"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("ignored explicit argument %r"),
)
# The language of --help, which is printed before any HOME is known.
HELP = os.environ.get("BRANCHBOOK_LANG", "zh") if os.environ.get("BRANCHBOOK_LANG") in LANGS else "zh"


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1  # the input has errors the user should fix
    UNUSABLE = 2  # the user must act first: a bad command line, a missing HOME, an unreadable file
    INTERNAL = 3  # BranchBook itself failed; the log has the details
    INTERRUPTED = 130


SERVICE_NOT_RUNNING, SERVICE_HUNG = 1, 4  # `status`: 0 the service runs, 1 it does not, 4 it hangs (README, "branchbook status")


def emit(args, data, lines: list[str]) -> None:
    """What a command prints: its lines, or with --json the data (codes and values) as JSON."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        for line in lines:
            print(line)


def _home(args):
    """The HOME the command works on; with `--campaign NAME`, that earlier campaign's (HOME/campaigns/…)."""
    from .sync.writer import switch_pending
    from .workbook.home import Home

    finished = None
    if switch_pending(args.home):  # a campaign switch a crash cut short is finished before anything else
        from .sync.campaigns import finish_switch

        finished = finish_switch(args.home)
    home = Home.open(args.home)
    if finished is not None:
        args.finished = finished
        print(say(getattr(args, "lang", None) or home.lang, "The switch from \"{closed}\" to \"{name}\" had been cut short (the program "
                                          "was stopped): it is finished now, \"{closed}\" kept whole in {folder}.",
                  closed=finished.closed, name=finished.campaign, folder=finished.folder), file=sys.stderr)
    if getattr(args, "campaign", None):
        from .sync.campaigns import earlier_home

        return earlier_home(home, args.campaign)
    return home


def _init(args) -> int:
    from .demo import init_demo
    from .workbook.office import init_home

    lang = check_lang(args.lang or "zh")
    start = _day(args.start) if args.start else None
    home = init_demo(args.home, lang) if args.demo else init_home(args.home, lang, start=start)
    lines = [say(home.lang, "Created the ledger and its master {path}", path=home.master)]
    if start is not None:
        lines.append(say(home.lang, "The phases of \"{campaign}\" start on {start} (the master's phases sheet; change "
                                    "dates and targets there).", campaign=home.campaign.title(home.lang),
                         start=start.isoformat()))
    if not args.demo:  # an empty ledger: the office's own roster comes next (issue: nothing said what to do after init)
        lines.append(say(home.lang, "Next: import the college's phases, branches and members with branchbook import "
                                    "{home} FILE (docs/getting-started.en.md, step 3).", home=home.root))
    emit(args, {"master": str(home.master)}, lines)
    return Exit.OK


def _day(text: str):
    """A day as the user typed it (YYYY-MM-DD), or the sentence that says it is not one."""
    from datetime import date

    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UserError("bad-date", text=text) from None


def _returns(args) -> int:
    from .sync.export import current_tables
    from .sync.writer import refuse_if_closed
    from .workbook.office import RETURN_TABLES, make_returns

    home = _home(args)
    refuse_if_closed(home, "returns")  # an earlier campaign's returns would only be refused (sync/campaigns.py)
    made = make_returns(home, args.week, args.branch, current_tables(home, RETURN_TABLES), args.sessions)
    emit(args, {branch: str(path) for branch, path in made.items()}, [str(path) for path in made.values()])
    return Exit.OK


def _demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.home), lang=check_lang(args.lang or "zh"))
    return Exit.OK


def _validate(args) -> int:
    from .workbook.annotate import annotate
    from .workbook.validation import validate_path

    if not Path(args.file).is_file():
        raise UserError("file-missing", path=str(args.file))
    if args.annotate and not Path(args.annotate).resolve().parent.is_dir():
        raise UserError("folder-missing", path=str(Path(args.annotate).resolve().parent))
    lang = check_lang(args.lang) if args.lang else _workbook_lang(Path(args.file))
    report = validate_path(args.file, lang)
    lines = [finding.marked(lang) for finding in report.findings] + [report.summary(lang)]
    if args.annotate:
        annotate(args.file, report, args.annotate, lang)
        saved = say(lang, "Marked copy saved: {path}", path=Path(args.annotate).resolve())
        lines.append(saved)
        if args.json:  # the JSON is the findings; where the copy went is said beside it
            print(saved, file=sys.stderr)
    emit(args, [f.to_dict(lang) for f in report.findings], lines)
    return Exit.OK if report.valid else Exit.FINDINGS


def _workbook_lang(path: Path) -> str:
    """The language a workbook was made in (by its sheet names): a return's messages speak it."""
    import zipfile

    from .workbook.checks.structure import book_language
    from .workbook.fastread import sheet_parts
    from .workbook.schema import load_schemas

    try:
        with zipfile.ZipFile(path) as archive:
            titles = list(sheet_parts(archive))
    except Exception:  # noqa: BLE001 - not a workbook: validation says so, in Chinese
        return "zh"
    schemas = load_schemas()
    return book_language(titles, [s.names_read() for s in (*schemas.master, *schemas.returns.sheets)])


def _merge(args) -> int:
    from .sync.pipeline import incoming, process
    from .workbook.reports.summaries import flags_text, outcome_data, outcome_line

    home = _home(args)
    lang = args.lang or home.lang
    items = incoming(home, args.files, preview=args.dry_run)
    if not items:
        emit(args, [], [say(lang, "Nothing to merge in inbox/.")] + ([] if args.dry_run else _master_caught_up(home, lang)))
        return Exit.OK

    def progress(number: int, total: int, name: str) -> None:
        if total > 5 and not args.json:
            print(say(lang, "[{number}/{total}] reading {name}", number=number, total=total, name=name), file=sys.stderr)

    def waiting(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = process(home, items, dry_run=args.dry_run, progress=progress, on_wait=waiting)
    if result.busy:  # the ledger has the returns; only the master file waits
        print(say(lang, "The returns are in the ledger; master.xlsx is not updated yet: {why}", why=result.busy),
              file=sys.stderr)
    lines = [say(lang, "Preview (nothing written):") if args.dry_run else say(lang, "Merged:")]
    lines += ["  " + outcome_line(outcome, preview=args.dry_run, lang=lang) for outcome in result.outcomes]
    if not args.dry_run:
        lines += flags_text(result.flags, lang=lang)
    emit(args, [outcome_data(o, lang) for o in result.outcomes], lines)
    return Exit.OK if all(o.result != "rejected" for o in result.outcomes) else Exit.FINDINGS


def _master_caught_up(home, lang: str) -> list[str]:
    """With nothing to merge, the master is still brought up to the ledger when it is behind it: a merge killed
    after its commit left the returns in the ledger and filed, and the old master (the service does the same on
    its start)."""
    from .sync.export import export_master, needs_export, refused_lines
    from .workbook.books import open_ledger

    with open_ledger(home) as ledger:
        if not needs_export(home, ledger):
            return []
        result = export_master(home, ledger)
    if result.refused:
        return refused_lines(lang, result.refused)
    if result.busy:
        return [say(lang, "The returns are in the ledger; master.xlsx is not updated yet: {why}", why=result.busy)]
    return [say(lang, "master.xlsx did not show all the ledger holds (an earlier run was interrupted, or it was "
                      "edited by hand): it is written again from the ledger.")]


def _rollup(args) -> int:
    from datetime import date

    from .sync.campaigns import finish_switch
    from .workbook.reports.university import write_university
    from .workbook.rollup import rollup

    lang = check_lang(args.lang or "zh")
    out = Path(args.out)
    if not out.resolve().parent.is_dir():
        raise UserError("out-folder-missing", path=str(out.resolve().parent))
    try:
        as_of = date.fromisoformat(args.as_of) if args.as_of else None
    except ValueError:
        raise UserError("bad-date", text=args.as_of) from None
    for source in args.sources:  # a college's HOME whose campaign switch was cut short is read once it is finished
        if source.is_dir() and (source / "branchbook.yaml").is_file():
            finish_switch(source)
    sources = [_campaign_source(path, args.campaign) for path in args.sources] if args.campaign else args.sources
    result = rollup(sources, as_of)
    write_university(out, result, lang)
    lines = [_college_line(college, lang) for college in result.colleges]
    lines += [problem.line(lang) for problem in result.problems]
    lines.append(say(lang, "University workbook saved: {path} ({count} colleges rolled up, {failed} not)",
                     path=out.resolve(), count=len(result.colleges), failed=len(result.problems)))
    emit(args, {"colleges": [_college_data(c) for c in result.colleges],
                "problems": [{"file": str(p.source), "code": p.code, "message": p.message(lang)}
                             for p in result.problems], "output": str(out.resolve())}, lines)
    return Exit.FINDINGS if result.problems else Exit.OK


def _campaign_source(source: Path, name: str) -> Path:
    """A college's HOME as it ran the campaign `name`: itself while it runs it, else its folder in campaigns/."""
    from .sync.campaigns import earlier_home
    from .workbook.home import CONFIG_NAME, Home

    if not (source.is_dir() and (source / CONFIG_NAME).is_file()):
        return source  # a master.xlsx, or what rollup says is missing
    home = Home.open(source)
    return source if home.campaign.title(home.lang) == name else earlier_home(home, name).root


def _college_line(college, lang: str) -> str:
    progress = college.progress
    return say(lang, "{college}: {branches} branches, {members} members, data up to {as_of}; returns for week {week}: "
                     "{received} of {expected}; flags: {notice} notice, {urge} urge, {escalate} escalate",
               college=college.name, branches=len(progress.branches), members=sum(b.members for b in progress.branches),
               as_of=college.as_of.isoformat(), week=progress.week,
               received=len(progress.branches) - len(progress.missing), expected=len(progress.branches),
               notice=college.levels.get("notice", 0), urge=college.levels.get("urge", 0),
               escalate=college.levels.get("escalate", 0))


def _college_data(college) -> dict:
    progress = college.progress
    return {"college": college.name, "master": str(college.master), "sha256": college.sha256,
            "as_of": college.as_of.isoformat(), "as_of_from": college.as_of_source, "week": progress.week,
            "branches": len(progress.branches), "members": sum(b.members for b in progress.branches),
            "returns_received": len(progress.branches) - len(progress.missing), "flags": dict(college.levels)}


def _import(args) -> int:
    from .sync.importer import import_roster
    from .workbook.reports.import_summary import import_data, import_lines

    home = _home(args)
    lang = args.lang or home.lang
    if not Path(args.file).is_file():
        raise UserError("file-missing", path=str(args.file))
    result = import_roster(home, args.file, mapping=args.map, skip_bad=args.skip_bad, dry_run=args.dry_run,
                           on_wait=lambda message: print(message, file=sys.stderr, flush=True))
    lines = import_lines(result.plan, lang, preview=args.dry_run, skip_bad=args.skip_bad)
    if "phases" in result.plan.read and result.written:  # the sheet counts; where it differs from campaign.yaml is said
        from .sync.export import current_tables
        from .workbook.campaign_definition import phase_notes

        lines += phase_notes(home.campaign, current_tables(home, ("phases",))["phases"], home.schemas.rules, lang,
                             home.lang)
    if result.export and result.export.why_waiting(lang):
        lines.append(say(lang, "master.xlsx is not updated yet: {why}", why=result.export.why_waiting(lang)))
    emit(args, import_data(result.plan, lang, result.written), lines)
    return Exit.OK if result.plan.clean or (args.skip_bad and result.written) else Exit.FINDINGS


def _mappable_fields(lang: str) -> str:
    """The fields `import --map COLUMN=FIELD` can name: the headers of the master's sheets it imports into."""
    from .workbook.import_columns import TARGETS
    from .workbook.schema import load_schemas

    schemas = load_schemas()
    lines = [say(lang, "Fields --map can name (the master's headers), sheet by sheet:")]
    lines += [say(lang, "  {sheet}: {fields}", sheet=schemas.sheet(key).name(lang),
                  fields=[item.label(lang) for item in schemas.sheet(key).fields]) for key in TARGETS]
    return "\n" + "\n".join(lines) + "\n"


def _flags(args) -> int:
    from datetime import date

    from .sync.export import current_flags
    from .workbook.reports.summaries import flags_text

    home = _home(args)
    try:
        day = date.fromisoformat(args.as_of) if args.as_of else home.as_of
    except ValueError:
        raise UserError("bad-date", text=args.as_of) from None
    flags = current_flags(home, day)
    lang = args.lang or home.lang
    if args.branch:
        wanted = _branches_named(home, args.branch)
        flags = [f for f in flags if f.branch_id in wanted]
    emit(args, [f.row(lang) for f in flags], flags_text(flags, limit=10_000, lang=lang))
    return Exit.OK


def _serve(args) -> int:
    from .sync.service import configure_logging, serve_forever

    home = _home(args)
    configure_logging(home)
    serve_forever(home, polling=args.polling or None)
    return Exit.OK


def _status(args) -> int:
    from .sync.master_store import is_busy
    from .sync.status import HUNG, NOT_RUNNING, heartbeat_of, liveness, lock_held, read_status, status_lines

    home = _home(args)
    status = read_status(home)
    beat = heartbeat_of(status)
    verdict = liveness(status, lock_held(home), beat)
    lang = args.lang or home.lang
    lines = status_lines(home, status, lang, verdict)
    busy = is_busy(home.master, lang)  # seen now, whether or not a service is running to say it
    if busy and busy not in status.get("message", ""):
        lines.append(busy)
    emit(args, {**status, "service": verdict, "heartbeat_age": beat.age, "stale": verdict == HUNG,
                "master_busy": busy}, lines)
    return {NOT_RUNNING: SERVICE_NOT_RUNNING, HUNG: SERVICE_HUNG}.get(verdict, Exit.OK)


def _rebuild(args) -> int:
    from .sync.rebuild import rebuild

    home = _home(args)
    lang = args.lang or home.lang
    report = rebuild(home)
    lines = [say(lang, "Rebuilt the ledger from its journal ({entries} entries) and archive/: {attendance} attendance "
                       "rows, {returns} returns.", entries=report.entries, attendance=report.rows.get("attendance", 0),
                 returns=report.rows.get("returns", 0))]
    if report.same_as_before is not None:
        lines.append(say(lang, "Exactly the same as the ledger before.") if report.same_as_before else
                     say(lang, "It differs from the ledger before, which is kept in backups/."))
    lines += [say(lang, "{name} is not in archive/: its records could not be replayed.", name=name)
              for name in report.missing]
    lines += report.differences
    if report.export and report.export.busy:
        lines.append(say(lang, "master.xlsx is not updated yet: {why}", why=report.export.busy))
    emit(args, {"entries": report.entries, "rows": report.rows, "same_as_before": report.same_as_before,
                "missing": report.missing, "differences": report.differences}, lines)
    return Exit.OK if not report.missing and not report.differences else Exit.FINDINGS


def _export(args) -> int:
    from .sync.export import export_master, refused_lines
    from .workbook.books import open_ledger

    home = _home(args)
    lang = args.lang or home.lang
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
    data = {"written": result.written, "taken": result.taken, "refused": result.refused, "busy": result.busy}
    if result.refused:
        emit(args, data, refused_lines(lang, result.refused))
        return Exit.FINDINGS
    if result.busy:
        emit(args, data, [result.busy])
        return Exit.UNUSABLE
    lines = [say(lang, "Took in {count} hand edits from the master.", count=result.taken)] if result.taken else []
    emit(args, data, lines + [say(lang, "Wrote {path} from the ledger.", path=home.master)])
    return Exit.OK


def _restore(args) -> int:
    from .sync.backup import backups, restore
    from .sync.export import export_master
    from .workbook.books import open_ledger

    home = _home(args)
    lang = args.lang or home.lang
    if not args.name:
        names = [path.name for path in backups(home)]
        emit(args, names, names or [say(lang, "There is no backup of the ledger in backups/ yet.")])
        return Exit.OK
    chosen = restore(home, args.name)
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
    lines = [say(lang, "Restored the ledger from {name} (the ledger it replaced is backed up too).", name=chosen.name)]
    if result.busy:
        lines.append(say(lang, "master.xlsx is not updated yet: {why}", why=result.busy))
    emit(args, {"restored": chosen.name, "written": result.written}, lines)
    return Exit.OK


def _approve(args) -> int:
    from .sync.quarantine import approve
    from .sync.writer import writing

    home = _home(args)
    with writing(home, "approve", on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
        name = approve(home, args.id)
    emit(args, {"approved": name}, [say(args.lang or home.lang, "Approved {name}: it is back in inbox/ and will be merged "
                                                                 "in the next pass.", name=name)])
    return Exit.OK


def _bulletin(args) -> int:
    from .sync.reports import publish_bulletin
    from .workbook.reports.fonts import NoChineseFont

    home = _home(args)
    try:
        path = publish_bulletin(home, args.week, args.format,
                                on_wait=lambda message: print(message, file=sys.stderr, flush=True))
    except NoChineseFont as error:
        print(error, file=sys.stderr)
        return Exit.UNUSABLE
    emit(args, {"bulletin": str(path)}, [str(path)])
    return Exit.OK


def _remind(args) -> int:
    from .sync.export import current_flags, current_tables
    from .sync.writer import refuse_if_closed
    from .workbook.reports.publish import write_digests, write_reminders

    home = _home(args)
    refuse_if_closed(home, "remind")  # nobody is reminded of a campaign that has ended
    tables, flags = current_tables(home), current_flags(home, home.as_of)
    if args.branch:  # those secretaries only: a liaison's digest covers all her branches, so none is written
        from .workbook.office import branch_ids_named

        wanted = branch_ids_named(tables["branches"], args.branch, home.lang)  # the tables read already
        written, digests = write_reminders(home, tables, flags, wanted), []
        unfollowed = []
    else:
        written, digests = write_reminders(home, tables, flags), write_digests(home, tables, flags)
        unfollowed = _unfollowed(tables)
    lines = [str(path) for _, path in written + digests] + _unfollowed_lines(home, unfollowed, args.lang or home.lang)
    sent = None
    if args.send:
        from .sync.mail_side import MailSide

        mail = MailSide.of(home)
        if mail is None or mail.settings.smtp is None:
            raise UserError("no-smtp")
        sent = mail.replier.send_reminders([r for r, _ in written], home.as_of)
        sent_digests = mail.replier.send_digests([d for d, _ in digests], home.as_of)
        lines.append(say(args.lang or home.lang, "Sent {count} reminder mails and {digests} digests to the liaisons.",
                         count=sent, digests=sent_digests))
        sent += sent_digests
    emit(args, {"written": [str(path) for _, path in written], "digests": [str(path) for _, path in digests],
                "sent": sent, "unfollowed": [b["branch_id"] for b in unfollowed]}, lines)
    return Exit.OK


def _branches_named(home, wanted: list[str]) -> list[str]:
    """`--branch`'s branches (each by its ID or its name) as IDs; an unknown one is refused, the branches listed."""
    from .sync.export import current_tables
    from .workbook.office import branch_ids_named

    return branch_ids_named(current_tables(home, ("branches",))["branches"], wanted, home.lang)


def _unfollowed(tables: dict[str, list[dict]]) -> list[dict]:
    """The branches no committee member follows (联系委员 blank, or no longer on the committee): no liaison's digest
    carries their items, and the office should know (docs/domain.md, "People")."""
    committee = {c["committee_id"] for c in tables.get("committee", [])}
    return [b for b in tables.get("branches", []) if b.get("liaison_id") not in committee]


def _unfollowed_lines(home, alone: list[dict], lang: str) -> list[str]:
    """What `remind` says of them; the sheet and the column as the master names them (its language)."""
    if not alone:
        return []
    sheet, committee = home.schemas.sheet("branches"), home.schemas.sheet("committee")
    return [say(lang, "{count} branches have no committee liaison, so no liaison's digest carries their items: "
                      "{branches}. Type the member's {id} (from the {committee} sheet) in the {column} column of the "
                      "{sheet} sheet of master.xlsx.",
                count=len(alone), branches=say(lang, ", ").join(f"{b['branch_id']} {b.get('name') or ''}".strip()
                                                                for b in alone),
                id=committee.field("committee_id").label(home.lang), committee=committee.name(home.lang),
                column=sheet.field("liaison_id").label(home.lang), sheet=sheet.name(home.lang))]


def _campaign(args) -> int:
    from .sync.campaigns import earlier_campaigns, start_campaign
    from .workbook.campaign_definition import load_definition
    from .workbook.settings import read_config

    home = _home(args)
    lang = args.lang or home.lang
    if args.action == "list":
        from .sync.export import current_tables
        from .workbook.campaign_definition import former_target_note, phase_notes

        earlier = earlier_campaigns(home)
        lines = [say(lang, "Now: {name}", name=home.campaign.title(lang))]
        lines += ["  " + note for note in phase_notes(home.campaign, current_tables(home, ("phases",))["phases"],
                                                   home.schemas.rules, lang, home.lang)]
        former = former_target_note(home.config, lang)  # the rules.yaml key of before, still set by the college
        lines += ["  " + former] if former else []
        lines += [say(lang, "Earlier: {name} (kept in {folder}; read it with --campaign \"{name}\")", name=name,
                      folder=folder) for name, folder in earlier.items()]
        emit(args, {"current": home.campaign.title(lang), "earlier": {k: str(v) for k, v in earlier.items()}}, lines)
        return Exit.OK
    if not args.start:
        raise UserError("campaign-needs-start")
    start = _day(args.start)
    if args.definition is not None and not Path(args.definition).is_file():
        raise UserError("file-missing", path=str(args.definition))
    definition = load_definition(read_config(Path(args.definition)), args.definition) if args.definition \
        else home.campaign
    if args.name:
        definition = definition.renamed(args.name)
    finished = getattr(args, "finished", None)
    if finished is not None and finished.campaign == definition.title(lang):  # the same command, run again
        started = finished
    else:
        started = start_campaign(home, definition, start)
    pinned = home.settings.as_of
    lines = [say(lang, "Closed \"{closed}\": it is kept, as it was, in {folder}; read it with --campaign \"{closed}\" "
                       "(e.g. branchbook flags {home} --campaign \"{closed}\").", closed=started.closed,
                 folder=started.folder, home=home.root),
             say(lang, "Started \"{name}\" on {start}: {members} members carried over ({dropped} who had left are "
                       "not), no records yet. Make its returns with branchbook returns {home}; restart the sync "
                       "service if it runs here.", name=started.campaign, start=start.isoformat(),
                 members=started.members, dropped=started.dropped, home=home.root)]
    if started.unfinished_until:
        lines.append(say(lang, "Note: \"{closed}\" had not ended: its last phase runs until {end}, and this HOME's day "
                               "is {today}. It is closed all the same; its returns still to come will be refused as an "
                               "earlier campaign's.", closed=started.closed, end=started.unfinished_until.isoformat(),
                         today=home.as_of.isoformat()))
    if pinned and pinned < start:  # the demo's HOME lives on a fixed day: the new campaign would never begin there
        lines.append(say(lang, "branchbook.yaml fixes this HOME's day at {as_of} (as_of), before the new campaign starts: "
                               "change or delete that line.", as_of=pinned.isoformat()))
    emit(args, {"closed": started.closed, "kept_in": str(started.folder), "started": started.campaign,
                "start": start.isoformat(), "members": started.members, "dropped": started.dropped,
                "closed_before_its_end": started.unfinished_until.isoformat() if started.unfinished_until else None},
         lines)
    return Exit.OK


def _addin(args) -> int:
    if args.target == "lite":
        from .addin.lite import next_steps, write_lite_files

        if args.folder is None:
            print(say(_message_lang(args), "Give the output folder: branchbook addin lite D:\\lite"), file=sys.stderr)
            return Exit.UNUSABLE
        lang = check_lang(args.lang or "zh")
        written = [str(path) for path in write_lite_files(args.folder, args.wheel, lang, force=args.force)]
        emit(args, written, written + next_steps(args.wheel, lang))
        return Exit.OK
    from .addin.install import INTERPRETER_KEY, AddinInstallError, Done, Places, install, remove

    lang = _message_lang(args)
    try:
        places = Places.of_this_pc(os.environ)
        done = install(places, args.python) if args.target == "install" else remove(places)
    except AddinInstallError as error:
        print(error.message(lang), file=sys.stderr)
        return Exit.UNUSABLE
    if args.target == "install" and sys.platform != "win32":
        done.append(Done("not-windows", {"key": INTERPRETER_KEY, "python": args.python}))
    emit(args, [{"code": item.code, **item.values} for item in done], [item.message(lang) for item in done])
    return Exit.OK


def _bundle(args) -> int:
    from .bundle import WINDOWS, build_bundle, platform_label
    from .bundle.build import ADDIN

    lang = check_lang(args.lang or "zh")
    bundle = build_bundle(args.folder, args.platform, args.python, lang,
                          on_step=lambda message: print(message, file=sys.stderr, flush=True))
    files = [path for path in bundle.folder.rglob("*") if path.is_file()]
    size = say(lang, "{megabytes:.1f} MB", megabytes=bundle.size / 1e6)
    pythons = say(lang, ", ").join(bundle.pythons)
    lines = [say(lang, "Made the offline bundle {path}: {count} files, {size}.", path=bundle.folder, count=len(files), size=size),
             "  " + say(lang, "wheels/: branchbook and {count} dependencies for {platform}, Python {pythons}",
                        count=len(bundle.wheels) - 1, platform=platform_label(bundle.platform, lang), pythons=pythons)]
    if bundle.platform != WINDOWS:  # Excel's parts are Windows' (docs/windows-setup.md, "The bundle")
        lines.append("  " + say(lang, "{name}: the installer; on that computer run sh {name} [folder] (no Excel add-in: "
                                      "it is for Windows)", name=bundle.installer.name))
    else:
        if bundle.addin:
            lines.append("  " + say(lang, "{name}: the Excel add-in (the 台账 tab)", name=bundle.addin.name))
        else:
            lines.append("  " + say(lang, "No add-in: {path} has not been built, so the bundle has none.", path=ADDIN))
        lines.append("  " + say(lang, "{name}: the installer; on the office PC run it from this folder "
                                      "(docs/windows-setup.md)", name=bundle.installer.name))
        newest = max(bundle.pythons, key=lambda version: tuple(map(int, version.split("."))))
        lines.append(say(lang, "Still to do: put Python's Windows installer (python-{version}.x-amd64.exe, from python.org) "
                               "in this folder; step 1 of docs/windows-setup.md needs it.", version=newest))
    emit(args, {"folder": str(bundle.folder), "platform": bundle.platform, "pythons": bundle.pythons,
                "files": len(files), "bytes": bundle.size, "wheels": [path.name for path in bundle.wheels],
                "addin": bundle.addin and str(bundle.addin), "installer": str(bundle.installer)}, lines)
    return Exit.OK


def _speak_argparse() -> None:
    """argparse words its usage and complaints through gettext: give it the cli catalog, in HELP's language."""
    argparse._ = lambda message: raw(HELP, "cli", message)  # noqa: SLF001 - argparse's own gettext hook


def build_parser() -> argparse.ArgumentParser:
    _speak_argparse()
    parser = argparse.ArgumentParser(prog="branchbook", description=say(HELP, "A party branch campaign ledger: master and returns, validation, merging, flags, bulletin."))
    parser.add_argument("--version", action="version", version=f"branchbook {__version__}",
                        help=say(HELP, "show program's version number and exit"))
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Options shared by commands, declared once.
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("home", type=Path, help=say(HELP, "the working folder HOME"))
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help=say(HELP, "print JSON (codes and values)"))
    output.add_argument("--lang", help=say(HELP, "language of the messages: zh or en (default: the HOME's)"))

    def command(name: str, helptext: str, example: str, handler, *parents) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=helptext, description=say(HELP, "{help}\n\nExample: {example}", help=helptext, example=example), parents=parents,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.set_defaults(handler=handler)
        return cmd

    cmd = command("init", say(HELP, "create HOME with its ledger and master.xlsx"), "branchbook init D:\\台账 --demo", _init,
                  home, output)
    cmd.add_argument("--demo", action="store_true", help=say(HELP, "fill in the demo college"))
    cmd.add_argument("--start", metavar="YYYY-MM-DD",
                     help=say(HELP, "the day the campaign starts: its phases (campaign.yaml) fill the phases sheet"))

    cmd = command("returns", say(HELP, "make this week's return for each branch (in outbox/)"), "branchbook returns D:\\台账 --week 3", _returns,
                  home, output)
    cmd.add_argument("--week", type=int, help=say(HELP, "the week (default: this week)"))
    cmd.add_argument("--branch", action="append", help=say(HELP, "only this branch (its ID or its name; may be repeated)"))
    cmd.add_argument("--sessions", type=int, metavar="N",
                     help=say(HELP, "at least N session columns (S1–SN) in the attendance grid, for a branch that "
                                    "holds more than 8 sessions in a week"))

    cmd = command("validate", say(HELP, "check a master or a return and list every problem (exit 0 clean, 1 errors, 2 unreadable)"),
                  "branchbook validate 院机关支部_第3周.xlsx --annotate 标注.xlsx", _validate, output)
    cmd.add_argument("file", type=Path, help=say(HELP, "the .xlsx file to check"))
    cmd.add_argument("--annotate", type=Path, metavar="OUT.xlsx", help=say(HELP, "also save a copy with the problem cells marked"))

    cmd = command("merge", say(HELP, "merge the returns in inbox/ (or the files given) into the ledger"), "branchbook merge D:\\台账 --dry-run", _merge,
                  home, output)
    cmd.add_argument("files", nargs="*", type=Path, help=say(HELP, "the returns to merge (default: all of inbox/)"))
    cmd.add_argument("--dry-run", action="store_true", help=say(HELP, "only show what would be added, replaced or sent back; write nothing"))

    cmd = command("rollup", say(HELP, "add up colleges' masters into one university workbook (exit 1 when a master cannot be rolled up)"),
                  "branchbook rollup 全校汇总.xlsx D:\\生医学院\\台账 D:\\材料学院\\master.xlsx", _rollup, output)
    cmd.add_argument("out", type=Path, metavar="OUT.xlsx", help=say(HELP, "the university workbook to write"))
    cmd.add_argument("sources", nargs="+", type=Path, metavar="SOURCE",
                     help=say(HELP, "a college's master.xlsx, or its HOME folder"))
    cmd.add_argument("--as-of", help=say(HELP, "figures as of this day for every college (default: each master's own)"))
    cmd.add_argument("--campaign", metavar="NAME", help=say(HELP, "that campaign's figures: of each HOME given, the campaign of "
                                                            "this name, current or earlier (branchbook campaign list); "
                                                            "a master.xlsx given is read as it is"))

    cmd = command("import", say(HELP, "bring in the office's own roster of members, branches and committee (.xlsx or .csv)"),
                  "branchbook import D:\\台账 党员名单.xlsx --dry-run", _import, home, output)
    cmd.add_argument("file", type=Path, help=say(HELP, "the roster file: a workbook (.xlsx) or a CSV"))
    cmd.add_argument("--dry-run", action="store_true", help=say(HELP, "only show what would be added, changed or marked as left; write nothing"))
    cmd.add_argument("--skip-bad", action="store_true", help=say(HELP, "import the good rows and list the bad ones, which are left out"))
    cmd.add_argument("--map", action="append", metavar="COLUMN=FIELD",
                     help=say(HELP, "read this column as this field, e.g. --map 手机号码=联系方式 (may be repeated; --map 性别= leaves a column out)"))
    plain_help = cmd.format_help  # the fields are read from the schemas only when the help is asked for
    cmd.format_help = lambda: plain_help() + _mappable_fields(HELP)

    cmd = command("flags", say(HELP, "list the members and branches that fall behind"), "branchbook flags D:\\台账 --as-of 2005-03-30", _flags, home, output)
    cmd.add_argument("--as-of", help=say(HELP, "as of which day (default: today, or as_of in the config)"))
    cmd.add_argument("--campaign", metavar="NAME", help=say(HELP, "an earlier campaign's, by its name (branchbook campaign list)"))
    cmd.add_argument("--branch", action="append", help=say(HELP, "only this branch's (its ID or its name; may be repeated)"))

    cmd = command("serve", say(HELP, "run the sync service: watch inbox/, check, merge, refresh the flags"), "branchbook serve D:\\台账", _serve, home)
    cmd.add_argument("--polling", action="store_true", help=say(HELP, "watch by polling (for a network share)"))

    command("status", say(HELP, "whether the sync service runs, and what it is doing (exit 0 running, 1 not running, 4 hangs)"), "branchbook status D:\\台账", _status, home, output)
    command("rebuild", say(HELP, "rebuild the ledger from its journal and archive/, then write the master"), "branchbook rebuild D:\\台账", _rebuild,
            home, output)
    command("export", say(HELP, "write master.xlsx from the ledger now (its hand edits are taken in first)"), "branchbook export D:\\台账", _export,
            home, output)

    cmd = command("restore", say(HELP, "restore the ledger from a backup (without a name: list the backups)"),
                  "branchbook restore D:\\台账 ledger-20050330-180000-000000-auto.sqlite", _restore, home, output)
    cmd.add_argument("name", nargs="?", help=say(HELP, "the backup's file name in backups/"))

    cmd = command("approve", say(HELP, "approve a held return (its sender is not the registered secretary)"), "branchbook approve D:\\台账 1a2b3c4d5e6f",
                  _approve, home, output)
    cmd.add_argument("id", help=say(HELP, "the receipt ID (see 周报 or the hold note)"))

    cmd = command("bulletin", say(HELP, "make the weekly bulletin (docx by default, editable)"), "branchbook bulletin D:\\台账 --week 3 --format pdf",
                  _bulletin, home, output)
    cmd.add_argument("--week", type=int, help=say(HELP, "the week (default: the last one ended)"))
    cmd.add_argument("--format", choices=["docx", "pdf", "html"], default="docx", help=say(HELP, "docx (default), pdf or html"))
    cmd.add_argument("--campaign", metavar="NAME", help=say(HELP, "an earlier campaign's, by its name (branchbook campaign list)"))

    cmd = command("campaign", say(HELP, "start the next campaign from the roster, keeping this one readable (new), or list the campaigns (list)"),
                  "branchbook campaign new D:\\台账 --name 2006年主题教育 --start 2006-03-06", _campaign, output)
    cmd.add_argument("action", choices=["new", "list"], metavar=say(HELP, "ACTION"),
                     help=say(HELP, "new: close this campaign and start the next; list: this one and the earlier ones"))
    cmd.add_argument("home", type=Path, help=say(HELP, "the working folder HOME"))
    cmd.add_argument("--name", help=say(HELP, "new: the new campaign's name (default: the definition's)"))
    cmd.add_argument("--start", metavar="YYYY-MM-DD", help=say(HELP, "new: the day its first phase starts"))
    cmd.add_argument("--definition", type=Path, metavar="campaign.yaml",
                     help=say(HELP, "new: its definition (name, phases, rules; default: this campaign's)"))

    cmd = command("remind", say(HELP, "write (and send) each branch secretary's reminder and each liaison's digest"), "branchbook remind D:\\台账 --send", _remind, home, output)
    cmd.add_argument("--send", action="store_true", help=say(HELP, "also mail them to the registered secretaries (needs mail.smtp)"))
    cmd.add_argument("--branch", action="append",
                     help=say(HELP, "only this branch's secretary (its ID or its name; may be repeated; no digests)"))

    cmd = command("addin", say(HELP, "install the 台账 ribbon add-in in Excel (remove takes it out), or write the xlwings Lite files"),
                  "branchbook addin install", _addin, output)
    # The metavar names the argument in argparse's complaints ("argument ACTION: invalid choice"): not the dest.
    cmd.add_argument("target", choices=["install", "remove", "lite"], metavar=say(HELP, "ACTION"),
                     help=say(HELP, "install: into Excel's start-up folder; remove: undo install; lite: main.py and requirements.txt for xlwings Lite"))
    cmd.add_argument("folder", type=Path, nargs="?", help=say(HELP, "lite: the output folder"))
    cmd.add_argument("--python", default=sys.executable,
                     help=say(HELP, "install: the Python the buttons run (default: this one)"))
    cmd.add_argument("--wheel", metavar="URL", help=say(HELP, "lite: the web address (http or https) of the branchbook wheel, "
                                                          "written into requirements.txt"))
    cmd.add_argument("--force", action="store_true", help=say(HELP, "lite: replace main.py and requirements.txt already there"))

    from .bundle import SUPPORTED_PYTHONS, WINDOWS, platforms

    cmd = command("bundle", say(HELP, "make a folder that installs BranchBook on a PC without internet (wheels, add-in, installer)"),
                  "branchbook bundle D:\\离线安装包 --python 3.12", _bundle, output)
    cmd.add_argument("folder", nargs="?", type=Path, default=Path("branchbook-bundle"),
                     help=say(HELP, "the folder to make (new or empty; default ./branchbook-bundle)"))
    cmd.add_argument("--platform", choices=platforms(), default=WINDOWS, help=say(HELP, "the PC it is for (default: win_amd64)"))
    cmd.add_argument("--python", nargs="+", metavar="VERSION", default=list(SUPPORTED_PYTHONS),
                     help=say(HELP, "the Python versions to carry wheels for (default: {versions})", versions=" ".join(SUPPORTED_PYTHONS)))

    cmd = command("demo", say(HELP, "run the whole job on the built-in demo college"), "branchbook demo", _demo, output)
    cmd.add_argument("home", nargs="?", default="branchbook-demo", help=say(HELP, "the demo folder (default ./branchbook-demo)"))
    return parser


def _message_lang(args) -> str:
    """The language of what we say: --lang, else the HOME's, else Chinese."""
    if getattr(args, "lang", None) in LANGS:
        return args.lang
    try:
        return _home(args).lang if getattr(args, "home", None) else "zh"
    except Exception:  # noqa: BLE001 - no readable HOME: Chinese, the users' language
        return "zh"


def _command_logging(args) -> list:
    """What the library logs reaches the console as one line each, tracebacks only the HOME's errors log:
    a user of the CLI never sees a traceback (`serve` sets up its own log)."""
    from .sync.logs import configure_command_logging

    home = getattr(args, "home", None)
    root = Path(home) if home and (Path(home) / "branchbook.yaml").is_file() else None
    return configure_command_logging(root, _message_lang(args))


def _log_failure(args) -> Path | None:
    """The traceback, kept where the office can send it to whoever maintains BranchBook."""
    from .sync.logs import write_failure

    home = getattr(args, "home", None)
    root = Path(home) if home and (Path(home) / "branchbook.yaml").is_file() else None  # a HOME: its logs/ folder
    return write_failure(root, "branchbook " + " ".join(sys.argv[1:]))


def _said_failure(args, error: Exception, details: Path | None) -> str | None:
    """A failure the user can act on (a full disk, a read-only folder) in a sentence, or None."""
    from .sync.status import failure_kind

    home = getattr(args, "home", None) or ""
    lang, kind = _message_lang(args), failure_kind(error, Path(home) if home else None)
    if kind == "disk-full":
        return say(lang, "The disk is full ({path}): the command did not finish and nothing was changed by halves. Free "
                         "some space and run it again. Details: {log}", path=home, log=details or "-")
    if kind == "read-only":
        return say(lang, "{path} cannot be written (a read-only folder or disk, or no permission): the command did not "
                         "finish. Make it writable and run it again. Details: {log}",
                   path=getattr(error, "filename", None) or home, log=details or "-")
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or argparse's own complaint (already printed)
        return int(stop.code or 0)
    try:
        try:
            installed = _command_logging(args)
            try:
                return int(args.handler(args))
            finally:
                if installed:
                    from .sync.logs import close_logging

                    close_logging()
        except (UserError, SchemaError) as error:
            lang = _message_lang(args)
            text = error.message(lang) if isinstance(error, UserError) else say(lang, "schemas/ is wrong: {error}",
                                                                                   error=error)
            print(text, file=sys.stderr)
            return Exit.UNUSABLE
        except UnreadableFileError as error:
            print(error.message(_message_lang(args)), file=sys.stderr)
            return Exit.UNUSABLE
    except BrokenPipeError:
        # The reader (e.g. `| head`) has gone: stop quietly, and keep Python from complaining at exit.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK
    except KeyboardInterrupt:
        return Exit.INTERRUPTED
    except Exception as error:  # noqa: BLE001 - the one place an unexpected failure is turned into a sentence
        path = _log_failure(args)
        said = _said_failure(args, error, path)
        if said:
            print(said, file=sys.stderr)
            return Exit.UNUSABLE
        print(say(_message_lang(args), "BranchBook failed unexpectedly and did not finish. The details are in {path}: "
                                       "please send that file to whoever maintains BranchBook.", path=path or "-"),
              file=sys.stderr)
        return Exit.INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
