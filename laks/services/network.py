"""Running the network from the browser: programmes with their due dates, units, who works
in which unit (and which staff member is its tovholder), people created, deactivated and
reactivated, and each person's own profile.

Every function here is for the network admin (the profile functions: for the person
themselves); the views check that with ``laks.access`` before calling. Each checks what it
is given, raises :class:`NetworkError` with a Danish-first message per form field when
something is wrong (nothing is changed then), writes its audit event and flushes – the view
commits once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from laks.audit import record
from laks.enums import MODULE_KEYS, MODULE_TITLES, ObserverGroup, ProgrammeStatus, Role
from laks.extensions import db
from laks.i18n import format_moment
from laks.models import Membership, ModuleDue, Municipality, Programme, Unit, User, utcnow
from laks.privacy import looks_like_cpr
from laks.services import accounts
from laks.services.definitions import start_programme
from laks.services.seed import slugify

#: A programme's slug: what its public page's address ends in (/forloeb/<slug>).
SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
SLUG_MAX = 40
NAME_MAX = 200
PLACE_MAX = 200
PLACES_MAX = 30
PERSON_NAME_MAX = 120
#: How long the comment given when a unit is closed may be.
COMMENT_MAX = 500
#: The languages a person can choose for the interface and their mails.
LANGUAGES = ("da", "en")


class NetworkError(ValueError):
    """What is wrong, per form field: ``errors`` maps a field's name to its messages."""

    def __init__(self, errors: Mapping[str, list]):
        self.errors = {field: list(messages) for field, messages in errors.items() if messages}
        super().__init__("; ".join(str(m) for ms in self.errors.values() for m in ms))


class _Problems(dict):
    def add(self, field: str, message) -> None:
        self.setdefault(field, []).append(message)

    def raise_any(self) -> None:
        if self:
            raise NetworkError(self)


def due_field(module_key: str) -> str:
    """The form field of a module's due date."""
    return f"due_{module_key}"


# --- programmes -------------------------------------------------------------------------------


def _check_programme(programme: Programme | None, *, name: str, slug: str, starts_on, ends_on,
                     dues: Mapping[str, date | None]) -> tuple[str, str]:
    """The name and slug to store; raises NetworkError naming every field that is wrong."""
    problems = _Problems()
    name = (name or "").strip()
    slug = (slug or "").strip().lower() or slugify(name)
    if not name:
        problems.add("name", _l("Give the programme a name."))
    elif len(name) > NAME_MAX:
        problems.add("name", _l("At most %(max)d characters.", max=NAME_MAX))
    else:
        clash = db.session.scalar(select(Programme).where(
            func.lower(Programme.name) == name.lower(),
            Programme.id != (programme.id if programme is not None else -1)))
        if clash is not None:
            problems.add("name", _l("Another programme is already called “%(name)s”. Choose "
                                    "another name.", name=clash.name))
    if name and not slug:
        problems.add("slug", _l("Write a short name for the programme's web address: "
                                "letters a–z, digits and dashes."))
    elif slug and (len(slug) > SLUG_MAX or not SLUG.fullmatch(slug)):
        problems.add("slug", _l("Use lower-case letters a–z, digits and single dashes, at "
                                "most %(max)d characters, e.g. lighed-2027.", max=SLUG_MAX))
    elif slug:
        clash = db.session.scalar(select(Programme).where(
            Programme.slug == slug,
            Programme.id != (programme.id if programme is not None else -1)))
        if clash is not None:
            problems.add("slug", _l("The programme “%(name)s” already has the web address "
                                    "name “%(slug)s”. Write another.", name=clash.name,
                                    slug=slug))
    if starts_on is None:
        problems.add("starts_on", _l("Give the date the programme starts."))
    if ends_on is None:
        problems.add("ends_on", _l("Give the date the programme ends."))
    period = starts_on is not None and ends_on is not None
    if period and ends_on < starts_on:
        problems.add("ends_on", _l("The programme cannot end before it starts (%(date)s).",
                                   date=_long(starts_on)))
        period = False
    previous: tuple[str, date] | None = None
    for position, key in enumerate(MODULE_KEYS, start=1):
        due = dues.get(key)
        field = due_field(key)
        if due is None:
            problems.add(field, _l("Give the date module %(num)d is due.", num=position))
            continue
        if period and not starts_on <= due <= ends_on:
            problems.add(field, _l(
                "The date is outside the programme's period, %(start)s – %(end)s.",
                start=_long(starts_on), end=_long(ends_on)))
        elif previous is not None and due < previous[1]:
            problems.add(field, _l(
                "Module %(num)d cannot be due before module %(prev)d (%(title)s, due "
                "%(date)s): the modules follow each other.", num=position, prev=position - 1,
                title=MODULE_TITLES[previous[0]], date=_long(previous[1])))
        previous = (key, due)
    problems.raise_any()
    return name, slug


def _long(day: date) -> str:
    from flask_babel import format_date

    return format_date(day, "long")


def create_programme(*, actor: User, name: str, slug: str = "", description: str = "",
                     starts_on: date | None, ends_on: date | None,
                     dues: Mapping[str, date | None],
                     status: ProgrammeStatus = ProgrammeStatus.RUNNING) -> Programme:
    """Create a programme with its period and the five modules' due dates (network admin).

    The programme starts with its own copy of the network's module questions. The slug is
    made from the name when none is given. Raises NetworkError for a missing or
    duplicate name or slug, an end before the start, or due dates missing, out of order or
    outside the period.
    """
    name, slug = _check_programme(None, name=name, slug=slug, starts_on=starts_on,
                                  ends_on=ends_on, dues=dues)
    programme = Programme(name=name, slug=slug, description=(description or "").strip(),
                          starts_on=starts_on, ends_on=ends_on, status=ProgrammeStatus(status))
    programme.module_dues = [ModuleDue(module_key=key, position=i, due_on=dues[key])
                             for i, key in enumerate(MODULE_KEYS, start=1)]
    db.session.add(programme)
    db.session.flush()
    start_programme(programme)  # its own copy of the network's current questions
    record(actor, "programme.create", programme, slug=slug, status=programme.status.value)
    return programme


def update_programme(programme: Programme, *, actor: User, name: str, slug: str = "",
                     description: str = "", starts_on: date | None, ends_on: date | None,
                     dues: Mapping[str, date | None], status: ProgrammeStatus) -> Programme:
    """Change a programme's name, web address name, description, period, due dates and
    status (network admin). Checked like :func:`create_programme`; the audit event names
    what changed."""
    name, slug = _check_programme(programme, name=name, slug=slug, starts_on=starts_on,
                                  ends_on=ends_on, dues=dues)
    status = ProgrammeStatus(status)
    changed = [field for field, old, new in (
        ("name", programme.name, name), ("slug", programme.slug, slug),
        ("description", programme.description, (description or "").strip()),
        ("starts_on", programme.starts_on, starts_on), ("ends_on", programme.ends_on, ends_on),
        ("status", programme.status, status)) if old != new]
    programme.name, programme.slug = name, slug
    programme.description = (description or "").strip()
    programme.starts_on, programme.ends_on, programme.status = starts_on, ends_on, status
    existing = {due.module_key: due for due in programme.module_dues}
    for position, key in enumerate(MODULE_KEYS, start=1):
        due = existing.get(key)
        if due is None:
            programme.module_dues.append(
                ModuleDue(module_key=key, position=position, due_on=dues[key]))
            changed.append(due_field(key))
        elif due.due_on != dues[key]:
            due.due_on = dues[key]
            changed.append(due_field(key))
    db.session.flush()
    record(actor, "programme.update", programme, status=status.value, changed=changed)
    return programme


def programmes() -> list[Programme]:
    """Every programme with its due dates and units, running ones first, newest first."""
    found = db.session.scalars(select(Programme).options(
        selectinload(Programme.module_dues),
        selectinload(Programme.units).selectinload(Unit.municipality)))
    return sorted(found, key=lambda p: (not p.is_running, -p.starts_on.toordinal(), p.name))


# --- units ------------------------------------------------------------------------------------


def municipalities() -> list[Municipality]:
    """The official list of municipalities that units are chosen from, by name."""
    return list(db.session.scalars(select(Municipality).order_by(Municipality.name)))


def clean_places(places) -> list[str]:
    """Places as typed, one per line or as a list: stripped, empty ones and repeats left out."""
    if isinstance(places, str):
        places = places.splitlines()
    return list(dict.fromkeys(p.strip() for p in places or () if p and p.strip()))


def _check_unit(unit: Unit | None, *, programme: Programme | None,
                municipality: Municipality | None, name: str, places: list[str]) -> str:
    problems = _Problems()
    name = (name or "").strip()
    if programme is None:
        problems.add("programme", _l("Choose the programme the unit works in."))
    if municipality is None:
        problems.add("municipality", _l("Choose the unit's municipality from the list."))
    if not name:
        problems.add("name", _l("Give the unit a name."))
    elif len(name) > NAME_MAX:
        problems.add("name", _l("At most %(max)d characters.", max=NAME_MAX))
    elif programme is not None and municipality is not None:
        clash = db.session.scalar(select(Unit).where(
            Unit.programme_id == programme.id, Unit.municipality_id == municipality.id,
            func.lower(Unit.name) == name.lower(),
            Unit.id != (unit.id if unit is not None else -1)))
        if clash is not None:
            problems.add("name", _l("%(programme)s already has a unit called “%(name)s” in "
                                    "%(municipality)s.", programme=programme.name,
                                    name=clash.name, municipality=municipality.name))
    if len(places) > PLACES_MAX:
        problems.add("places", _l("At most %(max)d places.", max=PLACES_MAX))
    long_places = [p for p in places if len(p) > PLACE_MAX]
    if long_places:
        problems.add("places", _l("A place's name has at most %(max)d characters.",
                                  max=PLACE_MAX))
    problems.raise_any()
    return name


def create_unit(*, actor: User, programme: Programme | None,
                municipality: Municipality | None, name: str, places=(),
                target_group: str = "") -> Unit:
    """Create a unit of a programme (network admin). Without places, the unit's name is its
    one place. Raises NetworkError for a missing municipality or name, or a unit of the same
    name in the same municipality and programme."""
    places = clean_places(places)
    name = _check_unit(None, programme=programme, municipality=municipality, name=name,
                       places=places)
    unit = Unit(programme=programme, municipality=municipality, name=name,
                places=places or [name], target_group=(target_group or "").strip())
    db.session.add(unit)
    db.session.flush()
    record(actor, "unit.create", unit, name=unit.name, programme_id=programme.id)
    return unit


def update_unit(unit: Unit, *, actor: User, municipality: Municipality | None, name: str,
                places=(), target_group: str = "") -> Unit:
    """Change a unit's municipality, name, places and target group (network admin); checked
    like :func:`create_unit`."""
    places = clean_places(places)
    name = _check_unit(unit, programme=unit.programme, municipality=municipality, name=name,
                       places=places)
    new = {"municipality": municipality.id, "name": name, "places": places or [name],
           "target_group": (target_group or "").strip()}
    old = {"municipality": unit.municipality_id, "name": unit.name, "places": unit.places,
           "target_group": unit.target_group}
    unit.municipality, unit.name = municipality, name
    unit.places, unit.target_group = new["places"], new["target_group"]
    db.session.flush()
    record(actor, "unit.update", unit, name=name,
           changed=[key for key in new if new[key] != old[key]])
    return unit


def move_unit(unit: Unit, *, actor: User, programme: Programme | None) -> Unit:
    """Move a unit, with its modules and people, to another programme (network admin): from
    now on the other programme's due dates apply to it. Raises NetworkError when no other
    programme is chosen or that programme already has a unit of the same name in the same
    municipality."""
    problems = _Problems()
    if programme is None:
        problems.add("programme", _l("Choose the programme to move the unit to."))
    elif programme.id == unit.programme_id:
        problems.add("programme", _l("The unit is already in %(name)s. Choose another "
                                     "programme.", name=programme.name))
    problems.raise_any()
    try:
        _check_unit(unit, programme=programme, municipality=unit.municipality, name=unit.name,
                    places=[])
    except NetworkError as exc:
        raise NetworkError({"programme": exc.errors["name"]}) from None
    source = unit.programme
    unit.programme = programme
    db.session.flush()
    record(actor, "unit.move", unit, name=unit.name, **{"from": source.name,
                                                        "to": programme.name})
    return unit


def close_unit(unit: Unit, *, actor: User, comment: str = "") -> Unit:
    """Close a unit that has stopped its work (network admin). From then on its modules,
    test log and consent are read-only for its staff (``unit_open`` in laks.access), none
    of its modules is overdue and it gets no reminders; everyone who saw it still reads
    everything. ``comment`` (why, optional) goes into the audit log. Raises NetworkError
    when the unit is already closed, or the comment is too long or looks like a CPR number.
    """
    problems = _Problems()
    if unit.is_closed:
        problems.add("unit", _l("The unit was already closed on %(date)s.",
                                date=format_moment(unit.closed_at)))
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        problems.add("comment", _l("At most %(max)d characters.", max=COMMENT_MAX))
    elif looks_like_cpr(comment):
        problems.add("comment", _l("The text looks like it contains a CPR number. laks "
                                   "holds no personal data about citizens."))
    problems.raise_any()
    unit.closed_at = utcnow()
    db.session.flush()
    record(actor, "unit.close", unit, name=unit.name, reason=comment)
    return unit


def reopen_unit(unit: Unit, *, actor: User) -> Unit:
    """Reopen a closed unit (network admin): its staff edit again where the workflow allows
    it, and its due dates and reminders apply again. Raises NetworkError when the unit is
    open."""
    if not unit.is_closed:
        raise NetworkError({"unit": [_l("The unit is open already: there is nothing to "
                                        "reopen.")]})
    closed_at = unit.closed_at
    unit.closed_at = None
    db.session.flush()
    record(actor, "unit.reopen", unit, name=unit.name, closed_at=closed_at.isoformat())
    return unit


# --- who works in a unit ----------------------------------------------------------------------


def _tovholder_of(unit: Unit) -> Membership | None:
    return db.session.scalar(select(Membership).where(Membership.unit_id == unit.id,
                                                      Membership.is_tovholder))


def add_member(unit: Unit, user: User | None, *, actor: User,
               tovholder: bool = False) -> Membership:
    """Attach a staff member or a facilitator to a unit (network admin), a staff member
    possibly as its tovholder. Raises NetworkError for someone else (an admin, an
    observer), someone already in the unit, a facilitator as tovholder, or a second
    tovholder."""
    problems = _Problems()
    if user is None:
        problems.add("user", _l("Choose a person."))
    elif user.role not in (Role.STAFF, Role.FACILITATOR):
        problems.add("user", _l("%(name)s is %(role)s and works across the network, not in "
                                "a unit.", name=user.name, role=user.role.label.lower()))
    elif unit.id in user.unit_ids:
        problems.add("user", _l("%(name)s already works in the unit.", name=user.name))
    elif tovholder and user.role != Role.STAFF:
        problems.add("tovholder", _l("Only a staff member can be the unit's tovholder."))
    elif tovholder and (current := _tovholder_of(unit)) is not None:
        problems.add("tovholder", _l("%(name)s is already the unit's tovholder. A unit has "
                                     "one tovholder: change it under “Tovholder”.",
                                     name=current.user.name))
    problems.raise_any()
    membership = Membership(user=user, unit=unit, is_tovholder=bool(tovholder))
    db.session.add(membership)
    db.session.flush()
    record(actor, "unit.member_add", unit, user_id=user.id, email=user.email,
           role=user.role.value, tovholder=bool(tovholder))
    return membership


def set_tovholder(unit: Unit, user: User | None, *, actor: User) -> None:
    """Make a staff member of the unit its tovholder, or (``user`` None) leave the unit
    without one for now (network admin). The previous tovholder stays in the unit as staff.
    Raises NetworkError for someone who is not a staff member of the unit."""
    memberships = {m.user_id: m for m in unit.memberships}
    chosen = memberships.get(user.id) if user is not None else None
    if user is not None and (chosen is None or user.role != Role.STAFF):
        raise NetworkError({"tovholder": [_l("The tovholder must be a staff member of the "
                                             "unit.")]})
    previous = next((m for m in unit.memberships if m.is_tovholder), None)
    if previous is chosen:
        return
    if previous is not None:
        previous.is_tovholder = False
        db.session.flush()  # one tovholder per unit, also for a moment: the index checks it
    if chosen is not None:
        chosen.is_tovholder = True
        db.session.flush()
    record(actor, "unit.tovholder", unit, user_id=user.id if user is not None else None,
           email=user.email if user is not None else "",
           previous=previous.user_id if previous is not None else None)


def remove_member(membership: Membership, *, actor: User) -> None:
    """Detach a person from a unit (network admin). Their work in it stays: answers,
    revisions and comments belong to the unit."""
    unit, user = membership.unit, membership.user
    tovholder = membership.is_tovholder
    unit.memberships.remove(membership)
    db.session.flush()
    record(actor, "unit.member_remove", unit, user_id=user.id, email=user.email,
           tovholder=tovholder)


def candidates(unit: Unit) -> list[User]:
    """The staff members and facilitators who could be attached to ``unit``: active, not in
    it yet; by role and name."""
    return list(db.session.scalars(
        select(User).where(User.role.in_([Role.STAFF, Role.FACILITATOR]), User.active,
                           ~User.memberships.any(Membership.unit_id == unit.id))
        .order_by(User.role, User.name)))


# --- people -----------------------------------------------------------------------------------


def _check_email(email: str, problems: _Problems, *, field: str = "email") -> str | None:
    typed = (email or "").strip()
    if not typed:
        problems.add(field, _l("Write the person's e-mail address."))
        return None
    try:
        normal = accounts.normalise_email(typed)
    except accounts.AccountError:
        problems.add(field, _l("Write a real e-mail address, e.g. anna@kommune.dk."))
        return None
    existing = accounts.find_user(normal)
    if existing is not None:
        problems.add(field, _l("%(name)s already has the e-mail address %(email)s: an address "
                               "belongs to one person.", name=existing.name,
                               email=existing.email))
        return None
    return normal


def create_person(*, actor: User, name: str, email: str, role: Role | str | None,
                  unit: Unit | None = None, tovholder: bool = False,
                  observer_group: ObserverGroup | str | None = None) -> User:
    """Create a person with a role (network admin): staff and facilitators with their first
    unit (a staff member possibly as its tovholder), observers possibly in the steering or
    follow group. They choose their password from an invitation.

    Raises NetworkError for a missing name, a missing, invalid or already used e-mail address
    (compared without regard to case), staff or a facilitator without a unit, a unit for a
    role that has none, a tovholder who is not staff, or a unit that has its tovholder.
    """
    problems = _Problems()
    name = (name or "").strip()
    if not name:
        problems.add("name", _l("Write the person's name."))
    elif len(name) > PERSON_NAME_MAX:
        problems.add("name", _l("At most %(max)d characters.", max=PERSON_NAME_MAX))
    normal = _check_email(email, problems)
    try:
        role = Role(role) if role else None
    except ValueError:
        role = None
    try:
        group = ObserverGroup(observer_group) if observer_group else None
    except ValueError:
        group = None
        problems.add("observer_group", _l("Choose one of the options shown."))
    if role is None:
        problems.add("role", _l("Choose the person's role."))
    elif role in (Role.STAFF, Role.FACILITATOR) and unit is None:
        problems.add("unit", _l("Staff and facilitators work in a unit: choose it."))
    elif role in (Role.ADMIN, Role.OBSERVER) and unit is not None:
        problems.add("unit", _l("%(role)s works across the network, without a unit: leave "
                                "the unit empty.", role=role.label))
    if role is not None and tovholder:
        if role != Role.STAFF:
            problems.add("tovholder", _l("Only a staff member can be the unit's tovholder."))
        elif unit is not None and (current := _tovholder_of(unit)) is not None:
            problems.add("tovholder", _l("%(name)s is already the tovholder of %(unit)s. A unit "
                                         "has one tovholder.", name=current.user.name,
                                         unit=unit.title))
    if group is not None and role not in (None, Role.OBSERVER):
        problems.add("observer_group", _l("Only observers belong to the steering or the "
                                          "follow group."))
    problems.raise_any()
    return accounts.create_user(actor=actor, email=normal, name=name, role=role,
                                units=[unit] if unit is not None else [],
                                tovholder=bool(tovholder), observer_group=group)


def set_person_active(user: User, *, actor: User, active: bool) -> None:
    """Deactivate a person – every session they have ends, their work stays – or let them
    log in again (network admin). Raises NetworkError for an admin deactivating themselves,
    which would leave nobody to undo it."""
    if not active and actor is not None and user.id == actor.id:
        raise NetworkError({"user": [_l("You cannot deactivate yourself. Another network "
                                        "admin can.")]})
    if user.active == active:
        return
    accounts.set_active(actor=actor, user=user, active=active)
    db.session.flush()


def people(*, role: Role | None = None, unit_id: int | None = None,
           programme_id: int | None = None, active: bool | None = None,
           text: str = "") -> list[User]:
    """Everyone who matches every filter given, with their units, by role and name: a role,
    a unit, a programme (people in any of its units), active or deactivated, and a text
    found in the name or the e-mail address (without regard to case)."""
    query = select(User).options(
        selectinload(User.memberships).selectinload(Membership.unit)
        .selectinload(Unit.municipality))
    if role is not None:
        query = query.where(User.role == role)
    if unit_id is not None:
        query = query.where(User.memberships.any(Membership.unit_id == unit_id))
    if programme_id is not None:
        query = query.where(User.memberships.any(Membership.unit.has(
            Unit.programme_id == programme_id)))
    if active is not None:
        query = query.where(User.active == active)
    text = (text or "").strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(func.lower(User.name).like(pattern, escape="\\"),
                                func.lower(User.email).like(pattern, escape="\\")))
    return list(db.session.scalars(query.order_by(User.role, User.name, User.id)))


# --- one's own profile ------------------------------------------------------------------------


def update_profile(user: User, *, name: str, language: str) -> None:
    """A person changes their own name and language (Danish or English: the interface's
    and their mails'). Raises NetworkError for a missing name or an unknown language."""
    problems = _Problems()
    name = (name or "").strip()
    if not name:
        problems.add("name", _l("Write your name."))
    elif len(name) > PERSON_NAME_MAX:
        problems.add("name", _l("At most %(max)d characters.", max=PERSON_NAME_MAX))
    if language not in LANGUAGES:
        problems.add("language", _l("Choose one of the options shown."))
    problems.raise_any()
    changed = [key for key, old, new in (("name", user.name, name),
                                         ("language", user.language, language)) if old != new]
    if not changed:
        return
    user.name, user.language = name, language
    db.session.flush()
    record(user, "user.update_profile", user, language=language, changed=changed)


def change_password(user: User, *, current: str, new: str) -> None:
    """A person changes their own password, giving the current one first. Every session
    they have ends (the view starts this one again). Raises NetworkError for a wrong current
    password, or a new one that is too short or common."""
    if not user.check_password(current or ""):
        raise NetworkError({"current_password": [
            _l("The current password is wrong. Nothing was changed.")]})
    try:
        accounts.check_password_strength(new or "")
    except accounts.AccountError:
        raise NetworkError({"password": [_l(
            "Choose a password of at least %(num)d characters that is not one of the "
            "common ones.", num=accounts.MIN_PASSWORD_LENGTH)]}) from None
    accounts.set_password(actor=user, user=user, password=new)
    db.session.flush()
