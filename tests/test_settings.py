"""One model of the settings (workbook/settings.py): HOME's branchbook.yaml and schemas/rules.yaml, with
defaults in one place, merged key by key, and anything unknown or wrong refused at load, naming key and file."""
from __future__ import annotations

import re
import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from branchbook.cli import Exit, main
from branchbook.workbook.calendar import Campaign
from branchbook.workbook.campaign_definition import load_definition
from branchbook.workbook.errors import UserError
from branchbook.workbook.flags import compute_flags, study_targets
from branchbook.workbook.home import CONFIG_NAME, Home, create_home
from branchbook.workbook.schema import load_schemas
from branchbook.workbook.settings import (
    MailSection,
    Settings,
    SyncSettings,
    load_settings,
    packaged_rules,
    rules_reference,
    setting_paths,
    settings_reference,
)
from branchbook.workbook.texts import guide_lines

ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = ROOT / "schemas"


def _home_with(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "台账"
    root.mkdir()
    (root / CONFIG_NAME).write_text(text, encoding="utf-8")
    return root


def _refused(tmp_path: Path, text: str) -> tuple[UserError, Path]:
    root = _home_with(tmp_path, text)
    with pytest.raises(UserError) as caught:
        Home.open(root)
    return caught.value, root / CONFIG_NAME


# -- refused at load, naming the key and the file ----------------------------------------------------------

def test_a_misspelt_key_is_refused_with_its_path_the_file_and_the_known_keys(tmp_path):
    error, path = _refused(tmp_path, "sync:\n  polls_seconds: 2\n")
    message = error.message()
    assert error.key == "setting-unknown"
    assert str(path) in message and "sync.polls_seconds" in message and "不是可识别的设置" in message
    assert "poll_seconds、stable_polls" in message and "是否应为 poll_seconds" in message
    assert "sync.polls_seconds" in error.message("en") and str(path) in error.message("en")


def test_a_misspelt_top_level_key_is_refused(tmp_path):
    error, path = _refused(tmp_path, "langauge: en\n")
    assert "langauge" in error.message() and str(path) in error.message()


@pytest.mark.parametrize("text,where,why", [
    ("sync:\n  poll_seconds: fast\n", "sync.poll_seconds", "数字"),
    ("sync:\n  polling: 'yes'\n", "sync.polling", "true 或 false"),
    ("sync:\n  stable_polls: 1.5\n", "sync.stable_polls", "整数"),
    ("sync: [1, 2]\n", "sync", "设置"),
    ("mail:\n  imap: {host: imap.example.edu.cn, port: '993'}\n", "mail.imap.port", "整数"),
    ("mail:\n  imap: {port: 993}\n", "mail.imap.host", "缺少设置"),
    ("master: 台账/master.xlsx\n", "master", ".xlsx"),
])
def test_a_value_of_the_wrong_type_is_refused(tmp_path, text, where, why):
    error, path = _refused(tmp_path, text)
    assert where in error.message() and str(path) in error.message() and why in error.message()


@pytest.mark.parametrize("key", ["poll_seconds", "rescan_seconds", "debounce_seconds", "backup_minutes",
                                 "master_check_seconds"])
def test_negative_seconds_are_refused(tmp_path, key):
    error, path = _refused(tmp_path, f"sync:\n  {key}: -5\n")
    assert error.key == "setting-bad"
    assert f"sync.{key}" in error.message() and str(path) in error.message() and "-5" in error.message()
    assert f"sync.{key}" in error.message("en")


def test_keeping_no_backups_is_refused(tmp_path):
    error, _ = _refused(tmp_path, "sync:\n  backups_kept: 0\n")
    assert "sync.backups_kept" in error.message() and "不小于 1" in error.message()


def test_an_unknown_language_is_refused(tmp_path):
    error, path = _refused(tmp_path, "lang: fr\n")
    assert "lang" in error.message() and "“fr”" in error.message() and "zh、en" in error.message()
    assert str(path) in error.message()


@pytest.mark.parametrize("value", ["三月三十日", "2005-13-40", "2005/03/30"])
def test_a_bad_as_of_is_refused(tmp_path, value):
    error, path = _refused(tmp_path, f"as_of: '{value}'\n")
    assert "as_of" in error.message() and value in error.message() and "2005-03-30" in error.message()
    assert str(path) in error.message()


def test_a_file_that_is_not_yaml_or_not_a_mapping_is_refused(tmp_path):
    error, path = _refused(tmp_path, "sync:\n  poll_seconds: 1\n bad indent: [\n")
    assert error.key == "setting-file" and str(path) in error.message() and "YAML" in error.message()
    other = tmp_path / "second"
    other.mkdir()
    error, path = _refused(other, "- lang\n- zh\n")
    assert error.key == "setting-file" and str(path) in error.message()


def test_a_home_built_in_code_is_checked_too(tmp_path):
    with pytest.raises(UserError, match="sync.poll_seconds"):
        Home(tmp_path, {"sync": {"poll_seconds": -1}})


# -- defaults in one place, merged key by key ----------------------------------------------------------------

def test_a_partial_sync_section_keeps_the_other_defaults(tmp_path):
    home = Home.open(_home_with(tmp_path, "sync:\n  polling: true\nmail:\n  poll_seconds: 30\n"))
    assert home.settings.sync == SyncSettings(polling=True)
    assert home.settings.sync.poll_seconds == 1.0 and home.settings.sync.backups_kept == 20
    assert home.settings.sync.quiet_seconds == home.settings.sync.poll_seconds
    assert home.settings.mail == MailSection(poll_seconds=30.0)
    assert home.settings.mail.folder == "INBOX" and not home.settings.mail.enabled


def test_the_defaults_load_as_before(tmp_path):
    settings = Settings()
    assert (settings.lang, settings.master, settings.college, settings.as_of) == ("zh", "master.xlsx", "学院", None)
    sync = settings.sync
    assert (sync.poll_seconds, sync.stable_polls, sync.rescan_seconds, sync.quiet_seconds, sync.polling,
            sync.backups_kept, sync.backup_minutes, sync.master_check_seconds) == (1.0, 2, 30.0, 1.0, False, 20, 10.0,
                                                                                    5.0)
    assert not settings.mail.enabled and settings.mail.password_env == "BRANCHBOOK_MAIL_PASSWORD"
    home = create_home(tmp_path / "new", "en")
    opened = Home.open(home.root)
    assert opened.settings == Settings(lang="en") and opened.lang == "en"
    assert opened.master == home.root / "master.xlsx" and opened.as_of == date.today()
    assert load_settings(None, "empty.yaml") == Settings()


def test_what_the_sync_service_and_backups_read_comes_from_the_model(tmp_path):
    home = Home.open(_home_with(tmp_path, "as_of: 2005-03-30\nsync:\n  debounce_seconds: 0.25\n  backups_kept: 3\n"))
    assert home.as_of == date(2005, 3, 30)
    assert home.settings.sync.quiet_seconds == 0.25 and home.settings.sync.backups_kept == 3
    assert home.config == {"as_of": date(2005, 3, 30), "sync": {"debounce_seconds": 0.25, "backups_kept": 3}}


def test_mail_from_is_read_under_its_own_name(tmp_path):
    home = Home.open(_home_with(tmp_path, "mail:\n  enabled: true\n  from: office@example.edu.cn\n"
                                          "  smtp: {host: 127.0.0.1, port: 2525, security: none, user: null}\n"))
    assert home.settings.mail.sender == "office@example.edu.cn"
    assert home.settings.mail.smtp.port == 2525 and home.settings.mail.imap is None


# -- the rules ------------------------------------------------------------------------------------------------

def _copy_schemas(tmp_path: Path) -> Path:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    return folder


def _edit_rules(folder: Path, edit) -> None:
    rules = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    edit(rules)
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")


def test_a_misspelt_threshold_in_a_custom_rules_file_is_refused_at_load(tmp_path):
    folder = _copy_schemas(tmp_path)
    _edit_rules(folder, lambda rules: rules["thresholds"].update(
        absence_in_row=rules["thresholds"].pop("absences_in_row")))
    with pytest.raises(UserError) as caught:
        load_schemas(folder)
    message = caught.value.message()
    assert "thresholds.absence_in_row" in message and str(folder / "rules.yaml") in message
    assert "是否应为 absences_in_row" in message


@pytest.mark.parametrize("edit,where", [
    (lambda rules: rules["thresholds"].pop("return_grace_days"), "thresholds.return_grace_days"),
    (lambda rules: rules["thresholds"].update(attendance_rate_min=80), "thresholds.attendance_rate_min"),
    (lambda rules: rules["limits"].update(max_file_mb="20MB"), "limits.max_file_mb"),
    (lambda rules: rules["levels"].update(urge_after_weeks=-1), "levels.urge_after_weeks"),
    (lambda rules: rules["thresholds"].update(thinking_questions=99), "thresholds.thinking_questions"),
])
def test_a_missing_or_bad_rule_is_refused_at_load(tmp_path, edit, where):
    folder = _copy_schemas(tmp_path)
    _edit_rules(folder, edit)
    with pytest.raises(UserError, match=re.escape(where)):
        load_schemas(folder)


def test_the_packaged_rules_are_the_file_and_old_readers_still_work():
    raw = yaml.safe_load((SCHEMAS / "rules.yaml").read_text(encoding="utf-8"))
    schemas = load_schemas()
    for section, values in raw.items():
        for key, value in values.items():
            loaded = getattr(getattr(schemas.rules, section), key)
            assert loaded == (tuple(value) if isinstance(value, list) else value), f"{section}.{key}"
            assert schemas.rules[section][key] == loaded  # the mapping-style readers not yet switched
    assert schemas.threshold("opinions_min_people") == raw["thresholds"]["opinions_min_people"]
    with pytest.raises(KeyError, match="no threshold 'opinions_min_peple'"):
        schemas.threshold("opinions_min_peple")


# -- the phases' targets, and numbers never repeated in prose -------------------------------------------------

START = date(2005, 3, 7)
PHASES = [
    {"phase_id": "P1", "name": "学习动员", "start": START, "end": START + timedelta(days=27), "target_hours": None},
    {"phase_id": "P2", "name": "分析评议", "start": START + timedelta(days=28), "end": START + timedelta(days=55),
     "target_hours": None},
]


def _tables(phases):
    # Every week's return merged on the day the week ends: what is known runs to the as-of day.
    returns = [{"branch_id": "B1", "week": w, "result": "merged",
                "received_at": f"{START + timedelta(days=7 * w - 1)} 18:00:00"} for w in range(1, 9)]
    return {"phases": phases, "committee": [], "members": [{"member_id": "A", "name": "甲", "branch_id": "B1"}],
            "branches": [{"branch_id": "B1", "name": "一支部", "kind": "staff", "secretary": "乙"}], "returns": returns}


def _no_data_shortfall(phases, as_of):
    [flag] = [f for f in compute_flags(_tables(phases), as_of) if f.rule == "no-data"]
    return flag.shortfall("zh")


def test_without_phase_targets_the_campaign_definitions_count():
    definition = load_schemas().campaign
    [(number, hours)] = definition.targets()  # the packaged campaign: its first phase's 40 hours
    [(phase, target)] = study_targets(Campaign.from_records(PHASES), definition)
    assert (phase.phase_id, target) == (f"P{number}", hours)
    assert _no_data_shortfall(PHASES, START + timedelta(days=6)) == f"还差 {hours:g} 学时"
    two = load_definition({"name": "两段", "phases": [{"name": "学习动员", "weeks": 4, "target_hours": 24},
                                                      {"name": "分析评议", "weeks": 4, "target_hours": 16}]}, "campaign.yaml")
    assert [(p.phase_id, t) for p, t in study_targets(Campaign.from_records(PHASES), two)] == [("P1", 24), ("P2", 16)]
    assert [t for _, t in study_targets(Campaign.from_records(PHASES[:1]), two)] == [24]  # a phase the sheet lacks


def test_a_colleges_former_rules_target_is_read_as_its_first_phases_and_said(tmp_path, capsys):
    """rules.yaml's campaign.target_hours is retired (the campaign's definition holds the targets); a branchbook.yaml
    that still sets it keeps its number, as the first phase's target, and `campaign list` says where it belongs."""
    assert "campaign" not in packaged_rules()
    root = tmp_path / "台账"
    assert main(["init", str(root)]) == Exit.OK
    config = yaml.safe_load((root / CONFIG_NAME).read_text(encoding="utf-8"))
    (root / CONFIG_NAME).write_text(yaml.safe_dump({**config, "rules": {"campaign": {"target_hours": 32}}}),
                                    encoding="utf-8")
    home = Home.open(root)
    assert [t for _, t in study_targets(Campaign.from_records(PHASES), home.schemas.campaign)] == [32]
    phases = tmp_path / "阶段.csv"  # the office's phases, without 目标学时: the definition's targets count, and are said
    phases.write_text("阶段编号,阶段名称,开始日期,结束日期\nP1,学习动员,2005-03-07,2005-04-03\n", encoding="utf-8")
    assert main(["import", str(root), str(phases)]) == Exit.OK
    capsys.readouterr()
    assert main(["campaign", "list", str(root)]) == Exit.OK
    said = capsys.readouterr().out
    assert "branchbook.yaml 仍设置了 rules.campaign.target_hours（32）" in said
    assert "“阶段”表中没有一个阶段填了目标学时：以活动定义中的为准（第1阶段 32 学时）" in said
    (root / CONFIG_NAME).write_text(yaml.safe_dump({**config, "rules": {"campaign": {"target_hours": "四十"}}}),
                                    encoding="utf-8")
    with pytest.raises(UserError) as refused:
        Home.open(root)
    assert "rules.campaign" in refused.value.message("zh") and "campaign.yaml" in refused.value.message("zh")


def test_the_phases_sheet_targets_win_and_add_up():
    phases = [{**PHASES[0], "target_hours": 24}, {**PHASES[1], "target_hours": 16}]
    assert [t for _, t in study_targets(Campaign.from_records(phases), load_schemas().rules)] == [24.0, 16.0]
    assert _no_data_shortfall(phases, START + timedelta(days=6)) == "还差 40 学时"
    tables = _tables(phases)
    tables["selfstudy"] = [{"member_id": "A", "date": START + timedelta(days=1), "hours": 12}]
    as_of = START + timedelta(days=27)  # the end of P1: 24 hours due, 12 done
    [flag] = [f for f in compute_flags(tables, as_of) if f.rule == "study-hours"]
    assert "应达 24.0" in flag.detail("zh") and flag.shortfall("zh").startswith("还差 28 学时")


def test_a_member_who_joined_after_a_phase_is_not_measured_against_it():
    phases = [{**PHASES[0], "target_hours": 24}, PHASES[1]]
    tables = _tables(phases)
    tables["members"][0]["joined"] = PHASES[1]["start"]
    assert not [f for f in compute_flags(tables, START + timedelta(days=40)) if f.rule in ("no-data", "study-hours")]


def test_the_returns_guide_quotes_the_schemas_bounds(tmp_path):
    folder = _copy_schemas(tmp_path)
    master = yaml.safe_load((folder / "master.yaml").read_text(encoding="utf-8"))
    for sheet in master["sheets"]:
        for field in sheet["fields"]:
            if sheet["key"] in ("sessions", "selfstudy") and field["key"] == "hours":
                field["maximum"] = 10
            if sheet["key"] == "inspections" and field["key"] == "questions":
                field["maximum"] = 9
    (folder / "master.yaml").write_text(yaml.safe_dump(master, allow_unicode=True), encoding="utf-8")
    values = {"branch": "一支部", "week": 1, "start": "03-07", "end": "03-13", "sessions": 4}
    assert "学时 0.5–10，思考题完成数 0–9" in "".join(guide_lines("zh", load_schemas(folder), **values))
    assert "hours 0.5–12, questions 0–8" in "".join(guide_lines("en", **values))


def test_no_number_of_the_rules_is_written_into_the_prose():
    """The texts that mention the target, the questions or the people asked take them from the schemas."""
    for name in ("workbook/texts.py", "workbook/reports/bulletin.py"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert not re.search(r"0\.5–12|0–8|目标 40|40 ?学时|8 ?个思考题|三位|3 ?位", text), name


# -- the CLI and the docs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["flags", "status", "merge"])
def test_a_command_on_a_home_with_a_bad_config_exits_2_with_the_message(tmp_path, capsys, command):
    root = _home_with(tmp_path, "lang: zh\nsync:\n  polls_seconds: 2\n")
    assert main([command, str(root)]) == Exit.UNUSABLE
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert "sync.polls_seconds" in err and str(root / CONFIG_NAME) in err and "不是可识别的设置" in err


def test_the_docs_list_every_key_with_the_models_default():
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert settings_reference() in docs, "run .venv/bin/python -m branchbook.workbook.settings and paste its tables"
    assert rules_reference() in docs
    documented = set(re.findall(r"^\| `([a-z_.]+)`", docs, re.MULTILINE))
    assert {p for p in setting_paths() if p not in ("sync", "mail", "intake")} <= documented


def test_the_docs_example_is_a_valid_branchbook_yaml():
    docs = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    [example] = re.findall(r"```yaml\n(.*?)```", docs, re.DOTALL)
    settings = load_settings(yaml.safe_load(example), "docs/configuration.md")
    assert settings.mail.enabled and settings.sync.polling and settings.sync.poll_seconds == 1.0


# -- a HOME's own rules: the `rules:` section of branchbook.yaml ----------------------------------------------

def test_a_homes_rules_section_overrides_rules_yaml_key_by_key(tmp_path):
    from branchbook.workbook.home import Home

    root = _home_with(tmp_path, "lang: zh\nrules:\n  thresholds:\n    hours_tolerance: 3\n  levels:\n"
                                "    escalate_after_weeks: 2\n")
    home = Home.open(root)
    packaged = load_schemas().rules
    assert home.schemas.rules.thresholds.hours_tolerance == 3 and packaged.thresholds.hours_tolerance == 2
    assert home.schemas.rules.levels.escalate_after_weeks == 2
    assert home.schemas.rules.thresholds.attendance_rate_min == packaged.thresholds.attendance_rate_min  # kept
    assert home.schemas.rules.limits == packaged.limits


@pytest.mark.parametrize("section,named,says", [
    ("  thresholds:\n    hours_tolrance: 3\n", "rules.thresholds.hours_tolrance", "不是可识别的设置"),
    ("  thresholds:\n    attendance_rate_min: 80\n", "rules.thresholds.attendance_rate_min", "不大于 1"),
    ("  levels:\n    urge_after_weeks: soon\n", "rules.levels.urge_after_weeks", "“soon”不对"),
])
def test_a_wrong_key_or_value_in_the_rules_section_is_named(tmp_path, capsys, section, named, says):
    root = _home_with(tmp_path, "lang: zh\nrules:\n" + section)
    assert main(["flags", str(root)]) == Exit.UNUSABLE
    err = capsys.readouterr().err
    assert named in err and str(root / CONFIG_NAME) in err and says in err and "Traceback" not in err
