"""The modules in the browser: a unit fills in a module (the draft saves itself), adds rows,
submits, and its facilitator reviews – every page checked by check_page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from laks.enums import ModuleState
from laks.extensions import db
from laks.models import UnitModule
from laks.services.modules import save_answers
from tests.browser.helpers import check_page
from tests.test_workflow import module_in

pytestmark = pytest.mark.browser


def stored(team, key):
    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                      UnitModule.module_key == key))


def log_out(page):
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/")


def test_browser_module_fill_autosave_submit_review(page, log_in, team):
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}")
    check_page(page, "unit-page-not-started")
    page.get_by_role("link", name=re.compile("Udfordring")).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Modul 1: Udfordring")
    check_page(page, "module-1-empty-form")

    # Typing saves the draft by itself a few seconds later, and the page says so.
    page.get_by_label("Vores udfordring i én sætning").fill("Vi mister enlige mænd")
    expect(page.locator("#autosave-status")).to_contain_text("Kladde gemt", timeout=10_000)
    assert stored(team, "udfordring").answers["challenge_title"] == "Vi mister enlige mænd"
    assert stored(team, "udfordring").state == ModuleState.DRAFT

    # Submitting with required answers missing: the summary takes the focus and links to
    # each missing answer; what was typed stays.
    page.get_by_role("button", name="Indsend til facilitator").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_count(4)
    expect(page.get_by_label("Vores udfordring i én sætning")).to_have_value(
        "Vi mister enlige mænd")
    check_page(page, "module-1-submit-with-missing-answers")

    summary.get_by_role("link", name=re.compile("Hvilket sundhedstilbud")).click()
    expect(page.get_by_label(re.compile("Hvilket sundhedstilbud"))).to_be_focused()
    page.get_by_label(re.compile("Hvilket sundhedstilbud")).fill("Genoptræning")
    page.get_by_label("Fastholdelse").check()
    page.get_by_label(re.compile("Målgruppen")).fill("Enlige mænd over 65 år.")
    page.get_by_label(re.compile("Hvorfor er udfordringen vigtig")).fill(
        "De falder fra efter **to** gange.")
    page.get_by_role("button", name="Indsend til facilitator").click()
    expect(page.locator(".alert-success")).to_contain_text("Modulet er indsendt")
    expect(page.locator(".badge").first).to_have_text("Indsendt")
    check_page(page, "module-1-submitted")
    assert stored(team, "udfordring").state == ModuleState.SUBMITTED

    # The facilitator asks for changes, with a comment the unit then sees.
    log_out(page)
    log_in(team.facilitator)
    check_page(page, "facilitator-home-with-review-queue")
    page.get_by_role("link", name="Udfordring").first.click()
    check_page(page, "module-1-review")
    page.get_by_role("button", name="Bed om ændringer").click()
    expect(page.locator("#error-summary, .form-error-message").first).to_be_visible()
    page.get_by_label("Kommentar til enheden").fill("Tilføj jeres **egne tal**.")
    page.get_by_role("button", name="Bed om ændringer").click()
    expect(page.locator(".alert-success")).to_contain_text("bedt om ændringer")
    log_out(page)
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    expect(page.locator(".alert-warning")).to_contain_text("egne tal")
    check_page(page, "module-1-changes-requested")

    # The revisions: the autosaved draft against the submitted answers.
    page.get_by_role("link", name=re.compile("gemte revisioner")).click()
    page.get_by_role("button", name="Sammenlign").click()
    expect(page.locator(".diff-lines ins").first).to_be_visible()
    check_page(page, "module-1-revisions-diff")


def test_browser_module_rows_and_leaving_the_page_saves(page, log_in, team):
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/handleplan")
    page.get_by_label("Hvem, række 1").fill("Sygeplejerske")
    page.get_by_role("button", name="Tilføj en række").click()  # in the page, no reload
    second = page.get_by_label("Hvem, række 2")
    expect(second).to_be_focused()
    second.fill("Fysioterapeut")
    page.get_by_label("Hvad, række 2").fill("Ringer dagen før")
    check_page(page, "module-3-two-rows")
    # Leave at once, before the autosave delay: the draft is sent as the page goes.
    page.goto(f"/enheder/{team.unit.id}")
    page.wait_for_timeout(500)
    um = stored(team, "handleplan")
    assert um is not None
    assert [r["who"] for r in um.answers["activities"]] == ["Sygeplejerske", "Fysioterapeut"]
    page.goto(f"/enheder/{team.unit.id}/moduler/handleplan")
    expect(page.get_by_label("Hvad, række 2")).to_have_value("Ringer dagen før")


def test_browser_admin_changes_a_module_question(page, log_in, team):
    log_in(team.admin)
    page.get_by_role("link", name="Modulernes spørgsmål").first.click()
    check_page(page, "definitions-index")
    page.get_by_role("link", name=re.compile("Præcisering")).click()
    check_page(page, "definitions-module-2")
    page.get_by_role("link", name=re.compile("Ret Aktionsspørgsmål")).click()
    page.get_by_label("Spørgsmålet på dansk").fill("")
    page.get_by_role("button", name="Gem").click()
    expect(page.locator("#error-summary")).to_be_focused()
    check_page(page, "definitions-question-with-error")
    page.get_by_label("Spørgsmålet på dansk").fill("Vores aktionsspørgsmål")
    page.get_by_role("button", name="Gem").click()
    expect(page.get_by_role("cell", name=re.compile("^Vores aktionsspørgsmål"))).to_be_visible()
    page.get_by_role("link", name="Tilføj et spørgsmål").click()
    check_page(page, "definitions-add-question")


def test_browser_module_conflict_shows_both_versions(page, log_in, team):
    um = module_in(team, ModuleState.DRAFT)
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    title = page.get_by_role("textbox", name="Vores udfordring i én sætning")
    # A colleague saves while this page is open.
    save_answers(um, {"challenge_title": "Kollegaens formulering"}, actor=team.staff,
                 base_version=um.version)
    db.session.commit()
    title.fill("Min formulering")
    page.get_by_role("button", name="Gem kladde").click()
    expect(page.locator(".conflict-theirs")).to_contain_text("Kollegaens formulering")
    expect(title).to_have_value("Min formulering")
    check_page(page, "module-1-conflict")
    title.fill("Vores fælles formulering")
    page.get_by_role("button", name="Gem kladde").click()
    expect(page.locator(".alert-success")).to_contain_text("Gemt")
    assert stored(team, "udfordring").answers["challenge_title"] == "Vores fælles formulering"
