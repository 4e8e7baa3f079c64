"""docs/getting-started.md (and its English twin) followed command by command on a fresh folder: the
roster file is made from the tables the page shows, the secretary's filling is simulated as the demo
does, every `branchbook` command of the page is run and each result the page shows must appear; the
page ends with a merged week."""
from __future__ import annotations

import re
import shlex
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook

from branchbook.cli import Exit, main
from branchbook.demo.fill import Secretary, fill_return
from branchbook.workbook.books import open_ledger
from branchbook.workbook.home import Home

DOCS = Path(__file__).resolve().parent.parent / "docs"
PAGES = {"zh": DOCS / "getting-started.md", "en": DOCS / "getting-started.en.md"}
_FENCE = re.compile(r"^```(\w*)$")
_MARK = re.compile(r"^<!-- (sheet|test): (.+?) -->$")
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def steps(text: str) -> list[tuple[str, object]]:
    """The page as ("sheet", (name, rows)), ("test", words), ("command", line), ("expect", lines), in order."""
    out: list[tuple[str, object]] = []
    lines = text.splitlines()
    at = 0
    while at < len(lines):
        line = lines[at]
        mark = _MARK.match(line.strip())
        fence = _FENCE.match(line.strip())
        if mark and mark.group(1) == "sheet":
            rows = []
            at += 1
            while at < len(lines) and lines[at].startswith("|"):
                cells = [cell.strip() for cell in lines[at].strip().strip("|").split("|")]
                if not all(set(cell) <= {"-"} for cell in cells):
                    rows.append(cells)
                at += 1
            out.append(("sheet", (mark.group(2), rows)))
            continue
        if mark:
            out.append(("test", mark.group(2).split(maxsplit=1)))
        elif fence and fence.group(1) in ("shell", "text"):
            block = []
            at += 1
            while not lines[at].startswith("```"):
                block.append(lines[at])
                at += 1
            if fence.group(1) == "shell":
                out += [("command", command) for command in block if command.startswith("branchbook ")]
            else:
                out.append(("expect", [item for item in block if item.strip()]))
        at += 1
    return out


def _cell(text: str, shift: timedelta):
    if _ISO.match(text):
        return date.fromisoformat(text) + shift
    if re.fullmatch(r"\d{1,4}", text):
        return int(text)  # hours; a phone number (11 digits) stays text
    return text or None


def _roster(path: Path, sheets: list[tuple[str, list[list[str]]]]) -> None:
    """The office's file as the page shows it, the phases moved to start last week (Monday): the first week's
    return is filled and sent back once that week is over (a day after today would be noted)."""
    first_start = min(date.fromisoformat(cell) for _, rows in sheets[:1] for row in rows[1:] for cell in row
                      if _ISO.match(cell))
    shift = (date.today() - timedelta(days=date.today().weekday() + 7)) - first_start
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets:
        ws = wb.create_sheet(name)
        for number, row in enumerate(rows):
            ws.append(row if number == 0 else [_cell(text, shift) for text in row])
    wb.save(path)


@pytest.mark.parametrize("lang", sorted(PAGES))
def test_the_getting_started_page_runs_as_written(lang, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    sheets: list[tuple[str, list[list[str]]]] = []
    home_folder = None
    output: list[str] = []
    ran = []
    for kind, value in steps(PAGES[lang].read_text(encoding="utf-8")):
        if kind == "sheet":
            sheets.append(value)
        elif kind == "test" and value[0] == "roster":
            _roster(tmp_path / value[1], sheets)
        elif kind == "test" and value[0] == "secretary":
            name = value[1]
            target = home_folder / "inbox" / name
            shutil.copyfile(home_folder / "outbox" / name, target)
            fill_return(target, Secretary(diligence=1.0), seed=1, lang=lang)
        elif kind == "command":
            argv = shlex.split(value)[1:]
            if argv[0] == "init":
                home_folder = tmp_path / argv[1]
            code = main(argv)
            captured = capsys.readouterr()
            output = (captured.out + captured.err).splitlines()
            assert code == Exit.OK, (value, output)
            ran.append(argv[0])
        elif kind == "expect":
            for line in value:
                pattern = re.compile(".*".join(map(re.escape, line.split("…"))))
                assert any(pattern.fullmatch(got) for got in output), (line, output)
    assert ran == ["--version", "init", "import", "import", "returns", "validate", "merge", "flags"]
    home = Home.open(home_folder)
    with open_ledger(home) as ledger:
        tables = ledger.tables(["returns", "members", "attendance"])
    assert [(r["week"], r["result"]) for r in tables["returns"]] == [(1, "merged")]  # a merged week
    assert len(tables["members"]) == 6 and tables["attendance"]


def test_the_readme_links_the_page_in_both_languages():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/getting-started.md" in readme and "docs/getting-started.en.md" in readme
    zh, en = (steps(PAGES[lang].read_text(encoding="utf-8")) for lang in ("zh", "en"))
    assert [kind for kind, _ in zh] == [kind for kind, _ in en]  # the twins walk the same steps
