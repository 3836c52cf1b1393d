"""Live charts of the outcomes the registry shows as ``chart`` (:func:`sim.core.outcomes.shown`),
as small SVG line charts with the events marked.  A flow (deaths) is shown as a rolling 13-week
(quarterly) sum, a share on a fixed axis of [0, 1].

Drawn as plain SVG strings: a chart of a few hundred points costs well under a millisecond, so
the page can redraw every step, and the lines stay in the page's DOM (a test, or a student's
browser inspector, can read them).
"""

from __future__ import annotations

import datetime as dt
from html import escape

import numpy as np

from sim.core.model import BlowbackModel
from sim.core.registry import Outcome
from sim.interfaces.figure_style import unit_of

SIDE_COLOURS = ("#8c2d04", "#1f4e99")
THRESHOLD_COLOUR = "#b8860b"
# Lines drawn across a chart at a parameter's value (a flow's charted as 13 weeks of it): the
# outcome, the parameter, its label.
THRESHOLDS = {"partner_relationship": ("partner.exit_threshold", "partner leaves below"),
              "contractor_revenue": ("contractor.cost", "its price a quarter")}
# A chart is drawn about a unit a pixel: the page's grid gives each at least NARROWEST pixels
# (page_style.PAGE_CSS), so that its text, in TEXT_SIZE units, is at least 11 pixels as drawn,
# legible on a projector at the back of a room.
WIDTH, HEIGHT = 240, 100
NARROWEST = 230
TEXT_SIZE, TITLE_SIZE = 11.5, 12.5
QUARTER = 13  # weeks a flow's chart sums
_LEFT, _RIGHT, _TOP, _BOTTOM = 30, 6, 18, 17
_YEAR_ROOM = 34  # units between the middles of two year labels (a label is about 27 wide)


def values(model: BlowbackModel, outcome: Outcome) -> np.ndarray:
    """The weekly series of one outcome for a model, as charted (flows summed over 13 weeks)."""
    raw = np.asarray(model.records[outcome.name], dtype=float)
    if outcome.flow and len(raw):
        return np.convolve(raw, np.ones(_weeks_charted(outcome)), mode="full")[: len(raw)]
    return raw


def event_steps(model: BlowbackModel) -> list[tuple[float, str]]:
    """Each logged event as (step, text): scheduled, injected, thresholds and lever moves."""
    start = model.scenario_spec.start_date()
    out = []
    for date, text in model.event_log:
        day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
        out.append(((day - start).days / 7.0, f"{day.isoformat()}: {text}"))
    return out


def _nice(top: float) -> float:
    """A round upper bound for an axis."""
    if top <= 0 or not np.isfinite(top):
        return 1.0
    magnitude = 10 ** np.floor(np.log10(top))
    for m in (1, 2, 2.5, 5, 10):
        if top <= m * magnitude:
            return float(m * magnitude)
    return float(10 * magnitude)


def _label(x: float) -> str:
    if x >= 1e6:
        return f"{x / 1e6:g}M"
    if x >= 1e3:
        return f"{x / 1e3:g}k"
    return f"{x:g}"


def _thresholds(models: list[BlowbackModel], outcome: Outcome, top: float, px, py
                ) -> list[str]:
    """The threshold line of ``outcome`` (:data:`THRESHOLDS`) at each model's value of its
    parameter (once when both sides share it; 13 weeks of it for a flow, charted as quarterly
    sums), labelled with the value."""
    lines = _threshold_values(models, outcome)
    if not lines:
        return []
    name, label = THRESHOLDS[outcome.name]
    weeks = _weeks_charted(outcome)
    out = []
    for value in lines:
        y = float(py(np.array([value]))[0])
        out.append(f'<line class="bb-threshold" data-value="{value:g}" x1="{px(0):.1f}" '
                   f'x2="{px(models[0].steps_total - 1):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                   f'stroke="{THRESHOLD_COLOUR}" stroke-width="1.2" stroke-dasharray="6,3">'
                   f"<title>{escape(name)} = {value / weeks:g}"
                   f"{' a week' if weeks > 1 else ''}</title></line>"
                   f'<text x="{px(0) + 4:.1f}" y="{y - 3:.1f}" font-size="{TEXT_SIZE}" '
                   f'fill="{THRESHOLD_COLOUR}">{escape(label)} {value:g}</text>')
    return out


def _threshold_values(models: list[BlowbackModel], outcome: Outcome) -> list[float]:
    """Where the threshold lines of ``outcome`` lie on its chart, once each."""
    if outcome.name not in THRESHOLDS:
        return []
    weeks = _weeks_charted(outcome)
    return list(dict.fromkeys(weeks * float(m.p[THRESHOLDS[outcome.name][0]]) for m in models))


def title(outcome: Outcome) -> str:
    """A chart's title with the unit of what it draws, unless the title names it already:
    a share in (0–1), a flow in its unit, its 13-week sum already said by the title ("per
    quarter"), e.g. "cooperation with the state (0–1)", "civilian deaths per quarter
    (people)"."""
    unit = unit_of(outcome).removesuffix(" per week")
    if unit in outcome.title.split() or f"({unit})" in outcome.title:
        return outcome.title
    return f"{outcome.title} ({unit})"


def _weeks_charted(outcome: Outcome) -> int:
    """The weeks of an outcome each point of its chart holds: a quarter of a flow, else one."""
    return QUARTER if outcome.flow else 1


def _years_apart(year_width: float) -> int:
    """Every how many years the x axis is labelled, ``year_width`` the units a year takes: 1, 2,
    5 or 10, the first whose labels do not crowd."""
    return next((k for k in (1, 2, 5, 10) if k * year_width >= _YEAR_ROOM), 20)


def key(names: list[str]) -> str:
    """What the lines of two runs side by side are: each run's name in its line's colour,
    beside a stroke of it (one run needs no key)."""
    if len(names) < 2:
        return ""
    return "".join(f'<span data-side="{side}" style="color:{SIDE_COLOURS[side % 2]}; '
                   f'margin-right:14px"><b>\u2501\u2501</b> {escape(name)}</span>'
                   for side, name in enumerate(names))


def svg(models: list[BlowbackModel], outcome: Outcome) -> str:
    """The chart of one outcome for one model, or for two side by side on the same axes: the
    axis spans the longer run, and a shorter one's line stops where it ended."""
    first = max(models, key=lambda m: m.steps_total)
    steps = max(1, first.steps_total - 1)
    series = [values(m, outcome) for m in models]
    finite = [s[np.isfinite(s)] for s in series]
    top = 1.0 if outcome.share else _nice(max(
        [float(f.max()) for f in finite if len(f)] + _threshold_values(models, outcome),
        default=0.0))
    plot_w, plot_h = WIDTH - _LEFT - _RIGHT, HEIGHT - _TOP - _BOTTOM

    def px(step: float) -> float:
        return _LEFT + plot_w * step / steps

    def py(v: np.ndarray) -> np.ndarray:
        return _TOP + plot_h * (1.0 - np.clip(v / top, 0.0, 1.0))

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bb-chart" '
             f'data-series="{outcome.name}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
             f'height="{HEIGHT}">',
             f'<text x="2" y="13" font-size="{TITLE_SIZE}" font-weight="bold">'
             f"{escape(title(outcome))}</text>",
             f'<rect x="{_LEFT}" y="{_TOP}" width="{plot_w}" height="{plot_h}" fill="white" '
             'stroke="#bbb"/>']
    for frac in (0.0, 0.5, 1.0):
        y = _TOP + plot_h * (1 - frac)
        parts.append(f'<text x="{_LEFT - 3}" y="{y + 4:.1f}" font-size="{TEXT_SIZE}" '
                     f'text-anchor="end">{_label(top * frac)}</text>')
    start = first.scenario_spec.start_date()
    every = _years_apart(plot_w * 52.18 / steps)
    for year in range(start.year + 1, first.scenario_spec.date_of(steps).year + 1):
        step = (dt.date(year, 1, 1) - start).days / 7.0
        if 0 < step < steps and (year - start.year) % every == 0:
            parts.append(f'<text x="{px(step):.1f}" y="{HEIGHT - 4}" font-size="{TEXT_SIZE}" '
                         f'text-anchor="middle">{year}</text>')
    for side, model in enumerate(models):
        colour = SIDE_COLOURS[side % 2] if len(models) > 1 else "#999"
        for step, text in event_steps(model):
            x = px(step)
            parts.append(f'<line class="bb-event" x1="{x:.1f}" x2="{x:.1f}" y1="{_TOP}" '
                         f'y2="{_TOP + plot_h}" stroke="{colour}" stroke-opacity="0.6" '
                         f'stroke-dasharray="3,2"><title>{escape(text)}</title></line>')
    parts += _thresholds(models, outcome, top, px, py)
    for side, s in enumerate(series):
        ok = np.isfinite(s)
        xs = _LEFT + plot_w * np.flatnonzero(ok) / steps
        points = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, py(s[ok]), strict=True))
        parts.append(f'<polyline data-side="{side}" data-points="{int(ok.sum())}" '
                     f'points="{points}" fill="none" stroke="{SIDE_COLOURS[side % 2]}" '
                     'stroke-width="1.6"/>')
    parts.append("</svg>")
    return "".join(parts)
