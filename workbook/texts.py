"""Fixed prose shown in the workbooks: the master's 说明 sheet and the return's 填表说明.

Numbers the schemas hold (the hours and questions a cell accepts) are filled in from them, never written here.
"""
from __future__ import annotations

from .schema import Schemas, load_schemas

_README = {
    "zh": [
        "BranchBook 先进性教育活动台账",
        "本工作簿是台账数据库（同一文件夹中的 ledger.sqlite）的展示：每批回执合并后由 BranchBook 整体重写。",
        "各工作表：阶段、党委委员、党支部、党员、学习活动、出勤、自学、笔记检查、征求意见、周报、落后提醒。",
        "可以直接在本工作簿中修改、增删党员、支部、学习活动等记录：保存后 BranchBook 会把修改导入数据库，并记下修改人和时间。",
        "灰色表头的列（来源回执、行指纹）由程序填写，请勿修改；手工修改过的回执数据在该支部再次报送同一周时会被保留并列为冲突。",
        "“周报”和“落后提醒”两表由程序生成，在这里修改不会被导入。修改如有错误（如学时填了文字），程序会列出出错的表、行、列，改正保存前不会覆盖本工作簿。",
        "下拉列表、日期和学时在输入时即由 Excel 检查；完整校验请点击“校验”按钮或运行 branchbook validate。",
        "本工作簿在 Excel 中打开时，回执照常合并进数据库；关闭后台账才会更新，不会覆盖您的修改。",
    ],
    "en": [
        "BranchBook campaign ledger",
        "This workbook shows the ledger database (ledger.sqlite in the same folder): BranchBook rewrites it as a whole after each batch of returns.",
        "Sheets: phases, committee, branches, members, sessions, attendance, self-study, notebook checks, "
        "opinions, returns, flags.",
        "You may edit members, branches, sessions and other records here: when you save, BranchBook takes your "
        "changes into the ledger and records who made them and when.",
        "Grey columns (source return, row fingerprint) are written by the program; merged rows edited by hand are "
        "kept when the branch sends the same week again, and listed as conflicts.",
        "The Returns and Flags sheets are generated; edits there are not taken in. An edit with an error (text in an "
        "hours column) is listed by sheet, row and column, and this workbook is not overwritten until it is fixed.",
        "Drop-downs, dates and hours are checked by Excel as you type; for a full check click Validate "
        "or run branchbook validate.",
        "While Excel has this workbook open, returns are still merged into the ledger; the workbook is updated "
        "once you close it, never over your changes.",
    ],
}

_GUIDE = {
    "zh": [
        "{branch} 第{week}周 学习情况回执（{start} 至 {end}）",
        "1. 「党员名单」已预先填好，请勿修改；名单有误请联系学院党委组织员。",
        "2. 「学习活动」：本周每次集中学习、党小组学习、辅导报告等各填一行，活动序号 S1–S{sessions} 不可重复。",
        "3. 「出勤」：按活动序号为每位党员选择 出席 / 缺席 / 请假。",
        "4. 「自学」「笔记检查」「征求意见」：每条记录一行，党员编号从下拉列表选择。",
        "5. 「本周小结」：简要填写本周概况和存在问题。",
        "6. 日期须在本周之内，学时 {hours}，思考题完成数 {questions}，填错时 Excel 会立即提示。",
        "7. 填好后点击“校验”按钮（或请组织员校验），按提示改正后，将本文件作为附件发送至学院党委邮箱。",
    ],
    "en": [
        "{branch} return for week {week} ({start} to {end})",
        "1. The Roster is pre-filled; do not change it. Report mistakes to the college office.",
        "2. Sessions: one row per session this week; session numbers S1–S{sessions} must be unique.",
        "3. Attendance: for each member and session choose Present / Absent / Excused.",
        "4. Self-study, Notebook checks, Opinions: one row per record; pick the member ID from the list.",
        "5. Summary: a few lines on the week and its problems.",
        "6. Dates must fall in the week, hours {hours}, questions {questions}; Excel stops a wrong entry.",
        "7. Click Validate, fix what is marked, and e-mail this file to the college office.",
    ],
}


def readme_lines(lang: str) -> list[str]:
    return list(_README[lang])


def _span(fields) -> str:
    """The values the fields accept, as low–high (the widest span, if they differ)."""
    lows = [f.minimum for f in fields if f.minimum is not None]
    highs = [f.maximum for f in fields if f.maximum is not None]
    low, high = (min(lows) if lows else None), (max(highs) if highs else None)
    if low is not None and high is not None:
        return f"{low:g}–{high:g}"
    return f"≥ {low:g}" if low is not None else f"≤ {high:g}" if high is not None else "—"


def guide_lines(lang: str, schemas: Schemas | None = None, **values) -> list[str]:
    """The return's 填表说明; the ranges it quotes are the master schema's own bounds."""
    schemas = schemas or load_schemas()
    ranges = {"hours": _span([schemas.sheet(key).field("hours") for key in ("sessions", "selfstudy")]),
              "questions": _span([schemas.sheet("inspections").field("questions")])}
    return [line.format(**{**ranges, **values}) for line in _GUIDE[lang]]
