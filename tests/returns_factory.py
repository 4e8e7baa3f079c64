"""Returns as secretaries send them, clean or with one named mistake, made from the real template."""
from __future__ import annotations

import shutil
from pathlib import Path

from openpyxl import load_workbook

from branchbook.demo.fill import Secretary, fill_return

BRANCH_FILE = "院机关支部_第3周.xlsx"  # B08, 16 members


def filled_return(home, target: Path, name: str = BRANCH_FILE, secretary: Secretary | None = None,
                  seed: int = 7) -> Path:
    shutil.copyfile(home.folder("outbox") / name, target)
    fill_return(target, secretary or Secretary(diligence=1.0), seed=seed)
    return target


def edit(path: Path, change) -> Path:
    """Open the file, let `change(wb)` alter it, save it back."""
    wb = load_workbook(path)
    change(wb)
    wb.save(path)
    return path


def set_saved_time(path: Path, moment) -> Path:
    """Set the file's recorded save time (docProps/core.xml), as the secretary's Excel would have."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = {info: source.read(info.filename) for info in source.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts.items():
            if info.filename == "docProps/core.xml":
                stamp = moment.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
                data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)", rb"\g<1>" + stamp + rb"\g<2>", data)
            target.writestr(info, data)
    return path
