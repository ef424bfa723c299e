"""A visitor reads the published catalogue, without logging in: from the front page to the
catalogue, searches, filters, opens a case (which prints without the site's menus) and
downloads the PDF, the edition and a programme's page – at desktop width and at 375 px,
every page checked."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from laks.extensions import db
from laks.models import Edition, User
from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser

WIDTHS = (1280, 375)


@pytest.fixture
def demo_catalogue(app):
    """The demo: programmes, units and the first edition of the catalogue, published through
    the catalogue's services."""
    from laks.services.seed import load_seed

    load_seed(demo=True)
    db.session.commit()
    return db.session.scalars(select(Edition)).one()


@pytest.fixture
def demo_catalogue_with_pdf(demo_catalogue):
    """The demo's edition with its PDF built, as the background job builds it."""
    from laks.services import catalogue_pdf

    catalogue_pdf.build_edition_pdf(demo_catalogue.id)
    db.session.expire_all()
    assert demo_catalogue.pdf_status.value == "ready"
    return demo_catalogue


def fits(page, width: int) -> None:
    """Nothing on the page is wider than the screen (no sideways scrolling)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS, ids=[f"{w}px" for w in WIDTHS])
def test_browser_visitor_searches_filters_and_reads_a_case(page, demo_catalogue_with_pdf, width):
    edition = demo_catalogue_with_pdf
    page.set_viewport_size({"width": width, "height": 900})
    page.goto("/")
    check_page(page, f"catalogue-front-page-{width}px")
    page.get_by_role("link", name="Læs inspirationskataloget").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Inspirationskatalog")
    results = page.locator(".catalogue-result")
    expect(results).to_have_count(len(edition.cases))
    fits(page, width)
    check_page(page, f"catalogue-index-{width}px")

    # Search by a word in one case's text.
    page.get_by_label("Søgeord").fill("diabetesforløbet")
    page.get_by_role("button", name="Søg", exact=True).click()
    expect(results).to_have_count(1)
    expect(page.get_by_role("heading", name="1 case fundet")).to_be_visible()
    expect(results.first).to_contain_text("Holbæk")
    check_page(page, f"catalogue-search-{width}px")

    # Filter by theme, with the search text cleared; the choice stays selected.
    page.get_by_label("Søgeord").fill("")
    page.get_by_label("Tema").select_option(label="Stoffer")
    page.get_by_role("button", name="Søg", exact=True).click()
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("Rusmiddelcentret")
    expect(page.get_by_label("Tema")).to_have_value("stoffer")
    fits(page, width)
    check_page(page, f"catalogue-filter-{width}px")

    # A filter value that does not exist is ignored, with a note.
    page.goto("/katalog/?theme=findes-ikke&q=%22NEAR(%20*")
    expect(page.locator(".alert-info")).to_contain_text("blev ignoreret")
    check_page(page, f"catalogue-unknown-filter-{width}px")
    page.get_by_role("link", name="Vis alle cases").click()
    expect(results).to_have_count(len(edition.cases))

    # Open a case: the frozen case, where it comes from, and a page that prints cleanly.
    page.get_by_label("Tema").select_option(label="Stoffer")
    page.get_by_role("button", name="Søg", exact=True).click()
    title = results.first.get_by_role("link").inner_text()
    results.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.locator(".catalogue-source")).to_contain_text(
        re.compile(r"Fra Inspirationskatalog – LAKS, 1\. udgave, udgivet \d+\. \w+ \d{4}"))
    expect(page.get_by_role("heading", level=2, name="Gode råd til andre")).to_be_visible()
    fits(page, width)
    check_page(page, f"catalogue-case-{width}px")

    # The whole edition as PDF, from the case's page.
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("^Hent kataloget som PDF")).click()
    assert download.value.suggested_filename == f"inspirationskatalog-udgave-{edition.number}.pdf"
    assert download.value.path().read_bytes().startswith(b"%PDF-")

    page.emulate_media(media="print")
    expect(page.locator("header.header")).to_be_hidden()
    expect(page.locator("footer")).to_be_hidden()
    expect(page.locator(".breadcrumbs")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check_page(page, f"catalogue-case-print-{width}px")
    page.emulate_media(media="screen")

    # The edition: foreword, introduction and contents by theme.
    page.locator(".breadcrumbs").get_by_role("link", name="1. udgave").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(edition.title)
    expect(page.get_by_role("heading", level=2, name="Indhold")).to_be_visible()
    expect(page.locator(".catalogue-contents").get_by_role("link", name=title)).to_be_visible()
    fits(page, width)
    check_page(page, f"catalogue-edition-{width}px")

    # Back on the catalogue, a programme's public page.
    page.goto("/katalog/")
    page.get_by_role("link", name=re.compile("^LAKS")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("LAKS")
    expect(page.locator("main")).to_contain_text("Netværkssekretariatet")
    fits(page, width)
    check_page(page, f"programme-public-{width}px")


def test_browser_withdrawn_edition_page(page, demo_catalogue):
    from laks.enums import Role
    from laks.services import catalogue

    admin = db.session.scalars(select(User).where(User.role == Role.ADMIN)).first()
    catalogue.withdraw_edition(demo_catalogue, admin, "Rettes")
    db.session.commit()
    response = page.goto(f"/katalog/{demo_catalogue.number}/")
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("Denne udgave er trukket tilbage")
    check_page(page, "catalogue-withdrawn")
