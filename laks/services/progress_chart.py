"""A unit's progress scores as a small trajectory, drawn on the server as SVG.

Drawn as laks.runchart draws its charts, so that it obeys the pages' Content Security
Policy and reads without colour: one self-contained SVG string, no script, no style
attribute, user text escaped, ``role="img"`` with a title and a description in words. The
IHI scale (0.5 … 5.0) runs up the side with a line at every whole score; the scores are
placed by the moment they were set, joined by a line, each a circle with its date, score and
the scale's words as a tooltip; the latest is larger and has its score written beside it.
The page lists every score under the chart as well (the text alternative in full).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from html import escape

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from laks.enums import IHI_SCALE
from laks.models import ProgressScore

WIDTH, HEIGHT = 480, 220
#: The plot area inside the drawing: room for the scores on the left, the dates below.
LEFT, RIGHT, TOP, BOTTOM = 56, 448, 20, 172
#: The values at the bottom and the top of the plot (a little beyond the scale's ends).
LOW, HIGH = 0.25, 5.25
FONT = "'IBM Plex Sans', sans-serif"
INK, GREY, GRID, LINE = "#1b2733", "#4f5b66", "#d5dbe1", "#0f3b5f"
SIZE = 18  # shown at its own size on a wide screen, at about 70 % on a phone


def score_text(half_steps: int) -> str:
    """A score as the reader writes numbers: "3,5" in Danish, "3.5" in English."""
    return format_decimal(half_steps / 2, format="0.0")


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _x(scores: Sequence[ProgressScore], index: int) -> float:
    """Where a score sits in time; one score alone sits in the middle."""
    moments = [s.set_at.timestamp() for s in scores]
    first, last = min(moments), max(moments)
    if last == first:
        return (LEFT + RIGHT) / 2 if len(scores) == 1 else \
            LEFT + 16 + (RIGHT - LEFT - 32) * index / (len(scores) - 1)
    return LEFT + 16 + (RIGHT - LEFT - 32) * (moments[index] - first) / (last - first)


def _y(half_steps: float) -> float:
    return BOTTOM - (BOTTOM - TOP) * (half_steps / 2 - LOW) / (HIGH - LOW)


def _text(x: float, y: float, text: str, *, anchor: str = "start", fill: str = INK,
          bold: bool = False) -> str:
    weight = ' font-weight="600"' if bold else ""
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{SIZE}" text-anchor="{anchor}" '
            f'fill="{fill}"{weight}>{escape(text)}</text>')


def description(scores: Sequence[ProgressScore]) -> str:
    """The trajectory in one or two sentences (the SVG's description)."""
    latest = scores[-1]
    said = ngettext(
        "%(num)d progress score, set %(first)s.",
        "%(num)d progress scores, from %(first)s to %(last)s.", len(scores),
        first=format_date(scores[0].set_at, "long"), last=format_date(latest.set_at, "long"))
    if len(scores) > 1:
        said += " " + _("From %(first)s to %(latest)s.", first=score_text(scores[0].half_steps),
                        latest=score_text(latest.half_steps))
    return said + " " + _("The latest: %(score)s, %(words)s.",
                          score=score_text(latest.half_steps),
                          words=IHI_SCALE[latest.half_steps])


def trajectory_svg(scores: Sequence[ProgressScore]) -> str:
    """The trajectory of ``scores`` (oldest first, as laks.services.progress.history gives
    them) as one SVG document; the empty string when there is none. Needs an app context
    (the words, dates and numbers follow the reader's language)."""
    if not scores:
        return ""
    key = "progress-" + hashlib.sha256(
        repr([(s.id, s.half_steps, s.set_at) for s in scores]).encode()).hexdigest()[:10]
    title = _("Progress on the IHI scale")
    parts = [f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>']
    for whole in range(1, 6):
        y = _y(2 * whole)
        parts.append(f'<line x1="{LEFT}" y1="{_n(y)}" x2="{RIGHT}" y2="{_n(y)}" '
                     f'stroke="{GRID}" stroke-width="1.5"/>')
        parts.append(_text(LEFT - 14, y + 7, score_text(2 * whole), anchor="end", fill=GREY))
    parts.append(f'<line x1="{LEFT}" y1="{BOTTOM}" x2="{RIGHT}" y2="{BOTTOM}" '
                 f'stroke="{GREY}" stroke-width="1.5"/>')
    points = [(_x(scores, i), _y(s.half_steps)) for i, s in enumerate(scores)]
    if len(points) > 1:
        path = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" '
                     f'stroke-width="3" stroke-linejoin="round"/>')
    for (x, y), score in zip(points, scores, strict=True):
        latest = score is scores[-1]
        tip = _("%(date)s: %(score)s, %(words)s", date=format_date(score.set_at, "long"),
                score=score_text(score.half_steps), words=IHI_SCALE[score.half_steps])
        parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{9 if latest else 6}" '
                     f'fill="{LINE}" stroke="#ffffff" stroke-width="2">'
                     f'<title>{escape(tip)}</title></circle>')
    x, y = points[-1]
    right_room = x + 16 + 2 * SIZE < WIDTH
    parts.append(_text(x + 16 if right_room else x - 16, y - 12,
                       score_text(scores[-1].half_steps), anchor="start" if right_room
                       else "end", bold=True))
    first, last = scores[0].set_at, scores[-1].set_at
    baseline = BOTTOM + SIZE + 10
    if format_date(first, "medium") == format_date(last, "medium"):
        parts.append(_text((LEFT + RIGHT) / 2, baseline, format_date(last, "medium"),
                           anchor="middle", fill=GREY))
    else:
        parts.append(_text(LEFT, baseline, format_date(first, "medium"), fill=GREY))
        parts.append(_text(RIGHT, baseline, format_date(last, "medium"), anchor="end",
                           fill=GREY))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="100%" role="img" aria-labelledby="{key}-title {key}-desc" '
        f'font-family="{FONT}" fill="{INK}" class="trajectory">'
        f'<title id="{key}-title">{escape(title)}</title>'
        f'<desc id="{key}-desc">{escape(description(scores))}</desc>'
        + "".join(parts) + "</svg>")
