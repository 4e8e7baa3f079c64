from branchbook.cli import main
from branchbook.workbook.master import read_master


def test_demo_runs_the_whole_job(tmp_path, capsys):
    home = tmp_path / "demo"
    assert main(["demo", str(home)]) == 0
    out = capsys.readouterr().out
    assert not list((home / "inbox").glob("*.xlsx"))
    archived = sorted(p.name.split("__", 1)[1] for p in (home / "archive").glob("*.xlsx"))
    rejected = sorted(p.name for p in (home / "rejected").glob("*_第3周.xlsx"))
    assert len(archived) == 5 and rejected == ["检测技术研究所党支部_第3周.xlsx", "生医系硕士生党支部_第3周.xlsx"]
    assert (home / "rejected" / "生医系硕士生党支部_第3周.xlsx.错误报告.txt").read_text(encoding="utf-8").count("30 超出") == 1
    tables = read_master(home / "master.xlsx")
    week3 = [r for r in tables["returns"] if r["week"] == 3]
    assert sorted(r["result"] for r in week3) == ["merged"] * 5 + ["rejected"] * 2
    assert "落后提醒共" in out and "周报迟交" in out and "周报未交" in out
    assert tables["flags"] and tables["flags"][0]["rule"] in {"周报未交", "周报迟交"}
    # A second run replaces the earlier demo rather than refusing.
    assert main(["demo", str(home)]) == 0


def test_demo_does_not_replace_a_real_home(tmp_path, capsys):
    assert main(["init", str(tmp_path / "real")]) == 0
    assert main(["demo", str(tmp_path / "real")]) == 2
    assert (tmp_path / "real" / "master.xlsx").exists()
