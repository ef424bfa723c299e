"""Comparing two versions of a module's answers, question by question."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask_babel import format_decimal

from laks.definitions import ModuleSpec, Question
from laks.enums import QuestionKind
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
