"""A return damaged late in the deflate stream of any one of its parts is refused in words, by `validate` and by
`validate --annotate`: never "passed", never a reader's class name (XmlError, BadZipFile), never exit 3. The
value reader needs only some parts (not the styles, not the document properties), so the check before any
parse reads every part through, and the zip's checksum finds the damage (workbook/safe_open.py)."""
from __future__ import annotations

import struct
import zipfile

import pytest
from returns_factory import BRANCH_FILE

from branchbook.cli import main


def _parts(path) -> list[zipfile.ZipInfo]:
    with zipfile.ZipFile(path) as archive:
        return [info for info in archive.infolist() if info.compress_size >= 64]


def _damaged_late(source, target, part: str):
    """One byte flipped at nine tenths of the part's compressed stream: the zip's directory stays whole."""
    raw = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        info = archive.getinfo(part)
    at = info.header_offset
    name_length, extra_length = struct.unpack("<HH", raw[at + 26:at + 30])
    start = at + 30 + name_length + extra_length
    raw[start + info.compress_size * 9 // 10] ^= 0x10
    target.write_bytes(bytes(raw))
    return target


@pytest.mark.parametrize("annotate", [False, True])
def test_damage_late_in_any_part_is_said_in_words(demo_home, tmp_path, capsys, annotate):
    template = demo_home.folder("outbox") / BRANCH_FILE
    parts = _parts(template)
    names = {info.filename for info in parts}
    assert {"xl/styles.xml", "docProps/core.xml"} <= names  # the parts the value reader never reads through
    for info in parts:
        damaged = _damaged_late(template, tmp_path / "damaged.xlsx", info.filename)
        extra = ["--annotate", str(tmp_path / "marked.xlsx")] if annotate else []
        code = main(["validate", str(damaged), *extra])
        captured = capsys.readouterr()
        said = captured.out + captured.err
        assert code == 2, (info.filename, said)
        assert "“damaged.xlsx”已损坏，无法打开" in captured.err, (info.filename, said)
        assert "Error" not in said and "Traceback" not in said, (info.filename, said)
