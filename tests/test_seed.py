"""The seed: the six municipalities, the LAKS programme's 17 units, and demo accounts."""

from __future__ import annotations

import shutil

import pytest
from sqlalchemy import func, select

from laks.enums import ProgrammeStatus, Role
from laks.extensions import db
from laks.models import AuditEvent, Membership, Municipality, Programme, Unit, User
from laks.services.seed import SEED_DIR, SeedError, load_seed, slugify

KOMMUNEKODER = {
    "København": "0101", "Ballerup": "0151", "Gladsaxe": "0159",
    "Halsnæs": "0260", "Holbæk": "0316", "Aarhus": "0751",
    # the municipalities of the second (demo) programme's cases
    "Norddjurs": "0707", "Hedensted": "0766", "Randers": "0730",
}


def test_seed_municipalities_have_official_codes(app):
    load_seed()
    rows = {m.name: m.code for m in db.session.scalars(select(Municipality))}
    assert len(rows) == 98  # every Danish municipality, to choose from for a new unit
    assert {name: rows.get(name) for name in KOMMUNEKODER} == KOMMUNEKODER
    assert rows["Frederikssund"] == "0250" and rows["Ærø"] == "0492"


def test_seed_laks_programme_has_its_17_units(app):
    load_seed()
    programme = db.session.scalar(select(Programme).where(Programme.slug == "laks"))
    assert len(programme.units) == 17
    assert [d.module_key for d in programme.module_dues] == [
        "udfordring", "praecisering", "handleplan", "afproevning", "refleksion"]
    by_name = {u.name: u for u in programme.units}
    assert by_name["Carlshuse, Vadstruphus, Buddinge Hovedgade og Ungehuset"].places == [
        "Carlshuse", "Vadstruphus", "Buddinge Hovedgade", "Ungehuset"]
    assert by_name["Genoptrænings- og sundhedscentret"].places == [
        "Genoptrænings- og sundhedscentret"]
    assert by_name["Plejehotellet"].municipality.name == "Holbæk"
    counts = {
        name: db.session.scalar(
            select(func.count(Unit.id)).join(Municipality)
            .where(Municipality.name == name, Unit.programme_id == programme.id))
        for name in ("København", "Ballerup", "Gladsaxe", "Halsnæs", "Holbæk", "Aarhus")
    }
    assert counts == {"København": 1, "Ballerup": 1, "Gladsaxe": 4, "Halsnæs": 2,
                      "Holbæk": 4, "Aarhus": 5}


def test_seed_has_no_source_typo():
    from laks.services.seed import SEED_DIR

    text = (SEED_DIR / "programmes" / "laks.yaml").read_text(encoding="utf-8")
    names = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    assert not any("Kommuen" in line for line in names)


def _snapshot():
    return {
        model.__name__: db.session.scalar(select(func.count()).select_from(model))
        for model in (Municipality, Programme, Unit, User, Membership, AuditEvent)
    }


def test_seed_twice_changes_nothing(app):
    load_seed(demo=True)
    db.session.commit()
    before = _snapshot()
    report = load_seed(demo=True)
    db.session.commit()
    assert report.created == []
    assert _snapshot() == before


def test_seed_demo_accounts(app):
    report = load_seed(demo=True)
    db.session.commit()
    everyone = list(db.session.scalars(select(User)))
    # The demo's outbox holds one invitation, to a person who has not chosen a password yet.
    invited = [u for u in everyone if u.password_hash is None]
    assert [u.email for u in invited] == ["ny.medarbejder@demo.laks.dk"]
    users = [u for u in everyone if u.password_hash is not None]
    by_role = {role: [u for u in users if u.role == role] for role in Role}
    assert len(by_role[Role.ADMIN]) == 1
    assert len(by_role[Role.OBSERVER]) == 1
    assert len(by_role[Role.FACILITATOR]) == 2
    unit_count = db.session.scalar(select(func.count(Unit.id)))
    assert unit_count >= 21  # 17 LAKS units and the second programme's
    assert len(by_role[Role.STAFF]) == unit_count
    # The facilitators share the units between them: every unit has exactly one.
    facilitated = [m.unit_id for f in by_role[Role.FACILITATOR] for m in f.memberships]
    assert sorted(facilitated) == sorted(u.id for u in db.session.scalars(select(Unit)))
    # Every unit has one staff member, its tovholder, and every demo login works.
    assert all(u.is_tovholder_of(u.memberships[0].unit_id) for u in by_role[Role.STAFF])
    assert all(u.check_password(report.demo_password) for u in users)
    assert len(report.demo_logins) == 4 + unit_count


def test_seed_slugify_handles_danish_letters():
    assert slugify("Værestedet, Mødestedet og Skuret") == "vaerestedet-moedestedet-og-skuret"
    assert slugify("Genoptrænings- og sundhedscentret") == "genoptraenings-og-sundhedscentret"
    assert slugify("Globus1") == "globus1"


def test_seed_laks_is_closed_and_the_second_programme_runs(app):
    load_seed()
    db.session.commit()
    status = {p.slug: p.status for p in db.session.scalars(select(Programme))}
    assert status == {"laks": ProgrammeStatus.CLOSED,
                      "lighed-i-praksis": ProgrammeStatus.RUNNING}


def test_seed_sets_the_status_only_when_it_creates_the_programme(app):
    """Once a programme exists, whether it runs is the network's decision: a later seed
    leaves it as it is (and writes nothing)."""
    load_seed()
    laks = db.session.scalar(select(Programme).where(Programme.slug == "laks"))
    laks.status = ProgrammeStatus.RUNNING
    db.session.commit()
    before = _snapshot()
    assert load_seed().created == []
    db.session.commit()
    assert db.session.get(Programme, laks.id).status == ProgrammeStatus.RUNNING
    assert _snapshot() == before


def test_seed_refuses_an_unknown_status(app, tmp_path):
    shutil.copytree(SEED_DIR, tmp_path / "seed")
    path = tmp_path / "seed" / "programmes" / "laks.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("status: closed", "status: done"),
                    encoding="utf-8")
    with pytest.raises(SeedError, match="laks.yaml: status 'done'"):
        load_seed(tmp_path / "seed")


def test_seed_twice_leaves_the_demo_catalogue_alone(app):
    """The demo's first edition is published once: a second run adds no edition, no
    consent, and does not touch the frozen cases – not even a consent withdrawn since."""
    from laks.models import CaseConsent, Edition, EditionCase
    from laks.services import catalogue

    load_seed(demo=True)
    db.session.commit()
    edition = db.session.scalar(select(Edition))
    hashes = [c.content_hash for c in edition.cases]
    consent = db.session.scalar(select(CaseConsent).order_by(CaseConsent.id))
    catalogue.withdraw_consent(consent.unit, consent.consented_by)
    db.session.commit()
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m))
              for m in (Edition, EditionCase, CaseConsent, AuditEvent)}
    assert load_seed(demo=True).created == []
    db.session.commit()
    assert {m.__name__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Edition, EditionCase, CaseConsent, AuditEvent)} == counts
    assert catalogue.active_consent(consent.unit) is None
    db.session.expire_all()
    assert [c.content_hash for c in db.session.scalar(select(Edition)).cases] == hashes


def test_seed_base_is_a_network_of_its_own(app, runner):
    """`flask seed --base` (`make run EMPTY=1`): the municipalities and the network's
    module questions only – no programmes, no units, no people."""
    from laks.models import ModuleDefinition

    result = runner.invoke(args=["seed", "--base"])
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(func.count(Municipality.id))) == 98
    assert db.session.scalar(select(func.count(ModuleDefinition.id))) == 5
    for model in (Programme, Unit, User):
        assert db.session.scalar(select(func.count(model.id))) == 0
    refused = runner.invoke(args=["seed", "--base", "--demo"])
    assert refused.exit_code != 0 and "exclude each other" in refused.output
