"""The benchmark's network: the seed with its demo, and 1,000 more units, each with its five
modules in a mix of states, three revisions to a started module, its timeline and two
comments. Written with bulk inserts (one statement per table and batch), not through the
services, so that building it takes seconds, not minutes.

Two units are kept apart for the history benchmark: in both, the action plan (Handleplan,
with rows) has had changes requested and is open for editing; the first has 5 revisions and 5
comments, the second 500 revisions, 200 comments and 61 steps in its timeline.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import cycle

import yaml
from sqlalchemy import insert, select
from werkzeug.security import generate_password_hash

from laks.enums import MODULE_KEYS, ModuleState, Role
from laks.extensions import db
from laks.models import (
    Membership,
    ModuleComment,
    ModuleRevision,
    Municipality,
    Programme,
    StateChange,
    Unit,
    UnitModule,
    User,
)
from laks.services.definitions import current_version_id
from laks.services.demo import plain
from laks.services.seed import SEED_DIR, load_seed

PASSWORD = "benchmark-password"  # noqa: S105 - a throw-away account in a throw-away database
DEMO_PASSWORD = "laks-demo-2026"  # noqa: S105 - the demo's published password
BATCH = 2000

COMMENTS = [
    "Tak for et grundigt udkast. Kan I **skærpe målgruppen**, så det er tydeligt, hvem I "
    "ikke når i dag?",
    "Vi har talt om det i teamet:\n- fremmødet følges hver uge\n- frafald ringes op samme "
    "dag\n- tovholderen samler tallene",
    "Godt set! Husk at skrive funktioner, ikke navne, i aktiviteterne.",
    "Vi prøver at flytte det første møde ud i lokalområdet, tæt på hvor borgerne bor. "
    "Se også [Sundhedsstyrelsens anbefalinger](https://www.sst.dk).",
    "Hvordan vil I måle, om ændringen virker? En enkel optælling pr. uge er nok.",
]


@dataclass
class BenchData:
    units: int  # units in the database, the seed's included
    unit_id: int  # a bench unit (the first), for the unit page
    small_unit_id: int  # its action plan has 5 revisions and 5 comments
    large_unit_id: int  # its action plan has 500 revisions and 200 comments
    programme_id: int
    staff_email: str  # a member of both history units
    facilitator_email: str  # facilitates every bench unit
    facilitator_units: int
    programme_units: int  # units of the bench units' programme
    admin_email: str
    observer_email: str


def _demo_answers() -> dict[str, list[dict]]:
    """Every module's answers in the demo content, per module key: realistic text to copy."""
    found: dict[str, list[dict]] = {key: [] for key in MODULE_KEYS}
    for path in sorted((SEED_DIR / "demo_content").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for key, content in (data.get("modules") or {}).items():
            answers = plain((content or {}).get("answers") or {})
            if answers:
                found[key].append(answers)
    return found


def _insert(model, rows: list[dict], returning=None) -> list:
    """Insert ``rows`` in batches; with ``returning``, the values of that column in order."""
    ids = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        if returning is None:
            db.session.execute(insert(model), chunk)
        else:
            ids += db.session.scalars(
                insert(model).returning(returning, sort_by_parameter_order=True), chunk).all()
    return ids


#: A unit's modules by its position mod 6: how far it has come. The module after the last
#: approved one is in the state below (cycling), the rest are not started.
_OPEN_STATES = [ModuleState.DRAFT, ModuleState.SUBMITTED, ModuleState.CHANGES_REQUESTED]

#: The workflow steps that lead to each state: (action, from, to), in order.
_STEPS = {
    ModuleState.DRAFT: [("start", ModuleState.NOT_STARTED, ModuleState.DRAFT)],
    ModuleState.SUBMITTED: [("start", ModuleState.NOT_STARTED, ModuleState.DRAFT),
                            ("submit", ModuleState.DRAFT, ModuleState.SUBMITTED)],
    ModuleState.CHANGES_REQUESTED: [
        ("start", ModuleState.NOT_STARTED, ModuleState.DRAFT),
        ("submit", ModuleState.DRAFT, ModuleState.SUBMITTED),
        ("request_changes", ModuleState.SUBMITTED, ModuleState.CHANGES_REQUESTED)],
    ModuleState.APPROVED: [("start", ModuleState.NOT_STARTED, ModuleState.DRAFT),
                           ("submit", ModuleState.DRAFT, ModuleState.SUBMITTED),
                           ("approve", ModuleState.SUBMITTED, ModuleState.APPROVED)],
}


def _states(position: int) -> dict[str, ModuleState]:
    done = position % 6
    states = {}
    for index, key in enumerate(MODULE_KEYS):
        if index < done:
            states[key] = ModuleState.APPROVED
        elif index == done:
            states[key] = _OPEN_STATES[position % len(_OPEN_STATES)]
    return states


def build(units: int = 1000) -> BenchData:
    """Load the seed with its demo, then add ``units`` units with their work; commits."""
    load_seed(demo=True)
    db.session.commit()
    programme = db.session.scalar(select(Programme).filter_by(slug="laks"))
    municipalities = list(db.session.scalars(select(Municipality.id).order_by(Municipality.id)))
    facilitator = db.session.scalar(select(User).filter_by(email="facilitator1@demo.laks.dk"))
    versions = {key: current_version_id(key, programme.id) for key in MODULE_KEYS}
    answers = {key: cycle(found) for key, found in _demo_answers().items()}
    password_hash = generate_password_hash(PASSWORD)
    start = datetime(2026, 1, 5, 9, tzinfo=UTC)

    unit_ids = _insert(Unit, [
        {"programme_id": programme.id, "municipality_id": municipalities[i % len(municipalities)],
         "name": f"Benchenhed {i:04d}", "places": [f"Sted {i}"]}
        for i in range(units)], returning=Unit.id)
    staff_ids = _insert(User, [
        {"email": f"bench{i:04d}@example.org", "name": f"Medarbejder {i:04d}",
         "role": Role.STAFF, "password_hash": password_hash}
        for i in range(units)], returning=User.id)
    memberships = [{"user_id": s, "unit_id": u, "is_tovholder": True}
                   for s, u in zip(staff_ids, unit_ids, strict=True)]
    memberships += [{"user_id": facilitator.id, "unit_id": u, "is_tovholder": False}
                    for u in unit_ids]
    memberships.append({"user_id": staff_ids[0], "unit_id": unit_ids[1], "is_tovholder": False})
    _insert(Membership, memberships)

    # Units 0 and 1 are the history pair: udfordring and praecisering approved, the action
    # plan with changes requested.
    pair = (0, 1)
    module_rows, plan = [], []
    for i, (unit_id, staff_id) in enumerate(zip(unit_ids, staff_ids, strict=True)):
        states = _states(i)
        if i in pair:
            states = {"udfordring": ModuleState.APPROVED, "praecisering": ModuleState.APPROVED,
                      "handleplan": ModuleState.CHANGES_REQUESTED}
        for key, state in states.items():
            at = start + timedelta(days=MODULE_KEYS.index(key) * 20, minutes=i)
            values = next(answers[key])
            module_rows.append({
                "unit_id": unit_id, "module_key": key, "state": state, "version": 4,
                "answers": values, "updated_at": at, "updated_by_id": staff_id,
                "submitted_at": at if state != ModuleState.DRAFT else None,
                "approved_at": at if state == ModuleState.APPROVED else None})
            plan.append((i, key, state, staff_id, at, values))
    module_ids = _insert(UnitModule, module_rows, returning=UnitModule.id)

    revisions, changes, comments = [], [], []
    for module_id, (i, key, state, staff_id, at, values) in zip(module_ids, plan, strict=True):
        large = i == 1 and key == "handleplan"
        count = 500 if large else 5 if (i == 0 and key == "handleplan") else 3
        for number in range(1, count + 1):
            revisions.append({
                "unit_module_id": module_id, "number": number,
                "kind": "autosave" if number % 4 == 0 else "save", "answers": values,
                "author_id": staff_id, "created_at": at - timedelta(minutes=count - number),
                "definition_version_id": versions[key]})
        steps = list(_STEPS[state])
        if large:  # thirty rounds of submitting and being asked for changes
            steps = steps[:1]
            for n in range(30):
                steps += [("submit", ModuleState.CHANGES_REQUESTED if n else ModuleState.DRAFT,
                           ModuleState.SUBMITTED),
                          ("request_changes", ModuleState.SUBMITTED,
                           ModuleState.CHANGES_REQUESTED)]
        for n, (action, old, new) in enumerate(steps):
            facilitates = action in ("approve", "request_changes")
            changes.append({
                "unit_module_id": module_id, "action": action, "from_state": old,
                "to_state": new, "actor_id": facilitator.id if facilitates else staff_id,
                "comment": COMMENTS[n % len(COMMENTS)] if facilitates else "",
                "at": at - timedelta(minutes=len(steps) - n),
                "revision_number": min(count, 1 + n * count // len(steps))})
        talk = 200 if large else 5 if (i == 0 and key == "handleplan") else 2
        for n in range(talk):
            comments.append({
                "unit_module_id": module_id, "body": COMMENTS[(i + n) % len(COMMENTS)],
                "author_id": facilitator.id if n % 2 else staff_id,
                "created_at": at - timedelta(minutes=talk - n)})
    _insert(ModuleRevision, revisions)
    _insert(StateChange, changes)
    _insert(ModuleComment, comments)
    db.session.commit()
    return BenchData(
        facilitator_units=db.session.query(Membership).filter_by(
            user_id=facilitator.id).count(),
        programme_units=db.session.query(Unit).filter_by(programme_id=programme.id).count(),
        units=db.session.query(Unit).count(), unit_id=unit_ids[2], small_unit_id=unit_ids[0],
        large_unit_id=unit_ids[1], programme_id=programme.id,
        staff_email="bench0000@example.org", facilitator_email=facilitator.email,
        admin_email="admin@demo.laks.dk", observer_email="styregruppe@demo.laks.dk")
