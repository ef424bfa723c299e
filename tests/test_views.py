"""Pages as each role sees them, and the site's own error pages."""

from __future__ import annotations

import re
from datetime import date

import pytest

from laks import queries
from laks.enums import ProgrammeStatus, Role
from laks.services.seed import load_seed


def test_views_front_page_says_what_laks_is_and_has_login(client):
    page = client.get("/").get_data(as_text=True)
    assert "Lige adgang til kommunale sundhedstilbud" in page
    assert "aldrig personoplysninger om borgere" in page
    assert 'action="/log-ind' in page
    assert 'lang="da"' in page


def test_views_signed_in_front_page_goes_home(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert client.get("/").headers["Location"].endswith("/hjem")


def test_views_home_staff_sees_own_unit_only(client, login, make_unit, make_user):
    own, _other = make_unit("Provstebakken"), make_unit("Korsagergården")
    login(make_user(Role.STAFF, own, tovholder=True))
    page = client.get("/hjem").get_data(as_text=True)
    assert "Provstebakken" in page and "Korsagergården" not in page
    assert "Du er enhedens tovholder." in page
    assert 'aria-label="Modulerne for Provstebakken"' in page and "Fortsæt med Udfordring" in page


def test_views_home_facilitator_sees_their_units(client, login, make_unit, make_user):
    a, b, _c = make_unit("Havlit og Fjorden"), make_unit("Parablyen"), make_unit("Sletten")
    login(make_user(Role.FACILITATOR, [a, b]))
    page = client.get("/hjem").get_data(as_text=True)
    assert "Havlit og Fjorden" in page and "Parablyen" in page and "Sletten" not in page
    assert "Du faciliterer 2 enheder." in page


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OBSERVER], ids=str)
def test_views_home_network_roles_see_every_unit(app, client, login, make_user, role):
    """The home page counts each programme's units and leads to them in the overview's
    matrix (one page of it holds them all here)."""
    load_seed()
    login(make_user(role))
    page = client.get("/hjem").get_data(as_text=True)
    assert "LAKS – Lige Adgang til Kommunale Sundhedstilbud" in page
    assert "Se forløbets 17 enheder og deres moduler" in page
    assert "Se forløbets 4 enheder og deres moduler" in page
    assert ("Revisionslog" in page) == (role == Role.ADMIN)  # menu follows the policy
    matrix = client.get("/oversigt/").get_data(as_text=True)
    # 17 LAKS units + 4 in the second programme
    assert len(re.findall(r'href="/enheder/\d+"', matrix)) == 21


def test_views_header_shows_person_and_role(client, login, make_user):
    login(make_user(Role.OBSERVER, name="Søren Styregruppe"))
    page = client.get("/hjem").get_data(as_text=True)
    assert "Søren Styregruppe" in page and "Observatør" in page
    # Name and role apart, in the header and in the drawer: never "Søren Styregruppe, Observatør".
    signed_in = ('<span class="user-name">Søren Styregruppe</span> <span class="user-role">'
                 '<span class="sr-only">Rolle: </span>Observatør</span>')
    assert page.count(signed_in) == 2
    assert "Søren Styregruppe, Observatør" not in page


def test_views_unit_page_lists_places_and_people(client, login, make_unit, make_user):
    unit = make_unit("Carlshuse m.fl.", places=["Carlshuse", "Vadstruphus"])
    make_user(Role.STAFF, unit, tovholder=True, name="Tove Holder")
    login(make_user(Role.ADMIN))
    page = client.get(f"/enheder/{unit.id}").get_data(as_text=True)
    assert "Carlshuse, Vadstruphus" in page
    assert "Tove Holder" in page and "(tovholder)" in page


def test_views_missing_unit_is_our_own_404(client, login, make_user):
    login(make_user(Role.ADMIN))
    response = client.get("/enheder/987654")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert "Siden findes ikke" in page and "Traceback" not in page


def test_views_unknown_url_is_our_own_404(client):
    response = client.get("/findes/ikke")
    assert response.status_code == 404
    assert "Gå til forsiden" in response.get_data(as_text=True)


def test_views_audit_log_lists_logins(client, login, make_user):
    admin = make_user(Role.ADMIN)
    login(admin)
    page = client.get("/admin/log").get_data(as_text=True)
    assert "auth.login" in page and admin.email in page
    filtered = client.get("/admin/log?handling=user.create").get_data(as_text=True)
    assert "0 hændelser" in filtered


def test_views_audit_log_bad_page_number_is_not_an_error(client, login, make_user):
    login(make_user(Role.ADMIN))
    assert client.get("/admin/log?side=abc").status_code == 200
    assert client.get("/admin/log?side=-4").status_code == 200


def test_views_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_views_oversized_request_gets_our_own_page(client):
    response = client.post("/log-ind", data={"email": "x@example.org",
                                              "password": "p" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "For meget på én gang" in response.get_data(as_text=True)


# --- a closed programme ------------------------------------------------------------------


@pytest.mark.parametrize(("status", "overdue"), [(ProgrammeStatus.RUNNING, True),
                                                 (ProgrammeStatus.CLOSED, False)], ids=str)
def test_views_steps_overdue_only_while_the_programme_runs(make_unit, make_programme, status,
                                                           overdue):
    unit = make_unit(programme=make_programme(status=status))
    steps = queries.module_steps(unit, today=date(2027, 1, 1))  # after every due date
    assert [s.overdue for s in steps] == [overdue] * 5


def _closed_unit(make_unit, make_programme):
    programme = make_programme(name="LAKS 2015–16", status=ProgrammeStatus.CLOSED,
                               starts_on=date(2015, 9, 1), ends_on=date(2016, 12, 31))
    for n, due in enumerate(programme.module_dues):
        due.due_on = date(2015, 11 + n, 1) if n < 2 else date(2016, n, 1)
    return make_unit("Sundhedscenteret", programme=programme)


def test_views_closed_programme_unit_page_says_so_and_nothing_is_overdue(
        client, login, make_user, make_unit, make_programme):
    unit = _closed_unit(make_unit, make_programme)
    login(make_user(Role.STAFF, unit, tovholder=True))
    page = client.get(f"/enheder/{unit.id}").get_data(as_text=True)
    assert "Forløbet er afsluttet" in page
    assert "overskredet" not in page.replace("intet i et afsluttet forløb er overskredet", "")
    assert 'class="error"' not in page  # no step is marked as needing attention
    running = make_unit("Sletten")
    login(make_user(Role.STAFF, running, tovholder=True))
    page = client.get(f"/enheder/{running.id}").get_data(as_text=True)
    assert "Forløbet er afsluttet" not in page


def test_views_programme_page_shows_its_status(client, login, make_user, make_unit,
                                               make_programme):
    unit = _closed_unit(make_unit, make_programme)
    make_unit("Sletten")  # in a programme that runs
    login(make_user(Role.ADMIN))
    page = client.get(f"/programmer/{unit.programme_id}").get_data(as_text=True)
    assert "Status: <span" in page and ">Afsluttet</span>" in page
    assert "Forløbet er afsluttet" in page
    home = client.get("/hjem").get_data(as_text=True)
    assert ">Afsluttet</span>" in home and ">Kører</span>" in home
