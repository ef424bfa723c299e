"""A unit's work on a module: saving answers (with revisions and conflict detection),
submitting and reviewing through the workflow, and the discussion."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, Integer, Select, bindparam, case, func, select, type_coerce
from sqlalchemy.orm import defer, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from laks.access import require
from laks.audit import record_module
from laks.definitions import ModuleSpec
from laks.definitions.answers import missing_required
from laks.enums import ModuleState
from laks.extensions import db
from laks.models import (
    ModuleComment,
    ModuleRevision,
    StateChange,
    Unit,
    UnitModule,
    User,
    utcnow,
)
from laks.privacy import any_cpr, looks_like_cpr
from laks.services import notifications
from laks.services.definitions import current_version_id
from laks.workflow import WorkflowError, transition

#: Autosaves by the same person within this window update one revision instead of adding
#: a new one each few seconds; an explicit save always adds a revision.
AUTOSAVE_WINDOW = timedelta(minutes=10)


class SaveConflict(Exception):
    """Someone else saved since this form was loaded. The user's answers are kept as a
    revision of kind "conflict"; ``theirs`` are the answers now stored."""

    def __init__(self, unit_module: UnitModule, mine: dict, kept: ModuleRevision):
        super().__init__("conflict")
        self.unit_module = unit_module
        self.mine = mine
        self.theirs = dict(unit_module.answers)
        self.kept = kept


class IncompleteModule(WorkflowError):
    """Submit was refused because required answers are missing."""

    def __init__(self, missing):
        super().__init__(_l("The module cannot be submitted yet: %(num)d required answers "
                            "are missing.", num=len(missing)))
        self.missing = missing


class PersonalDataError(ValueError):
    """Text that looks like a CPR number was refused."""


def unit_module_for(unit: Unit, module_key: str) -> UnitModule:
    """The unit's work on a module; a new, unsaved one (not started) if there is none yet."""
    return unit_modules_with(unit, module_key)[0]


#: A unit's modules (bound as "unit"), with the answers of the one bound as "key" alone.
_UNIT_MODULES = (
    select(UnitModule, type_coerce(
        case((UnitModule.module_key == bindparam("key"), UnitModule.answers)), JSON))
    .where(UnitModule.unit_id == bindparam("unit")).options(defer(UnitModule.answers)))


def unit_modules_with(unit: Unit, module_key: str
                      ) -> tuple[UnitModule, dict[tuple[int, str], UnitModule]]:
    """The unit's work on ``module_key`` (with its answers; a new, unsaved one if there is
    none yet) and every saved module of the unit by (unit id, key) – the others without
    their answers – in one query: a module's page shows the unit's five steps beside it."""
    rows = db.session.execute(_UNIT_MODULES, {"unit": unit.id, "key": module_key}).all()
    saved, found = {}, None
    for unit_module, answers in rows:
        # The unit in hand is its unit: without this the identity map (weak references)
        # may have let it go, and the first look at unit_module.unit would load it again.
        set_committed_value(unit_module, "unit", unit)
        saved[(unit.id, unit_module.module_key)] = unit_module
        if unit_module.module_key == module_key:
            found = unit_module
            if "answers" not in unit_module.__dict__:  # never over answers changed in hand
                set_committed_value(unit_module, "answers", answers)
    if found is None:
        found = UnitModule(unit=unit, unit_id=unit.id, module_key=module_key,
                           state=ModuleState.NOT_STARTED, version=0, answers={})
    return found, saved


def latest_revision(unit_module: UnitModule) -> ModuleRevision | None:
    """The module's newest revision (of any kind), in one query: a module's history may be
    hundreds of revisions long, and a save needs only the last."""
    if unit_module.id is None:
        return None
    return db.session.scalar(
        select(ModuleRevision).where(ModuleRevision.unit_module_id == unit_module.id)
        .order_by(ModuleRevision.number.desc()).limit(1))


@dataclass
class History:
    """What a module page shows of the module's history: the newest steps of its timeline
    and the newest messages of its discussion (each oldest first), and how many there are
    in all – and how many revisions."""

    steps: list[StateChange]
    step_count: int
    comments: list[ModuleComment]
    comment_count: int
    revision_count: int

    @property
    def signature(self) -> tuple:
        """All the page shows of the history, to keep it rendered: the counts, and the steps
        and comments shown by id (they never change once written) with their people's names
        and roles (which can)."""
        def who(person):
            return (person.name, person.role) if person is not None else None

        return (self.step_count, self.comment_count, self.revision_count,
                tuple((step.id, who(step.actor)) for step in self.steps),
                tuple((comment.id, who(comment.author)) for comment in self.comments))

    @property
    def complete(self) -> bool:
        return len(self.steps) == self.step_count and len(self.comments) == self.comment_count


#: What a timeline and a discussion show of the people in them: not their password hashes,
#: second factors and settings (some of them JSON, decoded for every row).
_SHOWN_OF_PEOPLE = (User.id, User.name, User.role)


# The history's statements are built once, for the module bound as "um" (and the newest "n"
# rows): building a statement with its options costs more than running it.
def _counted(model):
    return (select(func.count(model.id)).where(model.unit_module_id == bindparam("um"))
            .scalar_subquery())


def _newest(model, person) -> tuple[Select, Select]:
    """Every row of the module's history in ``model``, newest first, with its person; and
    the newest "n"."""
    every = (select(model).where(model.unit_module_id == bindparam("um"))
             .options(joinedload(person).load_only(*_SHOWN_OF_PEOPLE))
             .order_by(model.id.desc()))
    return every, every.limit(bindparam("n", type_=Integer))


_HISTORY_COUNTS = select(_counted(StateChange), _counted(ModuleComment),
                         _counted(ModuleRevision))
_STEPS = _newest(StateChange, StateChange.actor)
_COMMENTS = _newest(ModuleComment, ModuleComment.author)


def module_history(unit_module: UnitModule, *, steps: int | None = None,
                   comments: int | None = None) -> History:
    """The newest ``steps`` workflow steps and ``comments`` comments of the module (None:
    all), with their people, and the counts – in three queries, however long the history."""
    if unit_module.id is None:
        return History([], 0, [], 0, 0)

    def newest(statements, n):
        every, limited = statements
        return db.session.scalars(every if n is None else limited,
                                  {"um": unit_module.id, "n": n}).all()

    step_count, comment_count, revisions = db.session.execute(
        _HISTORY_COUNTS, {"um": unit_module.id}).one()
    shown_steps, shown_comments = newest(_STEPS, steps), newest(_COMMENTS, comments)
    return History(shown_steps[::-1], step_count, shown_comments[::-1], comment_count,
                   revisions)


def _next_number(unit_module: UnitModule) -> int:
    latest = latest_revision(unit_module)
    return (latest.number if latest is not None else 0) + 1


def save_answers(unit_module: UnitModule, answers: dict, *, actor: User, base_version: int,
                 autosave: bool = False) -> ModuleRevision | None:
    """Store ``answers`` (merged over the stored ones, so answers to questions no longer in
    the definition survive) and keep a revision. Returns the revision, or None when the
    answers are the ones already stored: then nothing is written, so pressing "save" (or a
    refused "submit") twice never adds a revision identical to the last.

    ``base_version`` is the version the user's form was loaded from; if the module has been
    saved since, nothing is overwritten: the answers are kept as a "conflict" revision and
    SaveConflict is raised. Raises Forbidden if the actor may not edit now (wrong person, or
    a state that is not editable) and PersonalDataError for CPR-like text. A save that
    started from the same version as another one in the same instant fails at the flush
    (StaleDataError, or IntegrityError for two first saves): the caller rolls back and
    keeps the answers with :func:`keep_conflict`.
    """
    require(actor, "module.edit", unit_module)
    if any_cpr(answers.values()):
        raise PersonalDataError("cpr")
    merged = {**(unit_module.answers or {}), **answers}
    if unit_module.id is not None and base_version != unit_module.version:
        raise keep_conflict(unit_module, answers, actor=actor, base_version=base_version)
    latest = latest_revision(unit_module)
    if latest is not None and _same_answers(merged, unit_module.answers or {}):
        return None
    if unit_module.state == ModuleState.NOT_STARTED:
        transition(unit_module, "start", actor=actor)
    now = utcnow()
    unit_module.answers = merged
    unit_module.updated_at = now
    unit_module.updated_by = actor
    db.session.flush()  # bumps version; a concurrent writer gets StaleDataError here
    revision = _recent_autosave(latest, actor, now) if autosave else None
    if revision is None:
        number = (latest.number if latest is not None else 0) + 1
        revision = ModuleRevision(unit_module=unit_module, number=number,
                                  kind="autosave" if autosave else "save", author=actor)
        db.session.add(revision)
    revision.answers = merged
    revision.created_at = now
    revision.definition_version_id = current_version_id(
        unit_module.module_key, unit_module.unit.programme_id)
    db.session.flush()
    record_module(actor, "module.autosave" if autosave else "module.save", unit_module,
                  version=unit_module.version, revision=revision.number)
    return revision


def _same_answers(one: dict, other: dict) -> bool:
    """Whether two sets of answers say the same: no answer is no answer, whether it is
    missing or stored as None, "" or []."""
    def answer(values, key):
        value = values.get(key)
        return None if value in (None, "", []) else value

    return all(answer(one, key) == answer(other, key) for key in {*one, *other})


def keep_conflict(unit_module: UnitModule, answers: dict, *, actor: User,
                  base_version: int) -> SaveConflict:
    """Keep ``answers`` (over the stored ones) as a revision of kind "conflict" – someone
    else saved first – and return the SaveConflict that tells the caller what to show.

    Used by :func:`save_answers`, and by the view after a save lost a race in the database
    and was rolled back: the person's answers are kept all the same. Raises Forbidden if
    the actor may not save answers in this unit at all.
    """
    require(actor, "module.save", unit_module)
    merged = {**(unit_module.answers or {}), **answers}
    kept = ModuleRevision(unit_module=unit_module, number=_next_number(unit_module),
                          kind="conflict", answers=merged, author=actor,
                          definition_version_id=current_version_id(
                              unit_module.module_key, unit_module.unit.programme_id))
    db.session.add(kept)
    db.session.flush()
    record_module(actor, "module.save_conflict", unit_module, base=base_version,
                  current=unit_module.version, revision=kept.number)
    return SaveConflict(unit_module, merged, kept)


def _recent_autosave(latest: ModuleRevision | None, actor: User, now
                     ) -> ModuleRevision | None:
    """The newest revision, if it is an autosave by ``actor`` within the window: the one
    this autosave updates."""
    if (latest is not None and latest.kind == "autosave" and latest.author_id == actor.id
            and now - latest.created_at < AUTOSAVE_WINDOW):
        return latest
    return None


def submit(unit_module: UnitModule, spec: ModuleSpec, *, actor: User):
    """Submit for review. Raises IncompleteModule listing the missing required questions."""

    def complete():
        missing = missing_required(spec, unit_module.answers or {})
        if missing:
            raise IncompleteModule(missing)

    change = transition(unit_module, "submit", actor=actor, check=complete)
    notifications.module_submitted(unit_module, actor)
    return change


def review(unit_module: UnitModule, action: str, *, actor: User, comment: str):
    """Approve or request changes, always with a comment to the unit."""
    if action not in ("approve", "request_changes"):
        raise WorkflowError(_l("Unknown review decision."))
    if looks_like_cpr(comment):
        raise PersonalDataError("cpr")
    change = transition(unit_module, action, actor=actor, comment=comment)
    notifications.module_reviewed(unit_module, action, actor)
    return change


def withdraw(unit_module: UnitModule, *, actor: User):
    """Take a submission back to draft before the facilitator has reviewed it (staff of the
    unit). Raises WorkflowError when the module is not submitted, Forbidden for others."""
    return transition(unit_module, "withdraw", actor=actor)


def reopen(unit_module: UnitModule, *, actor: User, comment: str):
    """Reopen an approved module: changes are requested again, with a comment to the unit
    (a facilitator of the unit or the admin). Raises WorkflowError when the module is not
    approved or the comment is missing, Forbidden for others."""
    if looks_like_cpr(comment):
        raise PersonalDataError("cpr")
    change = transition(unit_module, "reopen", actor=actor, comment=comment)
    notifications.module_reviewed(unit_module, "reopen", actor)
    return change


def add_comment(unit_module: UnitModule, body: str, *, actor: User) -> ModuleComment:
    """Add a message to the module's discussion (a module not started yet is created)."""
    require(actor, "module.comment", unit_module)
    if looks_like_cpr(body):
        raise PersonalDataError("cpr")
    if unit_module.id is None:
        db.session.add(unit_module)
    comment = ModuleComment(unit_module=unit_module, author=actor, body=body.strip())
    db.session.add(comment)
    db.session.flush()
    record_module(actor, "module.comment", unit_module, comment=comment.id)
    notifications.module_commented(unit_module, actor)
    return comment
