"""Scenario discovery: the region of parameter space where one regime fares no worse than
another, named as a PRIM box (Friedman & Fisher 1999; Bryant & Lempert 2010), with the EMA
Workbench's implementation.

A sensitivity sweep says how often the first regime does worse; PRIM says *where* it does not.
For each outcome the cases of interest are the design points where the first regime is not worse
(its mean over seeds).  When there are too few of them for a box to mean anything (the headline
holds nearly everywhere), or they are scattered so that no restriction survives its
significance test, the cases are instead the tenth of the points where its disadvantage is
smallest relative to the other regime's level (its advantage largest, where it is not worse at
that many points): the box then names the conditions that weaken the headline, which are the
mechanisms that hold it up.  Restrictions that could be chance by their
quasi-p-value are dropped, the least significant first, before a box is reported.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.core.parameters import BY_NAME
from sim.interfaces.figure_style import (
    HIGHLIGHT,
    NEUTRAL,
    axis_label,
    legend_outside,
    styled,
    wrapped,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Fewer cases (or fewer non-cases) than this and a box is noise: switch to the weakest tenth.
MIN_CASES = 10
WEAKEST = 0.1
# The box reported is the largest-coverage one on PRIM's peeling trajectory whose density
# reaches this, the densest of those (Bryant & Lempert's trade-off, fixed before looking); else
# the densest.
DENSITY = 0.8
# A restriction whose quasi-p-value exceeds this could be chance (Bryant & Lempert's test).
SIGNIFICANT = 0.05
NOT_WORSE = "not worse"
WEAKEST_CASES = "weakest tenth"
EQUAL = "equal everywhere"
# The figure's legend is shared by its panels, whose cases may be of either kind: each kind its
# own marker, so that a reader tells which a panel shows.
_CASE_MARKERS = {NOT_WORSE: "o", WEAKEST_CASES: "^", EQUAL: "s"}


@dataclass
class Discovery:
    """One PRIM box per outcome for the first scenario against another: which cases it
    describes and the limits it sets."""

    first: str
    other: str
    x: pd.DataFrame  # the design: one row a point, one column a varied parameter
    gaps: pd.DataFrame  # one row a point, one column an outcome (relative_gap)
    cases: pd.DataFrame  # the cases each outcome's box describes (bool), same shape
    # scenario, other, outcome, cases, n_cases, not_worse, points, coverage, density, mass
    boxes: pd.DataFrame
    # scenario, other, outcome, parameter, low, high, range_low, range_high, qp
    limits: pd.DataFrame
    # What a gap of at most zero means, by outcome, where "not worse" would mislead (a gap
    # that is the smallest of several is at most zero where the first is not worse on one).
    meaning: Mapping[str, str] = field(default_factory=dict)

    def text(self) -> str:
        """One paragraph per outcome, naming the box's restrictions."""
        lines = [f"Where {self.first} is not worse than {self.other} (PRIM boxes: of the "
                 f"peeling trajectory the box of largest coverage whose density reaches "
                 f"{DENSITY:.0%}, else the densest; a restriction is kept if its quasi-p-value "
                 f"is at most {SIGNIFICANT}):"]
        for box in self.boxes.itertuples():
            if box.cases == EQUAL:
                lines.append(f"  {box.outcome}: the same as {self.other} at all {box.points} "
                             "points; there is nothing to discover")
                continue
            not_worse = self.meaning.get(box.outcome, "not worse")
            points = "point" if box.n_cases == 1 else "points"
            if box.cases == NOT_WORSE:
                what = f"the {box.n_cases} {points} where it is {not_worse}"
            else:
                why = _why_not_a_box(box.not_worse, box.points)
                # The cases are the smallest gaps: where the first is not worse at as many
                # points as there are cases (scattered, or nearly everywhere), every case is a
                # point where it does better, and its "weakest" points are its best ones.
                rank = ("disadvantage is smallest" if box.not_worse < box.n_cases
                        else "advantage is largest")
                what = (f"{not_worse} at {box.not_worse} of {box.points} points ({why}); the "
                        f"{box.n_cases} {points} where its {rank}")
            lines.append(f"  {box.outcome}: {what}; PRIM's box holds {box.coverage:.0%} of "
                         f"them, they are {box.density:.0%} of its points, and it is "
                         f"{box.mass:.0%} of the space:")
            sub = self.limits[self.limits["outcome"] == box.outcome]
            if sub.empty:
                # No restriction passing the test shows that no region holds the cases, not
                # that they are spread: a few points give the test no power.
                lines.append(f"    no restriction with a quasi-p-value of at most {SIGNIFICANT}: "
                             "no region of the space is shown to hold them")
            for r in sub.itertuples():
                lines.append(f"    {r.parameter:<28} {_bound(r)}   qp {r.qp:.2g}")
        return "\n".join(lines)


def _why_not_a_box(not_worse: int, points: int) -> str:
    """Why the points where the first is not worse are not the cases PRIM describes."""
    if points < 2 * MIN_CASES:
        return (f"a design of {points} points is too small for a box, which needs at least "
                f"{MIN_CASES} points where it is and {MIN_CASES} where it is not")
    if not_worse < MIN_CASES:
        return f"too few for a box, which needs at least {MIN_CASES}"
    if not_worse > points - MIN_CASES:
        return f"too many for a box, which needs at least {MIN_CASES} points where it is worse"
    return "scattered, in no box"


def _bound(r) -> str:
    low = r.low if r.low > r.range_low else None
    high = r.high if r.high < r.range_high else None
    if low is not None and high is not None:
        return f"{low:.3g} to {high:.3g}"
    return f">= {low:.3g}" if low is not None else f"<= {high:.3g}"


def relative_gap(first: pd.Series, other: pd.Series, worse_sign: int) -> pd.Series:
    """Per design point: how much worse the first scenario does than the other (their means
    over seeds, ``first`` and ``other``), as a share of the other's level; positive where the
    first is worse."""
    return (first - other) * worse_sign / other.abs().clip(lower=1e-12)


def cases_of_interest(gap: pd.Series) -> tuple[np.ndarray, str]:
    """The points where ``first`` is not worse, or, when they (or the rest) are too few, the
    tenth where its disadvantage is smallest (its advantage largest, where it is not worse
    at that many points); and which of the two it is.  Where the two are equal at every point
    (a scenario against itself), no point ranks above another: every point is a case."""
    not_worse = (gap <= 0).to_numpy()
    if (gap == 0).all():
        return not_worse, EQUAL
    if MIN_CASES <= not_worse.sum() <= len(gap) - MIN_CASES:
        return not_worse, NOT_WORSE
    return weakest(gap), WEAKEST_CASES


def weakest(gap: pd.Series) -> np.ndarray:
    """The tenth of the points where the gap is smallest."""
    return gap.rank(method="first").to_numpy() <= max(1, round(WEAKEST * len(gap)))


def find_box(x: pd.DataFrame, cases: np.ndarray, outcome: str,
             kind: str) -> tuple[dict, list[dict]]:
    """PRIM's first box for ``cases`` over the design ``x`` (with the default index): the box
    of its peeling trajectory with the largest coverage whose density reaches ``DENSITY``, the
    densest of those (else the densest), less the restrictions that could be chance; its
    statistics and, per restricted parameter, its limits and quasi-p-value."""
    if cases.all() or not cases.any():
        # PRIM needs cases and non-cases (a design of one point has only one kind): the box is
        # the whole space.
        return _stats(x, cases, outcome, kind, float(cases.any()), float(cases.mean()), 1.0), []
    with warnings.catch_warnings():
        # The workbench warns on import about parallel back-ends PRIM does not use, and while
        # peeling about pandas features it uses that newer pandas deprecates.
        warnings.simplefilter("ignore")
        from ema_workbench.analysis import prim

        # PRIM counts y >= threshold as cases, and keeps a box only if its density reaches the
        # threshold (else it returns the whole space); 0.5 does both for 0/1 cases, and the
        # box is chosen from the peeling trajectory below.
        algorithm = prim.Prim(x, cases.astype(int), threshold=0.5)
        box = algorithm.find_box()
        trajectory = box.peeling_trajectory
        # Of dense boxes of equal coverage, the densest: where most points are cases the whole
        # space is dense already, and would hide the region they lie in behind "no box".
        dense = trajectory[trajectory["density"] >= DENSITY].sort_values(
            ["coverage", "density"], ascending=False, kind="stable")
        i = int(dense.index[0] if len(dense) else trajectory["density"].idxmax())
        box.select(i)
        # Peeling trims slivers off parameters by chance: the least significant restriction
        # is dropped, one at a time, until every one left passes (each drop adds the wider
        # box to the trajectory and selects it).
        while box.qp[i] and max(map(_qp, box.qp[i].values())) > SIGNIFICANT:
            box.drop_restriction(max(box.qp[i], key=lambda name: _qp(box.qp[i][name])))
            i = len(box.peeling_trajectory) - 1
        trajectory = box.peeling_trajectory
    row = trajectory.loc[i]
    stats = _stats(x, cases, outcome, kind, float(row["coverage"]), float(row["density"]),
                   float(row["mass"]))
    lims = box.box_lims[i]
    limits = [{"outcome": outcome, "parameter": name,
               "low": float(lims.loc[0, name]), "high": float(lims.loc[1, name]),
               "range_low": float(x[name].min()), "range_high": float(x[name].max()),
               "qp": _qp(sides)} for name, sides in box.qp[i].items()]
    limits.sort(key=lambda r: r["qp"])
    return stats, limits


def _stats(x: pd.DataFrame, cases: np.ndarray, outcome: str, kind: str, coverage: float,
           density: float, mass: float) -> dict:
    """A box's row of the boxes' table."""
    return {"outcome": outcome, "cases": kind, "n_cases": int(cases.sum()), "points": len(x),
            "coverage": coverage, "density": density, "mass": mass}


def _qp(sides: list[float]) -> float:
    """A restriction's quasi-p-value: the larger of its two sides' (-1 marks a side the box
    does not restrict)."""
    return float(max((q for q in sides if q >= 0), default=1.0))


def discover(x: pd.DataFrame, first: str, other: str, gaps: pd.DataFrame,
             meaning: Mapping[str, str] | None = None) -> Discovery:
    """A PRIM box per outcome (column of ``gaps``, :func:`relative_gap`) over the design
    points ``x`` (one row a point, one column a varied parameter).  Where the points where
    ``first`` is not worse are scattered (no restriction survives), the box is that of the
    weakest tenth instead.  ``meaning``: what a gap of at most zero means, by outcome, where
    it is not simply "not worse"."""
    # PRIM writes its limits, half-way between two points' values, into the design's own
    # columns: an integer parameter's (units, communities) must take 13.5.
    x = x.reset_index(drop=True).astype(float)
    gaps = gaps.reindex(range(len(x)))
    boxes, limits, chosen = [], [], {}
    for outcome in gaps.columns:
        cases, kind = cases_of_interest(gaps[outcome])
        stats, lims = find_box(x, cases, outcome, kind)
        if kind == NOT_WORSE and not lims:
            cases, kind = weakest(gaps[outcome]), WEAKEST_CASES
            stats, lims = find_box(x, cases, outcome, kind)
        stats["not_worse"] = int((gaps[outcome] <= 0).sum())
        chosen[outcome] = cases
        boxes.append({"scenario": first, "other": other} | stats)
        limits.extend({"scenario": first, "other": other} | r for r in lims)
    columns = ["scenario", "other", "outcome", "parameter", "low", "high", "range_low",
               "range_high", "qp"]
    return Discovery(first, other, x, gaps, pd.DataFrame(chosen), pd.DataFrame(boxes),
                     pd.DataFrame(limits, columns=columns), dict(meaning or {}))


@styled
def plot(discoveries: list[Discovery]) -> Figure:
    """One row per comparison, one panel per outcome: the design points over the box's two
    most significant restrictions (or its one, against the relative gap), cases in vermillion
    (dots where not worse, triangles for the weakest tenth), and the box."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    outcomes = list(discoveries[0].boxes["outcome"])
    fig, axes = plt.subplots(len(discoveries), len(outcomes),
                             figsize=(5.5 * len(outcomes), 4.8 * len(discoveries) + 1),
                             squeeze=False, layout="constrained")
    for row, found in zip(axes, discoveries, strict=True):
        for ax, box in zip(row, found.boxes.itertuples(), strict=True):
            _panel(ax, found, box, Rectangle)
    legend_outside(fig)
    return fig


def _panel(ax, found: Discovery, box, rectangle) -> None:
    """One outcome's points and box."""
    from matplotlib.ticker import MaxNLocator

    x = found.x
    gap = found.gaps[box.outcome]
    cases = found.cases[box.outcome].to_numpy()
    sub = found.limits[found.limits["outcome"] == box.outcome].head(2)
    names = list(sub["parameter"])
    # The design varies registered parameters only: each axis gets its name and unit.
    horizontal = (x[names[0]].rename(axis_label(BY_NAME[names[0]])) if names
                  else pd.Series(np.arange(len(x)), name="design point (index)"))
    vertical = (x[names[1]].rename(axis_label(BY_NAME[names[1]])) if len(names) > 1
                else pd.Series(100 * gap.to_numpy(),
                               name=wrapped(f"how much worse {found.first} is (%)", 45)))
    ax.scatter(horizontal[~cases], vertical[~cases], s=12, color=NEUTRAL, label="other points")
    ax.scatter(horizontal[cases], vertical[cases], s=18, color=HIGHLIGHT, label=box.cases,
               marker=_CASE_MARKERS[box.cases])
    if names:
        r = sub.iloc[0]
        bottom, top = ((sub.iloc[1]["low"], sub.iloc[1]["high"]) if len(names) > 1
                       else ax.get_ylim())
        ax.add_patch(rectangle((r["low"], bottom), r["high"] - r["low"], top - bottom,
                               fill=False, edgecolor="black", linewidth=1.5))
    ax.set_xlabel(horizontal.name)
    ax.set_ylabel(vertical.name)
    # A parameter of small values (0 to 0.002) has long tick labels: matplotlib's nine ran
    # together under a panel.
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_locator(MaxNLocator(nbins=5))
    # A long scenario name, wrapped, keeps the title over its panel.
    ax.set_title(wrapped(f"{box.outcome} (vs {found.other})", 50)
                 + f"\ncoverage {box.coverage:.0%}, density {box.density:.0%}", fontsize=11)
