"""Compare scenarios on common random numbers: seed k is the same world in every scenario."""

from __future__ import annotations

import hashlib
import json
import numbers
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core.outcomes import OUTCOMES, shown
from sim.core.registry import TOTAL, Outcome
from sim.core.scenario import Scenario, ScenarioError, unique_names
from sim.experiments.intervals import mean_interval, paired_share_interval, share_interval
from sim.experiments.output import WIDTH, folded, shortened, write_report
from sim.experiments.results import resolved
from sim.experiments.runs import flat_summary, run_many

NAME_WIDTH = 40  # characters of a scenario's name a narrow table shows
INTERVAL = ("mean [95% interval] over the seeds (t, cut to what the mean can take, as 0 for a "
            "count;\nshares of seeds: Wilson; paired shares: Bonett-Price)")
COMPARISON_FILES = frozenset({"runs.csv", "comparison.csv", "differences.csv", "comparison.txt",
                              "comparison.png", "scenarios.json"})


@dataclass
class Comparison:
    """The outcome of a comparison: per-run summaries, tables and the weekly series."""

    runs: pd.DataFrame  # one row per (scenario, seed)
    table: pd.DataFrame  # per scenario and outcome: mean, low, high
    differences: pd.DataFrame  # paired against the baseline (the first scenario)
    series: dict[str, list[pd.DataFrame]]
    # Each scenario as it ran, by name (sim.experiments.results.resolved), so that a folder
    # pins what its files extended; the seeds, and any values drawn, are in ``runs``.
    scenarios: dict[str, dict[str, Any]] = field(default_factory=dict)

    def text(self, wide: bool = False) -> str:
        """The table as text: one row per scenario, ``mean [low, high]`` per outcome, in blocks
        that fit 100 characters (one wide table with ``wide``)."""
        base = self.table["scenario"].iloc[0]
        weeks = [len(frames[0]) for frames in self.series.values() if frames]
        return (f"{INTERVAL}:\n" + readings(self.table, weeks) + format_table(self.table, wide)
                + f"\n\nPaired difference against {base} (each scenario minus {base}, "
                "same seeds):\n" + format_table(self.differences, wide))


def compare(scenarios: Sequence[Scenario], seeds: int, steps: int | None = None,
            jobs: int = 1, first_seed: int = 1,
            progress: Callable[[int], None] | None = None,
            draws: Sequence[dict[str, float]] | None = None) -> Comparison:
    """Run every scenario on seeds ``first_seed .. first_seed + seeds - 1`` and summarise.

    With ``draws`` (one set of parameter values a seed, e.g. drawn from a calibration's
    posterior, :mod:`sim.experiments.posterior`), seed k of every scenario runs with the k-th
    set: the worlds differ across seeds by the calibration's uncertainty as well as by chance,
    and stay paired across scenarios."""
    if isinstance(seeds, bool) or not isinstance(seeds, numbers.Integral) or seeds < 1:
        raise ValueError(f"seeds: {seeds!r}; allowed: an integer of at least 1")
    if not scenarios or not all(isinstance(s, Scenario) for s in scenarios):
        raise ValueError("scenarios: allowed: one or more Scenario objects (load_scenario(PATH) "
                         "reads a file)")
    names = unique_names(scenarios)
    check_lengths(scenarios, steps)
    seed_list = [first_seed + k for k in range(seeds)]
    if draws is not None and len(draws) != seeds:
        raise ValueError(f"{len(draws)} draws for {seeds} seeds")
    tasks = [(s if draws is None else s.with_overrides(**draws[k]), seed, steps)
             for s in scenarios for k, seed in enumerate(seed_list)]
    done = run_many(tasks, jobs=jobs, progress=progress)
    rows = []
    series: dict[str, list[pd.DataFrame]] = {n: [] for n in names}
    for (_, seed, _), (summ, df), name in zip(
            tasks, done, [n for n in names for _ in seed_list], strict=True):
        drawn = {} if draws is None else draws[seed - first_seed]
        rows.append({"scenario": name, "seed": seed, **drawn, **_outcomes_of(summ)})
        series[name].append(df)
    runs = pd.DataFrame(rows)
    table = summarise(runs, names)
    base = runs[runs["scenario"] == names[0]].set_index("seed")
    pairs = [(name, runs[runs["scenario"] == name].set_index("seed").loc[base.index], base)
             for name in names[1:]]
    diffs = summarise_paired(pairs) if pairs else table.iloc[0:0]
    ran = {name: resolved(s if steps is None else s.with_overrides(**{"run.steps": steps}))
           for name, s in zip(names, scenarios, strict=True)}
    return Comparison(runs, table, diffs, series, ran)


def check_lengths(scenarios: Sequence[Scenario], steps: int | None = None) -> None:
    """Refuse scenarios that run for different numbers of weeks (``steps``, where given, runs
    each for that many): their totals, and so their paired differences, would cover different
    spans of time."""
    weeks = [steps or s.params["run.steps"] for s in scenarios]
    if len(set(weeks)) > 1:
        each = ", ".join(f"{name} {n}" for name, n in zip(unique_names(scenarios), weeks,
                                                          strict=True))
        raise ScenarioError("run.steps", None, f"the scenarios run for different numbers of "
                            f"weeks ({each}), so their totals and differences would cover "
                            "different spans; allowed: one run.steps, or --steps N for all")


def _outcomes_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The compared outcomes of one run's summary, by column; yes/no as 1.0 or 0.0, so that
    their mean is a share."""
    flat = flat_summary(summary)
    return {o.column: float(flat[o.column]) if o.kind is bool else flat[o.column]
            for o in shown("comparison")}


def summarise(runs: pd.DataFrame, names: Sequence[str],
              outcomes: Sequence[Outcome] | None = None) -> pd.DataFrame:
    """Mean and 95% interval (:mod:`sim.experiments.intervals`) of each outcome's column
    (default: those of the comparison table), per scenario of ``runs``."""
    outcomes = shown("comparison") if outcomes is None else outcomes
    rows = []
    for name in names:
        sub = runs[runs["scenario"] == name]
        for o in outcomes:
            values = sub[o.column].to_numpy(dtype=float)
            low, high = share_interval(values) if o.kind is bool \
                else mean_interval(values, within=_possible(o, values))
            rows.append({"scenario": name, "outcome": o.column, "label": o.label,
                         "unit": unit(o), "mean": float(values.mean()), "low": low, "high": high,
                         "n": len(values)})
    return pd.DataFrame(rows)


def unit(outcome: Outcome) -> str:
    """What a table's mean of ``outcome`` is in, for a reader of its CSV: a yes/no outcome's
    share of seeds, a flow's total over the run, else the value in the last week."""
    if outcome.kind is bool:
        return "share of seeds"
    what = "0-1" if outcome.share else outcome.unit.removesuffix("/week")
    return f"{what}, total over the run" if outcome.flow else f"{what}, in the last week"


def _possible(outcome: Outcome, values: np.ndarray) -> tuple[float, float]:
    """The values an outcome's mean can take: a share's lie in [0, 1], a count's (an outcome
    no seed took below zero) are never negative."""
    if outcome.share:
        return 0.0, 1.0
    return (0.0 if (values >= 0).all() else -np.inf), np.inf


def summarise_paired(pairs: Sequence[tuple[str, pd.DataFrame, pd.DataFrame]],
                     outcomes: Sequence[Outcome] | None = None) -> pd.DataFrame:
    """Mean and 95% interval of each outcome's paired difference, per label: each of
    ``pairs`` is a label, its runs' outcomes and the baseline's on the same seeds (the same
    rows, in the same order); a pair missing either value is left out."""
    outcomes = shown("comparison") if outcomes is None else outcomes
    rows = []
    for name, other, base in pairs:
        for o in outcomes:
            a = other[o.column].to_numpy(dtype=float)
            b = base[o.column].to_numpy(dtype=float)
            whole = ~(np.isnan(a) | np.isnan(b))
            a, b = a[whole], b[whole]
            # Two values of a 0-1 quantity differ by at most 1 either way.
            low, high = paired_share_interval(a, b) if o.kind is bool \
                else mean_interval(a - b, within=(-1.0, 1.0) if o.share else (-np.inf, np.inf))
            rows.append({"scenario": name, "outcome": o.column, "label": o.label, "unit": unit(o),
                         "mean": float((a - b).mean()) if len(a) else float("nan"),
                         "low": low, "high": high, "n": len(a)})
    return pd.DataFrame(rows)


def readings(table: pd.DataFrame, weeks: Collection[int] = ()) -> str:
    """The lines under a table's heading that say over how many seeds (its ``n``) and how its
    outcomes read a run: a total over its weeks (how many, where ``weeks`` gives the runs'),
    the share of seeds for a yes/no outcome, else the value in its last week."""
    by_column = {o.column: o for o in OUTCOMES if o.summary}
    shown_here = [by_column[c] for c in dict.fromkeys(table["outcome"]) if c in by_column]
    totals = [o.label for o in shown_here if o.reduce == TOTAL]
    shares = [o.label for o in shown_here if o.kind is bool]
    span = ""
    if len(weeks):
        low, high = int(min(weeks)), int(max(weeks))
        span = f" ({low} weeks)" if low == high else f" ({low} to {high} weeks)"
    parts = ([f"totals over the run{span}: {', '.join(totals)}"] if totals else []) + (
        [f"share of seeds: {', '.join(shares)}"] if shares else [])
    return folded("\n".join([_seeds(table["n"])] + parts
                             + ["the others: the value in the last week"])) + "\n"


def _seeds(counts: pd.Series) -> str:
    """How many seeds a row's interval is over: a sweep analysed before it finished has fewer
    in some rows than in others."""
    low, high = int(counts.min()), int(counts.max())
    if low != high:
        return f"over {low} to {high} seeds a row (n in the CSV)"
    if low == 1:
        return "over 1 seed in each row: too few for a t interval ([-, -])"
    return f"over {low} seeds in each row"


def _fmt(x: float, decimals: int = 2) -> str:
    if not np.isfinite(x):
        return "-"
    ax = abs(x)
    text = f"{x:,.0f}" if ax >= 100 else f"{x:.{min(1, decimals) if ax >= 10 else decimals}f}"
    # A small negative mean rounds to zero, not to "-0.000", which reads as a decrease.
    return text.removeprefix("-") if float(text.replace(",", "")) == 0 else text


def _decimals(low: float, high: float) -> int | None:
    """As many decimals as it takes for the interval's half-width to show: none for a
    half-width of ten or more, one from one, else two to six (a share whose interval is a few
    thousandths wide would otherwise print as one value three times); None for an interval of
    no width, which shows none."""
    half = (high - low) / 2
    if not (np.isfinite(half) and half > 0):
        return None
    return 0 if half >= 10 else 1 if half >= 1 else int(
        min(6, max(2, -np.floor(np.log10(half)))))


def _cell(mean: float, low: float, high: float, decimals: int) -> str:
    """``mean [low, high]`` with ``decimals`` for the numbers under 100."""
    return f"{_fmt(mean, decimals)} [{_fmt(low, decimals)}, {_fmt(high, decimals)}]"


def format_table(table: pd.DataFrame, wide: bool = False) -> str:
    """A summary table as text, ``mean [low, high]`` per scenario and outcome: one row per
    scenario, its outcome columns in blocks that fit :data:`WIDTH` characters, or one wide row
    per scenario with ``wide``."""
    if table.empty:
        return "(none)"
    labels = list(dict.fromkeys(table["label"]))
    names = list(dict.fromkeys(table["scenario"]))
    cells = {}
    for label, rows in table.groupby("label", sort=False):
        decimals = [_decimals(low, high)
                    for low, high in zip(rows["low"], rows["high"], strict=True)]
        # An interval of no width (an outcome every seed gives alike, such as a contractor's
        # deaths where it is absent, or any outcome of one seed) takes the fewest decimals of
        # its column's others, so that "0 [0, 0]" sits among counts and "1.00 [1.00, 1.00]"
        # among shares; where no cell of the column has a width, none for whole numbers and
        # two for the others.
        widths = [d for d in decimals if d is not None]
        fewest = min(widths) if widths else 0 if bool((rows["mean"] % 1 == 0).all()) else 2
        for r, d in zip(rows.itertuples(), decimals, strict=True):
            cells[(r.scenario, label)] = _cell(r.mean, r.low, r.high, fewest if d is None else d)
    if wide:
        return _grid(["scenario"] + labels, [[n] + [cells[(n, lab)] for lab in labels]
                                             for n in names])
    shown_names = _row_names(names)
    room = WIDTH - max(len("scenario"), *map(len, shown_names))
    widths = {lab: 2 + max(len(lab), *(len(cells[(n, lab)]) for n in names)) for lab in labels}
    blocks: list[list[str]] = [[]]
    for lab in labels:
        if blocks[-1] and sum(widths[x] for x in blocks[-1]) + widths[lab] > room:
            blocks.append([])
        blocks[-1].append(lab)
    return "\n\n".join(_grid(["scenario"] + block,
                              [[short] + [cells[(n, lab)] for lab in block]
                               for n, short in zip(names, shown_names, strict=True)])
                        for block in blocks)


def _row_names(names: Sequence[str]) -> list[str]:
    """Each row's name as a narrow table shows it: cut to :data:`NAME_WIDTH` characters, or
    whole where the cut would make two rows alike (groups of a sweep that differ only in the
    last values of their design point), since rows that read the same cannot be told apart."""
    cut = [shortened(n, NAME_WIDTH) for n in names]
    return cut if len(set(cut)) == len(cut) else list(names)


def _grid(head: list[str], body: list[list[str]]) -> str:
    """Rows of cells in left-aligned columns, a rule under the header."""
    widths = [max(len(str(row[i])) for row in [head] + body) for i in range(len(head))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip()
             for row in [head] + body]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def default_out(scenarios: Sequence[Scenario], seeds: int, steps: int | None,
                posterior: str | None = None, first_seed: int = 1) -> Path:
    """A results folder named by what was compared: the scenarios as configured, the seeds from
    ``first_seed``, the steps and the posterior drawn from (by its fingerprint); a different
    comparison never lands in it."""
    key = json.dumps([[s.content_hash for s in scenarios], seeds, steps]
                     + ([posterior] if posterior else [])
                     + ([first_seed] if first_seed != 1 else []))
    return Path("results") / f"compare-{hashlib.sha256(key.encode()).hexdigest()[:10]}"


def write_comparison(comparison: Comparison, out: Path, note: str = "") -> Path:
    """Write the tables (CSV and text), per-run outcomes and the figure into ``out``, atomically;
    ``note`` (how the runs were set, such as the posterior they drew from) ends the text."""
    from sim.interfaces.plotting import plot_comparison

    seeds = sorted(set(comparison.runs["seed"]))
    names = ", ".join(dict.fromkeys(comparison.runs["scenario"]))
    return write_report(
        out, COMPARISON_FILES, what=f"a comparison of {names} on seeds {seeds[0]}-{seeds[-1]}",
        tables={"runs.csv": comparison.runs, "comparison.csv": comparison.table,
                "differences.csv": comparison.differences},
        texts={"comparison.txt": comparison.text() + "\n" + (f"\n{note}\n" if note else ""),
               "scenarios.json": json.dumps(comparison.scenarios, indent=2) + "\n"},
        figures={"comparison": lambda: plot_comparison(comparison.series)}, formats=("png",))
