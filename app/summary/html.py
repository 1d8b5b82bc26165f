"""The summary as one standalone, printable HTML page: inline CSS, inline SVG charts, no script
and no external resource. Every stored text goes through html.escape on its way in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from app.summary import charts
from app.summary.schemas import (
    HomeExercise,
    SummaryCriterion,
    SummaryDriver,
    SummaryExamination,
    SummaryPlan,
    SummaryRead,
    SummaryStage,
)
from app.summary.wording import day, number

# Belt and braces for a page of stored text: even opened from a file, it may load nothing and
# run nothing; its styles are inline.
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
NOTHING = "\u2013"  # an en dash in an empty cell
_STYLE = """
*{box-sizing:border-box}
body{margin:0;background:#eef1f5;color:#1d2530;
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","DejaVu Sans",sans-serif}
main{max-width:62rem;margin:0 auto;padding:2rem 2rem 3rem;background:#fff}
header{border-bottom:3px solid #1f4e9c;padding-bottom:1rem;margin-bottom:1rem}
h1{font-size:1.9rem;margin:0 0 .25rem}
h2{font-size:1.4rem;color:#1f4e9c;margin:2.25rem 0 .75rem;padding-bottom:.25rem;
border-bottom:1px solid #d5dbe3}
h3{font-size:1.15rem;margin:1.25rem 0 .5rem}
h4{font-size:1rem;margin:0 0 .25rem}
p{margin:.4rem 0}
.muted{color:#4b5563}
.note{color:#14632f;font-weight:600}
.glance{display:grid;grid-template-columns:repeat(4,1fr);gap:.75rem;margin:1rem 0 0}
.glance div{background:#f4f6f9;border-radius:6px;padding:.5rem .75rem}
.glance dt{font-size:.8rem;color:#4b5563}
.glance dd{margin:0;font-weight:600}
.driver{border-left:4px solid #1f4e9c;background:#f7f9fc;padding:.6rem .9rem;margin:.75rem 0}
.driver ul{margin:.25rem 0}
.stage{border:1px solid #d5dbe3;border-radius:8px;padding:.25rem 1rem 1rem;margin:1rem 0}
.stage.current{border:2px solid #1f4e9c}
table{width:100%;border-collapse:collapse;margin:.5rem 0 1rem;font-size:.92rem}
th,td{text-align:left;vertical-align:top;padding:.4rem .5rem;border-bottom:1px solid #d5dbe3}
th{background:#eef2f7;font-weight:600}
.criteria td:nth-child(3),.criteria td:nth-child(4){white-space:nowrap}
.badge{display:inline-block;padding:0 .5rem;border:1px solid;border-radius:999px;
font-size:.8rem;font-weight:600;white-space:nowrap;vertical-align:middle}
.badge.met,.badge.completed{color:#14632f;background:#e3f2e7;border-color:#9fd0ad}
.badge.not_met,.badge.current{color:#7a4100;background:#fdf0dd;border-color:#f0c98f}
.badge.no_data,.badge.pending{color:#4b5563;background:#f1f3f5;border-color:#cfd5dc}
.bar{width:6rem;height:.55rem;margin-top:.45rem;background:#e5e7eb;border-radius:4px;
overflow:hidden}
.bar span{display:block;height:100%;background:#1f4e9c}
figure{margin:1.25rem 0;break-inside:avoid}
figcaption{font-weight:600;margin-bottom:.25rem}
figcaption .muted{font-weight:400}
svg.chart{display:block;width:100%;max-width:40rem;height:auto}
details{margin:.25rem 0;font-size:.9rem}
details table{max-width:24rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
@page{margin:15mm}
@media print{
body{background:#fff;font-size:11pt}
main{max-width:none;padding:0}
h2{break-after:avoid}
figure,tr,.driver,.glance{break-inside:avoid}
details{display:none}
svg.chart,.badge,.bar,.bar span,th,.glance div,.driver{-webkit-print-color-adjust:exact;
print-color-adjust:exact}
}
@media (max-width:40rem){.glance{grid-template-columns:repeat(2,1fr)}main{padding:1rem}}
"""


def _join(parts: Iterable[str]) -> str:
    return "".join(parts)


def _table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], caption: str = "", kind: str = ""
) -> str:
    """A table; `rows` hold markup already escaped."""
    head = _join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = _join("<tr>" + _join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    caption_html = f'<caption class="sr-only">{escape(caption)}</caption>' if caption else ""
    opening = f'<table class="{kind}">' if kind else "<table>"
    return f"{opening}{caption_html}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _badge(status: str, label: str) -> str:
    return f'<span class="badge {escape(status)}">{escape(label)}</span>'


def _progress(fraction: float) -> str:
    percent = round(fraction * 100)
    return (
        f'<div class="bar" role="img" aria-label="{percent}% of the way to the target">'
        f'<span style="width:{percent}%"></span></div>'
    )


def _driver(driver: SummaryDriver) -> str:
    findings = _join(f"<li>{escape(f.text)}</li>" for f in driver.findings)
    worked_on = '<p class="note">Your plan works on this.</p>' if driver.addressed_by_plan else ""
    found = f"<p>Found at the examination:</p><ul>{findings}</ul>" if findings else ""
    return (
        f'<div class="driver"><h4>{escape(driver.kind_label)}</h4>'
        f"<p>{escape(driver.description)}</p>{found}{worked_on}</div>"
    )


def _examination(exam: SummaryExamination) -> str:
    pain = ""
    if exam.pain_now is not None:
        pain = f" · Pain now {exam.pain_now}/10"
        pain += f", at worst {exam.pain_worst}/10" if exam.pain_worst is not None else ""
    goals = _join(
        f"<li>{escape(g.statement)}"
        + (f" <span class='muted'>(target {escape(g.target)})</span>" if g.target else "")
        + "</li>"
        for g in exam.goals
    )
    drivers = _join(_driver(d) for d in exam.drivers) or "<p>No drivers were recorded.</p>"
    return (
        '<section aria-labelledby="found"><h2 id="found">1. What did the examination find?</h2>'
        f"<p>Examined on {escape(day(exam.assessed_at.date()))}. You came in with: "
        f"<strong>{escape(exam.presenting_complaint)}</strong></p>"
        f'<p class="muted">Area: {escape(exam.body_region)} · {escape(exam.onset_label)}{pain}</p>'
        f"<h3>What is behind the problem</h3>{drivers}"
        f"<h3>Your goals</h3><ul>{goals or '<li>No goals recorded yet.</li>'}</ul></section>"
    )


def _criteria_table(criteria: Sequence[SummaryCriterion], caption: str) -> str:
    if not criteria:
        return "<p>No criteria set yet.</p>"
    rows = [
        (
            escape(c.statement),
            escape(c.measure_name),
            escape(c.current_text or NOTHING),
            escape(c.target_text),
            _progress(c.progress),
            _badge(c.status, c.status_label),
        )
        for c in criteria
    ]
    headers = ("What you need to show", "Measured by", "Now", "Target", "Progress", "Status")
    return _table(headers, rows, caption, "criteria")


def _chart(criterion: SummaryCriterion) -> str:
    chart_id = f"chart-{criterion.criterion_id}"
    rows = [
        (escape(day(p.at.date())), escape(charts.amount(criterion.chart, p.value)))
        for p in criterion.chart.points
    ]
    values = (
        "<details><summary>Show the values as a table</summary>"
        + _table(("Date", "Value"), rows, criterion.chart.label)
        + "</details>"
        if rows
        else ""
    )
    return (
        f"<figure><figcaption>{escape(criterion.statement)} "
        f'<span class="muted">— {escape(criterion.text)}</span></figcaption>'
        f"{charts.svg(criterion.chart, chart_id=chart_id, title=criterion.statement)}"
        f"{values}</figure>"
    )


def _stage(stage: SummaryStage) -> str:
    due = f", due by {escape(day(stage.due_on))}" if stage.due_on else ""
    weeks = "week" if stage.expected_weeks == 1 else "weeks"
    return (
        f'<article class="stage {escape(stage.state)}">'
        f"<h3>Stage {stage.position + 1}: {escape(stage.name)} "
        f"{_badge(stage.state, stage.state_label)}</h3>"
        f"<p><strong>Goal:</strong> {escape(stage.goal)}</p>"
        f'<p class="muted">Expected to take about {stage.expected_weeks} {weeks}{due}.</p>'
        + _criteria_table(stage.criteria, f"What to achieve in {stage.name}")
        + _join(_chart(c) for c in stage.criteria)
        + "</article>"
    )


def _plan(plan: SummaryPlan) -> str:
    current = (
        f" · Current stage: <strong>{escape(plan.current_stage_name)}</strong>"
        if plan.current_stage_name
        else ""
    )
    stages = _join(_stage(s) for s in plan.stages) or "<p>No stages yet.</p>"
    return (
        '<section aria-labelledby="plan"><h2 id="plan">2. What is the plan, and what must I '
        "achieve at each stage?</h2>"
        f"<p><strong>{escape(plan.title)}</strong> · {escape(plan.status_label)}{current}</p>"
        f"<p>{escape(plan.timeline.text)}</p>{stages}</section>"
    )


def _discharge(summary: SummaryRead) -> str:
    discharge = summary.discharge
    return (
        '<section aria-labelledby="discharge"><h2 id="discharge">3. What does discharge look '
        f"like?</h2><p>{escape(discharge.text)}</p>"
        + _criteria_table(discharge.criteria, "What to achieve before discharge")
        + _join(_chart(c) for c in discharge.criteria)
        + "</section>"
    )


def _how_often(per_week: int) -> str:
    return {1: "Once a week", 2: "Twice a week"}.get(per_week, f"{per_week} times a week")


def _exercise_row(item: HomeExercise) -> tuple[str, ...]:
    notes = [text for text in (item.effort, item.instructions) if text]
    return (
        f"<strong>{escape(item.exercise_name)}</strong>",
        escape(item.dose),
        escape(item.load),
        escape(item.tempo or NOTHING),
        escape(f"{item.rest_s} s") if item.rest_s is not None else NOTHING,
        escape(_how_often(item.sessions_per_week)),
        "<br>".join(escape(text) for text in notes) or NOTHING,
    )


def _home_program(items: Sequence[HomeExercise]) -> str:
    if not items:
        table = "<p>No exercises are prescribed yet.</p>"
    else:
        headers = ("Exercise", "Sets and amount", "Load", "Tempo", "Rest", "How often", "Notes")
        table = _table(headers, (_exercise_row(i) for i in items), "Your home exercises")
    return (
        '<section aria-labelledby="program"><h2 id="program">Your home program</h2>'
        f"{table}<p class='muted'>Tempo is seconds lowering, pausing, lifting and pausing: "
        "3-1-1-0 means three seconds down, one second pause, one second up, no pause.</p>"
        "</section>"
    )


def _glance(summary: SummaryRead) -> str:
    discharge = summary.discharge
    total = discharge.met_count + discharge.remaining_count
    items = [
        ("Plan", summary.plan.status_label),
        ("Current stage", summary.plan.current_stage_name or NOTHING),
        ("Discharge criteria met", f"{discharge.met_count} of {total}"),
        ("Exercises at home", number(len(summary.home_program))),
    ]
    cells = _join(f"<div><dt>{escape(k)}</dt><dd>{escape(v)}</dd></div>" for k, v in items)
    return f'<dl class="glance">{cells}</dl>'


def render(summary: SummaryRead) -> str:
    name = summary.patient.display_name
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>Your rehabilitation plan · {escape(name)}</title>"
        f"<style>{_STYLE}</style></head><body><main>"
        f"<header><h1>Your rehabilitation plan</h1><p class='muted'>{escape(name)} · "
        f"{escape(summary.plan.title)} · Prepared "
        f"{escape(day(summary.generated_at.date()))}</p>{_glance(summary)}</header>"
        + _examination(summary.examination)
        + _plan(summary.plan)
        + _discharge(summary)
        + _home_program(summary.home_program)
        + "<footer><p class='muted'>From your clinic's records on "
        f"{escape(day(summary.generated_at.date()))}. Ask your clinician about anything "
        "here that is unclear.</p></footer></main></body></html>"
    )
