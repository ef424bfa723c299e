"""Comparing two versions of a module's answers, question by question; and which revisions
the workflow's steps were taken at (what was submitted, what the facilitator reviewed)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask_babel import format_decimal
from sqlalchemy import select

from laks.definitions import ModuleSpec, Question
from laks.enums import ModuleState, QuestionKind
from laks.extensions import db
from laks.models import ModuleRevision, StateChange, UnitModule
from laks.rendering import format_iso_date


def answer_lines(question: Question, value) -> list[str]:
    """An answer as lines of plain text, the way a reader would compare them."""
    if value in (None, "", []):
        return []
    kind = question.kind
    if kind in (QuestionKind.MARKDOWN, QuestionKind.TEXT):
        return str(value).splitlines()
    if kind == QuestionKind.NUMBER:
        return [format_decimal(value)]
    if kind == QuestionKind.DATE:
        return [format_iso_date(value)]
    if kind == QuestionKind.CHOICE:
        return [question.option_label(value)]
    if kind == QuestionKind.MULTI:
        return [question.option_label(v) for v in value]
    lines = []
    for row in value:
        cells = []
        for column in question.columns:
            cell = row.get(column.key)
            if cell is None or cell == "":
                continue
            if column.kind == QuestionKind.DATE:
                cell = format_iso_date(cell)
            elif column.kind == QuestionKind.NUMBER:
                cell = format_decimal(cell)
            cells.append(f"{column.label}: {cell}")
        lines.append(" · ".join(cells))
    return lines


@dataclass
class QuestionDiff:
    question: Question
    lines: list[tuple[str, str]]  # ("same" | "removed" | "added", text)

    @property
    def changed(self) -> bool:
        return any(op != "same" for op, _ in self.lines)


def diff_answers(spec: ModuleSpec, old: dict, new: dict) -> list[QuestionDiff]:
    """For every question, the lines of ``old`` and ``new`` marked same/removed/added."""
    result = []
    for question in spec.questions:
        a = answer_lines(question, (old or {}).get(question.key))
        b = answer_lines(question, (new or {}).get(question.key))
        lines: list[tuple[str, str]] = []
        matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
        for op, i1, i2, j1, j2 in matcher.get_opcodes():
            if op == "equal":
                lines += [("same", line) for line in a[i1:i2]]
            else:
                lines += [("removed", line) for line in a[i1:i2]]
                lines += [("added", line) for line in b[j1:j2]]
        result.append(QuestionDiff(question, lines))
    return result


#: Workflow steps that mark the revision they were taken at on the revisions page.
MARKED_STEPS = ("submit", "request_changes", "approve", "reopen")
#: Steps that send a module back to the unit for changes, after a facilitator read it.
_CHANGE_REQUESTS = ("request_changes", "reopen")


def revision_marks(unit_module: UnitModule) -> dict[int, list[StateChange]]:
    """For each revision number, the workflow steps taken at it (submitted, changes
    requested, approved, reopened), oldest first, each kind of step once."""
    marks: dict[int, list[StateChange]] = {}
    for change in unit_module.state_changes:
        if change.action not in MARKED_STEPS or change.revision_number is None:
            continue
        steps = marks.setdefault(change.revision_number, [])
        if all(step.action != change.action for step in steps):
            steps.append(change)
    return marks


@dataclass
class ChangesSinceReview:
    """What a unit changed between the revision its facilitator asked changes for and the
    revision it has now submitted again."""

    request: StateChange
    reviewed: ModuleRevision
    submitted: ModuleRevision
    diff: list[QuestionDiff]  # only the questions whose answer changed


def changes_since_review(unit_module: UnitModule, spec: ModuleSpec) -> ChangesSinceReview | None:
    """For a module submitted again after changes were requested (or after it was
    reopened): the changes since the revision the facilitator reviewed. None when the
    module is not submitted, or was never sent back for changes."""
    if unit_module.state != ModuleState.SUBMITTED:
        return None
    steps = unit_module.state_changes
    submits = [i for i, step in enumerate(steps) if step.action == "submit"]
    if not submits:
        return None
    submit = steps[submits[-1]]
    request = next((step for step in reversed(steps[:submits[-1]])
                    if step.action in _CHANGE_REQUESTS), None)
    if request is None:
        return None
    # The two revisions compared, not the whole history.
    by_number = {r.number: r for r in db.session.scalars(select(ModuleRevision).where(
        ModuleRevision.unit_module_id == unit_module.id,
        ModuleRevision.number.in_([request.revision_number, submit.revision_number])))}
    reviewed = by_number.get(request.revision_number)
    submitted = by_number.get(submit.revision_number)
    if reviewed is None or submitted is None:
        return None
    diff = [d for d in diff_answers(spec, reviewed.answers, submitted.answers) if d.changed]
    return ChangesSinceReview(request, reviewed, submitted, diff)
