"""The test log of module 4 (Afprøvning) as data: the measures a unit follows, their data
points and the equity reach set – checked as they are typed or imported, and exported.

Pure domain: no forms, no database. Each ``check_*`` takes what was typed (strings, keyed as
the stored dicts are) and returns the clean dict or the problems, each naming its field, so a
page can show every message at its field and keep everything typed. A CSV file is imported
whole or not at all: :class:`ImportRefused` carries every problem, each naming its line.

Messages are lazy strings: they are worded in the reader's language when shown. Dates in
them are long Danish dates ("1. februar 2026"), numbers Danish ("999.999.999").

laks holds no personal data about citizens: a measure's name and every cell of an imported
file are refused when they look like a CPR number, and counts stop below ten digits.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import format_date, format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

from laks.numbers import NUMBER_MESSAGE, parse_number
from laks.privacy import looks_like_cpr

MEASURE_KINDS = ("count", "proportion")
BETTER = ("up", "down")
DECISIONS = ("adopt", "adapt", "abandon")
REACH_STAGES = ("invited", "recruited", "started", "completed")
REACH_GROUPS = ("target", "all")
#: The eight counts of a reach set: ``<stage>_target`` and ``<stage>_all`` for each stage.
REACH_FIELDS = tuple(f"{stage}_{group}" for stage in REACH_STAGES for group in REACH_GROUPS)

KIND_LABELS = {"count": _l("Count"), "proportion": _l("Proportion (numerator/denominator)")}
BETTER_LABELS = {"up": _l("Higher is better"), "down": _l("Lower is better")}
DECISION_LABELS = {"adopt": _l("Adopt"), "adapt": _l("Adapt"), "abandon": _l("Abandon")}
STAGE_LABELS = {"invited": _l("Invited"), "recruited": _l("Recruited"),
                "started": _l("Started"), "completed": _l("Completed")}
GROUP_LABELS = {"target": _l("The target group"), "all": _l("All")}

NAME_MAX_LENGTH = 120
#: A frozen median needs at least 10 points to judge shifts (6 in a row) and runs against;
#: more than 100 is more than a test period holds, so it is a slip of the keyboard.
BASELINE_MIN, BASELINE_MAX = 10, 100
#: The largest count: no unit counts a milliard of anything, and no ten-digit number (the
#: shape of a CPR number) is stored as a count.
MAX_VALUE = 999_999_999
#: Dates outside these years are typing errors (and would stretch every chart).
FIRST_YEAR, LAST_YEAR = 2000, 2099
MAX_IMPORT_BYTES = 1_000_000
MAX_IMPORT_ROWS = 2_000
#: No cell of a test-log file needs more: longer text is refused before it is looked at.
MAX_CELL_LENGTH = 200
#: Problems listed for a refused file; the rest are counted in one last line.
MAX_REPORTED_PROBLEMS = 20

#: The columns of the CSV files, in Danish whatever the interface language: the file format.
COLUMNS = {
    "measure": "måling", "kind": "type", "date": "dato", "value": "antal",
    "numerator": "tæller", "denominator": "nævner",
    **{f"{stage}_{group}": f"{stage_da}_{group_da}"
       for stage, stage_da in zip(REACH_STAGES,
                                  ("inviteret", "rekrutteret", "startet", "gennemført"),
                                  strict=True)
       for group, group_da in zip(REACH_GROUPS, ("målgruppe", "alle"), strict=True)},
}
#: The ``type`` column's word for each kind of measure.
KIND_WORDS = {"count": "antal", "proportion": "andel"}
POINT_EXPORT_COLUMNS = ("measure", "kind", "date", "value", "numerator", "denominator")
#: What Danish Excel reads as UTF-8 (with the BOM); a file is given to the browser so.
CSV_ENCODING = "utf-8-sig"

Period = tuple[date | None, date | None]


@dataclass
class Problem:
    """One thing wrong. ``row``: the line in a CSV file (the header is line 1 when it is the
    first line), None for a form. ``field``: the key of the value (``"date"``, ``"value"``,
    ``"invited_target"`` …), ``"header"`` for the first line, ``"row"`` for a line as a whole,
    ``"file"`` for the file. ``message``: a lazy string; for a file it names its line and
    column, for a form it is shown at the field and names neither."""

    row: int | None
    field: str
    message: str


class ImportRefused(ValueError):
    """A CSV file that was not imported, with every :class:`Problem` found (at most
    :data:`MAX_REPORTED_PROBLEMS`, then one counting the rest). ``str()`` says that
    nothing was imported."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.message = NOTHING_IMPORTED
        super().__init__(problems)

    def __str__(self) -> str:
        return str(self.message)


# --- messages ---------------------------------------------------------------------------------

NAME_MISSING = _l("Write a name for the measure, e.g. “Fremmødte til første samtale”.")
NAME_CONTROL = _l("The name contains an invisible control character. Write the name again.")
NAME_CPR = _l("This looks like a CPR number. laks holds no personal data about citizens: "
              "name the measure without it.")
KIND_CHOOSE = _l("Choose whether the measure is a count or a proportion "
                 "(numerator/denominator).")
BETTER_CHOOSE = _l("Choose whether higher or lower is better.")
GOAL_PERCENT = _l("A proportion's goal is a percentage from 0 to 100, e.g. 80 for 80 %.")
DATE_MISSING = _l("Write the date, e.g. 2.3.2026 or 2026-03-02.")
DATE_FORMAT = _l("Write the date as day.month.year, e.g. 2.3.2026, or as 2026-03-02.")
VALUE_MISSING = _l("Write the count, e.g. 12 or 12,5.")
NUMERATOR_MISSING = _l("Write the numerator as a whole number, e.g. 8 (in 8 of 10).")
DENOMINATOR_MISSING = _l("Write the denominator as a whole number, e.g. 10 (in 8 of 10).")
NEGATIVE = _l("Write 0 or more – a count cannot be negative.")
WHOLE = _l("Write a whole number, e.g. 12 – not a decimal number.")
DENOMINATOR_ZERO = _l("The denominator must be greater than 0: it is the number the "
                      "proportion is taken of, e.g. 10 in 8 of 10.")
NUMBER_CPR = _l("This looks like a CPR number. laks holds no personal data about citizens: "
                "write the aggregated count only, e.g. 12.")
REACH_EMPTY = _l("Write at least one count. An empty field counts as 0.")
NOTHING_IMPORTED = _l("Nothing was imported: a file is imported whole or not at all. Correct "
                      "the problems below and import the whole file again.")
FILE_EMPTY = _l("The file is empty. Write the column names on the first line and one line per "
                "date under them – the template shows how.")
FILE_EXCEL = _l("This is an Excel workbook, not a CSV file. In Excel, choose File › Save as › "
                "“CSV (semikolonsepareret)” and import that file.")
FILE_UTF16 = _l("The file is saved as Unicode text (UTF-16). Save it as “CSV UTF-8” or “CSV "
                "(semikolonsepareret)” and import it again.")
FILE_NOT_TEXT = _l("This is not a text file. Import a CSV file: in Excel, choose File › Save "
                   "as › “CSV (semikolonsepareret)”.")
FILE_NO_ROWS = _l("The file has the column names but no lines with data under them. Write one "
                  "line per date.")
CELL_CPR = _l("This looks like a CPR number. laks holds no personal data about citizens: the "
              "file may hold only dates and aggregated counts. Remove it.")
COMMA_HINT = _l("In a file separated by commas, a number with a decimal comma must be in "
                "quotes, e.g. \"12,5\" – or save the file separated by semicolons.")
COUNT_HAS_FRACTION = _l("The measure is a count: leave the columns tæller and nævner empty.")
PROPORTION_HAS_COUNT = _l("The measure is a proportion: leave the column antal empty and write "
                          "tæller and nævner.")


def _number_text(value: Decimal | int | float) -> LazyString:
    return LazyString(format_decimal, value)


def _long_date(day: date) -> LazyString:
    return LazyString(format_date, day, "long")


def _joined(*parts) -> LazyString:
    return LazyString(lambda: " ".join(str(part) for part in parts if part))


def _at(row: int | None, field: str, message) -> object:
    """The message as a file's reader needs it: with its line and column."""
    if row is None:
        return message
    if field in COLUMNS:
        return _l("Line %(row)s, column “%(column)s”: %(message)s", row=row,
                  column=COLUMNS[field], message=message)
    return _l("Line %(row)s: %(message)s", row=row, message=message)


def _text(raw: dict, key: str) -> str:
    value = raw.get(key)
    if value is None or isinstance(value, bool):
        return ""
    if isinstance(value, int | float | Decimal):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def _stored(number: Decimal) -> int | float:
    return int(number) if number == number.to_integral_value() else float(number)


# --- values -----------------------------------------------------------------------------------

_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DANISH_DATE = re.compile(r"([0-9]{1,2})([./-])([0-9]{1,2})\2([0-9]{4})")


def parse_date(text: str) -> date:
    """A date as ISO "2026-03-02" or Danish "2.3.2026", "02-03-2026", "02/03/2026". Raises
    ValueError with a message saying how to write it (also for a date that does not exist,
    and for one outside the years :data:`FIRST_YEAR`–:data:`LAST_YEAR`)."""
    raw = unicodedata.normalize("NFKC", text or "").strip()
    if not raw:
        raise ValueError(DATE_MISSING)
    iso = _ISO_DATE.fullmatch(raw)
    danish = None if iso else _DANISH_DATE.fullmatch(raw)
    if iso:
        year, month, day = (int(part) for part in iso.groups())
    elif danish:
        day, month, year = int(danish[1]), int(danish[3]), int(danish[4])
    else:
        raise ValueError(DATE_FORMAT)
    try:
        parsed = date(year, month, day)
    except ValueError:
        raise ValueError(_l("The date %(date)s does not exist. Write a date of the calendar, "
                            "e.g. 2.3.2026.", date=raw)) from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValueError(_l("Write a date in the years %(first)s–%(last)s, e.g. 2.3.2026.",
                            first=str(FIRST_YEAR), last=str(LAST_YEAR)))
    return parsed


def _outside(day: date, period: Period):
    """The message for a date outside the programme's period, or None."""
    start, end = period
    if (start is None or day >= start) and (end is None or day <= end):
        return None
    if start is not None and end is not None:
        return _l("The date must lie in the programme's period, %(start)s – %(end)s.",
                  start=_long_date(start), end=_long_date(end))
    if start is not None:
        return _l("The date must be on or after the programme's start, %(start)s.",
                  start=_long_date(start))
    return _l("The date must be on or before the programme's end, %(end)s.",
              end=_long_date(end))


def _date(text: str, period: Period) -> tuple[date | None, object]:
    try:
        day = parse_date(text)
    except ValueError as refused:
        return None, refused.args[0]
    return day, _outside(day, period)


def _count(text: str, *, whole: bool, missing) -> tuple[Decimal | None, object]:
    """A non-negative number up to :data:`MAX_VALUE` (``whole``: without decimals), or the
    message saying what is wrong; ``missing`` when nothing was written."""
    if not text:
        return None, missing
    if looks_like_cpr(text):
        return None, NUMBER_CPR
    try:
        number = parse_number(text)
    except ValueError as refused:
        message = refused.args[0]
        return None, WHOLE if whole and message is NUMBER_MESSAGE else message
    if number < 0:
        return None, NEGATIVE
    if whole and number != number.to_integral_value():
        return None, WHOLE
    if number > MAX_VALUE:
        return None, _l("Write a number of at most %(max)s.", max=_number_text(MAX_VALUE))
    return number, None


# --- forms ------------------------------------------------------------------------------------


def check_measure(raw: dict[str, str]) -> tuple[dict | None, list[Problem]]:
    """A measure as typed (keys name, kind, better, goal, baseline) → ``({"name", "kind",
    "better", "goal", "baseline"}, [])`` or ``(None, problems)``. The caller adds ``key`` and
    ``shared``. The name's whitespace is collapsed to single spaces; a proportion's goal is
    a percentage (0–100, "80 %" accepted); the baseline is the number of first points the
    median is frozen on (:data:`BASELINE_MIN`–:data:`BASELINE_MAX`), empty for none."""
    problems: list[Problem] = []

    def refuse(field: str, message) -> None:
        problems.append(Problem(None, field, message))

    name = " ".join(_text(raw, "name").split())
    if not name:
        refuse("name", NAME_MISSING)
    elif len(name) > NAME_MAX_LENGTH:
        refuse("name", _l("The name is %(length)s characters long; write at most %(max)s.",
                          length=len(name), max=NAME_MAX_LENGTH))
    elif any(unicodedata.category(char) == "Cc" for char in name):
        refuse("name", NAME_CONTROL)
    elif looks_like_cpr(name):
        refuse("name", NAME_CPR)
    kind = _text(raw, "kind")
    if kind not in MEASURE_KINDS:
        refuse("kind", KIND_CHOOSE)
    better = _text(raw, "better")
    if better not in BETTER:
        refuse("better", BETTER_CHOOSE)

    goal = None
    goal_text = _text(raw, "goal")
    if kind == "proportion":
        goal_text = goal_text.removesuffix("%").strip()
    if goal_text:
        number, message = _count(goal_text, whole=False, missing=None)
        if message is None and kind == "proportion" and number > 100:
            message = GOAL_PERCENT
        if message is not None:
            refuse("goal", GOAL_PERCENT if kind == "proportion" and message is NEGATIVE
                   else message)
        else:
            goal = _stored(number)

    baseline = None
    baseline_text = _text(raw, "baseline")
    if baseline_text:
        number, message = _count(baseline_text, whole=True, missing=None)
        if message is not None or not BASELINE_MIN <= number <= BASELINE_MAX:
            refuse("baseline", _l(
                "Freeze the median on %(min)s to %(max)s points, or leave the field empty: "
                "with fewer than %(min)s points the median is too uncertain to judge shifts "
                "and runs against, and more than %(max)s points is more than a test period "
                "holds.", min=BASELINE_MIN, max=BASELINE_MAX))
        else:
            baseline = int(number)

    if problems:
        return None, problems
    return {"name": name, "kind": kind, "better": better, "goal": goal,
            "baseline": baseline}, []


def check_point(measure: dict, raw: dict[str, str], period: Period = (None, None),
                row: int | None = None) -> tuple[dict | None, list[Problem]]:
    """A data point of ``measure`` as typed → ``(point, [])`` or ``(None, problems)``.

    Keys: ``date`` and, for a count, ``value`` (non-negative, decimals allowed; stored as
    int when whole), for a proportion ``numerator`` and ``denominator`` (whole, 0 ≤
    numerator ≤ denominator, denominator > 0). ``period`` (start, end), either may be None:
    the programme's period, which the date must lie in. ``row``: the line of a CSV file,
    named in every message. Raises ValueError for a measure of an unknown kind."""
    if measure.get("kind") not in MEASURE_KINDS:
        raise ValueError(f"unknown kind of measure: {measure.get('kind')!r}")
    problems: list[Problem] = []

    def refuse(field: str, message) -> None:
        problems.append(Problem(row, field, _at(row, field, message)))

    day, message = _date(_text(raw, "date"), period)
    if message is not None:
        refuse("date", message)
    point: dict = {"date": day.isoformat() if day else None}
    if measure["kind"] == "count":
        value, message = _count(_text(raw, "value"), whole=False, missing=VALUE_MISSING)
        if message is not None:
            refuse("value", message)
        else:
            point["value"] = _stored(value)
    else:
        numerator, message = _count(_text(raw, "numerator"), whole=True,
                                    missing=NUMERATOR_MISSING)
        if message is not None:
            refuse("numerator", message)
        denominator, message = _count(_text(raw, "denominator"), whole=True,
                                      missing=DENOMINATOR_MISSING)
        if message is None and denominator == 0:
            message = DENOMINATOR_ZERO
        if message is not None:
            refuse("denominator", message)
        elif numerator is not None and numerator > denominator:
            refuse("numerator", _l(
                "The numerator (%(numerator)s) is greater than the denominator "
                "(%(denominator)s). The numerator is a part of the denominator, e.g. 8 of 10.",
                numerator=_number_text(numerator),
                denominator=_number_text(denominator)))
        if not problems:
            point["numerator"], point["denominator"] = int(numerator), int(denominator)
    if problems:
        return None, problems
    return point, []


def check_reach(raw: dict[str, str], period: Period = (None, None),
                row: int | None = None) -> tuple[dict | None, list[Problem]]:
    """A reach set as typed → ``({"date", <the eight REACH_FIELDS>}, [])`` or ``(None,
    problems)``. Each count is a whole number ≥ 0; an empty one counts as 0, since a stage
    not reached yet has reached no one – but a set with all eight empty is refused. Each
    ``<stage>_target`` is at most its ``<stage>_all`` (the target group is counted among
    all). The stages are not required to shrink: people may start without being invited."""
    problems: list[Problem] = []

    def refuse(field: str, message) -> None:
        problems.append(Problem(row, field, _at(row, field, message)))

    day, message = _date(_text(raw, "date"), period)
    if message is not None:
        refuse("date", message)
    counts: dict[str, int] = {}
    written = False
    for field in REACH_FIELDS:
        text = _text(raw, field)
        written = written or bool(text)
        number, message = _count(text, whole=True, missing=None)
        if message is not None:
            refuse(field, message)
        else:
            counts[field] = 0 if number is None else int(number)
    if not written:
        refuse(REACH_FIELDS[0], REACH_EMPTY)
    for stage in REACH_STAGES:
        if f"{stage}_target" not in counts or f"{stage}_all" not in counts:
            continue  # one of them is refused already
        target = counts[f"{stage}_target"]
        everyone = counts[f"{stage}_all"]
        if target > everyone:
            refuse(f"{stage}_target", _l(
                "%(stage)s: the target group (%(target)s) is larger than all (%(all)s). The "
                "target group is counted among all, so it is at most as large.",
                stage=STAGE_LABELS[stage], target=_number_text(target),
                all=_number_text(everyone)))
    if problems:
        return None, problems
    return {"date": day.isoformat(), **counts}, []


# --- CSV import -------------------------------------------------------------------------------

#: Header names accepted for each field: the Danish column, the English key and a few
#: synonyms; compared after :func:`_canonical`.
_ALIASES = {
    "measure": ("måling", "measure", "name", "navn"),
    "kind": ("type", "kind"),
    "date": ("dato", "date"),
    "value": ("antal", "value", "count", "værdi"),
    "numerator": ("tæller", "numerator"),
    "denominator": ("nævner", "denominator"),
    **{field: (COLUMNS[field], field) for field in REACH_FIELDS},
}
_GUARDED = ("=", "+", "-", "@", "\t", "\r")


def _canonical(text: str) -> str:
    """A header or type word as compared: case, Danish letters written aeoeaa, spaces and
    dashes as underscores."""
    text = unicodedata.normalize("NFKC", text).strip().strip("\ufeff").casefold()
    for letter, spelled in (("æ", "ae"), ("ø", "oe"), ("å", "aa")):
        text = text.replace(letter, spelled)
    return re.sub(r"[\s\-_]+", "_", text).strip("_")


_HEADER_FIELDS = {_canonical(alias): field
                  for field, aliases in _ALIASES.items() for alias in aliases}
_KIND_WORDS = {_canonical(word): kind for kind, words in
               {"count": ("antal", "count"), "proportion": ("andel", "proportion")}.items()
               for word in words}


def _refuse_file(message) -> ImportRefused:
    return ImportRefused([Problem(None, "file", message)])


_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def _decode(data: bytes | str) -> str:
    """The file's text; refuses what is too large, empty or not text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    data = bytes(data)
    if len(data) > MAX_IMPORT_BYTES:
        size = math.ceil(len(data) / 100_000) / 10
        raise _refuse_file(_l(
            "The file is %(size)s MB; laks imports files of at most %(max)s MB. Split it into "
            "smaller files.", size=_number_text(size),
            max=_number_text(MAX_IMPORT_BYTES // 1_000_000)))
    if data.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise _refuse_file(FILE_EXCEL)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _refuse_file(FILE_UTF16)
    if b"\x00" in data:
        raise _refuse_file(FILE_NOT_TEXT)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # what Danish Excel writes as "CSV (semikolonsepareret)"
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise _refuse_file(FILE_NOT_TEXT) from None
    text = text.removeprefix("\ufeff").removeprefix("ï»¿")
    if _CONTROL.search(text):
        raise _refuse_file(FILE_NOT_TEXT)
    if not text.strip():
        raise _refuse_file(FILE_EMPTY)
    return text


@dataclass
class _Table:
    delimiter: str
    header_row: int
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _read_table(data: bytes | str) -> _Table:
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip(" \t;,")), "")
    delimiter = ";" if ";" in first or "," not in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    header_row = 0
    rows: list[tuple[int, list[str]]] = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines, and Excel's lines of empty cells
            if header is None:
                header, header_row = cells, reader.line_num
                continue
            if len(rows) == MAX_IMPORT_ROWS:
                raise _refuse_file(_l(
                    "The file has more than %(max)s lines of data; laks imports at most "
                    "%(max)s at a time. Split it into smaller files.",
                    max=_number_text(MAX_IMPORT_ROWS)))
            rows.append((reader.line_num, cells))
    except csv.Error:  # a cell over the csv module's own limit, say
        raise _refuse_file(_l(
            "Line %(row)s cannot be read as CSV. Save the file from Excel as “CSV "
            "(semikolonsepareret)” and import it again.", row=reader.line_num)) from None
    if header is None:
        raise _refuse_file(FILE_EMPTY)
    while header and not header[-1].strip():
        header.pop()  # Excel's trailing empty columns
    return _Table(delimiter, header_row, header, rows)


def _columns(table: _Table, required: tuple[str, ...], allowed: tuple[str, ...]
             ) -> dict[str, int]:
    """The index of each field's column; refuses a header that does not name the
    ``required`` columns, names one twice, or names one not ``allowed``."""
    found: dict[str, int] = {}
    wrong = False
    for index, cell in enumerate(table.header):
        field = _HEADER_FIELDS.get(_canonical(cell))
        if field is None or field not in allowed or field in found:
            wrong = True
        else:
            found[field] = index
    if wrong or any(field not in found for field in required):
        shown = [cell.strip()[:40] for cell in table.header[:12]]
        if any(looks_like_cpr(cell) for cell in shown):
            shown = ["…"]
        raise ImportRefused([Problem(table.header_row, "header", _l(
            "The first line must name the columns %(expected)s, but it names %(found)s. Use "
            "the template, or correct the first line.",
            expected=";".join(COLUMNS[field] for field in required),
            found=table.delimiter.join(shown) + ("…" if len(table.header) > 12 else "")))])
    return found


def _cells(table: _Table, columns: dict[str, int]
           ) -> tuple[list[tuple[int, dict[str, str]]], list[Problem]]:
    """Each data line as ``{field: text}``; the problems of lines with too many or too few
    fields, over-long cells or a CPR number (such lines are not checked further)."""
    width = len(table.header)
    lines, problems = [], []
    for row, cells in table.rows:
        found = []
        if len(cells) > width and any(cell.strip() for cell in cells[width:]):
            found.append(Problem(row, "row", _at(row, "row", _joined(_l(
                "The line has %(found)s fields, but the first line names %(expected)s "
                "columns.", found=len(cells), expected=width),
                COMMA_HINT if table.delimiter == "," else None))))
        elif len(cells) < width:
            found.append(Problem(row, "row", _at(row, "row", _l(
                "The line has %(found)s fields, but the first line names %(expected)s "
                "columns: write a value, or nothing, in every column, separated by "
                "%(delimiter)s.", found=len(cells), expected=width,
                delimiter=table.delimiter))))
        raw = {field: cells[index].strip() if index < len(cells) else ""
               for field, index in columns.items()}
        for field, text in raw.items():
            if len(text) > MAX_CELL_LENGTH:
                found.append(Problem(row, field, _at(row, field, _l(
                    "The value is %(length)s characters long; a value in this file is at "
                    "most %(max)s.", length=len(text), max=MAX_CELL_LENGTH))))
            elif looks_like_cpr(text):
                found.append(Problem(row, field, _at(row, field, CELL_CPR)))
        if found:
            problems.extend(found)
        else:
            lines.append((row, raw))
    return lines, problems


def _refuse_if(problems: list[Problem]) -> None:
    if not problems:
        return
    if len(problems) > MAX_REPORTED_PROBLEMS:
        rest = len(problems) - MAX_REPORTED_PROBLEMS
        problems = problems[:MAX_REPORTED_PROBLEMS] + [Problem(None, "file", _l(
            "… and %(count)s more problems. Correct them too before importing the file "
            "again.", count=rest))]
    raise ImportRefused(problems)


def _unguarded(text: str) -> str:
    """A cell as it was before :func:`_guarded` (an exported name read back)."""
    return text[1:] if text.startswith("'") and text[1:].startswith(_GUARDED) else text


def _same_name(text: str, name: str) -> bool:
    wanted = " ".join(name.split()).casefold()
    return any(" ".join(written.split()).casefold() == wanted
               for written in (text, _unguarded(text)))


def _one_per_date(items: list[tuple[int, dict]], message) -> list[Problem]:
    """A problem for each line whose date an earlier line has; ``message(date, first)``."""
    first: dict[str, int] = {}
    problems = []
    for row, item in items:
        if item["date"] in first:
            problems.append(Problem(row, "date", _at(row, "date", message(
                _long_date(date.fromisoformat(item["date"])), first[item["date"]]))))
        else:
            first[item["date"]] = row
    return problems


def _same_date_points(day, first):
    return _l("two points with the same date (%(date)s) – the first is on line %(first)s. A "
              "measure has one value per date: keep only one of the lines.",
              date=day, first=first)


def _same_date_reach(day, first):
    return _l("two reach counts with the same date (%(date)s) – the first is on line "
              "%(first)s. Keep only one of the lines.", date=day, first=first)


def import_points(data: bytes, measure: dict, period: Period = (None, None)) -> list[dict]:
    """The data points of ``measure`` in a CSV file, sorted by date – all of them, or none:
    raises :class:`ImportRefused` with every problem.

    The file: ";"-separated (or "," when its first line has no ";"), UTF-8 with or without
    BOM or Windows-1252, at most :data:`MAX_IMPORT_BYTES` and :data:`MAX_IMPORT_ROWS` lines
    of data. The first line names the columns ``dato;antal`` for a count, ``dato;tæller;
    nævner`` for a proportion, in any order, in any case, æøå or aeoeaa. The columns
    ``måling`` and ``type`` (and the other kind's columns, left empty) are allowed, so that a
    file from :func:`export_points_csv` imports: with ``måling``, only lines naming this
    measure (or none) are read. Two points on one date are refused. The caller merges the
    points with those already stored."""
    kind = measure["kind"]
    if kind not in MEASURE_KINDS:
        raise ValueError(f"unknown kind of measure: {kind!r}")
    table = _read_table(data)
    required = ("date", "value") if kind == "count" else ("date", "numerator", "denominator")
    columns = _columns(table, required, POINT_EXPORT_COLUMNS)
    if not table.rows:
        raise _refuse_file(FILE_NO_ROWS)
    lines, problems = _cells(table, columns)
    points: list[tuple[int, dict]] = []
    own_lines = 0
    for row, raw in lines:
        if raw.get("measure") and not _same_name(raw["measure"], measure["name"]):
            continue  # another measure's line in an exported file
        own_lines += 1
        stated = raw.get("kind", "")
        if stated and _KIND_WORDS.get(_canonical(stated)) != kind:
            problems.append(Problem(row, "kind", _at(row, "kind", _l(
                "The line's type is “%(found)s”, but the measure's type is “%(kind)s”: write "
                "%(kind)s, or leave the column empty.", found=stated,
                kind=KIND_WORDS[kind]))))
            continue
        others = ("numerator", "denominator") if kind == "count" else ("value",)
        if any(raw.get(field) for field in others):
            field = next(field for field in others if raw.get(field))
            problems.append(Problem(row, field, _at(row, field, COUNT_HAS_FRACTION
                                                    if kind == "count" else
                                                    PROPORTION_HAS_COUNT)))
            continue
        point, found = check_point(measure, raw, period, row=row)
        problems.extend(found)
        if point is not None:
            points.append((row, point))
    if not problems and own_lines == 0:
        raise _refuse_file(_l(
            "The file's column “måling” names no line for the measure “%(name)s”. Write the "
            "measure's name in that column, or leave the column out.", name=measure["name"]))
    problems.extend(_one_per_date(points, _same_date_points))
    _refuse_if(sorted(problems, key=lambda problem: problem.row or 0))
    return sorted((point for _row, point in points), key=lambda point: point["date"])


def import_reach(data: bytes, period: Period = (None, None)) -> list[dict]:
    """The reach sets in a CSV file (``dato`` and the eight columns of :func:`csv_template`
    for reach, all required), sorted by date – all of them or none, as
    :func:`import_points`; an empty count is 0 (:func:`check_reach`), one set per date."""
    table = _read_table(data)
    required = ("date", *REACH_FIELDS)
    columns = _columns(table, required, required)
    if not table.rows:
        raise _refuse_file(FILE_NO_ROWS)
    lines, problems = _cells(table, columns)
    sets: list[tuple[int, dict]] = []
    for row, raw in lines:
        reach, found = check_reach(raw, period, row=row)
        problems.extend(found)
        if reach is not None:
            sets.append((row, reach))
    problems.extend(_one_per_date(sets, _same_date_reach))
    _refuse_if(sorted(problems, key=lambda problem: problem.row or 0))
    return sorted((reach for _row, reach in sets), key=lambda reach: reach["date"])


# --- CSV out ----------------------------------------------------------------------------------


def _guarded(text: str) -> str:
    """A text cell that a spreadsheet will not run as a formula (OWASP: prefix ', since a
    cell starting with = + - @ tab or CR is read as one)."""
    return "'" + text if text.startswith(_GUARDED) else text


def _number_cell(value) -> str:
    """A number as Danish Excel reads it: decimal comma, no thousands separator."""
    if isinstance(value, bool) or value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    return format(Decimal(str(value)).normalize(), "f").replace(".", ",")


def _csv(header: list[str], rows: list[list]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_guarded(str(cell)) for cell in header])
    for cells in rows:
        writer.writerow([_guarded(cell) if isinstance(cell, str) else _number_cell(cell)
                         for cell in cells])
    return out.getvalue()


def csv_bytes(text: str) -> bytes:
    """A CSV text as given to the browser: UTF-8 with BOM, so that Excel reads æøå."""
    return text.encode(CSV_ENCODING)


def csv_template(measure: dict | None, period: Period = (None, None)) -> str:
    """The file to fill in: the header and one example line that :func:`import_points`
    accepts for ``measure`` (for None: the reach set, :func:`import_reach`). The example's
    date is today's, moved into ``period``, written the Danish way ("2.3.2026")."""
    start, end = period
    day = date.today()
    day = max(day, start) if start else day
    day = min(day, end) if end else day
    example = f"{day.day}.{day.month}.{day.year}"
    if measure is None:
        fields = ("date", *REACH_FIELDS)
        values = [example, 40, 200, 20, 120, 15, 100, 10, 80]
    elif measure["kind"] == "count":
        fields, values = ("date", "value"), [example, 12]
    else:
        fields, values = ("date", "numerator", "denominator"), [example, 8, 10]
    return _csv([COLUMNS[field] for field in fields], [values])


def export_points_csv(measures: list[dict], points: dict[str, list[dict]]) -> str:
    """Every point of ``measures`` (in their order, each by date), one line each:
    ``måling;type;dato;antal;tæller;nævner`` – ";"-separated, decimal comma, ISO dates,
    names guarded against formulas. Reads back with :func:`import_points` per measure."""
    rows = []
    for measure in measures:
        for point in sorted(points.get(measure["key"], []), key=lambda p: p["date"]):
            if measure["kind"] == "count":
                numbers = [point["value"], None, None]
            else:
                numbers = [None, point["numerator"], point["denominator"]]
            rows.append([measure["name"], KIND_WORDS[measure["kind"]], point["date"],
                         *numbers])
    return _csv([COLUMNS[field] for field in POINT_EXPORT_COLUMNS], rows)


def export_reach_csv(reach: list[dict]) -> str:
    """The reach sets by date, in the columns of :func:`csv_template` for reach (ISO dates);
    reads back with :func:`import_reach`."""
    fields = ("date", *REACH_FIELDS)
    return _csv([COLUMNS[field] for field in fields],
                [[item.get(field) for field in fields]
                 for item in sorted(reach, key=lambda item: item["date"])])


def _cycle_cell(key: str, value):
    if value is None:
        return ""
    if key == "decision" and value in DECISION_LABELS:
        return str(DECISION_LABELS[value])
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return value
    return str(value)


def export_cycles_csv(cycles: list[dict], labels: dict[str, str]) -> str:
    """The PDSA cycles, one line each: the cycle's number first, then a column for each key
    of ``labels`` in its order, headed by its label. The decision is written in words; text
    is guarded against formulas. For reading in a spreadsheet, not for import."""
    header = [_("No."), *(str(label) for label in labels.values())]
    rows = [[number, *(_cycle_cell(key, cycle.get(key)) for key in labels)]
            for number, cycle in enumerate(cycles, start=1)]
    return _csv(header, rows)
