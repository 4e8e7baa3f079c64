"""Render the README's pictures from the demo: the dashboard sheet and the bulletin's first pages.

Run: .venv/bin/python tools/make_pictures.py   (needs LibreOffice and pdftoppm, as the tests do)
"""
from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import xlsxwriter

from branchbook.demo import run_demo
from branchbook.sync.reports import publish_bulletin
from branchbook.workbook.home import CONFIG_NAME, Home
from branchbook.workbook.master import read_master
from branchbook.workbook.reports.bulletin import to_pdf
from branchbook.workbook.reports.dashboard import write_dashboard
from branchbook.workbook.reports.progress import compute_progress

IMAGES = Path(__file__).resolve().parents[1] / "docs" / "images"


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        home = run_demo(scratch / "demo", tell=lambda _: None)
        config = home.root / CONFIG_NAME
        config.write_text(config.read_text(encoding="utf-8") + "college: 生仪学院\n", encoding="utf-8")
        home = Home.open(home.root)
        tables = read_master(home.master)
        book = xlsxwriter.Workbook(scratch / "dashboard.xlsx")
        write_dashboard(book, compute_progress(tables, home.as_of), "zh", campaign=home.campaign.title("zh"))
        book.close()
        to_pdf(scratch / "dashboard.xlsx", scratch / "dashboard.pdf")
        subprocess.run(["pdftoppm", "-r", "110", "-png", "-singlefile", str(scratch / "dashboard.pdf"),
                        str(IMAGES / "dashboard")], check=True)
        pdf = publish_bulletin(home, fmt="pdf")  # as `branchbook bulletin HOME --format pdf` makes it: 第1期
        for page in (1, 2):
            subprocess.run(["pdftoppm", "-r", "70", "-png", "-singlefile", "-f", str(page), "-l", str(page), str(pdf),
                            str(IMAGES / f"bulletin-{page}")], check=True)
    print(sorted(p.name for p in IMAGES.iterdir()))


if __name__ == "__main__":
    main()
