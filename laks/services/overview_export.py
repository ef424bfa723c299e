"""The overview's matrix and totals as files: CSV (as the test log's files are written:
";"-separated, UTF-8 with BOM, cells a spreadsheet would run as a formula defused) and
XLSX (xlsxwriter; such text cells get Excel's own quote prefix).

The headers and every word in the files are Danish whatever the interface language: a
file is passed on, and the steering group reads Danish. An empty selection is a valid file
with the headers alone. Counts of citizens follow the small-number rule (1–4 as "<5").
"""

from __future__ import annotations

import io
from datetime import date, datetime

import xlsxwriter
from flask_babel import force_locale, to_user_timezone

from laks.enums import MODULE_KEYS, MODULE_TITLES, ModuleState
from laks.services.overview import Row
from laks.services.overview_totals import ProgrammeTotals, Tally
from laks.services.testlog_charts import reach_summary
from laks.testlog import CSV_ENCODING, REACH_STAGES, STAGE_LABELS, _csv, _guarded

CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

Cell = str | int | float | date | datetime | None


def _local(moment: datetime | None) -> datetime | None:
    """A stored (UTC) moment as Copenhagen's wall clock, without a zone (as a sheet holds
    it)."""
    return to_user_timezone(moment).replace(tzinfo=None) if moment is not None else None


def matrix_table(rows: list[Row]) -> tuple[list[str], list[list[Cell]]]:
    """The matrix as a table: a line per unit, four columns per module (state, due date,
    overdue, submitted – while it waits for review), the unit's last activity."""
    with force_locale("da"):
        titles = {key: str(MODULE_TITLES[key]) for key in MODULE_KEYS}
        words = {state: state.label for state in ModuleState}
    header = ["Forløb", "Kommune", "Enhed", "Lukket"]
    for key in MODULE_KEYS:
        header += [f"{titles[key]}: tilstand", f"{titles[key]}: frist",
                   f"{titles[key]}: overskredet", f"{titles[key]}: indsendt"]
    header += ["Sidste aktivitet", "Fremdriftsscore (IHI)"]
    lines = []
    for row in rows:
        line: list[Cell] = [row.programme, row.municipality, row.name,
                            _local(row.closed_at).date() if row.closed_at else None]
        for cell in row.cells:
            line += [words[cell.state], cell.due_on, "ja" if cell.overdue else "nej",
                     _local(cell.waiting_since)]
        line += [_local(row.last_activity), row.score]
        lines.append(line)
    return header, lines


def _reach_cells(tally: Tally) -> list[Cell]:
    """Per stage the target group, everyone and the target group's share – "<5" for 1–4
    citizens (laks.services.testlog_charts.reach_summary) – or nothing where no unit has
    recorded its reach."""
    if not tally.reach:
        return [None] * (3 * len(REACH_STAGES))
    (summary,) = reach_summary([{"date": "", **tally.reach}], public=True)
    return [int(text) if text.isdigit() else (text or None)
            for stage in summary.stages for text in stage]


def totals_table(programmes: list[ProgrammeTotals]) -> tuple[list[str], list[list[Cell]]]:
    """The totals as a table: per programme a line per municipality and one for the whole
    programme ("I alt"): the units, the units per state of each module, the equity reach."""
    with force_locale("da"):
        titles = {key: str(MODULE_TITLES[key]) for key in MODULE_KEYS}
        words = {state: state.label for state in ModuleState}
        stages = [str(STAGE_LABELS[stage]) for stage in REACH_STAGES]
    header = ["Forløb", "Kommune", "Enheder"]
    header += [f"{titles[key]}: {words[state].lower()}"
               for key in MODULE_KEYS for state in ModuleState]
    for stage in stages:
        header += [f"{stage}, målgruppen", f"{stage}, alle", f"{stage}, målgruppens andel"]
    lines = []
    for programme in programmes:
        places = [(place.name, place.tally) for place in programme.municipalities]
        for name, tally in [*places, ("I alt", programme.tally)]:
            lines.append([programme.name, name, tally.units,
                          *(tally.states[key][state]
                            for key in MODULE_KEYS for state in ModuleState),
                          *_reach_cells(tally)])
    return header, lines


def to_csv(header: list[str], lines: list[list[Cell]]) -> bytes:
    """The table as the test log's CSV files are written (laks.testlog): dates ISO, a
    moment as "2026-03-02 14:05", text guarded against formulas."""

    def text(value: Cell):
        if isinstance(value, datetime):
            return value.isoformat(sep=" ", timespec="minutes")
        if isinstance(value, date):
            return value.isoformat()
        return "" if value is None else value

    return _csv(header, [[text(value) for value in line] for line in lines]).encode(
        CSV_ENCODING)


def to_xlsx(header: list[str], lines: list[list[Cell]], sheet: str) -> bytes:
    """The table as one sheet of a workbook: the header bold and frozen with a filter, real
    dates and numbers, text never read as a formula."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                                     "strings_to_urls": False, "strings_to_numbers": False})
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    quoted = book.add_format({"quote_prefix": True})
    day = book.add_format({"num_format": "dd-mm-yyyy"})
    moment = book.add_format({"num_format": "dd-mm-yyyy hh:mm"})
    worksheet = book.add_worksheet(sheet)
    for column, title in enumerate(header):
        worksheet.write_string(0, column, title, bold)
    for row, line in enumerate(lines, start=1):
        for column, value in enumerate(line):
            if value is None:
                continue
            if isinstance(value, datetime):
                worksheet.write_datetime(row, column, value, moment)
            elif isinstance(value, date):
                worksheet.write_datetime(row, column, datetime(value.year, value.month,
                                                               value.day), day)
            elif isinstance(value, int | float):
                worksheet.write_number(row, column, value)
            elif _guarded(value) != value:
                worksheet.write_string(row, column, value, quoted)
            else:
                worksheet.write_string(row, column, value)
    worksheet.freeze_panes(1, 0)
    worksheet.autofilter(0, 0, max(len(lines), 1), len(header) - 1)
    worksheet.set_column(0, 2, 24)
    worksheet.set_column(3, len(header) - 1, 14)
    book.close()
    return out.getvalue()
