"""Global sensitivity of the outcomes, how often the ranking of the regimes flips, where the
first scenario does worse than each other one (the headline's robustness), and the region of
the parameter space where it does not (scenario discovery, sim.experiments.discovery)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.core.outcomes import shown
from sim.core.registry import Outcome
from sim.experiments import discovery
from sim.experiments.experiment import Experiment
from sim.experiments.output import folded, write_report
from sim.interfaces.figure_style import (
    OKABE_ITO,
    legend_outside,
    looks,
    share_axis,
    styled,
    widen_for_labels,
    wrapped,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

FILES = frozenset({"indices.csv", "interactions.csv", "ranking.csv", "worse.csv", "boxes.csv",
                   "box_limits.csv", "sensitivity.txt", "indices.png", "indices.svg",
                   "worse.png", "worse.svg", "boxes.png", "boxes.svg"})
ALL = "all three at once"
# SALib's intervals: 1.96 times the standard deviation of the index over resamples (with
# replacement) of the base samples.
RESAMPLES = 100
CONFIDENCE = f"SALib: 1.96 × the index's standard deviation over {RESAMPLES} resamples"
# An estimate this far outside what a share of variance can be is an error of the estimate,
# not rounding.
SLACK = 0.05


class SensitivityError(ValueError):
    """An experiment whose design the analysis cannot use (one line, for the CLI)."""


@dataclass
class Sensitivity:
    """Sobol indices per scenario and outcome (none for a Latin design), and the share of
    design points where the regimes rank differently from their most common order."""

    # scenario, outcome, parameter, S1, S1_conf, ST, ST_conf; NaN where the outcome is the
    # same at every design point (no variance to apportion)
    indices: pd.DataFrame
    ranking: pd.DataFrame  # outcome, modal ranking, share of points that differ
    # first scenario against each other: outcome, share of the points where it does worse
    # (its mean over seeds), and the share of seeds' paired differences that agree
    worse: pd.DataFrame
    # first scenario against each other: PRIM's box of the points where it is not worse
    discoveries: list[discovery.Discovery]
    # second-order indices (a design with ``second_order = true``): scenario, outcome,
    # parameter, other, S2, S2_conf
    interactions: pd.DataFrame = field(default_factory=pd.DataFrame)
    # the base samples N of a Saltelli design, which the bootstrap of the intervals resamples
    base_samples: int = 0

    def text(self, wide: bool = False) -> str:
        """The tables as text, long lines folded to 100 characters (kept whole with
        ``wide``)."""
        lines = _index_lines(self.indices, self.base_samples)
        if len(self.interactions):
            lines += _interaction_lines(self.interactions)
        lines.append("\nRanking of the regimes (best first) and where it changes:")
        for r in self.ranking.itertuples():
            lines.append(f"  {r.outcome}: {r.modal_ranking}; differs at {r.share_differs:.0%} "
                         "of the design points")
        if len(self.worse):
            lines.append("\nWhere the first scenario does worse (share of the design points):")
            for r in self.worse.itertuples():
                lines.append(f"  {r.scenario} vs {r.other}, {r.outcome}: {r.share_worse:.0%} "
                             f"of points ({r.share_worse_runs:.0%} of paired runs)")
        for found in self.discoveries:
            lines.append("\n" + found.text())
        return "\n".join(lines) if wide else folded("\n".join(lines))


def check(experiment: Experiment) -> None:
    """Refuse experiments whose design gives neither Sobol indices nor points spread over the
    whole space, and a machine without the packages of the analysis (before any run is
    spent)."""
    if experiment.sampler not in ("sobol", "latin"):
        raise SensitivityError(f"{experiment.path}: vary.sampler: {experiment.sampler!r} gives "
                               "neither Sobol indices nor independent points for PRIM; allowed: "
                               "\"sobol\" (indices and boxes) or \"latin\" (boxes only)")
    import importlib.util

    needed = ("SALib", "ema_workbench") if experiment.sampler == "sobol" else ("ema_workbench",)
    missing = [name for name in needed if importlib.util.find_spec(name) is None]
    if missing:
        raise SensitivityError(f"{experiment.path}: the analysis needs {' and '.join(missing)}, "
                               "not installed; pip install 'blowback[sensitivity]'")


def analyse(experiment: Experiment, runs: pd.DataFrame) -> Sensitivity:
    """Sobol indices of each outcome (mean over seeds at each design point), per scenario, for
    a Sobol design; the share of points where the first scenario does worse, and PRIM's boxes
    of where it is not, for a Sobol or a Latin design."""
    check(experiment)
    vary = tomllib.loads(experiment.text).get("vary", {})
    second_order = bool(vary.get("second_order", True))
    names = experiment.varied
    design = pd.DataFrame(experiment.points)[names]
    columns = [o.column for o in shown("ranking")]
    means = runs.groupby(["scenario", "point"], sort=False)[columns].mean()
    n_points = len(experiment.points)
    tables = {}
    for scenario in experiment.scenarios:
        if scenario not in means.index.get_level_values(0):
            continue
        tables[scenario] = means.loc[scenario].reindex(range(n_points))
        if tables[scenario].isna().any().any():
            raise SensitivityError(f"{experiment.path}: the sweep of {scenario!r} is not "
                                   "finished; rerun to complete it")
    first, *others = list(tables)
    # The indices of the difference say which parameters decide the comparison.
    tables |= {f"{first} - {other}": tables[first] - tables[other] for other in others}
    rows, pairs, own, base_samples = [], [], np.arange(n_points), 0
    if experiment.sampler == "sobol":
        rows, pairs = _indices(tables, design, second_order)
        own = independent_points(n_points, len(names), second_order)
        base_samples = len(own) // 2
    found = [discovery.discover(design.iloc[own], first, other,
                                _gaps(tables[first], tables[other]).iloc[own].reset_index(
                                    drop=True), {ALL: "not worse on at least one of the three"})
             for other in others]
    indices = pd.DataFrame(rows, columns=["scenario", "outcome", "parameter", "S1", "S1_conf",
                                          "ST", "ST_conf"])
    return Sensitivity(indices, _ranking(means, list(experiment.scenarios)),
                       _worse(runs, first, others), found, pd.DataFrame(pairs),
                       base_samples)


def _indices(tables: dict[str, pd.DataFrame], design: pd.DataFrame,
             second_order: bool) -> tuple[list[dict], list[dict]]:
    """Each scenario's and outcome's first- and total-order indices of every parameter (NaN
    where the outcome is the same at every point), and the second-order ones of every pair
    when the design has them."""
    from SALib.analyze import sobol

    names = list(design.columns)
    block = 2 * len(names) + 2 if second_order else len(names) + 2
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(design[n].min()), float(design[n].max())] for n in names]}
    rows, pairs = [], []
    for scenario, table in tables.items():
        for o in shown("ranking"):
            values = table[o.column].to_numpy(dtype=float)
            if np.allclose(values, values[0], rtol=1e-9, atol=0.0):
                rows += [{"scenario": scenario, "outcome": o.label, "parameter": name,
                          "S1": np.nan, "S1_conf": np.nan, "ST": np.nan, "ST_conf": np.nan}
                         for name in names]
                continue
            result = sobol.analyze(problem, values, calc_second_order=second_order,
                                   num_resamples=RESAMPLES, seed=12345)
            if len(values) <= block:
                # One base sample: every resample is that sample, and the "interval" of
                # width 0 would read as an exact index.
                for key in {"S1_conf", "ST_conf", "S2_conf"} & set(result):
                    result[key] = np.full_like(result[key], np.nan)
            for k, name in enumerate(names):
                rows.append({"scenario": scenario, "outcome": o.label, "parameter": name,
                             "S1": result["S1"][k], "S1_conf": result["S1_conf"][k],
                             "ST": result["ST"][k], "ST_conf": result["ST_conf"][k]})
            if second_order:
                pairs += [{"scenario": scenario, "outcome": o.label, "parameter": a,
                           "other": names[k + 1 + j], "S2": result["S2"][k, k + 1 + j],
                           "S2_conf": result["S2_conf"][k, k + 1 + j]}
                          for k, a in enumerate(names) for j in range(len(names) - k - 1)]
    return rows, pairs


def independent_points(points: int, parameters: int, second_order: bool) -> np.ndarray:
    """The rows of Saltelli's design that are points of their own: each base sample's first
    and last rows (its matrices A and B).  Every other row copies all but one of the values of
    its A row (or of its B row), so a test that counted the rows as independent points, as
    PRIM's quasi-p-values do, would overstate its significance."""
    block = 2 * parameters + 2 if second_order else parameters + 2
    starts = np.arange(0, points, block)
    return np.sort(np.concatenate([starts, starts + block - 1]))


def _index_lines(indices: pd.DataFrame, base_samples: int) -> list[str]:
    """The text of the first- and total-order indices: how their intervals were found, each
    index flagged where its estimate is too poor to read, and a warning that counts them."""
    if not len(indices):
        return ["No Sobol indices: the design is not Saltelli's."]
    lines = [f"Sobol indices from {base_samples} base samples: first order S1 and total ST, "
             f"each ± the half-width of its 95% bootstrap interval ({CONFIDENCE}):"]
    flags = {}
    for (scenario, outcome), sub in indices.groupby(["scenario", "outcome"], sort=False):
        if sub["ST"].isna().all():
            lines.append(f"  {scenario} / {outcome}: the same at every design point, "
                         "no variance to apportion")
            continue
        lines.append(f"  {scenario} / {outcome}")
        for r in sub.itertuples():
            flags[r.Index] = _poor(r)
            odd = f"   ({flags[r.Index]}: too few samples)" if flags[r.Index] else ""
            lines.append(f"    {r.parameter:<32} S1 {r.S1:6.2f} ± {_half(r.S1_conf)}   "
                         f"ST {r.ST:6.2f} ± {_half(r.ST_conf)}{odd}")
    poor = sum(bool(flag) for flag in flags.values())
    if poor:
        lines.insert(1, f"  Warning: {poor} of {len(flags)} indices are flagged as too poor to "
                     f"read (outside 0-1, S1 above ST, or an interval wider than 0-1): "
                     f"{base_samples} base samples are too few for them; the intervals narrow "
                     "as one over the square root of the base samples.")
    return lines


def _poor(r) -> str:
    """Why an index's estimate cannot be read as a share of variance, or "" if it can: an
    index outside [0, 1] or a first order above the total is an estimate's error, an interval
    wider than [0, 1] says nothing, and one base sample gives no interval at all."""
    if not (np.isfinite(r.S1_conf) and np.isfinite(r.ST_conf)):
        return "no interval from one base sample"
    if not (-SLACK <= r.S1 <= 1 + SLACK and -SLACK <= r.ST <= 1 + SLACK):
        return "outside 0-1"
    if r.S1 > r.ST + SLACK:
        return "S1 above ST"
    if max(r.S1_conf, r.ST_conf) > 0.5:
        return "interval wider than 0-1"
    return ""


def _half(conf: float) -> str:
    """An interval's half-width, or n/a where there is none."""
    return f"{conf:4.2f}" if np.isfinite(conf) else " n/a"


def _interaction_lines(interactions: pd.DataFrame, most: int = 3) -> list[str]:
    """The text of the second-order indices: per scenario and outcome, the largest pairs whose
    interval excludes zero."""
    lines = ["\nSecond-order indices (pairs whose 95% bootstrap interval excludes zero, largest "
             "first):"]
    for (scenario, outcome), sub in interactions.groupby(["scenario", "outcome"], sort=False):
        clear = sub[sub["S2"] - sub["S2_conf"] > 0].nlargest(most, "S2")
        lines.append(f"  {scenario} / {outcome}: " + ("; ".join(
            f"{r.parameter} x {r.other} {r.S2:.2f} ± {r.S2_conf:.2f}"
            for r in clear.itertuples()) or "none"))
    return lines


def _gaps(first: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """Per design point and outcome, how much worse the first scenario does relative to the
    other (their per-point means); for all three at once, the smallest of the three (it is
    worse on all only where that is)."""
    gaps = pd.DataFrame({o.label: discovery.relative_gap(first[o.column], other[o.column],
                                                         _worse_sign(o))
                         for o in shown("ranking")})
    gaps[ALL] = gaps.min(axis=1)
    return gaps


def _worse(runs: pd.DataFrame, first: str, others: list[str]) -> pd.DataFrame:
    """Per other scenario and outcome: the share of design points where ``first`` does worse
    on its mean over seeds, and the share of paired runs (same point, same seed) where it
    does."""
    outcomes = shown("ranking")
    paired = runs.set_index(["scenario", "point", "seed"])[[o.column for o in outcomes]]
    rows = []
    for other in others:
        diff = paired.loc[first] - paired.loc[other]
        sign = pd.DataFrame({o.column: diff[o.column] * _worse_sign(o) > 0 for o in outcomes})
        point_sign = pd.DataFrame({
            o.column: diff[o.column].groupby(level="point").mean() * _worse_sign(o) > 0
            for o in outcomes})
        for o in outcomes:
            rows.append({"scenario": first, "other": other, "outcome": o.label,
                         "share_worse": float(point_sign[o.column].mean()),
                         "share_worse_runs": float(sign[o.column].mean())})
        rows.append({"scenario": first, "other": other, "outcome": ALL,
                     "share_worse": float(point_sign.all(axis=1).mean()),
                     "share_worse_runs": float(sign.all(axis=1).mean())})
    return pd.DataFrame(rows, columns=["scenario", "other", "outcome", "share_worse",
                                       "share_worse_runs"])


def _worse_sign(o: Outcome) -> int:
    """1 where more of the outcome is worse, -1 where less is."""
    return 1 if o.better == "lower" else -1


def _ranking(means: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    rows = []
    for o in shown("ranking"):
        wide = means[o.column].unstack(0)[scenarios]
        order = np.argsort(wide.to_numpy() * _worse_sign(o), axis=1, kind="stable")
        rankings = [" > ".join(scenarios[i] for i in row) for row in order]
        modal = pd.Series(rankings).mode().iloc[0]
        rows.append({"outcome": o.label, "modal_ranking": modal,
                     "share_differs": float(np.mean([r != modal for r in rankings]))})
    return pd.DataFrame(rows)


@styled
def plot_indices(indices: pd.DataFrame) -> Figure:
    """Bar chart of total-order indices, one panel per outcome, bars per parameter and
    scenario (whiskers: 95% confidence)."""
    import matplotlib.pyplot as plt

    indices = indices.dropna(subset=["ST"])
    outcomes = list(dict.fromkeys(indices["outcome"]))
    style = looks(indices["scenario"])
    fig, axes = plt.subplots(1, len(outcomes), figsize=(6 * len(outcomes), 5.5), squeeze=False,
                             layout="constrained")
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        sub = indices[indices["outcome"] == outcome]
        wide = sub.pivot(index="parameter", columns="scenario", values="ST").reindex(
            columns=list(style))
        err = sub.pivot(index="parameter", columns="scenario", values="ST_conf").reindex(
            columns=list(style))
        wide.plot.barh(ax=ax, xerr=err, legend=False,
                       color=[look.colour for look in style.values()])
        # Each panel keeps its parameters' names at its left: what is left of its width takes
        # the title and the label only broken into lines.
        ax.set_title(wrapped(f"{outcome}: total-order Sobol index", 30))
        ax.set_xlabel(wrapped("total-order index ST (share of the variance, 0–1; whiskers: "
                              "95% bootstrap interval)", 30))
        ax.set_ylabel("parameter")
    legend_outside(fig, *axes[0][0].get_legend_handles_labels(), title="scenario")
    return fig


@styled
def plot_worse(worse: pd.DataFrame) -> Figure:
    """Bars: the share of the parameter space where the first scenario does worse, per
    outcome, one group per other scenario."""
    import matplotlib.pyplot as plt

    # A long scenario name would take the label past the bars and off the image: wrapped, each
    # further line of it gets room of its own.
    xlabel = wrapped(f"share where {worse['scenario'].iloc[0]} does worse (0–1)", 60)
    fig, ax = plt.subplots(figsize=(9, 0.6 * len(worse) + 2.5 + 0.25 * xlabel.count("\n")),
                           layout="constrained")
    labels = [f"{r.outcome} (vs {r.other})" for r in worse.itertuples()]
    y = np.arange(len(worse))[::-1]
    ax.barh(y, worse["share_worse"], color=OKABE_ITO[5], alpha=0.8, label="design points")
    ax.scatter(worse["share_worse_runs"], y, color="black", zorder=3, label="paired runs")
    ax.set_yticks(y, labels)
    widen_for_labels(fig, ax, columns=1, data=4.5)
    share_axis(ax, "x")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("outcome (against which scenario)")
    legend_outside(fig)
    return fig


def write(result: Sensitivity, out: Path) -> Path:
    """Write the tables and the chart (PNG, SVG) into ``out`` atomically."""
    # An outcome that no parameter moves has no index (NaN), a design may move none, and a
    # Latin design has no index at all.
    drawn = result.indices["ST"].notna().any()
    figures = {"indices": lambda: plot_indices(result.indices)} if drawn else {}
    tables = {"indices.csv": result.indices, "ranking.csv": result.ranking,
              "worse.csv": result.worse}
    if len(result.interactions):
        tables["interactions.csv"] = result.interactions
    if len(result.worse):
        figures["worse"] = lambda: plot_worse(result.worse)
    if result.discoveries:
        figures["boxes"] = lambda: discovery.plot(result.discoveries)
        tables["boxes.csv"] = pd.concat([d.boxes for d in result.discoveries])
        tables["box_limits.csv"] = pd.concat([d.limits for d in result.discoveries])
    return write_report(
        out, FILES, what="a sensitivity analysis", tables=tables,
        texts={"sensitivity.txt": result.text() + "\n"}, figures=figures)
