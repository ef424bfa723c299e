"""The unit page as a unit at a glance: the modules' steps, the progress score with its
trajectory and the form to set it, the latest run chart of the test log, the open comments –
who sees what, bad input, and a fixed number of SQL statements however long the history."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, func, select
from werkzeug.datastructures import MultiDict

from laks.enums import ModuleState, Role
from laks.extensions import db
from laks.models import AuditEvent, ModuleComment, ProgressScore, UnitModule
from laks.services import progress

DAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def page_of(client, unit) -> str:
    response = client.get(f"/enheder/{unit.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(html: str, section_id: str) -> str:
    match = re.search(rf'<section id="{section_id}".*?</section>', html, re.S)
    assert match, f"no section {section_id}"
    return match.group(0)


def post_score(client, unit, **data):
    return client.post(f"/enheder/{unit.id}/fremdrift", data=data)


def scores_of(unit) -> list[ProgressScore]:
    db.session.expire_all()
    return list(db.session.scalars(select(ProgressScore).where(
        ProgressScore.unit_id == unit.id)))


def module(unit, key: str, state: ModuleState, answers: dict | None = None) -> UnitModule:
    um = UnitModule(unit=unit, module_key=key, state=state, version=1, answers=answers or {})
    db.session.add(um)
    db.session.commit()
    return um


def comment(um: UnitModule, author, body: str, at: datetime) -> ModuleComment:
    c = ModuleComment(unit_module=um, author=author, body=body, created_at=at)
    db.session.add(c)
    return c


# --- setting a score over HTTP ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["facilitator", "admin"], ids=str)
def test_unit_glance_facilitator_and_admin_set_a_score(client, login, team, who):
    login(getattr(team, who))
    assert f'action="/enheder/{team.unit.id}/fremdrift"' in page_of(client, team.unit)
    response = post_score(client, team.unit, half_steps="7", note="Flere gennemfører nu.")
    assert response.status_code == 302
    assert response.location.endswith(f"/enheder/{team.unit.id}#progress")
    (score,) = scores_of(team.unit)
    assert (score.half_steps, score.note, score.set_by_id) == (
        7, "Flere gennemfører nu.", getattr(team, who).id)
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.action == "progress.set")) == 1
    html = page_of(client, team.unit)
    assert "Fremdriftsscoren 3,5 er gemt." in html
    progress_html = section(html, "progress")
    assert '<span class="progress-score">3,5</span>' in progress_html
    assert "Forbedring" in progress_html and "Flere gennemfører nu." in progress_html
    assert getattr(team, who).name in progress_html
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in progress_html


@pytest.mark.parametrize("who", ["tovholder", "staff", "observer"], ids=str)
def test_unit_glance_staff_and_observers_read_the_score_without_a_form(client, login, team,
                                                                        who):
    progress.set_score(team.unit, 4, "Aktivitet i gang", actor=team.facilitator)
    db.session.commit()
    login(getattr(team, who))
    html = section(page_of(client, team.unit), "progress")
    assert '<span class="progress-score">2,0</span>' in html and "Aktivitet i gang" in html
    assert "<form" not in html
    assert post_score(client, team.unit, half_steps="9").status_code == 403
    assert [s.half_steps for s in scores_of(team.unit)] == [4]


@pytest.mark.parametrize("who", ["other_facilitator", "other_staff"], ids=str)
def test_unit_glance_strangers_get_403(client, login, team, who):
    login(getattr(team, who))
    assert client.get(f"/enheder/{team.unit.id}").status_code == 403
    assert post_score(client, team.unit, half_steps="9", note="").status_code == 403
    assert scores_of(team.unit) == []


def test_unit_glance_anonymous_post_goes_to_login(client, team):
    response = post_score(client, team.unit, half_steps="9")
    assert response.status_code == 302 and "/log-ind" in response.location
    assert scores_of(team.unit) == []


def test_unit_glance_a_post_without_csrf_token_is_refused(client, login, team):
    login(team.facilitator)
    response = client.post(f"/enheder/{team.unit.id}/fremdrift",
                           data={"half_steps": "5", "note": ""}, csrf=False)
    assert response.status_code == 400
    assert scores_of(team.unit) == []


@pytest.mark.parametrize(("data", "field", "message"), [
    ({"note": "Intet valgt"}, "half_steps", "Vælg en score på skalaen."),
    ({"half_steps": "", "note": "Intet valgt"}, "half_steps", "Vælg en score på skalaen."),
    ({"half_steps": "11", "note": "For højt"}, "half_steps", "fra 0,5 til 5,0"),
    ({"half_steps": "0", "note": "For lavt"}, "half_steps", "fra 0,5 til 5,0"),
    ({"half_steps": "tre", "note": "Et ord"}, "half_steps", "fra 0,5 til 5,0"),
    ({"half_steps": "3.5", "note": "Et decimaltal"}, "half_steps", "fra 0,5 til 5,0"),
    ({"half_steps": "6", "note": "Lang " + "x" * 500}, "note",
     "højst 500 tegn, den har 505"),
    ({"half_steps": "6", "note": "Borgeren med 010190-1239 faldt fra"}, "note",
     "Det ligner et CPR-nummer"),
], ids=["missing", "empty", "above", "below", "word", "decimal", "long", "cpr"])
def test_unit_glance_bad_score_is_refused_at_the_field_keeping_what_was_typed(
        client, login, team, data, field, message):
    login(team.facilitator)
    response = post_score(client, team.unit, **data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="error-summary"' in html
    form = re.search(r'<form method="post" action="/enheder/\d+/fremdrift".*?</form>', html,
                     re.S).group(0)
    error = re.search(rf'id="{field}-error"><span class="sr-only">[^<]*</span>([^<]*)</span>',
                      form)
    assert error and message in error.group(1), form
    # The note typed comes back, and a valid score stays chosen.
    assert re.search(rf">\s*{re.escape(data['note'])}</textarea>", form)
    if data.get("half_steps") == "6":
        assert re.search(r'<input[^>]*checked[^>]*value="6"|<input[^>]*value="6"[^>]*checked',
                         form)
    assert scores_of(team.unit) == []


def test_unit_glance_a_score_sent_twice_is_refused(client, login, team):
    login(team.facilitator)
    response = client.post(f"/enheder/{team.unit.id}/fremdrift",
                           data=MultiDict([("half_steps", "3"), ("half_steps", "9")]))
    assert response.status_code == 422 and "fra 0,5 til 5,0" in response.get_data(as_text=True)
    assert scores_of(team.unit) == []


def test_unit_glance_the_form_offers_every_step_of_the_scale_in_words(client, login, team):
    login(team.facilitator)
    form = section(page_of(client, team.unit), "progress")
    assert re.findall(r'name="half_steps"[^>]*value="(\d+)"', form) == [
        str(n) for n in range(1, 11)]
    assert "0,5 – Hensigt om at deltage" in form
    assert "5,0 – Enestående, vedvarende resultater" in form


# --- the trajectory -----------------------------------------------------------------------------


def test_unit_glance_history_lists_every_score_newest_first_with_who_and_when(
        client, login, team):
    for n, (half_steps, note) in enumerate([(2, "Team samlet"), (5, "Første test"),
                                            (8, "Markant bedre")]):
        progress.set_score(team.unit, half_steps, note, actor=team.facilitator,
                           at=DAY + timedelta(days=40 * n))
    db.session.commit()
    login(team.observer)
    html = section(page_of(client, team.unit), "progress")
    history = re.search(r'<ol class="progress-history.*?</ol>', html, re.S).group(0)
    assert [m for m in re.findall(r"Markant bedre|Første test|Team samlet", history)] == [
        "Markant bedre", "Første test", "Team samlet"]
    assert history.count(team.facilitator.name) == 3
    assert "2. mar. 2026" in history
    svg = re.search(r"<svg.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert "3 fremdriftsscorer, fra 2. marts 2026 til" in svg
    assert "Fra 1,0 til 4,0." in svg and "Den seneste: 4,0, Betydelig forbedring." in svg
    assert svg.count("<circle") == 3 and "<polyline" in svg
    assert "<script" not in svg and "style=" not in svg and "on" + "load" not in svg


def test_unit_glance_no_score_yet(client, login, team):
    login(team.staff)
    html = section(page_of(client, team.unit), "progress")
    assert "Ingen fremdriftsscore endnu." in html and "<svg" not in html


def test_unit_glance_in_english(client, login, team):
    progress.set_score(team.unit, 7, "", actor=team.facilitator)
    db.session.commit()
    login(team.facilitator)
    client.get("/sprog/en")
    html = section(page_of(client, team.unit), "progress")
    assert '<span class="progress-score">3.5</span>' in html and "Improvement" in html
    assert "0.5 – Intent to participate" in html


# --- modules, the run chart, the open comments ----------------------------------------------------


def test_unit_glance_shows_each_module_state_due_date_and_overdue(client, login, team):
    module(team.unit, "udfordring", ModuleState.APPROVED)
    module(team.unit, "praecisering", ModuleState.SUBMITTED)
    login(team.facilitator)
    html = page_of(client, team.unit)
    assert "1 af 5 moduler godkendt" in html
    assert "3 moduler har overskredet fristen" in html  # handleplan … refleksion, all 2026
    assert "Godkendt · Frist 1. februar 2026" in html
    assert "Indsendt · Frist 1. april 2026" in html
    assert "Ikke startet · Frist 1. juni 2026 · Fristen er overskredet" in html


def _test_log(unit, points_a, points_b):
    measures = [
        {"key": "m-a", "name": "Mødte op", "kind": "count", "better": "up", "goal": None,
         "baseline": None, "shared": None},
        {"key": "m-b", "name": "Gennemførte", "kind": "count", "better": "up", "goal": None,
         "baseline": None, "shared": None},
    ]
    return module(unit, "afproevning", ModuleState.DRAFT, {
        "measures": measures, "points": {"m-a": points_a, "m-b": points_b}})


def test_unit_glance_draws_the_measure_with_the_latest_measurement(client, login, team):
    _test_log(team.unit,
              [{"date": "2026-03-02", "value": 11}, {"date": "2026-03-30", "value": 12}],
              [{"date": "2026-03-09", "value": 3}, {"date": "2026-04-06", "value": 14}])
    login(team.facilitator)
    html = section(page_of(client, team.unit), "latest-chart")
    assert "Målingen med den seneste måling: Gennemførte." in html
    assert "<svg" in html and "Mødte op" not in html
    table = re.search(r"<tbody>.*?</tbody>", html, re.S).group(0)
    assert "<td>3</td>" in table and "<td>14</td>" in table
    assert f'href="/enheder/{team.unit.id}/afproevning/maalinger"' in html


def test_unit_glance_observers_see_the_chart_with_the_small_number_rule(client, login, team):
    _test_log(team.unit, [], [{"date": "2026-03-09", "value": 3},
                              {"date": "2026-04-06", "value": 14}])
    login(team.observer)
    table = re.search(r"<tbody>.*?</tbody>",
                      section(page_of(client, team.unit), "latest-chart"), re.S).group(0)
    assert "<td>&lt;5</td>" in table and "<td>3</td>" not in table
    assert "<td>14</td>" in table


def test_unit_glance_without_measurements_says_so(client, login, team):
    _test_log(team.unit, [], [])
    login(team.facilitator)
    html = section(page_of(client, team.unit), "latest-chart")
    assert "Ingen målinger i afprøvningen endnu." in html and "<svg" not in html


def test_unit_glance_open_comments_are_those_of_modules_not_approved_newest_first(
        client, login, team):
    approved = module(team.unit, "udfordring", ModuleState.APPROVED)
    asked = module(team.unit, "praecisering", ModuleState.CHANGES_REQUESTED)
    draft = module(team.unit, "handleplan", ModuleState.DRAFT)
    comment(approved, team.facilitator, "Afsluttet drøftelse", DAY)
    comment(asked, team.facilitator, "Uddyb **årsagerne**", DAY + timedelta(days=1))
    comment(draft, team.tovholder, "Vi mangler budgettet", DAY + timedelta(days=2))
    comment(asked, team.tovholder, "Vi har skrevet mere", DAY + timedelta(days=3))
    db.session.commit()
    login(team.facilitator)
    html = section(page_of(client, team.unit), "open-comments")
    assert "Afsluttet drøftelse" not in html
    assert re.findall(r"Vi har skrevet mere|Vi mangler budgettet|Uddyb", html) == [
        "Vi har skrevet mere", "Vi mangler budgettet", "Uddyb"]
    assert "<strong>årsagerne</strong>" in html  # markdown, rendered and sanitised
    assert "Præcisering</a>: 2 kommentarer" in html and "Handleplan</a>: 1 kommentar" in html
    assert "Udfordring</a>:" not in html
    assert team.tovholder.name in html and "(Facilitator)" in html
    assert "De nyeste" not in html


def test_unit_glance_shows_the_newest_ten_open_comments_and_says_how_many(client, login, team):
    draft = module(team.unit, "handleplan", ModuleState.DRAFT)
    for n in range(12):
        comment(draft, team.tovholder, f"Kommentar nummer {n:02d}", DAY + timedelta(hours=n))
    db.session.commit()
    login(team.staff)
    html = section(page_of(client, team.unit), "open-comments")
    shown = re.findall(r"Kommentar nummer (\d+)", html)
    assert shown == [f"{n:02d}" for n in range(11, 1, -1)]
    assert "De nyeste 10 af 12 åbne kommentarer vises" in html


def test_unit_glance_without_open_comments(client, login, team):
    login(team.facilitator)
    assert "Ingen åbne kommentarer." in section(page_of(client, team.unit), "open-comments")


# --- a fixed number of statements -----------------------------------------------------------------


def _statements(client, unit) -> int:
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        page_of(client, unit)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen)


def _history(team, make_user, n: int, start: int) -> None:
    """n more scores and n more comments (on two modules not approved), after the ``start``
    ones already there – each by a person of its own, so that loading who wrote what one
    by one would show in the count."""
    modules = [db.session.scalar(select(UnitModule).where(
        UnitModule.unit_id == team.unit.id, UnitModule.module_key == key))
        for key in ("handleplan", "afproevning")]
    for i in range(start, start + n):
        # Not members of the unit: the page's list of people does not load them already.
        scorer = make_user(Role.ADMIN, name=f"Administrator {i}")
        author = make_user(Role.FACILITATOR, team.other_unit, name=f"Facilitator {i}")
        progress.set_score(team.unit, i % 10 + 1, f"Note {i}", actor=scorer,
                           at=DAY + timedelta(days=i))
        comment(modules[i % 2], author, f"Kommentar {i}", DAY + timedelta(hours=i))
    db.session.commit()


@pytest.mark.parametrize("who", ["facilitator", "observer"], ids=str)
def test_unit_glance_statements_do_not_grow_with_the_history(client, login, team, make_user,
                                                             who):
    module(team.unit, "handleplan", ModuleState.SUBMITTED)
    _test_log(team.unit, [{"date": "2026-03-02", "value": 11}],
              [{"date": "2026-03-09", "value": 3}])
    _history(team, make_user, 5, 0)
    login(getattr(team, who))
    page_of(client, team.unit)  # warm up whatever is loaded once per process
    few = _statements(client, team.unit)
    _history(team, make_user, 45, 5)
    assert len(scores_of(team.unit)) == 50
    assert db.session.scalar(select(func.count(ModuleComment.id))) == 50
    many = _statements(client, team.unit)
    assert many == few
    html = page_of(client, team.unit)
    assert "Alle scorer med deres note (50)" in html and "Note 49" in html
    assert "De nyeste 10 af 50 åbne kommentarer vises" in html


def test_unit_glance_role_of_a_score_setter_who_is_gone(client, login, team, make_user):
    gone = make_user(Role.FACILITATOR, team.unit, name="Tidligere Facilitator")
    progress.set_score(team.unit, 3, "", actor=gone)
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()
    login(team.facilitator)
    html = section(page_of(client, team.unit), "progress")
    assert "Sat af en bruger," in html
