"""Run charts: the Anhøj rules against their published critical values and worked series,
the plain-language reading in Danish, and the SVG – its structure, its escaping, and how
WeasyPrint renders it."""

from __future__ import annotations

import base64
import re
import subprocess
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from fractions import Fraction

import pytest
from flask_babel import force_locale

from laks.runchart import (
    Analysis,
    ChartPoint,
    analyse,
    draw,
    fewest_crossings,
    longest_run_limit,
    reading,
)

SVG = "{http://www.w3.org/2000/svg}"

# Worked series (the sides, runs and crossings are spelled out in each test).
NO_SIGNAL = [5, 8, 6, 9, 4, 7, 8, 5, 9, 6, 7, 4]
SHIFT = [7, 13, 8, 12, 6, 14, 7, 13, 9, 11, 8, 12, 15, 16, 14, 17, 15, 16, 18, 15]
FEW_CROSSINGS = [1, 2, 1, 2, 1, 9, 8, 9, 8, 9, 2, 1, 2, 1, 2, 8, 9, 8, 9, 8]
ON_MEDIAN = [7, 7, 7, 5, 7, 7, 7, 5, 7, 7, 3, 3, 5, 3, 3, 3, 3, 3, 7]
BASELINE = [38, 42, 35, 40, 44, 37, 41, 39, 36, 43, 40, 38]
AFTER_CHANGE = [41, 46, 42, 47, 43, 48, 44, 49]


# ---------------------------------------------------------------- the critical values

def _pascal_row(n: int) -> list[int]:
    row = [1]
    for _ in range(n):
        row = [a + b for a, b in zip([0, *row], [*row, 0], strict=True)]
    return row


def _independent_limits(useful: int) -> tuple[int, int]:
    """Anhøj's limits computed another way than laks does: round(log2 n) in whole numbers
    (the k with 2^(2k-1) <= n² < 2^(2k+1)), and qbinom(0.05, n - 1, 0.5) from Pascal's
    triangle with exact fractions."""
    k = 0
    while useful * useful >= 2 ** (2 * k + 1):
        k += 1
    row = _pascal_row(useful - 1)
    total, cumulative = sum(row), 0
    for crossings, count in enumerate(row):
        cumulative += count
        if Fraction(cumulative, total) >= Fraction(5, 100):
            return k + 3, crossings
    raise AssertionError("unreachable")


@pytest.mark.parametrize("useful", range(10, 41))
def test_runchart_limits_match_an_independent_computation(useful):
    assert (longest_run_limit(useful), fewest_crossings(useful)) == _independent_limits(useful)


@pytest.mark.parametrize(("useful", "run", "crossings"), [
    (10, 6, 2), (12, 7, 3), (14, 7, 4), (17, 7, 5), (19, 7, 6), (20, 7, 6), (22, 7, 7),
    (23, 8, 7), (24, 8, 8), (27, 8, 9), (30, 8, 10), (34, 8, 12), (40, 8, 14),
])
def test_runchart_limits_match_the_published_table(useful, run, crossings):
    """Anhøj & Olesen 2014, table 1: a longest run above `run`, or fewer crossings than
    `crossings`, is a signal."""
    assert longest_run_limit(useful) == run
    assert fewest_crossings(useful) == crossings


@pytest.mark.parametrize("n", [10, 17, 24, 33])
def test_runchart_analysis_takes_its_limits_from_the_useful_points(n):
    alternating = [1 if i % 2 else 3 for i in range(n)]
    on_median = [2, 2, 2]  # the median of the whole series stays 2: three more useless points
    analysis = analyse(alternating + on_median)
    assert analysis.useful == n
    assert (analysis.run_limit, analysis.crossings_limit) == _independent_limits(n)


# ---------------------------------------------------------------- worked series

def test_runchart_random_looking_series_has_no_signal():
    # median 6.5; sides B A B A B A A B A B A B: longest run 2, 10 crossings;
    # limits for 12 useful points: a run over 7, fewer than 3 crossings.
    analysis = analyse(NO_SIGNAL)
    assert analysis == Analysis(
        n=12, median=6.5, baseline=None, useful=12, longest_run=2, run_limit=7,
        crossings=10, crossings_limit=3, run_signal=False, crossings_signal=False,
        run_side=None, signal_points=(), enough=True)


def test_runchart_shift_after_a_change_is_a_run_above_the_median():
    # median 13 (two points on it); before the change the points wander below and above,
    # then 8 in a row above: longer than the 7 allowed for 18 useful points.
    analysis = analyse(SHIFT)
    assert analysis.median == 13
    assert analysis.useful == 18
    assert (analysis.longest_run, analysis.run_limit) == (8, 7)
    assert analysis.run_signal and analysis.run_side == "above"
    assert analysis.signal_points == tuple(range(12, 20))
    # B (·) B B B A B (·) B B B B → A×8: three crossings, fewer than the 5 expected
    assert (analysis.crossings, analysis.crossings_limit) == (3, 5)
    assert analysis.crossings_signal


def test_runchart_too_few_crossings_without_a_long_run():
    # runs of five below and above the median 5: longest run 5 (allowed 7), 3 crossings
    # where 20 useful points should cross at least 6 times.
    analysis = analyse(FEW_CROSSINGS)
    assert analysis.median == 5
    assert (analysis.longest_run, analysis.run_limit) == (5, 7)
    assert (analysis.crossings, analysis.crossings_limit) == (3, 6)
    assert analysis.crossings_signal and not analysis.run_signal
    assert analysis.run_side is None and analysis.signal_points == ()


def test_runchart_points_on_the_median_are_ignored():
    # median 5 (indexes 3, 7 and 12 lie on it): 16 useful points; the run above goes on
    # across the points on the median – 8 points, where 16 useful points allow 7.
    analysis = analyse(ON_MEDIAN)
    assert analysis.median == 5
    assert analysis.useful == 16
    assert (analysis.longest_run, analysis.run_limit) == (8, 7)
    assert analysis.signal_points == (0, 1, 2, 4, 5, 6, 8, 9)
    assert analysis.run_side == "above"
    assert (analysis.crossings, analysis.crossings_limit) == (2, 4)


def test_runchart_frozen_baseline_shows_later_improvement_as_a_shift():
    values = BASELINE + AFTER_CHANGE
    # Over all 20 points the median (41.5) rises with the improvement and hides it:
    # the longest run is 7, the limit.
    unfrozen = analyse(values)
    assert unfrozen.median == 41.5
    assert unfrozen.longest_run == 7 and not unfrozen.run_signal
    assert not unfrozen.crossings_signal
    # Frozen on the 12 baseline points (median 39.5) all 8 later points lie above it.
    frozen = analyse(values, baseline=12)
    assert (frozen.median, frozen.baseline) == (39.5, 12)
    assert frozen.run_signal and frozen.run_side == "above"
    assert frozen.signal_points == tuple(range(12, 20))
    assert (frozen.crossings, frozen.crossings_limit) == (9, 6)


def test_runchart_baseline_waits_for_its_points():
    analysis = analyse(BASELINE[:8], baseline=12)
    assert analysis.baseline is None
    assert analysis.median == 39.5  # of all eight points so far
    with pytest.raises(ValueError):
        analyse(BASELINE, baseline=0)


def test_runchart_fewer_than_ten_points_are_not_judged():
    # nine points with a clear pattern (a run of 4 below, one crossing): nothing is judged
    analysis = analyse([1, 2, 1, 2, 9, 8, 9, 8, 9])
    assert analysis.n == 9 and not analysis.enough
    assert not analysis.run_signal and not analysis.crossings_signal
    assert analysis.signal_points == () and analysis.run_side is None
    # the same rules judge ten points
    judged = analyse(FEW_CROSSINGS[:10])
    assert judged.enough and (judged.crossings, judged.crossings_limit) == (1, 2)
    assert judged.crossings_signal


def test_runchart_equally_long_runs_take_the_latest_side():
    analysis = analyse([1] * 8 + [9] * 8)
    assert analysis.signal_points == tuple(range(16))
    assert analysis.run_side == "above"


def test_runchart_no_points_and_one_value_everywhere():
    empty = analyse([])
    assert (empty.n, empty.median, empty.useful, empty.enough) == (0, None, 0, False)
    flat = analyse([4] * 12)  # every point on the median: nothing to count, no signal
    assert (flat.useful, flat.longest_run, flat.crossings) == (0, 0, 0)
    assert not flat.run_signal and not flat.crossings_signal


def test_runchart_refuses_numbers_that_are_not_finite():
    with pytest.raises(ValueError):
        analyse([1, float("nan"), 3])
    with pytest.raises(ValueError):
        analyse([1, float("inf"), 3])


# ---------------------------------------------------------------- the reading

def _danish(analysis: Analysis, better: str) -> str:
    with force_locale("da"):
        return reading(analysis, better)


def test_runchart_reading_in_danish(app):
    shift = analyse(SHIFT)
    also = " Der er også for få krydsninger af medianen (3, forventet mindst 5)."
    assert _danish(shift, "up") == "Tegn på forbedring: 8 punkter i træk over medianen." + also
    assert _danish(shift, "down") == ("Tegn på forværring: 8 punkter i træk over medianen."
                                      + also)
    mirrored = analyse([30 - v for v in SHIFT])
    assert mirrored.run_side == "below"
    assert _danish(mirrored, "down") == ("Tegn på forbedring: 8 punkter i træk under "
                                         "medianen." + also)
    assert _danish(mirrored, "up") == ("Tegn på forværring: 8 punkter i træk under medianen."
                                       + also)
    frozen = analyse(BASELINE + AFTER_CHANGE, baseline=12)
    assert _danish(frozen, "up") == "Tegn på forbedring: 8 punkter i træk over medianen."
    assert _danish(analyse(FEW_CROSSINGS), "up") == (
        "Tegn på ændring: for få krydsninger af medianen (3, forventet mindst 6).")
    assert _danish(analyse(NO_SIGNAL), "up") == "Ingen tegn på ændring endnu."
    assert _danish(analyse(NO_SIGNAL[:6]), "up") == (
        "Kan ikke vurderes endnu: 6 punkter, der skal mindst 10 til.")
    assert _danish(analyse([3]), "down") == (
        "Kan ikke vurderes endnu: 1 punkt, der skal mindst 10 til.")


def test_runchart_reading_in_english_and_refuses_an_unknown_direction(app):
    with force_locale("en"):
        assert reading(analyse(NO_SIGNAL), "up") == "No sign of change yet."
    with pytest.raises(ValueError):
        reading(analyse(NO_SIGNAL), "sideways")


# ---------------------------------------------------------------- the SVG

def _weekly(values, start=date(2025, 3, 3), labels=None):
    return [ChartPoint(start + timedelta(weeks=i), v, labels[i] if labels else "")
            for i, v in enumerate(values)]


def _draw(values, *, baseline=None, **kwargs):
    kwargs.setdefault("title", "Fremmødte borgere")
    kwargs.setdefault("better", "up")
    points = kwargs.pop("points", None) or _weekly(values)
    with force_locale("da"):
        return draw(points, analyse(values, baseline), **kwargs)


def _parse(svg: str):
    """The chart as XML (the tests' own charts, not untrusted input)."""
    return ET.fromstring(svg)  # noqa: S314 - laks's own output, checked to be well-formed


def _classes(element) -> set[str]:
    return set(element.get("class", "").split())


def _with_class(root, name: str) -> list:
    return [el for el in root.iter() if name in _classes(el)]


def _number(text: str) -> float:
    return float(text.replace("\xa0%", "").replace(".", "").replace(",", "."))


def _centre(marker) -> tuple[float, float]:
    """Where a marker is: a circle's centre, or the middle of a diamond's path."""
    if marker.get("cx") is not None:
        return float(marker.get("cx")), float(marker.get("cy"))
    xs_ys = [float(n) for n in re.findall(r"-?[\d.]+", marker.get("d"))]
    return xs_ys[0], (xs_ys[1] + xs_ys[5]) / 2


def _value_to_y(root):
    """The value axis as the chart draws it: a value → y function from two tick lines."""
    ticks = []
    for group in _with_class(root, "y-tick"):
        line, text = group.find(f"{SVG}line"), group.find(f"{SVG}text")
        assert line.get("y1") == line.get("y2")
        ticks.append((_number(text.text), float(line.get("y1"))))
    (v0, y0), (v1, y1) = ticks[0], ticks[-1]
    return lambda value: y0 + (value - v0) * (y1 - y0) / (v1 - v0)


def test_runchart_svg_is_an_accessible_self_contained_document(app):
    svg = _draw(SHIFT, goal=16)
    root = _parse(svg)
    assert root.tag == f"{SVG}svg"
    assert root.get("viewBox") == "0 0 640 320" and root.get("width") == "100%"
    assert root.get("height") is None  # the height follows the width
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    by_id = {el.get("id"): el for el in root.iter() if el.get("id")}
    assert by_id[title_id].tag == f"{SVG}title" and by_id[title_id].text == "Fremmødte borgere"
    assert by_id[desc_id].tag == f"{SVG}desc"
    assert by_id[desc_id].text == (
        "Tegn på forbedring: 8 punkter i træk over medianen. Der er også for få krydsninger "
        "af medianen (3, forventet mindst 5). 20 punkter, median 13. Mål 16.")
    assert "Laks Plex" in root.get("font-family")
    lowered = svg.lower().replace('xmlns="http://www.w3.org/2000/svg"', "")
    for forbidden in ("http", "file:", "href", "<script", "foreignobject", "style",
                      "<image", "url("):
        assert forbidden not in lowered


def test_runchart_svg_draws_every_point_and_signals_as_diamonds(app):
    root = _parse(_draw(SHIFT))
    markers = _with_class(root, "point")
    assert len(markers) == len(SHIFT)
    signals = _with_class(root, "signal")
    assert len(signals) == 8
    assert {el.tag for el in signals} == {f"{SVG}path"}  # a shape of their own
    assert {el.tag for el in markers if el not in signals} == {f"{SVG}circle"}
    diamond = [float(n) for n in re.findall(r"-?[\d.]+", signals[0].get("d"))]
    circle_r = float(markers[0].get("r"))
    assert diamond[5] - diamond[1] > 2 * circle_r + 2  # and larger than the circles
    assert _with_class(root, "legend")  # what the diamonds mean
    # no signal: circles only, and no legend
    calm = _parse(_draw(NO_SIGNAL))
    assert not _with_class(calm, "signal") and not _with_class(calm, "legend")
    assert len(_with_class(calm, "point")) == len(NO_SIGNAL)


def test_runchart_svg_marker_tooltips_use_the_labels(app):
    labels = ["<5" if v < 5 else str(v) for v in NO_SIGNAL]
    root = _parse(_draw(NO_SIGNAL, points=_weekly(NO_SIGNAL, labels=labels)))
    tips = [el.find(f"{SVG}title").text for el in _with_class(root, "point")]
    assert tips[0] == "3. mar. 2025: 5"
    assert tips[4] == "31. mar. 2025: <5"


def test_runchart_median_and_goal_lines_lie_on_the_scale(app):
    root = _parse(_draw(SHIFT, goal=16))
    y_of = _value_to_y(root)
    median, = _with_class(root, "median")
    assert median.get("y1") == median.get("y2")
    assert float(median.get("y1")) == pytest.approx(y_of(13), abs=0.02)
    goal, = _with_class(root, "goal")
    assert float(goal.get("y1")) == pytest.approx(y_of(16), abs=0.02)
    assert goal.get("stroke-dasharray")  # dotted, unlike the solid median
    assert median.get("stroke-dasharray") is None
    assert [el.text for el in _with_class(root, "median-label")] == ["Median"]
    assert [el.text for el in _with_class(root, "goal-label")] == ["Mål"]
    # the markers too, circles and diamonds
    for marker, value in zip(_with_class(root, "point"), SHIFT, strict=True):
        assert _centre(marker)[1] == pytest.approx(y_of(value), abs=0.02)


def test_runchart_frozen_median_is_named_and_its_baseline_marked(app):
    values = BASELINE + AFTER_CHANGE
    root = _parse(_draw(values, baseline=12))
    assert [el.text for el in _with_class(root, "median-label")] == ["Median", "(frosset)"]
    median, = _with_class(root, "median")
    assert float(median.get("y1")) == pytest.approx(_value_to_y(root)(39.5), abs=0.02)
    band, = _with_class(root, "baseline")
    points = _with_class(root, "point")
    right = float(band.get("x")) + float(band.get("width"))
    assert _centre(points[11])[0] < right < _centre(points[12])[0]
    assert [el.text for el in _with_class(root, "baseline-label")] == ["Basisperiode"]
    plain = _parse(_draw(values))
    assert not _with_class(plain, "baseline")
    assert [el.text for el in _with_class(plain, "median-label")] == ["Median"]


def test_runchart_percent_axis_runs_from_0_to_100(app):
    root = _parse(_draw(BASELINE + AFTER_CHANGE, percent=True, goal=60))
    labels = [g.find(f"{SVG}text").text for g in _with_class(root, "y-tick")]
    assert labels == ["0\xa0%", "25\xa0%", "50\xa0%", "75\xa0%", "100\xa0%"]
    desc = root.find(f"{SVG}desc").text
    assert desc.endswith("20 punkter, median 41,5\xa0%. Mål 60\xa0%.")


def test_runchart_count_axis_has_round_ticks_from_zero(app):
    root = _parse(_draw(SHIFT))
    values = [_number(g.find(f"{SVG}text").text) for g in _with_class(root, "y-tick")]
    assert values[0] == 0 and values[-1] >= max(SHIFT)
    steps = {b - a for a, b in zip(values, values[1:], strict=False)}
    assert len(steps) == 1 and steps.pop() in (1, 2, 5, 10)
    assert 3 <= len(values) <= 7


def _plex_width(weight: int = 400):
    """Text → its width in font sizes, from IBM Plex Sans's own metrics."""
    from fontTools.ttLib import TTFont

    from laks.render.assets import font_files

    with TTFont(str(font_files()[(weight, "normal")])) as font:
        cmap, em = font.getBestCmap(), font["head"].unitsPerEm
        widths = {char: font["hmtx"][name][0] / em for char, name in cmap.items()}
    return lambda text: sum(widths[ord(char)] for char in text)


def test_runchart_time_axis_is_by_date_in_danish_and_thinned(app):
    values = [10 + (i * 7) % 5 for i in range(60)]
    root = _parse(_draw(values))
    labels = _with_class(root, "x-label")
    texts = [el.text for el in labels]
    assert texts[0] == "3. mar." and texts[-1] == "20. apr."  # first and last week
    assert 3 <= len(labels) < 20
    measure = _plex_width()
    size = float(labels[0].get("font-size"))
    spans = [(float(el.get("x")), measure(el.text) * size / 2) for el in labels]
    for (xa, half_a), (xb, half_b) in zip(spans, spans[1:], strict=False):
        assert (xb - half_b) - (xa + half_a) >= 4  # never overlapping, as IBM Plex draws them
    assert [el.text for el in _with_class(root, "x-year")] == ["2025", "2026"]


def test_runchart_first_date_is_labelled_even_beside_a_narrow_value_axis(app):
    values = [1, 2, 3, 2, 1, 3, 2, 1, 2, 3, 1]  # ticks "0"…"3": a narrow left margin
    root = _parse(_draw(values, points=_weekly(values, start=date(2025, 11, 30))))
    first = _with_class(root, "x-label")[0]
    assert first.text == "30. nov."
    half = _plex_width()(first.text) * float(first.get("font-size")) / 2
    assert float(first.get("x")) - half >= 0  # inside the chart


def test_runchart_points_are_placed_by_date(app):
    days = [date(2025, 1, 6), date(2025, 1, 7), date(2025, 1, 7), date(2025, 2, 17)]
    points = [ChartPoint(day, v) for day, v in zip(days, [3, 5, 6, 4], strict=True)]
    root = _parse(_draw([3, 5, 6, 4], points=points))
    xs = [float(el.get("cx")) for el in _with_class(root, "point")]
    assert xs[1] == xs[2]  # two points on the same date
    assert (xs[3] - xs[0]) == pytest.approx((xs[1] - xs[0]) * 42, rel=1e-3)


def test_runchart_cycles_are_marked_at_their_dates(app):
    points = _weekly(SHIFT)
    cycles = [(points[3].date, "SMS-påmindelse"), (points[12].date, "Tolk <med> & \"mere\"")]
    svg = _draw(SHIFT, points=points, cycles=cycles)
    root = _parse(svg)
    labels = _with_class(root, "cycle-label")
    assert [el.text for el in labels] == ["C1", "C2"]
    xs = [_centre(el)[0] for el in _with_class(root, "point")]
    assert [float(el.get("x")) for el in labels] == [pytest.approx(xs[3]),
                                                      pytest.approx(xs[12])]
    tips = [g.find(f"{SVG}title").text for g in _with_class(root, "cycle")]
    assert tips == ["C1, 24. mar.: SMS-påmindelse", 'C2, 26. maj: Tolk <med> & "mere"']
    assert "<med>" not in svg
    assert len(_with_class(root, "cycle-tick")) == 2  # on the time axis


def test_runchart_user_text_is_escaped(app):
    title = 'Borgere <script>alert("x")</script> & "andre" \x00'
    svg = _draw(NO_SIGNAL, title=title, points=_weekly(NO_SIGNAL, labels=["<5"] * 12))
    assert "<script" not in svg
    root = _parse(svg)
    assert root.find(f"{SVG}title").text == title.replace("\x00", "")
    assert _with_class(root, "chart-title")[0].text == title.replace("\x00", "")


def test_runchart_long_title_is_shortened_in_the_drawing_only(app):
    title = "Andel af de inviterede borgere i målgruppen der møder op til første samtale"
    root = _parse(_draw(NO_SIGNAL, title=title))
    assert root.find(f"{SVG}title").text == title
    shown = _with_class(root, "chart-title")[0]
    assert shown.text.endswith("…") and len(shown.text) < len(title)
    assert title.startswith(shown.text[:-1])
    right = float(shown.get("x")) + _plex_width(600)(shown.text) * float(shown.get("font-size"))
    assert right <= 640  # inside the chart, as IBM Plex draws it


def test_runchart_two_charts_have_their_own_ids(app):
    one, two = _parse(_draw(SHIFT)), _parse(_draw(NO_SIGNAL))
    assert one.get("aria-labelledby") != two.get("aria-labelledby")


def test_runchart_without_points_says_so(app):
    svg = _draw([], title="Frafald")
    root = _parse(svg)
    assert root.get("role") == "img"
    assert [el.text for el in _with_class(root, "empty")] == ["Ingen målinger endnu"]
    assert root.find(f"{SVG}desc").text == "Ingen målinger endnu."
    assert not _with_class(root, "y-tick") and not _with_class(root, "x-axis")
    assert not _with_class(root, "point")


def test_runchart_draw_checks_its_arguments(app):
    with force_locale("da"), pytest.raises(ValueError):
        draw(_weekly(SHIFT), analyse(SHIFT), title="x", better="more")
    with force_locale("da"), pytest.raises(ValueError):
        draw(_weekly(SHIFT[:5]), analyse(SHIFT), title="x", better="up")


def test_runchart_renders_in_weasyprint(app, tmp_path):
    """As the catalogue's PDF shows it (an <img> of a data: URI) and inline; the text is
    real text in the PDF, and the page converts to a PNG."""
    from weasyprint import HTML

    from laks.render.assets import font_face_css

    points = _weekly(BASELINE + AFTER_CHANGE, start=date(2024, 9, 2))
    svg = _draw(BASELINE + AFTER_CHANGE, baseline=12, points=points, goal=60, percent=True,
                cycles=[(points[12].date, "Ny invitation")])
    uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    html = (f"<html><head><style>{font_face_css()} html {{ font-family: 'Laks Plex'; }}"
            f"</style></head><body><img src='{uri}' style='width: 120mm' alt='x'>"
            f"<div style='width: 90mm'>{svg}</div></body></html>")
    pdf = tmp_path / "chart.pdf"
    HTML(string=html).write_pdf(pdf)
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, check=True,
                          text=True).stdout
    for word in ("Median", "(frosset)", "Mål", "Basisperiode", "C1", "2. sep.", "100 %"):
        assert text.count(word.replace(" ", "\xa0")) + text.count(word) >= 2, word
    subprocess.run(["pdftoppm", "-png", "-r", "80", "-singlefile", str(pdf),
                    str(tmp_path / "chart")], check=True)
    assert (tmp_path / "chart.png").stat().st_size > 10_000
