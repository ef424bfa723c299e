"""The overview's cost does not grow with the network: every page and export makes the same
number of SQL statements with 10 units as with 200, and none reads the modules' answers
(the totals read module 4's reach alone)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from laks.enums import Role
from laks.extensions import db
from tests.conftest import PASSWORD, current_code
from tests.overview_support import build_network, grow

#: Every request of the overview, by who makes it.
REQUESTS = {
    "admin": ["/oversigt/", "/oversigt/?side=2", "/oversigt/?sortering=venter",
              "/oversigt/?sortering=aktivitet&tilstand=overdue",
              "/oversigt/?tilstand=not_started&modul=handleplan&sortering=forloeb",
              "/oversigt/?tilstand=inactive", "/oversigt/venter", "/oversigt/tal",
              "/oversigt/eksport/enheder.csv", "/oversigt/eksport/enheder.xlsx",
              "/oversigt/eksport/tal.csv", "/oversigt/eksport/tal.xlsx", "/hjem"],
    "observer": ["/oversigt/", "/oversigt/venter", "/oversigt/tal", "/hjem"],
    "facilitator": ["/oversigt/", "/oversigt/?sortering=venter&tilstand=submitted",
                    "/oversigt/venter", "/oversigt/eksport/enheder.xlsx", "/hjem"],
}


class Statements:
    """The SQL statements the app sends while it is listening."""

    def __init__(self):
        self.seen: list[str] = []

    def __call__(self, conn, cursor, statement, *args):
        self.seen.append(statement)


@pytest.fixture
def statements(app):
    recorder = Statements()
    event.listen(db.engine, "before_cursor_execute", recorder)
    yield recorder
    event.remove(db.engine, "before_cursor_execute", recorder)


def measure(clients, statements) -> dict[str, tuple[int, list[str]]]:
    """Each request's number of statements, and the statements themselves."""
    found = {}
    for who, paths in REQUESTS.items():
        for path in paths:
            statements.seen = []
            response = clients[who].get(path)
            assert response.status_code == 200, (who, path, response.status_code)
            found[f"{who} {path}"] = (len(statements.seen), list(statements.seen))
    return found


def test_overview_statements_do_not_grow_with_the_units(app, make_user, statements):
    facilitators = (make_user(Role.FACILITATOR), make_user(Role.FACILITATOR))
    people = {"admin": make_user(Role.ADMIN), "observer": make_user(Role.OBSERVER),
              "facilitator": facilitators[0]}
    clients = {}
    for who, person in people.items():
        clients[who] = app.test_client()
        response = clients[who].post("/log-ind", data={"email": person.email,
                                                       "password": PASSWORD})
        if response.location.endswith("/log-ind/kode"):
            clients[who].post("/log-ind/kode", data={"code": current_code(person)})
    network = build_network(10, facilitators)
    small = measure(clients, statements)
    grow(network, 200)
    db.session.commit()
    large = measure(clients, statements)
    counts = {name: (small[name][0], large[name][0]) for name in small}
    print("\n".join(f"{name}: {n10} statements at 10 units, {n200} at 200"
                    for name, (n10, n200) in counts.items()))
    assert {name: n10 for name, (n10, _n) in counts.items()} == \
        {name: n200 for name, (_n, n200) in counts.items()}
    for name, (_count, seen) in large.items():
        reading = [s for s in seen if re.search(r"\banswers\b", s)]
        if "/tal" in name:  # the reach of module 4: one key of the answers, in the database
            assert len(reading) == 1, name
            assert re.search(r"JSON_EXTRACT\(unit_module\.answers, \?\)"
                             r"|unit_module\.answers -> %\(\w+\)s", reading[0]), reading
        else:
            assert reading == [], name
