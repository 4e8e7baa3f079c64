"""Findings: what validation says about one place in a workbook, rendered in Chinese or English.

Each finding has a stable `code`; its message is built from the code's template and the
finding's values, prefixed with where it is (sheet, row, column) so a secretary can go there.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR, WARNING = "error", "warning"

# code -> (severity, zh template, en template)
TEMPLATES: dict[str, tuple[str, str, str]] = {
    "required": (ERROR, "不能为空。", "must not be blank."),
    "type": (ERROR, "“{value}”不是{expected}。", "{value!r} is not {expected_en}."),
    "enum": (ERROR, "“{value}”不是可选值（{choices}）。", "{value!r} is not one of {choices_en}."),
    "range": (ERROR, "{value} 超出允许范围（{minimum} 至 {maximum}）。", "{value} is outside {minimum} to {maximum}."),
    "date-outside-week": (ERROR, "日期 {value} 不在本周（{start} 至 {end}）之内。",
                          "date {value} is not in the week ({start} to {end})."),
    "unknown-member": (ERROR, "党员编号“{value}”不在本支部名单中。", "member ID {value!r} is not on this branch's roster."),
    "duplicate-key": (ERROR, "与第{other_row}行重复（{key}）。", "duplicates row {other_row} ({key})."),
    "foreign-key": (ERROR, "“{value}”在「{target}」表中找不到。", "{value!r} is not found in {target_en}."),
    "roster-changed": (ERROR, "党员名单与学院下发时不一致（被增删或改动过），请使用学院下发的原表填写，名单有误请联系组织员。",
                       "the roster differs from the one sent out; fill in the original template."),
    "template-version": (ERROR, "本表是第{found}版模板，本程序只支持到第{supported}版。请使用学院下发的模板，或请组织员升级 BranchBook。",
                         "template version {found} is newer than the supported {supported}."),
    "template-old": (WARNING, "本表是旧版模板（第{found}版，当前第{supported}版），已尽量读取。",
                     "old template version {found} (current {supported}); read as far as possible."),
    "meta-missing": (ERROR, "缺少回执信息（隐藏的 _元数据 表），无法确认支部和周次。请使用学院下发的模板填写。",
                     "the return's hidden metadata sheet is missing: branch and week are unknown."),
    "missing-sheet": (ERROR, "缺少工作表“{expected}”。", "sheet {expected!r} is missing."),
    "extra-sheet": (WARNING, "多出工作表，其中内容不会被读取。", "extra sheet: its content is not read."),
    "header-moved": (WARNING, "表头应在第1行，现在在第{row}行，已按第{row}行读取。",
                     "the header should be on row 1; it is on row {row} and was read there."),
    "header-renamed": (ERROR, "表头“{value}”应为“{expected}”，请改回原名。", "header {value!r} should be {expected!r}."),
    "header-translated": (WARNING, "表头是{found_lang}的，已按对应的列读取。", "the headers are in {found_lang_en}; read as such."),
    "missing-column": (ERROR, "缺少列“{expected}”。", "column {expected!r} is missing."),
    "unknown-column": (WARNING, "无法识别的列“{value}”，其内容不会被读取。", "unknown column {value!r} is not read."),
    "unknown-session": (ERROR, "出勤填在 {session} 下，但「学习活动」表中没有活动序号 {session}。",
                        "attendance is filled under {session} but Sessions has no {session}."),
    "status-blank": (WARNING, "活动 {session} 的出勤未填写（出席/缺席/请假）。", "attendance for {session} is blank."),
    "hours-total": (ERROR, "{detail}", "{detail_en}"),
    "not-a-return": (ERROR, "这不是支部回执（缺少“党员名单”“出勤”等工作表）。请使用学院下发的回执模板填写。",
                     "this is not a branch return; use the template the college sent."),
    "identity-unknown": (ERROR, "无法确认这份回执属于哪个支部、哪一周：{reason}。请使用学院下发的模板。",
                         "cannot tell which branch and week this return is for: {reason_en}."),
    "identity-guessed": (WARNING, "回执信息缺失，已按文件名和党员名单认定为「{branch}」第{week}周。",
                         "metadata missing; taken as {branch}, week {week} from the file name and roster."),
    "other-branch": (ERROR, "党员编号“{value}”属于「{owner}」，不属于本支部，不能由本支部填报。",
                     "member {value!r} belongs to {owner}, not to this branch."),
    "formula-uncalculated": (ERROR, "这里是公式，但文件中没有计算结果，读出来是空的。请用 Excel 或 WPS 打开后保存一次再发送，或改填数值。",
                             "a formula with no calculated value; open and save the file in Excel, or type the value."),
    "unknown-branch": (ERROR, "台账中没有支部“{value}”。", "no branch {value!r} in the master."),
}

_TYPE_NAMES = {"date": ("有效的日期（如 2005-03-28）", "a date such as 2005-03-28"),
               "number": ("数字", "a number"), "integer": ("整数", "a whole number")}


@dataclass
class Finding:
    code: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None  # column letter
    column_label: str | None = None
    value: Any = None
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def severity(self) -> str:
        return TEMPLATES[self.code][0]

    @property
    def cell(self) -> str | None:
        return f"{self.column}{self.row}" if self.column and self.row else None

    def _values(self) -> dict[str, Any]:
        values = {"value": _show(self.value), **self.params}
        expected = self.params.get("type")
        if expected in _TYPE_NAMES:
            values["expected"], values["expected_en"] = _TYPE_NAMES[expected]
        return values

    def where(self, lang: str) -> str:
        parts = []
        if self.sheet:
            parts.append(self.sheet if lang == "zh" else f"sheet {self.sheet}")
        if self.row:
            parts.append(f"第{self.row}行" if lang == "zh" else f"row {self.row}")
        if self.column_label:
            parts.append(f"「{self.column_label}」" if lang == "zh" else f"column {self.column_label}")
        return " ".join(parts)

    def message(self, lang: str = "zh") -> str:
        _, zh, en = TEMPLATES[self.code]
        text = (zh if lang == "zh" else en).format(**self._values())
        where = self.where(lang)
        return f"{where}：{text}" if where and lang == "zh" else (f"{where}: {text}" if where else text)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        data = asdict(self)
        data.pop("params")
        data["value"] = _show(self.value) if self.value is not None else None
        return {**data, "cell": self.cell, "severity": self.severity, "message": self.message(lang)}


def _show(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value)


@dataclass
class Report:
    kind: str  # master | return
    findings: list[Finding]
    stats: dict[str, int] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def valid(self) -> bool:
        return not self.errors

    def to_json(self, lang: str = "zh") -> str:
        return json.dumps([f.to_dict(lang) for f in self.findings], ensure_ascii=False, indent=1, default=str)

    def summary(self, lang: str = "zh") -> str:
        errors, warnings = len(self.errors), len(self.findings) - len(self.errors)
        if lang == "zh":
            return "校验通过，没有发现问题。" if not self.findings else f"发现 {errors} 处错误、{warnings} 处提示。"
        return "No problems found." if not self.findings else f"{errors} errors, {warnings} warnings."
