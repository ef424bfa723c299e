"""Read-only questions for the public side of laks: the published catalogue, its search and
filters, and a programme's public page.

Published cases are read only from ``EditionCase.snapshot``, never from the units' live
answers, so an edit after publishing never changes what the public reads. Nothing here
writes.

The free-text search uses the database's own full-text index: on PostgreSQL the Danish
configuration (``to_tsvector('danish', …) @@ websearch_to_tsquery('danish', …)``, ranked by
``ts_rank``; stemming lets "borgere" find "borger"), on SQLite the FTS5 table
``catalogue_fts`` (ranked by ``bm25``). A visitor's text never reaches either as query
syntax: on SQLite each word is quoted (and matched as a prefix, which helps with Danish
compounds), on PostgreSQL ``websearch_to_tsquery`` reads any text without a syntax error.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, text
from sqlalchemy.orm import selectinload

from laks.enums import EditionStatus, ModuleState, ProgrammeStatus
from laks.extensions import db
from laks.models import CaseConsent, Edition, EditionCase, Programme, Unit, UnitModule
from laks.rendering import first_sentence, plain_words

#: The longest search text used; the rest is ignored (a visitor may paste anything).
MAX_QUERY_CHARS = 200
#: At most this many words of a search are used.
MAX_QUERY_TERMS = 12
#: The longest filter value looked at (longer ones cannot be one of the choices).
MAX_FILTER_CHARS = 300

#: The filters of the public catalogue, in the order the page shows them.
FILTERS = ("municipality", "theme", "target_group", "challenge_type")
FILTER_LABELS = {
    "municipality": _l("Municipality"),
    "theme": _l("Theme"),
    "target_group": _l("Target group"),
    "challenge_type": _l("Type of challenge"),
}

# The table is models.catalogue.SEARCH_TABLE, written out: a statement of constants only.
_FTS5_MATCH = text(
    "SELECT rowid FROM catalogue_fts WHERE catalogue_fts MATCH :match "
    "AND rowid IN :ids ORDER BY bm25(catalogue_fts)"
).bindparams(bindparam("ids", expanding=True))
#: Where a block of text ends, words part; inline tags (emphasis, links) join their text.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_WORD = re.compile(r"\w+")


# --- editions -----------------------------------------------------------------------------


def published_editions() -> list[Edition]:
    """The published editions, newest first (withdrawn and draft editions are left out)."""
    return list(db.session.scalars(
        select(Edition).where(Edition.status == EditionStatus.PUBLISHED)
        .order_by(Edition.published_at.desc(), Edition.number.desc())))


def newest_edition() -> Edition | None:
    """The newest published edition, or None while nothing is published."""
    return db.session.scalars(
        select(Edition).where(Edition.status == EditionStatus.PUBLISHED)
        .order_by(Edition.published_at.desc(), Edition.number.desc()).limit(1)).first()


def edition_by_number(number: int) -> Edition | None:
    """The edition with ``number`` in any state (the page decides what a state means)."""
    return db.session.scalars(select(Edition).where(Edition.number == number)).first()


def edition_cases(edition: Edition) -> list[EditionCase]:
    """The edition's published cases in their order (cases without a snapshot – a draft's –
    are never public)."""
    return [case for case in edition.cases if case.snapshot]


# --- search ---------------------------------------------------------------------------------


def clean_query(q: str | None) -> str:
    """A visitor's search text made safe to hand on: control characters (NUL too) become
    spaces, runs of space one, and it is cut at :data:`MAX_QUERY_CHARS`."""
    if not q:
        return ""
    q = _CONTROL.sub(" ", str(q)[: MAX_QUERY_CHARS * 4])
    return " ".join(q.split())[:MAX_QUERY_CHARS].strip()


def query_terms(q: str | None) -> list[str]:
    """The words of a search: letters and digits only (punctuation, quotes, stars, brackets
    and emoji are separators, as they are to the index), at most :data:`MAX_QUERY_TERMS`."""
    return _WORD.findall(clean_query(q))[:MAX_QUERY_TERMS]


def fts5_query(q: str | None) -> str:
    """An FTS5 MATCH expression for ``q`` that FTS5 can only read as words: each word quoted
    (a quote inside doubled) and matched as a prefix, all of them required. Empty when ``q``
    has no words."""
    return " ".join('"{}"*'.format(term.replace('"', '""')) for term in query_terms(q))


def _matching_ids(case_ids: list[int], q: str) -> list[int]:
    """The ids of those of ``case_ids`` that match ``q``, best first."""
    if db.engine.dialect.name == "postgresql":
        if not query_terms(q):
            return list(case_ids)
        document = func.to_tsvector("danish", EditionCase.search_text)
        query = func.websearch_to_tsquery("danish", clean_query(q))
        rows = db.session.execute(
            select(EditionCase.id)
            .where(EditionCase.id.in_(case_ids),
                   # Only stop words ("og", "i") leave no query: that is no search at all.
                   or_(func.numnode(query) == 0, document.op("@@")(query)))
            .order_by(func.ts_rank(document, query).desc(), EditionCase.position))
        return [row[0] for row in rows]
    match = fts5_query(q)
    if not match:
        return list(case_ids)
    rows = db.session.execute(_FTS5_MATCH, {"match": match, "ids": case_ids})
    return [row[0] for row in rows]


def search_cases(edition: Edition, q: str | None,
                 filters: Mapping[str, str] | None = None) -> list[EditionCase]:
    """The published cases of ``edition`` that match the search text ``q`` (any text; empty
    matches all) and every given filter (see :func:`case_facets`). Best match first when
    there is a search text, otherwise in the edition's order. Two queries at most."""
    cases = edition_cases(edition)
    filters = {key: value for key, value in (filters or {}).items() if value}
    cases = [case for case in cases
             if all(value in case_facets(case.snapshot).get(key, {})
                    for key, value in filters.items())]
    if not cases or not clean_query(q):
        return cases
    by_id = {case.id: case for case in cases}
    return [by_id[case_id] for case_id in _matching_ids(list(by_id), q) if case_id in by_id]


# --- filters -------------------------------------------------------------------------------


def excerpt(markdown_text: str | None, limit: int = 220) -> str:
    """The start of a markdown text as plain words, cut at ``limit`` characters on a word."""
    plain = plain_words(markdown_text)
    if len(plain) <= limit:
        return plain
    return plain[:limit].rsplit(" ", 1)[0].rstrip(",.;:–-") + " …"


def case_facets(snapshot: Mapping) -> dict[str, dict[str, str]]:
    """What a case can be filtered on: for each filter, value → label, from its snapshot.
    The municipality by its code, themes and challenge type by their option values, the
    target group by the first sentence of its description."""
    facets: dict[str, dict[str, str]] = {key: {} for key in FILTERS}
    municipality = snapshot.get("municipality") or ""
    if municipality:
        facets["municipality"][snapshot.get("municipality_code") or municipality] = municipality
    labels = list(snapshot.get("theme_labels") or [])
    for i, theme in enumerate(snapshot.get("themes") or []):
        facets["theme"][theme] = labels[i] if i < len(labels) and labels[i] else theme
    target = first_sentence(snapshot.get("target_group"))
    if target:
        facets["target_group"][target] = target
    kind = snapshot.get("challenge_type") or ""
    if kind:
        facets["challenge_type"][kind] = snapshot.get("challenge_type_label") or kind
    return facets


def filter_choices(cases: Iterable[EditionCase]) -> dict[str, list[tuple[str, str]]]:
    """For each filter, the (value, label) pairs the given cases have, sorted by label in
    Danish order."""
    merged: dict[str, dict[str, str]] = {key: {} for key in FILTERS}
    for case in cases:
        for key, values in case_facets(case.snapshot or {}).items():
            merged[key].update(values)
    return {key: sorted(values.items(), key=lambda item: danish_sort_key(item[1]))
            for key, values in merged.items()}


@dataclass
class ChosenFilters:
    """The filters a visitor asked for that exist (``values``), and those that do not
    (``ignored``, as (filter, value) pairs, for a note on the page)."""

    values: dict[str, str] = field(default_factory=dict)
    ignored: list[tuple[str, str]] = field(default_factory=list)


def choose_filters(args: Mapping[str, str],
                   choices: Mapping[str, list[tuple[str, str]]]) -> ChosenFilters:
    """The filters in a query string, checked against ``choices``: a value that is not one
    of them is ignored (and listed), never an error. Empty values mean "all"."""
    chosen = ChosenFilters()
    for key in FILTERS:
        value = clean_query(args.get(key))
        raw = args.get(key) or ""
        if not raw.strip():
            continue
        if len(raw) <= MAX_FILTER_CHARS and raw in dict(choices.get(key, [])):
            chosen.values[key] = raw
        else:
            chosen.ignored.append((key, value[:60]))
    return chosen


# --- Danish order ---------------------------------------------------------------------------

# Æ, Ø and Å come after Z, in that order; "aa" is Å (Aabenraa sorts with Å).
_DANISH_LAST = str.maketrans({"æ": "{", "ä": "{", "ø": "|", "ö": "|", "å": "}"})


def danish_sort_key(value: str | None) -> tuple[str, str]:
    """A key that sorts text as a Danish reader expects: case-insensitive, Æ Ø Å last, "Aa"
    as Å, other accents ignored (é as e)."""
    folded = (value or "").casefold().replace("aa", "å")
    kept = []
    for char in folded:
        if char in "æøåäö":
            kept.append(char)
            continue
        decomposed = unicodedata.normalize("NFKD", char)
        kept.append("".join(c for c in decomposed if not unicodedata.combining(c)))
    return "".join(kept).translate(_DANISH_LAST), value or ""


# --- a programme's public page -------------------------------------------------------------


@dataclass
class PublicUnit:
    """What a programme's public page shows of one unit: never a person's name."""

    unit: Unit
    challenge: str = ""  # module 1's challenge, once approved
    action_plan: str = ""  # module 3's trial action, once approved and consented
    activities: list[dict] = field(default_factory=list)

    @property
    def has_action_plan(self) -> bool:
        return bool(self.action_plan or self.activities)


@dataclass
class PublicMunicipality:
    name: str
    units: list[PublicUnit]


def programme_by_slug(slug: str) -> Programme | None:
    return db.session.scalars(select(Programme).where(Programme.slug == slug)).first()


def public_programmes() -> list[Programme]:
    """The programmes with a public page (every programme), running first, newest first."""
    programmes = db.session.scalars(
        select(Programme).order_by(Programme.starts_on.desc(), Programme.name)).all()
    return sorted(programmes, key=lambda p: p.status != ProgrammeStatus.RUNNING)


def programme_units(programme: Programme) -> list[PublicMunicipality]:
    """The programme's units grouped by municipality, both in Danish order, each with what
    the public may read: its challenge once module 1 is approved, its action plan once
    module 3 is approved and the unit has an active consent to publish. Three queries."""
    units = db.session.scalars(
        select(Unit).where(Unit.programme_id == programme.id)
        .options(selectinload(Unit.municipality))).all()
    ids = [unit.id for unit in units]
    approved: dict[tuple[int, str], dict] = {}
    consented: set[int] = set()
    if ids:
        for module in db.session.scalars(
                select(UnitModule).where(
                    UnitModule.unit_id.in_(ids),
                    UnitModule.module_key.in_(("udfordring", "handleplan")),
                    UnitModule.state == ModuleState.APPROVED)):
            approved[(module.unit_id, module.module_key)] = module.answers or {}
        # The newest consent of a unit is the one that counts; it is active until withdrawn.
        newest: dict[int, CaseConsent] = {}
        for consent in db.session.scalars(
                select(CaseConsent).where(CaseConsent.unit_id.in_(ids))
                .order_by(CaseConsent.consented_at, CaseConsent.id)):
            newest[consent.unit_id] = consent
        consented = {unit_id for unit_id, c in newest.items() if c.withdrawn_at is None}
    groups: dict[str, list[PublicUnit]] = {}
    for unit in units:
        entry = PublicUnit(unit)
        challenge = approved.get((unit.id, "udfordring"))
        if challenge is not None:
            entry.challenge = str(challenge.get("challenge_title") or "")
        plan = approved.get((unit.id, "handleplan"))
        if plan is not None and unit.id in consented:
            entry.action_plan = str(plan.get("trial_action") or "")
            entry.activities = [row for row in plan.get("activities") or []
                                if isinstance(row, dict) and any(row.values())]
        groups.setdefault(unit.municipality.name, []).append(entry)
    return [
        PublicMunicipality(name, sorted(entries, key=lambda e: danish_sort_key(e.unit.name)))
        for name, entries in sorted(groups.items(), key=lambda item: danish_sort_key(item[0]))
    ]
