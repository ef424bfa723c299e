"""The interface without a browser: languages and locale formats, the DKFDS macros, the
accessibility statement, and pages free of inline scripts and styles."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from flask import render_template_string, session
from flask_babel import format_date, format_decimal
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired

from laks.enums import Role
from laks.extensions import db

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("lang", "expected_date", "expected_number"),
    [("da", "25. november 2026", "1.234,5"), ("en", "25 November 2026", "1,234.5")],
    ids=["danish", "english"],
)
def test_ui_dates_and_numbers_follow_the_language(app, lang, expected_date, expected_number):
    with app.test_request_context("/"):
        session["lang"] = lang
        assert format_date(date(2026, 11, 25), "long") == expected_date
        assert format_decimal(1234.5) == expected_number


def test_ui_unknown_language_in_session_formats_as_danish(app):
    with app.test_request_context("/"):
        session["lang"] = "xx"
        assert format_date(date(2026, 11, 25), "long") == "25. november 2026"


def test_ui_language_switcher_puts_current_language_first_and_returns_to_the_page(client):
    page = client.get("/tilgaengelighed").get_data(as_text=True)
    links = re.findall(r'<a href="(/sprog/[^"]+)" lang="(\w+)"[^>]*?( aria-current="true")?>', page)
    assert links[0] == ("/sprog/da?next=/tilgaengelighed", "da", ' aria-current="true"')
    assert links[1] == ("/sprog/en?next=/tilgaengelighed", "en", "")
    client.get("/sprog/en?next=/tilgaengelighed")
    page = client.get("/tilgaengelighed").get_data(as_text=True)
    first = re.search(r'<a href="/sprog/(\w+)[^"]*" lang="\w+"[^>]*>', page)
    assert first.group(1) == "en" and 'aria-current="true"' in first.group(0)


def test_ui_footer_links_the_accessibility_statement(client):
    page = client.get("/").get_data(as_text=True)
    footer = page[page.index("<footer>"):]
    assert '<a class="function-link" href="/tilgaengelighed">Tilgængelighedserklæring</a>' in footer


def test_ui_accessibility_statement_is_public_and_complete(client):
    response = client.get("/tilgaengelighed")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Tilgængelighedserklæring for laks", "Overholdelsesstatus", "(WCAG) 2.1",
                 "Klagemulighed", "Digitaliseringsstyrelsen", 'href="https://was.digst.dk/"',
                 "Erklæringen er udarbejdet den 25. november 2026."):
        assert text in page
    assert "Skriv til netværksadministratoren" in page


def test_ui_accessibility_statement_gives_the_configured_contact(app, client):
    app.config["LAKS_CONTACT_EMAIL"] = "tilgaengelighed@example.org"
    page = client.get("/tilgaengelighed").get_data(as_text=True)
    assert '<a href="mailto:tilgaengelighed@example.org">' in page


def test_ui_form_errors_are_summarised_linked_and_typed_values_kept(client):
    response = client.post("/log-ind", data={"email": "someone@example.org", "password": ""})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    start = page.index('id="error-summary"')
    summary = page[start:page.index("</ul>", start)]
    assert 'data-module="error-summary"' in page and 'tabindex="-1"' in page
    assert '<a class="function-link" href="#password">Indtast din adgangskode.</a>' in summary
    password = re.search(r'<input[^>]*id="password"[^>]*>', page).group(0)
    assert 'aria-describedby="password-error"' in password and 'aria-invalid="true"' in password
    assert 'value="someone@example.org"' in page
    assert '<span class="form-error-message" id="password-error">' in page


def _pages_to_check(client, login, make_user, make_unit):
    yield "/", client.get("/")
    yield "/log-ind", client.post("/log-ind", data={"email": "x@example.org"})
    yield "/tilgaengelighed", client.get("/tilgaengelighed")
    yield "/findes-ikke", client.get("/findes-ikke")
    unit = make_unit()
    for role in Role:
        user = make_user(role, unit if role in (Role.STAFF, Role.FACILITATOR) else None)
        login(user)
        yield f"/hjem ({role.value})", client.get("/hjem")
        yield f"/enheder/{unit.id} ({role.value})", client.get(f"/enheder/{unit.id}")
        if role == Role.ADMIN:
            yield "/admin/brugere", client.get("/admin/brugere")
            yield "/admin/log", client.get("/admin/log")
        client.post("/log-ud")


def test_ui_pages_have_no_inline_script_style_or_handlers(client, login, make_user, make_unit):
    """The Content-Security-Policy has no 'unsafe-inline', so the pages must not need it."""
    checked = 0
    for url, response in _pages_to_check(client, login, make_user, make_unit):
        page = response.get_data(as_text=True)
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page), url
        assert not re.search(r"<style\b", page), url
        assert not re.search(r"\sstyle=", page), url
        assert not re.search(r"\son[a-z]+=", page), url
        assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
        checked += 1
    assert checked >= 14


def test_ui_pages_load_the_design_system_and_the_site_script(client):
    page = client.get("/").get_data(as_text=True)
    # Each under its fingerprinted name (laks.staticfiles).
    assert re.search(r'<link rel="stylesheet" href="/static/dkfds/css/dkfds\.min\.[0-9a-f]{12}'
                     r'\.css">', page)
    assert re.search(r'<script src="/static/dkfds/js/dkfds\.min\.[0-9a-f]{12}\.js" defer>'
                     r'</script>', page)
    assert re.search(r'<script src="/static/js/laks\.[0-9a-f]{12}\.js" defer></script>', page)
    assert '<a class="skipnav" href="#main-content">Gå til sidens indhold</a>' in page
    assert '<main id="main-content"' in page


def test_ui_design_system_files_are_installed():
    """`make assets` copies dkfds' built files into static/dkfds (never committed)."""
    static = ROOT / "static" / "dkfds"
    for name in ("css/dkfds.min.css", "js/dkfds.min.js", "img/all-svg-icons.svg",
                 "fonts/IBMPlexSans/complete/woff2/IBMPlexSans-Regular.woff2"):
        assert (static / name).is_file(), f"static/dkfds/{name} is missing: run make assets"
    css = (static / "css/dkfds.min.css").read_text()
    for ref in set(re.findall(r"url\((\.\./[^)#?]+)", css)):
        assert (static / "css" / ref).resolve().is_file(), ref


STEPS = """{% from "_macros/ui.html" import step_indicator %}{{ step_indicator(steps) }}"""


def test_ui_step_indicator_shows_state_link_and_current_step(app):
    steps = [
        ("Udfordring", "done", "/m/1", False, "Godkendt"),
        ("Præcisering", "error", "/m/2", False),
        ("Handleplan", "todo", "/m/3", True),
        ("Afprøvning", "todo", None, False),
        ("Refleksion", "disabled", "/m/5", False),
    ]
    with app.test_request_context("/"):
        html = render_template_string(STEPS, steps=steps)
    items = re.findall(r"<li(?: class=\"([^\"]*)\")?>(.*?)</li>", html, re.S)
    assert [cls for cls, _ in items] == ["", "error", "current", "", "disabled"]
    assert 'href="/m/1"' in items[0][1] and 'aria-label="Trin 1 gennemført"' in items[0][1]
    assert "Godkendt" in items[0][1]
    assert 'aria-label="Fejl i trin 2"' in items[1][1]
    assert 'aria-current="step"' in items[2][1] and "<span>3</span>" in items[2][1]
    assert "<a " not in items[3][1] and "<a " not in items[4][1]
    assert 'aria-label="Moduler"' in html


class _Example(FlaskForm):
    class Meta:
        csrf = False

    name = StringField("Navn", validators=[DataRequired("Skriv et navn.")])
    kind = SelectField("Type", choices=[SelectChoice("a", "A"), SelectChoice("b", "B")])
    agree = BooleanField("Enig")
    size = RadioField("Størrelse", choices=[SelectChoice("s", "Lille"), SelectChoice("l", "Stor")],
                      validators=[DataRequired("Vælg en størrelse.")])
    notes = TextAreaField("Noter")


FIELDS = """{% from "_macros/forms.html" import error_summary, field %}{{ error_summary(form) }}
{% for f in form %}{{ field(f, hint='Hjælp' if f.name == 'name' else None) }}{% endfor %}"""


def test_ui_field_macro_renders_every_kind_of_field_in_dkfds_markup(app):
    with app.test_request_context("/", method="POST", data={"name": "", "notes": "min tekst"}):
        form = _Example()
        form.validate()
        html = render_template_string(FIELDS, form=form)
    assert '<a class="function-link" href="#name">Skriv et navn.</a>' in html
    assert '<a class="function-link" href="#size-0">Vælg en størrelse.</a>' in html
    assert re.search(r'<label class="form-label" for="name">Navn</label>\s*'
                     r'<span class="form-hint" id="name-hint">Hjælp</span>', html)
    assert 'aria-describedby="name-hint name-error"' in html
    assert 'class="form-select" id="kind"' in html
    assert 'class="form-checkbox" id="agree"' in html
    assert '<legend class="form-label">Størrelse</legend>' in html
    assert 'class="form-radio" id="size-0"' in html
    assert re.search(r'<textarea[^>]*class="form-input"[^>]*>\s*min tekst</textarea>', html)


def test_ui_nav_tabs_mark_the_current_tab(app):
    template = """{% from "_macros/ui.html" import nav_tabs %}{{ nav_tabs(items, "Visninger") }}"""
    with app.test_request_context("/"):
        items = [("Svar", "/a", False), ("Tidslinje", "/b", True)]
        html = render_template_string(template, items=items)
    assert '<nav class="tab-container" aria-label="Visninger">' in html
    assert '<a href="/a" class="tab-button"><span>Svar</span></a>' in html
    assert '<a href="/b" class="tab-button" aria-current="true"><span>Tidslinje</span></a>' in html


def test_ui_flash_messages_are_dkfds_alerts(client, login, make_user):
    login(make_user(Role.ADMIN))
    client.post("/log-ud")
    page = client.get("/").get_data(as_text=True)
    assert re.search(r'<div class="alert alert-success" role="status">.*?'
                     r'<p class="alert-text">Du er logget ud.</p>', page, re.S)


# --- rows that people can write in ---------------------------------------------------------


def _rows_url(team, key="handleplan"):
    return f"/enheder/{team.unit.id}/moduler/{key}"


def _cells(page: str, name: str) -> list[str]:
    """The text of every cell named ``<name>-<n>-who`` in the page, in order."""
    return re.findall(rf'<textarea[^>]*name="{name}-\d+-who"[^>]*>([^<]*)</textarea>', page)


def test_ui_row_text_cells_take_several_lines_with_label_and_error(client, login, team):
    login(team.tovholder)
    page = client.get(_rows_url(team)).get_data(as_text=True)
    assert re.search(r'<span class="rows-cell-heading" aria-hidden="true">Hvad</span>\s*'
                     r'<label class="sr-only" for="activities-0-what">Hvad, '
                     r'<span data-row-number>række 1</span></label>', page)
    assert re.search(r'<textarea class="form-input rows-text" name="activities-0-what" '
                     r'id="activities-0-what" rows="2"></textarea>', page)
    # A number cell stays an input; a cell with an error is tied to its message.
    response = client.post(_rows_url(team, "afproevning"), data={
        "version": "0", "intent": "save", "cycles-0-did": "To linjer\nher",
        "cycles-0-count": "mange"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert re.search(r'<input[^>]*id="cycles-0-count"', page)
    assert re.search(r'<input[^>]*aria-describedby="cycles-0-count-error"[^>]*'
                     r'aria-invalid="true"|<input[^>]*aria-invalid="true"[^>]*'
                     r'aria-describedby="cycles-0-count-error"', page)
    assert 'id="cycles-0-count-error"' in page
    assert "To linjer\nher</textarea>" in page  # the lines kept as typed


def test_ui_row_text_is_escaped_in_its_cell(client, login, team):
    login(team.tovholder)
    response = client.post(_rows_url(team), data={
        "version": "0", "intent": "add_row:activities",
        "activities-0-who": "</textarea><script>alert(1)</script>"})
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;alert(1)&lt;/script&gt;</textarea>" in page


def test_ui_every_row_has_a_delete_button_with_its_number(client, login, team):
    login(team.tovholder)
    response = client.post(_rows_url(team), data={
        "version": "0", "intent": "add_row:activities",
        "activities-0-who": "A", "activities-1-who": "B"})
    page = response.get_data(as_text=True)
    buttons = re.findall(r'<button type="submit" name="intent" value="(delete_row:[^"]+)"'
                         r'[^>]*formnovalidate data-delete-row>([^<]+)</button>', page)
    assert buttons == [("delete_row:activities:0", "Slet række 1"),
                       ("delete_row:activities:1", "Slet række 2"),
                       ("delete_row:activities:2", "Slet række 3")]


def test_ui_delete_a_row_without_javascript(client, login, team):
    login(team.tovholder)
    response = client.post(_rows_url(team), data={
        "version": "0", "intent": "delete_row:activities:1", "trial_action": "Flere gennemfører",
        "activities-0-who": "Sygeplejerske", "activities-0-what": "Ringer dagen før",
        "activities-1-who": "Læge", "activities-1-what": "Henviser",
        "activities-2-who": "Fysioterapeut", "activities-2-what": "Træner\nto gange"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    # Row 2 is gone; row 3 moved up and is row 2 now; everything else typed is kept.
    assert _cells(page, "activities") == ["Sygeplejerske", "Fysioterapeut"]
    assert '>Træner\nto gange</textarea>' in page and 'name="activities-1-what"' in page
    assert "Læge" not in page and 'name="activities-2-who"' not in page
    assert "Slet række 2" in page and "Slet række 3" not in page
    assert "Flere gennemfører" in page
    assert stored_module(team, "handleplan") is None  # deleting a row does not save


def test_ui_delete_the_only_row_leaves_an_empty_row(client, login, team):
    login(team.tovholder)
    response = client.post(_rows_url(team), data={
        "version": "0", "intent": "delete_row:activities:0", "activities-0-who": "Læge"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert _cells(page, "activities") == [""]
    assert "Læge" not in page


@pytest.mark.parametrize(
    "intent",
    ["delete_row:activities:9", "delete_row:activities:x", "delete_row:activities",
     "delete_row:", "delete_row:trial_action:0", "delete_row:activities:-1"],
    ids=["no-such-row", "not-a-number", "no-row", "nothing", "not-rows", "negative"])
def test_ui_delete_row_that_is_not_there_keeps_everything(client, login, team, intent):
    login(team.tovholder)
    response = client.post(_rows_url(team), data={
        "version": "0", "intent": intent, "trial_action": "Mål",
        "activities-0-who": "A", "activities-1-who": "B"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert _cells(page, "activities") == ["A", "B"] and "Mål" in page


def test_ui_rows_read_back_as_a_table_with_labels_for_cards(client, login, team):
    from laks.services import modules as service

    um = service.unit_module_for(team.unit, "handleplan")
    service.save_answers(um, {"activities": [
        {"who": "Sygeplejerske", "what": "Ringer\ndagen før", "where": "Centret",
         "when": "Uge 1"}]}, actor=team.tovholder, base_version=0)
    db.session.commit()
    login(team.facilitator)  # reads, cannot edit
    page = client.get(_rows_url(team, "handleplan")).get_data(as_text=True)
    assert '<table class="table table--zebra rows-read">' in page
    assert '<td data-label="Hvem">Sygeplejerske</td>' in page
    assert '<td data-label="Hvad">Ringer\ndagen før</td>' in page


def test_ui_pdsa_cycles_read_back_as_cards_in_their_phases(client, login, team):
    """Module 4's cycles are cards: each under its number and change, its answers under the
    PDSA phases, the decision in words, and a link to the cycle's own page."""
    from laks.services import modules as service

    um = service.unit_module_for(team.unit, "afproevning")
    service.save_answers(um, {"cycles": [
        {"date": "2026-03-02", "change": "Ring dagen før", "prediction": "Flere møder op",
         "did": "Ringede\ndagen før", "saw": "Flere kom", "count": 5, "decision": "adopt"}]},
        actor=team.tovholder, base_version=0)
    db.session.commit()
    login(team.facilitator)
    page = client.get(_rows_url(team, "afproevning")).get_data(as_text=True)
    link = f'<a href="/enheder/{team.unit.id}/afproevning/cyklusser/1">'
    assert f"{link}Cyklus 1: Ring dagen før</a>" in page
    plan, do = page.index('row-card-group">Planlæg'), page.index('row-card-group">Udfør')
    assert plan < page.index("Flere møder op") < do < page.index("Ringede\ndagen før")
    assert "<dd>Fasthold ændringen</dd>" in page and "<dd>2. marts 2026</dd>" in page


def stored_module(team, key):
    from sqlalchemy import select

    from laks.models import UnitModule

    db.session.expire_all()
    return db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id,
                                                      UnitModule.module_key == key))


def test_ui_delete_row_with_a_row_number_thousands_of_digits_long(client, login, team):
    """A row index no page writes is left to the rows field, which refuses it on saving:
    deleting never crashes on it."""
    login(team.tovholder)
    huge = "9" * 5000
    response = client.post(_rows_url(team), data={
        "version": "0", "intent": "delete_row:activities:0", "trial_action": "Mål",
        "activities-0-who": "A", f"activities-{huge}-who": "B"})
    assert response.status_code in (200, 422)
    assert "Mål" in response.get_data(as_text=True)
    assert stored_module(team, "handleplan") is None
