"""What counts as an answer: the check that stands between a draft and submit.

Plain functions over stored answers (JSON), with no form library, so that the services and
the workflow can ask them without importing the web layer's forms.
"""

from __future__ import annotations

from laks.definitions.schema import ModuleSpec, Question


def is_answered(question: Question, value) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list):
        return len(value) > 0
    return True


def missing_required(spec: ModuleSpec, answers: dict) -> list[Question]:
    """The required questions that have no answer: what stands between a draft and submit.
    A retired question is never required."""
    return [q for q in spec.questions
            if q.required and not q.retired and not is_answered(q, answers.get(q.key))]
