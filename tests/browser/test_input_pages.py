"""Input in the browser: the row limit stated at the rows, a wrong number and missing
answers in one round, and the admin's smallest and largest number for a number question –
every page checked by check_page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from laks.services.definitions import get_spec
from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser


def test_browser_row_limit_is_stated_at_the_rows(page, log_in, team):
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/handleplan")
    hint = page.locator("#activities-hint")
    expect(hint).to_contain_text("Højst 30 rækker.")
    fieldset = page.locator("#activities fieldset")
    expect(fieldset).to_have_attribute("aria-describedby", re.compile("activities-hint"))
    check_page(page, "input-rows-limit-hint")


def test_browser_wrong_number_and_missing_answers_in_one_round(page, log_in, team):
    log_in(team.tovholder)
    page.goto(f"/enheder/{team.unit.id}/moduler/udfordring")
    page.get_by_label(re.compile("Vores udfordring i én sætning")).fill("Vi mister de ældre")
    page.get_by_label(re.compile("Antal borgere i målgruppen")).fill("1e1000000")
    page.get_by_label(re.compile("Antal af dem")).fill("1 234")
    page.get_by_role("button", name=re.compile("Indsend")).click()
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("uden eksponent")
    expect(summary).to_contain_text("Besvar spørgsmålet, før I indsender.")
    expect(page.get_by_label(re.compile("Antal borgere i målgruppen"))).to_have_value(
        "1e1000000")
    expect(page.get_by_label(re.compile("Antal af dem"))).to_have_value("1 234")
    check_page(page, "input-number-and-missing-answers")


def test_browser_admin_sets_smallest_and_largest_number(page, log_in, team):
    log_in(team.admin)
    page.goto("/admin/moduler/udfordring")
    page.get_by_role("link", name=re.compile("Ret Antal borgere i målgruppen")).click()
    page.get_by_label("Mindste tilladte tal").fill("100")
    page.get_by_label("Største tilladte tal").fill("10")
    page.get_by_role("button", name="Gem").click()
    expect(page.locator("#error-summary")).to_be_focused()
    expect(page.locator("#max_value-error")).to_contain_text("mindst lige så stort")
    check_page(page, "input-question-min-above-max")
    page.get_by_label("Største tilladte tal").fill("5.000")
    page.get_by_role("button", name="Gem").click()
    expect(page.get_by_text("fra 100 til 5.000")).to_be_visible()
    check_page(page, "input-question-range-in-list")
    question = get_spec("udfordring").question("baseline_in_target_group")
    assert (question.min, question.max) == (100, 5000)
