"""Running the network from the browser: programmes with their due dates, units and who works
in them, people created, invited, deactivated and reactivated – the services (every refusal
with its Danish message at the field), the pages, the audit trail, and who may do it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from laks import queries
from laks.enums import MODULE_KEYS, ModuleState, ProgrammeStatus, Role
from laks.extensions import db
from laks.models import (
    AuditEvent,
    MailMessage,
    Membership,
    Municipality,
    Programme,
    Unit,
    UnitModule,
    User,
)
from laks.services import network as service
from laks.services.modules import add_comment
from laks.services.network import NetworkError
from tests.conftest import PASSWORD

DUES = {"udfordring": date(2027, 3, 1), "praecisering": date(2027, 5, 1),
        "handleplan": date(2027, 7, 1), "afproevning": date(2027, 10, 1),
        "refleksion": date(2027, 12, 1)}


def _events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


def _messages(exc: pytest.ExceptionInfo) -> dict[str, list[str]]:
    return {field: [str(m) for m in ms] for field, ms in exc.value.errors.items()}


@pytest.fixture
def admin(make_user):
    return make_user(Role.ADMIN, name="Nina Netværk")


@pytest.fixture
def kommune(app):
    municipality = Municipality(code="0316", name="Holbæk")
    db.session.add(municipality)
    db.session.commit()
    return municipality


def _programme(admin, **changes):
    values = {"name": "Lighed 2027", "slug": "", "description": "Et forløb",
              "starts_on": date(2027, 1, 1), "ends_on": date(2027, 12, 31),
              "dues": dict(DUES), "status": ProgrammeStatus.RUNNING}
    values.update(changes)
    return service.create_programme(actor=admin, **values)


# --- programmes: the service ------------------------------------------------------------------


def test_network_programme_created_with_slug_from_name_due_dates_and_audit(app, admin):
    programme = _programme(admin, name="Sundhed på Ærø og i Åbenrå")
    db.session.commit()
    assert programme.slug == "sundhed-paa-aeroe-og-i-aabenraa"
    assert [(d.position, d.module_key, d.due_on) for d in programme.module_dues] == [
        (i, key, DUES[key]) for i, key in enumerate(MODULE_KEYS, start=1)]
    assert programme.status == ProgrammeStatus.RUNNING
    [event] = _events("programme.create")
    assert event.actor_id == admin.id and event.object_id == programme.id
    assert event.details["slug"] == programme.slug


def test_network_programme_due_dates_out_of_order_are_refused(app, admin):
    with pytest.raises(NetworkError) as exc:
        _programme(admin, dues={**DUES, "handleplan": date(2027, 4, 1)})
    assert list(exc.value.errors) == ["due_handleplan"]
    assert db.session.scalar(select(Programme)) is None


def test_network_programme_due_dates_outside_the_period_are_refused(app, admin):
    with pytest.raises(NetworkError) as exc:
        _programme(admin, dues={**DUES, "udfordring": date(2026, 12, 31),
                                "refleksion": date(2028, 1, 1)})
    assert set(exc.value.errors) == {"due_udfordring", "due_refleksion"}


def test_network_programme_end_before_start_is_refused(app, admin):
    with pytest.raises(NetworkError) as exc:
        _programme(admin, starts_on=date(2027, 6, 1), ends_on=date(2027, 5, 31))
    assert "ends_on" in exc.value.errors


def test_network_programme_missing_due_date_is_refused(app, admin):
    with pytest.raises(NetworkError) as exc:
        _programme(admin, dues={**DUES, "afproevning": None})
    assert list(exc.value.errors) == ["due_afproevning"]


def test_network_programme_duplicate_name_and_slug_are_refused(app, admin):
    _programme(admin, name="Lighed 2027")
    with pytest.raises(NetworkError) as exc:
        _programme(admin, name="LIGHED 2027", slug="andet")
    assert list(exc.value.errors) == ["name"]
    with pytest.raises(NetworkError) as exc:
        _programme(admin, name="Noget andet", slug="lighed-2027")
    assert list(exc.value.errors) == ["slug"]


@pytest.mark.parametrize("slug", ["med mellemrum", "to--streger", "-start", "æøå",
                                  "x" * 41], ids=str)
def test_network_programme_slug_must_be_plain(app, admin, slug):
    with pytest.raises(NetworkError) as exc:
        _programme(admin, slug=slug)
    assert list(exc.value.errors) == ["slug"]


def test_network_programme_updated_with_its_due_dates_and_status(app, admin):
    programme = _programme(admin)
    service.update_programme(
        programme, actor=admin, name="Lighed 2027–28", slug="lighed-2027-28",
        description="", starts_on=date(2027, 1, 1), ends_on=date(2028, 6, 30),
        dues={**DUES, "refleksion": date(2028, 5, 1)}, status=ProgrammeStatus.CLOSED)
    db.session.commit()
    assert programme.name == "Lighed 2027–28" and programme.slug == "lighed-2027-28"
    assert programme.due_on("refleksion") == date(2028, 5, 1)
    assert programme.status == ProgrammeStatus.CLOSED and not programme.is_running
    [event] = _events("programme.update")
    assert set(event.details["changed"]) == {"name", "slug", "description", "ends_on",
                                            "status", "due_refleksion"}


def test_network_programme_keeps_its_own_name_on_update(app, admin):
    programme = _programme(admin)
    service.update_programme(programme, actor=admin, name="Lighed 2027",
                             slug=programme.slug, starts_on=programme.starts_on,
                             ends_on=programme.ends_on, dues=DUES,
                             status=ProgrammeStatus.RUNNING)


# --- units: the service -----------------------------------------------------------------------


def test_network_unit_created_with_places_and_audit(app, admin, kommune):
    programme = _programme(admin)
    unit = service.create_unit(actor=admin, programme=programme, municipality=kommune,
                               name="Sundhedscenteret", places="Tølløse\n\n Jyderup \nTølløse",
                               target_group="Borgere med KOL")
    assert unit.places == ["Tølløse", "Jyderup"]
    assert unit.title == "Holbæk – Sundhedscenteret"
    [event] = _events("unit.create")
    assert event.object_id == unit.id and event.actor_id == admin.id
    other = service.create_unit(actor=admin, programme=programme, municipality=kommune,
                                name="Caféen")
    assert other.places == ["Caféen"]


def test_network_unit_without_municipality_or_name_is_refused(app, admin):
    programme = _programme(admin)
    with pytest.raises(NetworkError) as exc:
        service.create_unit(actor=admin, programme=programme, municipality=None, name=" ")
    assert set(exc.value.errors) == {"municipality", "name"}
    assert db.session.scalar(select(Unit)) is None


def test_network_unit_twice_in_a_municipality_of_a_programme_is_refused(app, admin, kommune):
    programme = _programme(admin)
    service.create_unit(actor=admin, programme=programme, municipality=kommune, name="Caféen")
    with pytest.raises(NetworkError) as exc:
        service.create_unit(actor=admin, programme=programme, municipality=kommune,
                            name="caféen")
    assert list(exc.value.errors) == ["name"]


def test_network_unit_updated_and_audited(app, admin, kommune):
    programme = _programme(admin)
    unit = service.create_unit(actor=admin, programme=programme, municipality=kommune,
                               name="Caféen")
    other = Municipality(code="0101", name="København")
    db.session.add(other)
    service.update_unit(unit, actor=admin, municipality=other, name="Caféen på Nørrebro",
                        places=["Nørrebro"], target_group="Ældre")
    assert (unit.municipality, unit.name, unit.places, unit.target_group) == (
        other, "Caféen på Nørrebro", ["Nørrebro"], "Ældre")
    [event] = _events("unit.update")
    assert set(event.details["changed"]) == {"municipality", "name", "places", "target_group"}


def test_network_unit_moved_to_another_programme(app, admin, kommune, make_user,
                                                 definitions):
    first = _programme(admin)
    second = _programme(admin, name="Lighed 2028", starts_on=date(2027, 1, 1),
                        ends_on=date(2028, 12, 31),
                        dues={**DUES, "refleksion": date(2028, 11, 30)})
    unit = service.create_unit(actor=admin, programme=first, municipality=kommune,
                               name="Caféen")
    anna = make_user(Role.STAFF, unit, tovholder=True)
    module = UnitModule(unit=unit, module_key="udfordring", state=ModuleState.DRAFT)
    db.session.add(module)
    db.session.flush()
    add_comment(module, "Vores første tanker", actor=anna)
    with pytest.raises(NetworkError) as exc:
        service.move_unit(unit, actor=admin, programme=first)
    assert list(exc.value.errors) == ["programme"]
    service.move_unit(unit, actor=admin, programme=second)
    db.session.commit()
    db.session.expire_all()
    assert unit.programme == second
    # Its modules, its people and what they wrote go with it; the new due dates apply.
    assert [m.module_key for m in db.session.scalars(
        select(UnitModule).where(UnitModule.unit_id == unit.id))] == ["udfordring"]
    assert anna.is_tovholder_of(unit.id) and [c.body for c in module.comments] == [
        "Vores første tanker"]
    steps = queries.module_steps(unit, today=date(2027, 1, 2))
    assert steps[-1].due_on == date(2028, 11, 30)
    [event] = _events("unit.move")
    assert (event.details["from"], event.details["to"]) == ("Lighed 2027", "Lighed 2028")


def test_network_unit_not_moved_onto_a_namesake(app, admin, kommune):
    first, second = _programme(admin), _programme(admin, name="Lighed 2028")
    unit = service.create_unit(actor=admin, programme=first, municipality=kommune,
                               name="Caféen")
    service.create_unit(actor=admin, programme=second, municipality=kommune, name="Caféen")
    with pytest.raises(NetworkError) as exc:
        service.move_unit(unit, actor=admin, programme=second)
    assert list(exc.value.errors) == ["programme"]
    assert unit.programme == first


# --- who works in a unit ----------------------------------------------------------------------


def test_network_members_added_with_one_tovholder(app, admin, make_unit, make_user):
    unit = make_unit()
    anna, bo = make_user(Role.STAFF, name="Anna"), make_user(Role.STAFF, name="Bo")
    frida = make_user(Role.FACILITATOR, name="Frida")
    service.add_member(unit, anna, actor=admin, tovholder=True)
    service.add_member(unit, frida, actor=admin)
    assert anna.is_tovholder_of(unit.id) and unit.id in frida.unit_ids
    with pytest.raises(NetworkError) as exc:
        service.add_member(unit, bo, actor=admin, tovholder=True)
    assert list(exc.value.errors) == ["tovholder"]
    with pytest.raises(NetworkError) as exc:
        service.add_member(unit, make_user(Role.FACILITATOR), actor=admin, tovholder=True)
    assert list(exc.value.errors) == ["tovholder"]
    with pytest.raises(NetworkError) as exc:
        service.add_member(unit, anna, actor=admin)
    assert list(exc.value.errors) == ["user"]
    for role in (Role.ADMIN, Role.OBSERVER):
        with pytest.raises(NetworkError) as exc:
            service.add_member(unit, make_user(role), actor=admin)
        assert list(exc.value.errors) == ["user"]
    events = _events("unit.member_add")
    assert [(e.details["user_id"], e.details["tovholder"]) for e in events] == [
        (anna.id, True), (frida.id, False)]


def test_network_tovholder_changes_hands_and_can_be_nobody(app, admin, make_unit, make_user):
    unit = make_unit()
    anna = make_user(Role.STAFF, unit, tovholder=True)
    bo = make_user(Role.STAFF, unit)
    frida = make_user(Role.FACILITATOR, unit)
    service.set_tovholder(unit, bo, actor=admin)
    db.session.commit()
    assert [m.user_id for m in unit.memberships if m.is_tovholder] == [bo.id]
    assert unit.id in anna.unit_ids
    with pytest.raises(NetworkError) as exc:
        service.set_tovholder(unit, frida, actor=admin)
    assert list(exc.value.errors) == ["tovholder"]
    with pytest.raises(NetworkError):
        service.set_tovholder(unit, make_user(Role.STAFF), actor=admin)
    service.set_tovholder(unit, None, actor=admin)
    db.session.commit()
    assert not any(m.is_tovholder for m in unit.memberships)
    assert [(e.details["user_id"], e.details["previous"]) for e in _events("unit.tovholder")] \
        == [(bo.id, anna.id), (None, bo.id)]


def test_network_member_removed_keeps_the_person(app, admin, make_unit, make_user,
                                                 definitions):
    unit = make_unit()
    anna = make_user(Role.STAFF, unit, tovholder=True)
    module = UnitModule(unit=unit, module_key="udfordring", state=ModuleState.DRAFT)
    db.session.add(module)
    db.session.flush()
    add_comment(module, "Skrevet før jeg skiftede job", actor=anna)
    service.remove_member(anna.memberships[0], actor=admin)
    db.session.commit()
    db.session.expire_all()
    assert anna.memberships == [] and db.session.get(User, anna.id) is not None
    assert [(c.body, c.author_id) for c in module.comments] == [
        ("Skrevet før jeg skiftede job", anna.id)]
    [event] = _events("unit.member_remove")
    assert event.details == {"user_id": anna.id, "email": anna.email, "tovholder": True}


# --- people: the service ----------------------------------------------------------------------


def test_network_person_created_with_unit_as_tovholder(app, admin, make_unit):
    unit = make_unit()
    user = service.create_person(actor=admin, name=" Anna Andersen ", email="Anna@Kommune.DK",
                                 role="staff", unit=unit, tovholder=True)
    assert (user.name, user.email, user.role) == ("Anna Andersen", "anna@kommune.dk",
                                                  Role.STAFF)
    assert user.is_tovholder_of(unit.id) and user.password_hash is None
    [event] = _events("user.create")
    assert event.actor_id == admin.id and event.details["tovholder"] is True


def test_network_person_duplicate_email_refused_whatever_its_case(app, admin, make_user):
    make_user(Role.STAFF, email="anna@kommune.dk", name="Anna")
    with pytest.raises(NetworkError) as exc:
        service.create_person(actor=admin, name="Anden Anna", email=" ANNA@kommune.dk ",
                              role="observer")
    assert list(exc.value.errors) == ["email"]


@pytest.mark.parametrize(("fields", "field"), [
    ({"email": "ikke en adresse"}, "email"),
    ({"email": ""}, "email"),
    ({"name": ""}, "name"),
    ({"role": ""}, "role"),
    ({"role": "king"}, "role"),
    ({"role": "staff", "unit": None}, "unit"),
    ({"role": "facilitator", "unit": None}, "unit"),
    ({"role": "admin"}, "unit"),
    ({"role": "facilitator", "tovholder": True}, "tovholder"),
    ({"role": "observer", "unit": None, "observer_group": "steering", "tovholder": False},
     None),
    ({"role": "staff", "observer_group": "steering"}, "observer_group"),
], ids=["bad-email", "no-email", "no-name", "no-role", "unknown-role", "staff-no-unit",
        "facilitator-no-unit", "admin-with-unit", "facilitator-tovholder", "observer-ok",
        "staff-in-group"])
def test_network_person_refusals(app, admin, make_unit, fields, field):
    values = {"name": "Anna", "email": "anna@kommune.dk", "role": "staff", "unit": make_unit()}
    values.update(fields)
    if field is None:
        assert service.create_person(actor=admin, **values).role == Role.OBSERVER
        return
    with pytest.raises(NetworkError) as exc:
        service.create_person(actor=admin, **values)
    assert list(exc.value.errors) == [field]


def test_network_person_second_tovholder_refused(app, admin, make_unit, make_user):
    unit = make_unit()
    make_user(Role.STAFF, unit, tovholder=True, name="Tove")
    with pytest.raises(NetworkError) as exc:
        service.create_person(actor=admin, name="Anna", email="anna@kommune.dk", role="staff",
                              unit=unit, tovholder=True)
    assert list(exc.value.errors) == ["tovholder"]


def test_network_deactivation_ends_sessions_and_reactivation_lets_back_in(
        app, admin, make_unit, make_user):
    anna = make_user(Role.STAFF, make_unit())
    token = anna.session_token
    service.set_person_active(anna, actor=admin, active=False)
    assert not anna.active and anna.session_token != token
    service.set_person_active(anna, actor=admin, active=True)
    assert anna.active
    assert [e.object_id for e in _events("user.deactivate")] == [anna.id]
    assert [e.object_id for e in _events("user.activate")] == [anna.id]


def test_network_admin_cannot_deactivate_themselves(app, admin):
    with pytest.raises(NetworkError):
        service.set_person_active(admin, actor=admin, active=False)
    assert admin.active


def test_network_people_filters(app, make_unit, make_user, make_programme):
    programme = make_programme()
    unit, other = make_unit(programme=programme), make_unit()
    anna = make_user(Role.STAFF, unit, name="Anna Hansen", email="anna@holbaek.dk")
    bo = make_user(Role.STAFF, other, name="Bo Berg", email="bo@example.org", active=False)
    frida = make_user(Role.FACILITATOR, [unit, other], name="Frida 100% Fokus")
    nina = make_user(Role.ADMIN, name="Nina")

    def names(**filters):
        return {u.name for u in service.people(**filters)}

    assert names() == {anna.name, bo.name, frida.name, nina.name}
    assert names(role=Role.STAFF) == {anna.name, bo.name}
    assert names(unit_id=other.id) == {bo.name, frida.name}
    assert names(programme_id=programme.id) == {anna.name, frida.name}
    assert names(active=False) == {bo.name}
    assert names(active=True, role=Role.STAFF) == {anna.name}
    assert names(text="HOLBAEK") == {anna.name}
    assert names(text="berg") == {bo.name}
    assert names(text="100%") == {frida.name}
    assert names(text="%") == {frida.name}


# --- the pages --------------------------------------------------------------------------------


def _form(**overrides) -> dict:
    data = {"name": "Lighed 2027", "slug": "", "description": "Et forløb",
            "starts_on": "2027-01-01", "ends_on": "2027-12-31", "status": "running"}
    data.update({f"due_{key}": day.isoformat() for key, day in DUES.items()})
    data.update(overrides)
    return data


def _field_error(page: str, field: str) -> str:
    """The error message shown at a field."""
    match = re.search(rf'<span class="form-error-message" id="{field}-error">'
                      r'<span class="sr-only">[^<]*</span>([^<]*)</span>', page)
    assert match, f"no error at {field}"
    return match.group(1)


def _value(page: str, field: str) -> str:
    match = re.search(rf'<input[^>]*id="{field}"[^>]*>', page)
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def test_network_pages_create_a_programme(client, login, admin):
    login(admin)
    page = client.get("/admin/programmer/ny")
    assert page.status_code == 200
    assert 'name="due_udfordring"' in page.get_data(as_text=True)
    response = client.post("/admin/programmer/ny", data=_form())
    programme = db.session.scalar(select(Programme))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/programmer/{programme.id}/rediger"
    assert programme.slug == "lighed-2027" and programme.due_on("refleksion") == DUES["refleksion"]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Forløbet “Lighed 2027” er oprettet. Tilføj dets enheder." in page
    listing = client.get("/admin/programmer").get_data(as_text=True)
    assert "Lighed 2027" in listing and f"/admin/programmer/{programme.id}/rediger" in listing
    overview = client.get(f"/programmer/{programme.id}").get_data(as_text=True)
    assert f'href="/admin/programmer/{programme.id}/rediger"' in overview
    # The short name is the programme's public address.
    assert "Lighed 2027" in client.get("/forloeb/lighed-2027").get_data(as_text=True)


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"due_handleplan": "2027-04-01"}, "due_handleplan",
     "Modul 3 kan ikke have frist før modul 2 (Præcisering, frist 1. maj 2027): modulerne "
     "følger efter hinanden."),
    ({"due_refleksion": "2028-01-15"}, "due_refleksion",
     "Datoen ligger uden for forløbets periode, 1. januar 2027 – 31. december 2027."),
    ({"ends_on": "2026-12-31"}, "ends_on",
     "Forløbet kan ikke slutte, før det starter (1. januar 2027)."),
    ({"name": ""}, "name", "Giv forløbet et navn."),
    ({"due_udfordring": ""}, "due_udfordring", "Angiv fristen for modul 1."),
    ({"due_udfordring": "1. marts"}, "due_udfordring", "Skriv en rigtig dato, f.eks. 2026-03-02."),
    ({"slug": "Med Mellemrum"}, "slug",
     "Brug små bogstaver a–z, tal og enkelte bindestreger, højst 40 tegn, fx lighed-2027."),
    ({"status": "paused"}, "status", "Vælg en af de viste muligheder."),
], ids=["out-of-order", "outside-period", "end-before-start", "no-name", "no-due-date",
        "not-a-date", "bad-slug", "unknown-status"])
def test_network_pages_programme_refusals_keep_what_was_typed(client, login, admin, overrides,
                                                              field, message):
    login(admin)
    response = client.post("/admin/programmer/ny", data=_form(description="Min tekst",
                                                              **overrides))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in page
    if field != "status":
        assert _field_error(page, field) == message
    assert "Min tekst" in page
    assert _value(page, "due_praecisering") == "2027-05-01"
    assert db.session.scalar(select(Programme)) is None


def test_network_pages_duplicate_programme_name_and_slug(client, login, admin):
    _programme(admin, name="Lighed 2027", slug="lighed")
    db.session.commit()
    login(admin)
    page = client.post("/admin/programmer/ny", data=_form(name="lighed 2027")).get_data(
        as_text=True)
    assert _field_error(page, "name") == ("Et andet forløb hedder allerede “Lighed 2027”. "
                                          "Vælg et andet navn.")
    response = client.post("/admin/programmer/ny", data=_form(name="Andet", slug="lighed"))
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "slug") == (
        "Forløbet “Lighed 2027” har allerede webadressenavnet “lighed”. Skriv et andet.")


def test_network_pages_edit_a_programme(client, login, admin):
    programme = _programme(admin)
    db.session.commit()
    login(admin)
    page = client.get(f"/admin/programmer/{programme.id}/rediger").get_data(as_text=True)
    assert _value(page, "due_afproevning") == "2027-10-01"
    assert _value(page, "slug") == "lighed-2027"
    assert re.search(r'<input[^>]*checked[^>]*value="running"|<input[^>]*value="running"'
                     r'[^>]*checked', page)
    response = client.post(f"/admin/programmer/{programme.id}/rediger",
                           data=_form(status="closed", due_refleksion="2027-12-31"))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/programmer/{programme.id}"
    db.session.expire_all()
    assert programme.status == ProgrammeStatus.CLOSED
    assert programme.due_on("refleksion") == date(2027, 12, 31)
    assert "Forløbet “Lighed 2027” er gemt." in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_network_pages_create_a_unit_from_the_municipality_list(client, login, admin, kommune):
    programme = _programme(admin)
    db.session.commit()
    login(admin)
    page = client.get(f"/admin/programmer/{programme.id}/enheder/ny").get_data(as_text=True)
    assert f'<option value="{kommune.id}">Holbæk (0316)</option>' in page
    response = client.post(f"/admin/programmer/{programme.id}/enheder/ny", data={
        "municipality": str(kommune.id), "name": "Sundhedscenteret",
        "places": "Tølløse\nJyderup", "target_group": "Borgere med KOL"})
    unit = db.session.scalar(select(Unit))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/enheder/{unit.id}/rediger"
    assert (unit.programme_id, unit.municipality_id, unit.places) == (
        programme.id, kommune.id, ["Tølløse", "Jyderup"])
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Enheden “Holbæk – Sundhedscenteret” er oprettet." in page
    listed = client.get(f"/admin/programmer/{programme.id}/rediger").get_data(as_text=True)
    assert f'href="/admin/enheder/{unit.id}/rediger"' in listed and "Sundhedscenteret" in listed


def test_network_pages_unit_without_municipality_or_name_refused(client, login, admin):
    programme = _programme(admin)
    db.session.commit()
    login(admin)
    response = client.post(f"/admin/programmer/{programme.id}/enheder/ny", data={
        "municipality": "", "name": "", "places": "Tølløse", "target_group": "KOL"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Giv enheden et navn." in _field_error(page, "name")
    assert "Tølløse" in page and "KOL" in page
    response = client.post(f"/admin/programmer/{programme.id}/enheder/ny", data={
        "municipality": "", "name": "Caféen"})
    page = response.get_data(as_text=True)
    assert _field_error(page, "municipality") == "Vælg enhedens kommune på listen."
    assert _value(page, "name") == "Caféen"
    response = client.post(f"/admin/programmer/{programme.id}/enheder/ny", data={
        "municipality": "99999", "name": "Caféen"})
    assert _field_error(response.get_data(as_text=True), "municipality") == \
        "Vælg enhedens kommune på listen."
    assert db.session.scalar(select(Unit)) is None


def test_network_pages_edit_and_move_a_unit(client, login, admin, kommune):
    first, second = _programme(admin), _programme(admin, name="Lighed 2028")
    unit = service.create_unit(actor=admin, programme=first, municipality=kommune,
                               name="Caféen")
    db.session.commit()
    login(admin)
    page = client.get(f"/admin/enheder/{unit.id}/rediger").get_data(as_text=True)
    assert f'<option selected value="{kommune.id}">' in page
    response = client.post(f"/admin/enheder/{unit.id}/rediger", data={
        "municipality": str(kommune.id), "name": "", "places": "Ny plads"})
    assert response.status_code == 422
    assert "Ny plads" in response.get_data(as_text=True)
    response = client.post(f"/admin/enheder/{unit.id}/rediger", data={
        "municipality": str(kommune.id), "name": "Caféen i byen", "places": "Torvet"})
    assert response.status_code == 302
    response = client.post(f"/admin/enheder/{unit.id}/flyt", data={"programme": ""})
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "programme") == \
        "Vælg det forløb, enheden skal flyttes til."
    response = client.post(f"/admin/enheder/{unit.id}/flyt",
                           data={"programme": str(second.id)})
    assert response.status_code == 302
    db.session.expire_all()
    assert (unit.name, unit.places, unit.programme_id) == ("Caféen i byen", ["Torvet"],
                                                           second.id)
    assert "er flyttet til Lighed 2028" in client.get(
        response.headers["Location"]).get_data(as_text=True)


def test_network_pages_attach_people_choose_tovholder_and_remove(client, login, admin,
                                                                 make_unit, make_user):
    unit = make_unit()
    anna, bo = make_user(Role.STAFF, name="Anna"), make_user(Role.STAFF, name="Bo")
    frida = make_user(Role.FACILITATOR, name="Frida")
    login(admin)
    page = client.get(f"/admin/enheder/{unit.id}/rediger").get_data(as_text=True)
    assert f'<option value="{anna.id}">Anna (' in page
    assert f'<option value="{admin.id}">' not in page
    url = f"/admin/enheder/{unit.id}/personer"
    assert client.post(url, data={"user": str(anna.id), "as_tovholder": "y"}).status_code == 302
    assert client.post(url, data={"user": str(frida.id)}).status_code == 302
    response = client.post(url, data={"user": str(bo.id), "as_tovholder": "y"})
    assert response.status_code == 422
    assert _field_error(response.get_data(as_text=True), "as_tovholder") == (
        "Anna er allerede enhedens tovholder. En enhed har én tovholder: skift den under "
        "“Tovholder”.")
    response = client.post(url, data={"user": str(admin.id)})
    assert _field_error(response.get_data(as_text=True), "user") == (
        f"{admin.name} er netværksadministrator og arbejder på tværs af netværket, ikke i "
        "en enhed.")
    assert client.post(url, data={"user": str(bo.id)}).status_code == 302
    tovholder = f"/admin/enheder/{unit.id}/tovholder"
    response = client.post(tovholder, data={"tovholder": str(frida.id)})
    assert _field_error(response.get_data(as_text=True), "tovholder") == \
        "Tovholderen skal være medarbejder i enheden."
    assert client.post(tovholder, data={"tovholder": str(bo.id)}).status_code == 302
    db.session.expire_all()
    assert bo.is_tovholder_of(unit.id) and not anna.is_tovholder_of(unit.id)
    page = client.get(f"/admin/enheder/{unit.id}/rediger").get_data(as_text=True)
    assert "Bo er enhedens tovholder." in page
    assert f'<option selected value="{bo.id}">Bo</option>' in page
    assert client.post(tovholder, data={"tovholder": ""}).status_code == 302
    db.session.expire_all()
    assert not any(m.is_tovholder for m in unit.memberships)
    membership = db.session.scalar(select(Membership).where(Membership.user_id == frida.id)).id
    response = client.post(f"/admin/enheder/{unit.id}/personer/{membership}/fjern")
    assert response.status_code == 302
    db.session.expire_all()
    assert unit.id not in frida.unit_ids
    other = make_unit()
    assert client.post(f"/admin/enheder/{other.id}/personer/{membership}/fjern"
                       ).status_code == 404


def test_network_pages_create_a_person_and_invite_by_mail(client, login, admin, make_unit):
    unit = make_unit()
    login(admin)
    page = client.get(f"/admin/brugere/ny?enhed={unit.id}").get_data(as_text=True)
    assert re.search(rf'<option selected value="{unit.id}">', page)
    response = client.post("/admin/brugere/ny", data={
        "name": "Anna Andersen", "email": "anna@kommune.dk", "role": "staff",
        "unit": str(unit.id), "tovholder": "y", "observer_group": "", "invite": "y"})
    assert response.status_code == 302
    anna = db.session.scalar(select(User).where(User.email == "anna@kommune.dk"))
    assert anna.is_tovholder_of(unit.id)
    [mail] = db.session.scalars(select(MailMessage)).all()
    assert mail.to_address == "anna@kommune.dk" and mail.kind == "invitation"
    assert [e.object_id for e in _events("user.invite")] == [anna.id]
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Anna Andersen er oprettet, og en invitation er på vej til anna@kommune.dk." in page
    assert "Ingen adgangskode endnu" in page


def test_network_pages_create_a_person_without_mail_then_invite_from_the_row(
        client, login, admin):
    login(admin)
    response = client.post("/admin/brugere/ny", data={
        "name": "Ole", "email": "ole@kl.dk", "role": "observer", "unit": "",
        "observer_group": "follow"})
    assert response.status_code == 302
    ole = db.session.scalar(select(User).where(User.email == "ole@kl.dk"))
    assert db.session.scalar(select(MailMessage)) is None
    page = client.get("/admin/brugere").get_data(as_text=True)
    assert f'action="/admin/brugere/{ole.id}/invitation"' in page
    response = client.post(f"/admin/brugere/{ole.id}/invitation",
                           data={"next": "/admin/brugere?rolle=observer"})
    assert response.headers["Location"] == "/admin/brugere?rolle=observer"
    assert db.session.scalar(select(MailMessage)).to_address == "ole@kl.dk"
    # Once Ole has chosen a password, there is nothing to invite him to.
    ole.set_password("en lang og god adgangssætning")
    db.session.commit()
    page = client.get("/admin/brugere").get_data(as_text=True)
    assert f'action="/admin/brugere/{ole.id}/invitation"' not in page
    assert "Ingen adgangskode endnu" not in page


def test_network_pages_duplicate_email_refused_at_the_field(client, login, admin, make_user):
    make_user(Role.STAFF, email="anna@kommune.dk", name="Anna Andersen")
    login(admin)
    response = client.post("/admin/brugere/ny", data={
        "name": "Anna Berg", "email": "ANNA@Kommune.dk", "role": "observer"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert _field_error(page, "email") == ("Anna Andersen har allerede e-mailadressen "
                                           "anna@kommune.dk: en adresse hører til én person.")
    assert _value(page, "name") == "Anna Berg" and _value(page, "email") == "ANNA@Kommune.dk"
    assert '<option selected value="observer">' in page
    assert db.session.scalar(select(MailMessage)) is None


def test_network_pages_person_without_unit_refused_at_the_field(client, login, admin):
    login(admin)
    response = client.post("/admin/brugere/ny", data={
        "name": "Bo", "email": "bo@kommune.dk", "role": "staff", "unit": ""})
    assert _field_error(response.get_data(as_text=True), "unit") == \
        "Medarbejdere og facilitatorer arbejder i en enhed: vælg den."
    response = client.post("/admin/brugere/ny", data={
        "name": "Bo", "email": "bo@kommune.dk", "role": "staff", "unit": "12345"})
    assert _field_error(response.get_data(as_text=True), "unit") == \
        "Vælg en af de viste muligheder."


def test_network_pages_deactivate_ends_the_persons_session_and_reactivate(
        app, client, login, admin, make_unit, make_user):
    anna = make_user(Role.STAFF, make_unit(), name="Anna")
    other = app.test_client()
    assert other.post("/log-ind", data={"email": anna.email, "password": PASSWORD}
                      ).status_code == 302
    assert other.get("/hjem").status_code == 200
    login(admin)
    response = client.post(f"/admin/brugere/{anna.id}/deaktiver")
    assert response.status_code == 302
    assert other.get("/hjem").status_code == 302
    page = client.get("/admin/brugere?status=deaktiverede").get_data(as_text=True)
    assert "Anna er deaktiveret og kan ikke længere logge ind" in page
    assert f'action="/admin/brugere/{anna.id}/aktiver"' in page
    assert other.post("/log-ind", data={"email": anna.email, "password": PASSWORD}
                      ).status_code == 422
    assert client.post(f"/admin/brugere/{anna.id}/aktiver").status_code == 302
    assert other.post("/log-ind", data={"email": anna.email, "password": PASSWORD}
                      ).status_code == 302
    assert "Anna kan logge ind igen." in client.get("/admin/brugere").get_data(as_text=True)


def test_network_pages_admin_cannot_deactivate_themselves(client, login, admin):
    login(admin)
    page = client.get("/admin/brugere").get_data(as_text=True)
    assert f"/admin/brugere/{admin.id}/deaktiver" not in page
    response = client.post(f"/admin/brugere/{admin.id}/deaktiver")
    assert response.status_code == 302
    assert "Du kan ikke deaktivere dig selv." in client.get("/admin/brugere").get_data(
        as_text=True)
    db.session.expire_all()
    assert admin.active


def test_network_pages_people_list_filters(client, login, admin, make_unit, make_user):
    unit = make_unit()
    make_user(Role.STAFF, unit, name="Anna Hansen", email="anna@holbaek.dk")
    make_user(Role.FACILITATOR, name="Frida Fokus", active=False)
    login(admin)

    def names(query: str) -> list[str]:
        page = client.get("/admin/brugere" + query).get_data(as_text=True)
        return re.findall(r"<tr>\s*<td>([^<]+)</td>", page)

    # by role (admin, facilitator, staff), then by name
    assert names("") == [admin.name, "Frida Fokus", "Anna Hansen"]
    assert names("?rolle=staff") == ["Anna Hansen"]
    assert names(f"?enhed={unit.id}") == ["Anna Hansen"]
    assert names(f"?forloeb={unit.programme_id}") == ["Anna Hansen"]
    assert names("?status=deaktiverede") == ["Frida Fokus"]
    assert names("?status=aktive&q=HANSEN") == ["Anna Hansen"]
    assert names("?q=holbaek.dk") == ["Anna Hansen"]
    assert names("?rolle=king&enhed=abc&forloeb=99999999999&status=x") == \
        [admin.name, "Frida Fokus", "Anna Hansen"]
    page = client.get("/admin/brugere?q=Fokus&rolle=facilitator").get_data(as_text=True)
    assert 'value="Fokus"' in page and '<option value="facilitator" selected>' in page


def test_network_every_change_is_in_the_audit_log_in_danish(client, login, admin, kommune,
                                                            make_user):
    programme = _programme(admin)
    unit = service.create_unit(actor=admin, programme=programme, municipality=kommune,
                               name="Caféen")
    anna = make_user(Role.STAFF, name="Anna")
    service.add_member(unit, anna, actor=admin, tovholder=True)
    service.set_tovholder(unit, None, actor=admin)
    service.update_unit(unit, actor=admin, municipality=kommune, name="Caféen", places=["A"])
    service.move_unit(unit, actor=admin, programme=_programme(admin, name="Lighed 2028"))
    service.update_programme(programme, actor=admin, name="Lighed", slug="", starts_on=
                             programme.starts_on, ends_on=programme.ends_on, dues=DUES,
                             status=ProgrammeStatus.CLOSED)
    service.remove_member(anna.memberships[0], actor=admin)
    db.session.commit()
    login(admin)
    page = client.get("/admin/log").get_data(as_text=True)
    for words in ("Forløb oprettet", "Forløb ændret", "Enhed oprettet", "Enhed ændret",
                  "Enhed flyttet til et andet forløb", "Person knyttet til en enhed",
                  "En enheds tovholder ændret", "Person fjernet fra en enhed"):
        assert words in page, words


# --- who may ----------------------------------------------------------------------------------

#: Every page and action of the network admin: (method, url pattern).
ADMIN_ENDPOINTS = [
    ("GET", "/admin/programmer"),
    ("GET", "/admin/programmer/ny"),
    ("POST", "/admin/programmer/ny"),
    ("GET", "/admin/programmer/{programme}/rediger"),
    ("POST", "/admin/programmer/{programme}/rediger"),
    ("GET", "/admin/programmer/{programme}/enheder/ny"),
    ("POST", "/admin/programmer/{programme}/enheder/ny"),
    ("GET", "/admin/enheder/{unit}/rediger"),
    ("POST", "/admin/enheder/{unit}/rediger"),
    ("POST", "/admin/enheder/{unit}/flyt"),
    ("POST", "/admin/enheder/{unit}/personer"),
    ("POST", "/admin/enheder/{unit}/tovholder"),
    ("POST", "/admin/enheder/{unit}/personer/{membership}/fjern"),
    ("GET", "/admin/brugere"),
    ("GET", "/admin/brugere/ny"),
    ("POST", "/admin/brugere/ny"),
    ("POST", "/admin/brugere/{person}/deaktiver"),
    ("POST", "/admin/brugere/{person}/aktiver"),
    ("POST", "/admin/brugere/{person}/invitation"),
]


def _urls(team) -> dict:
    membership = team.staff.memberships[0]
    return {"programme": team.unit.programme_id, "unit": team.unit.id,
            "membership": membership.id, "person": team.staff.id}


@pytest.mark.parametrize("who", ["staff", "tovholder", "facilitator", "observer"])
@pytest.mark.parametrize(("method", "pattern"), ADMIN_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p in ADMIN_ENDPOINTS])
def test_network_access_only_the_admin(client, login, team, who, method, pattern):
    url = pattern.format(**_urls(team))
    login(getattr(team, who))
    response = client.open(url, method=method, data={} if method == "POST" else None)
    if pattern == "/admin/programmer" and who == "observer":
        assert response.status_code == 200  # observers read the programmes (no buttons)
        assert "/admin/programmer/ny" not in response.get_data(as_text=True)
        return
    assert response.status_code == 403
    db.session.expire_all()
    assert team.staff.active and team.staff.memberships


@pytest.mark.parametrize(("method", "pattern"), ADMIN_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p in ADMIN_ENDPOINTS])
def test_network_access_anonymous_is_sent_to_login(client, team, method, pattern):
    response = client.open(pattern.format(**_urls(team)), method=method,
                           data={} if method == "POST" else None)
    assert response.status_code == 302 and "/log-ind" in response.headers["Location"]


@pytest.mark.parametrize("pattern", [p for m, p in ADMIN_ENDPOINTS if m == "GET"], ids=str)
def test_network_access_admin_reaches_every_page(client, login, team, pattern):
    login(team.admin)
    assert client.get(pattern.format(**_urls(team))).status_code == 200


@pytest.mark.parametrize(("method", "pattern"),
                         [(m, p) for m, p in ADMIN_ENDPOINTS if m == "POST"],
                         ids=[p for m, p in ADMIN_ENDPOINTS if m == "POST"])
def test_network_csrf_every_form_needs_its_token(client, login, team, method, pattern):
    login(team.admin)
    before = (db.session.scalar(select(Programme.name)), team.staff.session_token)
    response = client.post(pattern.format(**_urls(team)), data=_form(), csrf=False)
    assert response.status_code == 400
    db.session.expire_all()
    assert team.staff.active and team.staff.memberships
    assert (db.session.scalar(select(Programme.name)), team.staff.session_token) == before


def test_network_menu_links_for_the_admin_only(client, login, team):
    login(team.admin)
    page = client.get("/hjem").get_data(as_text=True)
    assert 'href="/admin/programmer"' in page and 'href="/konto"' in page
    client.post("/log-ud")
    login(team.staff)
    page = client.get("/hjem").get_data(as_text=True)
    assert 'href="/admin/programmer"' not in page and 'href="/konto"' in page
