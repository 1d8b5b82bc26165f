"""The chart draws any finite series: extreme values (1.7e308, 1e-300), a flat series, a single
point, negative values; no scale computation overflows, every coordinate is a finite number
inside the drawing, and each value sits inside the plot area."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest

from app.rules.criteria import Comparator
from app.summary import charts
from app.summary.schemas import ChartPoint, SummaryChart

START = datetime(2026, 11, 2, 9, tzinfo=UTC)
BIG, TINY = 1.7e308, 1e-300
COORDINATE = re.compile(r'\b(?:x|y|x1|x2|y1|y2|cx|cy|width|height)="([^"]*)"')


def chart(
    values: Sequence[float],
    *,
    target: float | None = 90.0,
    baseline: float | None = None,
    days: float = 7,
    comparator: Comparator = Comparator.gte,
) -> SummaryChart:
    return SummaryChart(
        label="Reach, left",
        unit="cm",
        unit_label="cm",
        out_of=None,
        comparator=comparator,
        target=target,
        baseline=baseline,
        points=[
            ChartPoint(at=START + timedelta(days=i * days), value=v) for i, v in enumerate(values)
        ],
    )


def numbers(drawing: str) -> list[float]:
    found = [float(v) for v in COORDINATE.findall(drawing)]
    for points in re.findall(r'points="([^"]*)"', drawing):
        found += [float(v) for pair in points.split() for v in pair.split(",")]
    return found


SERIES = [
    pytest.param([BIG, -BIG], 90.0, None, id="both-extremes"),
    pytest.param([BIG], 90.0, None, id="largest-float"),
    pytest.param([0, BIG], None, None, id="zero-and-largest"),
    pytest.param([1e308, 1e308, 1e308], None, None, id="flat-at-1e308"),
    pytest.param([TINY, 5e-324, 0], 90.0, None, id="tiny"),
    pytest.param([TINY], None, TINY, id="one-tiny-point"),
    pytest.param([7, 7, 7], 7.0, 7.0, id="flat"),
    pytest.param([42], 90.0, 40.0, id="single-point"),
    pytest.param([-5, -3, -4], -1.0, -5.0, id="negative"),
    pytest.param([-BIG, -1e308], -BIG, -1e308, id="negative-extremes"),
    pytest.param([150, 170], BIG, -BIG, id="extreme-target-and-baseline"),
    pytest.param([1e15, 1e16], 1e14, None, id="where-the-axis-counts-in-powers"),
    pytest.param([], 90.0, None, id="no-points"),
    pytest.param([], BIG, None, id="no-points-extreme-target"),
]


@pytest.mark.parametrize(("values", "target", "baseline"), SERIES)
@pytest.mark.parametrize("comparator", [Comparator.gte, Comparator.lt])
def test_any_finite_series_draws(
    values: list[float], target: float | None, baseline: float | None, comparator: Comparator
) -> None:
    drawn = chart(values, target=target, baseline=baseline, comparator=comparator)

    drawing = charts.svg(drawn, chart_id="c1", title="Reach")

    assert drawing.endswith("</svg>")
    assert not re.search(r"\b(inf|nan)\b", drawing, re.IGNORECASE)
    box = re.match(r'<svg class="chart" viewBox="0 0 600 (\d+)"', drawing)
    assert box is not None
    height = float(box.group(1))
    for number in numbers(drawing):
        assert math.isfinite(number)
        assert -1 <= number <= max(charts.W, height) + 1
    for cy in re.findall(r'<circle cx="[^"]*" cy="([^"]*)"', drawing):
        assert charts.TOP - 0.1 <= float(cy) <= charts.BOTTOM + 0.1
    assert len(re.findall("<circle", drawing)) == len(values)


@pytest.mark.parametrize("days", [0, 1 / 24, 400])
def test_points_close_in_time_or_a_year_apart_draw(days: float) -> None:
    drawing = charts.svg(chart([BIG, TINY, -BIG], days=days), chart_id="c", title="Reach")

    assert all(math.isfinite(n) for n in numbers(drawing))


def test_an_axis_of_extreme_values_reads_in_powers_of_ten() -> None:
    drawing = charts.svg(chart([0, BIG], target=None), chart_id="c", title="Reach")

    ticks = re.findall(r'text-anchor="end">([^<]*)</text>', drawing)
    assert "0" in ticks
    assert any(t.endswith("e308") for t in ticks)


def test_an_axis_of_usual_values_is_unchanged() -> None:
    drawing = charts.svg(chart([150, 170], target=180), chart_id="c", title="Reach")

    ticks = re.findall(r'x="48.0" y="[^"]*" text-anchor="end">([^<]*)</text>', drawing)
    assert ticks == ["140", "150", "160", "170", "180", "190"]
