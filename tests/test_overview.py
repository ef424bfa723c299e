"""Progress at a glance over HTTP: the matrix (who sees which units, each cell in words and
colour, closed units and programmes, filters, sorting, pages), what needs someone, the
totals for the steering group, and bad input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from laks.enums import MODULE_KEYS, ProgrammeStatus, Role
from laks.extensions import db
from laks.models import UnitModule
from laks.services.seed import load_seed
from tests.overview_support import build_network


@pytest.fixture
def facilitators(make_user):
    return (make_user(Role.FACILITATOR, name="Frida Facilitator"),
            make_user(Role.FACILITATOR, name="Fie Facilitator"))


@pytest.fixture
def network(facilitators):
    return build_network(10, facilitators)


def unit_links(page: str) -> list[str]:
    """The ids of the units the page links to (the unit pages, not their modules)."""
    return re.findall(r'href="/enheder/(\d+)"', page)


def rows(page: str) -> dict[int, str]:
    """The matrix's rows as text, by the unit's id."""
    return {int(re.search(r'href="/enheder/(\d+)"', row)[1]): re.sub(r"<[^>]+>|\s+", " ", row)
            for row in re.findall(r'<tr class="matrix-row">(.*?)</tr>', page, re.DOTALL)}


# --- who sees what ----------------------------------------------------------------------------


def test_overview_facilitator_sees_only_the_units_they_facilitate(client, login, network,
                                                                  facilitators):
    login(facilitators[0])
    page = client.get("/oversigt/").get_data(as_text=True)
    shown = set(unit_links(page))
    assert shown == {str(u.id) for u in network.units[::2]}
    assert "1–5 af 5 enheder" in page


@pytest.mark.parametrize("role", [Role.ADMIN, Role.OBSERVER], ids=str)
def test_overview_network_roles_see_every_unit_and_change_nothing(client, login, make_user,
                                                                  network, role):
    login(make_user(role))
    page = client.get("/oversigt/").get_data(as_text=True)
    assert set(unit_links(page)) == {str(u.id) for u in network.units}
    assert "1–10 af 10 enheder" in page
    # Read-only: the only form that posts is the header's log-out.
    assert page.count('method="post"') == page.count('action="/log-ud"')


@pytest.mark.parametrize("path", ["/oversigt/", "/oversigt/venter", "/oversigt/tal",
                                  "/oversigt/eksport/enheder.csv", "/oversigt/eksport/tal.xlsx"])
def test_overview_staff_are_refused_and_strangers_sent_to_log_in(client, login, make_user,
                                                                 network, path):
    assert client.get(path).status_code == 302
    login(make_user(Role.STAFF, network.units[0]))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("path", ["/oversigt/tal", "/oversigt/eksport/tal.csv"])
def test_overview_totals_are_for_the_network_not_a_facilitator(client, login, network,
                                                               facilitators, path):
    login(facilitators[0])
    assert client.get(path).status_code == 403


def test_overview_menu_leads_to_it_for_those_who_may_see_it(client, login, make_user,
                                                            network, facilitators):
    login(facilitators[0])
    assert 'href="/oversigt/"' in client.get("/hjem").get_data(as_text=True)
    client.post("/log-ud")
    login(make_user(Role.STAFF, network.units[0]))
    assert 'href="/oversigt/"' not in client.get("/hjem").get_data(as_text=True)


# --- a cell -----------------------------------------------------------------------------------


def test_overview_cell_says_the_state_in_words_with_its_colour_and_links_the_module(
        client, login, make_user, network):
    login(make_user(Role.ADMIN))
    page = re.sub(r">\s+<", "><", client.get("/oversigt/").get_data(as_text=True))
    unit = network.units[0]  # its second module is submitted, its first approved
    cell = (f'<a class="matrix-state" href="/enheder/{unit.id}/moduler/praecisering">'
            f'<span class="sr-only">{unit.name}, Præcisering: </span>'
            '<span class="badge badge-info state-submitted">Indsendt</span></a>')
    assert cell in page
    assert '<span class="badge badge-success state-approved">Godkendt</span>' in page
    assert '<span class="badge state-not_started">Ikke startet</span>' in page
    assert '<span class="badge badge-warning state-changes_requested">Ændringer ønsket</span>' \
        in page


def test_overview_overdue_only_while_the_programme_runs_and_the_unit_is_open(
        client, login, make_user, network):
    """Every due date has passed: units of the running programme are overdue where a
    module can still be edited; a closed programme's units and closed units never are."""
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/").get_data(as_text=True)
    shown = rows(page)
    for unit in network.units:
        row = shown[unit.id]
        expected = unit.programme is network.running and unit.closed_at is None
        assert ("– overskredet" in row) == expected, unit.name
        assert "Frist " in row
        assert ("Lukket " in row) == (unit.closed_at is not None), unit.name
        assert ("Forløbet er afsluttet" in row) == (unit.programme is network.closed)


def test_overview_cell_says_how_long_a_submitted_module_has_waited(client, login, make_user,
                                                                   network):
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/").get_data(as_text=True)
    # Unit 5 submitted its module six days ago, unit 0 one day ago.
    assert "har ventet 6 dage" in page and "har ventet 1 dag" in page


def test_overview_row_says_when_the_unit_last_did_something(client, login, make_user,
                                                            network):
    from laks.i18n import format_moment

    login(make_user(Role.ADMIN))
    shown = rows(client.get("/oversigt/").get_data(as_text=True))
    assert shown[network.units[4].id].strip().endswith("Intet endnu")  # nothing, ever
    unit = network.units[0]  # its latest step: the submission a day ago
    latest = max(change.at for module in db.session.scalars(
        select(UnitModule).where(UnitModule.unit_id == unit.id))
        for change in module.state_changes)
    with client.application.test_request_context("/"):
        assert shown[unit.id].strip().endswith(format_moment(latest))


# --- filters, sorting, pages ------------------------------------------------------------------


@pytest.mark.parametrize(("query", "expected"), [
    ("tilstand=submitted", [0, 5]),
    ("tilstand=changes_requested", [1, 6]),
    ("tilstand=draft", [2, 3, 7, 8]),
    ("tilstand=approved&modul=praecisering", []),
    ("tilstand=approved&modul=udfordring", [0, 1, 5, 6]),
    ("tilstand=not_started&modul=udfordring", [3, 4, 8, 9]),
    ("tilstand=overdue", [0, 1, 2, 4, 5, 6, 8]),
    ("tilstand=overdue&modul=praecisering", [1, 2, 4, 6, 8]),
    ("tilstand=overdue&modul=udfordring", [2, 4, 8]),
    ("tilstand=inactive", [2, 4]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_overview_filter_by_state(client, login, make_user, network, query, expected):
    """Unit i follows the pattern of overview_support.build_network: units 3 and 7 are in
    the closed programme, unit 9 is closed; unit 2's last step was two months ago, unit 4
    has never done anything."""
    login(make_user(Role.ADMIN))
    page = client.get(f"/oversigt/?{query}").get_data(as_text=True)
    assert sorted(unit_links(page), key=int) == [str(network.units[i].id) for i in expected]


def test_overview_filter_by_programme_and_municipality(client, login, make_user, network):
    login(make_user(Role.ADMIN))
    closed = client.get(f"/oversigt/?forloeb={network.closed.id}").get_data(as_text=True)
    assert sorted(unit_links(closed), key=int) == [str(network.units[i].id) for i in (3, 7)]
    aero = network.units[1].municipality_id
    page = client.get(f"/oversigt/?kommune={aero}").get_data(as_text=True)
    assert sorted(unit_links(page), key=int) == [str(network.units[i].id) for i in (1, 4, 7)]
    both = client.get(f"/oversigt/?kommune={aero}&forloeb={network.closed.id}")
    assert unit_links(both.get_data(as_text=True)) == [str(network.units[7].id)]


@pytest.mark.parametrize("query", [
    "forloeb=abc", "forloeb=99999", "kommune=-1", "tilstand=afsluttet", "modul=sjette",
    "sortering=tilfaeldig", "forloeb=" + "9" * 40, "tilstand=%27%20OR%201=1--"])
def test_overview_unknown_filter_values_are_ignored_with_a_note(client, login, make_user,
                                                                network, query):
    login(make_user(Role.ADMIN))
    response = client.get(f"/oversigt/?{query}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "så det blev ignoreret" in page
    assert len(unit_links(page)) == 10  # as if the filter were not there


def test_overview_facilitator_filtering_another_programme_sees_only_theirs(
        client, login, make_unit, make_programme, network, facilitators):
    elsewhere = make_unit("Andetsteds", programme=make_programme(name="Et andet forløb"))
    login(facilitators[0])
    for path in ("/oversigt/", "/oversigt/venter"):
        page = client.get(f"{path}?forloeb={elsewhere.programme_id}").get_data(as_text=True)
        assert "Filteret “Forløb” har ikke valget" in page
        assert "Et andet forløb" not in page and "Andetsteds" not in page
    page = client.get(f"/oversigt/?forloeb={elsewhere.programme_id}").get_data(as_text=True)
    assert set(unit_links(page)) == {str(u.id) for u in network.units[::2]}
    csv = client.get(f"/oversigt/eksport/enheder.csv?forloeb={elsewhere.programme_id}")
    assert "Andetsteds" not in csv.get_data(as_text=True)
    assert csv.get_data(as_text=True).count("\r\n") == 1 + 5


def test_overview_sorted_by_waiting_time_puts_the_oldest_submission_first(
        client, login, make_user, network):
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/?sortering=venter").get_data(as_text=True)
    assert unit_links(page)[:2] == [str(network.units[5].id), str(network.units[0].id)]


def test_overview_sorted_by_programme_newest_first(client, login, make_user, network):
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/?sortering=forloeb").get_data(as_text=True)
    programmes = [network.units[[str(u.id) for u in network.units].index(i)].programme_id
                  for i in unit_links(page)]
    assert programmes == [network.running.id] * 8 + [network.closed.id] * 2


def test_overview_sorted_by_activity_puts_the_quietest_first(client, login, make_user,
                                                             network):
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/?sortering=aktivitet").get_data(as_text=True)
    links = unit_links(page)
    never = {str(network.units[i].id) for i in (4, 9)}  # nothing saved, ever
    assert set(links[:2]) == never
    assert links[2] == str(network.units[2].id)  # two months ago


def test_overview_sorted_by_name_in_danish_order(client, login, make_user, facilitators):
    """By municipality, then unit, as Danish readers sort: Æ, Ø, Å last, "Aa" as Å. The
    units are in Aarhus, Ærø, Brøndby, Aarhus (overview_support)."""
    network = build_network(4, facilitators, names=["Østerbro", "Aabenraa Sundhed",
                                                    "Ærtebjerg", "Bakkehuset"])
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/").get_data(as_text=True)
    # Brøndby: Ærtebjerg; Ærø: Aabenraa Sundhed; Aarhus: Bakkehuset, Østerbro.
    assert unit_links(page) == [str(network.units[i].id) for i in (2, 1, 3, 0)]


def test_overview_pages_of_fifty_and_a_page_past_the_end_shows_the_last(
        client, login, make_user, facilitators):
    build_network(120, facilitators)
    login(make_user(Role.ADMIN))
    first = client.get("/oversigt/").get_data(as_text=True)
    assert len(unit_links(first)) == 50 and "Side 1 af 3" in first
    assert "1–50 af 120 enheder" in first
    for query in ("side=3", "side=99", "side=2147483647"):
        last = client.get(f"/oversigt/?{query}").get_data(as_text=True)
        assert len(unit_links(last)) == 20 and "Side 3 af 3" in last, query
        assert "101–120 af 120 enheder" in last
    for query in ("side=abc", "side=-4", "side=0", "side=" + "9" * 20, "side=1.5"):
        response = client.get(f"/oversigt/?{query}")
        assert response.status_code == 200, query
        assert "Side 1 af 3" in response.get_data(as_text=True), query
    # The link to the next page keeps the filters (72 units have not started module 2).
    page = client.get("/oversigt/?tilstand=not_started&modul=praecisering&sortering=aktivitet")
    assert "1–50 af 72 enheder" in page.get_data(as_text=True)
    following = re.search(r'href="(/oversigt/\?[^"]*side=2[^"]*)"', page.get_data(as_text=True))
    second = client.get(following[1].replace("&amp;", "&")).get_data(as_text=True)
    assert "51–72 af 72 enheder" in second


# --- what needs someone -----------------------------------------------------------------------


def test_overview_needs_lists_the_review_queue_oldest_first_with_the_wait(
        client, login, network, facilitators):
    login(facilitators[0])
    page = client.get("/oversigt/venter").get_data(as_text=True)
    queue = page.split('id="needs-review"')[1].split("</section>")[0]
    # The first facilitator follows the even units, of which unit 0 has a module waiting;
    # unit 5's is the other facilitator's to review.
    assert network.units[0].name in queue and network.units[5].name not in queue
    assert "har ventet 1 dag" in queue
    assert "Venter på din vurdering" in page


def test_overview_needs_for_the_network_counts_and_lists_everything(client, login,
                                                                   make_user, network):
    login(make_user(Role.OBSERVER))
    page = client.get("/oversigt/venter").get_data(as_text=True)
    queue = page.split('id="needs-review"')[1].split("</section>")[0]
    assert queue.index(network.units[5].name) < queue.index(network.units[0].name)
    assert "har ventet 6 dage" in queue
    changes = page.split('id="needs-changes"')[1].split("</section>")[0]
    assert network.units[1].name in changes and network.units[6].name in changes
    overdue = page.split('id="needs-overdue"')[1].split("</section>")[0]
    assert "moduler over fristen · i 7 enheder" in overdue
    for i in (3, 7, 9):  # the closed programme's units and the closed unit
        assert network.units[i].name not in overdue
    # One line per unit, naming its overdue modules: unit 0's first two are approved and
    # waiting for review.
    line = overdue.split(f">{network.units[0].name}</a>")[1].split("</tr>")[0]
    modules = re.search(r'<td data-label="Moduler over fristen">(.*?)</td>', line)[1]
    assert re.sub(r"<[^>]+>", "", modules) == "Handleplan, Afprøvning, Refleksion og forankring"
    quiet = page.split('id="needs-quiet"')[1].split("</section>")[0]
    assert network.units[2].name in quiet and network.units[4].name in quiet
    assert network.units[0].name not in quiet
    assert network.units[7].name not in quiet  # as quiet as unit 2, in a closed programme
    # The counts of modules per state at the top, each leading to the matrix filtered.
    figures = page.split('aria-label="Moduler pr. tilstand"')[1].split("</ul>")[0]
    assert re.search(r'class="figure">2</span> <a href="/oversigt/\?tilstand=submitted'
                     r'&amp;sortering=venter">Indsendt</a>', figures)
    assert "Modulerne i 10 enheder efter tilstand." in page


def test_overview_needs_shows_twenty_of_a_long_list_and_leads_to_the_rest(
        client, login, make_user, facilitators):
    build_network(120, facilitators)
    login(make_user(Role.ADMIN))
    page = client.get("/oversigt/venter").get_data(as_text=True)
    queue = page.split('id="needs-review"')[1].split("</section>")[0]
    assert queue.count("<tr>") == 1 + 20
    assert "Se alle 24 i tabellen" in queue
    assert 'href="/oversigt/?tilstand=submitted&amp;sortering=venter"' in queue


# --- totals for the steering group ------------------------------------------------------------


def test_overview_totals_per_programme_and_municipality_with_small_numbers_hidden(
        client, login, make_user, facilitators):
    """20 units: 15 in the running programme, 5 in the closed one. Units 3, 8, 13 and 18
    each recorded 3 of 12 invited from the target group: 3 is "<5" for one unit alone;
    8, 13 and 18 (running, one in each municipality) are 9 of 36 together."""
    network = build_network(20, facilitators)
    login(make_user(Role.OBSERVER))
    page = client.get("/oversigt/tal").get_data(as_text=True)
    running = page.split(f'id="programme-{network.running.id}"')[1].split("</section>")[0]
    assert "15 enheder · i 3 kommuner" in running
    closed = page.split(f'id="programme-{network.closed.id}"')[1].split("</section>")[0]
    assert "5 enheder · i 3 kommuner" in closed
    reach = running.split("reach-table")[1]
    assert reach.count("<td>&lt;5</td><td>12</td><td></td>") == 3  # each municipality
    assert "<td>9</td><td>36</td><td>25 %</td>" in reach  # the programme together
    assert "<td>&lt;5</td><td>12</td><td></td>" in closed.split("reach-table")[1]
    # Module 1 in the running programme: 6 not started, 3 drafts, 6 approved.
    module_1 = running.split("1. Udfordring</th>")[1].split("</tr>")[0]
    assert re.findall(r"<td>(\d+)</td>", module_1) == ["6", "3", "0", "0", "6"]


# --- home pages lead to it --------------------------------------------------------------------


def test_overview_facilitator_home_has_the_review_queue_and_the_first_page(
        client, login, network, facilitators):
    login(facilitators[1])
    page = client.get("/hjem").get_data(as_text=True)
    assert "Du faciliterer 5 enheder." in page
    queue = page.split('id="needs-review"')[1].split("</section>")[0]
    assert network.units[5].name in queue and "har ventet 6 dage" in queue
    assert set(unit_links(page)) == {str(u.id) for u in network.units[1::2]}
    assert 'href="/oversigt/venter"' in page and 'href="/oversigt/"' in page


def test_overview_network_home_counts_each_programme_and_links_the_matrix(
        client, login, make_user, make_programme, network):
    empty = make_programme(name="Et nyt forløb", status=ProgrammeStatus.RUNNING)
    login(make_user(Role.ADMIN))
    page = client.get("/hjem").get_data(as_text=True)
    assert f'href="/oversigt/?forloeb={network.running.id}"' in page
    assert "Se forløbets 8 enheder og deres moduler" in page
    assert empty.name in page and "Forløbet har ingen enheder endnu." in page
    assert unit_links(page) == []  # no list of every unit: the matrix has them


# --- the demo ---------------------------------------------------------------------------------


def test_overview_shows_the_demo(app, client, login):
    """The demo's LAKS units and the second programme's, in the matrix and the totals."""
    report = load_seed(demo=True)
    db.session.commit()
    from sqlalchemy import select

    from laks.models import Programme, User

    observer = db.session.scalar(select(User).where(User.role == Role.OBSERVER))
    login(observer, password=report.demo_password)
    page = client.get("/oversigt/").get_data(as_text=True)
    assert len(unit_links(page)) == 21
    assert "Globus1" in page and "Sundhedscafé og fællesskabsagenter i Bispehaven" in page
    assert "badge-success state-approved" in page and "state-submitted" in page
    laks = db.session.scalar(select(Programme).where(Programme.slug == "laks"))
    laks_page = client.get(f"/oversigt/?forloeb={laks.id}").get_data(as_text=True)
    assert len(unit_links(laks_page)) == 17
    assert "matrix-overdue" not in laks_page  # a closed programme: nothing overdue
    totals = client.get("/oversigt/tal").get_data(as_text=True)
    assert "Lighed i praksis" in totals and "Rækkevidde i målgruppen" in totals
    needs = client.get("/oversigt/venter").get_data(as_text=True)
    assert "Bispehaven" in needs.split('id="needs-review"')[1].split("</section>")[0]
    for key in MODULE_KEYS:
        assert f"/moduler/{key}" in page


def test_overview_shows_each_units_latest_progress_score(client, login, network,
                                                         facilitators):
    from laks.services.progress import set_score

    unit = db.session.merge(network.units[0])
    frida = db.session.merge(facilitators[0])
    set_score(unit, 3, "Teamet er samlet", actor=frida)
    db.session.commit()
    set_score(unit, 5, "Første afprøvning", actor=frida)
    db.session.commit()
    login(facilitators[0])
    page = client.get("/oversigt/").get_data(as_text=True)
    row = rows(page)[unit.id]
    assert "Fremdriftsscore 2,5: Ændringer afprøvet, men ingen forbedring" in row
    assert "Fremdriftsscore" not in rows(page)[network.units[2].id]
    header, *lines = [line.split(";") for line in client.get(
        "/oversigt/eksport/enheder.csv").get_data(as_text=True).splitlines()]
    scores = {line[2]: line[header.index("Fremdriftsscore (IHI)")] for line in lines}
    assert scores[unit.name] == "2,5" and scores[network.units[2].name] == ""


def test_overview_menu_item_marks_every_page_of_the_overview(client, login, team):
    login(team.admin)
    for url in ("/oversigt/", "/oversigt/venter", "/oversigt/tal"):
        page = client.get(url).get_data(as_text=True)
        assert re.search(r'<li class="active current">\s*<a href="/oversigt/"', page), url
