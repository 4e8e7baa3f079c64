"""Files that are not readable workbooks, each with the words its message must contain."""
from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path

from msoffcrypto.format.ooxml import OOXMLFile


def make_unreadable(kind: str, home, folder: Path) -> tuple[Path, str]:
    template = home.folder("outbox") / "院机关支部_第3周.xlsx"
    if kind == "not-a-workbook":
        path = folder / "周报.xlsx"
        path.write_text("这不是表格", encoding="utf-8")
        return path, "不是 Excel 工作簿"
    if kind == "encrypted":
        path = folder / "加密.xlsx"
        source = OOXMLFile(io.BytesIO(template.read_bytes()))
        with path.open("wb") as out:
            source.encrypt("secret", out)
        return path, "设置了打开密码"
    if kind == "corrupt-zip":
        path = folder / "损坏.xlsx"
        path.write_bytes(template.read_bytes()[:3000])
        return path, "已损坏"
    if kind == "legacy-xls":
        path = folder / "旧格式.xls"
        # An OLE compound file that is not encrypted: what Excel 97-2003 writes.
        path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
        return path, "旧版 .xls"
    if kind == "with-macros":
        path = folder / "带宏.xlsx"
        shutil.copyfile(template, path)
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr("xl/vbaProject.bin", b"\x00" * 64)
        return path, "含有宏"
    raise ValueError(kind)
