"""Every command is documented in the README and shows an example in its help."""
from __future__ import annotations

from pathlib import Path

from branchbook.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]


def _commands():
    parser = build_parser()
    action = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    return action.choices


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [name for name in _commands() if f"`branchbook {name}" not in readme]
    assert missing == []


def test_every_command_help_has_an_example():
    for name, parser in _commands().items():
        assert f"例：branchbook {name}" in parser.description, name


def test_readme_starts_with_the_two_commands_and_ci_runs_the_second():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    commands = [line.split("#")[0].strip() for line in lines[2:5] if line.startswith("bash ")]
    assert commands == ["bash tools/dev.sh demo", "bash tools/dev.sh test"]
    assert "bash tools/dev.sh test" in (ROOT / ".ci" / "run").read_text()


def test_code_cites_only_the_projects_own_documents():
    import re

    cited, outside = set(), []
    for folder in ("workbook", "sync", "addin", "branchbook", "tests", "tools", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            cited |= set(re.findall(r"docs/[\w-]+\.md", text))
            outside += [f"{path.name}: {m}" for m in re.findall(r"\b(?:HAZARDS|DOMAIN|STYLE)(?:\.md| \d)", text)]
    assert outside == []  # documents outside the repository are not the project's to cite
    assert cited and all((ROOT / name).is_file() for name in cited), cited
