"""Telling people what waits for them: a line in their list of notifications in laks and a
mail, for each kind they have not turned off.

Facilitators hear when a module of one of their units is submitted; a unit's staff when
changes are requested, a module is approved or reopened; both when someone else comments;
the unit's staff get a reminder a week before a module is due and on the day it becomes
overdue (``send_reminders``, run by ``flask --app laks reminders send`` as often as wanted:
each reminder goes out once, by its mail's ``once_key``). Each text is written in the
recipient's language when it is made.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import force_locale, format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update

from laks.enums import ModuleState, ProgrammeStatus, Role
from laks.extensions import db
from laks.i18n import BABEL_LOCALES
from laks.models import Membership, Notification, Programme, Unit, UnitModule, User, utcnow
from laks.services.definitions import get_spec
from laks.services.mail import absolute_url, queue_mail

#: The kinds of notification, each with what the settings page calls it.
KINDS = {
    "module_submitted": _l("A module of one of my units is submitted"),
    "module_changes_requested": _l("Changes are requested in one of our modules"),
    "module_approved": _l("One of our modules is approved"),
    "module_reopened": _l("One of our modules is reopened"),
    "module_comment": _l("Someone comments on a module I work with"),
    "reminder_due": _l("Reminder a week before a module is due"),
    "reminder_overdue": _l("Reminder when a module is overdue"),
}
#: Who may choose each kind (the others never get it, so the settings page hides it).
FOR_ROLES = {
    "module_submitted": {Role.FACILITATOR, Role.ADMIN},
    "module_comment": {Role.STAFF, Role.FACILITATOR},
}
REMINDER_DAYS = 7
RECENT = 50


def kinds_for(user: User) -> list[str]:
    """The kinds ``user`` can get (and so can turn off)."""
    return [k for k in KINDS if user.role in FOR_ROLES.get(k, {Role.STAFF})]


def wants(user: User, kind: str) -> bool:
    return user.active and kind not in (user.notifications_off or [])


def notify(users, kind: str, text, endpoint: str, *, once_key: str | None = None,
           **values) -> int:
    """Tell each of ``users`` (who wants ``kind``): a notification and a mail. ``text`` is
    a lazy string (or a function giving one) rendered in each recipient's language;
    ``endpoint``/``values`` the page it is about. Returns how many were told."""
    told = 0
    path = current_app.url_map.bind("laks").build(endpoint, values)
    link, settings = absolute_url(endpoint, **values), absolute_url("notifications.settings")
    seen = set()
    for user in users:
        if user.id in seen or not wants(user, kind):
            continue
        seen.add(user.id)
        with force_locale(BABEL_LOCALES.get(user.language or "da", "da")):
            line = str(text() if callable(text) else text)
        key = f"{once_key}:{user.id}" if once_key else None
        if key is not None and _already_told(key):
            continue
        db.session.add(Notification(user=user, kind=kind, text=line[:300], url=path[:300],
                                    created_at=utcnow()))
        queue_mail(user, kind, "notification", once_key=key, line=line, link=link,
                   settings_url=settings)
        told += 1
    db.session.flush()
    return told


def _already_told(once_key: str) -> bool:
    from laks.models import MailMessage

    return db.session.scalar(select(MailMessage.id).where(MailMessage.once_key == once_key)) \
        is not None


def _people(unit: Unit, roles: set[Role]) -> list[User]:
    return list(db.session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.unit_id == unit.id, User.role.in_(roles), User.active.is_(True))
        .order_by(User.id)))


def staff_of(unit: Unit) -> list[User]:
    return _people(unit, {Role.STAFF})


def facilitators_of(unit: Unit) -> list[User]:
    return _people(unit, {Role.FACILITATOR})


# --- what happened to a module --------------------------------------------------------------


def _module_values(unit_module: UnitModule) -> dict:
    return {"unit_id": unit_module.unit_id, "module_key": unit_module.module_key}


def _title(unit_module: UnitModule) -> str:
    spec = get_spec(unit_module.module_key, unit_module.unit.programme_id)
    return f"{spec.position}. {spec.title}"


def module_submitted(unit_module: UnitModule, actor: User) -> int:
    return notify(
        facilitators_of(unit_module.unit), "module_submitted",
        _l("%(unit)s has submitted module %(module)s for your review.",
           unit=unit_module.unit.title, module=_title(unit_module)),
        "modules.show", **_module_values(unit_module))


def module_reviewed(unit_module: UnitModule, action: str, actor: User) -> int:
    """After "approve", "request_changes" or "reopen"."""
    kind, text = {
        "approve": ("module_approved", _l("Module %(module)s of %(unit)s is approved.",
                                          module=_title(unit_module),
                                          unit=unit_module.unit.title)),
        "request_changes": ("module_changes_requested", _l(
            "Your facilitator asks for changes in module %(module)s of %(unit)s.",
            module=_title(unit_module), unit=unit_module.unit.title)),
        "reopen": ("module_reopened", _l("Module %(module)s of %(unit)s is open for editing "
                                         "again.", module=_title(unit_module),
                                         unit=unit_module.unit.title)),
    }[action]
    return notify([u for u in staff_of(unit_module.unit) if u.id != actor.id], kind, text,
                  "modules.show", **_module_values(unit_module))


def module_commented(unit_module: UnitModule, actor: User) -> int:
    people = [*staff_of(unit_module.unit), *facilitators_of(unit_module.unit)]
    return notify(
        [u for u in people if u.id != actor.id], "module_comment",
        _l("%(name)s has written a comment on module %(module)s of %(unit)s.",
           name=actor.name, module=_title(unit_module), unit=unit_module.unit.title),
        "modules.show", **_module_values(unit_module))


# --- reminders ---------------------------------------------------------------------------------


def send_reminders(today: date) -> int:
    """Queue the reminders due on ``today``: to each open unit of a running programme, for
    each module not yet submitted or approved, one a week before its due date (from then
    until the date) and one once it is overdue. Each goes out once, however often this runs.
    A closed unit gets none."""
    told = 0
    programmes = db.session.scalars(select(Programme).where(
        Programme.status == ProgrammeStatus.RUNNING)).all()
    for programme in programmes:
        for unit in programme.units:
            if unit.is_closed:
                continue
            states = dict(db.session.execute(select(UnitModule.module_key, UnitModule.state)
                                             .where(UnitModule.unit_id == unit.id)).all())
            for due in programme.module_dues:
                if states.get(due.module_key) in (ModuleState.SUBMITTED, ModuleState.APPROVED):
                    continue
                told += _remind(unit, due.module_key, due.due_on, today)
    return told


def _remind(unit: Unit, module_key: str, due_on: date, today: date) -> int:
    spec = get_spec(module_key, unit.programme_id)
    values = {"unit_id": unit.id, "module_key": module_key}

    def words(message: str):
        return lambda: _(message, module=f"{spec.position}. {spec.title}", unit=unit.title,
                         date=format_date(due_on, "long"))

    if today > due_on:
        return notify(staff_of(unit), "reminder_overdue", words(
            "Module %(module)s of %(unit)s was due on %(date)s and is not submitted yet."),
            "modules.show", once_key=f"overdue:{unit.id}:{module_key}:{due_on}", **values)
    if today >= due_on - timedelta(days=REMINDER_DAYS):
        return notify(staff_of(unit), "reminder_due", words(
            "Module %(module)s of %(unit)s is due on %(date)s."),
            "modules.show", once_key=f"due:{unit.id}:{module_key}:{due_on}", **values)
    return 0


# --- the list in laks ----------------------------------------------------------------------


def recent(user: User) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                   .order_by(Notification.created_at.desc(),
                                             Notification.id.desc()).limit(RECENT)))


#: On every page: built once.
_UNREAD = select(func.count(Notification.id)).where(
    Notification.user_id == bindparam("user"), Notification.read_at.is_(None))


def unread_count(user: User) -> int:
    return db.session.scalar(_UNREAD, {"user": user.id}) or 0


def mark_read(user: User, notification_id: int | None = None) -> None:
    """Mark one of ``user``'s notifications read, or all of them."""
    query = update(Notification).where(Notification.user_id == user.id,
                                       Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    db.session.execute(query.values(read_at=utcnow()))


def set_preferences(user: User, wanted: set[str]) -> None:
    """Turn the kinds ``user`` can get on (in ``wanted``) or off."""
    user.notifications_off = sorted(k for k in kinds_for(user) if k not in wanted)
    db.session.flush()
