"""BranchBook.xlam as built: its ribbon against Microsoft's schema, its VBA read back by olevba, its
buttons mapped to the macros, and the committed binary being the build script's output."""
from __future__ import annotations

import hashlib
import importlib.util
import re
import warnings
import zipfile
from io import BytesIO
from pathlib import Path

import olefile
import pytest
import xlwings as xw
from lxml import etree
from xlwings_remote import apply_actions, book_from_file

from branchbook.addin import dispatch, macros

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # olevba 0.60 calls pyparsing's old names as it loads
    from oletools.olevba import VBA_Parser, decompress_stream

ROOT = Path(__file__).resolve().parent.parent
XLAM = ROOT / "addin" / "BranchBook.xlam"
VBA_SOURCE = ROOT / "addin" / "BranchBook.bas"
SCHEMA = Path(__file__).parent / "data" / "customUI14.xsd"
CUSTOM_UI = "{http://schemas.microsoft.com/office/2009/07/customui}"
XS = "{http://www.w3.org/2001/XMLSchema}"
# sha256sum addin/BranchBook.xlam, after `python tools/build_addin.py` (docs/addin.md: changing the add-in)
XLAM_SHA256 = "77642e5722ca74209123661a3b6d2b2402839033305cf8429a49e4330c3025ac"


def _build_tool():
    spec = importlib.util.spec_from_file_location("build_addin", ROOT / "tools" / "build_addin.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _schema() -> etree.XMLSchema:
    """Microsoft's customUI14.xsd as lxml accepts it: libxml2 refuses an attribute declared both in a
    base type and again in a type extending it, so the repeat (in the extending type) is dropped."""
    tree = etree.parse(str(SCHEMA))
    for _ in range(50):
        try:
            return etree.XMLSchema(tree)
        except etree.XMLSchemaParseError as error:
            found = re.search(r"complex type '(\w+)': Duplicate attribute use '(\w+)'", str(error))
            if not found:
                raise
            type_name, attribute = found.groups()
            groups = {g.get("name") for g in tree.iter(XS + "attributeGroup")
                      if g.get("name") and any(a.get("name") == attribute for a in g.iter(XS + "attribute"))}
            extending = tree.find(f"{XS}complexType[@name='{type_name}']")
            repeats = [r for r in extending.iter(XS + "attributeGroup") if r.get("ref") in groups]
            repeats += [a for a in extending.iter(XS + "attribute") if a.get("name") == attribute]
            repeats[0].getparent().remove(repeats[0])
    raise AssertionError("customUI14.xsd still does not load")


def _part(name: str) -> bytes:
    with zipfile.ZipFile(XLAM) as xlam:
        return xlam.read(name)


def _ribbon() -> etree._Element:
    return etree.fromstring(_part("customUI/customUI14.xml"))


def _vba_modules() -> dict[str, str]:
    """Each module's code as olevba reads it from the add-in."""
    parser = VBA_Parser(str(XLAM))
    try:
        return {Path(name).stem: code for _, _, name, code in parser.extract_macros()}
    finally:
        parser.close()


def _module_streams() -> dict[str, bytes]:
    """Each VBA module's source bytes (LibreOffice writes no compiled code: the source starts at 0)."""
    project = olefile.OleFileIO(_part("xl/vbaProject.bin"))
    streams = [entry for entry in project.listdir() if entry[0] == "VBA" and entry[1] not in ("dir", "_VBA_PROJECT")]
    return {entry[1]: bytes(decompress_stream(bytearray(project.openstream(entry).read()))) for entry in streams}


def test_the_ribbon_validates_against_microsofts_customui14_schema():
    schema = _schema()
    ribbon = _ribbon()
    assert schema.validate(ribbon), schema.error_log
    rels = _part("_rels/.rels").decode()
    assert ('Type="http://schemas.microsoft.com/office/2007/relationships/ui/extensibility" '
            'Target="customUI/customUI14.xml"') in rels
    broken = etree.fromstring(etree.tostring(ribbon).replace(b"onAction=", b"onaction="))
    assert not schema.validate(broken)  # the schema does check attribute names


def test_the_tab_has_the_five_buttons_with_chinese_labels_and_office_icons():
    ribbon = _ribbon()
    assert [tab.get("label") for tab in ribbon.iter(CUSTOM_UI + "tab")] == ["台账"]
    buttons = [(b.get("label"), b.get("tag")) for b in ribbon.iter(CUSTOM_UI + "button")]
    assert buttons == [("校验", "validate"), ("刷新提醒", "refresh_flags"), ("生成周报模板", "make_returns"),
                       ("立即合并", "merge_now"), ("生成简报", "bulletin")]
    assert all(b.get("imageMso") for b in ribbon.iter(CUSTOM_UI + "button"))
    assert dispatch.button_tags() == tuple(tag for _, tag in buttons)  # the shipped XML is the built one
    assert (ROOT / "addin" / "customUI14.xml").read_bytes() == _part("customUI/customUI14.xml")


def test_every_button_tag_names_a_function_of_the_macros():
    for tag in dispatch.button_tags():
        assert callable(getattr(macros, tag, None)), tag


def test_every_onaction_names_a_sub_olevba_finds_in_the_addin():
    modules = _vba_modules()
    assert set(modules) == {"BranchBook", "xlwings", "ThisWorkbook", "Sheet2"}
    subs = {name for code in modules.values()
            for name in re.findall(r"^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(", code, flags=re.MULTILINE | re.IGNORECASE)}
    actions = {b.get("onAction") for b in _ribbon().iter(CUSTOM_UI + "button")}
    assert actions == {"BranchBookButton"} and actions <= subs
    assert re.search(r"^Sub BranchBookButton\(control As IRibbonControl\)\r?$", modules["BranchBook"], flags=re.MULTILINE)
    assert "Function RunPython(" in modules["xlwings"]
    assert 'PROJECT_NAME As String = "xlwings"' in modules["xlwings"]  # reads ~/.xlwings/xlwings.conf


def test_the_vba_text_has_crlf_line_endings_and_is_the_committed_source():
    streams = _module_streams()
    for name, code in streams.items():
        assert code.count(b"\n") == code.count(b"\r\n") > 0, name
        assert b"\r\r" not in code, name
    source = VBA_SOURCE.read_bytes()
    assert source.count(b"\n") == source.count(b"\r\n")
    assert streams["BranchBook"].rstrip(b"\r\n") == source.rstrip(b"\r\n")


def test_the_vba_project_says_code_page_936_and_references_the_office_library():
    project = olefile.OleFileIO(_part("xl/vbaProject.bin"))
    info = bytes(decompress_stream(bytearray(project.openstream(["VBA", "dir"]).read())))
    at = info.index(b"\x03\x00\x02\x00\x00\x00")  # PROJECTCODEPAGE: id 3, size 2 (MS-OVBA 2.3.4.2.1.4)
    assert int.from_bytes(info[at + 6:at + 8], "little") == 936
    assert b"{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}" in info  # Office's object library: IRibbonControl
    assert b'Name="BranchBook"' in project.openstream("PROJECT").read()


def test_the_committed_addin_is_the_build_scripts_output():
    built = _build_tool().build()
    assert hashlib.sha256(built).hexdigest() == XLAM_SHA256
    assert hashlib.sha256(XLAM.read_bytes()).hexdigest() == XLAM_SHA256
    with zipfile.ZipFile(BytesIO(built)) as xlam:
        names = xlam.namelist()
        assert names[0] == "[Content_Types].xml" and names[1:] == sorted(names[1:])
        assert "customUI/customUI.xml" not in names
        assert b"application/vnd.ms-excel.addin.macroEnabled.main+xml" in xlam.read("[Content_Types].xml")


@pytest.mark.libreoffice
def test_libreoffice_writes_the_committed_vba_project_again_but_for_its_random_project_id(soffice):
    """The LibreOffice step is not reproducible in one stream (PROJECT: a random ID and random
    protection seeds); every other stream must come out byte for byte as committed."""
    fresh = olefile.OleFileIO(_build_tool().build_vba(soffice))
    committed = olefile.OleFileIO((ROOT / "addin" / "vbaProject.bin").read_bytes())
    assert fresh.listdir() == committed.listdir()
    for entry in committed.listdir():
        new, old = fresh.openstream(entry).read(), committed.openstream(entry).read()
        if entry == ["PROJECT"]:
            random = re.compile(rb'^(ID|CMG|DPB|GC)="[^"]*"\r$', flags=re.MULTILINE)
            new, old = random.sub(rb'\1=""\r', new), random.sub(rb'\1=""\r', old)
        assert new == old, entry


def test_the_dispatcher_runs_the_macro_a_tag_names(demo_home, tmp_path, monkeypatch):
    book = book_from_file(demo_home.master)
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    dispatch.run("validate")  # what it returns is the macro's (tests/test_macros.py)
    alerts = apply_actions(demo_home.master, book.json()["actions"], tmp_path / "after.xlsx")
    assert alerts[-1][:2] == ["校验通过，没有发现问题。", "BranchBook"]


def test_a_tag_the_installed_branchbook_does_not_know_is_said_not_raised(demo_home, tmp_path, monkeypatch):
    book = book_from_file(demo_home.master)
    monkeypatch.setattr(xw.Book, "caller", staticmethod(lambda: book))
    assert dispatch.run("print_badges") is None
    alerts = apply_actions(demo_home.master, book.json()["actions"], tmp_path / "after.xlsx")
    assert alerts == [["已安装的 BranchBook 不认识这个按钮（print_badges）：请重新运行 `branchbook addin install`。",
                       "BranchBook", "ok", "", ""]]
