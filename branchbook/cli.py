"""The `branchbook` command: parse, call the library, turn its errors into a message and an exit code."""
from __future__ import annotations

import argparse
import sys
from enum import IntEnum
from pathlib import Path

from .workbook.errors import UserError
from .workbook.schema import LANGS, SchemaError


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1  # the input has errors the user should fix
    UNUSABLE = 2  # the input or the command line cannot be used at all


def _init(args) -> int:
    from .workbook.office import init_home

    home = init_home(args.home, demo=args.demo, lang=args.lang)
    print(f"已创建台账 {home.master}" if args.lang == "zh" else f"Created {home.master}")
    return Exit.OK


def _returns(args) -> int:
    from .sync.export import current_tables
    from .workbook.home import Home
    from .workbook.office import make_returns

    home = Home.open(args.home)
    made = make_returns(home, args.week, args.branch, current_tables(home))
    for path in made.values():
        print(path)
    return Exit.OK


def _demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.home))
    return Exit.OK


def _validate(args) -> int:
    from .workbook.annotate import annotate
    from .workbook.home import check_lang
    from .workbook.safe_open import UnreadableFile
    from .workbook.validation import validate_path

    lang = check_lang(args.lang)
    try:
        report = validate_path(args.file, lang)
    except UnreadableFile as error:
        print(error.message(lang), file=sys.stderr)
        return Exit.UNUSABLE
    except FileNotFoundError:
        print(f"找不到文件：{args.file}" if lang == "zh" else f"No such file: {args.file}", file=sys.stderr)
        return Exit.UNUSABLE
    if args.json:
        print(report.to_json(lang))
    else:
        for finding in report.findings:
            print(finding.message(lang))
        print(report.summary(lang))
    if args.annotate:
        annotate(args.file, report, args.annotate, lang)
    return Exit.OK if report.valid else Exit.FINDINGS


def _merge(args) -> int:
    from .sync.pipeline import incoming, process
    from .sync.reports import flags_text, outcome_line
    from .workbook.home import Home

    home = Home.open(args.home)
    items = incoming(home, args.files)
    if not items:
        print("inbox 中没有待合并的回执。")
        return Exit.OK

    def progress(number: int, total: int, name: str) -> None:
        if total > 5 and not args.json:
            print(f"[{number}/{total}] 读取 {name}", file=sys.stderr)

    def waiting(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = process(home, items, dry_run=args.dry_run, progress=progress, on_wait=waiting)
    if result.busy:  # the ledger has the returns; only the master file waits
        print(f"回执已合并进台账数据库；台账文件 master.xlsx 暂未更新：{result.busy}", file=sys.stderr)
    if args.json:
        import dataclasses
        import json

        print(json.dumps([dataclasses.asdict(o) for o in result.outcomes], ensure_ascii=False, indent=1))
    else:
        print("预览（未写入任何文件）：" if args.dry_run else "合并结果：")
        for outcome in result.outcomes:
            print("  " + outcome_line(outcome, preview=args.dry_run))
        if not args.dry_run:
            print("\n".join(flags_text(result.flags)))
    return Exit.OK if all(o.result != "rejected" for o in result.outcomes) else Exit.FINDINGS


def _flags(args) -> int:
    import json
    from datetime import date

    from .sync.export import current_tables
    from .sync.reports import flags_text
    from .workbook.flags import compute_flags
    from .workbook.home import Home

    home = Home.open(args.home)
    try:
        day = date.fromisoformat(args.as_of) if args.as_of else home.as_of
    except ValueError:
        raise UserError("bad-date", text=args.as_of) from None
    flags = compute_flags(current_tables(home), day)
    if args.json:
        print(json.dumps([f.row() for f in flags], ensure_ascii=False, indent=1, default=str))
    else:
        print("\n".join(flags_text(flags, limit=10_000)))
    return Exit.OK


def _serve(args) -> int:
    from .sync.service import AlreadyRunning, configure_logging, serve_forever
    from .workbook.home import Home

    home = Home.open(args.home)
    configure_logging(home)
    try:
        serve_forever(home, polling=args.polling or None)
    except AlreadyRunning as error:
        print(error, file=sys.stderr)
        return Exit.UNUSABLE
    return Exit.OK


def _rebuild(args) -> int:
    from .sync.rebuild import rebuild
    from .workbook.home import Home

    report = rebuild(Home.open(args.home))
    print(f"已按日志（{report.entries} 条）和 archive/ 重建台账数据库：出勤 {report.rows.get('attendance', 0)} 行，"
          f"周报 {report.rows.get('returns', 0)} 份。")
    if report.same_as_before is not None:
        print("与重建前的数据库完全一致。" if report.same_as_before else "与重建前的数据库不一致，原数据库已备份在 backups/。")
    for name in report.missing:
        print(f"archive/ 中找不到 {name}，其记录未能重放。", file=sys.stderr)
    for line in report.differences:
        print(line, file=sys.stderr)
    if report.export and report.export.busy:
        print(f"台账文件 master.xlsx 暂未更新：{report.export.busy}", file=sys.stderr)
    return Exit.OK if not report.missing and not report.differences else Exit.FINDINGS


def _export(args) -> int:
    from .sync.export import export_master
    from .workbook.books import open_ledger
    from .workbook.home import Home

    home = Home.open(args.home)
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
    if result.refused:
        print("台账 master.xlsx 中的手工修改有错误，未导入，也未覆盖。请改正后保存：", file=sys.stderr)
        for line in result.refused:
            print("  " + line, file=sys.stderr)
        return Exit.FINDINGS
    if result.busy:
        print(result.busy, file=sys.stderr)
        return Exit.UNUSABLE
    if result.taken:
        print(f"已导入台账中的手工修改 {result.taken} 处。")
    print(f"已按数据库写出台账 {home.master}")
    return Exit.OK


def _restore(args) -> int:
    from .sync.backup import backups, restore
    from .sync.export import export_master
    from .workbook.books import open_ledger
    from .workbook.home import Home

    home = Home.open(args.home)
    if not args.name:
        for path in backups(home):
            print(path.name)
        return Exit.OK
    chosen = restore(home, args.name)
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
    print(f"已从备份 {chosen.name} 恢复台账数据库（恢复前的数据库也已备份）。")
    if result.busy:
        print(f"台账文件 master.xlsx 暂未更新：{result.busy}", file=sys.stderr)
    return Exit.OK


def _approve(args) -> int:
    from .sync.quarantine import NotHeld, approve
    from .sync.writer import writing
    from .workbook.home import Home

    home = Home.open(args.home)
    try:
        with writing(home, "approve", on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
            name = approve(home, args.id)
    except NotHeld as error:
        print(error, file=sys.stderr)
        return Exit.UNUSABLE
    print(f"已批准 {name}，放回 inbox/，将在下次合并时处理。")
    return Exit.OK


def _bulletin(args) -> int:
    from .sync.export import current_tables
    from .workbook.home import Home
    from .workbook.reports.bulletin import NeedsLibreOffice
    from .workbook.reports.fonts import NoChineseFont
    from .workbook.reports.publish import make_bulletin

    home = Home.open(args.home)
    try:
        print(make_bulletin(home, current_tables(home), args.week, args.format))
    except (NeedsLibreOffice, NoChineseFont) as error:
        print(error, file=sys.stderr)
        return Exit.UNUSABLE
    return Exit.OK


def _remind(args) -> int:
    from .sync.export import current_tables
    from .workbook.home import Home
    from .workbook.reports.publish import write_reminders

    home = Home.open(args.home)
    written = write_reminders(home, current_tables(home))
    for _, path in written:
        print(path)
    if args.send:
        from .sync.mail_side import MailSide

        mail = MailSide.of(home)
        if mail is None or mail.settings.smtp is None:
            print("未配置发信邮箱（branchbook.yaml 的 mail.smtp），提醒只写入了 outbox/提醒/。", file=sys.stderr)
            return Exit.UNUSABLE
        sent = mail.replier.send_reminders([r for r, _ in written], home.as_of)
        print(f"已发送 {sent} 封提醒邮件。")
    return Exit.OK


def _addin(args) -> int:
    from .addin.lite import write_lite_files

    for path in write_lite_files(args.folder, args.wheel):
        print(path)
    return Exit.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="branchbook",
        description="党支部先进性教育活动台账：生成台账与回执、校验、合并、落后提醒、简报。",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, helptext: str, example: str, handler) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=helptext, description=f"{helptext}\n\n例：{example}",
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.set_defaults(handler=handler)
        return cmd

    cmd = command("init", "创建工作文件夹和台账 master.xlsx", "branchbook init D:\\台账 --demo", _init)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("--demo", action="store_true", help="填入演示学院的数据")
    cmd.add_argument("--lang", default="zh", help="表格语言：zh（默认）或 en")

    cmd = command("returns", "为各支部生成本周回执模板（outbox/）", "branchbook returns D:\\台账 --week 3", _returns)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("--week", type=int, help="周次（默认：本周）")
    cmd.add_argument("--branch", action="append", help="只生成该支部（支部编号，可重复）")

    cmd = command("validate", "校验台账或支部回执，列出每个问题（退出码 0 无错误、1 有错误、2 无法读取）",
                  "branchbook validate 院机关支部_第3周.xlsx --annotate 标注.xlsx", _validate)
    cmd.add_argument("file", type=Path, help="要校验的 .xlsx 文件")
    cmd.add_argument("--json", action="store_true", help="以 JSON 列表输出")
    cmd.add_argument("--lang", default="zh", help="提示语言：zh（默认）或 en")
    cmd.add_argument("--annotate", type=Path, metavar="OUT.xlsx", help="另存一份标注了问题单元格的副本")

    cmd = command("merge", "把 inbox/（或指定文件）中的回执合并进台账", "branchbook merge D:\\台账 --dry-run", _merge)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("files", nargs="*", type=Path, help="要合并的回执（默认：inbox/ 中全部）")
    cmd.add_argument("--dry-run", action="store_true", help="只预览将新增、替换、退回什么，不写任何文件")
    cmd.add_argument("--json", action="store_true", help="以 JSON 输出每份回执的处理结果")

    cmd = command("flags", "列出落后的党员和支部", "branchbook flags D:\\台账 --as-of 2005-03-30", _flags)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("--as-of", help="按哪一天计算（默认今天，或配置中的 as_of）")
    cmd.add_argument("--json", action="store_true", help="以 JSON 输出")

    cmd = command("serve", "运行同步服务：监视 inbox/，自动校验、合并、刷新提醒", "branchbook serve D:\\台账", _serve)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("--polling", action="store_true", help="轮询方式监视（网络共享文件夹用）")

    cmd = command("rebuild", "按日志和 archive/ 中的回执重建台账数据库，再写出台账", "branchbook rebuild D:\\台账", _rebuild)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")

    cmd = command("export", "按数据库重新写出台账 master.xlsx（先导入其中的手工修改）", "branchbook export D:\\台账", _export)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")

    cmd = command("restore", "从备份恢复台账数据库（不写名称则列出可用备份）",
                  "branchbook restore D:\\台账 ledger-20050330-180000-000000-auto.sqlite", _restore)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("name", nargs="?", help="backups/ 中的备份文件名")

    cmd = command("approve", "批准一份待审批的回执（发件人不是登记的书记邮箱时）", "branchbook approve D:\\台账 1a2b3c4d5e6f",
                  _approve)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("id", help="收件编号（见周报表或待审批说明）")

    cmd = command("bulletin", "生成每周简报（默认 docx，可编辑）", "branchbook bulletin D:\\台账 --week 3 --format pdf",
                  _bulletin)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("--week", type=int, help="周次（默认：最近结束的一周）")
    cmd.add_argument("--format", choices=["docx", "pdf", "html"], default="docx", help="docx（默认）、pdf 或 html")

    cmd = command("remind", "给各支部书记写（并可发送）落后提醒", "branchbook remind D:\\台账 --send", _remind)
    cmd.add_argument("home", type=Path, help="工作文件夹 HOME")
    cmd.add_argument("--send", action="store_true", help="同时按登记的书记邮箱发送（需配置发信邮箱）")

    cmd = command("addin", "生成 xlwings Lite 用的 main.py 和 requirements.txt",
                  "branchbook addin lite D:\\lite", _addin)
    cmd.add_argument("target", choices=["lite"], help="目前只有 lite")
    cmd.add_argument("folder", type=Path, help="输出文件夹")
    cmd.add_argument("--wheel", default="branchbook", help="branchbook 安装包的地址（写入 requirements.txt）")

    cmd = command("demo", "用内置演示学院跑一遍完整流程", "branchbook demo", _demo)
    cmd.add_argument("home", nargs="?", default="branchbook-demo", help="演示文件夹（默认 ./branchbook-demo）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    lang = getattr(args, "lang", "zh") if getattr(args, "lang", "zh") in LANGS else "zh"
    try:
        return int(args.handler(args))
    except UserError as error:
        print(error.message(lang), file=sys.stderr)
        return Exit.UNUSABLE
    except SchemaError as error:
        print(f"schemas/ 配置有误：{error}", file=sys.stderr)
        return Exit.UNUSABLE


if __name__ == "__main__":
    raise SystemExit(main())
