"""The exchange between a unit and its facilitator, in the browser: the request for changes
read as formatted text, a review without a comment caught by the error summary, what changed
since the facilitator asked, withdrawing a submission and reopening an approved module –
every page checked by check_page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from laks.enums import ModuleState
from laks.extensions import db
from laks.models import UnitModule
from laks.services import modules as service
from tests.browser.helpers import check_page
from tests.test_workflow import module_in

pytestmark = pytest.mark.browser

CHANGE_REQUEST = ("Tilføj **jeres egne tal**:\n\n- hvor mange startede\n"
                  "- hvor mange faldt fra")


def stored(team) -> UnitModule:
    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                      UnitModule.module_key == "udfordring"))


def log_out(page):
    page.get_by_role("button", name="Log ud").click()
    page.wait_for_url("**/")


def module_url(team, suffix=""):
    return f"/enheder/{team.unit.id}/moduler/udfordring{suffix}"


def test_browser_review_without_comment_then_changes_and_resubmit(page, log_in, team):
    module_in(team, ModuleState.SUBMITTED)
    log_in(team.facilitator)
    page.goto(module_url(team))

    # A decision without the required comment: the summary at the top takes the focus and
    # leads to the field.
    page.get_by_role("button", name="Bed om ændringer").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_visible()
    expect(summary).to_be_focused()
    link = summary.get_by_role("link", name=re.compile("kommentar til enheden"))
    expect(link).to_have_attribute("href", "#comment")
    check_page(page, "exchange-review-without-comment")
    link.click()
    comment = page.get_by_label("Kommentar til enheden")
    expect(comment).to_be_focused()
    comment.fill(CHANGE_REQUEST)
    page.get_by_role("button", name="Bed om ændringer").click()
    expect(page.locator(".alert-success")).to_contain_text("bedt om ændringer")
    assert stored(team).state == ModuleState.CHANGES_REQUESTED

    # The unit reads the request as formatted text: bold, and a list of two points.
    log_out(page)
    log_in(team.tovholder)
    page.goto(module_url(team))
    box = page.locator(".changes-requested")
    expect(box.get_by_role("heading")).to_have_text("Jeres facilitator beder om ændringer")
    expect(box.locator("strong")).to_have_text("jeres egne tal")
    expect(box.get_by_role("listitem")).to_have_text(["hvor mange startede",
                                                      "hvor mange faldt fra"])
    expect(box).not_to_contain_text("**")
    check_page(page, "exchange-changes-requested-markdown")

    why = page.get_by_label(re.compile("Hvorfor er udfordringen vigtig"))
    why.fill("14 startede, 6 faldt fra før 3. gang.")
    page.get_by_role("button", name="Indsend til facilitator").click()
    expect(page.locator(".alert-success")).to_contain_text("Modulet er indsendt")

    # The facilitator sees what changed since they asked, above the review form.
    log_out(page)
    log_in(team.facilitator)
    page.goto(module_url(team))
    since = page.locator(".since-review")
    expect(since.get_by_role("heading", level=2)).to_have_text(
        "Ændringer siden du bad om ændringer")
    expect(since.locator("del")).to_contain_text("De får dårligere funktionsevne")
    expect(since.locator("ins")).to_contain_text("14 startede, 6 faldt fra før 3. gang.")
    check_page(page, "exchange-changes-since-review")

    # The revisions page marks what was submitted and what the facilitator reviewed.
    since.get_by_role("link", name="Se sammenligningen blandt alle revisioner").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Revisioner")
    rows = page.locator("tbody tr")
    expect(rows.nth(0).locator(".revision-steps")).to_have_text("Indsendt")
    expect(rows.nth(1).locator(".revision-steps")).to_have_text(
        re.compile(r"Indsendt\s+Ændringer ønsket"))
    expect(page.locator(".diff-lines ins").first).to_be_visible()
    check_page(page, "exchange-revisions-marked")


def test_browser_staff_withdraw_a_submission(page, log_in, team):
    module_in(team, ModuleState.SUBMITTED)
    log_in(team.staff)
    page.goto(module_url(team))
    check_page(page, "exchange-submitted-withdraw-button")
    page.get_by_role("button", name="Træk indsendelsen tilbage").click()
    expect(page.locator(".alert-success")).to_contain_text("Indsendelsen er trukket tilbage")
    expect(page.locator(".module-facts .badge")).to_have_text("Kladde")
    expect(page.locator(".timeline > li").last).to_contain_text("Trukket tilbage")
    expect(page.get_by_label("Vores udfordring i én sætning")).to_be_editable()
    check_page(page, "exchange-withdrawn")
    assert stored(team).state == ModuleState.DRAFT


def test_browser_facilitator_reopens_an_approved_module(page, log_in, team):
    module_in(team, ModuleState.APPROVED)
    log_in(team.facilitator)
    page.goto(module_url(team))
    expect(page.get_by_role("heading", name="Din vurdering")).to_have_count(0)
    check_page(page, "exchange-approved-reopen-form")

    page.get_by_role("button", name="Genåbn modulet").click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary.get_by_role("link")).to_have_attribute("href", "#comment")
    check_page(page, "exchange-reopen-without-comment")
    assert stored(team).state == ModuleState.APPROVED

    page.get_by_label("Kommentar til enheden").fill(CHANGE_REQUEST)
    page.get_by_role("button", name="Genåbn modulet").click()
    expect(page.locator(".alert-success")).to_contain_text("Modulet er genåbnet")
    expect(page.locator(".timeline > li").last).to_contain_text("Genåbnet")
    check_page(page, "exchange-reopened")
    assert stored(team).state == ModuleState.CHANGES_REQUESTED

    log_out(page)
    log_in(team.tovholder)
    page.goto(module_url(team))
    expect(page.locator(".changes-requested li")).to_have_count(2)
    expect(page.get_by_label("Vores udfordring i én sætning")).to_be_editable()
    check_page(page, "exchange-reopened-staff")


def test_browser_save_without_changes_says_so(page, log_in, team):
    um = module_in(team, ModuleState.DRAFT)
    log_in(team.tovholder)
    page.goto(module_url(team))
    page.get_by_role("button", name="Gem kladde").click()
    expect(page.locator(".alert-info")).to_contain_text("Intet er ændret")
    check_page(page, "exchange-nothing-changed")
    assert [r.number for r in stored(team).revisions] == [r.number for r in um.revisions]
    assert service.unit_module_for(team.unit, "udfordring").version == um.version
