"""The inspiration catalogue: a unit's case, its consent to publish, and the editions the
network admin curates from consented cases.

A case is read live from the unit's APPROVED modules only (:func:`case_content`); the
unit's tovholder consents to publishing it once it is complete (:func:`give_consent`); the
network admin puts eligible cases into a draft edition, in order, and publishes it
(:func:`publish_edition`), which freezes every case as a snapshot. A published edition is
never altered again – it may only be withdrawn from the public; a new edition is made
instead. Every change is audited; every function flushes, never commits.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from flask import has_request_context
from flask_babel import LazyString, force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, text
from sqlalchemy.orm import selectinload

from laks.access import require
from laks.audit import record
from laks.enums import CatalogueGrouping, EditionStatus, ModuleState
from laks.extensions import db
from laks.models import CaseConsent, Edition, EditionCase, Programme, Unit, UnitModule, User, utcnow
from laks.privacy import CONTACT_DETAILS_MESSAGES, any_cpr, contact_details
from laks.rendering import first_sentence, plain_words
from laks.services.testlog_charts import measure_chart

CASE_FORMAT = 1

#: Each field of a case: the module and question it is drawn from.
SOURCES: dict[str, tuple[str, str]] = {
    "title": ("refleksion", "case_title"),
    "summary": ("refleksion", "case_text"),
    "challenge": ("udfordring", "challenge_title"),
    "challenge_type": ("udfordring", "challenge_type"),
    "health_offer": ("udfordring", "health_offer"),
    "themes": ("udfordring", "themes"),
    "kram": ("refleksion", "kram"),
    "target_group": ("udfordring", "target_group"),
    "arena": ("refleksion", "case_arena"),
    "barriers": ("praecisering", "barriers"),
    "changed": ("handleplan", "trial_action"),
    "activities": ("handleplan", "activities"),
    "tested": ("afproevning", "adjustments"),
    "reached": ("refleksion", "case_reached"),
    "started": ("refleksion", "case_started"),
    "completed": ("refleksion", "case_completed"),
    "learned": ("refleksion", "what_worked"),
    "tips": ("refleksion", "case_tips"),
    "resources": ("refleksion", "case_resources"),
    "transferability": ("refleksion", "case_transferability"),
    "anchoring": ("refleksion", "anchoring"),
    "contact_role": ("refleksion", "case_contact_role"),
}

#: The fields a case needs before it can be consented to or put into an edition.
REQUIRED_FIELDS = ("title", "summary", "challenge", "target_group", "arena", "changed",
                   "tested", "learned", "tips", "resources", "transferability", "anchoring",
                   "contact_role")

#: The name of each field as the person who completes the case knows it.
FIELD_LABELS = {
    "title": _l("Title of the case"),
    "summary": _l("In brief"),
    "challenge": _l("The challenge"),
    "target_group": _l("Target group"),
    "arena": _l("Arena"),
    "changed": _l("What we changed"),
    "tested": _l("How we tested it"),
    "learned": _l("What we learned"),
    "tips": _l("Tips for others"),
    "resources": _l("Resources and cost"),
    "transferability": _l("Can it be transferred?"),
    "anchoring": _l("Anchoring"),
    "contact_role": _l("Contact (role)"),
    "module": _l("Module 5, Reflection and anchoring"),
}



def _now(text: LazyString) -> str:
    """A translated text as a string: in the visitor's language during a request, in
    Danish outside one (the seed, a background job)."""
    if has_request_context():
        return str(text)
    with force_locale("da"):
        return str(text)


class CatalogueError(ValueError):
    """What was asked cannot be done to the catalogue now (a published edition, an empty
    edition, a case that is not eligible); the message says why, in the reader's words."""

    def __str__(self) -> str:
        message = self.args[0] if self.args else ""
        return _now(message) if isinstance(message, LazyString) else str(message)


class IncompleteCase(CatalogueError):
    """A case cannot be consented to or included: ``problems`` lists each field and why."""

    def __init__(self, problems: list[CaseProblem]):
        super().__init__(_l("The case is not ready: %(num)d fields need attention.",
                            num=len(problems)))
        self.problems = problems


@dataclass(frozen=True)
class CaseProblem:
    """One reason a case is not ready: the field's key, its name, and what is wrong (both
    translated when shown)."""

    key: str
    label: LazyString
    message: LazyString
    module_key: str | None = None


# --- the case -------------------------------------------------------------------------------

def approved_answers(units: Iterable[Unit]) -> dict[int, dict[str, dict]]:
    """``{unit_id: {module_key: answers}}`` from the APPROVED modules of ``units`` only, in
    one query."""
    ids = [u.id for u in units]
    found: dict[int, dict[str, dict]] = {i: {} for i in ids}
    if not ids:
        return found
    for um in db.session.scalars(select(UnitModule).where(
            UnitModule.unit_id.in_(ids), UnitModule.state == ModuleState.APPROVED)):
        found[um.unit_id][um.module_key] = dict(um.answers or {})
    return found


def _options_da(module_key: str, question_key: str, programme_id: int | None = None
                ) -> dict[str, str]:
    """The Danish label of each option of a choice question in a programme's definition
    (empty if it is not defined)."""
    from laks.services.definitions import get_spec

    try:
        question = get_spec(module_key, programme_id).question(question_key)
    except LookupError:
        return {}
    return {o.value: o.label.da for o in question.options} if question else {}


def _text(value) -> str:
    return value.strip() if isinstance(value, str) else ""


def _count(value) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return None
    return int(number) if number == number.to_integral_value() else int(number)


def _list(value) -> list[str]:
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value or [] if v not in (None, "")]


def case_content(unit: Unit, answers: dict[str, dict] | None = None) -> dict:
    """The unit's case as the catalogue shows it (the format in the module docstring of
    laks/models/catalogue.py and CATALOGUE.md), built from its APPROVED modules only: a
    field whose module is not approved is ""/[]/None. ``answers`` (``{module_key:
    answers}`` of the approved modules) may be passed when loaded in bulk."""
    if answers is None:
        answers = approved_answers([unit])[unit.id]

    def get(field: str):
        module_key, question_key = SOURCES[field]
        return (answers.get(module_key) or {}).get(question_key)

    challenge_type = _text(get("challenge_type"))
    themes, kram = _list(get("themes")), _list(get("kram"))
    theme_names = _options_da("udfordring", "themes", unit.programme_id)
    kram_names = _options_da("refleksion", "kram", unit.programme_id)
    activities = [
        {column: _text(row.get(column)) for column in ("who", "what", "where", "when")}
        for row in (get("activities") or []) if isinstance(row, dict)
    ]
    return {
        "format": CASE_FORMAT,
        "unit_id": unit.id,
        "unit": unit.name,
        "municipality": unit.municipality.name,
        "municipality_code": unit.municipality.code,
        "places": list(unit.places or []),
        "programme": unit.programme.name,
        "title": _text(get("title")),
        "summary": _text(get("summary")),
        "challenge": _text(get("challenge")),
        "challenge_type": challenge_type,
        "challenge_type_label": (_options_da("udfordring", "challenge_type", unit.programme_id)
                                 .get(challenge_type, challenge_type)),
        "health_offer": _text(get("health_offer")),
        "themes": themes,
        "theme_labels": [theme_names.get(t, t) for t in themes],
        "kram": kram,
        "kram_labels": [kram_names.get(k, k) for k in kram],
        "target_group": _text(get("target_group")),
        "arena": _text(get("arena")),
        "barriers": _text(get("barriers")),
        "changed": _text(get("changed")),
        "activities": [row for row in activities if any(row.values())],
        "tested": _text(get("tested")),
        "results": {key: _count(get(key)) for key in ("reached", "started", "completed")},
        "learned": _text(get("learned")),
        "tips": _text(get("tips")),
        "resources": _text(get("resources")),
        "transferability": _text(get("transferability")),
        "anchoring": _text(get("anchoring")),
        "contact_role": _text(get("contact_role")),
        **_case_chart(unit, answers.get("afproevning") or {}),
    }


def _case_chart(unit: Unit, log: dict) -> dict:
    """The run chart of the case's chapter: the first of the unit's measures (its own, then
    its programme's shared ones) that has measurements in the approved test log, drawn with
    the small-number rule; None when there is none."""
    points = log.get("points") or {}
    measures = [m for m in log.get("measures") or [] if isinstance(m, dict)]
    if not any(points.get(m.get("key")) for m in measures) and any(
            key.startswith("f-") for key in points):
        measures += [m.as_measure() for m in unit.programme.shared_measures]
    for measure in measures:
        if points.get(measure.get("key")):
            chart = measure_chart(measure, points[measure["key"]], log.get("cycles") or [],
                                  public=True)
            return {"chart_svg": chart.svg, "chart_alt": f"{measure['name']}: {chart.reading}"}
    return {"chart_svg": None, "chart_alt": None}


def missing_case_fields(content: dict) -> list[str]:
    """The keys of the required fields that are empty in ``content``, in the case's order."""
    return [key for key in REQUIRED_FIELDS if not content.get(key)]


def invalid_case_fields(content: dict) -> dict[str, LazyString]:
    """Fields that are filled but may not be published, with the reason: the contact must
    be a role, never an e-mail address or a phone number (those belong to a person)."""
    invalid: dict[str, str] = {}
    found = contact_details(content.get("contact_role"))
    if found:
        invalid["contact_role"] = CONTACT_DETAILS_MESSAGES[found]
    return invalid


def case_problems(unit: Unit, content: dict | None = None, *,
                  module_state: ModuleState | None = None,
                  consent: CaseConsent | None | bool = False) -> list[CaseProblem]:
    """Why ``unit``'s case cannot be published now (empty: it can): module 5 not approved,
    each required field missing, each field that may not be published, and – when
    ``consent`` is given (``None`` for no active consent) – a missing consent."""
    if content is None:
        content = case_content(unit)
    if module_state is None:
        module_state = _module_state(unit, "refleksion")
    problems = []
    if module_state != ModuleState.APPROVED:
        problems.append(CaseProblem("module", FIELD_LABELS["module"],
                                    _l("Module 5 is not approved yet."), "refleksion"))
    for key in missing_case_fields(content):
        problems.append(CaseProblem(key, FIELD_LABELS[key], _l("Missing."), SOURCES[key][0]))
    for key, message in invalid_case_fields(content).items():
        problems.append(CaseProblem(key, FIELD_LABELS[key], message, SOURCES[key][0]))
    if consent is None:
        problems.append(CaseProblem("consent", _l("Consent"),
                                    _l("The unit has not consented to publishing.")))
    return problems


def _module_state(unit: Unit, module_key: str) -> ModuleState:
    state = db.session.scalar(select(UnitModule.state).where(
        UnitModule.unit_id == unit.id, UnitModule.module_key == module_key))
    return state or ModuleState.NOT_STARTED


# --- consent --------------------------------------------------------------------------------

def active_consent(unit: Unit) -> CaseConsent | None:
    """The unit's consent in force (the newest one not withdrawn), or None."""
    return db.session.scalar(
        select(CaseConsent).where(CaseConsent.unit_id == unit.id,
                                  CaseConsent.withdrawn_at.is_(None))
        .order_by(CaseConsent.consented_at.desc(), CaseConsent.id.desc()))


def consent_history(unit: Unit) -> list[CaseConsent]:
    """Every consent the unit has given, newest first."""
    return list(db.session.scalars(
        select(CaseConsent).where(CaseConsent.unit_id == unit.id)
        .order_by(CaseConsent.consented_at.desc(), CaseConsent.id.desc())))


def give_consent(unit: Unit, actor: User) -> CaseConsent:
    """The unit consents to publishing its case. Only the unit's tovholder may (Forbidden
    otherwise); refused with IncompleteCase while module 5 is not approved or a field is
    missing or may not be published. Giving it again while one is in force changes
    nothing and returns that one."""
    require(actor, "catalogue.consent", unit)
    problems = case_problems(unit)
    if problems:
        raise IncompleteCase(problems)
    current = active_consent(unit)
    if current is not None:
        return current
    consent = CaseConsent(unit=unit, unit_id=unit.id, consented_by=actor, consented_at=utcnow())
    db.session.add(consent)
    db.session.flush()
    record(actor, "catalogue.consent", unit, consent=consent.id)
    return consent


def withdraw_consent(unit: Unit, actor: User) -> CaseConsent:
    """The unit withdraws its consent: its case can no longer be put into an edition
    (published editions are not altered; the network admin may withdraw them). Only the
    tovholder; CatalogueError when no consent is in force."""
    require(actor, "catalogue.consent", unit)
    current = active_consent(unit)
    if current is None:
        raise CatalogueError(_l("The unit has not consented, so there is nothing to withdraw."))
    current.withdrawn_at = utcnow()
    current.withdrawn_by = actor
    db.session.flush()
    record(actor, "catalogue.consent_withdraw", unit, consent=current.id)
    return current


# --- eligibility ----------------------------------------------------------------------------

@dataclass
class CaseStatus:
    """A unit's case and whether it can go into an edition (``problems`` empty)."""

    unit: Unit
    content: dict
    consent: CaseConsent | None
    problems: list[CaseProblem]

    @property
    def eligible(self) -> bool:
        return not self.problems


def case_statuses(programme: Programme | None = None) -> list[CaseStatus]:
    """Every unit (of ``programme``, if given) with its case and what keeps it out of an
    edition, in a handful of queries, ordered by municipality and unit."""
    query = (select(Unit)
             .options(selectinload(Unit.municipality), selectinload(Unit.programme))
             .order_by(Unit.programme_id, Unit.municipality_id, Unit.name))
    if programme is not None:
        query = query.where(Unit.programme_id == programme.id)
    units = list(db.session.scalars(query))
    answers = approved_answers(units)
    ids = [u.id for u in units]
    states = dict(db.session.execute(select(UnitModule.unit_id, UnitModule.state).where(
        UnitModule.unit_id.in_(ids), UnitModule.module_key == "refleksion")).all()) if ids else {}
    consents: dict[int, CaseConsent] = {}
    if ids:
        for consent in db.session.scalars(select(CaseConsent).where(
                CaseConsent.unit_id.in_(ids), CaseConsent.withdrawn_at.is_(None))
                .order_by(CaseConsent.consented_at, CaseConsent.id)):
            consents[consent.unit_id] = consent  # the newest wins
    statuses = []
    for unit in units:
        content = case_content(unit, answers[unit.id])
        consent = consents.get(unit.id)
        problems = case_problems(unit, content,
                                 module_state=states.get(unit.id, ModuleState.NOT_STARTED),
                                 consent=consent)
        statuses.append(CaseStatus(unit, content, consent, problems))
    return statuses


def eligible_units(programme: Programme | None = None) -> list[Unit]:
    """Units whose case may go into an edition: module 5 approved, consent in force, every
    required field filled and publishable."""
    return [s.unit for s in case_statuses(programme) if s.eligible]


# --- editions -------------------------------------------------------------------------------

def _require_draft(edition: Edition) -> None:
    if edition.status != EditionStatus.DRAFT:
        raise CatalogueError(_l("Edition %(num)d is published and can no longer be changed. "
                                "Make a new edition instead.", num=edition.number))


def _check_texts(*texts: str) -> None:
    if any(isinstance(t, str) and "\x00" in t for t in texts):
        raise CatalogueError(_l("The text contains a character that cannot be stored."))
    if any_cpr(texts):
        raise CatalogueError(_l("The text looks like it contains a CPR number. laks holds "
                                "no personal data about citizens."))


def create_edition(actor: User, title: str, programme: Programme | None,
                   grouping: CatalogueGrouping) -> Edition:
    """A new draft edition, numbered one after the highest number ever given. Only the
    network admin (Forbidden otherwise)."""
    require(actor, "catalogue.curate")
    title = (title or "").strip()
    if not title:
        raise CatalogueError(_l("An edition needs a title."))
    _check_texts(title)
    number = (db.session.scalar(select(func.max(Edition.number))) or 0) + 1
    edition = Edition(number=number, title=title, programme=programme,
                      grouping=CatalogueGrouping(grouping), status=EditionStatus.DRAFT,
                      created_by_id=actor.id, foreword="", introduction="")
    db.session.add(edition)
    db.session.flush()
    record(actor, "catalogue.edition_create", edition, number=number, title=title)
    return edition


def update_edition(edition: Edition, actor: User, *, title: str | None = None,
                   foreword: str | None = None, introduction: str | None = None,
                   grouping: CatalogueGrouping | None = None) -> Edition:
    """Change a draft edition's title, foreword, introduction (markdown) or grouping.
    CatalogueError for a published or withdrawn edition."""
    require(actor, "catalogue.curate", edition)
    _require_draft(edition)
    if title is not None and not title.strip():
        raise CatalogueError(_l("An edition needs a title."))
    _check_texts(*(t for t in (title, foreword, introduction) if t is not None))
    changed = []
    for name, value in (("title", title and title.strip()), ("foreword", foreword),
                        ("introduction", introduction),
                        ("grouping", grouping and CatalogueGrouping(grouping))):
        if value is not None and getattr(edition, name) != value:
            setattr(edition, name, value)
            changed.append(name)
    db.session.flush()
    if changed:
        record(actor, "catalogue.edition_update", edition, number=edition.number,
               fields=changed)
    return edition


def set_edition_cases(edition: Edition, unit_ids: list[int], actor: User) -> Edition:
    """Put exactly these units' cases into a draft edition, in this order. Refuses (with
    CatalogueError naming them) units that are not eligible or belong to another programme
    than the edition's, and a unit named twice."""
    require(actor, "catalogue.curate", edition)
    _require_draft(edition)
    unit_ids = [int(i) for i in unit_ids]
    if len(set(unit_ids)) != len(unit_ids):
        raise CatalogueError(_l("A case can be in an edition only once."))
    statuses = {s.unit.id: s for s in case_statuses(edition.programme)}
    refused = [i for i in unit_ids if i not in statuses or not statuses[i].eligible]
    if refused:
        names = ", ".join(statuses[i].unit.title if i in statuses else f"#{i}" for i in refused)
        raise CatalogueError(_l("These cases cannot be included: %(names)s.", names=names))
    existing = {case.unit_id: case for case in edition.cases}
    for case in list(edition.cases):
        if case.unit_id not in unit_ids:
            edition.cases.remove(case)
    db.session.flush()  # a removed unit's row is gone before it could be added again
    for position, unit_id in enumerate(unit_ids, start=1):
        case = existing.get(unit_id)
        if case is None:
            case = EditionCase(unit_id=unit_id)
            edition.cases.append(case)
        case.position = position
    db.session.flush()
    db.session.expire(edition, ["cases"])
    record(actor, "catalogue.edition_cases", edition, number=edition.number, units=unit_ids)
    return edition


def canonical_json(content: dict) -> str:
    """The one way a case is written out for its hash: sorted keys, no spaces, UTF-8."""
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


SEARCH_FIELDS = ("title", "unit", "municipality", "summary", "challenge",
                 "challenge_type_label", "health_offer", "target_group", "arena", "barriers",
                 "changed", "tested", "learned", "tips", "resources", "transferability",
                 "anchoring")


def search_text(content: dict) -> str:
    """The case's plain text for the public search: its fields as a reader sees them
    (markdown rendered and its tags dropped), themes and KRAM factors, the activities."""
    parts = [str(content.get(key) or "") for key in SEARCH_FIELDS]
    parts += content.get("theme_labels") or []
    parts += content.get("kram_labels") or []
    parts += [" ".join(row.values()) for row in content.get("activities") or []]
    return plain_words("\n\n".join(parts))


def publish_edition(edition: Edition, actor: User) -> Edition:
    """Publish a draft edition: every case's content is frozen as a snapshot (with its
    hash and search text, and on SQLite a row in the search index), the edition gets its
    publication date, and its PDF is asked for. Refused (CatalogueError) for an edition
    without cases, one that is not a draft, or when a case is no longer eligible."""
    require(actor, "catalogue.curate", edition)
    _require_draft(edition)
    cases = list(edition.cases)
    if not cases:
        raise CatalogueError(_l("An edition with no cases cannot be published. Choose at "
                                "least one case first."))
    statuses = {s.unit.id: s for s in case_statuses(edition.programme)}
    refused = [c for c in cases if c.unit_id not in statuses or not statuses[c.unit_id].eligible]
    if refused:
        names = ", ".join(c.unit.title if c.unit else f"#{c.unit_id}" for c in refused)
        raise CatalogueError(_l("These cases can no longer be included: %(names)s. Remove "
                                "them from the edition first.", names=names))
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    for case in cases:
        content = statuses[case.unit_id].content
        case.snapshot = content
        case.content_hash = hashlib.sha256(canonical_json(content).encode()).hexdigest()
        case.search_text = search_text(content)
    edition.status = EditionStatus.PUBLISHED
    edition.published_at = utcnow()
    edition.published_by_id = actor.id
    db.session.flush()
    if sqlite:
        for case in cases:
            db.session.execute(text("INSERT INTO catalogue_fts(rowid, text) VALUES (:id, :text)"),
                               {"id": case.id, "text": case.search_text})
    record(actor, "catalogue.edition_publish", edition, number=edition.number,
           cases=len(cases))
    _ask_for_pdf(edition)
    db.session.flush()
    return edition


def _ask_for_pdf(edition: Edition) -> None:
    """Hand the PDF build to the background jobs: ``laks.jobs.enqueue_edition_pdf`` marks
    it queued and starts it once the caller commits. The jobs sit above the services (they
    run them), so the module is looked up when an edition is published, not imported."""
    importlib.import_module("laks.jobs").enqueue_edition_pdf(edition)


def withdraw_edition(edition: Edition, actor: User, reason: str) -> Edition:
    """Withdraw a published edition from the public (its content stays as it was, for the
    record). A reason is required; CatalogueError for a draft or an edition already
    withdrawn."""
    require(actor, "catalogue.curate", edition)
    if edition.status != EditionStatus.PUBLISHED:
        raise CatalogueError(_l("Only a published edition can be withdrawn."))
    reason = (reason or "").strip()
    if not reason:
        raise CatalogueError(_l("Say why the edition is withdrawn."))
    _check_texts(reason)
    edition.status = EditionStatus.WITHDRAWN
    edition.withdrawn_at = utcnow()
    edition.withdrawn_by_id = actor.id
    edition.withdrawn_reason = reason
    db.session.flush()
    record(actor, "catalogue.edition_withdraw", edition, number=edition.number, reason=reason)
    return edition


def delete_draft(edition: Edition, actor: User) -> None:
    """Delete a draft edition (its number is not given again). CatalogueError otherwise."""
    require(actor, "catalogue.curate", edition)
    _require_draft(edition)
    record(actor, "catalogue.edition_delete", edition, number=edition.number)
    db.session.delete(edition)
    db.session.flush()


# --- reading an edition ---------------------------------------------------------------------

def edition_cases(edition: Edition) -> list[tuple[EditionCase, dict]]:
    """The edition's cases in order with their content: the frozen snapshot once
    published, the live case while a draft."""
    cases = list(edition.cases)
    if edition.status != EditionStatus.DRAFT:
        return [(case, case.snapshot or {}) for case in cases]
    units = [case.unit for case in cases if case.unit is not None]
    answers = approved_answers(units)
    return [(case, case_content(case.unit, answers[case.unit.id]) if case.unit else {})
            for case in cases]


OTHER = _l("Other")



def group_label(content: dict, grouping: CatalogueGrouping) -> str:
    """The part of the catalogue a case belongs to: its first theme, its municipality, its
    target group (the first sentence describing it) or its type of challenge; "" if none."""
    if grouping == CatalogueGrouping.THEME:
        labels = content.get("theme_labels") or []
        return labels[0] if labels else ""
    if grouping == CatalogueGrouping.MUNICIPALITY:
        return content.get("municipality") or ""
    if grouping == CatalogueGrouping.TARGET_GROUP:
        return first_sentence(content.get("target_group"))
    return content.get("challenge_type_label") or ""


def grouped_cases(edition: Edition) -> list[tuple[str, list[dict]]]:
    """The edition's cases in parts: ``[(group label, [case dicts])]``. Parts come in the
    order of their first case, so the curator's order decides; within a part the cases keep
    their order. A case without a value for the grouping goes under "Other", last."""
    return group_contents([content for _case, content in edition_cases(edition)],
                          edition.grouping)


def group_contents(contents: list[dict], grouping: CatalogueGrouping) -> list[tuple[str, list]]:
    """:func:`grouped_cases` for case dicts already at hand."""
    groups: dict[str, list[dict]] = {}
    rest: list[dict] = []
    for content in contents:
        label = group_label(content, grouping)
        (groups.setdefault(label, []) if label else rest).append(content)
    parts = list(groups.items())
    if rest:
        parts.append((_now(OTHER), rest))
    return parts
