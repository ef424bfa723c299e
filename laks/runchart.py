"""Run charts for a unit's PDSA cycles: the Anhøj rules, and the chart drawn as SVG.

A unit that tests a change in small cycles wants to know whether its measure has really
changed, or only wobbles as numbers do. A run chart answers that without any assumption
about the data's distribution: the measurements in time order, with their median as the
centre line. Two rules, published by Jacob Anhøj (Anhøj & Olesen 2014, "Run charts
revisited: a simulation study of run chart rules for detection of non-random variation in
health care processes", PLoS ONE 9(11): e113825; Anhøj 2015, "Diagnostic value of run chart
analysis", PLoS ONE 10(3): e0121349; implemented by the R package qicharts2), say when the
variation is not random:

* a *run* – consecutive points on the same side of the median – longer than
  ``round(log2(n) + 3)`` points signals a shift;
* fewer *crossings* of the median than the lower 5 % limit of a binomial distribution
  ``Bin(n - 1, 0.5)`` (R's ``qbinom(0.05, n - 1, 0.5)``) signals the same.

In both, ``n`` is the number of *useful* points: points exactly on the median belong to
neither side and are left out. Anhøj's rules have few false alarms from about 10 points on,
so with fewer nothing is judged. The median may be *frozen* on a baseline (the first points,
before the change), so that a later improvement shows as a run away from it.

The chart is drawn on the server as one self-contained SVG string, so that the web page
and the catalogue's PDF (WeasyPrint) show the same picture: no scripts, no external
references, user text escaped, only presentation attributes (the pages' Content Security
Policy allows no inline styles), and every meaning carried by shape or line style as well
as colour, so that it reads in greyscale. Drawing and reading need an app context (the
words and the date and number formats come from Flask-Babel).
"""

from __future__ import annotations

import hashlib
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from html import escape

from babel.core import Locale
from babel.dates import format_skeleton
from babel.numbers import format_decimal, format_percent
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

#: With fewer points than this a run chart is not judged (Anhøj: the rules' false alarm
#: and detection rates are only balanced from about 10 useful points on).
MIN_POINTS = 10
#: The lower tail of the binomial distribution that sets the crossings limit.
CROSSINGS_TAIL = (1, 20)  # 5 %, kept as a fraction so that the limit is computed exactly

ABOVE, BELOW = "above", "below"
BETTER = ("up", "down")


# --------------------------------------------------------------------------- analysis

@dataclass(frozen=True)
class Analysis:
    """The Anhøj rules applied to one series (see the module's docstring)."""

    n: int                 # data points
    median: float | None   # the centre line: median of the baseline points if frozen, else all
    baseline: int | None   # number of first points the median is frozen on (None: all points)
    useful: int            # points not on the median (the ones runs and crossings count)
    longest_run: int       # longest run of consecutive useful points on one side of the median
    run_limit: int         # round(log2(useful) + 3): a longest run above this is a signal
    crossings: int         # times the line crosses the median (between consecutive useful points)
    crossings_limit: int   # smallest k with P(X <= k) >= 0.05, X ~ Bin(useful - 1, 0.5)
    run_signal: bool
    crossings_signal: bool
    run_side: str | None   # "above" | "below" for the longest signalling run
    signal_points: tuple[int, ...]  # indexes of the points in every run longer than run_limit
    enough: bool           # n >= 10; with fewer points nothing is judged (no signals)


@dataclass(frozen=True)
class _Run:
    side: str
    indexes: tuple[int, ...]  # into the data; only useful points


def longest_run_limit(useful: int) -> int:
    """The longest run expected by chance among ``useful`` points: ``round(log2(n) + 3)``.
    A longer run is a signal. (log2 of a whole number is never exactly half-way, so Python's
    rounding and R's agree.)"""
    return round(math.log2(max(useful, 1)) + 3)


def fewest_crossings(useful: int) -> int:
    """The fewest crossings expected by chance among ``useful`` points: the smallest ``k``
    with ``P(X <= k) >= 0.05`` for ``X ~ Bin(useful - 1, 0.5)``, computed exactly in whole
    numbers. Fewer crossings than this are a signal."""
    trials = max(useful - 1, 0)
    share, whole = CROSSINGS_TAIL
    total = 2 ** trials
    cumulative = 0
    for k in range(trials + 1):
        cumulative += math.comb(trials, k)
        if cumulative * whole >= total * share:
            return k
    return trials  # not reached: the whole distribution sums to 1


def analyse(values: Sequence[float], baseline: int | None = None) -> Analysis:
    """Apply the Anhøj rules to ``values`` in time order. With ``baseline`` the median is
    frozen on the first ``baseline`` points (ignored while there are not that many yet)
    and the rules are applied to all points against it."""
    numbers = [_finite(value) for value in values]
    if baseline is not None and (isinstance(baseline, bool) or not isinstance(baseline, int)
                                 or baseline < 1):
        raise ValueError("baseline must be a whole number of points, at least 1")
    n = len(numbers)
    if baseline is not None and baseline > n:
        baseline = None  # not frozen until the baseline points are all there
    centre = numbers[:baseline] if baseline else numbers
    median = float(statistics.median(centre)) if centre else None
    sides = _sides(numbers, median)
    useful = sum(side is not None for side in sides)
    runs = _runs(sides)
    crossings = sum(a.side != b.side for a, b in zip(runs, runs[1:], strict=False))
    longest = max((len(run.indexes) for run in runs), default=0)
    run_limit, crossings_limit = longest_run_limit(useful), fewest_crossings(useful)
    enough = n >= MIN_POINTS
    signalling = [run for run in runs if len(run.indexes) > run_limit] if enough else []
    run_side = None
    if signalling:  # the longest; of equally long ones the latest
        run_side = max(reversed(signalling), key=lambda run: len(run.indexes)).side
    return Analysis(
        n=n, median=median, baseline=baseline, useful=useful, longest_run=longest,
        run_limit=run_limit, crossings=crossings, crossings_limit=crossings_limit,
        run_signal=bool(signalling), crossings_signal=enough and crossings < crossings_limit,
        run_side=run_side,
        signal_points=tuple(i for run in signalling for i in run.indexes), enough=enough)


def _finite(value: float) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"a run chart needs finite numbers, not {value!r}")
    return number


def _sides(values: list[float], median: float | None) -> list[str | None]:
    """Each point's side of the median; ``None`` for a point on it. The median of an even
    count is the mean of two values, so "on it" allows for floating-point rounding."""
    if median is None:
        return []
    return [None if math.isclose(v, median, rel_tol=1e-9, abs_tol=1e-12)
            else ABOVE if v > median else BELOW for v in values]


def _runs(sides: list[str | None]) -> list[_Run]:
    """The runs of useful points, in order; points on the median neither end nor join one."""
    runs: list[_Run] = []
    for index, side in enumerate(sides):
        if side is None:
            continue
        if runs and runs[-1].side == side:
            runs[-1] = _Run(side, (*runs[-1].indexes, index))
        else:
            runs.append(_Run(side, (index,)))
    return runs


def reading(analysis: Analysis, better: str) -> str:
    """What the chart says, in one or two plain sentences (the page shows it under the
    chart). ``better`` is the measure's good direction, ``"up"`` or ``"down"``."""
    if better not in BETTER:
        raise ValueError(f"better must be 'up' or 'down', not {better!r}")
    if not analysis.enough:
        return ngettext("Cannot be judged yet: %(num)d point, at least %(least)d are needed.",
                        "Cannot be judged yet: %(num)d points, at least %(least)d are needed.",
                        analysis.n, least=MIN_POINTS)
    crossings = {"crossings": analysis.crossings, "limit": analysis.crossings_limit}
    if analysis.run_signal:
        sentence = _run_sentence(analysis.longest_run, analysis.run_side, better)
        if analysis.crossings_signal:
            sentence += " " + _("There are also too few crossings of the median "
                                "(%(crossings)d, expected at least %(limit)d).", **crossings)
        return sentence
    if analysis.crossings_signal:
        return _("Sign of change: too few crossings of the median (%(crossings)d, expected "
                 "at least %(limit)d).", **crossings)
    return _("No sign of change yet.")


def _run_sentence(length: int, side: str | None, better: str) -> str:
    improved = (side == ABOVE) == (better == "up")
    if improved and side == ABOVE:
        return ngettext("Sign of improvement: %(num)d point in a row above the median.",
                        "Sign of improvement: %(num)d points in a row above the median.",
                        length)
    if improved:
        return ngettext("Sign of improvement: %(num)d point in a row below the median.",
                        "Sign of improvement: %(num)d points in a row below the median.",
                        length)
    if side == ABOVE:
        return ngettext("Sign of deterioration: %(num)d point in a row above the median.",
                        "Sign of deterioration: %(num)d points in a row above the median.",
                        length)
    return ngettext("Sign of deterioration: %(num)d point in a row below the median.",
                    "Sign of deterioration: %(num)d points in a row below the median.",
                    length)


# --------------------------------------------------------------------------- drawing

@dataclass(frozen=True)
class ChartPoint:
    """One measurement. ``label`` is how the value is written in the chart's tooltip (and
    the page's table), e.g. "12", "40 %" or "<5"; empty: the value, formatted."""

    date: date
    value: float
    label: str = ""


# The look. Sizes are in the SVG's own units: a 640 wide chart is shown at about half size
# on a phone and at 120 mm in the PDF, so the text is drawn large. Colours differ in
# lightness too, and every meaning also has a shape or line style of its own.
FONT = "'Laks Plex', 'IBM Plex Sans', sans-serif"
INK, GREY, LIGHT, GRID = "#1b2733", "#4f5b66", "#b4bcc4", "#e2e6ea"
DATA, SIGNAL, GOAL, BAND = "#0f3b5f", "#b54708", "#1d6b35", "#eceff3"
SIZE, TITLE = 20, 22   # font sizes: everything, and the title
LEADING = 24           # from one line of text to the next
#: Character widths in font sizes, a little over IBM Plex Sans's (and near DejaVu Sans's,
#: the fallback): an SVG cannot measure its text, so labels are spaced by these.
NARROW, DIGIT, WIDE, OTHER = 0.32, 0.6, 0.88, 0.56
_NARROW_CHARS, _WIDE_CHARS = set(" .,:;()[]!|'\"iljtfrI-"), set("mwMW%@æÆ")
MARKER, DIAMOND = 6.5, 10.5  # circle radius, diamond half-diagonal


@dataclass(frozen=True)
class _Frame:
    """The plot area and its scales: dates to x, values to y."""

    left: float
    top: float
    right: float
    bottom: float
    first: int   # date ordinals at the ends of the time axis
    last: int
    low: float   # values at the bottom and top of the value axis
    high: float

    PAD = 16  # space between the plot's sides and the first and last dates

    def x(self, day: date) -> float:
        inner = self.right - self.left - 2 * self.PAD
        return self.left + self.PAD + inner * (day.toordinal() - self.first) / (
            self.last - self.first)

    def y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * (value - self.low) / (
            self.high - self.low)


def draw(points: Sequence[ChartPoint], analysis: Analysis, *, title: str, better: str,
         goal: float | None = None, percent: bool = False,
         cycles: Sequence[tuple[date, str]] = (), width: int = 640, height: int = 320) -> str:
    """The run chart as one SVG document: ``points`` in time order (those ``analysis`` was
    made from), placed by date; the median; the ``goal`` as a dotted line; points in a
    signalling run as diamonds; PDSA ``cycles`` (start date, what was tested – shown as
    the tooltip) as "C1", "C2", … at their dates. With ``percent`` the values and the goal
    are percentages (0–100). With no points: a short SVG saying there are no measurements
    yet. Needs an app context."""
    if better not in BETTER:
        raise ValueError(f"better must be 'up' or 'down', not {better!r}")
    if len(points) != analysis.n:
        raise ValueError("the analysis was not made from these points")
    locale = _locale()
    key = _key(points, analysis, title, goal, percent, cycles, width, height)
    if not points:
        return _empty(title, key, width)
    number = _percent_text if percent else _number_text
    desc = " ".join(filter(None, [
        reading(analysis, better),
        ngettext("%(num)d point, median %(median)s.", "%(num)d points, median %(median)s.",
                 analysis.n, median=number(analysis.median, locale)),
        _("Goal %(goal)s.", goal=number(goal, locale)) if goal is not None else "",
    ]))
    frame, ticks, rows = _layout(points, analysis, goal, percent, cycles, width, height)
    parts = [
        _title_text(title, width),
        _baseline_band(frame, points, analysis),
        _value_axis(frame, ticks, [number(tick, locale) for tick in ticks]),
        _time_axis(frame, points, locale),
        _cycles(frame, cycles, rows, locale),
        _reference_lines(frame, analysis, goal),
        _data(frame, points, analysis.signal_points, locale, number),
        _legend(frame, bool(analysis.signal_points), height),
    ]
    return _document(key, width, height, title, desc, "".join(parts))


def _layout(points: Sequence[ChartPoint], analysis: Analysis, goal: float | None,
            percent: bool, cycles: Sequence[tuple[date, str]], width: int,
            height: int) -> tuple[_Frame, list[float], list[int | None]]:
    """The plot area, the value axis' ticks and the row of each cycle's label: the margins
    make room for the tick labels, the names of the lines, the cycles' labels (one or two
    rows), the dates with their years and the legend."""
    locale = _locale()
    ticks, low, high = _value_ticks([p.value for p in points], analysis.median, goal, percent)
    number = _percent_text if percent else _number_text
    left_texts = [number(tick, locale) for tick in ticks] + ([_("PDSA")] if cycles else [])
    days = [p.date for p in points] + [day for day, _what in cycles]
    first, last = min(days).toordinal(), max(days).toordinal()
    if first == last:
        first, last = first - 1, last + 1
    first_label = _width(_date_text(min(p.date for p in points), locale)) / 2
    left = max(18 + max(_width(text) for text in left_texts), first_label - _Frame.PAD + 4)
    right = width - 18 - _line_label_width(analysis)
    frame = _Frame(left, 0, right, 1, first, last, low, high)
    rows = _cycle_rows([frame.x(day) for day, _what in cycles])
    bands = max((row + 1 for row in rows if row is not None), default=0)
    top = TITLE + 16 + bands * LEADING + 16
    below = SIZE + 6 + LEADING + 6 + (LEADING + 8 if analysis.signal_points else 0)
    return replace(frame, top=top, bottom=height - below), ticks, rows


# ---- the document and its text

def _document(key: str, width: int, height: int, title: str, desc: str, body: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{key}-title {key}-desc" '
        f'font-family="{FONT}" fill="{INK}">'
        f'<title id="{key}-title">{_esc(title)}</title>'
        f'<desc id="{key}-desc">{_esc(desc)}</desc>'
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>{body}</svg>')


def _empty(title: str, key: str, width: int) -> str:
    message = _("No measurements yet")
    height = 96
    body = (_title_text(title, width)
            + _text(width / 2, 72, message, anchor="middle", fill=GREY, cls="empty"))
    return _document(key, width, height, title, message + ".", body)


def _key(*parts: object) -> str:
    """An id prefix for the title and desc that differs between charts on one page."""
    return "runchart-" + hashlib.sha256(repr(parts).encode()).hexdigest()[:10]


#: Characters XML does not allow, even escaped: user text loses them rather than break
#: the document.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _esc(text: str) -> str:
    return escape(_NOT_XML.sub("", str(text)), quote=True)


def _n(value: float) -> str:
    """A coordinate: at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _width(text: str, size: float = SIZE) -> float:
    """Roughly how wide ``text`` is drawn (a little generous)."""
    return size * sum(_char_width(char) for char in text)


def _char_width(char: str) -> float:
    if char.isdigit():
        return DIGIT
    if char in _NARROW_CHARS:
        return NARROW
    return WIDE if char in _WIDE_CHARS else OTHER


def _text(x: float, y: float, text: str, *, size: float = SIZE, anchor: str = "start",
          fill: str = INK, bold: bool = False, cls: str = "") -> str:
    extra = (' font-weight="600"' if bold else "") + (f' class="{cls}"' if cls else "")
    return (f'<text x="{_n(x)}" y="{_n(y)}" font-size="{size}" text-anchor="{anchor}" '
            f'fill="{fill}"{extra}>{_esc(text)}</text>')


def _title_text(title: str, width: int) -> str:
    """The title, shortened with "…" where it would not fit (the <title> holds it all)."""
    room, shown = width - 16, title
    if _width(title, TITLE) > room:
        while len(shown) > 1 and _width(shown + "…", TITLE) > room:
            shown = shown[:-1]
        shown = shown.rstrip() + "…"
    return _text(8, TITLE + 5, shown, size=TITLE, bold=True, cls="chart-title")


def _locale() -> Locale:
    return get_locale() or Locale.parse("da")


def _number_text(value: float, locale: Locale) -> str:
    return format_decimal(round(value, 2), format="#,##0.##", locale=locale)


def _percent_text(value: float, locale: Locale) -> str:
    pattern = locale.percent_formats[None].pattern.replace("0", "0.#", 1)
    return format_percent(round(value, 1) / 100, format=pattern, locale=locale)


def _date_text(day: date, locale: Locale) -> str:
    return format_skeleton("MMMd", day, locale=locale)


# ---- the value axis

def _value_ticks(values: list[float], median: float | None, goal: float | None,
                 percent: bool) -> tuple[list[float], float, float]:
    """A few round values for the value axis, from 0 (or below, for negative values) to
    just above everything drawn; 0 %–100 % in steps of 25 for percentages."""
    shown = [*values, *(v for v in (median, goal) if v is not None)]
    low, high = min(0.0, *shown), max(shown)
    if percent and low >= 0 and high <= 100:
        return [0.0, 25.0, 50.0, 75.0, 100.0], 0.0, 100.0
    step = _round_step((high - low) / 4)
    if all(float(v).is_integer() for v in shown):
        step = max(step, 1.0)  # counts: no "0,5 citizens" on the axis
    bottom = math.floor(low / step) * step
    top = max(math.ceil(high / step) * step, bottom + step)
    count = round((top - bottom) / step)
    return [bottom + i * step for i in range(count + 1)], bottom, top


def _round_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × a power of ten that is at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def _value_axis(frame: _Frame, ticks: list[float], texts: list[str]) -> str:
    parts = []
    for value, text in zip(ticks, texts, strict=True):
        y = frame.y(value)
        colour = LIGHT if value == frame.low else GRID
        parts.append(
            f'<g class="y-tick"><line x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
            f'y1="{_n(y)}" y2="{_n(y)}" stroke="{colour}" stroke-width="1.2"/>'
            + _text(frame.left - 8, y + SIZE * 0.35, text, anchor="end", fill=GREY)
            + "</g>")
    return "".join(parts)


# ---- the time axis

def _time_axis(frame: _Frame, points: Sequence[ChartPoint], locale: Locale) -> str:
    """The dates of the points, as many as fit without overlapping (the first and the
    last among them), with the year under the first and wherever it changes."""
    dates = sorted({p.date for p in points})
    labels = _thin([(frame.x(day), _date_text(day, locale), day) for day in dates],
                   2, frame.right + 40)
    y = frame.bottom + SIZE + 6
    parts = [f'<line class="x-axis" x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
             f'y1="{_n(frame.bottom)}" y2="{_n(frame.bottom)}" stroke="{GREY}" '
             f'stroke-width="1.5"/>']
    year = None
    for x, text, day in labels:
        parts.append(f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.bottom)}" '
                     f'y2="{_n(frame.bottom + 6)}" stroke="{GREY}" stroke-width="1.5"/>')
        parts.append(_text(x, y, text, anchor="middle", fill=GREY, cls="x-label"))
        if day.year != year:
            parts.append(_text(x, y + LEADING, str(day.year), anchor="middle", fill=GREY,
                               cls="x-year"))
            year = day.year
    return "".join(parts)


def _thin(labels: list[tuple[float, str, date]], start: float,
          end: float) -> list[tuple[float, str, date]]:
    """The labels (centred at x) that fit between ``start`` and ``end`` without touching:
    from the left, then the last one in place of any it would overlap."""
    gap = 12

    def edges(label):
        half = _width(label[1]) / 2
        return label[0] - half, label[0] + half

    kept: list[tuple[float, str, date]] = []
    for label in labels:
        lo, hi = edges(label)
        if lo >= start and hi <= end and (not kept or lo >= edges(kept[-1])[1] + gap):
            kept.append(label)
    if kept and kept[-1] is not labels[-1]:
        lo, hi = edges(labels[-1])
        if hi <= end:
            while len(kept) > 1 and edges(kept[-1])[1] + gap > lo:
                kept.pop()
            if edges(kept[-1])[1] + gap <= lo:
                kept.append(labels[-1])
    return kept


# ---- what lies behind and on the data

def _baseline_band(frame: _Frame, points: Sequence[ChartPoint], analysis: Analysis) -> str:
    """A frozen median's baseline period: a light band behind its points, named."""
    if not analysis.baseline:
        return ""
    end_day = points[analysis.baseline - 1].date
    later = [p.date for p in points[analysis.baseline:] if p.date > end_day]
    end = (frame.x(end_day) + frame.x(min(later))) / 2 if later else frame.right
    return (f'<rect class="baseline" x="{_n(frame.left)}" y="{_n(frame.top)}" '
            f'width="{_n(end - frame.left)}" height="{_n(frame.bottom - frame.top)}" '
            f'fill="{BAND}"/>'
            + _text(frame.left + 6, frame.top + SIZE + 2, _("Baseline"), fill=GREY,
                    cls="baseline-label"))


def _cycle_rows(xs: list[float]) -> list[int | None]:
    """The row (0 next to the plot, 1 above it) of each cycle's label "C1", "C2", …: the
    first row where it does not touch the label before it; ``None`` where neither has
    room (the cycle keeps its guide line and tooltip)."""
    ends = [-math.inf, -math.inf]
    rows: list[int | None] = []
    for number, x in enumerate(xs, start=1):
        half = _width(f"C{number}") / 2
        row = next((r for r in (0, 1) if x - half >= ends[r] + 6), None)
        if row is not None:
            ends[row] = x + half
        rows.append(row)
    return rows


def _cycles(frame: _Frame, cycles: Sequence[tuple[date, str]], rows: list[int | None],
            locale: Locale) -> str:
    """Each PDSA cycle at its start date: its label above the plot, a faint guide down
    through the plot and a tick on the time axis; what was tested in its tooltip. Where
    cycles lie too close for their labels, the unlabelled ones keep only the tick."""
    if not cycles:
        return ""
    base = frame.top - 16
    parts = [_text(frame.left - 8, base, _("PDSA"), anchor="end", fill=GREY)]
    for number, ((day, what), row) in enumerate(zip(cycles, rows, strict=True), start=1):
        x = frame.x(day)
        name = f"C{number}"
        tooltip = f"{name}, {_date_text(day, locale)}"
        if what and what != name:
            tooltip += f": {what}"
        label = guide = ""  # a cycle without room for its label keeps only its tick
        if row is not None:
            label = _text(x, base - row * LEADING, name, anchor="middle", bold=True,
                          cls="cycle-label")
            guide = (f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.top - 6)}" '
                     f'y2="{_n(frame.bottom)}" stroke="{LIGHT}" stroke-width="1.2" '
                     f'stroke-dasharray="5 4"/>')
        parts.append(
            f'<g class="cycle"><title>{_esc(tooltip)}</title>{guide}'
            f'<line class="cycle-tick" x1="{_n(x)}" x2="{_n(x)}" y1="{_n(frame.bottom - 9)}" '
            f'y2="{_n(frame.bottom + 4)}" stroke="{INK}" stroke-width="2.5"/>{label}</g>')
    return "".join(parts)


def _median_names(analysis: Analysis) -> list[str]:
    return [_("Median")] + ([_("(frozen)")] if analysis.baseline else [])


def _line_label_width(analysis: Analysis) -> float:
    return max(_width(word) for word in [*_median_names(analysis), _("Goal")])


def _reference_lines(frame: _Frame, analysis: Analysis, goal: float | None) -> str:
    """The median (solid) and the goal (dotted), named in the right margin; the names are
    moved apart where the lines lie close."""
    lines = [(frame.y(analysis.median), _median_names(analysis), "median",
              f'stroke="{GREY}" stroke-width="2.5"')]
    if goal is not None:
        lines.append((frame.y(goal), [_("Goal")], "goal",
                      f'stroke="{GOAL}" stroke-width="4" stroke-linecap="round" '
                      f'stroke-dasharray="0.1 8"'))
    label_ys = _spread([(y, len(names)) for y, names, _cls, _attrs in lines])
    parts = []
    for (y, names, cls, attrs), label_y in zip(lines, label_ys, strict=True):
        parts.append(f'<line class="{cls}" x1="{_n(frame.left)}" x2="{_n(frame.right)}" '
                     f'y1="{_n(y)}" y2="{_n(y)}" {attrs}/>')
        for i, name in enumerate(names):
            parts.append(_text(frame.right + 8, label_y + SIZE * 0.35 + i * LEADING, name,
                               bold=i == 0, fill=GOAL if cls == "goal" else INK,
                               cls=f"{cls}-label"))
    return "".join(parts)


def _spread(labels: list[tuple[float, int]]) -> list[float]:
    """y positions for the names of the lines (each of 1–2 lines of text, at most two
    names: the median's and the goal's), moved apart where they would overlap."""
    if len(labels) < 2:
        return [y for y, _lines in labels]
    (y1, n1), (y2, n2) = labels
    upper_first = y1 <= y2
    (ya, na), yb = ((y1, n1), y2) if upper_first else ((y2, n2), y1)
    need = LEADING * na + 2  # the upper name's height
    if yb - ya < need:
        middle = (ya + yb) / 2
        ya, yb = middle - need / 2, middle + need / 2
    return [ya, yb] if upper_first else [yb, ya]


# ---- the data

def _data(frame: _Frame, points: Sequence[ChartPoint], signals: tuple[int, ...],
          locale: Locale, number) -> str:
    """The line through the points, a round marker on each; larger diamonds, in another
    colour, on the points of a signalling run. Each marker's tooltip gives date and value."""
    path = " ".join(f"{'M' if i == 0 else 'L'}{_n(frame.x(p.date))},{_n(frame.y(p.value))}"
                    for i, p in enumerate(points))
    parts = [f'<path class="data-line" d="{path}" fill="none" stroke="{DATA}" '
             f'stroke-width="3" stroke-linejoin="round"/>']
    signalling = set(signals)
    for index, point in enumerate(points):
        x, y = frame.x(point.date), frame.y(point.value)
        when = format_skeleton("yMMMd", point.date, locale=locale)
        tip = f"<title>{_esc(when)}: {_esc(point.label or number(point.value, locale))}</title>"
        if index in signalling:
            parts.append(f'<path class="point signal" d="{_diamond(x, y, DIAMOND)}" '
                         f'fill="{SIGNAL}" stroke="#ffffff" stroke-width="1.5">{tip}</path>')
        else:
            parts.append(f'<circle class="point" cx="{_n(x)}" cy="{_n(y)}" r="{MARKER}" '
                         f'fill="{DATA}" stroke="#ffffff" stroke-width="1.5">{tip}</circle>')
    return "".join(parts)


def _diamond(x: float, y: float, half: float) -> str:
    return (f"M{_n(x)},{_n(y - half)} L{_n(x + half)},{_n(y)} L{_n(x)},{_n(y + half)} "
            f"L{_n(x - half)},{_n(y)} Z")


def _legend(frame: _Frame, signals: bool, height: int) -> str:
    """What the diamonds mean, under the dates, when there are any."""
    if not signals:
        return ""
    y = height - 10
    return (f'<g class="legend"><path d="{_diamond(frame.left + 2, y - 6, 8)}" '
            f'fill="{SIGNAL}"/>'
            + _text(frame.left + 16, y, _("Unusually long run on one side of the median"))
            + "</g>")
