"""The test log's measures, data points and reach sets as data (laks.testlog): what is typed
or imported is checked with a Danish message at its field and line, a CSV file is imported
whole or not at all, and what is exported reads back and runs no formula in a spreadsheet."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest
from flask_babel import force_locale

from laks import testlog
from laks.testlog import (
    MAX_IMPORT_BYTES,
    MAX_IMPORT_ROWS,
    REACH_FIELDS,
    ImportRefused,
    check_measure,
    check_point,
    check_reach,
    csv_bytes,
    csv_template,
    export_cycles_csv,
    export_points_csv,
    export_reach_csv,
    import_points,
    import_reach,
)

PERIOD = (date(2026, 2, 1), date(2027, 1, 31))
PERIOD_TEXT = "1. februar 2026 – 31. januar 2027"
COUNT = {"key": "m-fremmoedte", "name": "Fremmødte", "kind": "count", "better": "up",
         "goal": None, "baseline": None, "shared": None}
PROPORTION = {"key": "m-andel", "name": "Andel fra målgruppen", "kind": "proportion",
              "better": "up", "goal": 80, "baseline": None, "shared": None}
CPR = "010190-1234"  # 1 January 1990: a real, past birth date


@pytest.fixture
def da(app):
    with force_locale("da"):
        yield


def texts(problems) -> list[str]:
    return [str(problem.message) for problem in problems]


def refused(data: bytes, measure=COUNT, period=(None, None)) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        import_points(data, measure, period)
    assert str(caught.value).startswith("Intet blev importeret")
    return caught.value


def only(problems):
    assert len(problems) == 1, texts(problems)
    return problems[0]


# --- constants and labels ---------------------------------------------------------------------


@pytest.mark.parametrize(("labels", "key", "danish"), [
    (testlog.KIND_LABELS, "count", "Antal"),
    (testlog.KIND_LABELS, "proportion", "Andel (tæller/nævner)"),
    (testlog.BETTER_LABELS, "up", "Højere er bedre"),
    (testlog.BETTER_LABELS, "down", "Lavere er bedre"),
    (testlog.DECISION_LABELS, "adopt", "Fasthold"),
    (testlog.DECISION_LABELS, "adapt", "Justér"),
    (testlog.DECISION_LABELS, "abandon", "Forkast"),
    (testlog.STAGE_LABELS, "invited", "Inviteret"),
    (testlog.STAGE_LABELS, "recruited", "Rekrutteret"),
    (testlog.STAGE_LABELS, "started", "Startet"),
    (testlog.STAGE_LABELS, "completed", "Gennemført"),
    (testlog.GROUP_LABELS, "target", "Målgruppen"),
    (testlog.GROUP_LABELS, "all", "Alle"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_testlog_labels_are_danish(da, labels, key, danish):
    assert str(labels[key]) == danish


def test_testlog_constants_name_every_choice():
    assert testlog.MEASURE_KINDS == ("count", "proportion")
    assert testlog.BETTER == ("up", "down")
    assert testlog.DECISIONS == ("adopt", "adapt", "abandon")
    assert testlog.REACH_STAGES == ("invited", "recruited", "started", "completed")
    assert REACH_FIELDS == (
        "invited_target", "invited_all", "recruited_target", "recruited_all",
        "started_target", "started_all", "completed_target", "completed_all")
    for labels, keys in ((testlog.KIND_LABELS, testlog.MEASURE_KINDS),
                         (testlog.BETTER_LABELS, testlog.BETTER),
                         (testlog.DECISION_LABELS, testlog.DECISIONS),
                         (testlog.STAGE_LABELS, testlog.REACH_STAGES)):
        assert tuple(labels) == keys


# --- measures ---------------------------------------------------------------------------------

MEASURE = {"name": "Fremmødte", "kind": "count", "better": "up", "goal": "", "baseline": ""}


def test_testlog_measure_is_returned_clean(da):
    measure, problems = check_measure({"name": "  Andel   fra\tmålgruppen ", "kind": "proportion",
                                       "better": "down", "goal": "80 %", "baseline": "12"})
    assert problems == []
    assert measure == {"name": "Andel fra målgruppen", "kind": "proportion", "better": "down",
                       "goal": 80, "baseline": 12}


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, {"goal": None, "baseline": None}),
    ({"goal": "12,5"}, {"goal": 12.5}),
    ({"goal": "1.234"}, {"goal": 1234}),
    ({"goal": "0"}, {"goal": 0}),
    ({"baseline": "10"}, {"baseline": 10}),
    ({"baseline": "100"}, {"baseline": 100}),
    ({"kind": "proportion", "goal": "100"}, {"goal": 100}),
    ({"kind": "proportion", "goal": "62,5%"}, {"goal": 62.5}),
    ({"name": "x" * 120}, {"name": "x" * 120}),
    ({"name": "Fremmødte, P-nr. 1001234567"}, {"name": "Fremmødte, P-nr. 1001234567"}),
], ids=["empty-optional", "decimal-goal", "thousands", "zero-goal", "baseline-10",
        "baseline-100", "percent-100", "percent-sign", "name-120", "labelled-number"])
def test_testlog_measure_accepts(da, changes, expected):
    measure, problems = check_measure({**MEASURE, **changes})
    assert problems == []
    for key, value in expected.items():
        assert measure[key] == value and type(measure[key]) is type(value)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"name": "   "}, "name",
     "Skriv et navn på målingen, fx „Fremmødte til første samtale“."),
    ({"name": "x" * 121}, "name", "Navnet er 121 tegn langt; skriv højst 120."),
    ({"name": f"Borger {CPR}"}, "name",
     "Det ligner et CPR-nummer. laks gemmer ingen personoplysninger om borgere: giv målingen "
     "et navn uden det."),
    ({"name": "Frem\x00mødte"}, "name",
     "Navnet indeholder et usynligt kontroltegn. Skriv navnet igen."),
    ({"kind": "ratio"}, "kind", "Vælg, om målingen er et antal eller en andel (tæller/nævner)."),
    ({"kind": ""}, "kind", "Vælg, om målingen er et antal eller en andel (tæller/nævner)."),
    ({"better": "sideways"}, "better", "Vælg, om højere eller lavere er bedre."),
    ({"kind": "proportion", "goal": "120"}, "goal",
     "Målet for en andel er en procent fra 0 til 100, fx 80 for 80 %."),
    ({"kind": "proportion", "goal": "-5"}, "goal",
     "Målet for en andel er en procent fra 0 til 100, fx 80 for 80 %."),
    ({"goal": "-1"}, "goal", "Skriv 0 eller mere – et antal kan ikke være negativt."),
    ({"goal": "mange"}, "goal", "Skriv et tal, f.eks. 12 eller 12,5."),
    ({"baseline": "9"}, "baseline", "Frys medianen på 10 til 100 målinger, eller lad feltet stå "
     "tomt: med færre end 10 målinger er medianen for usikker til at vurdere skift og serier ud "
     "fra, og flere end 100 målinger er mere, end en afprøvning rummer."),
    ({"baseline": "101"}, "baseline", "Frys medianen på 10 til 100 målinger"),
    ({"baseline": "12,5"}, "baseline", "Frys medianen på 10 til 100 målinger"),
    ({"baseline": "tolv"}, "baseline", "Frys medianen på 10 til 100 målinger"),
], ids=["name-empty", "name-long", "name-cpr", "name-nul", "kind-unknown", "kind-empty",
        "better", "percent-over-100", "percent-negative", "goal-negative", "goal-not-number",
        "baseline-9", "baseline-101", "baseline-decimal", "baseline-word"])
def test_testlog_measure_refuses_with_a_danish_message_at_the_field(da, changes, field,
                                                                       message):
    measure, problems = check_measure({**MEASURE, **changes})
    assert measure is None
    problem = only(problems)
    assert (problem.row, problem.field) == (None, field)
    assert str(problem.message).startswith(message)


def test_testlog_measure_names_every_problem_at_once(da):
    measure, problems = check_measure({"name": "", "kind": "", "better": "", "goal": "x",
                                       "baseline": "1"})
    assert measure is None
    assert [problem.field for problem in problems] == ["name", "kind", "better", "goal",
                                                       "baseline"]


# --- data points ------------------------------------------------------------------------------


@pytest.mark.parametrize("written", ["2026-03-02", "2.3.2026", "02.03.2026", "02-03-2026",
                                     "02/03/2026", " 2/3/2026 "])
def test_testlog_point_reads_iso_and_danish_dates(da, written):
    point, problems = check_point(COUNT, {"date": written, "value": "4"}, PERIOD)
    assert problems == []
    assert point == {"date": "2026-03-02", "value": 4}


@pytest.mark.parametrize(("written", "stored"), [
    ("12", 12), ("1.234", 1234), ("12,5", 12.5), ("0", 0), ("12.5", 12.5), ("12,0", 12),
    ("999.999.999", 999_999_999),
], ids=["whole", "thousands", "decimal-comma", "zero", "decimal-point", "whole-decimal", "max"])
def test_testlog_count_is_stored_as_int_when_whole(da, written, stored):
    point, problems = check_point(COUNT, {"date": "2.3.2026", "value": written})
    assert problems == []
    assert point["value"] == stored and type(point["value"]) is type(stored)


@pytest.mark.parametrize(("numerator", "denominator"), [("8", "10"), ("0", "1"), ("10", "10"),
                                                         ("1.200", "1.500")])
def test_testlog_proportion_is_stored_as_whole_numbers(da, numerator, denominator):
    point, problems = check_point(PROPORTION, {"date": "2026-03-02", "numerator": numerator,
                                               "denominator": denominator})
    assert problems == []
    assert point == {"date": "2026-03-02", "numerator": int(numerator.replace(".", "")),
                     "denominator": int(denominator.replace(".", ""))}


def test_testlog_point_on_the_period_edges_is_accepted(da):
    for day in PERIOD:
        point, problems = check_point(COUNT, {"date": day.isoformat(), "value": "1"}, PERIOD)
        assert problems == [] and point["date"] == day.isoformat()


@pytest.mark.parametrize(("measure", "changes", "period", "field", "message"), [
    (COUNT, {"date": ""}, PERIOD, "date", "Skriv datoen, fx 2.3.2026 eller 2026-03-02."),
    (COUNT, {"date": "2026/03/02"}, PERIOD, "date",
     "Skriv datoen som dag.måned.år, fx 2.3.2026, eller som 2026-03-02."),
    (COUNT, {"date": "2.3.26"}, PERIOD, "date", "Skriv datoen som dag.måned.år"),
    (COUNT, {"date": "2. marts"}, PERIOD, "date", "Skriv datoen som dag.måned.år"),
    (COUNT, {"date": "31.2.2026"}, PERIOD, "date",
     "Datoen 31.2.2026 findes ikke. Skriv en dato, der findes i kalenderen, fx 2.3.2026."),
    (COUNT, {"date": "2.3.1999"}, (None, None), "date",
     "Skriv en dato i årene 2000–2099, fx 2.3.2026."),
    (COUNT, {"date": "31.1.2026"}, PERIOD, "date",
     f"Datoen skal ligge i forløbets periode, {PERIOD_TEXT}."),
    (COUNT, {"date": "1.2.2027"}, PERIOD, "date",
     f"Datoen skal ligge i forløbets periode, {PERIOD_TEXT}."),
    (COUNT, {"date": "31.1.2026"}, (PERIOD[0], None), "date",
     "Datoen skal være på eller efter forløbets start, 1. februar 2026."),
    (COUNT, {"date": "1.2.2027"}, (None, PERIOD[1]), "date",
     "Datoen skal være på eller før forløbets slutning, 31. januar 2027."),
    (COUNT, {"value": ""}, PERIOD, "value", "Skriv antallet, fx 12 eller 12,5."),
    (COUNT, {"value": "-3"}, PERIOD, "value",
     "Skriv 0 eller mere – et antal kan ikke være negativt."),
    (COUNT, {"value": "12 borgere"}, PERIOD, "value", "Skriv et tal, f.eks. 12 eller 12,5."),
    (COUNT, {"value": "1e5"}, PERIOD, "value",
     "Skriv tallet uden eksponent (e), fx 1.234 eller 12,5."),
    (COUNT, {"value": "1.000.000.000"}, PERIOD, "value", "Skriv et tal på højst 999.999.999."),
    (COUNT, {"value": "1201901234"}, PERIOD, "value",
     "Det ligner et CPR-nummer. laks gemmer ingen personoplysninger om borgere: skriv kun det "
     "samlede antal, fx 12."),
    (COUNT, {"value": "0101901234"}, PERIOD, "value", "Det ligner et CPR-nummer."),
    (PROPORTION, {"numerator": "12", "denominator": "10"}, PERIOD, "numerator",
     "Tælleren (12) er større end nævneren (10). Tælleren er en del af nævneren, fx 8 af 10."),
    (PROPORTION, {"numerator": "1.200", "denominator": "1.000"}, PERIOD, "numerator",
     "Tælleren (1.200) er større end nævneren (1.000)."),
    (PROPORTION, {"numerator": "2,5"}, PERIOD, "numerator",
     "Skriv et helt tal, fx 12 – ikke et decimaltal."),
    (PROPORTION, {"numerator": "otte"}, PERIOD, "numerator",
     "Skriv et helt tal, fx 12 – ikke et decimaltal."),
    (PROPORTION, {"numerator": "-1"}, PERIOD, "numerator",
     "Skriv 0 eller mere – et antal kan ikke være negativt."),
    (PROPORTION, {"numerator": ""}, PERIOD, "numerator",
     "Skriv tælleren som et helt tal, fx 8 (i 8 af 10)."),
    (PROPORTION, {"denominator": ""}, PERIOD, "denominator",
     "Skriv nævneren som et helt tal, fx 10 (i 8 af 10)."),
    (PROPORTION, {"numerator": "0", "denominator": "0"}, PERIOD, "denominator",
     "Nævneren skal være større end 0: det er det antal, andelen regnes af, fx 10 i 8 af 10."),
    (PROPORTION, {"denominator": "10,5"}, PERIOD, "denominator", "Skriv et helt tal"),
], ids=["date-empty", "date-iso-slashes", "date-short-year", "date-words", "date-unreal",
        "date-year", "before-period", "after-period", "before-start", "after-end",
        "value-empty", "value-negative", "value-words", "value-exponent", "value-too-large",
        "value-cpr", "value-cpr-leading-zero", "numerator-over", "numerator-over-thousands",
        "numerator-decimal", "numerator-word", "numerator-negative", "numerator-empty",
        "denominator-empty", "denominator-zero", "denominator-decimal"])
def test_testlog_point_refuses_with_a_danish_message_at_the_field(da, measure, changes, period,
                                                                     field, message):
    raw = ({"date": "2.3.2026", "value": "12"} if measure is COUNT
           else {"date": "2.3.2026", "numerator": "8", "denominator": "10"})
    point, problems = check_point(measure, {**raw, **changes}, period)
    assert point is None
    problem = only(problems)
    assert (problem.row, problem.field) == (None, field)
    assert str(problem.message).startswith(message)


def test_testlog_point_in_a_file_names_its_line_and_column(da):
    point, problems = check_point(PROPORTION, {"date": "31.2.2026", "numerator": "12",
                                               "denominator": "10"}, row=5)
    assert point is None
    assert [(problem.row, problem.field) for problem in problems] == [(5, "date"),
                                                                      (5, "numerator")]
    assert texts(problems) == [
        "Linje 5, kolonne „dato“: Datoen 31.2.2026 findes ikke. Skriv en dato, der findes i "
        "kalenderen, fx 2.3.2026.",
        "Linje 5, kolonne „tæller“: Tælleren (12) er større end nævneren (10). Tælleren er en "
        "del af nævneren, fx 8 af 10.",
    ]


def test_testlog_point_messages_follow_the_language(app):
    with force_locale("en_GB"):  # laks's English
        _point, problems = check_point(COUNT, {"date": "31.1.2026", "value": "1"}, PERIOD)
        assert texts(problems) == [
            "The date must lie in the programme's period, 1 February 2026 – 31 January 2027."]


# --- reach ------------------------------------------------------------------------------------

REACH = {"date": "2.3.2026", "invited_target": "40", "invited_all": "200",
         "recruited_target": "20", "recruited_all": "120", "started_target": "15",
         "started_all": "100", "completed_target": "10", "completed_all": "80"}


def test_testlog_reach_is_returned_as_whole_numbers(da):
    reach, problems = check_reach({**REACH, "invited_all": "1.200"}, PERIOD)
    assert problems == []
    assert reach == {"date": "2026-03-02", "invited_target": 40, "invited_all": 1200,
                     "recruited_target": 20, "recruited_all": 120, "started_target": 15,
                     "started_all": 100, "completed_target": 10, "completed_all": 80}


def test_testlog_reach_empty_counts_are_zero(da):
    reach, problems = check_reach({"date": "2.3.2026", "invited_target": "3",
                                   "invited_all": "30"})
    assert problems == []
    assert reach == {"date": "2026-03-02", "invited_target": 3, "invited_all": 30,
                     **{field: 0 for field in REACH_FIELDS[2:]}}


def test_testlog_reach_stages_need_not_shrink(da):
    """People may start without having been invited (they walk in): not refused."""
    reach, problems = check_reach({**REACH, "started_target": "50", "started_all": "300"})
    assert problems == [] and reach["started_all"] > reach["invited_all"]


@pytest.mark.parametrize(("changes", "period", "field", "message"), [
    ({field: "" for field in REACH_FIELDS}, (None, None), "invited_target",
     "Skriv mindst ét antal. Et tomt felt tæller som 0."),
    ({"invited_target": "12", "invited_all": "10"}, (None, None), "invited_target",
     "Inviteret: målgruppen (12) er større end alle (10). Målgruppen tælles med blandt alle og "
     "kan højst være lige så stor."),
    ({"completed_target": "81"}, (None, None), "completed_target",
     "Gennemført: målgruppen (81) er større end alle (80)."),
    ({"started_all": "12,5"}, (None, None), "started_all",
     "Skriv et helt tal, fx 12 – ikke et decimaltal."),
    ({"recruited_target": "-1"}, (None, None), "recruited_target",
     "Skriv 0 eller mere – et antal kan ikke være negativt."),
    ({"invited_all": "0101901234"}, (None, None), "invited_all", "Det ligner et CPR-nummer."),
    ({"date": ""}, (None, None), "date", "Skriv datoen, fx 2.3.2026 eller 2026-03-02."),
    ({"date": "1.1.2026"}, PERIOD, "date",
     f"Datoen skal ligge i forløbets periode, {PERIOD_TEXT}."),
], ids=["all-empty", "target-over-all", "completed-over", "decimal", "negative", "cpr",
        "date-empty", "date-outside"])
def test_testlog_reach_refuses_with_a_danish_message_at_the_field(da, changes, period, field,
                                                                     message):
    reach, problems = check_reach({**REACH, **changes}, period)
    assert reach is None
    problem = only(problems)
    assert (problem.row, problem.field) == (None, field)
    assert str(problem.message).startswith(message)


# --- CSV templates ----------------------------------------------------------------------------


@pytest.mark.parametrize(("measure", "header"), [
    (COUNT, "dato;antal"),
    (PROPORTION, "dato;tæller;nævner"),
    (None, "dato;inviteret_målgruppe;inviteret_alle;rekrutteret_målgruppe;rekrutteret_alle;"
           "startet_målgruppe;startet_alle;gennemført_målgruppe;gennemført_alle"),
], ids=["count", "proportion", "reach"])
@pytest.mark.parametrize("period", [
    (None, None), (date(2024, 1, 1), date(2024, 12, 31)), (date(2098, 1, 1), None),
    (date.today(), date.today()),
], ids=["no-period", "past", "future", "today"])
def test_testlog_template_is_a_header_and_an_example_the_importer_accepts(da, measure, header,
                                                                           period):
    text = csv_template(measure, period)
    lines = text.split("\r\n")
    assert lines[0] == header and len(lines) == 3 and lines[2] == ""
    day, *values = lines[1].split(";")
    assert len(values) == header.count(";")
    assert "-" not in day and "." in day  # the Danish way: 2.3.2026
    data = csv_bytes(text)
    assert data.startswith(b"\xef\xbb\xbf")
    imported = (import_reach(data, period) if measure is None
                else import_points(data, measure, period))
    assert len(imported) == 1
    start, end = period
    assert (start or date.min) <= date.fromisoformat(imported[0]["date"]) <= (end or date.max)


# --- CSV import: what is accepted -------------------------------------------------------------


def test_testlog_import_reads_an_excel_file(da):
    data = (b"\xef\xbb\xbfdato;antal\r\n2.3.2026;12,5\r\n01-03-2026;1.234\r\n"
            b"2026-03-04;0\r\n\r\n\r\n")
    assert import_points(data, COUNT, PERIOD) == [
        {"date": "2026-03-01", "value": 1234},
        {"date": "2026-03-02", "value": 12.5},
        {"date": "2026-03-04", "value": 0},
    ]


def test_testlog_import_reads_windows_1252(da):
    data = "Dato;Tæller;Nævner\r\n2.3.2026;8;10\r\n".encode("cp1252")
    assert b"T\xe6ller" in data
    assert import_points(data, PROPORTION) == [
        {"date": "2026-03-02", "numerator": 8, "denominator": 10}]


@pytest.mark.parametrize("header", [
    "dato;tæller;nævner", "DATO;TÆLLER;NÆVNER", "Dato;Taeller;Naevner", "dato;taeller;nævner",
    " dato ; tæller ; nævner ", "nævner;dato;tæller", "date;numerator;denominator",
    "dato;tæller;nævner;;",
], ids=["plain", "upper", "ae", "mixed", "spaces", "any-order", "english", "excel-empty"])
def test_testlog_import_headers_in_any_case_order_and_spelling(da, header):
    cells = {"dato": "2.3.2026", "tæller": "8", "nævner": "10"}
    order = [testlog._canonical(cell) for cell in header.split(";") if cell.strip()]
    names = {"dato": "dato", "date": "dato", "taeller": "tæller", "numerator": "tæller",
             "naevner": "nævner", "denominator": "nævner"}
    row = ";".join(cells[names[name]] for name in order) + (";;" if header.endswith(";;") else "")
    data = f"{header}\r\n{row}\r\n".encode()
    assert import_points(data, PROPORTION) == [
        {"date": "2026-03-02", "numerator": 8, "denominator": 10}]


def test_testlog_import_reads_commas_with_quoted_decimal_commas(da):
    data = b'dato,antal\n2026-03-02,"12,5"\n2026-03-03,4\n2026-03-04,7.5\n'
    assert import_points(data, COUNT) == [
        {"date": "2026-03-02", "value": 12.5}, {"date": "2026-03-03", "value": 4},
        {"date": "2026-03-04", "value": 7.5}]


def test_testlog_import_skips_blank_lines_and_lines_of_empty_cells(da):
    data = b"dato;antal\n\n2.3.2026;1\n;\n ; \n3.3.2026;2\n;;\n\n"
    assert [point["value"] for point in import_points(data, COUNT)] == [1, 2]


def test_testlog_import_accepts_the_limits(da):
    first = date(2026, 1, 1)
    rows = "".join(f"{first + timedelta(days=n)};{n}\n" for n in range(MAX_IMPORT_ROWS))
    points = import_points(f"dato;antal\n{rows}".encode(), COUNT)
    assert len(points) == MAX_IMPORT_ROWS
    data = b"dato;antal\n2.3.2026;1\n"
    data += b"\n" * (MAX_IMPORT_BYTES - len(data))
    assert len(data) == MAX_IMPORT_BYTES
    assert import_points(data, COUNT) == [{"date": "2026-03-02", "value": 1}]


# --- CSV import: what is refused, all or nothing -----------------------------------------------


def test_testlog_import_one_bad_line_refuses_the_whole_file(da):
    data = b"dato;antal\n2.3.2026;12\n3.3.2026;tolv\n4.3.2026;14\n"
    problem = only(refused(data).problems)
    assert (problem.row, problem.field) == (3, "value")
    assert str(problem.message) == ("Linje 3, kolonne „antal“: Skriv et tal, f.eks. 12 eller "
                                    "12,5.")


def test_testlog_import_refusal_says_nothing_was_imported(da):
    refusal = refused(b"dato;antal\n2.3.2026;-1\n")
    assert str(refusal) == ("Intet blev importeret: en fil importeres helt eller slet ikke. "
                            "Ret fejlene nedenfor, og importér hele filen igen.")


def test_testlog_import_line_numbers_count_physical_lines(da):
    data = b"dato;antal\r\n\r\n2.3.2026;1\r\n\r\n3.3.2026;x\r\n"
    assert only(refused(data).problems).row == 5


def test_testlog_import_lists_every_problem_in_line_order(da):
    data = "dato;tæller;nævner\n31.2.2026;1;2\n2.3.2026;5;4\n3.3.2026;1;0\n".encode()
    problems = refused(data, PROPORTION).problems
    assert [(problem.row, problem.field) for problem in problems] == [
        (2, "date"), (3, "numerator"), (4, "denominator")]
    assert str(problems[1].message).startswith(
        "Linje 3, kolonne „tæller“: Tælleren (5) er større end nævneren (4).")


def test_testlog_import_refuses_dates_outside_the_period(da):
    problem = only(refused(b"dato;antal\n2.3.2026;1\n1.2.2027;2\n", period=PERIOD).problems)
    assert str(problem.message) == (
        f"Linje 3, kolonne „dato“: Datoen skal ligge i forløbets periode, {PERIOD_TEXT}.")


def test_testlog_import_refuses_two_points_on_one_date(da):
    data = b"dato;antal\n2.3.2026;1\n3.3.2026;5\n2026-03-02;2\n"
    problem = only(refused(data).problems)
    assert (problem.row, problem.field) == (4, "date")
    assert str(problem.message) == (
        "Linje 4, kolonne „dato“: to målinger med samme dato (2. marts 2026) – den første står "
        "i linje 2. En måling har én værdi pr. dato: behold kun én af linjerne.")


@pytest.mark.parametrize(("data", "measure", "expected", "found"), [
    (b"Dag;Tal\n2.3.2026;1\n", COUNT, "dato;antal", "Dag;Tal"),
    (b"2.3.2026;12\n3.3.2026;1\n", COUNT, "dato;antal", "2.3.2026;12"),
    (b"dato;antal;kommentar\n2.3.2026;1;fin dag\n", COUNT, "dato;antal", "dato;antal;kommentar"),
    ("dato;tæller;nævner\n2.3.2026;1;2\n".encode(), COUNT, "dato;antal", "dato;tæller;nævner"),
    (b"dato;antal\n2.3.2026;1\n", PROPORTION, "dato;tæller;nævner", "dato;antal"),
    (b"dato;dato;antal\n2.3.2026;2.3.2026;1\n", COUNT, "dato;antal", "dato;dato;antal"),
    (b"dato,antal,\xc3\xa6ble\n", COUNT, "dato;antal", "dato,antal,æble"),
], ids=["unknown-names", "no-header", "extra-column", "proportion-file", "count-file",
        "twice", "commas"])
def test_testlog_import_refuses_a_wrong_header_naming_expected_and_found(da, data, measure,
                                                                         expected, found):
    problem = only(refused(data, measure).problems)
    assert (problem.row, problem.field) == (1, "header")
    assert str(problem.message) == (
        f"Første linje skal nævne kolonnerne {expected}, men den nævner {found}. Brug "
        "skabelonen, eller ret første linje.")


def test_testlog_import_header_message_never_repeats_a_cpr_number(da):
    problem = only(refused(f"dato;antal;{CPR}\n2.3.2026;1;2\n".encode()).problems)
    assert problem.field == "header" and CPR not in str(problem.message)


def test_testlog_import_unquoted_decimal_comma_in_a_comma_file(da):
    problem = only(refused(b"dato,antal\n2026-03-02,12,5\n").problems)
    assert (problem.row, problem.field) == (2, "row")
    assert str(problem.message) == (
        "Linje 2: Linjen har 3 felter, men første linje nævner 2 kolonner. I en fil adskilt med "
        "kommaer skal et tal med decimalkomma stå i anførselstegn, fx \"12,5\" – eller gem filen "
        "adskilt med semikolon.")


def test_testlog_import_too_many_fields_with_semicolons_has_no_comma_hint(da):
    problem = only(refused(b"dato;antal\n2.3.2026;12;5\n").problems)
    assert str(problem.message) == (
        "Linje 2: Linjen har 3 felter, men første linje nævner 2 kolonner.")


def test_testlog_import_too_few_fields(da):
    problem = only(refused(b"dato;t\xc3\xa6ller;n\xc3\xa6vner\n2.3.2026;8\n",
                           PROPORTION).problems)
    assert (problem.row, problem.field) == (2, "row")
    assert str(problem.message) == (
        "Linje 2: Linjen har 2 felter, men første linje nævner 3 kolonner: skriv en værdi eller "
        "intet i hver kolonne, adskilt med ;.")


def test_testlog_import_refuses_too_many_lines(da):
    first = date(2026, 1, 1)
    rows = "".join(f"{first + timedelta(days=n)};1\n" for n in range(MAX_IMPORT_ROWS + 1))
    problem = only(refused(f"dato;antal\n{rows}".encode()).problems)
    assert (problem.row, problem.field) == (None, "file")
    assert str(problem.message) == (
        "Filen har mere end 2.000 linjer med data; laks importerer højst 2.000 ad gangen. Del "
        "den op i mindre filer.")


@pytest.mark.parametrize("data", [
    b"dato;antal\n2.3.2026;1\n" + b"\n" * MAX_IMPORT_BYTES,
    b"\x00" * (MAX_IMPORT_BYTES + 1),  # the size is checked before what is in the file
], ids=["text", "binary"])
def test_testlog_import_refuses_a_file_over_1_mb(da, data):
    problem = only(refused(data).problems)
    assert str(problem.message) == ("Filen er på 1,1 MB; laks importerer filer på højst 1 MB. "
                                    "Del den op i mindre filer.")


@pytest.mark.parametrize(("data", "message"), [
    (b"", "Filen er tom."),
    (b"\xef\xbb\xbf\r\n  \r\n", "Filen er tom."),
    (b";;;\n;;\n", "Filen er tom."),
    (b"dato;antal\r\n\r\n", "Filen har kolonnernes navne, men ingen linjer med data under "
                            "dem. Skriv én linje pr. dato."),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "Det er ikke en tekstfil."),
    (b"dato;antal\n2.3.2026;1\x07\n", "Det er ikke en tekstfil."),
    (b"\x81\x8d\x8f\x90\x9d", "Det er ikke en tekstfil."),
    (b"PK\x03\x04\x14\x00\x06\x00", "Det er en Excel-projektmappe, ikke en CSV-fil."),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Det er en Excel-projektmappe, ikke en CSV-fil."),
    ("dato;antal\n2.3.2026;1\n".encode("utf-16"), "Filen er gemt som Unicode-tekst (UTF-16)."),
], ids=["empty", "bom-and-blank", "only-separators", "header-only", "png", "control-char",
        "not-cp1252", "xlsx", "xls", "utf-16"])
def test_testlog_import_refuses_what_is_not_a_csv_file(da, data, message):
    problem = only(refused(data).problems)
    assert (problem.row, problem.field) == (None, "file")
    assert str(problem.message).startswith(message)


@pytest.mark.parametrize(("data", "row", "field"), [
    (f"dato;antal\n2.3.2026;1\n3.3.2026;{CPR}\n".encode(), 3, "value"),
    (b"dato;antal\n2.3.2026;0101901234\n", 2, "value"),
    (f"måling;dato;antal\nFremmødte;2.3.2026;1\n{CPR};3.3.2026;4\n".encode(), 3, "measure"),
    (f"måling;type;dato;antal\nFremmødte;{CPR};2.3.2026;1\n".encode(), 2, "kind"),
    (f"dato;antal\n{CPR};1\n".encode(), 2, "date"),
    (f"dato;antal\n2.3.2026;1\n3.3.2026;4;{CPR}\n".encode(), 3, "row"),
], ids=["value", "value-bare-digits", "other-measure-name", "type", "date", "extra-field"])
def test_testlog_import_refuses_a_cpr_number_anywhere(da, data, row, field):
    problems = refused(data).problems
    assert (problems[0].row, problems[0].field) == (row, field)
    if field != "row":
        assert str(problems[0].message).endswith(
            "Det ligner et CPR-nummer. laks gemmer ingen personoplysninger om borgere: filen må "
            "kun indeholde datoer og samlede antal. Fjern det.")


def test_testlog_import_refuses_an_overlong_cell(da):
    problem = only(refused(b"dato;antal\n2.3.2026;" + b"1" * 201 + b"\n").problems)
    assert str(problem.message) == (
        "Linje 2, kolonne „antal“: Værdien er 201 tegn lang; en værdi i denne fil er højst 200 "
        "tegn.")


def test_testlog_import_reports_at_most_20_problems_and_counts_the_rest(da):
    rows = "".join(f"{day}.3.2026;x\n" for day in range(1, 31))
    problems = refused(f"dato;antal\n{rows}".encode()).problems
    assert len(problems) == 21
    assert [problem.row for problem in problems[:20]] == list(range(2, 22))
    assert str(problems[-1].message) == (
        "… og 10 fejl mere. Ret også dem, før du importerer filen igen.")


@pytest.mark.parametrize(("data", "measure", "message"), [
    (b"m\xc3\xa5ling;type;dato;antal\nFremm\xc3\xb8dte;andel;2.3.2026;12\n", COUNT,
     "Linje 2, kolonne „type“: Linjens type er „andel“, men målingens type er „antal“: skriv "
     "antal, eller lad kolonnen stå tom."),
    (b"dato;antal;t\xc3\xa6ller;n\xc3\xa6vner\n2.3.2026;12;1;2\n", COUNT,
     "Linje 2, kolonne „tæller“: Målingen er et antal: lad kolonnerne tæller og nævner stå "
     "tomme."),
    (b"dato;antal;t\xc3\xa6ller;n\xc3\xa6vner\n2.3.2026;12;1;2\n", PROPORTION,
     "Linje 2, kolonne „antal“: Målingen er en andel: lad kolonnen antal stå tom, og skriv "
     "tæller og nævner."),
    (b"m\xc3\xa5ling;dato;antal\nAndet;2.3.2026;12\n", COUNT,
     "Filens kolonne „måling“ nævner ingen linje for målingen „Fremmødte“. Skriv målingens "
     "navn i den kolonne, eller udelad kolonnen."),
], ids=["type-differs", "count-with-fraction", "proportion-with-count", "no-line-for-measure"])
def test_testlog_import_refuses_lines_of_another_kind(da, data, measure, message):
    assert texts(refused(data, measure).problems) == [message]


def test_testlog_import_reads_only_the_measures_own_lines(da):
    data = ("måling;type;dato;antal;tæller;nævner\n"
            "fremmødte ;antal;2.3.2026;3;;\n"
            "Andet;antal;2.3.2026;99;;\n"
            ";;3.3.2026;4;;\n").encode()
    assert import_points(data, COUNT) == [{"date": "2026-03-02", "value": 3},
                                          {"date": "2026-03-03", "value": 4}]


# --- reach import -----------------------------------------------------------------------------

REACH_HEADER = ("dato;inviteret_målgruppe;inviteret_alle;rekrutteret_målgruppe;rekrutteret_alle;"
                "startet_målgruppe;startet_alle;gennemført_målgruppe;gennemført_alle")


def test_testlog_import_reach_reads_an_excel_file(da):
    data = ("\ufeff" + REACH_HEADER.replace("å", "aa").replace("ø", "oe").upper() + "\r\n"
            "2.4.2026;40;200;20;120;15;100;10;80\r\n"
            "2.3.2026;30;100;;;;;;\r\n\r\n").encode("utf-8")
    assert import_reach(data, PERIOD) == [
        {"date": "2026-03-02", "invited_target": 30, "invited_all": 100,
         **{field: 0 for field in REACH_FIELDS[2:]}},
        {"date": "2026-04-02", "invited_target": 40, "invited_all": 200, "recruited_target": 20,
         "recruited_all": 120, "started_target": 15, "started_all": 100,
         "completed_target": 10, "completed_all": 80},
    ]


def test_testlog_import_reach_needs_every_column(da):
    header = REACH_HEADER.rsplit(";", 1)[0]
    with pytest.raises(ImportRefused) as caught:
        import_reach(f"{header}\n2.3.2026;1;2;1;2;1;2;1\n".encode())
    problem = only(caught.value.problems)
    assert str(problem.message).startswith(
        f"Første linje skal nævne kolonnerne {REACH_HEADER}, men den nævner {header}.")


@pytest.mark.parametrize(("rows", "message"), [
    ("2.3.2026;12;10;0;0;0;0;0;0\n",
     "Linje 3, kolonne „inviteret_målgruppe“: Inviteret: målgruppen (12) er større end alle "
     "(10)."),
    ("2.3.2026;;;;;;;;\n",
     "Linje 3, kolonne „inviteret_målgruppe“: Skriv mindst ét antal. Et tomt felt tæller som 0."),
    ("2.3.2026;1;2;0;0;0;0;0;0\n02-03-2026;1;2;0;0;0;0;0;0\n",
     "Linje 4, kolonne „dato“: to opgørelser af rækkevidden med samme dato (2. marts 2026) – "
     "den første står i linje 3."),
    ("1.1.2026;1;2;0;0;0;0;0;0\n",
     f"Linje 3, kolonne „dato“: Datoen skal ligge i forløbets periode, {PERIOD_TEXT}."),
    (f"2.3.2026;1;2;0;0;0;0;0;{CPR}\n",
     "Linje 3, kolonne „gennemført_alle“: Det ligner et CPR-nummer."),
], ids=["target-over-all", "all-empty", "same-date", "outside-period", "cpr"])
def test_testlog_import_reach_refuses_the_whole_file(da, rows, message):
    data = f"{REACH_HEADER}\n3.3.2026;1;2;1;2;1;2;1;2\n{rows}".encode()
    with pytest.raises(ImportRefused) as caught:
        import_reach(data, PERIOD)
    assert str(caught.value).startswith("Intet blev importeret")
    assert str(only(caught.value.problems).message).startswith(message)


# --- export -----------------------------------------------------------------------------------

POINTS = {
    "m-fremmoedte": [{"date": "2026-03-09", "value": 12.5}, {"date": "2026-03-02", "value": 3},
                     {"date": "2026-03-16", "value": 1234}],
    "m-andel": [{"date": "2026-03-02", "numerator": 8, "denominator": 10}],
}


def test_testlog_export_points_one_line_per_point(da):
    assert export_points_csv([COUNT, PROPORTION], POINTS) == (
        "måling;type;dato;antal;tæller;nævner\r\n"
        "Fremmødte;antal;2026-03-02;3;;\r\n"
        "Fremmødte;antal;2026-03-09;12,5;;\r\n"
        "Fremmødte;antal;2026-03-16;1234;;\r\n"
        "Andel fra målgruppen;andel;2026-03-02;;8;10\r\n")


MEASURES = [
    COUNT,
    PROPORTION,
    {**COUNT, "key": "m-formel", "name": "=Fremmødte+1"},
    {**COUNT, "key": "m-minus", "name": "-minus"},
    {**PROPORTION, "key": "m-at", "name": "@andel"},
    {**COUNT, "key": "m-quote", "name": 'Fremmødte; "nye" borgere'},
]
ALL_POINTS = {
    **POINTS,
    "m-formel": [{"date": "2026-03-02", "value": 0.25}],
    "m-minus": [{"date": "2026-03-02", "value": 7}, {"date": "2026-03-03", "value": 999_999_999}],
    "m-at": [{"date": "2026-04-01", "numerator": 0, "denominator": 3}],
    "m-quote": [{"date": "2026-03-02", "value": 1}],
}


@pytest.mark.parametrize("measure", MEASURES, ids=[measure["key"] for measure in MEASURES])
def test_testlog_export_points_reads_back_per_measure(da, measure):
    data = csv_bytes(export_points_csv(MEASURES, ALL_POINTS))
    expected = sorted(ALL_POINTS[measure["key"]], key=lambda point: point["date"])
    imported = import_points(data, measure, PERIOD)
    assert imported == expected
    assert [type(v) for p in imported for v in p.values()] == [
        type(v) for p in expected for v in p.values()]


def test_testlog_export_reach_reads_back(da):
    reach = [{"date": "2026-04-02", **{field: n for n, field in enumerate(REACH_FIELDS)}},
             {"date": "2026-03-02", **{field: 2 * n for n, field in enumerate(REACH_FIELDS)}}]
    text = export_reach_csv(reach)
    assert text.split("\r\n")[:2] == [REACH_HEADER, "2026-03-02;0;2;4;6;8;10;12;14"]
    assert import_reach(csv_bytes(text)) == sorted(reach, key=lambda item: item["date"])


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://x\",\"klik\")", "+1+1", "-2+3",
                                  "@SUM(A1:A9)", "\t=1+1", "\r=1+1"])
def test_testlog_export_guards_against_formulas(da, name):
    measure = {**COUNT, "name": name}
    rows = _cells(export_points_csv([measure], {COUNT["key"]: [POINTS["m-fremmoedte"][0]]}))
    assert rows[1][0] == "'" + name
    cycles = _cells(export_cycles_csv([{"change": name}], {"change": "Forandring"}))
    assert cycles[1] == ["1", "'" + name]


def test_testlog_export_leaves_ordinary_text_alone(da):
    rows = _cells(export_points_csv([{**COUNT, "name": "Andel 50% – 'gode' dage"}],
                                    {COUNT["key"]: [POINTS["m-fremmoedte"][0]]}))
    assert rows[1][0] == "Andel 50% – 'gode' dage"


def test_testlog_export_cycles_number_first_in_the_order_of_the_labels(da):
    cycles = [
        {"date": "2026-03-02", "end": "2026-03-20", "change": "Ring før første samtale",
         "plan": "Linje 1\nLinje 2; med semikolon", "decision": "adapt", "count": 12},
        {"date": "2026-04-01", "change": "SMS-påmindelse", "decision": "adopt", "count": 2.5,
         "plan": None},
        {"decision": "abandon"},
    ]
    labels = {"decision": "Beslutning", "date": "Start", "change": "Forandring",
              "plan": "Plan", "count": "Antal borgere"}
    assert _cells(export_cycles_csv(cycles, labels)) == [
        ["Nr.", "Beslutning", "Start", "Forandring", "Plan", "Antal borgere"],
        ["1", "Justér", "2026-03-02", "Ring før første samtale", "Linje 1\nLinje 2; med semikolon",
         "12"],
        ["2", "Fasthold", "2026-04-01", "SMS-påmindelse", "", "2,5"],
        ["3", "Forkast", "", "", "", ""],
    ]
