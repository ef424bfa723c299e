"""The catalogue's pages for the network admin and the unit's consent page over HTTP: who may
see and do what, curating without JavaScript, preview, publishing, withdrawing, and that
nothing unsafe in a case or an edition's texts reaches the page."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from laks.enums import EditionStatus, Role
from laks.extensions import db
from laks.models import CaseConsent, Edition
from laks.services import catalogue
from tests.catalogue_support import fill_case

ADMIN_PAGES = ["/admin/katalog/", "/admin/katalog/ny", "/admin/katalog/{id}",
               "/admin/katalog/{id}/forhaandsvisning", "/admin/katalog/{id}/udgiv"]
ADMIN_POSTS = ["/admin/katalog/ny", "/admin/katalog/{id}/tekst", "/admin/katalog/{id}/cases",
               "/admin/katalog/{id}/udgiv", "/admin/katalog/{id}/traek-tilbage",
               "/admin/katalog/{id}/slet"]


@pytest.fixture
def ready(team):
    """The team's unit with a complete, consented case, and a draft edition."""
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    catalogue.give_consent(team.unit, team.tovholder)
    team.edition = catalogue.create_edition(team.admin, "Inspirationskatalog", None,
                                            "theme")
    db.session.commit()
    return team


@pytest.mark.parametrize("who", ["tovholder", "staff", "facilitator", "observer",
                                 "other_staff"])
def test_catalogue_admin_pages_refuse_everyone_but_the_admin(ready, client, login, who):
    login(getattr(ready, who))
    for url in ADMIN_PAGES:
        assert client.get(url.format(id=ready.edition.id)).status_code == 403, url
    for url in ADMIN_POSTS:
        assert client.post(url.format(id=ready.edition.id),
                           data={"title": "x", "reason": "x"}).status_code == 403, url
    assert db.session.scalar(select(Edition).where(Edition.number == 2)) is None


def test_catalogue_admin_pages_need_login(ready, client):
    for url in ADMIN_PAGES:
        response = client.get(url.format(id=ready.edition.id))
        assert response.status_code in (302, 401), url


def test_catalogue_admin_pages_open_for_the_admin(ready, client, login):
    login(ready.admin)
    for url in ADMIN_PAGES:
        assert client.get(url.format(id=ready.edition.id)).status_code == 200, url
    assert client.get("/admin/katalog/99999").status_code == 404
    home = client.get("/hjem").get_data(as_text=True)
    assert 'href="/admin/katalog/"' in home and "Inspirationskatalog" in home


def test_catalogue_admin_menu_item_only_for_the_admin(ready, client, login):
    login(ready.facilitator)
    assert 'href="/admin/katalog/"' not in client.get("/hjem").get_data(as_text=True)


def test_catalogue_admin_curates_publishes_and_withdraws(ready, client, login, make_user):
    other = ready.other_unit
    other.programme = ready.unit.programme
    other_tovholder = make_user(Role.STAFF, other, tovholder=True)
    fill_case(other, staff=other_tovholder, facilitator=ready.other_facilitator,
              changes={"refleksion": {"case_title": "Anden case"}})
    catalogue.give_consent(other, other_tovholder)
    db.session.commit()
    login(ready.admin)
    base = f"/admin/katalog/{ready.edition.id}"

    # Publishing an empty edition is refused with a message.
    page = client.get(f"{base}/udgiv").get_data(as_text=True)
    assert "En udgave uden cases kan ikke udgives" in page
    response = client.post(f"{base}/udgiv")
    assert response.status_code == 422
    assert "En udgave uden cases kan ikke udgives" in response.get_data(as_text=True)

    # New edition form: a missing title is refused at the field, the rest kept.
    response = client.post("/admin/katalog/ny", data={"title": "", "programme": "",
                                                      "grouping": "municipality"})
    assert response.status_code == 422
    assert "Giv udgaven en titel" in response.get_data(as_text=True)

    # Texts: preview without saving, then save.
    data = {"title": "Katalog 2026", "grouping": "theme", "foreword": "**Kære læser**",
            "introduction": "Sådan læser du"}
    preview = client.post(f"{base}/tekst", data={**data, "preview": "1"})
    assert "<strong>Kære læser</strong>" in preview.get_data(as_text=True)
    db.session.refresh(ready.edition)
    assert ready.edition.foreword == ""
    assert client.post(f"{base}/tekst", data=data).status_code == 302
    db.session.refresh(ready.edition)
    assert ready.edition.title == "Katalog 2026" and ready.edition.foreword == "**Kære læser**"

    # Cases: both ticked, order by position numbers, then moved with a button.
    a, b = ready.unit.id, other.id
    assert client.post(f"{base}/cases", data={"unit": [str(a), str(b)],
                                              f"position-{a}": "2",
                                              f"position-{b}": "1"}).status_code == 302
    db.session.expire_all()
    assert [c.unit_id for c in ready.edition.cases] == [b, a]
    client.post(f"{base}/cases", data={"unit": [str(a), str(b)], f"position-{a}": "2",
                                       f"position-{b}": "1", "move": f"up:{a}"})
    db.session.expire_all()
    assert [c.unit_id for c in ready.edition.cases] == [a, b]
    edit = client.get(base).get_data(as_text=True)
    assert edit.index("Anden case") > edit.index("Eget mål, målkort")

    # A foreign unit id is refused with a message, nothing changed.
    response = client.post(f"{base}/cases", data={"unit": ["99999"]})
    assert response.status_code == 422
    db.session.expire_all()
    assert [c.unit_id for c in ready.edition.cases] == [a, b]

    # Preview: foreword, contents, every case with its sections.
    page = client.get(f"{base}/forhaandsvisning").get_data(as_text=True)
    for text in ("Forord", "Indhold", "Kære læser", "Anden case", "Kort fortalt",
                 "Resultater for målgruppen", "Gode råd til andre", "Forankring", "Kontakt"):
        assert text in page, text

    # Publish through the confirm page.
    assert "Udgiv udgave 1" in client.get(f"{base}/udgiv").get_data(as_text=True)
    assert client.post(f"{base}/udgiv").status_code == 302
    db.session.expire_all()
    assert ready.edition.status == EditionStatus.PUBLISHED
    assert all(c.snapshot for c in ready.edition.cases)
    index = client.get("/admin/katalog/").get_data(as_text=True)
    assert "Katalog 2026" in index and "Udgivet" in index

    # A published edition's texts and cases cannot be changed over HTTP either.
    client.post(f"{base}/tekst", data={**data, "title": "Ændret"})
    client.post(f"{base}/cases", data={"unit": [str(b)]})
    db.session.expire_all()
    assert ready.edition.title == "Katalog 2026" and len(ready.edition.cases) == 2

    # Withdraw: the reason is required.
    response = client.post(f"{base}/traek-tilbage", data={"reason": ""})
    assert response.status_code == 422
    assert "Skriv, hvorfor udgaven trækkes tilbage" in response.get_data(as_text=True)
    assert client.post(f"{base}/traek-tilbage",
                       data={"reason": "Forkert udgave"}).status_code == 302
    db.session.expire_all()
    assert ready.edition.status == EditionStatus.WITHDRAWN
    assert ready.edition.withdrawn_reason == "Forkert udgave"


def test_catalogue_admin_lists_units_that_are_not_eligible(ready, client, login, make_user):
    other_tovholder = make_user(Role.STAFF, ready.other_unit, tovholder=True)
    fill_case(ready.other_unit, staff=other_tovholder, facilitator=ready.other_facilitator,
              changes={"refleksion": {"case_contact_role": "Ring på 42 45 09 90"}})
    login(ready.admin)
    page = client.get(f"/admin/katalog/{ready.edition.id}").get_data(as_text=True)
    section = page[page.index("Enheder, hvis case ikke kan komme med endnu"):]
    assert "Sletten" in section and "ikke et telefonnummer" in section
    assert "Enheden har ikke givet samtykke" in section
    assert "Sundhedscenteret" not in section  # eligible, so among the cases to choose


UNSAFE = {
    "case_tips": "<script>alert(1)</script> [fil](file:///etc/passwd) "
                 "![billede](https://example.org/spor.png) <img src=x onerror=alert(2)>",
}


def test_catalogue_unsafe_markdown_never_reaches_the_page(team, client, login):
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              changes={"refleksion": UNSAFE})
    catalogue.give_consent(team.unit, team.tovholder)
    edition = catalogue.create_edition(team.admin, "Katalog", None, "theme")
    catalogue.update_edition(edition, team.admin,
                             foreword="<script>alert(3)</script>[x](file:///c:/boot.ini)",
                             introduction="![ude](http://example.org/a.png)")
    catalogue.set_edition_cases(edition, [team.unit.id], team.admin)
    db.session.commit()
    login(team.admin)
    pages = [client.get(f"/admin/katalog/{edition.id}/forhaandsvisning").get_data(as_text=True)]
    client.post("/log-ud")
    login(team.tovholder)
    pages.append(client.get(f"/enheder/{team.unit.id}/katalog").get_data(as_text=True))
    for page in pages:
        assert "<script>alert" not in page
        assert "file:" not in page
        assert "example.org" not in page
        assert "<img" not in page and "onerror" not in page


def test_catalogue_consent_page_for_the_tovholder(team, client, login):
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              changes={"refleksion": {"case_reached": 3}})
    login(team.tovholder)
    unit_page = client.get(f"/enheder/{team.unit.id}").get_data(as_text=True)
    assert f'href="/enheder/{team.unit.id}/katalog"' in unit_page
    page = client.get(f"/enheder/{team.unit.id}/katalog").get_data(as_text=True)
    assert "Samtykke til inspirationskataloget" in page
    assert "Enheden har ikke givet samtykke" in page
    assert "Eget mål, målkort" in page  # the case as it will appear
    assert re.search(r"Nået</dt><dd>&lt;5</dd>", page)  # 3 reached is shown as <5
    response = client.post(f"/enheder/{team.unit.id}/katalog/samtykke")
    assert response.status_code == 302
    page = client.get(f"/enheder/{team.unit.id}/katalog").get_data(as_text=True)
    assert "Tove Tovholder gav samtykke på enhedens vegne" in page
    assert client.post(f"/enheder/{team.unit.id}/katalog/traek-samtykke").status_code == 302
    assert catalogue.active_consent(team.unit) is None


def test_catalogue_consent_refused_with_the_missing_fields(team, client, login):
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator,
              approve=("udfordring", "praecisering", "handleplan", "afproevning"))
    login(team.tovholder)
    page = client.get(f"/enheder/{team.unit.id}/katalog").get_data(as_text=True)
    assert "Modul 5 er ikke godkendt endnu" in page
    assert "Casens titel" in page and "Gode råd til andre" in page
    assert "Enheden giver samtykke til, at casen udgives" not in page  # no button
    response = client.post(f"/enheder/{team.unit.id}/katalog/samtykke")
    assert response.status_code == 422
    assert "Casen er ikke klar" in response.get_data(as_text=True)
    assert db.session.scalar(select(CaseConsent)) is None


@pytest.mark.parametrize("who", ["staff", "facilitator", "admin", "observer"])
def test_catalogue_consent_only_by_the_tovholder(team, client, login, who):
    fill_case(team.unit, staff=team.tovholder, facilitator=team.facilitator)
    login(getattr(team, who))
    page = client.get(f"/enheder/{team.unit.id}/katalog")
    assert page.status_code == 200  # those who see the unit see its case
    assert "Kun enhedens tovholder kan give" in page.get_data(as_text=True)
    assert client.post(f"/enheder/{team.unit.id}/katalog/samtykke").status_code == 403
    assert client.post(f"/enheder/{team.unit.id}/katalog/traek-samtykke").status_code == 403
    assert db.session.scalar(select(CaseConsent)) is None


def test_catalogue_consent_page_hidden_from_strangers(team, client, login):
    login(team.other_staff)
    assert client.get(f"/enheder/{team.unit.id}/katalog").status_code == 403
    assert client.post(f"/enheder/{team.unit.id}/katalog/samtykke").status_code == 403


def test_catalogue_admin_told_when_a_published_case_loses_its_consent(ready, client, login):
    catalogue.set_edition_cases(ready.edition, [ready.unit.id], ready.admin)
    catalogue.publish_edition(ready.edition, ready.admin)
    db.session.commit()
    login(ready.admin)
    page = client.get(f"/admin/katalog/{ready.edition.id}").get_data(as_text=True)
    assert "trukket deres samtykke tilbage" not in page
    catalogue.withdraw_consent(ready.unit, ready.tovholder)
    db.session.commit()
    page = client.get(f"/admin/katalog/{ready.edition.id}").get_data(as_text=True)
    assert "trukket deres samtykke tilbage: Testkommune" in page
    db.session.expire_all()
    assert ready.edition.status == EditionStatus.PUBLISHED  # told, never changed


def test_catalogue_case_chart_is_only_svg(app):
    """The case's place for the run chart takes laks' own SVG and nothing else."""
    from flask import render_template_string

    template = ('{% from "catalogue/_case.html" import case_body %}'
                '{{ case_body(case) }}')
    base = {"results": {"reached": 2, "started": None, "completed": 7}, "activities": []}
    with app.test_request_context("/"):
        svg = render_template_string(template, case={
            **base, "chart_svg": '<svg role="img"><title>Kørselsdiagram</title></svg>',
            "chart_alt": "Antal pr. uge"})
        other = render_template_string(template, case={
            **base, "chart_svg": "<script>alert(1)</script>", "chart_alt": None})
    assert '<svg role="img">' in svg and "Antal pr. uge" in svg
    assert "<script>" not in other
    assert "&lt;5" in svg and ">7<" in svg  # 2 reached is shown as <5, 7 as it is


@pytest.mark.parametrize("data", [
    {"unit": ["²", "٣", "-1", "1" * 30, ""]},
    {"unit": ["{unit}"], "position-{unit}": "⁵", "move": "up:²"},
    {"unit": ["{unit}", "{unit}"], "position-{unit}": "9" * 40, "move": "down:" + "9" * 40},
], ids=["odd-ids", "odd-position", "huge-numbers"])
def test_catalogue_admin_odd_case_choices_never_fail(ready, client, login, data):
    login(ready.admin)
    unit = str(ready.unit.id)
    posted = {key.replace("{unit}", unit):
              [v.replace("{unit}", unit) for v in value] if isinstance(value, list)
              else value.replace("{unit}", unit) for key, value in data.items()}
    response = client.post(f"/admin/katalog/{ready.edition.id}/cases", data=posted)
    assert response.status_code in (302, 422)
    db.session.expire_all()
    assert [c.unit_id for c in ready.edition.cases] in ([], [ready.unit.id])
