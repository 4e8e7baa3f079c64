"""An English HOME is English end to end, a Chinese one has no English sentence: the demo and the
commands an office runs, their output, --json, and every file they write (workbooks, reports, logs)."""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import yaml
from openpyxl import load_workbook

from branchbook.cli import main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.home import CONFIG_NAME

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Three English words in a row make a sentence; a command quoted in a message (branchbook rebuild HOME),
# a file or font name is not one.
ENGLISH = re.compile(r"(?<![\w./\\-])[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w./\\-])")
NOT_SENTENCES = re.compile(r"branchbook [a-z]+( HOME| D:)?|Noto Sans CJK( SC)?|Microsoft YaHei|ID|SHA-256")


def _xlsx_texts(path: Path) -> list[str]:
    wb = load_workbook(path, read_only=False)
    texts = list(wb.sheetnames)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            texts += [v for v in row if isinstance(v, str)]
        for dv in ws.data_validations.dataValidation:
            texts += [t for t in (dv.prompt, dv.error, dv.promptTitle, dv.errorTitle) if t]
        texts += [ws.oddFooter.center.text or ""] if ws.oddFooter and ws.oddFooter.center else []
    return texts


def _files_texts(root: Path) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file() or ".branchbook" in path.parts:
            continue
        if path.suffix == ".xlsx" and zipfile.is_zipfile(path):
            found[str(path.relative_to(root))] = _xlsx_texts(path)
        elif path.suffix in (".txt", ".log", ".html") or path.name == "status.json":
            found[str(path.relative_to(root))] = [path.read_text(encoding="utf-8")]
        found.setdefault("(file names)", []).append(path.name)
    return found


def _run_everything(root: Path, lang: str, capsys, tmp_path: Path) -> dict[str, list[str]]:
    said: dict[str, list[str]] = {}

    def run(*argv: str) -> None:
        code = main(list(argv))
        out, err = capsys.readouterr()
        said[" ".join(argv[:1] + argv[2:])] = [out, err]
        assert code in (0, 1), (argv, out, err)

    run("demo", str(root), "--lang", lang)
    config = yaml.safe_load((root / CONFIG_NAME).read_text(encoding="utf-8"))
    assert config["lang"] == lang and config["as_of"]
    run("flags", str(root), "--json")
    run("status", str(root))
    run("returns", str(root), "--week", "4")
    template = next(root.joinpath("outbox").glob("*4*.xlsx"))
    bad = tmp_path / template.name
    shutil.copyfile(template, bad)
    fill_return(bad, Secretary(mistakes=("bad-status", "too-many-hours")), seed=4, lang=lang)
    run("validate", str(bad), "--annotate", str(tmp_path / "marked.xlsx"))
    run("validate", str(bad), "--json")
    run("merge", str(root), str(bad))
    run("merge", str(root), str(bad), "--json")
    run("export", str(root))
    run("restore", str(root))
    run("rebuild", str(root))
    run("bulletin", str(root), "--format", "html")
    run("remind", str(root))
    run("flags", str(root))
    for path in tmp_path.glob("marked*.xlsx"):
        said[path.name] = _xlsx_texts(path)
    return {**said, **_files_texts(root)}


def test_an_english_home_has_no_chinese_anywhere(tmp_path, capsys):
    texts = _run_everything(tmp_path / "en-home", "en", capsys, tmp_path)
    found = {where: sorted({m for t in items for m in CJK.findall(str(t))})[:10]
             for where, items in texts.items() if any(CJK.search(str(t)) for t in items)}
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_a_chinese_home_has_no_english_sentence(tmp_path, capsys):
    texts = _run_everything(tmp_path / "zh-home", "zh", capsys, tmp_path)
    found = {}
    for where, items in texts.items():
        hits = {m.group() for t in items for m in ENGLISH.finditer(NOT_SENTENCES.sub("", str(t)))}
        if hits:
            found[where] = sorted(hits)[:10]
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)
