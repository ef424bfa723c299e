"""The programme page at any size: its units a page at a time (open ones first), the shared
measures side by side for the units of the page, and their sums across all the programme's
units counted in the database – the same sums, with the same small-number rule, as adding
up every unit's points one by one."""

from __future__ import annotations

import re

import pytest

from laks import queries
from laks.enums import ModuleState, Role
from laks.extensions import db
from laks.models import SharedMeasure, UnitModule, utcnow
from laks.services import testlog as service


@pytest.fixture
def programme_of(make_programme, make_unit):
    """A programme of ``n`` units named Enhed 00 … Enhed nn, each reporting ``points(i)``
    (a list) for the shared count measure "f-fremmoede" and the proportion "f-andel"."""

    def make(n: int, points=lambda i: [], shares=lambda i: []):
        programme = make_programme()
        db.session.add_all([
            SharedMeasure(programme=programme, key="fremmoede", name="Fremmødte",
                          kind="count", better="up", position=1),
            SharedMeasure(programme=programme, key="andel", name="Andel i målgruppen",
                          kind="proportion", better="up", position=2)])
        units = [make_unit(f"Enhed {i:02d}", programme=programme) for i in range(n)]
        for i, unit in enumerate(units):
            answers = {"points": {"f-fremmoede": points(i), "f-andel": shares(i)}}
            db.session.add(UnitModule(unit=unit, module_key="afproevning", version=1,
                                      state=ModuleState.DRAFT, answers=answers,
                                      updated_at=utcnow()))
        db.session.commit()
        return programme, units

    return make


def test_programme_page_lists_its_units_a_page_at_a_time(
        client, login, make_user, programme_of, monkeypatch):
    monkeypatch.setattr(queries, "UNITS_PAGE_SIZE", 4)
    programme, units = programme_of(10)
    units[0].closed_at = utcnow()  # a closed unit comes after the open ones
    db.session.commit()
    login(make_user(Role.OBSERVER))
    first = client.get(f"/programmer/{programme.id}").get_data(as_text=True)
    assert "1–4 af 10 enheder" in first and "Side 1 af 3" in first
    listed = re.findall(r">(Enhed \d\d)</a>", first.split('id="units"')[1].split("</table>")[0])
    assert listed == ["Enhed 01", "Enhed 02", "Enhed 03", "Enhed 04"]
    assert f'href="/programmer/{programme.id}?side=2#units"' in first
    last = client.get(f"/programmer/{programme.id}?side=3").get_data(as_text=True)
    assert "9–10 af 10 enheder" in last and "Enhed 00" in last  # the closed one, last
    # A page past the end is the last page; a page that is not a number, the first.
    assert "9–10 af 10 enheder" in client.get(
        f"/programmer/{programme.id}?side=99").get_data(as_text=True)
    assert "1–4 af 10 enheder" in client.get(
        f"/programmer/{programme.id}?side=tre").get_data(as_text=True)


def test_programme_page_sums_across_every_unit_not_just_the_page(
        client, login, make_user, programme_of, monkeypatch):
    monkeypatch.setattr(queries, "UNITS_PAGE_SIZE", 2)
    programme, _units = programme_of(
        5, points=lambda i: [{"date": f"2026-03-0{i + 1}", "value": 10 + i}],
        shares=lambda i: [{"date": "2026-03-01", "numerator": 3, "denominator": 20}])
    login(make_user(Role.ADMIN))
    page = client.get(f"/programmer/{programme.id}").get_data(as_text=True)
    count_table, share_table = page.split('class="table table--compact shared-table"')[1:3]
    assert "Alle 5 enheder" in count_table
    assert re.search(r"<tfoot>.*>60<", count_table, re.S)  # 10 + 11 + 12 + 13 + 14
    assert re.search(r"<tfoot>.*>15 / 100 \(15 %\)<", share_table, re.S)  # 5 × 3 of 5 × 20
    assert "<td>&lt;5 / 20</td>" in share_table  # one unit's 3 of 20: fewer than five


def test_programme_page_sums_in_the_database_as_one_by_one(app, programme_of):
    """The database's sums are those of adding every unit's points in Python – points that
    are no measurement (not an object) or a measure's list that is not a list count for
    nothing in either."""
    shapes = [
        [{"date": "2026-03-01", "value": 4}, {"date": "2026-03-08", "value": 2.5}],
        [],
        ["tekst", 7, None, {"date": "2026-03-01", "value": 1}],
        {"ikke": "en liste"},
        [{"date": "2026-03-01"}],
    ]
    programme, units = programme_of(len(shapes), points=lambda i: shapes[i], shares=lambda i: [
        {"date": "2026-03-01", "numerator": i, "denominator": 10}])
    totals = service.shared_totals(programme.id, ["f-fremmoede", "f-andel", "f-ingen"])
    assert totals["f-fremmoede"][2] == 4 + 2.5 + 1
    assert totals["f-andel"][:2] == (0 + 1 + 2 + 3 + 4, 50)
    assert "f-ingen" not in totals
    shown = service.shared_overview(programme, units)
    assert [o.total for o in shown] == ["7,5", "10 / 50 (20 %)"]
