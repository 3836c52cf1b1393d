"""Analysis of a sweep: intervals per regime, paired differences, and figures for a report."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.core.outcomes import BY_NAME, shown
from sim.core.registry import Outcome
from sim.experiments.compare import (
    INTERVAL,
    format_table,
    readings,
    summarise,
    summarise_paired,
)
from sim.experiments.output import (
    FOLDER_FORMAT,
    MANIFEST,
    OutputError,
    described,
    verified,
    write_report,
)
from sim.experiments.results import SUMMARY_FILE
from sim.experiments.sweep import load as load_sweep
from sim.experiments.sweep_folder import SWEEP_FORMATS
from sim.interfaces.figure_style import (
    count_axis,
    legend_outside,
    looks,
    share_axis,
    styled,
    unit_of,
    widen_for_labels,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

    from matplotlib.figure import Figure

    from sim.interfaces.plotting import Seeds

FIGURES = ("distributions", "tradeoff")
# A grid (factorial) gives a row of the tables and a box of the figures to each of its points. A
# sampled design (a Latin hypercube, a Sobol design: hundreds or thousands of points, each run
# once per seed) of more than MAX_POINT_GROUPS points is read over its whole space, each scenario
# one group, its differences still paired on seed and design point.  `load` gives a sweep's
# sampler as the runs' attrs["sampler"].
MAX_POINT_GROUPS = 16
SAMPLED = ("latin", "sobol")
ANALYSIS_FILES = frozenset({"table.csv", "differences.csv", "tables.txt"}
                           | {f"{name}.{ext}" for name in FIGURES + ("series",)
                              for ext in ("png", "svg")})


class AnalysisError(ValueError):
    """A request the results cannot answer (one line, for the CLI)."""


@dataclass
class Analysis:
    """Tables of a sweep: per group (a scenario, at one design point if several) and paired."""

    runs: pd.DataFrame
    table: pd.DataFrame
    differences: pd.DataFrame
    baseline: str
    pooled: int = 0  # the points of a sampled design read as one group a scenario, or 0

    def text(self, wide: bool = False) -> str:
        """Both tables as text, in blocks that fit 100 characters (wide tables with
        ``wide``)."""
        # A compare's folder gives no run's weeks; a sweep's gives each run's.
        weeks = self.runs["steps"] if "steps" in self.runs else ()
        pooled = (f"Each regime over all {self.pooled} points of its sampled design (more than "
                  f"{MAX_POINT_GROUPS}; blowback sensitivity reads how the outcomes vary over "
                  "them).\n" if self.pooled else "")
        return (pooled + f"{INTERVAL}:\n" + readings(self.table, weeks)
                + format_table(self.table, wide)
                + f"\n\nPaired difference against {self.baseline} (each group minus "
                f"{self.baseline}, same seeds and design point):\n"
                + format_table(self.differences, wide))


def _pooled(runs: pd.DataFrame) -> int:
    """The points of ``runs``' design if it is sampled and has more than
    :data:`MAX_POINT_GROUPS` of them (read as one group a scenario), else 0."""
    points = runs["point"].nunique()
    return points if runs.attrs.get("sampler") in SAMPLED and points > MAX_POINT_GROUPS else 0


def _groups(runs: pd.DataFrame, pooled: bool) -> pd.Series:
    """One label per run: its scenario, and the values of its design point when the sweep
    varied parameters (their columns have dotted names), unless its points are ``pooled``.
    Each design point of a scenario gets a label of its own: values are written with as many
    digits as it takes to tell the points apart, and points whose values are all equal are told
    apart by their number."""
    label = runs["scenario"].astype(str)
    if pooled or runs["point"].nunique() <= 1:
        return label
    points = len(runs[["scenario", "point"]].drop_duplicates())
    varied = [c for c in runs.columns if "." in c]
    # A parameter goes by its last name unless another varied one shares it (two `present`s).
    last = [name.split(".")[-1] for name in varied]
    short = {name: end if last.count(end) == 1 else name for name, end in zip(varied, last,
                                                                               strict=True)}
    for digits in (3, 6, None):
        named = label
        for name in varied:
            named = named + f", {short[name]}=" + runs[name].map(
                lambda v, d=digits: _value(v, d))
        if named.nunique() == points:
            return named
    return named + ", point " + runs["point"].astype(str)


def _value(value: object, digits: int | None) -> str:
    """A design point's value in a label: yes/no and whole numbers as they are, others to
    ``digits`` significant digits (None: the fewest that give the number back exactly)."""
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    number = float(value)
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number) if digits is None else f"{number:.{digits}g}"


def _tabled(runs: pd.DataFrame) -> list[Outcome]:
    """The outcomes of the tables that ``runs`` has columns for."""
    return [o for o in shown("table") if o.column in runs.columns]


def analyse(runs: pd.DataFrame, baseline: str | None = None) -> Analysis:
    """Mean and 95% interval per group, and differences against ``baseline`` (a scenario
    name; default the first) paired on seed and design point."""
    if runs.empty:
        raise AnalysisError("no finished runs to analyse")
    scenarios = list(dict.fromkeys(runs["scenario"]))
    baseline = baseline or scenarios[0]
    if baseline not in scenarios:
        raise AnalysisError(f"--baseline: {baseline!r} is not a scenario of these results; "
                            f"allowed: {', '.join(map(repr, scenarios))}")
    outcomes = _tabled(runs)
    cols = [o.column for o in outcomes]
    # Booleans (partner present) become shares; differences of them become changes in share.
    pooled = _pooled(runs)
    runs = runs.assign(group=_groups(runs, bool(pooled)),
                       **{c: runs[c].astype(float) for c in cols})
    groups = list(dict.fromkeys(runs["group"]))
    table = summarise(runs.drop(columns="scenario").rename(columns={"group": "scenario"}),
                      groups, outcomes)
    base = runs[runs["scenario"] == baseline].set_index(["point", "seed"])
    pairs = []
    for name in scenarios:
        if name == baseline:
            continue
        other = runs[runs["scenario"] == name].set_index(["point", "seed"])
        other = other.loc[other.index.intersection(base.index, sort=False)]
        for group in dict.fromkeys(other["group"]):
            rows = other[other["group"] == group]
            pairs.append((group, rows[cols], base.loc[rows.index, cols]))
    diffs = summarise_paired(pairs, outcomes) if pairs else table.iloc[0:0]
    return Analysis(runs, table, diffs, baseline, pooled)


@styled
def plot_distributions(runs: pd.DataFrame) -> Figure:
    """One box per group for each main outcome, in the group's colour."""
    import matplotlib.pyplot as plt

    outcomes = _tabled(runs)[:6]
    groups = list(dict.fromkeys(runs["group"]))
    style = looks(groups)
    # The panels share their groups: the names stand once, left of each row.
    fig, axes = plt.subplots(2, 3, figsize=(16, max(7.0, 4 + 0.5 * len(groups))), sharey=True,
                             squeeze=False, layout="constrained")
    for ax, o in zip(axes.ravel(), outcomes, strict=False):
        data = [runs.loc[runs["group"] == g, o.column].to_numpy(dtype=float) for g in groups]
        boxes = ax.boxplot(data, showmeans=True, patch_artist=True, **_horizontal(),
                           medianprops={"color": "black"},
                           meanprops={"marker": "^", "markerfacecolor": "white",
                                      "markeredgecolor": "black"})
        for box, g in zip(boxes["boxes"], groups, strict=True):
            box.set(facecolor=style[g].colour, alpha=0.45)
        ax.set_title(o.label)
        ax.set_xlabel(_unit_label(o))
        if o.share:
            share_axis(ax, "x")
        else:
            count_axis(ax, "x")
    # After the boxes, which set ticks of their own: the panels' y axes are one.
    axes[0, 0].set_yticks(range(1, len(groups) + 1), groups)
    axes[0, 0].invert_yaxis()  # the first group on top, in the order of the tables' rows
    widen_for_labels(fig, axes[0, 0], columns=3, data=3.5)
    box = _group_kind(runs)
    for ax in axes[:, 0]:
        ax.set_ylabel(box)
    for ax in axes.ravel()[len(outcomes):]:
        ax.set_visible(False)
    fig.suptitle(f"Outcomes after the run, one box per {box} (line: median, whiskers 1.5 IQR, "
                 "triangle: mean)")
    return fig


def _group_kind(runs: pd.DataFrame) -> str:
    """What a group of ``runs`` is: a regime, or, in a sweep, a regime at one design point."""
    return "regime" if set(runs["group"]) <= set(runs["scenario"]) else "regime and design point"


def _unit_label(o: Outcome) -> str:
    """A table outcome's axis label, its unit: the run's total of a flow, else the level at
    the end."""
    unit = unit_of(o).removesuffix(" per week").replace("0–1", "0–1 scale")
    return f"{unit}, total over the run" if o.flow else f"{unit}, at the end"


def _horizontal() -> dict[str, object]:
    """Matplotlib's word for horizontal boxes: ``orientation`` from 3.10, which deprecates the
    ``vert`` of earlier versions."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    return {"orientation": "horizontal"} if (major, minor) >= (3, 10) else {"vert": False}


@styled
def plot_tradeoff(runs: pd.DataFrame) -> Figure:
    """The trade-off plane: civilian deaths against insurgents at the end, a cloud per group,
    each group its own colour and marker, the legend right of the plane."""
    import matplotlib.pyplot as plt

    x, y = BY_NAME["insurgent_strength"].column, BY_NAME["civilian_deaths"].column
    style = looks(runs["group"])
    fig, ax = plt.subplots(figsize=(11 if len(style) > 8 else 9, 6), layout="constrained")
    for group, look in style.items():
        sub = runs[runs["group"] == group]
        ax.scatter(sub[x], sub[y], s=22, alpha=0.55, color=look.colour, marker=look.marker,
                   label=group)
        ax.scatter(sub[x].mean(), sub[y].mean(), marker=look.marker, s=140, edgecolor="black",
                   linewidth=1.5, color=look.colour)
    ax.set_xlabel("insurgent fighters at the end (fighters)")
    ax.set_ylabel("civilian deaths over the run (people)")
    ax.set_title("Trade-off plane: small marks are runs, large outlined marks their means")
    legend_outside(ax, title=_group_kind(runs))
    return fig


def write_analysis(analysis: Analysis, series: Mapping[str, Seeds] | None, out: Path,
                   source: str | Path = "runs") -> Path:
    """Write the tables (CSV, text) and the figures (PNG and SVG) of the runs of ``source``
    into ``out``, atomically; the ``series`` figure where a sweep kept its runs' series
    (:func:`series_seeds`)."""
    from sim.interfaces.plotting import plot_comparison

    figures = {"distributions": lambda: plot_distributions(analysis.runs),
               "tradeoff": lambda: plot_tradeoff(analysis.runs)}
    if series:
        figures["series"] = lambda: plot_comparison(series)
    return write_report(
        out, ANALYSIS_FILES, what=f"an analysis of {source}",
        tables={"table.csv": analysis.table, "differences.csv": analysis.differences},
        texts={"tables.txt": analysis.text() + "\n"}, figures=figures)


def series_seeds(path: str | Path, runs: pd.DataFrame) -> dict[str, Seeds]:
    """What the ``series`` figure draws of the weekly series of a sweep folder's ``runs`` (an
    :class:`Analysis`'s, with their groups), one :class:`Seeds` a group in the order of the
    runs: read a file of the folder at a time, only the columns the figure draws, each run cut
    to the weeks of the shortest.  A group's runs stand in the order of their ids."""
    from sim.experiments.store import series_by_file
    from sim.interfaces.plotting import Seeds, yearly

    group_of = runs.set_index("run_id")["group"]
    lengths: dict[str, int] = {}
    for frame in series_by_file(path, []):
        lengths.update(frame.loc[frame["run_id"].isin(group_of.index), "run_id"].value_counts())
    if not lengths:
        return {}
    shortest = min(lengths.values())
    members: dict[str, list[str]] = {}
    for run_id in sorted(lengths):
        members.setdefault(group_of[run_id], []).append(run_id)
    row_of = {run_id: row for ids in members.values() for row, run_id in enumerate(ids)}
    panels = shown("plot")
    levels = [o for o in panels if not o.flow]
    flows = [o for o in panels if o.flow]
    # Each run's weeks go straight into its group's table, so that no run's frame outlives it.
    stacks = {g: {o.name: np.empty((len(ids), shortest)) for o in levels}
              for g, ids in members.items()}
    totals = {g: {o.name: [None] * len(ids) for o in flows} for g, ids in members.items()}
    dates = {}
    for frame in series_by_file(path, ["date", *(o.name for o in panels)]):
        frame = frame[frame["run_id"].isin(group_of.index)]
        for run_id, rows in frame.groupby("run_id", sort=False):
            rows = rows.iloc[:shortest].reset_index(drop=True)
            group, row = group_of[run_id], row_of[run_id]
            for o in levels:
                stacks[group][o.name][row] = rows[o.name].to_numpy(dtype=float)
            for o in flows:
                totals[group][o.name][row] = yearly(rows, o)
            if row == 0:
                dates[group] = rows["date"]
    return {g: Seeds(dates[g], stacks[g], {name: pd.DataFrame(years)
                                           for name, years in totals[g].items()},
                     len(members[g]))
            for g in dict.fromkeys(runs["group"]) if g in members}


def load(path: str | Path) -> pd.DataFrame:
    """The runs of a results folder as a DataFrame: a sweep folder or a comparison folder
    (``runs.csv``), each file checked against the folder's checksums first.  Nothing is
    unpickled."""
    path = Path(path)
    if _format(path / MANIFEST) in SWEEP_FORMATS:
        runs = load_sweep(path)
        runs.attrs["sampler"] = json.loads((path / MANIFEST).read_text(encoding="utf-8")).get(
            "sampler")
        return runs
    if (path / "runs.csv").exists():
        return _comparison_runs(path)
    if _format(path / MANIFEST) == FOLDER_FORMAT:
        reader = ("; a run's series: sim.results.load_run(folder)"
                  if (path / SUMMARY_FILE).exists() else "")
        raise AnalysisError(f"{path}: holds {described(path)}, not a sweep or a comparison; "
                            f"give a sweep's or a comparison's folder{reader}")
    if (path / MANIFEST).exists():
        return load_sweep(path)  # which names what is wrong with its manifest
    raise AnalysisError(f"{path}: not a Blowback results folder (no manifest.json or runs.csv);"
                        " give a sweep's or a comparison's folder")


def _comparison_runs(path: Path) -> pd.DataFrame:
    """The runs of a comparison folder, once ``runs.csv`` matches its recorded checksum."""
    redo = "redo it with blowback compare into a new --out"
    file = verified(path, "runs.csv", redo)
    try:
        runs = pd.read_csv(file)
        missing = [c for c in ("scenario", "seed") if c not in runs.columns]
        if not missing:
            # A scenario's name is text whatever it reads as ("2025", "NA", "null", "").
            runs["scenario"] = pd.read_csv(file, usecols=["scenario"], dtype=str,
                                           keep_default_na=False)["scenario"]
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise OutputError(f"{file}: not a table of runs ({err}); {redo}") from None
    if missing or runs.empty:
        raise OutputError(f"{file}: not a table of runs (no rows, or no "
                          f"{', '.join(missing) or 'rows'}); {redo}")
    return runs.assign(point=0)


def _format(manifest: Path) -> str | None:
    """The format a folder's manifest names, or None if it has no readable one."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        return str(json.loads(manifest.read_text(encoding="utf-8")).get("format"))
    return None
