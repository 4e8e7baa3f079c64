"""Load schemas/ into typed objects, and refuse a schemas/ folder that is itself wrong.

A bad schema is not bad data: problems in schemas/ raise SchemaError at load time,
while problems in a workbook become findings (see validation.py).
"""
from __future__ import annotations

import dataclasses
import functools
import re
import unicodedata
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from .campaign_definition import CAMPAIGN_FILE, CampaignDefinition, load_definition, packaged_definition
from .errors import UserError
from .i18n import LANGS as I18N_LANGS
from .i18n import Domain
from .settings import SAFE_LOADER, Rules, load_rules

LANGS = I18N_LANGS  # the languages the catalogs speak
say = Domain("workbook")
FIELD_TYPES = {"string", "integer", "number", "date", "datetime", "enum"}  # datetime: kept as timestamp text
SESSION_NO_CODES = "session_no"


class SchemaError(Exception):
    """schemas/ itself is wrong: a developer's or administrator's mistake, not a secretary's."""


@dataclass(frozen=True)
class Code:
    code: str
    labels: dict[str, str]
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    former: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)  # see _former

    def label(self, lang: str) -> str:
        return self.labels[lang]


def code_form(text: Any) -> str:
    """A coded value as compared: full-width forms made half-width (NFKC: （）→(), ０→0, the ideographic
    space), spaces removed, case folded; what a Chinese input method types matches the label."""
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).casefold()


@dataclass(frozen=True)
class CodeList:
    key: str
    codes: tuple[Code, ...]

    def label(self, code: str, lang: str) -> str:
        for item in self.codes:
            if item.code == code:
                return item.label(lang)
        raise KeyError(f"{self.key}: no code {code!r}")

    def labels(self, lang: str) -> list[str]:
        """The labels offered (a drop-down, the choices a message names): a retired code is read, never offered."""
        return [item.label(lang) for item in self.codes if not item.extra.get("retired")]

    def parse(self, text: Any) -> str | None:
        """The code for a label in either language (or the code itself); None when unknown. Compared as
        code_form makes them: 请假（在外） as a Chinese input method types it is 请假(在外)."""
        return self._by_form.get(code_form(text))

    @functools.cached_property
    def _by_form(self) -> dict[str, str]:
        forms: dict[str, str] = {}
        for item in self.codes:
            for text in (*item.labels.values(), *_flat(item.former), item.code):
                forms.setdefault(code_form(text), item.code)
        return forms

    def codes_where(self, attribute: str) -> set[str]:
        return {item.code for item in self.codes if item.extra.get(attribute)}


_SESSION_NUMBER = re.compile(r"s([1-9][0-9]{0,3})")


@dataclass(frozen=True)
class SessionNumbers(CodeList):
    """The session numbers of a return (活动序号, the attendance grid's columns): S1 to S{count} offered, and any
    S-number read, so that a return whose grid has more columns than another's (a branch studying in 党小组, a
    template made with other settings) is read all the same (docs/domain.md, "Records")."""

    def parse(self, text: Any) -> str | None:
        found = _SESSION_NUMBER.fullmatch(code_form(text))
        return f"S{found.group(1)}" if found else super().parse(text)  # or a college session's 活动编号, as listed


def session_numbers(count: int, college: tuple[str, ...] = ()) -> SessionNumbers:
    """S1..S{count}, and the 活动编号 of the college's sessions a return lists (offered_sessions.college_sessions)."""
    return SessionNumbers(SESSION_NO_CODES, tuple(Code(f"S{n}", {lang: f"S{n}" for lang in LANGS})
                                                  for n in range(1, count + 1))
                          + tuple(Code(session, {lang: session for lang in LANGS}) for session in college))


@dataclass(frozen=True)
class Field:
    key: str
    labels: dict[str, str]
    type: str
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    codes: CodeList | None = None
    system: bool = False  # written by BranchBook (provenance), not typed by people
    width: float | None = None  # the column's width in characters; None: as its label and type need (layout)
    wrap: bool = False  # long text: wrapped within the column, so that it prints whole (docs/design.md, "Printing")
    added_later: bool = False  # a master written before the column existed is read without it (its values kept)
    former: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, hash=False)  # see _former

    def label(self, lang: str) -> str:
        return self.labels[lang]

    def former_labels(self) -> tuple[str, ...]:
        return _flat(self.former)


@dataclass(frozen=True)
class ForeignKey:
    fields: tuple[str, ...]
    sheet: str
    reference_fields: tuple[str, ...]


class _NamedSheet:
    """What master sheets and return sheets share: a name in each language, fields by key."""

    key: str
    names: dict[str, str]
    fields: tuple[Field, ...]
    former_names: dict[str, tuple[str, ...]]

    def name(self, lang: str) -> str:
        return self.names[lang]

    def names_read(self) -> dict[str, tuple[str, ...]]:
        """Per language, the names the sheet is known by when read: its name, then its former names (_former)."""
        return {lang: (name, *self.former_names.get(lang, ())) for lang, name in self.names.items()}

    def field(self, key: str) -> Field:
        for item in self.fields:
            if item.key == key:
                return item
        raise KeyError(f"{self.key}: no field {key!r}")

    @property
    def keys(self) -> list[str]:
        return [item.key for item in self.fields]


@dataclass(frozen=True)
class SheetSchema(_NamedSheet):
    key: str
    names: dict[str, str]
    fields: tuple[Field, ...]
    primary_key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    provenance: bool = False
    former_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # A master written before the sheet existed lacks it and is read all the same, the sheet's rows as the ledger
    # has them (docs/design.md, "The ledger"); the next export writes it.
    added_later: bool = False


@dataclass(frozen=True)
class ReturnSheet(_NamedSheet):
    key: str
    kind: str  # guide | roster | records | grid | form | meta
    names: dict[str, str]
    fields: tuple[Field, ...] = ()
    source: str | None = None  # the master sheet its records go to
    date_within_week: tuple[str, ...] = ()
    codes: CodeList | None = None  # grid cells
    optional: bool = False  # a return made before the sheet existed lacks it, and is read as before
    former_names: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The phases (ordinals: 1 is the first by start date) whose weeks' returns carry the sheet; () is every phase
    # (docs/domain.md, "Phases 2 and 3").
    phases: tuple[int, ...] = ()

    def in_phase(self, phase: int | None) -> bool:
        """Whether a return of that phase carries the sheet; a return of no known phase carries every sheet."""
        return not self.phases or phase is None or phase in self.phases


PROTECTED_KINDS = frozenset({"guide", "roster", "grid", "meta"})  # what workbook/return_template.py protects


@dataclass(frozen=True)
class ReturnLayout:
    template_version: int
    sessions_per_week: int  # the attendance grid's columns at least (S1..S8)
    sessions_per_party_group: int  # and this many more for each 党小组 on the branch's roster
    rows_per_sheet: int
    password: str  # the one place the protection password is kept; the template and the macros read it here
    sheets: tuple[ReturnSheet, ...]

    def sheet(self, key: str) -> ReturnSheet:
        for item in self.sheets:
            if item.key == key:
                return item
        raise KeyError(key)

    def for_phase(self, phase: int | None) -> ReturnLayout:
        """The layout of a return of that phase: its sheets only (every sheet when the phase is None)."""
        return dataclasses.replace(self, sheets=tuple(sheet for sheet in self.sheets if sheet.in_phase(phase)))

    def unread_sheet_names(self) -> list[str]:
        """The guide's names, in every language and former ones: the readers never parse it (its 填报检查 formulas
        are half of a return's XML, and nothing reads its values: docs/design.md, "Reading received files")."""
        return [name for sheet in self.sheets if sheet.kind == "guide"
                for names in sheet.names_read().values() for name in names]

    def protected_sheet_names(self) -> set[str]:
        """The return's sheets the template protects, by their names in every language: what a macro
        must unprotect before it marks them (docs/design.md, "Buttons")."""
        return {name for sheet in self.sheets if sheet.kind in PROTECTED_KINDS for name in sheet.names.values()}


@dataclass(frozen=True)
class Schemas:
    codes: dict[str, CodeList]
    master_version: int
    master: tuple[SheetSchema, ...]
    returns: ReturnLayout
    rules: Rules  # rules.yaml, typed and checked at load (workbook/settings.py)
    campaign: CampaignDefinition  # campaign.yaml: the campaign's name and phases (workbook/campaign_definition.py)

    def sheet(self, key: str) -> SheetSchema:
        for item in self.master:
            if item.key == key:
                return item
        raise KeyError(key)

    def threshold(self, name: str) -> Any:
        """A threshold of rules.yaml by name; prefer `rules.thresholds.<name>`."""
        return self.rules.threshold(name)


PROVENANCE_FIELDS = (
    Field("source_return", {"zh": "来源周报表", "en": "Source return"}, "string", system=True,
          former={"zh": ("来源回执",)}),
    Field("row_fingerprint", {"zh": "行指纹", "en": "Row fingerprint"}, "string", system=True),
)


def _former(raw: Any, where: str) -> dict[str, tuple[str, ...]]:
    """A label, sheet name or code label renamed (docs/domain.md, "Words"): its earlier words, per language.
    They are still recognised when a workbook is read (a master or a return made before the rename), never
    written; e.g. `former: {zh: [党籍]}`."""
    if raw is None:
        return {}
    if not isinstance(raw, dict) or any(lang not in LANGS or not isinstance(words, list) for lang, words in raw.items()):
        raise SchemaError(f"{where}: former needs lists of words by language ({LANGS}), got {raw!r}")
    return {lang: tuple(str(word) for word in words) for lang, words in raw.items()}


def _flat(former: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(word for words in former.values() for word in words)


def _labels(raw: Any, where: str) -> dict[str, str]:
    if not isinstance(raw, dict) or any(not raw.get(lang) for lang in LANGS):
        raise SchemaError(f"{where}: needs a label in each of {LANGS}, got {raw!r}")
    return {lang: str(raw[lang]) for lang in LANGS}


def _code_lists(raw: dict[str, Any], sessions_per_week: int) -> dict[str, CodeList]:
    lists = {}
    for key, items in raw.items():
        codes = []
        for item in items:
            item = dict(item)
            code = str(item.pop("code"))
            labels = {lang: str(item.pop(lang)) for lang in LANGS}
            former = _former(item.pop("former", None), f"codes.{key}.{code}")
            codes.append(Code(code, labels, item, former))
        lists[key] = CodeList(key, tuple(codes))
    lists[SESSION_NO_CODES] = session_numbers(sessions_per_week)
    return lists


def _field(raw: dict[str, Any], codes: dict[str, CodeList], where: str) -> Field:
    key = raw.get("key")
    kind = raw.get("type")
    if not key or kind not in FIELD_TYPES:
        raise SchemaError(f"{where}: field {raw!r} needs a key and a type among {sorted(FIELD_TYPES)}")
    code_list = None
    if kind == "enum":
        if raw.get("codes") not in codes:
            raise SchemaError(f"{where}.{key}: unknown code list {raw.get('codes')!r}")
        code_list = codes[raw["codes"]]
    return Field(
        key=key,
        labels=_labels(raw.get("label"), f"{where}.{key}"),
        type=kind,
        required=bool(raw.get("required", False)),
        minimum=raw.get("minimum"),
        maximum=raw.get("maximum"),
        codes=code_list,
        width=raw.get("width"),
        wrap=bool(raw.get("wrap", False)),
        former=_former(raw.get("former"), f"{where}.{key}"),
        added_later=bool(raw.get("added_later", False)),
    )


def _master_sheet(raw: dict[str, Any], codes: dict[str, CodeList]) -> SheetSchema:
    key = raw["key"]
    fields = tuple(_field(item, codes, key) for item in raw["fields"])
    if raw.get("provenance"):
        fields += PROVENANCE_FIELDS
    keys = {item.key for item in fields}
    if len(keys) != len(fields):
        raise SchemaError(f"{key}: duplicate field keys")
    primary = tuple(raw.get("primaryKey", ()))
    foreign = tuple(
        ForeignKey(tuple(fk["fields"]), fk["reference"]["sheet"], tuple(fk["reference"]["fields"]))
        for fk in raw.get("foreignKeys", ())
    )
    for name in primary + tuple(f for fk in foreign for f in fk.fields):
        if name not in keys:
            raise SchemaError(f"{key}: key field {name!r} is not a field of the sheet")
    return SheetSchema(key, _labels(raw["name"], key), fields, primary, foreign, bool(raw.get("provenance")),
                       _former(raw.get("former_names"), key), bool(raw.get("added_later", False)))


def _return_sheet(raw: dict[str, Any], master: dict[str, SheetSchema], codes: dict[str, CodeList]) -> ReturnSheet:
    key, kind = raw["key"], raw["kind"]
    fields: tuple[Field, ...] = ()
    source = raw.get("from")
    if source:
        if source not in master:
            raise SchemaError(f"returns.{key}: from {source!r} is not a master sheet")
        borrowed = [f for f in master[source].fields if not f.system]
        if "keep" in raw:
            borrowed = [f for f in borrowed if f.key in raw["keep"]]
        borrowed = [f for f in borrowed if f.key not in raw.get("omit", ())]
        extra = tuple(_field(item, codes, f"returns.{key}") for item in raw.get("extra_first", ()))
        fields = extra + tuple(borrowed)
    elif "fields" in raw:
        fields = tuple(_field(item, codes, f"returns.{key}") for item in raw["fields"])
    grid_codes = codes.get(raw["codes"]) if raw.get("codes") else None
    if raw.get("codes") and grid_codes is None:
        raise SchemaError(f"returns.{key}: unknown code list {raw['codes']!r}")
    within = tuple(raw.get("date_within_week", ()))
    if any(name not in {f.key for f in fields} for name in within):
        raise SchemaError(f"returns.{key}: date_within_week names a field the sheet lacks")
    phases = raw.get("phases", [])
    if not isinstance(phases, list) or any(not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in phases):
        raise SchemaError(f"returns.{key}: phases needs a list of phase ordinals (1 is the first), got {phases!r}")
    return ReturnSheet(key, kind, _labels(raw["name"], f"returns.{key}"), fields, source, within, grid_codes,
                       bool(raw.get("optional", False)), _former(raw.get("former_names"), f"returns.{key}"),
                       tuple(phases))


def _read_yaml(folder: Path | resources.abc.Traversable, name: str) -> Any:
    try:
        return yaml.load(folder.joinpath(name).read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, yaml.YAMLError) as error:
        raise SchemaError(f"schemas/{name}: {error}") from error


def load_schemas(folder: Path | None = None) -> Schemas:
    """Read schemas/ (the packaged copy unless a folder is given) and check it hangs together."""
    return _load(str(folder) if folder else None)


@functools.lru_cache(maxsize=4)
def _load(folder: str | None) -> Schemas:
    base = Path(folder) if folder else resources.files("branchbook.schemas")
    raw_returns = _read_yaml(base, "returns.yaml")
    raw_master = _read_yaml(base, "master.yaml")
    try:
        codes = _code_lists(_read_yaml(base, "codes.yaml"), int(raw_returns["sessions_per_week"]))
        master = tuple(_master_sheet(item, codes) for item in raw_master["sheets"])
        by_key = {sheet.key: sheet for sheet in master}
        for sheet in master:
            for fk in sheet.foreign_keys:
                if fk.sheet not in by_key:
                    raise SchemaError(f"{sheet.key}: foreign key to unknown sheet {fk.sheet!r}")
        layout = ReturnLayout(
            template_version=int(raw_returns["template_version"]),
            sessions_per_week=int(raw_returns["sessions_per_week"]),
            sessions_per_party_group=int(raw_returns.get("sessions_per_party_group", 0)),
            rows_per_sheet=int(raw_returns["rows_per_sheet"]),
            password=str(raw_returns["password"]),
            sheets=tuple(_return_sheet(item, by_key, codes) for item in raw_returns["sheets"]),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SchemaError(f"schemas/: missing or malformed entry: {error!r}") from error
    rules_file = base.joinpath("rules.yaml")
    rules = load_rules(_read_yaml(base, "rules.yaml"), rules_file)
    _check_rules_fit(rules, by_key, str(rules_file))
    campaign = load_definition(_read_yaml(base, CAMPAIGN_FILE), base.joinpath(CAMPAIGN_FILE)) \
        if base.joinpath(CAMPAIGN_FILE).is_file() else packaged_definition()
    return Schemas(codes, int(raw_master["template_version"]), master, layout, rules, campaign)


def _check_rules_fit(rules: Rules, sheets: dict[str, SheetSchema], source: str) -> None:
    """A threshold the master's own bounds make unreachable would flag every member for ever; a plan kind the
    plans sheet does not know would never flag anyone."""
    kinds = sheets["plans"].field("kind").codes if "plans" in sheets else None
    known = [code.code for code in kinds.codes] if kinds else []
    unknown = [kind for kind in rules.thresholds.plan_kinds_due if kind not in known]
    if kinds and unknown:
        raise UserError("setting-bad", file=source, setting="thresholds.plan_kinds_due", value=", ".join(unknown),
                        expected=say.later("codes of plan_kind in codes.yaml ({codes})", codes=", ".join(known)))
    try:
        questions = sheets["inspections"].field("questions")
    except KeyError:
        return
    needed = rules.thresholds.thinking_questions
    if questions.maximum is not None and needed > questions.maximum:
        raise UserError("setting-bad", file=source, setting="thresholds.thinking_questions", value=str(needed),
                        expected=say.later("at most {bound} (what master.yaml allows for questions answered)",
                                           bound=f"{questions.maximum:g}"))
