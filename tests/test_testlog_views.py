"""The test log over HTTP: PDSA cycles on their own pages, measures with data points typed
or imported, run charts with their reading, the equity reach, the CSV downloads, shared
measures of a programme, and who may do what."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from laks.enums import ModuleState
from laks.extensions import db
from laks.models import ModuleRevision, SharedMeasure, UnitModule
from laks.services import testlog as service


def base(team) -> str:
    return f"/enheder/{team.unit.id}/afproevning"


def stored(team) -> dict:
    db.session.expire_all()
    um = db.session.scalar(select(UnitModule).where(
        UnitModule.unit_id == team.unit.id, UnitModule.module_key == "afproevning"))
    return um.answers if um else {}


def version(team) -> str:
    db.session.expire_all()
    um = db.session.scalar(select(UnitModule).where(
        UnitModule.unit_id == team.unit.id, UnitModule.module_key == "afproevning"))
    return str(um.version if um else 0)


def add_measure(client, team, **fields):
    data = {"name": "Fremmødte fra målgruppen", "kind": "count", "better": "up",
            "goal": "", "baseline": "", "version": version(team), **fields}
    return client.post(f"{base(team)}/maalinger", data=data)


def measure_key(team, name="Fremmødte fra målgruppen") -> str:
    return next(m["key"] for m in stored(team)["measures"] if m["name"] == name)


# --- cycles ------------------------------------------------------------------------------------


def test_testlog_new_cycle_on_its_own_page_then_edited(client, login, team):
    login(team.tovholder)
    page = client.get(f"{base(team)}/cyklusser/ny")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Forventet udfald" in text and "Plan for dataindsamling" in text
    assert "Observer og lær af udfaldet" in text and "Fasthold ændringen" in text

    response = client.post(f"{base(team)}/cyklusser/ny", data={
        "version": version(team), "date": "2026-03-02", "change": "Ring i stedet for brev",
        "prediction": "Flere møder op", "did": "Ringede til 12", "decision": "adapt"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/cyklusser/1")
    cycle = stored(team)["cycles"][0]
    assert cycle["date"] == "2026-03-02" and cycle["decision"] == "adapt"
    assert cycle["prediction"] == "Flere møder op"

    shown = client.get(f"{base(team)}/cyklusser/1").get_data(as_text=True)
    assert "Cyklus 1: Ring i stedet for brev" in shown and "Cyklus 1 af 1" in shown
    edit = client.post(f"{base(team)}/cyklusser/1", data={
        "version": version(team), "date": "2026-03-02", "change": "Ring i stedet for brev",
        "saw": "8 af 12 mødte op – mere end forventet", "decision": "adopt"})
    assert edit.status_code == 302
    assert stored(team)["cycles"][0]["saw"].startswith("8 af 12")
    # Every change is a module revision, like any other answer.
    kinds = db.session.scalars(select(ModuleRevision.kind).join(UnitModule).where(
        UnitModule.unit_id == team.unit.id)).all()
    assert len(kinds) == 2
    # The module page lists the cycles and links each to its page.
    module_page = client.get(f"/enheder/{team.unit.id}/moduler/afproevning").get_data(
        as_text=True)
    assert "Målinger og forløbsdiagrammer" in module_page


def test_testlog_cycle_errors_keep_everything_typed(client, login, team):
    login(team.tovholder)
    response = client.post(f"{base(team)}/cyklusser/ny", data={
        "version": version(team), "date": "2026-02-31", "change": "Vi ringer",
        "decision": "maybe", "did": "Borgeren 010190-1234 kom"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Vi ringer" in text and "Der er et problem" in text
    assert "CPR-nummer" in text and "Vælg en af de viste muligheder" in text
    assert not stored(team).get("cycles")


def test_testlog_cycle_that_does_not_exist_is_not_found(client, login, team):
    login(team.tovholder)
    assert client.get(f"{base(team)}/cyklusser/1").status_code == 404
    assert client.get(f"{base(team)}/cyklusser/0").status_code == 404


def test_testlog_cycle_saved_from_an_old_page_keeps_both(client, login, team, app):
    login(team.tovholder)
    client.post(f"{base(team)}/cyklusser/ny", data={"version": "0", "change": "Første"})
    old = version(team)
    client.post(f"{base(team)}/cyklusser/1", data={"version": old, "change": "Kollegaens"})
    response = client.post(f"{base(team)}/cyklusser/1", data={"version": old,
                                                                "change": "Min udgave"})
    assert response.status_code == 409
    text = response.get_data(as_text=True)
    assert "Min udgave" in text and "Kollegaens" in text
    assert stored(team)["cycles"][0]["change"] == "Kollegaens"


# --- measures ----------------------------------------------------------------------------------


def test_testlog_measure_points_chart_and_reading(client, login, team):
    login(team.tovholder)
    assert add_measure(client, team).status_code == 302
    key = measure_key(team)
    start = date(2026, 2, 2)
    # 12 weeks: a low baseline, then a shift upward after the change.
    for week, value in enumerate([5, 6, 5, 7, 6, 5, 9, 10, 11, 10, 12, 11]):
        day = start + timedelta(weeks=week)
        response = client.post(f"{base(team)}/maalinger/{key}/punkter", data={
            "version": version(team), "date": f"{day.day}.{day.month}.{day.year}",
            "value": str(value)})
        assert response.status_code == 302, response.get_data(as_text=True)
    points = stored(team)["points"][key]
    assert [p["value"] for p in points][:3] == [5, 6, 5]
    page = client.get(f"{base(team)}/maalinger").get_data(as_text=True)
    assert "<svg" in page and "Fremmødte fra målgruppen" in page
    assert "Tegn på forbedring" in page or "krydsninger" in page
    assert "Målingerne som tabel (12)" in page


def test_testlog_point_errors_say_what_is_wrong_and_keep_the_typing(client, login, team):
    login(team.tovholder)
    add_measure(client, team, name="Andel fastholdt", kind="proportion")
    key = measure_key(team, "Andel fastholdt")
    response = client.post(f"{base(team)}/maalinger/{key}/punkter", data={
        "version": version(team), "date": "3.3.2026", "numerator": "12",
        "denominator": "10"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "større end nævneren" in text
    assert 'value="12"' in text and 'value="10"' in text
    outside = client.post(f"{base(team)}/maalinger/{key}/punkter", data={
        "version": version(team), "date": "3.3.2030", "numerator": "1",
        "denominator": "10"})
    assert outside.status_code == 422
    assert not stored(team).get("points", {}).get(key)


def test_testlog_csv_import_is_all_or_nothing(client, login, team):
    login(team.tovholder)
    add_measure(client, team)
    key = measure_key(team)
    template = client.get(f"{base(team)}/maalinger/{key}/skabelon.csv")
    assert template.status_code == 200
    assert "attachment" in template.headers["Content-Disposition"]
    header = template.get_data(as_text=True).lstrip("\ufeff").splitlines()[0]
    good = f"{header}\r\n2.3.2026;12\r\n9.3.2026;14\r\n".encode("utf-8-sig")
    bad = f"{header}\r\n2.3.2026;12\r\n9.3.2026;-4\r\n".encode("utf-8-sig")
    refused = client.post(f"{base(team)}/maalinger/{key}/import", data={
        "version": version(team), "file": (io.BytesIO(bad), "maalinger.csv")},
        content_type="multipart/form-data")
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    assert "Linje 3" in text and "Intet blev importeret" in text
    assert not stored(team).get("points", {}).get(key)
    imported = client.post(f"{base(team)}/maalinger/{key}/import", data={
        "version": version(team), "file": (io.BytesIO(good), "maalinger.csv")},
        content_type="multipart/form-data")
    assert imported.status_code == 302
    assert [p["value"] for p in stored(team)["points"][key]] == [12, 14]
    export = client.get(f"{base(team)}/maalinger.csv").get_data(as_text=True)
    assert "Fremmødte fra målgruppen" in export and "2026-03-09" in export


def test_testlog_reach_is_a_table_of_stages(client, login, team):
    login(team.tovholder)
    data = {"version": version(team), "date": "1.4.2026",
            "invited_target": "40", "invited_all": "100", "recruited_target": "20",
            "recruited_all": "45", "started_target": "15", "started_all": "35",
            "completed_target": "9", "completed_all": "30"}
    assert client.post(f"{base(team)}/raekkevidde", data=data).status_code == 302
    page = client.get(f"{base(team)}/maalinger").get_data(as_text=True)
    assert "40 %" in page  # 40 of 100 invited were from the target group
    wrong = client.post(f"{base(team)}/raekkevidde", data={**data, "version": version(team),
                                                            "started_target": "50"})
    assert wrong.status_code == 422


def test_testlog_locked_when_the_module_is_submitted(client, login, team):
    login(team.tovholder)
    add_measure(client, team)
    um = db.session.scalar(select(UnitModule).where(UnitModule.unit_id == team.unit.id))
    um.state = ModuleState.SUBMITTED
    db.session.commit()
    response = add_measure(client, team, name="Endnu en")
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "kan ikke redigeres nu" in follow
    assert len(stored(team)["measures"]) == 1
    assert "Tilføj målingen" not in follow  # read-only: no forms
    assert client.get(f"{base(team)}/cyklusser/ny").status_code == 403


@pytest.mark.parametrize("who", ["other_staff", "other_facilitator"])
def test_testlog_strangers_neither_read_nor_write(client, login, team, who):
    login(getattr(team, who))
    assert client.get(f"{base(team)}/maalinger").status_code == 403
    assert add_measure(client, team).status_code == 403
    assert client.get(f"{base(team)}/maalinger.csv").status_code == 403


def test_testlog_facilitator_and_observer_read_only(client, login, team):
    login(team.tovholder)
    add_measure(client, team)
    client.post("/log-ud")
    for reader in (team.facilitator, team.observer):
        login(reader)
        page = client.get(f"{base(team)}/maalinger")
        assert page.status_code == 200
        assert "Ny måling" not in page.get_data(as_text=True)
        assert add_measure(client, team, name="Nej").status_code == 403
        client.post("/log-ud")


def test_testlog_write_without_csrf_token_changes_nothing(client, login, team):
    login(team.tovholder)
    response = client.post(f"{base(team)}/maalinger", data={
        "name": "Uden token", "kind": "count", "better": "up", "version": "0"}, csrf=False)
    assert response.status_code == 400
    assert not stored(team).get("measures")


# --- shared measures ---------------------------------------------------------------------------


def test_testlog_shared_measure_side_by_side_with_small_numbers(client, login, team):
    login(team.admin)
    programme = team.unit.programme
    other = team.other_unit
    other.programme = programme
    db.session.commit()
    response = client.post(f"/programmer/{programme.id}/faelles-maalinger", data={
        "name": "Borgere i målgruppen, der startede", "kind": "count", "better": "up",
        "goal": ""})
    assert response.status_code == 302
    shared = db.session.scalar(select(SharedMeasure))
    key = f"f-{shared.key}"
    client.post("/log-ud")

    login(team.tovholder)
    page = client.get(f"{base(team)}/maalinger").get_data(as_text=True)
    assert "Borgere i målgruppen, der startede" in page and "Fælles måling" in page
    for day, value in (("2.3.2026", "3"), ("9.3.2026", "12")):
        assert client.post(f"{base(team)}/maalinger/{key}/punkter", data={
            "version": version(team), "date": day, "value": value}).status_code == 302
    client.post("/log-ud")
    login(team.other_staff)
    client.post(f"/enheder/{other.id}/afproevning/maalinger/{key}/punkter", data={
        "version": "0", "date": "2.3.2026", "value": "2"})
    client.post("/log-ud")

    login(team.observer)
    overview = client.get(f"/programmer/{programme.id}").get_data(as_text=True)
    table = overview.split('class="table table--compact shared-table"', 1)[1]
    assert "15" in table  # 3 + 12 for the first unit
    assert "&lt;5" in table  # the second unit's 2 is shown as "<5"
    assert "17" in table  # summed across the units
    assert "Spørg alle enheder" not in overview  # observers define nothing


def test_testlog_shared_measures_are_the_admins(client, login, team):
    login(team.facilitator)
    response = client.post(f"/programmer/{team.unit.programme.id}/faelles-maalinger",
                           data={"name": "X", "kind": "count", "better": "up"})
    assert response.status_code == 403
    assert db.session.scalar(select(SharedMeasure)) is None


def test_testlog_service_keys_are_stable_and_unique():
    assert service.measure_key("Fremmødte på Ærø", set()) == "m-fremmoedte-paa-aeroe"
    assert service.measure_key("Fremmødte på Ærø", {"m-fremmoedte-paa-aeroe"}) == \
        "m-fremmoedte-paa-aeroe-2"


# --- outside the unit: the small-number rule --------------------------------------------------


COUNTS = [3, 12, 2, 14, 9, 11, 4, 13, 15, 12, 16, 18]


def _count_log(values=COUNTS) -> tuple[dict, list[dict]]:
    measure = {"key": "m-x", "name": "Fremmødte fra målgruppen", "kind": "count",
               "better": "up", "goal": None, "baseline": None, "shared": None}
    points = [{"date": f"2026-03-{day:02d}", "value": v}
              for day, v in zip(range(2, 2 + len(values)), values, strict=True)]
    return measure, points


def test_testlog_chart_outside_the_unit_shows_small_counts_as_under_five(app, team):
    from flask_babel import force_locale

    from laks.services import catalogue
    from laks.services.testlog_charts import measure_chart

    measure, points = _count_log()
    with app.test_request_context(), force_locale("da"):
        own = measure_chart(measure, points, [], public=False)
        public = measure_chart(measure, points, [], public=True)
        content = catalogue.case_content(team.unit, answers={"afproevning": {
            "measures": [measure], "points": {"m-x": points},
            "cycles": [{"date": "2026-03-05", "change": "Opringning"}]}})
    assert [v for _d, v, _s in own.rows][:3] == ["3", "12", "2"]
    labels = [v for _d, v, _s in public.rows]
    assert labels.count("<5") == 3 and "3" not in labels and "2" not in labels
    assert content["chart_svg"].lstrip().startswith("<svg")
    assert content["chart_alt"].startswith("Fremmødte fra målgruppen: ")
    assert ">3<" not in content["chart_svg"] and ">2<" not in content["chart_svg"]


def test_testlog_public_proportions_built_on_few_citizens_are_left_out(app):
    from flask_babel import force_locale

    from laks.services.testlog_charts import measure_chart

    measure = {"key": "m-p", "name": "Andel fastholdt", "kind": "proportion", "better": "up",
               "goal": 80, "baseline": None, "shared": None}
    points = [{"date": "2026-03-02", "numerator": 8, "denominator": 10},
              {"date": "2026-03-09", "numerator": 3, "denominator": 4},
              {"date": "2026-03-16", "numerator": 9, "denominator": 11}]
    with app.test_request_context(), force_locale("da"):
        chart = measure_chart(measure, points, [], public=True)
    assert [d for d, _v, _s in chart.rows] == ["2026-03-02", "2026-03-16"]
    assert chart.hidden == 1
    assert "1 måling er ikke vist" in chart.reading


def test_testlog_deleting_a_measure_needs_the_box_ticked(client, login, team):
    login(team.tovholder)
    add_measure(client, team)
    key = measure_key(team)
    client.post(f"{base(team)}/maalinger/{key}/punkter", data={
        "version": version(team), "date": "2.3.2026", "value": "7"})
    refused = client.post(f"{base(team)}/maalinger/{key}/slet",
                          data={"version": version(team)})
    assert refused.status_code == 302
    assert "Intet blev slettet" in client.get(refused.headers["Location"]).get_data(
        as_text=True)
    assert stored(team)["points"][key]
    deleted = client.post(f"{base(team)}/maalinger/{key}/slet",
                          data={"version": version(team), "confirm": "yes"})
    assert deleted.status_code == 302
    answers = stored(team)
    assert not answers["measures"] and key not in answers["points"]


def test_testlog_observers_read_small_counts_as_under_five(client, login, team):
    """An observer reads a unit's test log from outside: counts 1–4 as "<5", as on the
    programme's overview, and no file of the raw measurements; those who work with the unit
    see every count."""
    login(team.tovholder)
    add_measure(client, team)
    key = measure_key(team)
    for day, value in (("2.2.2026", 3), ("9.2.2026", 12)):
        client.post(f"{base(team)}/maalinger/{key}/punkter",
                     data={"version": version(team), "date": day, "value": str(value)})
    client.post("/log-ud")
    login(team.facilitator)
    page = client.get(f"{base(team)}/maalinger").get_data(as_text=True)
    assert "<td>3</td>" in page and "&lt;5" not in page
    assert client.get(f"{base(team)}/maalinger.csv").status_code == 200
    client.post("/log-ud")
    login(team.observer)
    page = client.get(f"{base(team)}/maalinger").get_data(as_text=True)
    assert "<td>3</td>" not in page and "&lt;5" in page and "<td>12</td>" in page
    assert "vises som „&lt;5“" in page and "maalinger.csv" not in page
    assert client.get(f"{base(team)}/maalinger.csv").status_code == 403
