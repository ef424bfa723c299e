"""The closed vocabularies of laks. Stored as strings with CHECK constraints in the database."""

from __future__ import annotations

import enum

from flask_babel import lazy_gettext as _l


class Role(enum.StrEnum):
    """What a person is in the network. Unit membership narrows staff and facilitators."""

    STAFF = "staff"
    FACILITATOR = "facilitator"
    ADMIN = "admin"
    OBSERVER = "observer"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.STAFF: _l("Unit staff"),
    Role.FACILITATOR: _l("Facilitator"),
    Role.ADMIN: _l("Network admin"),
    Role.OBSERVER: _l("Observer"),
}


class ObserverGroup(enum.StrEnum):
    """The two governance groups of a programme; both read and never write."""

    STEERING = "steering"
    FOLLOW = "follow"

    @property
    def label(self) -> str:
        return str(OBSERVER_GROUP_LABELS[self])


OBSERVER_GROUP_LABELS = {
    ObserverGroup.STEERING: _l("Steering group"),
    ObserverGroup.FOLLOW: _l("Follow group"),
}


# The five action-learning modules, in order. Their questions are data (seed_data/modules);
# the keys are stable identifiers that programmes hang due dates on.
MODULE_KEYS = ("udfordring", "praecisering", "handleplan", "afproevning", "refleksion")

MODULE_TITLES = {
    "udfordring": _l("Challenge"),
    "praecisering": _l("Specification"),
    "handleplan": _l("Action plan"),
    "afproevning": _l("Testing"),
    "refleksion": _l("Reflection and anchoring"),
}
