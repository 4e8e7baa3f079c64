"""An English HOME is English end to end, a Chinese one has no English sentence: the demo and the
commands an office runs, their output, --json, and every file they write (workbooks, reports, logs)."""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from lxml import etree
from openpyxl import load_workbook

from branchbook.cli import main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.home import CONFIG_NAME

if TYPE_CHECKING:
    from conftest import DemoRun

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
# Three English words in a row make a sentence; a command quoted in a message (branchbook rebuild HOME),
# a file or font name is not one.
ENGLISH = re.compile(r"(?<![\w./\\-])[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}(?![\w./\\-])")
NOT_SENTENCES = re.compile(r"branchbook [a-z]+( HOME| D:)?|Noto Sans CJK( SC)?|Microsoft YaHei|ID|SHA-256")


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
CACHED_STRINGS = etree.XPath("/m:worksheet/m:sheetData/m:row/m:c[@t='str' or @t='e']/m:v/text()",
                             namespaces={"m": MAIN.strip("{}")})


def _xlsx_texts(path: Path) -> list[str]:
    """Every text openpyxl shows of the workbook (_openpyxl_texts) and more, read from its XML by lxml: the sheet
    names, all its shared strings, a cell's own (inline) text, formulas and their cached string results, the
    drop-downs' prompts and errors, and the whole printed footer; each once. openpyxl takes a third of a second a
    file, minutes for the 150 workbooks of the demo's HOME."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: etree.fromstring(archive.read(name)) for name in archive.namelist()
                 if name in ("xl/workbook.xml", "xl/sharedStrings.xml")
                 or (name.startswith("xl/worksheets/") and name.endswith(".xml"))}
    texts = [sheet.get("name") for sheet in parts.pop("xl/workbook.xml").iter(MAIN + "sheet")]
    shared = parts.pop("xl/sharedStrings.xml", None)
    if shared is not None:
        texts += ["".join(item.itertext()) for item in shared.iter(MAIN + "si")]
    for sheet in parts.values():
        texts += CACHED_STRINGS(sheet)
        for element in sheet.iter(MAIN + "is", MAIN + "f", MAIN + "dataValidation", MAIN + "oddFooter"):
            if element.tag == MAIN + "dataValidation":
                texts += [element.get(key) for key in ("prompt", "error", "promptTitle", "errorTitle")
                          if element.get(key)]
            elif element.tag == MAIN + "f":
                texts.append("=" + (element.text or ""))
            else:
                texts.append("".join(element.itertext()))
    return list(dict.fromkeys(texts))


def _openpyxl_texts(path: Path) -> list[str]:
    """The texts of a workbook as openpyxl shows them: its sheet names, string cells (formulas included), drop-down
    prompts and errors, and the centre of the printed footer."""
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


def _run_everything(demo: DemoRun, lang: str, capsys, tmp_path: Path) -> dict[str, list[str]]:
    """What the demo said and wrote (`branchbook demo HOME --lang L`, run once per pytest run: conftest.py), then
    every command an office runs on a copy of its HOME."""
    root = demo.home.root
    said: dict[str, list[str]] = {f"demo --lang {lang}": [demo.out, demo.err]}

    def run(*argv: str) -> None:
        code = main(list(argv))
        out, err = capsys.readouterr()
        said[" ".join(argv[:1] + argv[2:])] = [out, err]
        assert code in (0, 1), (argv, out, err)

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


def test_an_english_home_has_no_chinese_anywhere(fresh_demo_run, tmp_path, capsys):
    texts = _run_everything(fresh_demo_run("en"), "en", capsys, tmp_path)
    found = {where: sorted({m for t in items for m in CJK.findall(str(t))})[:10]
             for where, items in texts.items() if any(CJK.search(str(t)) for t in items)}
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_a_chinese_home_has_no_english_sentence(fresh_demo_run, tmp_path, capsys):
    texts = _run_everything(fresh_demo_run("zh"), "zh", capsys, tmp_path)
    found = {}
    for where, items in texts.items():
        hits = {m.group() for t in items for m in ENGLISH.finditer(NOT_SENTENCES.sub("", str(t)))}
        if hits:
            found[where] = sorted(hits)[:10]
    assert not found, json.dumps(found, ensure_ascii=False, indent=1)


def test_the_texts_read_from_the_xml_hold_all_openpyxl_shows(demo_run):
    """_xlsx_texts reads every workbook of the tests above; it must miss nothing openpyxl shows of them."""
    root = demo_run("zh").home.root
    for path in (root / "master.xlsx", *(next((root / folder).glob("*.xlsx")) for folder in ("archive", "rejected",
                                                                                               "outbox"))):
        quick = _xlsx_texts(path)
        missed = [text for text in _openpyxl_texts(path) if text not in quick and not any(text in t for t in quick)]
        assert not missed, (path.name, missed[:5])
