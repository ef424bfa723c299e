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


class ProgrammeStatus(enum.StrEnum):
    """A programme runs until the network closes it; nothing in a closed one is overdue."""

    RUNNING = "running"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(PROGRAMME_STATUS_LABELS[self])


PROGRAMME_STATUS_LABELS = {
    ProgrammeStatus.RUNNING: _l("Running"),
    ProgrammeStatus.CLOSED: _l("Closed"),
}


class EditionStatus(enum.StrEnum):
    """A catalogue edition is curated as a draft, then published (frozen for good); a
    published edition can be withdrawn from the public, never altered."""

    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        return str(EDITION_STATUS_LABELS[self])


EDITION_STATUS_LABELS = {
    EditionStatus.DRAFT: _l("Draft"),
    EditionStatus.PUBLISHED: _l("Published"),
    EditionStatus.WITHDRAWN: _l("Withdrawn"),
}


class CatalogueGrouping(enum.StrEnum):
    """How an edition groups its cases into parts."""

    THEME = "theme"
    MUNICIPALITY = "municipality"
    TARGET_GROUP = "target_group"
    CHALLENGE_TYPE = "challenge_type"

    @property
    def label(self) -> str:
        return str(CATALOGUE_GROUPING_LABELS[self])


CATALOGUE_GROUPING_LABELS = {
    CatalogueGrouping.THEME: _l("By theme"),
    CatalogueGrouping.MUNICIPALITY: _l("By municipality"),
    CatalogueGrouping.TARGET_GROUP: _l("By target group"),
    CatalogueGrouping.CHALLENGE_TYPE: _l("By type of challenge"),
}


class MailStatus(enum.StrEnum):
    """Where a mail is: waiting to be sent (or sent again after a failure), handed to the
    SMTP server or written to the outbox, or given up on after the last attempt."""

    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


class BuildStatus(enum.StrEnum):
    """Where an edition's PDF is: never built, waiting, being built, ready, or failed (the
    previous file, if any, stays in place)."""

    NONE = "none"
    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"


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


class ModuleState(enum.StrEnum):
    """Where a unit is with one module. Editable states follow from this, never a flag."""

    NOT_STARTED = "not_started"
    DRAFT = "draft"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    APPROVED = "approved"

    @property
    def label(self) -> str:
        return str(MODULE_STATE_LABELS[self])

    @property
    def editable(self) -> bool:
        return self in EDITABLE_STATES


EDITABLE_STATES = frozenset(
    {ModuleState.NOT_STARTED, ModuleState.DRAFT, ModuleState.CHANGES_REQUESTED}
)

MODULE_STATE_LABELS = {
    ModuleState.NOT_STARTED: _l("Not started"),
    ModuleState.DRAFT: _l("Draft"),
    ModuleState.SUBMITTED: _l("Submitted"),
    ModuleState.CHANGES_REQUESTED: _l("Changes requested"),
    ModuleState.APPROVED: _l("Approved"),
}


class QuestionKind(enum.StrEnum):
    MARKDOWN = "markdown"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    CHOICE = "choice"
    MULTI = "multi"
    ROWS = "rows"


QUESTION_KIND_LABELS = {
    QuestionKind.MARKDOWN: _l("Longer text (markdown)"),
    QuestionKind.TEXT: _l("Short text"),
    QuestionKind.NUMBER: _l("Number"),
    QuestionKind.DATE: _l("Date"),
    QuestionKind.CHOICE: _l("One choice"),
    QuestionKind.MULTI: _l("Several choices"),
    QuestionKind.ROWS: _l("Repeating rows"),
}

#: Kinds a column of a repeating-rows question may have.
COLUMN_KINDS = frozenset({QuestionKind.TEXT, QuestionKind.NUMBER, QuestionKind.DATE,
                          QuestionKind.CHOICE})

#: Default maximum lengths per kind, when a question does not state its own.
DEFAULT_MAX_LENGTH = {QuestionKind.MARKDOWN: 10_000, QuestionKind.TEXT: 300}


#: Every action the audit log records, in words for the admin who reads it (*Revisionslog*).
#: Module workflow actions are ``module.<transition>``; the seed creates municipalities,
#: programmes and units. A test makes sure every action written anywhere in laks is here.
AUDIT_ACTION_LABELS = {
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Login failed"),
    "auth.logout": _l("Logged out"),
    "user.create": _l("Person created"),
    "user.set_password": _l("Password set"),
    "user.activate": _l("Person activated"),
    "user.deactivate": _l("Person deactivated"),
    "definition.create": _l("Module definition created"),
    "definition.update": _l("Question changed"),
    "definition.add_question": _l("Question added"),
    "definition.move": _l("Question moved"),
    "definition.retire": _l("Question retired"),
    "definition.restore": _l("Question taken back into use"),
    "definition.options": _l("Options changed"),
    "module.start": _l("Module started"),
    "module.save": _l("Saved"),
    "module.autosave": _l("Saved automatically"),
    "module.save_conflict": _l("Kept aside in a conflict"),
    "module.submit": _l("Submitted"),
    "module.approve": _l("Approved"),
    "module.request_changes": _l("Changes requested"),
    "module.withdraw": _l("Submission withdrawn"),
    "module.reopen": _l("Module reopened"),
    "module.comment": _l("Comment added"),
    "progress.set": _l("Progress score set"),
    "municipality.create": _l("Municipality created"),
    "programme.create": _l("Programme created"),
    "programme.shared_measure_add": _l("Shared measure added"),
    "programme.shared_measure_delete": _l("Shared measure removed"),
    "unit.create": _l("Unit created"),
    "catalogue.consent": _l("Consented to publishing the case"),
    "catalogue.consent_withdraw": _l("Consent to publishing withdrawn"),
    "catalogue.edition_create": _l("Catalogue edition created"),
    "catalogue.edition_update": _l("Catalogue edition changed"),
    "catalogue.edition_cases": _l("Cases of a catalogue edition chosen"),
    "catalogue.edition_publish": _l("Catalogue edition published"),
    "catalogue.edition_withdraw": _l("Catalogue edition withdrawn"),
    "catalogue.edition_delete": _l("Draft catalogue edition deleted"),
    "programme.update": _l("Programme changed"),
    "unit.update": _l("Unit changed"),
    "unit.move": _l("Unit moved to another programme"),
    "unit.close": _l("Unit closed"),
    "unit.reopen": _l("Unit reopened"),
    "unit.member_add": _l("Person attached to a unit"),
    "unit.member_remove": _l("Person detached from a unit"),
    "unit.tovholder": _l("Tovholder of a unit changed"),
    "user.update_profile": _l("Profile changed"),
    "user.invite": _l("Invitation mailed"),
    "auth.password_reset_request": _l("New password asked for"),
    "auth.password_reset": _l("New password chosen from a mailed link"),
    "auth.invitation_request": _l("New invitation link asked for"),
    "mail.resend": _l("Mail sent again"),
    "auth.second_factor_failed": _l("Wrong two-factor code"),
    "user.two_factor_on": _l("Two-factor sign-in turned on"),
    "user.two_factor_off": _l("Two-factor sign-in turned off"),
    "user.two_factor_reset": _l("Two-factor sign-in reset"),
    "user.recovery_codes_renew": _l("New recovery codes made"),
    # The access log (laks.views.access_log): a page of a unit's data seen by someone outside
    # the unit, and every refused request; and the deletion of old events (laks.audit_log).
    "unit.view": _l("A unit's data viewed"),
    "access.refused": _l("Request refused"),
    "audit.prune": _l("Old log events deleted"),
    # flask export (laks.backup): everything written to an archive.
    "backup.export": _l("Everything exported to a backup archive"),
}


def audit_action_label(action: str) -> str:
    """An audit action in words; an action without a label is shown as it is stored."""
    label = AUDIT_ACTION_LABELS.get(action)
    return str(label) if label is not None else action


#: The IHI progress scale a facilitator scores a unit on (models.ProgressScore stores the
#: half steps, 1 … 10): what each score means, in the words of the Institute for Healthcare
#: Improvement's assessment scale.
IHI_SCALE = {
    1: _l("Intent to participate"),
    2: _l("Team formed and charter in place"),
    3: _l("Planning for the project has begun"),
    4: _l("Activity, but no changes"),
    5: _l("Changes tested, but no improvement"),
    6: _l("Modest improvement"),
    7: _l("Improvement"),
    8: _l("Significant improvement"),
    9: _l("Sustainable improvement"),
    10: _l("Outstanding sustainable results"),
}
