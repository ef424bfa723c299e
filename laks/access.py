"""THE access policy of laks: one table of rules, and `can`/`require` to consult it.

Every endpoint declares the action it needs with :func:`laks.views.guard`; nothing else in
laks decides who may do what. Rules are small predicates over ``(user, obj)`` combined with
``|`` and ``&``. Admin rights are rows in the table, not a hidden bypass, and an action that
is not in the table is a programming error, never silently allowed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import Forbidden, Unauthorized

from laks.enums import Role
from laks.models import Unit


class Rule:
    """A named predicate ``(user, obj) -> bool`` that composes with ``|`` and ``&``.

    A rule may carry a ``refusal``: words for the person it refuses, shown on the 403 page
    when this rule is what stops them (see :func:`reason`).
    """

    def __init__(self, fn: Callable[[Any, Any], bool], name: str | None = None,
                 refusal=None, why: Callable[[Any, Any], Any] | None = None):
        self.fn = fn
        self.name = name or fn.__name__
        self.refusal = refusal
        self._why = why or (lambda user, obj: self.refusal)

    def __call__(self, user, obj=None) -> bool:
        return bool(self.fn(user, obj))

    def why_not(self, user, obj=None):
        """The refusal of the first part of this rule that refuses ``user`` (in the order
        the parts are combined with ``&``), or None when that part says nothing."""
        return None if self(user, obj) else self._why(user, obj)

    def __or__(self, other: Rule) -> Rule:
        return Rule(lambda u, o: self(u, o) or other(u, o), f"({self.name} | {other.name})",
                    why=lambda u, o: self.why_not(u, o) or other.why_not(u, o))

    def __and__(self, other: Rule) -> Rule:
        return Rule(lambda u, o: self(u, o) and other(u, o), f"({self.name} & {other.name})",
                    why=lambda u, o: self.why_not(u, o) if not self(u, o)
                    else other.why_not(u, o))

    def __repr__(self) -> str:
        return f"<Rule {self.name}>"


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _unit_of(obj) -> Unit | None:
    """The unit an object belongs to: the unit itself, or whatever carries a ``unit``."""
    if isinstance(obj, Unit):
        return obj
    return getattr(obj, "unit", None)


anyone = Rule(lambda user, obj: True, "anyone")
signed_in = Rule(lambda user, obj: _signed_in(user), "signed_in")


def _has_role(role: Role) -> Rule:
    return Rule(lambda user, obj: _signed_in(user) and user.role == role, f"is_{role.value}")


is_admin = _has_role(Role.ADMIN)
is_observer = _has_role(Role.OBSERVER)
is_facilitator = _has_role(Role.FACILITATOR)

#: The roles that must sign in with a second factor (laks.services.twofactor); for the
#: others it is their own choice.
TWO_FACTOR_ROLES = frozenset({Role.ADMIN, Role.FACILITATOR})
two_factor_optional = Rule(
    lambda user, obj: _signed_in(user) and user.role not in TWO_FACTOR_ROLES,
    "two_factor_optional",
)


def _member_as(role: Role) -> Rule:
    def check(user, obj) -> bool:
        unit = _unit_of(obj)
        return (
            _signed_in(user) and user.role == role and unit is not None
            and unit.id in user.unit_ids
        )

    return Rule(check, f"{role.value}_of_unit")


is_staff_of_unit = _member_as(Role.STAFF)
facilitates_unit = _member_as(Role.FACILITATOR)
is_tovholder_of_unit = Rule(
    lambda user, obj: is_staff_of_unit(user, obj) and user.is_tovholder_of(_unit_of(obj).id),
    "tovholder_of_unit",
)

# A module's answers can be edited only in the states where the workflow allows it.
module_editable = Rule(
    lambda user, obj: getattr(getattr(obj, "state", None), "editable", False), "module_editable"
)
#: A closed unit has stopped its work: what it wrote can be read, not changed, until the
#: network admin reopens it.
UNIT_CLOSED = _l("The unit is closed: its modules, test log and consent can be read but no "
                 "longer changed. If the unit is to work again, the network admin reopens it.")
unit_open = Rule(
    lambda user, obj: not getattr(_unit_of(obj), "is_closed", False), "unit_open",
    refusal=UNIT_CLOSED,
)
_sees_unit = is_admin | is_observer | is_staff_of_unit | facilitates_unit

#: action -> rule. Actions are named ``noun.verb``.
RULES: dict[str, Rule] = {
    # Pages anyone may see: the public front page, login, static files, statements.
    "public.view": anyone,
    # Pages about oneself.
    "home.view": signed_in,
    "account.logout": signed_in,
    # Two-factor sign-in: each person sets up their own; only those whose role does not
    # require it may turn it off; the network admin resets it for a lost phone.
    "account.two_factor": signed_in,
    "account.two_factor_off": two_factor_optional,
    "user.two_factor_reset": is_admin,
    # A unit and everything in it is visible to its own people, to the network admin, and
    # to observers (read-only: no write action below names observers).
    "unit.view": _sees_unit,
    # A unit's modules: everyone who sees the unit reads them; its staff write the answers
    # and submit; its facilitators (and the network admin) review; those who work with the
    # unit discuss.
    "module.view": _sees_unit,
    # Nothing of a closed unit changes: its staff only read (unit_open says why on the 403).
    "module.edit": is_staff_of_unit & unit_open & module_editable,
    # Posting answers at all (the state is checked by module.edit in the service, so a
    # stale form gets a clear message and keeps its text instead of a bare 403).
    "module.save": is_staff_of_unit & unit_open,
    "module.submit": is_staff_of_unit & unit_open,
    # Taking a submission back to draft before it is reviewed (the workflow table allows it
    # only from "submitted").
    "module.withdraw": is_staff_of_unit & unit_open,
    "module.review": facilitates_unit | is_admin,
    "module.comment": is_staff_of_unit | facilitates_unit | is_admin,
    # A unit's progress on the IHI scale: a facilitator of the unit and the network admin
    # score it; everyone who sees the unit reads the scores.
    "progress.view": _sees_unit,
    # A test log's measurements as a file, small counts and all: for those who work with
    # the unit. Observers read the test log with the small-number rule (counts 1–4 as "<5").
    "testlog.data": is_staff_of_unit | facilitates_unit | is_admin,
    "progress.set": facilitates_unit | is_admin,
    # The module definitions (questions) of the network.
    "definition.edit": is_admin,
    # Network-wide overviews.
    "programme.view": is_admin | is_observer,
    # Progress at a glance (the matrix, what needs someone, its export): a facilitator over
    # the units they facilitate, the network admin and observers over every unit.
    "overview.view": is_admin | is_observer | is_facilitator,
    # The totals for the steering group, per programme and municipality.
    "overview.totals": is_admin | is_observer,
    # The measures a programme asks every unit to report (fælles målinger).
    "programme.measures": is_admin,
    "user.list": is_admin,
    "audit.view": is_admin,
    # The inspiration catalogue: the unit's tovholder consents to publishing its case; the
    # network admin curates, publishes and withdraws editions.
    "catalogue.consent": is_tovholder_of_unit & unit_open,
    "catalogue.curate": is_admin,
    # Running the network from the browser: the network admin creates and edits
    # programmes and units, moves units, decides who works in which unit (and who is its
    # tovholder), creates people, invites, deactivates and reactivates them.
    "programme.create": is_admin,
    "programme.edit": is_admin,
    "unit.create": is_admin,
    "unit.edit": is_admin,
    "unit.move": is_admin,
    # Closing a unit that has stopped its work, and reopening it.
    "unit.close": is_admin,
    "unit.reopen": is_admin,
    "unit.members": is_admin,
    "user.create": is_admin,
    "user.invite": is_admin,
    "user.deactivate": is_admin,
    "user.activate": is_admin,
    # One's own profile: name, language and password.
    "account.profile": signed_in,
    # Each person's own notifications and the kinds they want.
    "account.notifications": signed_in,
    "account.password": signed_in,
    # The outbox: every mail laks queued or sent; a failed one can be sent again.
    "mail.view": is_admin,
    "mail.resend": is_admin,
}


def can(user, action: str, obj=None) -> bool:
    """Whether ``user`` (anonymous allowed) may perform ``action`` on ``obj``.

    Raises ``LookupError`` for an action that is not in :data:`RULES`: a typo must fail
    loudly rather than deny or allow by accident.
    """
    try:
        rule = RULES[action]
    except KeyError:
        raise LookupError(f"unknown access action {action!r}") from None
    return rule(user, obj)


class Refused(Forbidden):
    """A 403 that says why, in words for the person refused (``reason``)."""

    def __init__(self, reason):
        super().__init__()
        self.reason = reason


def require(user, action: str, obj=None) -> None:
    """Return quietly if allowed; otherwise raise 401 for anonymous visitors, 403 for others
    (:class:`Refused` when the rule says why – e.g. that the unit is closed)."""
    if can(user, action, obj):
        return
    if not _signed_in(user):
        raise Unauthorized()
    reason = RULES[action].why_not(user, obj)
    if reason is not None:
        raise Refused(reason)
    raise Forbidden()
