"""What BranchBook tells people about received files and flags: the report beside a rejected or held
file, a merge's summary line, the flags in short (shown by the CLI, the service, the demo and the buttons)."""
from __future__ import annotations

from ..flags import RULE_TITLES, Flag
from ..merge import Outcome
from ..schema import load_schemas
from ..submission import Submission

RESULT_WORDS = {"merged": "已合并", "duplicate": "重复（已合并过，未作改动）", "superseded": "较早的版本（未覆盖较新的回执）",
                "rejected": "退回", "quarantined": "待审批"}
PREVIEW_WORDS = {"merged": "将合并", "duplicate": "重复，不会改动", "superseded": "较早的版本，不会覆盖", "rejected": "将退回",
                 "quarantined": "将待审批"}


def rejection_report(sub: Submission, outcome: Outcome) -> str:
    lines = [
        f"文件：{sub.file_name}",
        f"收到时间：{sub.received_at}",
        f"文件指纹：{sub.sha256}",
    ]
    if sub.branch_id:
        lines.append(f"支部：{sub.branch_id}　周次：{sub.week or '未知'}")
    lines += ["", "这份回执没有合并进台账，台账未作任何改动。原因如下，请改正后重新发送：", ""]
    lines += [f"{number}. {problem}" for number, problem in enumerate(outcome.problems, start=1)]
    lines += ["", "同一文件夹中的“标注”工作簿已将出错的单元格标红，并附有说明。"]
    return "\n".join(lines) + "\n"


def hold_report(sub: Submission) -> str:
    return "\n".join([
        f"文件：{sub.file_name}", f"发件人：{sub.sender}", f"收到时间：{sub.received_at}", f"收件编号：{sub.receipt_id}", "",
        f"这份回执暂未合并：{sub.hold}。",
        f"核实无误后运行 branchbook approve <工作文件夹> {sub.receipt_id} 即可合并；否则删除本文件即可。",
    ]) + "\n"


def _sheet_word(key: str) -> str:
    return load_schemas().sheet(key).name("zh")


def outcome_line(outcome: Outcome, preview: bool = False) -> str:
    words = PREVIEW_WORDS if preview else RESULT_WORDS
    text = f"{outcome.file_name}：{words.get(outcome.result, outcome.result)}"
    if outcome.added:
        text += "，新增 " + "、".join(f"{_sheet_word(k)} {n} 行" for k, n in outcome.added.items())
    if outcome.removed:
        text += "，替换旧版 " + "、".join(f"{_sheet_word(k)} {n} 行" for k, n in outcome.removed.items())
    if outcome.conflicts:
        text += f"，{len(outcome.conflicts)} 处手工修改被保留"
    if outcome.problems:
        text += "：" + " ".join(outcome.problems[:3]) + ("……" if len(outcome.problems) > 3 else "")
    return text


def flags_text(flags: list[Flag], limit: int = 30) -> list[str]:
    counts: dict[str, int] = {}
    for flag in flags:
        counts[flag.rule] = counts.get(flag.rule, 0) + 1
    lines = [f"落后提醒共 {len(flags)} 条：" + "，".join(f"{RULE_TITLES[r]} {n}" for r, n in counts.items())]
    for flag in flags[:limit]:
        who = "" if flag.subject_kind == "branch" else f"{flag.name}："
        lines.append(f"  [{flag.branch}] {who}{RULE_TITLES[flag.rule]}。{flag.detail}")
    if len(flags) > limit:
        lines.append(f"  ……另有 {len(flags) - limit} 条，见台账“落后提醒”表。")
    return lines
