"""Progress scores: how far a unit has come, on the IHI scale (laks.enums.IHI_SCALE).

A facilitator of the unit – or the network admin – scores it from 0.5 (intent to
participate) to 5.0 (outstanding sustainable results) in half steps, with a short note; every
one who sees the unit reads the scores. A score is never changed: a new one is added, so the
rows are the unit's trajectory. Stored as whole half steps (1 … 10), so no decimal is ever
rounded.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from laks.access import require
from laks.audit import record
from laks.enums import IHI_SCALE
from laks.extensions import db
from laks.models import ProgressScore, Unit, User, utcnow
from laks.privacy import looks_like_cpr

#: The longest note a score takes (the column's length).
NOTE_MAX = 500

MISSING_SCORE = _l("Choose a score on the scale.")
OFF_SCALE = _l("Choose one of the scale's steps, from 0.5 to 5.0.")
#: The words of every CPR refusal in laks (laks.definitions.forms.CPR_MESSAGE).
NOTE_CPR = _l(
    "This looks like a CPR number. laks holds no personal data about citizens – describe the "
    "group instead, without numbers that can identify anyone. If it is another number, say "
    "what it is just before it, e.g. “P-nr. 1012345678” or “kontonr. 1234567890”, and write "
    "dates with the month in words, e.g. “1. januar 1990”."
)


@dataclass
class Problem:
    """What is wrong with a score, and the field it belongs to ("half_steps" or "note")."""

    field: str
    message: object  # a lazy translated string


class ScoreRefused(ValueError):
    """A score that cannot be stored; ``problems`` says why, field by field."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in problems))
        self.problems = problems


def note_too_long(length: int):
    return _l("The note is too long: at most %(max)d characters, it has %(length)d. Shorten "
              "it – nothing has been cut off.", max=NOTE_MAX, length=length)


def check_score(half_steps, note: str | None) -> list[Problem]:
    """Every problem with a score of ``half_steps`` (1 … 10) and ``note``; empty if none.
    The form checks the same before it reaches :func:`set_score`."""
    problems = []
    if half_steps is None or half_steps == "":
        problems.append(Problem("half_steps", MISSING_SCORE))
    elif isinstance(half_steps, bool) or not isinstance(half_steps, int) \
            or half_steps not in IHI_SCALE:
        problems.append(Problem("half_steps", OFF_SCALE))
    note = note or ""
    if not isinstance(note, str):
        raise TypeError("a note is text")
    if len(note.strip()) > NOTE_MAX:
        problems.append(Problem("note", note_too_long(len(note.strip()))))
    elif looks_like_cpr(note):
        problems.append(Problem("note", NOTE_CPR))
    return problems


def set_score(unit: Unit, half_steps: int, note: str | None, *, actor: User,
              at: datetime | None = None) -> ProgressScore:
    """Add a progress score to ``unit``: ``half_steps`` 1 … 10 (a score of 0.5 … 5.0) and an
    optional ``note`` of at most 500 characters, never with a CPR number. Only a facilitator
    of the unit or the network admin may (Forbidden otherwise); ScoreRefused for a score off
    the scale or a bad note. ``at`` dates the score (the demo's history); default: now.
    Audited as "progress.set". Flushes, never commits."""
    require(actor, "progress.set", unit)
    problems = check_score(half_steps, note)
    if problems:
        raise ScoreRefused(problems)
    score = ProgressScore(unit_id=unit.id, half_steps=half_steps, note=(note or "").strip(),
                          set_by=actor, set_at=at or utcnow())
    db.session.add(score)
    db.session.flush()
    record(actor, "progress.set", unit, score=half_steps / 2, half_steps=half_steps,
           progress_score=score.id)
    return score


def history(unit: Unit) -> list[ProgressScore]:
    """Every score of ``unit``, oldest first (the trajectory's order), each with who set it:
    one query, however many there are."""
    return list(db.session.scalars(
        select(ProgressScore).where(ProgressScore.unit_id == unit.id)
        .options(joinedload(ProgressScore.set_by))
        .order_by(ProgressScore.set_at, ProgressScore.id)))


def latest_scores(unit_ids: Iterable[int]) -> dict[int, ProgressScore]:
    """The latest score of each of ``unit_ids`` that has one, by unit id, with who set it –
    in one query, however many units and scores. The latest is the one set last (of two
    set in the same instant, the one added last)."""
    ids = list(unit_ids)
    if not ids:
        return {}
    ranked = select(
        ProgressScore.id,
        func.row_number().over(
            partition_by=ProgressScore.unit_id,
            order_by=(ProgressScore.set_at.desc(), ProgressScore.id.desc()),
        ).label("rank"),
    ).where(ProgressScore.unit_id.in_(ids)).subquery()
    scores = db.session.scalars(
        select(ProgressScore).join(ranked, ranked.c.id == ProgressScore.id)
        .where(ranked.c.rank == 1).options(joinedload(ProgressScore.set_by)))
    return {score.unit_id: score for score in scores}


def scale_words(half_steps: int) -> str:
    """What a score means on the IHI scale, in the reader's language."""
    return str(IHI_SCALE[half_steps])
