"""The published catalogue on the web: for everyone, only published editions, only their
frozen snapshots; withdrawn editions answer 410, drafts 404; any search text or filter value
gives a page, never a server error."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from laks.enums import BuildStatus, CatalogueGrouping, EditionStatus, ModuleState, Role
from laks.extensions import db
from laks.models import Edition, UnitModule, User
from tests.catalogue_factories import make_edition, snapshot
from tests.test_catalogue_search import HOSTILE


def text_of(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def published(app):
    """Two published editions (the second is the newest), a withdrawn and a draft one."""
    old = make_edition([snapshot(title="Gammel case om kost")], number=1,
                       title="Inspirationskatalog 2016",
                       published_at=datetime(2016, 12, 1, 10, tzinfo=UTC))
    new = make_edition([
        snapshot(title="Holdtræning tæt på hjemmet", municipality="Holbæk",
                 municipality_code="0316", unit="Sundhedscenteret",
                 summary="Vi flyttede **træningen** ud i boligområdet.",
                 themes=["fysisk_aktivitet"], theme_labels=["Fysisk aktivitet"],
                 results={"reached": 12, "started": 3, "completed": 0}),
        snapshot(title="Rygestop i rusmiddelcentret", municipality="Gladsaxe",
                 municipality_code="0159", unit="Rusmiddelcentret",
                 summary="Kortere forløb med fast kontakt.",
                 themes=["tobak"], theme_labels=["Tobak"],
                 challenge_type="rekruttering", challenge_type_label="Rekruttering"),
        snapshot(title="Uden tema", themes=[], theme_labels=[]),
    ], number=2, title="Inspirationskatalog 2026", foreword="Et **forord** fra netværket.",
        introduction="Sådan læser du kataloget.", grouping=CatalogueGrouping.THEME,
        published_at=datetime(2026, 11, 20, 10, tzinfo=UTC))
    withdrawn = make_edition([snapshot(title="Trukket case")], number=3,
                             title="Fejludgave", status=EditionStatus.WITHDRAWN,
                             published_at=datetime(2026, 11, 21, 10, tzinfo=UTC))
    draft = make_edition([snapshot(title="Kladde-case")], number=4, title="Næste udgave",
                         status=EditionStatus.DRAFT)
    return {"old": old, "new": new, "withdrawn": withdrawn, "draft": draft}


def case_url(edition, position: int = 0) -> str:
    return f"/katalog/{edition.number}/cases/{edition.cases[position].id}"


# --- the catalogue's front page -----------------------------------------------------------


def test_catalogue_without_any_edition_says_so(client):
    response = client.get("/katalog/")
    assert response.status_code == 200
    assert "Der er endnu ikke udgivet et katalog" in text_of(response)


def test_catalogue_lists_the_newest_editions_cases_for_anyone(client, published):
    page = text_of(client.get("/katalog/"))
    assert "Holdtræning tæt på hjemmet" in page and "Rygestop i rusmiddelcentret" in page
    assert "Holbæk · Sundhedscenteret" in page
    assert "Vi flyttede træningen ud i boligområdet." in page  # the summary as plain text
    assert "Fysisk aktivitet" in page
    assert "3 cases" in page
    for hidden in ("Gammel case om kost", "Trukket case", "Kladde-case", "Fejludgave",
                   "Næste udgave"):
        assert hidden not in page
    # Both published editions are listed with their number and date; the others are not.
    assert "Inspirationskatalog 2016" in page and "1. udgave · udgivet 1. december 2016" in page
    assert "2. udgave · udgivet 20. november 2026" in page
    assert 'href="/katalog/2/"' in page and 'href="/katalog/1/"' in page
    assert 'href="/katalog/3/"' not in page and 'href="/katalog/4/"' not in page


@pytest.mark.parametrize(("query", "shown", "not_shown"), [
    ({"q": "boligområdet"}, ["Holdtræning tæt på hjemmet"], ["Rygestop i rusmiddelcentret"]),
    ({"theme": "tobak"}, ["Rygestop i rusmiddelcentret"], ["Holdtræning tæt på hjemmet"]),
    ({"municipality": "0316", "q": "holdtræning"}, ["Holdtræning tæt på hjemmet"],
     ["Rygestop i rusmiddelcentret"]),
    ({"challenge_type": "rekruttering"}, ["Rygestop i rusmiddelcentret"],
     ["Holdtræning tæt på hjemmet"]),
    ({"q": "kladde"}, [], ["Kladde-case", "Holdtræning tæt på hjemmet"]),
], ids=["search", "theme", "municipality-and-search", "challenge-type", "drafts-never"])
def test_catalogue_search_and_filters(client, published, query, shown, not_shown):
    response = client.get("/katalog/", query_string=query)
    page = text_of(response)
    assert response.status_code == 200
    for title in shown:
        assert f">{title}</a>" in page
    for title in not_shown:
        assert f">{title}</a>" not in page
    if not shown:
        assert "Ingen cases passer" in page and "0 cases fundet" in page


def test_catalogue_filter_choices_come_from_the_snapshots(client, published):
    page = text_of(client.get("/katalog/", query_string={"theme": "tobak"}))
    theme = re.search(r'<select class="form-select" id="filter-theme".*?</select>', page, re.S)
    assert theme is not None
    assert '<option value="tobak" selected>Tobak</option>' in theme.group(0)
    assert '<option value="fysisk_aktivitet">Fysisk aktivitet</option>' in theme.group(0)
    assert "Kost" not in theme.group(0)  # the old edition's themes are not offered


def test_catalogue_unknown_filter_values_are_ignored_with_a_note(client, published):
    response = client.get("/katalog/", query_string={"theme": "findes-ikke", "q": ""})
    page = text_of(response)
    assert response.status_code == 200
    assert "Filteret “Tema” har ikke valget “findes-ikke”" in page
    assert "Holdtræning tæt på hjemmet" in page and "Rygestop i rusmiddelcentret" in page


@pytest.mark.parametrize("q", [q for q in HOSTILE if "\x00" not in q],
                         ids=[f"hostile-{i}" for i, q in enumerate(HOSTILE) if "\x00" not in q])
def test_catalogue_any_search_text_gives_a_page(client, published, q):
    response = client.get("/katalog/", query_string={"q": q, "theme": q})
    assert response.status_code == 200
    assert "<script>alert(1)</script>" not in text_of(response)


def test_catalogue_search_with_nul_is_a_bad_request_not_an_error(client, published):
    assert client.get("/katalog/", query_string={"q": "borger\x00"}).status_code == 400


# --- an edition -------------------------------------------------------------------------------


def test_edition_page_shows_foreword_introduction_and_contents_by_group(client, published):
    new = published["new"]
    response = client.get("/katalog/2/")
    page = text_of(response)
    assert response.status_code == 200
    assert "<h1>Inspirationskatalog 2026</h1>" in page
    assert "2. udgave · udgivet 20. november 2026" in page
    assert "Et <strong>forord</strong> fra netværket." in page
    assert "Sådan læser du kataloget." in page
    contents = page[page.index('id="contents-heading"'):]
    # Grouped by first theme, in the curator's order; a case without theme under "Øvrige".
    assert contents.index("<h3>Fysisk aktivitet</h3>") < contents.index(
        "Holdtræning tæt på hjemmet") < contents.index("<h3>Tobak</h3>") < contents.index(
        "Rygestop i rusmiddelcentret") < contents.index("<h3>Øvrige</h3>") < contents.index(
        "Uden tema")
    assert f'href="{case_url(new, 1)}"' in contents


@pytest.mark.parametrize("status", [BuildStatus.NONE, BuildStatus.QUEUED, BuildStatus.BUILDING,
                                    BuildStatus.FAILED], ids=lambda s: s.value)
def test_edition_pdf_not_ready_says_it_is_being_made(client, published, status):
    published["new"].pdf_status = status
    db.session.commit()
    for url in ("/katalog/", "/katalog/2/", case_url(published["new"])):
        page = text_of(client.get(url))
        assert "PDF'en er ved at blive lavet." in page
        assert "/katalog/2/pdf" not in page


def test_edition_pdf_linked_once_there_is_a_file(app, client, published):
    """Once a PDF is built, every page of the edition links its download (the route of
    laks.views.catalogue_pdf), with its number of pages – also while a new build runs or
    after one failed, since the download serves the file that is there."""
    from laks.services.catalogue_pdf import storage_dir

    edition = published["new"]
    storage_dir().mkdir(parents=True, exist_ok=True)
    (storage_dir() / "edition-2-test.pdf").write_bytes(b"%PDF-1.7 test")
    edition.pdf_file, edition.pdf_pages = "edition-2-test.pdf", 12
    for status in (BuildStatus.READY, BuildStatus.BUILDING, BuildStatus.FAILED):
        edition.pdf_status = status
        db.session.commit()
        for url in ("/katalog/", "/katalog/2/", case_url(edition)):
            page = text_of(client.get(url))
            assert 'href="/katalog/2/pdf" download>Hent kataloget som PDF (12 sider)</a>' \
                in page, (status, url)
            assert "PDF'en er ved at blive lavet." not in page
    assert "/katalog/1/pdf" not in text_of(client.get("/katalog/1/"))  # not built
    edition.pdf_status = BuildStatus.READY  # a status without its file links nothing
    (storage_dir() / "edition-2-test.pdf").unlink()
    db.session.commit()
    assert "/katalog/2/pdf" not in text_of(client.get("/katalog/2/"))


def test_older_edition_points_to_the_newest(client, published):
    page = text_of(client.get("/katalog/1/"))
    assert "Der er udgivet en nyere udgave:" in page and 'href="/katalog/2/"' in page
    assert "Gammel case om kost" in page


# --- a case -----------------------------------------------------------------------------------


def test_case_page_shows_the_snapshot_print_friendly(client, published):
    response = client.get(case_url(published["new"]))
    page = text_of(response)
    assert response.status_code == 200
    assert "<h1>Holdtræning tæt på hjemmet</h1>" in page
    assert "Fra Inspirationskatalog 2026, 2. udgave, udgivet 20. november 2026" in page
    for heading in ("Kort fortalt", "Udfordringen", "Målgruppe og arena", "Det ændrede vi",
                    "Sådan afprøvede vi det", "Resultater for målgruppen", "Det lærte vi",
                    "Gode råd til andre", "Ressourcer og økonomi", "Kan det overføres?",
                    "Forankring", "Kontakt"):
        assert f"<h2>{heading}</h2>" in page
    assert re.search(r"/static/css/print\.[0-9a-f]{12}\.css", page)  # fingerprinted
    assert "Udskriv" in page
    # Small numbers: 1–4 citizens are "<5"; 0 and 12 as they are.
    results = page[page.index("catalogue-case-results"):]
    results = results[:results.index("</dl>")]
    assert "<dd>12</dd>" in results and "<dd>&lt;5</dd>" in results and "<dd>0</dd>" in results
    assert "<dd>3</dd>" not in results


def test_case_page_reads_only_the_snapshot_never_live_answers(client, make_unit, published):
    """Editing the unit's modules after publishing changes nothing on the public page."""
    unit = make_unit("Sundhedscenteret")
    edition = make_edition([snapshot(unit, title="Som udgivet", summary="Frossen tekst.")],
                           units=[unit], number=7)
    db.session.add(UnitModule(unit=unit, module_key="refleksion", state=ModuleState.APPROVED,
                              answers={"case_title": "Ændret bagefter",
                                       "case_text": "Ny tekst efter udgivelsen."}))
    db.session.commit()
    page = text_of(client.get(case_url(edition)))
    assert "Som udgivet" in page and "Frossen tekst." in page
    assert "Ændret bagefter" not in page and "Ny tekst efter udgivelsen." not in page


def test_case_of_another_edition_is_not_found(client, published):
    old_case = published["old"].cases[0]
    assert client.get(f"/katalog/2/cases/{old_case.id}").status_code == 404
    assert client.get("/katalog/2/cases/2147483647").status_code == 404
    assert client.get("/katalog/2/cases/99999999999").status_code == 404


# --- withdrawn, draft, unknown ------------------------------------------------------------


def test_withdrawn_edition_is_gone_on_every_public_address(client, published):
    withdrawn = published["withdrawn"]
    for url in ("/katalog/3/", case_url(withdrawn)):
        response = client.get(url)
        page = text_of(response)
        assert response.status_code == 410, url
        assert "Denne udgave er trukket tilbage" in page
        assert 'href="/katalog/2/"' in page  # the newest edition
        assert "Trukket case" not in page
        assert "Trukket tilbage i en test" not in page  # the reason is the network's own


def test_withdrawn_edition_pdf_is_gone_too(client, published):
    assert client.get("/katalog/3/pdf").status_code == 410


@pytest.mark.parametrize("url", [
    "/katalog/4/", "/katalog/99/", "/katalog/0/", "/katalog/99999999999/", "/katalog/x/",
    "/katalog/-1/",
], ids=["draft", "unknown", "zero", "huge", "not-a-number", "negative"])
def test_draft_or_unknown_edition_is_not_found(client, published, url):
    assert client.get(url).status_code == 404


def test_draft_case_is_not_found(client, published):
    assert client.get(case_url(published["draft"])).status_code == 404


def test_public_catalogue_shows_no_people(client, make_user, published):
    """Signed in or not, a public page never names a person (the catalogue holds roles)."""
    person = make_user(Role.ADMIN, name="Agnete Administrator", email="agnete@kommune.dk")
    pages = [text_of(client.get(url)) for url in ("/katalog/", "/katalog/2/",
                                                   case_url(published["new"]))]
    for page in pages:
        assert person.name not in page and person.email not in page


# --- the front page -------------------------------------------------------------------------


def test_front_page_links_the_catalogue_when_one_is_published(client, app):
    assert "Læs inspirationskataloget" not in text_of(client.get("/"))
    make_edition([snapshot()], status=EditionStatus.DRAFT)
    assert "Læs inspirationskataloget" not in text_of(client.get("/"))
    make_edition([snapshot()])
    page = text_of(client.get("/"))
    assert "Læs inspirationskataloget" in page and 'href="/katalog/"' in page


# --- through the catalogue's own services ----------------------------------------------------


def test_catalogue_published_by_the_service_is_found_and_read(app, client):
    """The demo publishes its edition through laks.services.catalogue.publish_edition (the
    snapshots, search text and, on SQLite, the FTS rows it writes): the public pages and the
    search work on exactly that."""
    from laks.services import catalogue
    from laks.services.seed import load_seed

    load_seed(demo=True)
    db.session.commit()
    edition = db.session.scalars(select(Edition)).one()
    assert edition.status == EditionStatus.PUBLISHED
    holbaek = next(c for c in edition.cases if c.snapshot["municipality"] == "Holbæk")

    page = text_of(client.get("/katalog/"))
    assert all(case.snapshot["title"] in page for case in edition.cases)
    found = text_of(client.get("/katalog/", query_string={"q": "diabetesforløbet"}))
    assert found.count('class="catalogue-result"') == 1 and holbaek.snapshot["title"] in found
    by_town = text_of(client.get("/katalog/", query_string={"q": "holbæk"}))
    assert by_town.count('class="catalogue-result"') == 1

    case_page = text_of(client.get(f"/katalog/{edition.number}/cases/{holbaek.id}"))
    assert f"<h1>{holbaek.snapshot['title']}</h1>" in case_page

    admin = db.session.scalars(select(User).where(User.role == Role.ADMIN)).first()
    catalogue.withdraw_edition(edition, admin, "Rettes")
    db.session.commit()
    assert client.get(f"/katalog/{edition.number}/cases/{holbaek.id}").status_code == 410
    assert "Der er endnu ikke udgivet et katalog" in text_of(client.get("/katalog/"))
