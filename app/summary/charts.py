"""Each criterion's measure over time: the series (the measure's values, or the limb symmetry
index in %) and its drawing as an inline SVG line chart with the target and the baseline.

A value that is not a finite number (stored by an older version, or an LSI that overflows) is
left out of the series: it cannot be drawn. Any finite series draws, however extreme."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from app.measures.models import Measure
from app.plans.models import Criterion
from app.plans.progress import Evidence
from app.plans.progress_schemas import CriterionEvaluation
from app.rules import criteria as rules
from app.summary.schemas import COMPARATOR_WORDS, ChartPoint, SummaryChart
from app.summary.wording import number, other_side, quantity, side, unit_label

_FLIPPED = {
    rules.Comparator.gte: rules.Comparator.lte,
    rules.Comparator.lte: rules.Comparator.gte,
    rules.Comparator.gt: rules.Comparator.lt,
    rules.Comparator.lt: rules.Comparator.gt,
}
_ABOVE = frozenset({rules.Comparator.gte, rules.Comparator.gt})


def chart_of(
    criterion: Criterion, measure: Measure, evaluation: CriterionEvaluation, evidence: Evidence
) -> SummaryChart:
    """The values the criterion counts (from the initial assessment on), oldest first."""
    counted = sorted(
        (
            p
            for p in evidence.points.get(criterion.measure_id, [])
            if p.observed_at >= evidence.counted_from
        ),
        key=lambda p: (p.observed_at, str(p.id)),
    )
    if criterion.mode is rules.Mode.limb_symmetry:
        return _limb_symmetry_chart(criterion, measure, evaluation, counted)
    if criterion.side is not None:
        counted = [p for p in counted if p.side == criterion.side]
    target: float | None = criterion.target
    comparator = criterion.comparator
    if criterion.mode is rules.Mode.change_from_baseline:
        target, comparator = _goal(criterion, measure, _finite(evaluation.baseline))
    where = side(criterion.side)
    out_of = measure.max_value if measure.unit == "{score}" else None
    return SummaryChart(
        label=f"{measure.name}, {where}" if where else measure.name,
        unit=measure.unit,
        unit_label=f"out of {number(out_of)}" if out_of else unit_label(measure.unit),
        out_of=out_of,
        comparator=comparator,
        target=_finite(target),
        baseline=_finite(evaluation.baseline),
        points=[ChartPoint(at=p.observed_at, value=p.value) for p in counted if _finite(p.value)],
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _limb_symmetry_chart(
    criterion: Criterion,
    measure: Measure,
    evaluation: CriterionEvaluation,
    counted: Sequence[rules.Point],
) -> SummaryChart:
    involved, other = side(criterion.involved_side), side(other_side(criterion.involved_side))
    return SummaryChart(
        label=f"{measure.name}, {involved} as % of {other}",
        unit="%",
        unit_label="%",
        out_of=None,
        comparator=criterion.comparator,
        target=_finite(criterion.target),
        baseline=_finite(evaluation.baseline),
        points=_limb_symmetry(criterion, measure, counted),
    )


def _goal(
    criterion: Criterion, measure: Measure, baseline: float | None
) -> tuple[float | None, rules.Comparator]:
    """A change-from-baseline target as the measure's own value: baseline plus the change,
    in the direction the measure improves (down for pain)."""
    if baseline is None:
        return None, criterion.comparator
    change = criterion.target
    if criterion.change_unit is rules.ChangeUnit.percent:
        change = abs(baseline) * criterion.target / 100
    if measure.better is rules.Better.higher:
        return baseline + change, criterion.comparator
    return baseline - change, _FLIPPED[criterion.comparator]


def _limb_symmetry(
    criterion: Criterion, measure: Measure, points: Sequence[rules.Point]
) -> list[ChartPoint]:
    """The LSI at each involved value, paired with the nearest uninvolved value within the
    pairing window: the pairs app.rules.criteria judges the criterion on."""
    window = timedelta(days=rules.CriterionSpec(criterion.comparator, 0).pair_window_days)
    points = [p for p in points if math.isfinite(p.value)]
    involved = [p for p in points if p.side == criterion.involved_side]
    uninvolved = [p for p in points if p.side == other_side(criterion.involved_side)]
    series = []
    for point in involved:
        partners = [u for u in uninvolved if abs(u.observed_at - point.observed_at) <= window]
        if not partners:
            continue
        partner = min(partners, key=lambda u: (abs(u.observed_at - point.observed_at), str(u.id)))
        lsi = rules.limb_symmetry_index(point.value, partner.value, measure.better)
        if lsi is not None and math.isfinite(lsi):
            series.append(ChartPoint(at=point.observed_at, value=lsi))
    return series


# The drawing: 600 units wide, scaled to the page's width. Styles are attributes, so the SVG
# draws the same outside this page.
W = 600
LEFT, RIGHT, TOP, BOTTOM = 56, 24, 40, 220  # the plot area's edges
INK, MUTED = "#1d2530", "#4b5563"
GRID = 'stroke="#e5e7eb"'
SERIES = 'fill="none" stroke="#1f4e9c" stroke-width="2.5"'
TARGET = 'stroke="#1b7f3b" stroke-width="2" stroke-dasharray="8 5"'
BASELINE = 'stroke="#6b7280" stroke-width="1.5" stroke-dasharray="2 4"'
ZONE = "#e3f2e7"
CHAR_W = 6.8  # a generous average width of a 12-unit character, to lay out the legend
LARGE = 1e15  # beyond it, the vertical axis counts in a power of ten


def _nice_step(span: float) -> float:
    raw = span / 4
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if raw <= m * magnitude)


def _exponent(values: Sequence[float]) -> int:
    """The power of ten the axis counts in: 0, unless a value is so large (1.7e308) that the
    room around it or a round step beyond it would overflow."""
    largest = max((abs(v) for v in values), default=0.0)
    return math.floor(math.log10(largest)) if largest > LARGE else 0


def _y_range(values: Sequence[float]) -> tuple[float, float, float]:
    """Room around the values, target and baseline, on round numbers; never below 0 for a
    measure that has no negative values."""
    low, high = (min(values), max(values)) if values else (0.0, 10.0)
    pad = (high - low) * 0.1 if high - low > 1e-9 else max(1.0, abs(low) * 0.1)
    padded_low = low - pad if low - pad >= 0 or low < 0 else 0.0
    step = _nice_step(high + pad - padded_low)
    return math.floor(padded_low / step) * step, math.ceil((high + pad) / step) * step, step


def _x_range(points: Sequence[ChartPoint]) -> tuple[datetime, datetime]:
    first, last = points[0].at, points[-1].at
    if last - first < timedelta(days=1):
        return first - timedelta(days=3), last + timedelta(days=3)
    return first, last


class _Scale:
    """The plot's axes; the vertical one in units of 10**exponent (1 for any usual value)."""

    def __init__(self, chart: SummaryChart) -> None:
        values = [p.value for p in chart.points]
        values += [v for v in (chart.target, chart.baseline) if v is not None]
        self.exponent = _exponent(values)
        self.factor = 10.0**self.exponent
        self.low, self.high, self.step = _y_range([v / self.factor for v in values])
        self.start: datetime | None = None
        self.end: datetime | None = None
        if chart.points:
            self.start, self.end = _x_range(chart.points)

    def y(self, value: float) -> float:
        return self.y_of_tick(value / self.factor)

    def y_of_tick(self, scaled: float) -> float:
        return BOTTOM - (scaled - self.low) / (self.high - self.low) * (BOTTOM - TOP)

    def tick(self, scaled: float) -> str:
        if self.exponent == 0:
            return number(scaled)
        return f"{scaled:g}e{self.exponent}" if scaled else "0"

    def x(self, at: datetime) -> float:
        assert self.start is not None
        assert self.end is not None
        fraction = (at - self.start) / (self.end - self.start)
        return LEFT + fraction * (W - RIGHT - LEFT)


def amount(chart: SummaryChart, value: float) -> str:
    return quantity(value, chart.unit, out_of=chart.out_of)


def _line(x1: float, x2: float, y1: float, y2: float, style: str) -> str:
    return f'<line x1="{x1:.1f}" x2="{x2:.1f}" y1="{y1:.1f}" y2="{y2:.1f}" {style}/>'


def _text(x: float, y: float, content: str, **attributes: str) -> str:
    extra = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in attributes.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(content)}</text>'


def _y_axis(scale: _Scale, label: str) -> list[str]:
    parts = []
    count = round((scale.high - scale.low) / scale.step)
    for i in range(count + 1):
        value = scale.low + i * scale.step  # in the axis's units
        y = scale.y_of_tick(value)
        parts.append(_line(LEFT, W - RIGHT, y, y, GRID))
        parts.append(_text(LEFT - 8, y + 4, scale.tick(value), text_anchor="end"))
    # The axis's label sits above it, level, so a long measure name stays readable.
    parts.append(_text(8, TOP - 20, label, font_weight="bold"))
    return parts


def _x_axis(scale: _Scale) -> list[str]:
    parts = [_line(LEFT, W - RIGHT, BOTTOM, BOTTOM, f'stroke="{INK}"')]
    label = "Date measured"
    if scale.start is not None and scale.end is not None:
        ticks = 4
        for i in range(ticks + 1):
            at = scale.start + (scale.end - scale.start) * i / ticks
            x = scale.x(at)
            anchor = "start" if i == 0 else "end" if i == ticks else "middle"
            parts.append(_line(x, x, BOTTOM, BOTTOM + 5, f'stroke="{INK}"'))
            parts.append(_text(x, BOTTOM + 20, f"{at.day} {at:%b}", text_anchor=anchor))
        years = sorted({scale.start.year, scale.end.year})
        label += ", " + "-".join(str(year) for year in years)
    parts.append(_text((LEFT + W - RIGHT) / 2, BOTTOM + 40, label, text_anchor="middle"))
    return parts


def _reference(scale: _Scale, chart: SummaryChart) -> list[str]:
    """The target, with the zone that meets it shaded, and the baseline."""
    parts = []
    if chart.target is not None:
        y = scale.y(chart.target)
        top, bottom = (TOP, y) if chart.comparator in _ABOVE else (y, BOTTOM)
        parts.append(
            f'<rect x="{LEFT}" y="{top:.1f}" width="{W - RIGHT - LEFT}" '
            f'height="{max(0.0, bottom - top):.1f}" fill="{ZONE}"/>'
        )
        parts.append(_line(LEFT, W - RIGHT, y, y, TARGET))
    if chart.baseline is not None:
        y = scale.y(chart.baseline)
        parts.append(_line(LEFT, W - RIGHT, y, y, BASELINE))
    return parts


def _no_data() -> list[str]:
    x, y = (LEFT + W - RIGHT) / 2, (TOP + BOTTOM) / 2
    return [
        f'<rect x="{x - 80:.1f}" y="{y - 16:.1f}" width="160" height="28" rx="4" '
        f'fill="#ffffff" stroke="#cfd5dc"/>',
        _text(x, y + 3, "Not measured yet", text_anchor="middle", fill=MUTED),
    ]


def _series(scale: _Scale, chart: SummaryChart) -> list[str]:
    if not chart.points:
        return _no_data()
    xy = [(scale.x(p.at), scale.y(p.value)) for p in chart.points]
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in xy)
    parts = [f'<polyline points="{path}" {SERIES}/>']
    parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="#1f4e9c"/>' for x, y in xy]
    x, y = xy[-1]
    latest = amount(chart, chart.points[-1].value)
    label_y = y - 10 if y - 10 > TOP + 4 else y + 20
    anchor = "end" if x > (LEFT + W - RIGHT) / 2 else "start"
    parts.append(_text(x, label_y, latest, text_anchor=anchor, font_weight="bold"))
    return parts


def _legend(chart: SummaryChart) -> tuple[list[str], float]:
    """The key, naming the target's and the baseline's values; wraps to a second row when
    long. Returns the parts and the drawing's height."""
    items = [(SERIES, "Your measurements")]
    if chart.target is not None:
        wanted = f"{COMPARATOR_WORDS[chart.comparator]} {amount(chart, chart.target)}"
        items.append((TARGET, f"Target: {wanted}"))
    if chart.baseline is not None:
        items.append((BASELINE, f"Where you started: {amount(chart, chart.baseline)}"))
    parts: list[str] = []
    x, y = 8.0, BOTTOM + 62.0
    for style, words in items:
        width = 30 + len(words) * CHAR_W
        if x + width > W and x > 8:
            x, y = 8.0, y + 20
        parts += [_line(x, x + 24, y - 4, y - 4, style), _text(x + 30, y, words)]
        x += width + 20
    return parts, y + 10


def describe(chart: SummaryChart) -> str:
    """The chart in words, for screen readers (the SVG's <desc>)."""
    values = "; ".join(f"{p.at.date().isoformat()}: {amount(chart, p.value)}" for p in chart.points)
    parts = [f"Measurements: {values}." if values else "No measurements yet."]
    if chart.target is not None:
        parts.append(f"Target {COMPARATOR_WORDS[chart.comparator]} {amount(chart, chart.target)}.")
    if chart.baseline is not None:
        parts.append(f"Started at {amount(chart, chart.baseline)}.")
    return " ".join(parts)


def svg(chart: SummaryChart, *, chart_id: str, title: str) -> str:
    """An accessible inline SVG (role img, <title> and <desc>); every text in it is escaped."""
    scale = _Scale(chart)
    axis_label = f"{chart.label} ({chart.unit_label})" if chart.unit_label else chart.label
    legend, height = _legend(chart)
    body = [
        *_reference(scale, chart),
        *_y_axis(scale, axis_label),
        *_x_axis(scale),
        *_series(scale, chart),
        *legend,
    ]
    return (
        f'<svg class="chart" viewBox="0 0 {W} {height:.0f}" role="img" font-size="12" '
        f'fill="{INK}" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(describe(chart))}</desc>' + "".join(body) + "</svg>"
    )
