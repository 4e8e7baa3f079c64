from pathlib import Path

import pytest
import yaml

from branchbook.workbook.schema import SchemaError, load_schemas

SCHEMAS = Path(__file__).resolve().parents[1] / "schemas"


def test_every_coded_field_has_its_code_list_in_both_languages():
    schemas = load_schemas()
    for sheet in schemas.master:
        for field in sheet.fields:
            if field.type == "enum":
                assert field.codes is not None
                assert all(code.label("zh") and code.label("en") for code in field.codes.codes)


def test_code_lists_read_either_language_back():
    status = load_schemas().codes["attendance_status"]
    assert status.parse("出席") == status.parse("Present") == "present"
    assert status.parse("出息") is None


def _copy_schemas(tmp_path: Path) -> Path:
    folder = tmp_path / "schemas"
    folder.mkdir()
    for path in SCHEMAS.glob("*.yaml"):
        (folder / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return folder


def test_a_threshold_is_an_edit_to_schemas_alone(tmp_path):
    folder = _copy_schemas(tmp_path)
    rules = yaml.safe_load((folder / "rules.yaml").read_text(encoding="utf-8"))
    rules["thresholds"]["opinions_min_people"] = 5
    (folder / "rules.yaml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")
    assert load_schemas(folder).threshold("opinions_min_people") == 5


def test_a_new_column_is_an_edit_to_schemas_alone(tmp_path):
    folder = _copy_schemas(tmp_path)
    master = yaml.safe_load((folder / "master.yaml").read_text(encoding="utf-8"))
    members = next(s for s in master["sheets"] if s["key"] == "members")
    members["fields"].append({"key": "wechat", "label": {"zh": "微信号", "en": "WeChat"}, "type": "string"})
    (folder / "master.yaml").write_text(yaml.safe_dump(master, allow_unicode=True), encoding="utf-8")
    assert "wechat" in load_schemas(folder).sheet("members").keys


def test_a_broken_schema_is_a_schema_error_not_a_data_finding(tmp_path):
    folder = _copy_schemas(tmp_path)
    master = yaml.safe_load((folder / "master.yaml").read_text(encoding="utf-8"))
    master["sheets"][3]["fields"][4]["codes"] = "no_such_codes"
    (folder / "master.yaml").write_text(yaml.safe_dump(master, allow_unicode=True), encoding="utf-8")
    with pytest.raises(SchemaError, match="no_such_codes"):
        load_schemas(folder)
