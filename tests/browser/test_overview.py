"""Progress at a glance in Chromium: a facilitator finds the module that has waited longest
for review from the matrix and opens it; the observer reads the totals and downloads them.
Every page checked by check_page, on a desktop screen and a phone's."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from laks.enums import Role
from tests.browser.helpers import check_page
from tests.browser.translations import assert_translated
from tests.overview_support import build_network, read_xlsx

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def network(make_user, module_definitions):
    facilitators = (make_user(Role.FACILITATOR, name="Frida Facilitator"),
                    make_user(Role.FACILITATOR, name="Fie Facilitator"))
    return build_network(24, facilitators, names=[
        "Sundhedscenteret", "Livsstilscaféen", "Genoptræningen", "Sletten", "Parablyen",
        "Rusmiddelcentret", "Egekroen", "Korsagergården", "Provstebakken", "Plejehotellet",
        "Havlit og Fjorden", "Center for Sundhedsforløb"])


def test_browser_facilitator_finds_the_oldest_waiting_module(page, log_in, network):
    frida = network.facilitators[0]
    log_in(frida)
    expect(page.get_by_role("heading", level=1)).to_have_text("Dine enheder")
    check_page(page, "overview-facilitator-home")

    page.get_by_role("link", name="Fremdrift").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Enhedernes fremdrift")
    expect(page.locator(".matrix-count")).to_have_text("1–12 af 12 enheder")
    check_page(page, "overview-matrix-facilitator")

    page.get_by_label("Tilstand").select_option(label="Indsendt")
    page.get_by_label("Sortér efter").select_option(label="Har ventet længst på vurdering")
    page.get_by_role("button", name="Vis").click()
    expect(page.locator(".matrix-count")).to_have_text("1–3 af 3 enheder")
    # Facilitator 1 follows the even units; units 0, 10 and 20 have a module submitted,
    # unit 20 the longest ago (21 days).
    first = page.locator("tr.matrix-row").first
    expect(first).to_contain_text("har ventet 21 dage")
    check_page(page, "overview-matrix-waiting")

    oldest = network.units[20].name
    first.get_by_role("link", name=f"{oldest}, Præcisering: Indsendt").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modul 2: Præcisering")
    expect(page.get_by_role("main")).to_contain_text(oldest)
    check_page(page, "overview-module-from-the-matrix")

    page.goto("/oversigt/venter")
    expect(page.get_by_role("heading", name="Venter på din vurdering")).to_be_visible()
    check_page(page, "overview-needs-facilitator")


def test_browser_observer_downloads_the_totals(page, log_in, network, make_user):
    observer = make_user(Role.OBSERVER, name="Søren Styregruppe")
    log_in(observer)
    page.get_by_role("link", name="Fremdrift").first.click()
    check_page(page, "overview-matrix-observer")
    page.get_by_role("link", name="Tal til styregruppen").click()
    expect(page.get_by_role("heading", name="Lighed i praksis")).to_be_visible()
    check_page(page, "overview-totals")

    with page.expect_download() as info:
        page.get_by_role("link", name="Tallene som regneark (XLSX)").click()
    download = info.value
    assert re.fullmatch(r"laks-tal-\d{4}-\d{2}-\d{2}\.xlsx", download.suggested_filename)
    with open(download.path(), "rb") as handle:
        header, *lines = read_xlsx(handle.read())
    assert header[:3] == ["Forløb", "Kommune", "Enheder"]
    whole = dict(zip(header, next(line for line in lines
                                  if line[:2] == ["Lighed i praksis", "I alt"]), strict=False))
    assert whole["Enheder"] == 18 and whole["Inviteret, alle"] == 36
    assert {line[0] for line in lines} == {"Lighed i praksis", "LAKS"}

    page.get_by_label("Kommune", exact=True).select_option(label="Ærø")
    page.get_by_role("button", name="Vis").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Tallene som CSV").click()
    with open(info.value.path(), encoding="utf-8-sig") as handle:
        text = handle.read()
    assert {line.split(";")[1] for line in text.splitlines()[1:]} == {"Ærø", "I alt"}

    page.goto("/oversigt/venter")
    check_page(page, "overview-needs-observer")

    # In English, no Danish of the interface is left (the files stay Danish).
    for path in ("/oversigt/", "/oversigt/venter", "/oversigt/tal"):
        page.goto(f"/sprog/en?next={path}")
        expect(page.get_by_role("heading", level=1)).to_have_text("The units' progress")
        check_page(page, "overview-en" + path.replace("/", "-").rstrip("-"), screenshot=False)
        assert_translated(page, "en")


@pytest.mark.parametrize("path", ["/oversigt/", "/oversigt/venter", "/oversigt/tal", "/hjem"])
def test_browser_overview_on_a_phone(page, log_in, network, make_user, path):
    log_in(make_user(Role.ADMIN))
    page.set_viewport_size(PHONE)
    page.goto(path)
    name = path.strip("/").replace("/", "-") or "home"
    check_page(page, f"overview-phone-{name}")
    if path == "/oversigt/":  # each unit a card of its own
        card = page.locator("tr.matrix-row").first
        assert card.evaluate("row => getComputedStyle(row).display") == "block"
        label = card.locator("td").first.evaluate(
            "cell => getComputedStyle(cell, '::before').content")
        assert label == '"1. Udfordring"'  # each module under its title
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} is {width} px wide on a {PHONE['width']} px screen"


def test_browser_programme_page_a_page_of_units_at_a_time(page, log_in, network, make_user,
                                                           monkeypatch):
    """The programme's page lists its units a page at a time, open units first, and the
    pages go back and forth; checked on a desktop screen and a phone's."""
    from laks import queries

    monkeypatch.setattr(queries, "UNITS_PAGE_SIZE", 5)
    log_in(make_user(Role.OBSERVER, name="Olga Observatør"))
    page.goto(f"/programmer/{network.running.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Lighed i praksis")
    counted = page.locator("#units .matrix-count")
    expect(counted).to_contain_text("1–5 af")
    check_page(page, "programme-page-first")
    page.locator("#units").get_by_role("link", name="Næste").click()
    expect(counted).to_contain_text("6–10 af")
    expect(page).to_have_url(re.compile(r"side=2#units$"))
    page.locator("#units").get_by_role("link", name="Forrige").click()
    expect(counted).to_contain_text("1–5 af")
    page.set_viewport_size(PHONE)
    check_page(page, "programme-page-phone")
