"""Build BranchBook.xlam, the 台账 ribbon add-in, from xlwings' ribbon add-in template (docs/addin.md).

Two steps, because LibreOffice's VBA export is not reproducible (each save writes a random project ID
and random protection seeds into the PROJECT stream; every other stream comes out the same):

    python tools/build_addin.py vba    LibreOffice headless writes addin/vbaProject.bin (committed)
    python tools/build_addin.py        template + addin/vbaProject.bin + addin/customUI14.xml
                                       -> addin/BranchBook.xlam, byte for byte the same each time

The VBA project: LibreOffice opens the template (as .xlsm: it does not load an .xlam) with its VBA
as Basic in VBA mode, the library is renamed to the project name (LibreOffice exports the library
named like the project), the code page set to 936, the template's sample module and its Mac-only Dictionary class are dropped
(LibreOffice writes no Class= line for a class module), the xlwings module reads the user's
~/.xlwings/xlwings.conf (PROJECT_NAME "xlwings" instead of the sample's "myaddin"), our one module
(addin/BranchBook.bas) is added, and the workbook is saved with the "Calc MS Excel 2007 VBA XML"
filter, which writes xl/vbaProject.bin from the Basic modules.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from io import BytesIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADDIN = ROOT / "addin"
VBA_SOURCE = ADDIN / "BranchBook.bas"
VBA_PROJECT = ADDIN / "vbaProject.bin"
RIBBON = ADDIN / "customUI14.xml"
XLAM = ADDIN / "BranchBook.xlam"

XLWINGS_VERSION = "0.37.8"  # the template's VBA calls xlwings64-0.37.8.dll: the office's xlwings must be this one
TEMPLATE_NAME = "quickstart_addin_ribbon.xlam"
TEMPLATE_PROJECT = "MyAddin"  # the template's VBA project (and LibreOffice library) name
PROJECT = "BranchBook"
DROPPED_MODULES = ("RibbonMyAddin", "Dictionary")
# The project's code page: 936, a Chinese Windows' own. LibreOffice writes the code page of the library
# container's VBATextEncoding (an rtl_TextEncoding; 61 is RTL_TEXTENCODING_MS_936 in its rtl/textenc.h);
# left unset it takes its process encoding and wrote 0 here, whatever the locale.
VBA_TEXT_ENCODING = 61
CODE_PAGE = 936
CONFIG_LINE = ('PROJECT_NAME As String = "myaddin"', 'PROJECT_NAME As String = "xlwings"')

RIBBON_PART = "customUI/customUI14.xml"
TEMPLATE_RIBBON_PART = "customUI/customUI.xml"
RIBBON_REL_TYPE = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"  # the customUI14 part's
ADDIN_CONTENT_TYPE = b"application/vnd.ms-excel.addin.macroEnabled.main+xml"
MACRO_BOOK_CONTENT_TYPE = b"application/vnd.ms-excel.sheet.macroEnabled.main+xml"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)

# LibreOffice Basic, run headless from a throw-away profile: the steps of the module docstring.
_BUILD_MACRO = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Module1" script:language="StarBasic">
Function ReadText(sPath As String) As String
    Dim oSfa As Object, oIn As Object, oText As Object, s As String
    oSfa = createUnoService("com.sun.star.ucb.SimpleFileAccess")
    oIn = oSfa.openFileRead(ConvertToURL(sPath))
    oText = createUnoService("com.sun.star.io.TextInputStream")
    oText.setInputStream(oIn)
    oText.setEncoding("UTF-8")
    Do While Not oText.isEOF()
        s = s &amp; oText.readLine() &amp; Chr(10)
    Loop
    oText.closeInput()
    ReadText = s
End Function

Sub Main
    On Error GoTo Fail
    Dim aArgs(0) As New com.sun.star.beans.PropertyValue
    Dim aSave(0) As New com.sun.star.beans.PropertyValue
    Dim oDoc As Object, oLibs As Object, oLib As Object, aNames, i As Integer, sCode As String
    aArgs(0).Name = "Hidden" : aArgs(0).Value = True
    oDoc = StarDesktop.loadComponentFromURL(ConvertToURL(Environ("BB_TEMPLATE")), "_blank", 0, aArgs())
    oLibs = oDoc.BasicLibraries
    oLibs.renameLibrary(Environ("BB_TEMPLATE_PROJECT"), Environ("BB_PROJECT"))
    oLibs.ProjectName = Environ("BB_PROJECT")
    oLibs.setPropertyValue("VBATextEncoding", CInt(Environ("BB_TEXT_ENCODING")))
    oLib = oLibs.getByName(Environ("BB_PROJECT"))
    aNames = Split(Environ("BB_DROP"), ";")
    For i = 0 To UBound(aNames)
        oLib.removeModuleInfo(aNames(i))
        oLib.removeByName(aNames(i))
    Next i
    sCode = oLib.getByName("xlwings")
    If InStr(sCode, Environ("BB_FIND")) = 0 Then Error 1001
    oLib.replaceByName("xlwings", Replace(sCode, Environ("BB_FIND"), Environ("BB_REPLACE")))
    Dim oInfo As New com.sun.star.script.ModuleInfo
    oInfo.ModuleType = com.sun.star.script.ModuleType.NORMAL
    oLib.insertModuleInfo(Environ("BB_MODULE"), oInfo)
    oLib.insertByName(Environ("BB_MODULE"), "Rem Attribute VBA_ModuleType=VBAModule" &amp; Chr(10) &amp; "Option VBASupport 1" &amp; Chr(10) &amp; ReadText(Environ("BB_MODULE_FILE")))
    aSave(0).Name = "FilterName" : aSave(0).Value = "Calc MS Excel 2007 VBA XML"
    oDoc.storeToURL(ConvertToURL(Environ("BB_OUT")), aSave())
    oDoc.close(True)
    Exit Sub
Fail:
    Dim n As Integer
    n = FreeFile
    Open Environ("BB_OUT") &amp; ".err" For Output As #n
    Print #n, "line " &amp; Erl &amp; ": " &amp; Err &amp; " " &amp; Error$
    Close #n
    If Not IsNull(oDoc) Then oDoc.close(True)
End Sub
</script:module>
"""


class BuildError(Exception):
    pass


def template_path() -> Path:
    import xlwings

    if xlwings.__version__ != XLWINGS_VERSION:
        raise BuildError(f"xlwings {xlwings.__version__} is installed; the add-in is built from {XLWINGS_VERSION}'s template")
    return Path(xlwings.__file__).parent / TEMPLATE_NAME


def vba_module(source: Path = VBA_SOURCE) -> tuple[str, str]:
    """The module's name (its Attribute VB_Name) and its code without that line, with LF endings
    (LibreOffice writes VB_Name itself and turns each LF into CRLF)."""
    lines = source.read_bytes().decode("ascii").replace("\r\n", "\n").split("\n")
    first = lines[0]
    if not first.startswith('Attribute VB_Name = "'):
        raise BuildError(f"{source} must start with its Attribute VB_Name line")
    return first.split('"')[1], "\n".join(lines[1:])


def _as_macro_book(template: bytes) -> bytes:
    """The template as an .xlsm: LibreOffice opens a macro workbook, not an add-in."""
    out = BytesIO()
    with zipfile.ZipFile(BytesIO(template)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(ADDIN_CONTENT_TYPE, MACRO_BOOK_CONTENT_TYPE)
            target.writestr(item.filename, data)
    return out.getvalue()


def build_vba(soffice: str = "soffice", timeout: float = 180) -> bytes:
    """xl/vbaProject.bin written by LibreOffice headless (see the module docstring)."""
    name, code = vba_module()
    with tempfile.TemporaryDirectory(prefix="branchbook-addin-") as folder:
        work = Path(folder)
        profile = (work / "profile").as_uri()
        run = [soffice, "--headless", "--norestore", f"-env:UserInstallation={profile}"]
        subprocess.run([*run, "--terminate_after_init"], check=True, capture_output=True, timeout=timeout)
        (work / "profile/user/basic/Standard/Module1.xba").write_text(_BUILD_MACRO, encoding="utf-8")
        (work / "template.xlsm").write_bytes(_as_macro_book(template_path().read_bytes()))
        (work / "module.bas").write_text(code, encoding="ascii", newline="\n")
        out = work / "built.xlsm"
        env = {**os.environ, "BB_TEMPLATE": str(work / "template.xlsm"), "BB_TEMPLATE_PROJECT": TEMPLATE_PROJECT,
               "BB_PROJECT": PROJECT, "BB_TEXT_ENCODING": str(VBA_TEXT_ENCODING), "BB_DROP": ";".join(DROPPED_MODULES), "BB_FIND": CONFIG_LINE[0],
               "BB_REPLACE": CONFIG_LINE[1], "BB_MODULE": name, "BB_MODULE_FILE": str(work / "module.bas"),
               "BB_OUT": str(out)}
        subprocess.run([*run, "macro:///Standard.Module1.Main"], check=True, capture_output=True, timeout=timeout, env=env)
        failed = out.with_name(out.name + ".err")
        if failed.exists():
            raise BuildError("LibreOffice could not build the VBA project: " + failed.read_text().strip())
        if not out.exists():
            raise BuildError("LibreOffice wrote no workbook")
        with zipfile.ZipFile(out) as book:
            return book.read("xl/vbaProject.bin")


def _zip_entry(name: str) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.create_system = 0  # the same bytes whether built on Linux or Windows
    entry.external_attr = 0
    return entry


def build_xlam(template: bytes, vba_project: bytes, ribbon: bytes) -> bytes:
    """The add-in: the template's parts with our VBA project and our ribbon, in a reproducible zip
    ([Content_Types].xml first, the rest sorted, fixed timestamps)."""
    with zipfile.ZipFile(BytesIO(template)) as source:
        parts = {name: source.read(name) for name in source.namelist()}
    rels = parts["_rels/.rels"].decode("utf-8")
    old = f'Type="{RIBBON_REL_TYPE}" Target="{TEMPLATE_RIBBON_PART}"'
    if old not in rels:
        raise BuildError("the template's ribbon relationship is not where it was: check the new template")
    parts["_rels/.rels"] = rels.replace(old, f'Type="{RIBBON_REL_TYPE}" Target="{RIBBON_PART}"').encode("utf-8")
    del parts[TEMPLATE_RIBBON_PART]
    parts[RIBBON_PART] = ribbon
    parts["xl/vbaProject.bin"] = vba_project
    order = ["[Content_Types].xml", *sorted(name for name in parts if name != "[Content_Types].xml")]
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name in order:
            target.writestr(_zip_entry(name), parts[name], compresslevel=9)
    return out.getvalue()


def build(vba_project: Path = VBA_PROJECT, ribbon: Path = RIBBON) -> bytes:
    return build_xlam(template_path().read_bytes(), vba_project.read_bytes(), ribbon.read_bytes())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", choices=["vba", "xlam"], default="xlam")
    parser.add_argument("--soffice", default=shutil.which("soffice") or "soffice")
    args = parser.parse_args(argv)
    try:
        if args.step == "vba":
            VBA_PROJECT.write_bytes(build_vba(args.soffice))
            print(f"wrote {VBA_PROJECT.relative_to(ROOT)}; now run: python tools/build_addin.py")
        else:
            XLAM.write_bytes(build())
            print(f"wrote {XLAM.relative_to(ROOT)}")
    except BuildError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
