"""Rows people can write in, on a phone too: every module page, in edit view and read view,
fits 375 and 320 CSS pixels without sideways scrolling – the rows become cards – and a row is
deleted with or without JavaScript."""

from __future__ import annotations

import re
import time

import pytest
import yaml
from playwright.sync_api import expect
from sqlalchemy import select

from laks.enums import MODULE_KEYS, ModuleState
from laks.extensions import db
from laks.models import UnitModule
from laks.services import modules as service
from laks.services.definitions import get_spec
from laks.services.demo import plain
from laks.services.seed import SEED_DIR
from tests.browser.helpers import SCREENSHOTS, check_page, unchecked_problems, watch
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser

WIDTHS = (375, 320)
LONG = ("Sygeplejersken ringer dagen før det første holdmøde og spørger, hvad borgeren "
        "glæder sig til og er bekymret for; hun skriver det ned med borgerens egne ord, så "
        "holdlederen kan tage det op – også når borgeren har brug for tolkebistand eller "
        "transport (se https://www.sundhed.dk/borger/patienthaandbogen/hjerte/)")
SAW = ("Fire af seks kom til første holdmøde, og to af dem havde en pårørende med; de to, der "
       "ikke kom, havde ikke fået brevet, fordi adressen var forkert i vores kalendersystem "
       "(Sundhedsfremmekonsulentfunktionskoordineringsmødet tager det op i uge 12)")


def _answers() -> dict:
    """A whole unit's five modules (from the demo's Holbæk unit), with many long rows."""
    data = yaml.safe_load((SEED_DIR / "demo_content" / "laks--holbaek-sundhedscenteret.yaml")
                          .read_text(encoding="utf-8"))
    answers = {key: plain(data["modules"][key]["answers"]) for key in MODULE_KEYS}
    answers["handleplan"]["activities"] = [
        {"who": f"Sygeplejerske og fysioterapeut, hold {n}", "what": LONG[:300],
         "where": "Sundhedscenteret, mødelokale 2 (stueetagen)", "when": f"Uge {n + 10}"}
        for n in range(1, 13)]
    answers["afproevning"]["cycles"] = [
        {"date": f"2026-03-{n:02d}", "did": LONG[:300], "saw": SAW[:300], "count": n}
        for n in range(1, 21)]
    return answers


@pytest.fixture
def filled(team):
    """The team's unit with all five modules as drafts (the staff edit them), and the other
    unit with all five submitted (its staff read them)."""
    answers = _answers()
    for key in MODULE_KEYS:
        draft = service.unit_module_for(team.unit, key)
        service.save_answers(draft, answers[key], actor=team.tovholder, base_version=0)
        sent = service.unit_module_for(team.other_unit, key)
        service.save_answers(sent, answers[key], actor=team.other_staff, base_version=0)
        service.submit(sent, get_spec(key), actor=team.other_staff)
        assert sent.state == ModuleState.SUBMITTED
    db.session.commit()
    return team


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("view", ["edit", "read"])
def test_browser_every_module_page_fits_a_phone(page, log_in, filled, view):
    person, unit = ((filled.tovholder, filled.unit) if view == "edit"
                    else (filled.other_staff, filled.other_unit))
    log_in(person)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        for key in MODULE_KEYS:
            page.goto(f"/enheder/{unit.id}/moduler/{key}")
            form = page.locator("#module-form")
            expect(form).to_have_count(1 if view == "edit" else 0)
            assert _page_width(page) <= width, f"{key}, {view} view, {width}px"
            check_page(page, f"module-{key}-{view}-{width}px", screenshot=width == 375)


def test_browser_rows_are_cards_on_a_phone(page, log_in, filled):
    log_in(filled.tovholder)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/enheder/{filled.unit.id}/moduler/handleplan")
    # Each cell has its column's heading above it, the rows are as wide as the screen at most.
    heading = page.locator("[data-rows-table] tbody tr").first.locator(".rows-cell-heading")
    expect(heading).to_have_text(["Hvem", "Hvad", "Hvor", "Hvornår"])
    expect(heading.first).to_be_visible()
    first = page.locator("[data-rows-table] tbody tr").first
    box = first.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375
    cell = page.get_by_label("Hvad, række 1", exact=True)
    expect(cell).to_have_value(LONG[:300])
    assert cell.evaluate("el => el.tagName") == "TEXTAREA"
    assert cell.bounding_box()["height"] > 60  # several lines show
    delete = page.get_by_role("button", name="Slet række 1", exact=True)
    expect(delete).to_be_visible()
    assert delete.bounding_box()["x"] + delete.bounding_box()["width"] <= 375
    check_page(page, "module-handleplan-rows-as-cards", screenshot=False)

    # The read view: one card per row, each value under its heading.
    page.context.clear_cookies()
    page.goto("/")
    page.set_viewport_size({"width": 1280, "height": 900})
    _log_in_as(page, filled.other_staff)
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/enheder/{filled.other_unit.id}/moduler/handleplan")
    read = page.locator(".rows-read td").first
    heading = read.evaluate("el => getComputedStyle(el, '::before').content")
    assert heading == '"Hvem"'
    assert _page_width(page) <= 375
    check_page(page, "module-handleplan-read-cards", screenshot=False)
    # Module 4's PDSA cycles are cards on every screen: twenty of them fit a phone too.
    page.goto(f"/enheder/{filled.other_unit.id}/moduler/afproevning")
    expect(page.locator("ol.row-cards > li")).to_have_count(20)
    assert _page_width(page) <= 375
    check_page(page, "module-afproevning-read-cards", screenshot=False)


def _log_in_as(page, user):
    page.goto("/log-ind")
    page.get_by_label("E-mail").fill(user.email)
    page.get_by_label("Adgangskode").fill(PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url("**/hjem")


def _stored_rows(team, key="handleplan", column="who", wait_for=None) -> list | None:
    """The rows stored for the team's unit; with ``wait_for``, wait (up to 10 s) until the
    stored rows are those."""
    deadline = time.monotonic() + 10
    while True:
        db.session.expire_all()
        um = db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                        UnitModule.module_key == key))
        rows = [r[column] for r in um.answers.get("activities") or []] if um else None
        if wait_for is None or rows == wait_for or time.monotonic() > deadline:
            return rows
        time.sleep(0.2)


def _three_rows(page):
    for n, who in enumerate(["Sygeplejerske", "Læge", "Fysioterapeut"], start=1):
        if n > 1:
            page.get_by_role("button", name="Tilføj en række").click()
        page.get_by_label(f"Hvem, række {n}", exact=True).fill(who)
        page.get_by_label(f"Hvad, række {n}", exact=True).fill(f"Opgave {n}\nmed to linjer")


def _delete_the_second_of_three_rows_by_sending_the_form(page, team):
    """Without script every button sends the form: "Tilføj en række" and "Slet række 2" each
    bring the page back with the change, and nothing is saved until "Gem kladde"."""
    page.goto(f"/enheder/{team.unit.id}/moduler/handleplan")
    _three_rows(page)
    expect(page.get_by_label("Hvem, række 3", exact=True)).to_have_value("Fysioterapeut")
    with page.expect_navigation():
        page.get_by_role("button", name="Slet række 2", exact=True).click()
    expect(page.get_by_label("Hvem, række 1", exact=True)).to_have_value("Sygeplejerske")
    expect(page.get_by_label("Hvem, række 2", exact=True)).to_have_value("Fysioterapeut")
    expect(page.get_by_label("Hvad, række 2", exact=True)).to_have_value(
        "Opgave 3\nmed to linjer")
    expect(page.get_by_label("Hvem, række 3", exact=True)).to_have_count(0)
    assert _page_width(page) <= 375
    assert _stored_rows(team) is None  # deleting shows the page again, saves nothing


def _save_the_draft(page, team):
    with page.expect_navigation():
        page.get_by_role("button", name="Gem kladde").click()
    assert _stored_rows(team) == ["Sygeplejerske", "Fysioterapeut"]


def test_browser_delete_a_row_without_javascript(browser, live_server, team):
    context = browser.new_context(java_script_enabled=False, base_url=live_server,
                                  viewport={"width": 375, "height": 800})
    page = context.new_page()
    watch(page)
    try:
        _log_in_as(page, team.tovholder)
        _delete_the_second_of_three_rows_by_sending_the_form(page, team)
        # axe needs script, so this page gets its check in the test below.
        page.screenshot(path=str(SCREENSHOTS / "module-handleplan-row-deleted-no-js.png"),
                        full_page=True)
        _save_the_draft(page, team)
        assert unchecked_problems(page) == []
    finally:
        context.close()


def test_browser_delete_a_row_without_the_module_script(page, log_in, team):
    """The same, in a browser that runs DKFDS but not laks' module script, so that the page
    the server sends back after a deletion goes through check_page (axe) too."""
    script = re.compile(r".*/static/js/module-form\.[0-9a-f]{12}\.js$")  # fingerprinted
    page.route(script, lambda route: route.fulfill(
        status=200, content_type="text/javascript", body="/* left out */"))
    page.set_viewport_size({"width": 375, "height": 800})
    log_in(team.tovholder)
    _delete_the_second_of_three_rows_by_sending_the_form(page, team)
    check_page(page, "module-handleplan-row-deleted-without-javascript")
    _save_the_draft(page, team)


def test_browser_delete_a_row_with_javascript_saves_the_draft(page, log_in, team):
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/handleplan")
    _three_rows(page)
    assert _stored_rows(team, wait_for=["Sygeplejerske", "Læge", "Fysioterapeut"]) == [
        "Sygeplejerske", "Læge", "Fysioterapeut"]
    url = page.url
    page.get_by_role("button", name="Slet række 2", exact=True).click()
    assert page.url == url  # no round trip: the row goes in the page
    expect(page.locator("[data-rows-table] tbody tr")).to_have_count(2)
    moved = page.get_by_label("Hvem, række 2", exact=True)
    expect(moved).to_have_value("Fysioterapeut")
    expect(moved).to_be_focused()
    expect(page.get_by_role("button", name="Slet række 3", exact=True)).to_have_count(0)
    assert moved.get_attribute("name") == "activities-1-who"
    check_page(page, "module-handleplan-row-deleted-with-javascript")
    # The draft saves itself without the deleted row.
    assert _stored_rows(team, wait_for=["Sygeplejerske", "Fysioterapeut"]) == [
        "Sygeplejerske", "Fysioterapeut"]
    # (A browser sends a textarea's line breaks as CR LF.)
    assert [text.replace("\r\n", "\n") for text in _stored_rows(team, column="what")] == [
        "Opgave 1\nmed to linjer", "Opgave 3\nmed to linjer"]
    # A row added after the deletion continues the numbering.
    page.get_by_role("button", name="Tilføj en række").click()
    added = page.get_by_label("Hvem, række 3", exact=True)
    expect(added).to_be_focused()
    assert added.get_attribute("name") == "activities-2-who"

