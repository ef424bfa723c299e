"""Loading the seed data in ``seed_data/``: municipalities, programmes with their units, the
module definitions, and (on request) demo accounts and demo content. Idempotent: every row is
found by its natural key first, so a second run changes nothing and writes no audit events."""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import yaml
from sqlalchemy import select

from laks.audit import record
from laks.enums import MODULE_KEYS, ObserverGroup, ProgrammeStatus, Role
from laks.extensions import db
from laks.models import ModuleDue, Municipality, Programme, Unit
from laks.services import twofactor
from laks.services.accounts import create_user, find_user
from laks.services.definitions import load_definition_files
from laks.services.demo import load_demo_content

SEED_DIR = Path(__file__).resolve().parents[2] / "seed_data"


class SeedError(ValueError):
    """The seed files are inconsistent; the message names the file and the entry."""


@dataclass
class SeedReport:
    created: list[str] = field(default_factory=list)
    demo_logins: list[tuple[str, str, str]] = field(default_factory=list)  # email, role, unit
    demo_password: str | None = None


def slugify(text: str) -> str:
    """ASCII slug for e-mail local parts: æ→ae, ø→oe, å→aa, everything else dropped."""
    text = text.lower().replace("æ", "ae").replace("ø", "oe").replace("å", "aa")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40].rstrip("-")


def load_seed(seed_dir: Path = SEED_DIR, *, demo: bool = False, base: bool = False
              ) -> SeedReport:
    """Load municipalities, programmes and the module questions (and demo accounts and
    content if ``demo``); flush, no commit. With ``base``, only what every network starts
    with – the municipalities and the network's module questions – and no programmes: a
    network of its own creates them in the browser."""
    if base and demo:
        raise SeedError("the demo needs the seed's programmes: --base and --demo exclude "
                        "each other")
    report = SeedReport()
    municipalities = _load_municipalities(seed_dir / "municipalities.csv", report)
    if not base:
        for path in sorted((seed_dir / "programmes").glob("*.yaml")):
            _load_programme(path, municipalities, report)
    for key in load_definition_files(seed_dir / "modules"):
        report.created.append(f"module definition {key}")
    if demo:
        _load_demo_accounts(seed_dir / "demo_accounts.yaml", report)
        report.created += load_demo_content(seed_dir / "demo_content")
    db.session.flush()
    return report


def _load_municipalities(path: Path, report: SeedReport) -> dict[str, Municipality]:
    by_code = {m.code: m for m in db.session.scalars(select(Municipality))}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            code, name = row["code"].strip(), row["name"].strip()
            if not re.fullmatch(r"\d{4}", code):
                raise SeedError(f"{path.name}: kommunekode {code!r} is not four digits")
            existing = by_code.get(code)
            if existing is None:
                existing = by_code[code] = Municipality(code=code, name=name)
                db.session.add(existing)
                db.session.flush()
                record(None, "municipality.create", existing, code=code, name=name)
                report.created.append(f"municipality {code} {name}")
            elif existing.name != name:
                raise SeedError(f"{path.name}: {code} is {existing.name!r} in the database")
    return by_code


def _load_programme(path: Path, municipalities: dict[str, Municipality], report) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    unknown = set(data.get("modules", {})) - set(MODULE_KEYS)
    if unknown or set(data.get("modules", {})) != set(MODULE_KEYS):
        raise SeedError(f"{path.name}: modules must be exactly {', '.join(MODULE_KEYS)}")
    programme = db.session.scalar(select(Programme).where(Programme.slug == data["slug"]))
    if programme is None:
        programme = Programme(
            slug=data["slug"],
            name=data["name"],
            description=data.get("description", ""),
            starts_on=_date(data["starts_on"]),
            ends_on=_date(data["ends_on"]),
            status=_status(data, path),
        )
        programme.module_dues = [
            ModuleDue(module_key=key, position=i, due_on=_date(data["modules"][key]))
            for i, key in enumerate(MODULE_KEYS, start=1)
        ]
        db.session.add(programme)
        db.session.flush()
        record(None, "programme.create", programme, slug=programme.slug,
               status=programme.status.value)
        report.created.append(f"programme {programme.slug}")

    existing = {(u.municipality_id, u.name) for u in programme.units}
    for entry in data["units"]:
        municipality = municipalities.get(str(entry["municipality"]))
        if municipality is None:
            raise SeedError(f"{path.name}: unknown kommunekode {entry['municipality']!r}")
        if (municipality.id, entry["name"]) in existing:
            continue
        unit = Unit(
            programme=programme,
            municipality=municipality,
            name=entry["name"],
            places=list(entry.get("places") or [entry["name"]]),
            target_group=entry.get("target_group", ""),
        )
        db.session.add(unit)
        db.session.flush()
        record(None, "unit.create", unit, name=unit.name)
        report.created.append(f"unit {unit.title}")


def _status(data: dict, path: Path) -> ProgrammeStatus:
    """The programme's ``status:`` (running when the file says nothing). The seed sets it
    when it creates the programme and never afterwards: whether a programme still runs is
    the network's decision once it exists, like its name and dates."""
    value = data.get("status", ProgrammeStatus.RUNNING.value)
    try:
        return ProgrammeStatus(value)
    except ValueError:
        raise SeedError(f"{path.name}: status {value!r} is not "
                        f"{' or '.join(s.value for s in ProgrammeStatus)}") from None


def _date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _load_demo_accounts(path: Path, report: SeedReport) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    password = data["password"]
    report.demo_password = password
    units = list(db.session.scalars(select(Unit).order_by(Unit.id)))

    def ensure(email, name, role, *, units=(), tovholder=False, group=None, unit_label=""):
        if find_user(email) is None:
            user = create_user(actor=None, email=email, name=name, role=role,
                               units=list(units), tovholder=tovholder, observer_group=group,
                               password=password)
            if twofactor.is_required(user):  # with the secret the README publishes
                twofactor.set_up_demo(user)
            report.created.append(f"user {email}")
        report.demo_logins.append((email, role.value, unit_label))

    admin = data["network_admin"]
    ensure(admin["email"], admin["name"], Role.ADMIN)
    for observer in data["observers"]:
        ensure(observer["email"], observer["name"], Role.OBSERVER,
               group=ObserverGroup(observer["group"]))
    facilitators = data["facilitators"]
    for i, person in enumerate(facilitators):
        shared = units[i :: len(facilitators)]
        ensure(person["email"], person["name"], Role.FACILITATOR, units=shared,
               unit_label=f"{len(shared)} units")
    for unit in units:
        ensure(f"{slugify(unit.places[0])}@demo.laks.dk", f"Tovholder, {unit.name}", Role.STAFF,
               units=[unit], tovholder=True, unit_label=unit.title)
