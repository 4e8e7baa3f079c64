from openpyxl import load_workbook

from branchbook.cli import main


def test_demo_makes_fills_and_drops_returns(tmp_path, capsys):
    home = tmp_path / "demo"
    assert main(["demo", str(home)]) == 0
    out = capsys.readouterr().out
    inbox = sorted(p.name for p in (home / "inbox").glob("*.xlsx"))
    assert len(inbox) == 7 and "生医教工党支部_第3周.xlsx" not in inbox
    assert "演示台账" in out
    filled = load_workbook(home / "inbox" / "院机关支部_第3周.xlsx")
    assert filled["学习活动"]["A2"].value == "S1" and filled["出勤"]["C2"].value in {"出席", "缺席", "请假"}
    # A second run replaces the earlier demo rather than refusing.
    assert main(["demo", str(home)]) == 0


def test_demo_does_not_replace_a_real_home(tmp_path, capsys):
    assert main(["init", str(tmp_path / "real")]) == 0
    assert main(["demo", str(tmp_path / "real")]) == 2
    assert (tmp_path / "real" / "master.xlsx").exists()
