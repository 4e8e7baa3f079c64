"""Writing the master at college and university scale: BranchBook's XlsxWriter writer beside the
openpyxl write-only writer it replaced and beside the practical limit, in the same run.

  new    workbook.master.write_master (XlsxWriter; data rows serialised from the records)
  old    the openpyxl write-only writer as it was before XlsxWriter (a copy, below, kept only here)
  limit  XlsxWriter in constant_memory mode writing the same values with write_row, and nothing else:
         no styles, widths, validations, tables, panes or print setup

"+ dashboard" adds the 进度看板 sheet (each writer its own version of it) with the flags computed
beforehand, as the merge pipeline passes them. Each job runs in a process of its own, so that
its peak memory (ru_maxrss) is its own; "above tables" is that peak less the process's size once
its tables were built. Every file written is checked to hold every row (row_counts).

Run: .venv/bin/python bench/bench_write.py [college|university ...] [--repeat N]
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

AS_OF = date(2005, 4, 20)
SCALES = {
    # name: (members, attendance rows, branches) for scale.university_tables
    "college": (300, 13_200, 9),
    "university": (20_000, 800_000, 600),
}
JOBS = ["new", "new+dashboard", "old", "old+dashboard", "limit"]


def build(scale: str) -> dict:
    from scale import university_tables

    members, attendance, branches = SCALES[scale]
    return university_tables(members=members, attendance=attendance, branches=branches)


def build_small() -> dict:
    from scale import university_tables

    return university_tables(members=10, attendance=20, branches=2)


# -- the openpyxl write-only writer as it was (workbook/master.py and reports/dashboard.py at 9c27ab7) --------

def old_write_master(path: Path, tables, lang: str = "zh", painters=()) -> None:
    import warnings

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

    from branchbook.workbook import layout
    from branchbook.workbook.cells import DATE_FORMAT, FORMULA_STARTS, put
    from branchbook.workbook.master import _FOREIGN_LIST_SHEETS, _list_source, row_values
    from branchbook.workbook.schema import load_schemas
    from branchbook.workbook.texts import readme_lines

    def header_cell(ws, text, system=False):
        cell = WriteOnlyCell(ws, value=text)
        layout.style_header(cell, system)
        return cell

    def body_cell(ws, value, field=None):
        is_date = field is not None and field.type == "date" and value is not None
        if not is_date and not (isinstance(value, str) and value.startswith(FORMULA_STARTS)):
            return value
        cell = WriteOnlyCell(ws)
        put(cell, value)
        if is_date:
            cell.number_format = DATE_FORMAT
        return cell

    schemas = load_schemas()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("说明" if lang == "zh" else "README")
    ws.column_dimensions["A"].width = 100
    for number, line in enumerate(readme_lines(lang)):
        ws.append([header_cell(ws, line) if number == 0 else line])
    for sheet in schemas.master:
        rows = tables.get(sheet.key, [])
        ws = wb.create_sheet(sheet.name(lang))
        fields = list(sheet.fields)
        layout.set_widths(ws, fields, lang)
        ws.freeze_panes = "A2"
        last_column = get_column_letter(len(fields))
        for index, field in enumerate(fields, start=1):
            source = None
            if field.key in _FOREIGN_LIST_SHEETS and sheet.key != _FOREIGN_LIST_SHEETS[field.key][0]:
                target_sheet, target_field = _FOREIGN_LIST_SHEETS[field.key]
                target_column = schemas.sheet(target_sheet).keys.index(target_field) + 1
                source = _list_source(schemas, target_sheet, lang, target_column)
            if field.system:
                continue
            dv = layout.validation_for(field, lang, list_source=source)
            if dv is not None:
                letter = get_column_letter(index)
                dv.add(f"{letter}2:{letter}{layout.MASTER_VALIDATED_ROWS}")
                ws.data_validations.append(dv)
        ws.append([header_cell(ws, field.label(lang), field.system) for field in fields])
        for values in row_values(fields, rows, lang):
            ws.append([body_cell(ws, value, field) for field, value in zip(fields, values)])
        table = Table(displayName=f"tbl_{sheet.key}", ref=f"A1:{last_column}{max(len(rows) + 1, 2)}",
                      tableStyleInfo=TableStyleInfo(name="TableStyleLight9", showRowStripes=True))
        table.tableColumns = [TableColumn(id=i, name=f.label(lang)) for i, f in enumerate(fields, start=1)]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="In write-only mode you must add table columns manually")
            ws.add_table(table)
    for paint in painters:
        paint(wb, tables, lang)
    wb.save(path)


def old_write_dashboard(wb, progress, lang: str) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.chart import BarChart, LineChart, Reference
    from openpyxl.formatting.rule import CellIsRule, ColorScaleRule, DataBarRule
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    from branchbook.workbook import layout
    from branchbook.workbook.reports import dashboard as new
    from branchbook.workbook.return_states import state_word

    def cell(ws, value, number_format=None, bold=False):
        c = WriteOnlyCell(ws, value=value)
        if number_format:
            c.number_format = number_format
        if bold:
            c.font = Font(bold=True)
        return c

    def header_cell(ws, text):
        c = WriteOnlyCell(ws, value=text)
        layout.style_header(c)
        return c

    ws = wb.create_sheet(new.SHEET_NAME[lang])
    columns = new.COLUMNS[lang]
    for index, width in enumerate([24, 10] + [11] * (len(columns) - 2), start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = f"B{new.HEADER_ROW + 1}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 1
    ws.append([cell(ws, f"进度看板　截至 {progress.as_of:%Y-%m-%d}", bold=True)])
    ws.append([])
    ws.append([header_cell(ws, text) for text in columns])
    formats = [None, None, None, None, None, "0.0", "0.0", "0%", "0%", None, None, None, None, None]
    rows = new.branch_rows(progress, lang)
    for values in rows:
        ws.append([cell(ws, v, f) for v, f in zip(values, formats)])
    first, last = new.HEADER_ROW + 1, new.HEADER_ROW + max(len(rows), 1)
    trend_header = new.trend_first_row(len(rows)) - 1
    ws.append([])
    ws.append([])
    ws.append([header_cell(ws, text) for text in new.TREND[lang]])
    for week in progress.weeks:
        ws.append([week.week, week.returns, cell(ws, week.attendance_rate, "0%")])
    trend_last = trend_header + max(len(progress.weeks), 1)

    def span(column):
        letter = get_column_letter(column)
        return f"{letter}{first}:{letter}{last}"

    ws.conditional_formatting.add(span(6), DataBarRule(start_type="num", start_value=0, end_type="max",
                                                       color="5B9BD5", showValue=True))
    for column in (8, 9):
        ws.conditional_formatting.add(span(column), ColorScaleRule(
            start_type="num", start_value=0.5, start_color=new.RED, mid_type="num", mid_value=0.8, mid_color=new.AMBER,
            end_type="num", end_value=1, end_color=new.GREEN))
    ws.conditional_formatting.add(span(4), CellIsRule(operator="equal", formula=[f'"{state_word("missing", lang)}"'],
                                                      fill=PatternFill("solid", fgColor=new.RED)))
    ws.conditional_formatting.add(span(12), CellIsRule(operator="greaterThan", formula=["0"],
                                                       fill=PatternFill("solid", fgColor=new.AMBER)))
    ws.conditional_formatting.add(span(14), DataBarRule(start_type="num", start_value=0, end_type="max",
                                                        color=new.RED, showValue=True))
    hours = BarChart()
    hours.type = "bar"
    hours.add_data(Reference(ws, min_col=6, max_col=7, min_row=new.HEADER_ROW, max_row=last), titles_from_data=True)
    hours.set_categories(Reference(ws, min_col=1, min_row=first, max_row=last))
    hours.height, hours.width = 9 + 0.35 * (last - first), 18
    ws.add_chart(hours, f"A{trend_last + 3}")
    trend = LineChart()
    trend.add_data(Reference(ws, min_col=2, min_row=trend_header, max_row=trend_last), titles_from_data=True)
    trend.set_categories(Reference(ws, min_col=1, min_row=trend_header + 1, max_row=trend_last))
    rate = LineChart()
    rate.add_data(Reference(ws, min_col=3, min_row=trend_header, max_row=trend_last), titles_from_data=True)
    rate.y_axis.axId = 200
    rate.y_axis.crosses = "max"
    trend += rate
    trend.height, trend.width = 8, 18
    ws.add_chart(trend, f"I{trend_last + 3}")


# -- the practical limit ---------------------------------------------------------------------------------------

def limit_write(path: Path, tables, lang: str = "zh") -> None:
    import xlsxwriter

    from branchbook.workbook.master import sheet_values
    from branchbook.workbook.schema import load_schemas

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.add_worksheet("说明")
    for sheet in load_schemas().master:
        ws = wb.add_worksheet(sheet.name(lang))
        for row, values in enumerate(sheet_values(sheet, tables.get(sheet.key, []), lang)):
            ws.write_row(row, 0, values)
    wb.close()


# -- one job, in its own process ---------------------------------------------------------------------------------

def _rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_job(job: str, scale: str, out: Path, repeat: int) -> dict:
    from branchbook.workbook.flags import compute_flags
    from branchbook.workbook.master import row_counts, write_master
    from branchbook.workbook.reports.dashboard import dashboard_painter
    from branchbook.workbook.reports.progress import compute_progress

    tables = build(scale)
    flags = compute_flags(tables, AS_OF) if job.endswith("+dashboard") else None

    def write(path: Path, tables: dict, flags) -> None:
        if job == "new":
            write_master(path, tables)
        elif job == "new+dashboard":
            write_master(path, tables, painters=(dashboard_painter(AS_OF, flags),))
        elif job == "old":
            old_write_master(path, tables)
        elif job == "old+dashboard":
            old_write_master(path, tables, painters=(
                lambda wb, t, lang: old_write_dashboard(wb, compute_progress(t, AS_OF, flags=flags), lang),))
        else:
            limit_write(path, tables)

    write(out, build_small(), [])  # a warm-up: imports and first calls are not timed
    before = _rss_mb()
    seconds = []
    for _ in range(repeat):
        out.unlink(missing_ok=True)
        start = time.perf_counter()
        write(out, tables, flags)
        seconds.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = row_counts(out)
    assert all(counts[key] == len(rows) for key, rows in tables.items()), (job, counts)
    return {"seconds": min(seconds), "runs": repeat, "peak_mb": peak, "above_tables_mb": max(peak - before, 0),
            "file_mb": out.stat().st_size / 2**20, "rows": sum(len(rows) for rows in tables.values())}


def _in_child(job: str, scale: str, folder: Path, repeat: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--job", job, scale, str(folder / f"{scale}-{job}.xlsx"),
                             str(repeat)], capture_output=True, text=True, check=True,
                            cwd=Path(__file__).parent)
    return json.loads(result.stdout.strip().splitlines()[-1])


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def main(scales: list[str], repeat: int | None) -> None:
    print(f"{'scale':<11}{'job':<15}{'time':>10}{'/ old':>8}{'/ limit':>9}{'peak RSS':>11}{'above tables':>14}"
          f"{'file':>9}")
    with tempfile.TemporaryDirectory() as scratch:
        for scale in scales:
            runs = repeat or (3 if scale == "college" else 1)
            results = {job: _in_child(job, scale, Path(scratch), runs) for job in JOBS}
            for job in JOBS:
                r = results[job]
                old = results["old+dashboard" if job.endswith("+dashboard") else "old"]["seconds"]
                limit = results["limit"]["seconds"]
                print(f"{scale:<11}{job:<15}{_seconds(r['seconds']):>10}{r['seconds'] / old:>8.2f}"
                      f"{r['seconds'] / limit:>9.2f}{r['peak_mb']:>8.0f} MB{r['above_tables_mb']:>11.0f} MB"
                      f"{r['file_mb']:>6.1f} MB", flush=True)
            print(f"{'':<11}{results['new']['rows']:,} rows, best of {runs}")


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    if sys.argv[1:2] == ["--job"]:
        job, scale, out, repeat = sys.argv[2:6]
        print(json.dumps(run_job(job, scale, Path(out), int(repeat))))
    else:
        arguments = sys.argv[1:]
        count = None
        if "--repeat" in arguments:
            at = arguments.index("--repeat")
            count = int(arguments[at + 1])
            del arguments[at:at + 2]
        main(arguments or list(SCALES), count)
