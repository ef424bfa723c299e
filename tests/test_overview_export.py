"""The overview as files: the matrix and the totals in CSV and XLSX, with the filters
applied, Danish headers whatever the interface language, formula-looking text defused, the
small-number rule kept, and an empty selection a valid file with its headers alone."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from laks.enums import Role
from tests.overview_support import build_network, quote_prefixed, read_xlsx

MATRIX_HEADER_START = ["Forløb", "Kommune", "Enhed", "Lukket", "Udfordring: tilstand",
                       "Udfordring: frist", "Udfordring: overskredet", "Udfordring: indsendt"]


@pytest.fixture
def facilitators(make_user):
    return (make_user(Role.FACILITATOR), make_user(Role.FACILITATOR))


def read_csv(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM: Danish Excel reads æøå
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))


def test_overview_export_matrix_as_csv_with_the_filters(client, login, make_user,
                                                        facilitators):
    network = build_network(10, facilitators)
    login(make_user(Role.ADMIN))
    response = client.get("/oversigt/eksport/enheder.csv?tilstand=submitted")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition == f'attachment; filename="laks-enheder-{date.today()}.csv"'
    header, *lines = read_csv(response)
    assert header[:8] == MATRIX_HEADER_START
    assert header[-2:] == ["Sidste aktivitet", "Fremdriftsscore (IHI)"]
    assert len(header) == 4 + 5 * 4 + 2
    # In the matrix's order: Brøndby, then Aarhus (Aa is Å, last).
    assert [line[2] for line in lines] == [network.units[5].name, network.units[0].name]
    line = dict(zip(header, lines[0], strict=True))
    assert line["Forløb"] == "Lighed i praksis" and line["Kommune"] == "Brøndby"
    assert line["Udfordring: tilstand"] == "Godkendt"
    assert line["Præcisering: tilstand"] == "Indsendt"
    assert line["Præcisering: indsendt"][:10] <= date.today().isoformat()
    assert line["Handleplan: overskredet"] == "ja" and line["Præcisering: overskredet"] == "nej"
    assert line["Handleplan: frist"] == network.running.due_on("handleplan").isoformat()


def test_overview_export_matrix_as_xlsx_every_page(client, login, make_user, facilitators):
    network = build_network(60, facilitators)
    login(make_user(Role.OBSERVER))
    response = client.get("/oversigt/eksport/enheder.xlsx")
    assert response.mimetype == ("application/vnd.openxmlformats-officedocument"
                                 ".spreadsheetml.sheet")
    header, *lines = read_xlsx(response.get_data())
    assert header[:8] == MATRIX_HEADER_START
    assert len(lines) == 60  # not only the first page's 50
    closed = next(line for line in lines if line[2] == network.units[9].name)
    assert isinstance(closed[3], int)  # a real date (Excel's serial day), not text


def test_overview_export_headers_are_danish_in_the_english_interface(client, login,
                                                                     make_user, facilitators):
    build_network(3, facilitators)
    login(make_user(Role.ADMIN))
    client.get("/sprog/en")
    assert "Log out" in client.get("/oversigt/").get_data(as_text=True)
    header, first, *_rest = read_csv(client.get("/oversigt/eksport/enheder.csv"))
    assert header[:8] == MATRIX_HEADER_START
    assert "Kladde" in first  # Brøndby's unit 2 first: a draft of module 1
    totals = read_csv(client.get("/oversigt/eksport/tal.csv"))[0]
    assert totals[:4] == ["Forløb", "Kommune", "Enheder", "Udfordring: ikke startet"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("export", ["enheder", "tal"])
def test_overview_export_of_an_empty_selection_has_the_headers_alone(
        client, login, make_user, facilitators, fmt, export):
    network = build_network(4, facilitators)
    login(make_user(Role.ADMIN))
    aero = network.units[1].municipality_id
    # Nothing is submitted in Ærø (unit 1 is waiting on changes); the closed programme has
    # a unit in Aarhus (unit 3), none in Ærø.
    query = (f"kommune={aero}&tilstand=submitted" if export == "enheder"
             else f"kommune={aero}&forloeb={network.closed.id}")
    response = client.get(f"/oversigt/eksport/{export}.{fmt}?{query}")
    assert response.status_code == 200
    rows = read_csv(response) if fmt == "csv" else read_xlsx(response.get_data())
    assert len(rows) == 1 and rows[0][0] == "Forløb"


def test_overview_export_defuses_formulas(client, login, make_user, facilitators):
    formula = '=HYPERLINK("http://evil.example","Klik")'
    build_network(2, facilitators, names=[formula, "+45 Sundhed"])
    login(make_user(Role.ADMIN))
    lines = read_csv(client.get("/oversigt/eksport/enheder.csv"))
    names = sorted(line[2] for line in lines[1:])
    assert names == ["'+45 Sundhed", "'" + formula]
    xlsx = client.get("/oversigt/eksport/enheder.xlsx").get_data()
    # The text as it is, marked for Excel as text (the quote prefix), never a formula.
    assert sorted(quote_prefixed(xlsx)) == ["+45 Sundhed", formula]
    assert b"<f>" not in xlsx


def test_overview_export_totals_per_programme_and_municipality(client, login, make_user,
                                                               facilitators):
    network = build_network(20, facilitators)
    login(make_user(Role.OBSERVER))
    header, *lines = read_xlsx(client.get("/oversigt/eksport/tal.xlsx").get_data())
    assert header[:3] == ["Forløb", "Kommune", "Enheder"]
    assert header[-3:] == ["Gennemført, målgruppen", "Gennemført, alle",
                           "Gennemført, målgruppens andel"]
    by_place = {(line[0], line[1]): dict(zip(header, line, strict=False)) for line in lines}
    whole = by_place[("Lighed i praksis", "I alt")]
    assert whole["Enheder"] == 15 and whole["Udfordring: godkendt"] == 6
    assert whole["Inviteret, målgruppen"] == 9 and whole["Inviteret, alle"] == 36
    assert whole["Inviteret, målgruppens andel"] == "25 %"
    alone = by_place[("Lighed i praksis", "Brøndby")]
    assert alone["Inviteret, målgruppen"] == "<5" and alone["Inviteret, alle"] == 12
    assert alone["Inviteret, målgruppens andel"] is None
    # Ærø's units in the closed programme recorded no reach: empty, not 0.
    assert by_place[("LAKS", "Ærø")].get("Inviteret, alle") is None
    assert {line[0] for line in lines} == {network.running.name, network.closed.name}
    csv_lines = read_csv(client.get("/oversigt/eksport/tal.csv"))
    assert len(csv_lines) == len(lines) + 1


@pytest.mark.parametrize("path", ["/oversigt/eksport/enheder.pdf",
                                  "/oversigt/eksport/tal.ods", "/oversigt/eksport/enheder."])
def test_overview_export_unknown_format_is_404(client, login, make_user, path):
    login(make_user(Role.ADMIN))
    assert client.get(path).status_code == 404
