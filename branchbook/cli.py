"""The `branchbook` command: parse, call the library, turn its errors into a message and an exit code.

One failure path (main): what the user must act on (UserError) and input that cannot be read
(UnreadableFile) become a sentence and exit code 2; anything else is logged with its traceback and
the user gets a sentence naming the log. No traceback reaches a user.
"""
from __future__ import annotations

import argparse
import json
import sys
from enum import IntEnum
from pathlib import Path

from . import __version__
from .workbook.errors import UserError
from .workbook.safe_open import UnreadableFile as UnreadableFileError
from .workbook.schema import LANGS, SchemaError


class Exit(IntEnum):
    OK = 0
    FINDINGS = 1  # the input has errors the user should fix
    UNUSABLE = 2  # the user must act first: a bad command line, a missing HOME, an unreadable file
    INTERNAL = 3  # BranchBook itself failed; the log has the details
    INTERRUPTED = 130


def emit(args, data, lines: list[str]) -> None:
    """What a command prints: its lines, or with --json the data (codes and values) as JSON."""
    if getattr(args, "json", False):
        print(json.dumps(data, ensure_ascii=False, indent=1, default=str))
    else:
        for line in lines:
            print(line)


def _home(args):
    from .workbook.home import Home

    return Home.open(args.home)


def _init(args) -> int:
    from .demo import demo_home
    from .workbook.office import init_home

    lang = args.lang or "zh"
    home = demo_home(args.home, lang) if args.demo else init_home(args.home, lang)
    emit(args, {"master": str(home.master)},
         [f"已创建台账 {home.master}" if home.lang == "zh" else f"Created {home.master}"])
    return Exit.OK


def _returns(args) -> int:
    from .sync.export import current_tables
    from .workbook.office import make_returns

    home = _home(args)
    made = make_returns(home, args.week, args.branch, current_tables(home))
    emit(args, {branch: str(path) for branch, path in made.items()}, [str(path) for path in made.values()])
    return Exit.OK


def _demo(args) -> int:
    from .demo import run_demo

    run_demo(Path(args.home))
    return Exit.OK


def _validate(args) -> int:
    from .workbook.annotate import annotate
    from .workbook.validation import validate_path

    lang = args.lang or "zh"
    if not Path(args.file).is_file():
        raise UserError("file-missing", path=str(args.file))
    report = validate_path(args.file, lang)
    lines = [finding.message(lang) for finding in report.findings] + [report.summary(lang)]
    if args.annotate:
        annotate(args.file, report, args.annotate, lang)
        lines.append(f"标注副本已保存：{Path(args.annotate).resolve()}" if lang == "zh"
                     else f"Marked copy saved: {Path(args.annotate).resolve()}")
    emit(args, [f.to_dict(lang) for f in report.findings], lines)
    return Exit.OK if report.valid else Exit.FINDINGS


def _merge(args) -> int:
    import dataclasses

    from .sync.pipeline import incoming, process
    from .workbook.reports.summaries import flags_text, outcome_line

    home = _home(args)
    items = incoming(home, args.files)
    if not items:
        emit(args, [], ["inbox 中没有待合并的回执。"])
        return Exit.OK

    def progress(number: int, total: int, name: str) -> None:
        if total > 5 and not args.json:
            print(f"[{number}/{total}] 读取 {name}", file=sys.stderr)

    def waiting(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    result = process(home, items, dry_run=args.dry_run, progress=progress, on_wait=waiting)
    if result.busy:  # the ledger has the returns; only the master file waits
        print(f"回执已合并进台账数据库；台账文件 master.xlsx 暂未更新：{result.busy}", file=sys.stderr)
    lines = ["预览（未写入任何文件）：" if args.dry_run else "合并结果："]
    lines += ["  " + outcome_line(outcome, preview=args.dry_run) for outcome in result.outcomes]
    if not args.dry_run:
        lines += flags_text(result.flags)
    emit(args, [dataclasses.asdict(o) for o in result.outcomes], lines)
    return Exit.OK if all(o.result != "rejected" for o in result.outcomes) else Exit.FINDINGS


def _flags(args) -> int:
    from datetime import date

    from .sync.export import current_tables
    from .workbook.flags import compute_flags
    from .workbook.reports.summaries import flags_text

    home = _home(args)
    try:
        day = date.fromisoformat(args.as_of) if args.as_of else home.as_of
    except ValueError:
        raise UserError("bad-date", text=args.as_of) from None
    flags = compute_flags(current_tables(home), day)
    emit(args, [f.row() for f in flags], flags_text(flags, limit=10_000))
    return Exit.OK


def _serve(args) -> int:
    from .sync.service import configure_logging, serve_forever

    home = _home(args)
    configure_logging(home)
    serve_forever(home, polling=args.polling or None)
    return Exit.OK


def _status(args) -> int:
    from .sync.service import STATUS_NAME

    home = _home(args)
    path = home.root / STATUS_NAME
    status = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"state": "never-started"}
    lines = [f"同步服务：{status.get('state')}　{status.get('message', '')}（{status.get('updated', '')}）"]
    emit(args, status, lines)
    return Exit.OK


def _rebuild(args) -> int:
    from .sync.rebuild import rebuild

    report = rebuild(_home(args))
    lines = [f"已按日志（{report.entries} 条）和 archive/ 重建台账数据库：出勤 {report.rows.get('attendance', 0)} 行，"
             f"周报 {report.rows.get('returns', 0)} 份。"]
    if report.same_as_before is not None:
        lines.append("与重建前的数据库完全一致。" if report.same_as_before else "与重建前的数据库不一致，原数据库已备份在 backups/。")
    lines += [f"archive/ 中找不到 {name}，其记录未能重放。" for name in report.missing]
    lines += report.differences
    if report.export and report.export.busy:
        lines.append(f"台账文件 master.xlsx 暂未更新：{report.export.busy}")
    emit(args, {"entries": report.entries, "rows": report.rows, "same_as_before": report.same_as_before,
                "missing": report.missing, "differences": report.differences}, lines)
    return Exit.OK if not report.missing and not report.differences else Exit.FINDINGS


def _export(args) -> int:
    from .sync.export import export_master
    from .workbook.books import open_ledger

    home = _home(args)
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
    data = {"written": result.written, "taken": result.taken, "refused": result.refused, "busy": result.busy}
    if result.refused:
        emit(args, data, ["台账 master.xlsx 中的手工修改有错误，未导入，也未覆盖。请改正后保存："]
             + ["  " + line for line in result.refused])
        return Exit.FINDINGS
    if result.busy:
        emit(args, data, [result.busy])
        return Exit.UNUSABLE
    lines = [f"已导入台账中的手工修改 {result.taken} 处。"] if result.taken else []
    emit(args, data, lines + [f"已按数据库写出台账 {home.master}"])
    return Exit.OK


def _restore(args) -> int:
    from .sync.backup import backups, restore
    from .sync.export import export_master
    from .workbook.books import open_ledger

    home = _home(args)
    if not args.name:
        names = [path.name for path in backups(home)]
        emit(args, names, names or ["backups/ 中还没有台账数据库的备份。"])
        return Exit.OK
    chosen = restore(home, args.name)
    with open_ledger(home) as ledger:
        result = export_master(home, ledger)
    lines = [f"已从备份 {chosen.name} 恢复台账数据库（恢复前的数据库也已备份）。"]
    if result.busy:
        lines.append(f"台账文件 master.xlsx 暂未更新：{result.busy}")
    emit(args, {"restored": chosen.name, "written": result.written}, lines)
    return Exit.OK


def _approve(args) -> int:
    from .sync.quarantine import approve
    from .sync.writer import writing

    home = _home(args)
    with writing(home, "approve", on_wait=lambda message: print(message, file=sys.stderr, flush=True)):
        name = approve(home, args.id)
    emit(args, {"approved": name}, [f"已批准 {name}，放回 inbox/，将在下次合并时处理。"])
    return Exit.OK


def _bulletin(args) -> int:
    from .sync.export import current_tables
    from .workbook.reports.fonts import NoChineseFont
    from .workbook.reports.publish import make_bulletin

    home = _home(args)
    try:
        path = make_bulletin(home, current_tables(home), args.week, args.format)
    except NoChineseFont as error:
        print(error, file=sys.stderr)
        return Exit.UNUSABLE
    emit(args, {"bulletin": str(path)}, [str(path)])
    return Exit.OK


def _remind(args) -> int:
    from .sync.export import current_tables
    from .workbook.reports.publish import write_reminders

    home = _home(args)
    written = write_reminders(home, current_tables(home))
    lines = [str(path) for _, path in written]
    sent = None
    if args.send:
        from .sync.mail_side import MailSide

        mail = MailSide.of(home)
        if mail is None or mail.settings.smtp is None:
            raise UserError("no-smtp")
        sent = mail.replier.send_reminders([r for r, _ in written], home.as_of)
        lines.append(f"已发送 {sent} 封提醒邮件。")
    emit(args, {"written": [str(path) for _, path in written], "sent": sent}, lines)
    return Exit.OK


def _addin(args) -> int:
    from .addin.lite import write_lite_files

    written = [str(path) for path in write_lite_files(args.folder, args.wheel)]
    emit(args, written, written)
    return Exit.OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="branchbook", description="党支部先进性教育活动台账：生成台账与回执、校验、合并、落后提醒、简报。")
    parser.add_argument("--version", action="version", version=f"branchbook {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    # Options shared by commands, declared once.
    home = argparse.ArgumentParser(add_help=False)
    home.add_argument("home", type=Path, help="工作文件夹 HOME")
    output = argparse.ArgumentParser(add_help=False)
    output.add_argument("--json", action="store_true", help="以 JSON 输出（代码和数值）")
    output.add_argument("--lang", choices=LANGS, help="提示语言：zh 或 en（默认：工作文件夹的语言）")

    def command(name: str, helptext: str, example: str, handler, *parents) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=helptext, description=f"{helptext}\n\n例：{example}", parents=parents,
                             formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.set_defaults(handler=handler)
        return cmd

    cmd = command("init", "创建工作文件夹、台账数据库和台账 master.xlsx", "branchbook init D:\\台账 --demo", _init,
                  home, output)
    cmd.add_argument("--demo", action="store_true", help="填入演示学院的数据")

    cmd = command("returns", "为各支部生成本周回执模板（outbox/）", "branchbook returns D:\\台账 --week 3", _returns,
                  home, output)
    cmd.add_argument("--week", type=int, help="周次（默认：本周）")
    cmd.add_argument("--branch", action="append", help="只生成该支部（支部编号，可重复）")

    cmd = command("validate", "校验台账或支部回执，列出每个问题（退出码 0 无错误、1 有错误、2 无法读取）",
                  "branchbook validate 院机关支部_第3周.xlsx --annotate 标注.xlsx", _validate, output)
    cmd.add_argument("file", type=Path, help="要校验的 .xlsx 文件")
    cmd.add_argument("--annotate", type=Path, metavar="OUT.xlsx", help="另存一份标注了问题单元格的副本")

    cmd = command("merge", "把 inbox/（或指定文件）中的回执合并进台账", "branchbook merge D:\\台账 --dry-run", _merge,
                  home, output)
    cmd.add_argument("files", nargs="*", type=Path, help="要合并的回执（默认：inbox/ 中全部）")
    cmd.add_argument("--dry-run", action="store_true", help="只预览将新增、替换、退回什么，不写任何文件")

    cmd = command("flags", "列出落后的党员和支部", "branchbook flags D:\\台账 --as-of 2005-03-30", _flags, home, output)
    cmd.add_argument("--as-of", help="按哪一天计算（默认今天，或配置中的 as_of）")

    cmd = command("serve", "运行同步服务：监视 inbox/，自动校验、合并、刷新提醒", "branchbook serve D:\\台账", _serve, home)
    cmd.add_argument("--polling", action="store_true", help="轮询方式监视（网络共享文件夹用）")

    command("status", "同步服务现在的状态（status.json）", "branchbook status D:\\台账", _status, home, output)
    command("rebuild", "按日志和 archive/ 中的回执重建台账数据库，再写出台账", "branchbook rebuild D:\\台账", _rebuild,
            home, output)
    command("export", "按数据库重新写出台账 master.xlsx（先导入其中的手工修改）", "branchbook export D:\\台账", _export,
            home, output)

    cmd = command("restore", "从备份恢复台账数据库（不写名称则列出可用备份）",
                  "branchbook restore D:\\台账 ledger-20050330-180000-000000-auto.sqlite", _restore, home, output)
    cmd.add_argument("name", nargs="?", help="backups/ 中的备份文件名")

    cmd = command("approve", "批准一份待审批的回执（发件人不是登记的书记邮箱时）", "branchbook approve D:\\台账 1a2b3c4d5e6f",
                  _approve, home, output)
    cmd.add_argument("id", help="收件编号（见周报表或待审批说明）")

    cmd = command("bulletin", "生成每周简报（默认 docx，可编辑）", "branchbook bulletin D:\\台账 --week 3 --format pdf",
                  _bulletin, home, output)
    cmd.add_argument("--week", type=int, help="周次（默认：最近结束的一周）")
    cmd.add_argument("--format", choices=["docx", "pdf", "html"], default="docx", help="docx（默认）、pdf 或 html")

    cmd = command("remind", "给各支部书记写（并可发送）落后提醒", "branchbook remind D:\\台账 --send", _remind, home, output)
    cmd.add_argument("--send", action="store_true", help="同时按登记的书记邮箱发送（需配置发信邮箱）")

    cmd = command("addin", "生成 xlwings Lite 用的 main.py 和 requirements.txt",
                  "branchbook addin lite D:\\lite", _addin, output)
    cmd.add_argument("target", choices=["lite"], help="目前只有 lite")
    cmd.add_argument("folder", type=Path, help="输出文件夹")
    cmd.add_argument("--wheel", default="branchbook", help="branchbook 安装包的地址（写入 requirements.txt）")

    cmd = command("demo", "用内置演示学院跑一遍完整流程", "branchbook demo", _demo)
    cmd.add_argument("home", nargs="?", default="branchbook-demo", help="演示文件夹（默认 ./branchbook-demo）")
    return parser


def _message_lang(args) -> str:
    """The language of what we say: --lang, else the HOME's, else Chinese."""
    if getattr(args, "lang", None) in LANGS:
        return args.lang
    try:
        return _home(args).lang if getattr(args, "home", None) else "zh"
    except Exception:  # noqa: BLE001 - no readable HOME: Chinese, the users' language
        return "zh"


def _log_failure(args) -> Path:
    """The traceback, kept where the office can send it to whoever maintains BranchBook."""
    import logging
    import tempfile

    folder = Path(tempfile.gettempdir())
    home = getattr(args, "home", None)
    if home and (Path(home) / "branchbook.yaml").is_file():  # a HOME: its logs/ folder
        folder = Path(home) / "logs"
        folder.mkdir(exist_ok=True)
    path = folder / "branchbook-errors.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger = logging.getLogger("branchbook.cli")
    logger.propagate = False  # to the file only: the console gets a sentence, not a traceback
    logger.addHandler(handler)
    logger.error("branchbook %s failed", " ".join(sys.argv[1:]), exc_info=True)
    logger.removeHandler(handler)
    handler.close()
    return path


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # --help, --version, or argparse's own complaint (already printed)
        return int(stop.code or 0)
    try:
        try:
            return int(args.handler(args))
        except (UserError, SchemaError) as error:
            lang = _message_lang(args)
            text = error.message(lang) if isinstance(error, UserError) else f"schemas/ 配置有误：{error}"
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
    except Exception:  # noqa: BLE001 - the one place an unexpected failure is turned into a sentence
        path = _log_failure(args)
        print(f"BranchBook 出现意外错误，未能完成。详细信息已记入 {path}，请把该文件发给维护人员。", file=sys.stderr)
        return Exit.INTERNAL


if __name__ == "__main__":
    raise SystemExit(main())
