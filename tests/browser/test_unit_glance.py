"""A unit at a glance in the browser: the unit's facilitator opens the unit page – modules,
the latest run chart, the open comments – sets a progress score with a note (a missing
score first), sees it and the trajectory; a second score draws the line; the observer reads
it all without the form. At desktop width and at 375 px, without sideways scrolling; every
page through check_page (axe, CSP, console, screenshot)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from laks.enums import ModuleState
from laks.extensions import db
from laks.models import ModuleComment, ProgressScore, UnitModule
from laks.services import progress
from tests.browser.helpers import check_page

pytestmark = pytest.mark.browser

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEEKLY = [3, 2, 4, 3, 2, 3, 9, 10, 11, 10, 12, 11]


def _unit_with_work(team) -> None:
    """Two modules approved, one waiting for changes with a discussion, and a test log
    with a measure of twelve weeks."""
    unit = team.unit
    for key in ("udfordring", "praecisering"):
        db.session.add(UnitModule(unit=unit, module_key=key, state=ModuleState.APPROVED,
                                  version=1, answers={}))
    plan = UnitModule(unit=unit, module_key="handleplan",
                      state=ModuleState.CHANGES_REQUESTED, version=1, answers={})
    db.session.add(plan)
    db.session.add(UnitModule(unit=unit, module_key="afproevning", state=ModuleState.DRAFT,
                              version=1, answers={
        "measures": [{"key": "m-moedte-op", "name": "Borgere fra målgruppen, der mødte op",
                      "kind": "count", "better": "up", "goal": 10, "baseline": 6,
                      "shared": None}],
        "points": {"m-moedte-op": [
            {"date": (DAY.date() + timedelta(weeks=n)).isoformat(), "value": value}
            for n, value in enumerate(WEEKLY)]}}))
    db.session.add_all([
        ModuleComment(unit_module=plan, author=team.facilitator, created_at=DAY,
                      body="Hvem ringer til borgerne, og **hvornår**?"),
        ModuleComment(unit_module=plan, author=team.tovholder,
                      created_at=DAY + timedelta(days=1),
                      body="Sygeplejersken ringer dagen før første holdmøde."),
    ])
    db.session.commit()


def _fits(page, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_browser_unit_glance_facilitator_scores_progress(page, log_in, team):
    _unit_with_work(team)
    unit = team.unit
    log_in(team.facilitator)
    page.goto(f"/enheder/{unit.id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(unit.name)
    expect(page.get_by_text("2 af 5 moduler godkendt")).to_be_visible()
    chart = page.locator("#latest-chart")
    expect(chart.get_by_role("img", name="Borgere fra målgruppen, der mødte op")).to_be_visible()
    comments = page.locator("#open-comments")
    expect(comments.get_by_text("Sygeplejersken ringer dagen før første holdmøde.")) \
        .to_be_visible()
    expect(page.locator("#progress").get_by_text("Ingen fremdriftsscore endnu.")).to_be_visible()
    check_page(page, "unit-glance-before-score")

    # A score forgotten: the message at the field, the note kept.
    form = page.locator("#progress-form")
    form.get_by_label("Note (valgfri)").fill("Første test i gang; målkortene virker.")
    form.get_by_role("button", name="Gem scoren").click()
    expect(page.locator("#error-summary")).to_contain_text("Vælg en score på skalaen.")
    expect(page.locator("#half_steps-error")).to_contain_text("Vælg en score på skalaen.")
    expect(form.get_by_label("Note (valgfri)")).to_have_value(
        "Første test i gang; målkortene virker.")
    check_page(page, "unit-glance-score-missing")

    form.get_by_label("2,5 – Ændringer afprøvet, men ingen forbedring").check()
    form.get_by_role("button", name="Gem scoren").click()
    page.wait_for_url(f"**/enheder/{unit.id}#progress")
    expect(page.get_by_text("Fremdriftsscoren 2,5 er gemt.")).to_be_visible()
    latest = page.locator(".progress-latest")
    expect(latest.locator(".progress-score")).to_have_text("2,5")
    expect(latest).to_contain_text("Ændringer afprøvet, men ingen forbedring")
    expect(latest).to_contain_text("Første test i gang; målkortene virker.")
    expect(latest).to_contain_text(f"Sat af {team.facilitator.name}")
    expect(page.locator("#progress").get_by_role("img", name="Fremdrift på IHI-skalaen")) \
        .to_be_visible()
    check_page(page, "unit-glance-first-score")

    # Earlier scores (typed in afterwards) and a new one: the trajectory is a line.
    db.session.expire_all()
    progress.set_score(unit, 2, "Team samlet", actor=team.facilitator,
                       at=DAY - timedelta(days=60))
    progress.set_score(unit, 3, "Handleplanen er på vej", actor=team.facilitator,
                       at=DAY - timedelta(days=20))
    db.session.commit()
    form = page.locator("#progress-form")
    page.goto(f"/enheder/{unit.id}")
    form.get_by_label("3,5 – Forbedring").check()
    form.get_by_label("Note (valgfri)").fill("Flere møder op efter opringningen.")
    form.get_by_role("button", name="Gem scoren").click()
    page.wait_for_url(f"**/enheder/{unit.id}#progress")
    svg = page.locator("#progress svg")
    expect(svg.locator("circle")).to_have_count(4)
    expect(svg.locator("polyline")).to_have_count(1)
    history = page.locator(".progress-history-box")
    history.locator("summary").click()
    expect(history.locator("li")).to_have_count(4)
    expect(history.locator("li").first).to_contain_text("3,5 – Forbedring")
    expect(history.locator("li").last).to_contain_text("Team samlet")
    assert db.session.query(ProgressScore).count() == 4
    check_page(page, "unit-glance-trajectory-1280px")

    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/enheder/{unit.id}")
    _fits(page, 375)
    check_page(page, "unit-glance-trajectory-375px")


def test_browser_unit_glance_observer_reads_without_the_form(page, log_in, team):
    _unit_with_work(team)
    progress.set_score(team.unit, 4, "Aktivitet, men ingen ændringer endnu",
                       actor=team.facilitator, at=DAY)
    progress.set_score(team.unit, 6, "Lidt bedre", actor=team.facilitator,
                       at=DAY + timedelta(days=30))
    db.session.commit()
    log_in(team.observer)
    page.goto(f"/enheder/{team.unit.id}")
    expect(page.locator(".progress-latest .progress-score")).to_have_text("3,0")
    expect(page.locator("#progress-form")).to_have_count(0)
    # Counts of 1–4 are "<5" for a reader outside the unit.
    page.locator("#latest-chart summary").click()
    expect(page.locator("#latest-chart tbody")).to_contain_text("<5")
    check_page(page, "unit-glance-observer")
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(f"/enheder/{team.unit.id}")
    _fits(page, 375)
    check_page(page, "unit-glance-observer-375px")
