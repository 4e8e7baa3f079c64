"""Settings: HOME's `branchbook.yaml` and the campaign rules (`schemas/rules.yaml`), typed and checked at load.

The defaults of HOME's settings are the dataclass defaults below, and nowhere else. A user's file is merged
over them key by key (a `sync:` section naming one key keeps the other sync defaults). An unknown key or a
bad value (wrong type, a negative number of seconds, an unknown language, a date that cannot be read) is
refused when the file is loaded, with the key's path and the file, as a UserError: the CLI, the service
and the add-in print it without a traceback.

The rules have no defaults in code: the packaged `schemas/rules.yaml` is the default, and a custom one must
name every rule. Its values are never repeated in prose; texts that mention them read them from here.

`python -m branchbook.workbook.settings` prints the reference table of docs/configuration.md.
"""
from __future__ import annotations

import difflib
import math
import types
from collections.abc import Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, is_dataclass, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from .errors import UserError
from .i18n import Domain, Words

CONFIG_NAME = "branchbook.yaml"
MASTER_NAME = "master.xlsx"

say = Domain("workbook")
# libyaml's safe loader where the machine has it (several times faster); the same documents either way.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _setting(default: Any = MISSING, doc: str = "", *, key: str | None = None, factory: Any = MISSING,
             minimum: float | None = None, above: float | None = None, maximum: float | None = None,
             choices: tuple[str, ...] | None = None, check: Any = None, partial: bool = False) -> Any:
    """A setting: its default (none: required), what it means (for the docs), and the values it may take.

    `key` is its name in the file when that is not a Python name (`from`); `check` a function that
    returns None for a good value, else what it should be as (zh, en)."""
    metadata = {"doc": doc, "key": key, "minimum": minimum, "above": above, "maximum": maximum,
                "choices": choices, "check": check, "partial": partial}  # partial: any of its section's keys
    if factory is not MISSING:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


def _langs() -> tuple[str, ...]:
    from .schema import LANGS  # schema imports this module for the rules

    return LANGS


def _file_name(value: str) -> Words | None:
    if not value.lower().endswith(".xlsx") or "/" in value or "\\" in value or value.startswith("."):
        return say.later("an .xlsx file name in HOME (no folder)")
    return None


# -- HOME: branchbook.yaml ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SyncSettings:
    poll_seconds: float = _setting(1.0, "how often the worker looks at inbox/", above=0)
    stable_polls: int = _setting(2, "a file must stay unchanged this many looks before it is read", minimum=1)
    rescan_seconds: float = _setting(30.0, "full rescan of inbox/, whatever the events said", above=0)
    debounce_seconds: float | None = _setting(
        None, "wait this long after the last event, so that a burst becomes one master write; "
              "null: as long as `poll_seconds`", minimum=0)
    polling: bool = _setting(False, "true for a network share (watchdog's PollingObserver)")
    backups_kept: int = _setting(20, "copies of the master and of the ledger kept in backups/, newest first", minimum=1)
    backup_minutes: float = _setting(10.0, "a rolling copy of the ledger at most this often", minimum=0)
    master_check_seconds: float = _setting(5.0, "how often the service looks whether the office saved master.xlsx",
                                           minimum=0)
    stall_seconds: float = _setting(
        120.0, "a workbook in inbox/ that stays unchanged this long but is still not a whole zip is taken as damaged "
               "(a copy that goes on afterwards is read again)", above=0)
    stale_after_seconds: float = _setting(
        120.0, "a running service (one holding its lock) whose heartbeat in status.json is older than this hangs", above=0)

    @property
    def quiet_seconds(self) -> float:
        """The debounce the service waits: `debounce_seconds`, else `poll_seconds`."""
        return self.poll_seconds if self.debounce_seconds is None else self.debounce_seconds


@dataclass(frozen=True)
class IntakeSettings:
    reader_memory_mb: float | None = _setting(2048.0, "memory the child process reading a received file may "
                                              "take beyond what it starts with (POSIX); null: no limit", above=0)
    reader_seconds: float = _setting(120.0, "time a child process may take to read one received file", above=0)
    max_attempts: int = _setting(3, "a file whose reading failed (timed out, or was cut short) this many times is "
                                    "refused and never read again automatically", minimum=1)
    unsealed_grace_days: float = _setting(14.0, "in a HOME made before returns were sealed: days after the seal's "
                                                "creation during which a return without a seal is still accepted, "
                                                "with a warning", minimum=0)


@dataclass(frozen=True)
class MailEndpoint:
    host: str = _setting(doc="the server's name")
    port: int | None = _setting(None, "null: 993 for IMAP, 465 for SMTP", minimum=1, maximum=65535)
    security: str = _setting("ssl", "ssl, starttls, or none (none only for a loopback test server)",
                             choices=("ssl", "starttls", "none"))
    user: str | None = _setting(None, "the login; null: `mail.user`")


@dataclass(frozen=True)
class MailSection:
    """What `mail:` may hold. sync/mail_settings.py turns it into the connections it makes."""

    enabled: bool = _setting(False, "fetch returns from the mailbox and reply to the senders")
    user: str | None = _setting(None, "the mailbox's login")
    sender: str | None = _setting(None, "the From of replies; null: `mail.user`", key="from")
    password_env: str = _setting("BRANCHBOOK_MAIL_PASSWORD", "the environment variable holding the password")
    keyring_service: str | None = _setting(None, "else the OS keyring's service holding it; never this file")
    imap: MailEndpoint | None = _setting(None, "where returns are fetched: `{host, port, security, user}`")
    smtp: MailEndpoint | None = _setting(None, "where replies are sent: `{host, port, security, user}`")
    folder: str = _setting("INBOX", "the IMAP folder read")
    processed_folder: str | None = _setting(None, "move taken messages there; null: flag them $BranchBook")
    poll_seconds: float = _setting(60.0, "how often the mailbox is read", above=0)
    max_attachment_mb: float | None = _setting(None, "a larger attachment is refused with a reply; null: "
                                               "`rules.limits.max_file_mb`, the limit every received file meets", above=0)
    trusted_authserv_id: str | None = _setting(None, "whose Authentication-Results header to believe")
    ca_file: str | None = _setting(None, "an extra CA, for a server with a private certificate")


@dataclass(frozen=True)
class Settings:
    """HOME's settings: `Home.settings`."""

    lang: str = _setting("zh", "zh or en: sheet names, labels and messages", check=lambda value: None
                         if value in _langs() else say.later("one of {choices}", choices=list(_langs())))
    master: str = _setting(MASTER_NAME, "the master's file name in HOME", check=_file_name)
    college: str = _setting("学院", "the college's name, in the bulletin's title")
    editor: str = _setting("党委办公室", "who edits the bulletin, printed under its title (编)")
    as_of: date | None = _setting(None, "this HOME lives on this day instead of today (2005-03-30): flags and reports "
                                        "are as of it, and files merged are received on it")
    sync: SyncSettings = _setting(factory=SyncSettings, doc="the sync service (`branchbook serve`) and backups")
    intake: IntakeSettings = _setting(factory=IntakeSettings, doc="how received files are read (docs/design.md)")
    mail: MailSection = _setting(factory=MailSection, doc="the mailbox; see below")
    rules: Rules | None = _setting(None, "this college's own thresholds: any keys of schemas/rules.yaml (below), "
                                         "e.g. `rules: {thresholds: {hours_tolerance: 3}}`; the others keep "
                                         "rules.yaml's values", partial=True)


def load_settings(raw: Any, source: Path | str, base_rules: Mapping[str, Any] | None = None) -> Settings:
    """HOME's settings from the mapping read from `source` (its file, named in every message).

    `rules:` overrides schemas/rules.yaml key by key (or `base_rules`, the rules of HOME's campaign.yaml laid over
    it: workbook/campaign_definition.py); the result is checked as rules.yaml is, and a wrong key or value is named
    as `rules.<section>.<key>` in `source` (docs/configuration.md)."""
    raw = {} if raw is None else dict(raw) if isinstance(raw, Mapping) else raw
    override = raw.pop("rules", None) if isinstance(raw, dict) else None
    settings = _build(Settings, raw, "", str(source))
    if override is None and base_rules is None:
        return settings
    if override is not None and not isinstance(override, Mapping):
        raise _bad(str(source), "rules", override, _SECTION)
    rules = _build(Rules, _merged(base_rules or packaged_rules(), override or {}), "rules.", str(source))
    return replace(settings, rules=rules)


def packaged_rules() -> dict[str, Any]:
    """schemas/rules.yaml as written, the base a HOME's `rules:` overrides."""
    from importlib import resources

    return yaml.load(resources.files("branchbook.schemas").joinpath("rules.yaml").read_text(encoding="utf-8"),
                     Loader=SAFE_LOADER)


def _merged(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` laid on `base` key by key, sections into sections (a list or a value replaces)."""
    out = dict(base)
    for key, value in over.items():
        out[key] = _merged(base[key], value) if isinstance(value, Mapping) and isinstance(base.get(key), Mapping) \
            else value
    return out


def read_config(path: Path) -> dict[str, Any]:
    """branchbook.yaml's mapping as written (load_settings checks it); a file that is not YAML is refused."""
    return _read_yaml(path)


# -- the campaign rules: schemas/rules.yaml ------------------------------------------------------------------

class _Section:
    """rules["limits"]["max_file_mb"] still reads like the mapping it was, for callers not yet switched."""

    def __getitem__(self, key: str) -> Any:
        if key not in {item.name for item in fields(self)}:
            raise KeyError(key)
        return getattr(self, key)


@dataclass(frozen=True)
class CampaignRules(_Section):
    target_hours: float = _setting(
        doc="the study-hours target when the phases sheet gives none (then the first phase carries it); "
            "a phase's own 目标学时 wins", minimum=0)


@dataclass(frozen=True)
class Thresholds(_Section):
    thinking_questions: int = _setting(doc="thinking questions every member answers", minimum=0)
    absences_in_row: int = _setting(doc="unexcused absences from consecutive centralised sessions that make a flag",
                                    minimum=1)
    attendance_rate_min: float = _setting(doc="the attendance rate below which a member is flagged (0 to 1)",
                                          minimum=0, maximum=1)
    opinions_min_people: int = _setting(doc="people a member asks for opinions", minimum=0)
    opinions_branch_kinds: tuple[str, ...] = _setting(doc="the branch kinds (codes) whose members must ask")
    away_report_weeks: int = _setting(doc="members away on training report within this many weeks", minimum=0)
    return_grace_days: int = _setting(doc="a week's return is late after the week's end and this many days",
                                      minimum=0)
    hours_tolerance: float = _setting(doc="study hours a member may be short of the pro-rata share before he is "
                                          "flagged", minimum=0)
    hours_tolerance_share: float = _setting(doc="or this share of the hours due by then, whichever is larger",
                                            minimum=0, maximum=1)
    late_joiner_target: str = _setting(doc="pro_rata: a member who joins during a phase owes its target for his days "
                                           "in it; full: the whole target", choices=("pro_rata", "full"))
    attendance_min_sessions: int = _setting(doc="counted central sessions (present or absent) before the attendance "
                                                "rate applies", minimum=1)
    inspection_share_min: float = _setting(doc="a branch with a smaller share of its members' notebooks checked in "
                                               "the phase is flagged ...", minimum=0, maximum=1)
    inspection_days_before_end: int = _setting(doc="... in the last this many days of the phase", minimum=0)
    opinions_due_phase: int = _setting(doc="opinions are due by the end of this phase (1 is the first)", minimum=1)
    plan_kinds_due: tuple[str, ...] = _setting(doc="a branch's plans of these kinds (codes of plan_kind: study_plan, "
                                                   "implementation_plan, appraisal_report, rectification_plan) are "
                                                   "flagged when not received ...")
    plan_grace_days: int = _setting(doc="... by their due day and this many days", minimum=0)
    analysis_phase: int = _setting(doc="the phase of the self-analyses and the democratic appraisal (1 is the first); "
                                       "the appraisal is due by its end", minimum=1)
    analysis_days_before_end: int = _setting(doc="a member's self-analysis is final this many days before that "
                                                 "phase ends", minimum=0)
    talks_min: int = _setting(doc="heart-to-heart talks a member has with a member of the branch committee ...",
                              minimum=0)
    talks_days_before_end: int = _setting(doc="... by this many days before that phase ends", minimum=0)


@dataclass(frozen=True)
class Levels(_Section):
    urge_after_weeks: int = _setting(doc="a flag still open this many weeks after it was first raised is urged "
                                         "(督促)", minimum=0)
    escalate_after_weeks: int = _setting(doc="... and escalated (重点督办) after this many", minimum=0)
    urge_at_once: tuple[str, ...] = _setting(doc="rule codes (or code:variant) urged from the day they are raised")


@dataclass(frozen=True)
class Limits(_Section):
    max_file_mb: float = _setting(doc="a return larger than this is refused, dropped, mailed or given to `validate`",
                                  above=0)
    max_master_mb: float = _setting(doc="a workbook the office validates itself (a university master) may be "
                                        "this large", above=0)
    max_zip_entries: int = _setting(doc="entries in a workbook's zip", minimum=1)
    max_zip_ratio: float = _setting(doc="uncompressed/compressed, against zip bombs", above=0)


@dataclass(frozen=True)
class Rules(_Section):
    """schemas/rules.yaml: `Schemas.rules`. Every key is required; the packaged file is the default."""

    campaign: CampaignRules = _setting(doc="the campaign")
    thresholds: Thresholds = _setting(doc="when a member or a branch falls behind")
    levels: Levels = _setting(doc="how hard a flag is pushed: 提示, 督促, 重点督办")
    limits: Limits = _setting(doc="what BranchBook agrees to open")

    def threshold(self, name: str) -> Any:
        """A threshold by name; a name rules.yaml does not have is a mistake in the code, said plainly."""
        known = [item.name for item in fields(Thresholds)]
        if name not in known:
            raise KeyError(f"rules.yaml has no threshold {name!r}; it has {', '.join(known)}")
        return getattr(self.thresholds, name)


def load_rules(raw: Any, source: Path | str) -> Rules:
    """The campaign rules from the mapping read from `source`."""
    return _build(Rules, {} if raw is None else raw, "", str(source))


# -- the loader ----------------------------------------------------------------------------------------------

_KINDS = {
    bool: say.later("true or false"),
    int: say.later("a whole number"),
    float: say.later("a number"),
    str: say.later("text"),
    date: say.later("a date such as 2005-03-30"),
}
_SECTION = say.later("a section of settings (key: value)")
_TEXTS = say.later("a list of texts such as [office]")


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        reason = say.later("not valid YAML at line {line} ({problem})", line=mark.line + 1, problem=problem) if mark \
            else say.later("not valid YAML ({problem})", problem=problem)
        raise UserError("setting-file", file=str(path), reason=reason) from None
    except (OSError, UnicodeDecodeError) as error:
        raise UserError("setting-file", file=str(path), reason=str(error)) from None
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise UserError("setting-file", file=str(path), reason=say.later("it should be a mapping of settings (key: value)"))
    return raw


def _key(item) -> str:
    return item.metadata.get("key") or item.name


def _show(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return yaml.safe_dump(value).split("\n")[0]
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _bad(source: str, path: str, value: Any, expected: Words) -> UserError:
    return UserError("setting-bad", file=source, setting=path, value=_show(value), expected=expected)


def _build(cls: type, raw: Any, prefix: str, source: str):
    if not isinstance(raw, Mapping):
        raise _bad(source, prefix.rstrip(".") or "(top)", raw, _SECTION)
    items = {_key(item): item for item in fields(cls)}
    for name in raw:
        if name not in items:
            near = difflib.get_close_matches(str(name), list(items), n=1)
            raise UserError("setting-unknown", file=source, setting=f"{prefix}{name}", known=list(items),
                            hint=say.later(" Did you mean {name}?", name=near[0]) if near else "")
    hints = get_type_hints(cls)
    values = {}
    for key, item in items.items():
        path = f"{prefix}{key}"
        if key in raw:
            values[item.name] = _convert(raw[key], hints[item.name], item.metadata, path, source)
        elif item.default is MISSING and item.default_factory is MISSING:
            raise UserError("setting-missing", file=source, setting=path)
    return cls(**values)


def _convert(value: Any, hint: Any, meta: Mapping[str, Any], path: str, source: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        (hint,) = [arg for arg in get_args(hint) if arg is not type(None)]
        origin = get_origin(hint)
    if is_dataclass(hint):
        return _build(hint, {} if value is None else value, f"{path}.", source)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
            raise _bad(source, path, value, _TEXTS)
        return tuple(value)
    kind = _KINDS[hint]
    if hint is date:
        day = _as_date(value)
        if day is None:
            raise _bad(source, path, value, kind)
        value = day
    elif hint is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _bad(source, path, value, kind)
        value = float(value)
    elif hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _bad(source, path, value, kind)
    elif not isinstance(value, hint):
        raise _bad(source, path, value, kind)
    _check_bounds(value, kind, meta, path, source)
    return value


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        return None


def _check_bounds(value: Any, kind: Words, meta: Mapping[str, Any], path: str, source: str) -> None:
    low, above, high = meta.get("minimum"), meta.get("above"), meta.get("maximum")
    if low is not None and value < low:
        raise _bad(source, path, value, say.later("{kind} of at least {bound}", kind=kind, bound=f"{low:g}"))
    if above is not None and value <= above:
        raise _bad(source, path, value, say.later("{kind} greater than {bound}", kind=kind, bound=f"{above:g}"))
    if high is not None and value > high:
        raise _bad(source, path, value, say.later("{kind} of at most {bound}", kind=kind, bound=f"{high:g}"))
    choices = meta.get("choices")
    if choices and value not in choices:
        raise _bad(source, path, value, say.later("one of {choices}", choices=list(choices)))
    check = meta.get("check")
    wrong = check(value) if check else None
    if wrong:
        raise _bad(source, path, value, wrong)


# What other files of settings build with (a HOME's campaign.yaml: workbook/campaign_definition.py).
setting = _setting
merged = _merged


def load_section(cls: type, raw: Any, prefix: str, source: str):
    """`cls` from the mapping `raw`, its keys named `prefix`+key in `source` when wrong."""
    return _build(cls, raw, prefix, source)


# -- the reference in docs/configuration.md ------------------------------------------------------------------

def _default_text(item) -> str:
    if item.default is MISSING and item.default_factory is MISSING:
        return "(required)"
    value = item.default
    if value is None or isinstance(value, bool):
        return f"`{_show(value)}`"
    return f"`{value}`"


def _sections(hint: Any) -> tuple[type | None, bool]:
    """(the dataclass a key holds, whether it may be null) for a section key; (None, False) for a value."""
    if is_dataclass(hint):
        return hint, False
    inner = [arg for arg in get_args(hint) if is_dataclass(arg)]
    return (inner[0], True) if inner else (None, False)


def _rows(cls: type, prefix: str, with_defaults: bool) -> Iterator[str]:
    hints = get_type_hints(cls)
    for item in fields(cls):
        section, optional = _sections(hints[item.name])
        path = f"{prefix}{_key(item)}"
        if section and not optional:  # always there (sync, mail, thresholds): its keys are the settings
            yield from _rows(section, f"{path}.", with_defaults)
            continue
        default = f" | {_default_text(item)}" if with_defaults else ""
        yield f"| `{path}`{default} | {item.metadata['doc']} |"
        if section and not item.metadata.get("partial"):  # an optional section (mail.imap): null, or its own keys
            yield from _rows(section, f"{path}.", with_defaults)


def settings_reference() -> str:
    """The table of every key of branchbook.yaml with its default and meaning (docs/configuration.md)."""
    return "\n".join(["| key | default | what |", "|---|---|---|", *_rows(Settings, "", True)])


def rules_reference() -> str:
    """The table of every key of rules.yaml (values: the file itself, never repeated in prose)."""
    return "\n".join(["| key | what |", "|---|---|", *_rows(Rules, "", False)])


def setting_paths(cls: type = Settings, prefix: str = "") -> list[str]:
    """Every key path a file may name, sections' own keys included (sync.poll_seconds, mail.imap.host)."""
    hints = get_type_hints(cls)
    paths = []
    for item in fields(cls):
        path = f"{prefix}{_key(item)}"
        paths.append(path)
        section, _ = _sections(hints[item.name])
        if section and not item.metadata.get("partial"):
            paths += setting_paths(section, f"{path}.")
    return paths


if __name__ == "__main__":
    print(settings_reference())
    print()
    print(rules_reference())
