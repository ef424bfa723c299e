"""The programme page (the network's overview of one programme: its units side by side with
the shared measures) reads the same number of SQL statements for 2 units as for 30, each in
a municipality of its own."""

from __future__ import annotations

from laks.enums import Role
from tests.test_speed_history import statements


def test_speed_programme_page_statements_do_not_grow_with_its_units(
        client, login, make_programme, make_unit, make_user, definitions):
    counts = []
    admin = make_user(Role.ADMIN)
    login(admin)
    for size in (2, 30):
        programme = make_programme()
        for _ in range(size):
            make_unit(programme=programme)  # each in a new municipality
        url = f"/programmer/{programme.id}"
        client.get(url)
        with statements() as sent:
            response = client.get(url)
        assert response.status_code == 200
        assert response.get_data(as_text=True).count("Testkommune") >= size
        counts.append(len(sent))
    assert counts[0] == counts[1]
