"""A measure as its run chart, its reading and its table; the equity reach as a table.

One function makes the chart for the unit's own page (every value as it is) and for
everything shown outside the unit – the public catalogue, its PDF, overviews for others –
where the small-number rule holds: a count of 1–4 citizens is drawn in the "<5" band and
written "<5", and a proportion that would reveal such a count is left out of the chart and
its table, with a note saying how many points are hidden.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import ngettext

from laks import runchart
from laks.privacy import small_count
from laks.services.testlog import parse_iso, point_label, point_value, suppressed

#: Where a hidden count (1–4) is drawn outside the unit: the middle of the "<5" band.
SMALL_BAND = 2.5


@dataclass
class Chart:
    """A measure ready to show: the SVG, the reading under it, the table beside it."""

    measure: dict
    svg: str
    reading: str
    rows: list[tuple[str, str, bool]] = field(default_factory=list)  # date, value, in a signal
    hidden: int = 0  # points left out outside the unit (small numbers)
    analysis: runchart.Analysis | None = None

    @property
    def text_alternative(self) -> str:
        """The chart in words, for a PDF's figure (/Alt)."""
        values = "; ".join(f"{d}: {v}" for d, v, _s in self.rows)
        return f"{self.measure['name']}. {self.reading} {values}".strip()


def measure_chart(measure: dict, points: list[dict], cycles: list[dict], *,
                  public: bool) -> Chart:
    """The run chart of ``measure`` over its ``points``, with the PDSA ``cycles`` marked on
    the time axis; ``public`` applies the small-number rule."""
    shown, hidden = [], 0
    for point in points:
        day = parse_iso(point.get("date"))
        value = point_value(measure, point)
        if day is None or value is None:
            continue
        if public and suppressed(measure, point):
            if measure["kind"] == "proportion":
                hidden += 1
                continue
            value = SMALL_BAND
        shown.append(runchart.ChartPoint(day, value, point_label(measure, point,
                                                                 public=public)))
    baseline = measure.get("baseline")
    analysis = runchart.analyse([p.value for p in shown],
                                baseline if baseline and baseline < len(shown) else None)
    marks = [(day, f"C{n}") for n, cycle in enumerate(cycles, start=1)
             if (day := parse_iso(cycle.get("date"))) is not None]
    svg = runchart.draw(shown, analysis, title=measure["name"], better=measure["better"],
                        goal=measure.get("goal"), percent=measure["kind"] == "proportion",
                        cycles=marks)
    reading = runchart.reading(analysis, measure["better"]) if shown else _(
        "No measurements yet.")
    if hidden:
        reading += " " + ngettext(
            "%(num)d measurement is not shown: it rests on fewer than 5 citizens.",
            "%(num)d measurements are not shown: they rest on fewer than 5 citizens.", hidden)
    signal = set(analysis.signal_points)
    rows = [(p.date.isoformat(), p.label, i in signal) for i, p in enumerate(shown)]
    return Chart(measure, svg, reading, rows, hidden, analysis)


@dataclass
class ReachRow:
    """One date of the equity reach: per stage the target group's count, everyone's count
    and the target group's share."""

    date: str
    stages: list[tuple[str, str, str]]  # (target, all, share) per stage, as text


def reach_summary(rows: list[dict], *, public: bool) -> list[ReachRow]:
    """The equity reach as a table: did we reach the citizens we meant to reach?"""
    out = []
    for row in rows:
        stages = []
        for stage in ("invited", "recruited", "started", "completed"):
            target, everyone = row.get(f"{stage}_target", 0), row.get(f"{stage}_all", 0)
            hide = public and (1 <= target <= 4 or 1 <= everyone <= 4)
            share = "" if hide or not everyone else f"{100 * target / everyone:.0f} %"
            count = small_count if public else str
            stages.append((count(target), count(everyone), share))
        out.append(ReachRow(row.get("date", ""), stages))
    return out
