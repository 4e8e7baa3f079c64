"""Errors a user can act on, with their message in Chinese (English on request).

The CLI, the add-in and the service show `error.message(lang)`; no traceback reaches a user.
"""
from __future__ import annotations

MESSAGES: dict[str, dict[str, str]] = {
    "home-exists": {
        "zh": "“{home}”中已有台账 {master}，未做任何更改。如需重新创建，请先移走该文件或另选文件夹。",
        "en": "{home} already holds a master ({master}); nothing was changed. Move it away or choose another folder.",
    },
    "home-missing": {
        "zh": "“{home}”不是 BranchBook 工作文件夹（找不到 {config}）。请先运行 branchbook init {home}。",
        "en": "{home} is not a BranchBook folder ({config} not found). Run branchbook init {home} first.",
    },
    "bad-lang": {
        "zh": "不支持的语言“{lang}”，可选：zh（中文）、en（英文）。",
        "en": "Unknown language {lang!r}; choose zh or en.",
    },
    "bad-week": {
        "zh": "周次 {week} 不在本次活动范围内（第 1 周至第 {last} 周）。",
        "en": "Week {week} is outside the campaign (weeks 1 to {last}).",
    },
    "no-phases": {
        "zh": "台账的“阶段”表没有日期，无法计算周次。请先填写各阶段的开始和结束日期。",
        "en": "The Phases sheet has no dates, so weeks cannot be computed. Fill in the phase dates first.",
    },
    "no-branches": {
        "zh": "台账的“党支部”表是空的，没有可生成回执的支部。",
        "en": "The Branches sheet is empty: there is no branch to make a return for.",
    },
    "unknown-branch": {
        "zh": "台账中没有支部“{branch}”。",
        "en": "No branch {branch!r} in the master.",
    },
    "bad-date": {
        "zh": "日期“{text}”无法识别，请写成 2005-03-28 的形式。",
        "en": "Cannot read the date {text!r}; write it as 2005-03-28.",
    },
    "backup-missing": {
        "zh": "找不到备份“{name}”。可用的备份在 {folder} 中，文件名形如 ledger-20050330-180000-000000-auto.sqlite。",
        "en": "No backup named {name!r}; the backups are in {folder}.",
    },
    "backup-unreadable": {
        "zh": "备份“{name}”已损坏，不能恢复（{reason}）。请换一份较早的备份。",
        "en": "The backup {name!r} is damaged ({reason}); choose an earlier one.",
    },
    "nothing-to-rebuild": {
        "zh": "没有可用于重建的记录：找不到 ledger-journal.jsonl，台账 master.xlsx 及其备份也都无法读取。",
        "en": "Nothing to rebuild from: no ledger-journal.jsonl, and neither the master nor its backups can be read.",
    },
    "already-running": {
        "zh": "“{home}”的同步服务已在运行，不能同时运行两个。",
        "en": "The sync service for {home} is already running; only one may run.",
    },
    "not-held": {
        "zh": "待审批文件夹中没有收件编号为 {receipt} 的回执。",
        "en": "No return with receipt {receipt} is waiting for approval.",
    },
    "needs-libreoffice": {
        "zh": "生成 PDF 需要 LibreOffice（Debian：apt-get install libreoffice-writer-nogui）；也可以生成 docx 后在 Word/WPS 中另存为 PDF。",
        "en": "A PDF needs LibreOffice (Debian: apt-get install libreoffice-writer-nogui); or make a docx and save it as PDF in Word.",
    },
    "no-smtp": {
        "zh": "未配置发信邮箱（branchbook.yaml 的 mail.smtp），提醒只写入了 outbox/提醒/。",
        "en": "No outgoing mail server (mail.smtp in branchbook.yaml): the reminders were only written to outbox/.",
    },
    "file-missing": {
        "zh": "找不到文件：{path}",
        "en": "No such file: {path}",
    },
    "master-unreadable": {
        "zh": "无法读取台账 {path}：{reason}",
        "en": "Cannot read the master {path}: {reason}",
    },
    "setting-file": {
        "zh": "无法读取设置文件 {file}：{reason}。",
        "en": "Cannot read the settings file {file}: {reason_en}.",
    },
    "setting-unknown": {
        "zh": "{file} 中的 {setting} 不是可识别的设置（可用：{known}）。{hint}",
        "en": "{setting} in {file} is not a setting BranchBook knows (known: {known_en}).{hint_en}",
    },
    "setting-bad": {
        "zh": "{file} 中的 {setting} 的值“{value}”不对，应为{expected}。",
        "en": "{setting} in {file} is {value}; it should be {expected_en}.",
    },
    "setting-missing": {
        "zh": "{file} 中缺少设置 {setting}。",
        "en": "The setting {setting} is missing from {file}.",
    },
}


class UserError(Exception):
    """Something the user must act on; carries a message key and its values. The CLI, the service and
    the add-in show its message (exit code 2 in the CLI) and never a traceback."""

    def __init__(self, key: str, **values):
        super().__init__(key)
        self.key = key
        self.values = values

    def message(self, lang: str = "zh") -> str:
        return MESSAGES[self.key][lang].format(**self.values)

    def __str__(self) -> str:
        return self.message("zh")
