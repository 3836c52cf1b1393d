"""Calibration: fit a small, named set of parameters to the public figures up to a date, then
retrodict the later figures without refitting.

A calibration file (TOML, in ``scenarios/calibration/``) names the scenario, the parameters with
their ranges, the figures to fit (keys of :mod:`sim.experiments.reference`, read from the record
of :mod:`sim.experiments.record`, all inside the fitting window) and the sizes::

    name = "Mali, fitted to 2019-2021"
    scenario = "../mali_2013_2024.toml"
    record = "my_record.csv"   # optional: a record of the same columns (default: the package's)
    targets = ["idps:2019-12-31", "un_civilians_killed:2021"]
    seeds = 4              # common random numbers: every point is run on the same seeds
    samples = 32           # Latin-hypercube points per round
    rounds = 2             # each round searches a box half as wide around the best point
    retrodict_seeds = 20   # seeds of the final run of the fitted scenario
    [parameters]
    "engagement.harm_rate" = { low = 0.001, high = 0.01 }

The loss is the sum over targets of the squared log ratio of the model's mean (over seeds) to
the figure.  The fit runs only up to the end of the fitting window, so later figures cannot leak
into it; the retrodiction then runs the whole timeline.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim.core.inputs import ScenarioError, expect, integer, read_document, show, unknown
from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, load_scenario
from sim.experiments import reference
from sim.experiments.compare import bootstrap_interval
from sim.experiments.design import DESIGN_SEED, Range, check_axis, latin
from sim.experiments.output import OutputError, write_atomic, write_report
from sim.experiments.record import RECORD
from sim.experiments.results import series as weekly
from sim.experiments.runs import run_many

if TYPE_CHECKING:
    from matplotlib.figure import Figure

TOP_KEYS = ("name", "description", "scenario", "record", "targets", "seeds", "first_seed",
            "samples", "rounds", "retrodict_seeds", "parameters")
FILES = frozenset({"points.csv", "figures.csv", "calibrated.toml", "calibration.txt",
                   "figures.png", "figures.svg"})
# The first line of a scenario file this command wrote: only such a file may be overwritten.
MARK = "# Written by `blowback calibrate"
# What a figure is to a fit: one of its targets; inside the fitting window but not a target;
# after the window; or, from the first outcome the scenario scripts on, scripted.
FITTED, CHECKED, RETRODICTED, SCRIPTED = "fitted", "not fitted", "retrodicted", "scripted"
# Events that impose an outcome (a toll and its perpetrator, a partner's exit) rather than an
# input: every figure not fitted that ends on or after the first of them is scripted.
OUTCOME_EVENTS = ("mass_atrocity", "partner_leaves")


@dataclass
class Calibration:
    """A checked calibration file."""

    name: str
    description: str
    path: Path
    scenario: Scenario
    scenario_path: Path
    record: Path  # the record the figures come from (sim.experiments.record)
    figures: tuple[reference.Figure, ...]
    targets: list[reference.Figure]
    seeds: list[int]
    samples: int
    rounds: int
    retrodict_seeds: list[int]
    ranges: dict[str, Range]

    @property
    def fit_steps(self) -> int:
        """Weeks from the scenario's start to the end of the fitting window."""
        days = (reference.FIT_UNTIL - self.scenario.start_date()).days
        return days // 7 + 1


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file; each mistake is one line naming file and key."""
    file = str(path)
    _, raw, name, description = read_document(file, TOP_KEYS)
    if "scenario" not in raw:
        raise ScenarioError(file, "scenario", "missing; allowed: a scenario file, relative to "
                            "this file")
    where = expect(file, "scenario", raw["scenario"], str, "a scenario file (a string)")
    scenario_path = (Path(file).parent / where).resolve()
    if not scenario_path.is_file():
        raise ScenarioError(file, "scenario", f"{where!r} not found beside {file}; allowed: a "
                            "scenario file, relative to this file")
    scenario = load_scenario(scenario_path)
    record = RECORD
    if "record" in raw:
        where = expect(file, "record", raw["record"], str, "a record file (a string)")
        record = (Path(file).parent / where).resolve()
        if not record.is_file():
            raise ScenarioError(file, "record", f"{where!r} not found beside {file}; allowed: a "
                                "record file (CSV), relative to this file")
    figures = reference.load_figures(record)
    targets = _targets(file, raw.get("targets"), figures)
    seeds = integer(file, "seeds", raw.get("seeds", 4), 1, 10_000)
    first = integer(file, "first_seed", raw.get("first_seed", 1), 0, 2**62)
    samples = integer(file, "samples", raw.get("samples", 32), 2, 100_000)
    rounds = integer(file, "rounds", raw.get("rounds", 2), 1, 20)
    retro = integer(file, "retrodict_seeds", raw.get("retrodict_seeds", 20), 2, 10_000)
    parameters = expect(file, "parameters", raw.get("parameters"), dict,
                         "a table [parameters] of ranges { low = ..., high = ... }")
    ranges: dict[str, Range] = {}
    for pname, spec in _flat(parameters).items():
        # With sampler "latin" a spec can only be a range.
        ranges[pname] = check_axis(file, f"parameters.{pname}", pname, spec, "latin")
    if not ranges:
        raise ScenarioError(file, "parameters", "empty; allowed: at least one range")
    cal = Calibration(name, description, Path(path), scenario, scenario_path, record, figures,
                      targets,
                      [first + k for k in range(seeds)], samples, rounds,
                      [first + k for k in range(retro)], ranges)
    if cal.fit_steps < 1:
        raise ScenarioError(file, "scenario", f"starts after {reference.FIT_UNTIL}, the end of "
                            "the fitting window; allowed: a scenario that starts before it")
    return cal


def _flat(table: dict[str, Any]) -> dict[str, Any]:
    # An unquoted `engagement.harm_rate = {...}` reads as a sub-table [parameters.engagement].
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and not ({"low", "high"} & set(value)):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        else:
            flat[key] = value
    return flat


def _targets(file: str, listed: Any,
             figures: tuple[reference.Figure, ...]) -> list[reference.Figure]:
    by_key = {f.key: f for f in figures}
    fittable = [f.key for f in figures if f.fittable]
    allowed = f"a list of figures from: {', '.join(fittable)}"
    if listed is None:
        raise ScenarioError(file, "targets", f"missing; allowed: {allowed}")
    if not isinstance(listed, list) or not listed:
        raise ScenarioError(file, "targets", f"{show(listed)}; allowed: {allowed}")
    figures = []
    for i, key in enumerate(listed):
        figure = by_key.get(key) if isinstance(key, str) else None
        if figure is None:
            problem = unknown(f"{show(key)} is not a figure", str(key), list(by_key))
            raise ScenarioError(file, f"targets[{i}]", f"{problem}; allowed: {allowed}")
        if not figure.fittable:
            raise ScenarioError(file, f"targets[{i}]", f"{key!r} covers up to {figure.last_day}"
                                f", after the fitting window ({reference.FIT_UNTIL}); allowed: "
                                f"{allowed}")
        if figure in figures:
            raise ScenarioError(file, f"targets[{i}]", f"{key!r} is repeated; allowed: "
                                "distinct figures")
        figures.append(figure)
    return figures


# --- running -------------------------------------------------------------------------------

def observe(spec: Scenario, seed: int, steps: int | None,
            record: str | None = None) -> dict[str, float]:
    """Run the first ``steps`` weeks (all if None) of a scenario on one seed and read every
    figure of ``record`` (the package's by default) off its weekly series (figures beyond the
    weeks run read as NaN).

    The scenario keeps its full length, so its later events stay valid; they are just not
    reached."""
    model = BlowbackModel(spec.with_overrides(**{"run.seed": seed}), agents=False)
    series = weekly(model.run(steps))
    end = pd.to_datetime(series["date"]).max().date()
    return {f.key: (f.read(series) if f.last_day <= end + dt.timedelta(days=6)
                    else float("nan"))
            for f in _figures(record)}


@functools.cache
def _figures(record: str | None) -> tuple[reference.Figure, ...]:
    """A record's figures, read once per worker process (readers do not pickle)."""
    return reference.FIGURES if record is None else reference.load_figures(record)


def loss(means: dict[str, float], targets: list[reference.Figure]) -> float:
    """Sum of squared log ratios of the model's means to the figures (+1 keeps zero finite)."""
    return float(sum(math.log((means[f.key] + 1.0) / (f.value + 1.0)) ** 2 for f in targets))


def _significant(value: float, digits: int = 4) -> float:
    return float(f"{value:.{digits}g}")


@dataclass
class Fit:
    """Every point tried, the best one, and the fitted scenario's figures over many seeds."""

    calibration: Calibration
    points: pd.DataFrame  # one row a point: round, parameters, target means, loss
    best: dict[str, float]
    figures: pd.DataFrame  # one row a figure: reference, model mean and interval, verdict

    def text(self) -> str:
        """The fitted values and the figures table, as plain text."""
        cal = self.calibration
        lines = [f"{cal.name}: {len(self.points)} points x {len(cal.seeds)} seeds fitted to "
                 f"{', '.join(f.key for f in cal.targets)} (up to {reference.FIT_UNTIL})",
                 "fitted: " + ", ".join(f"{k} = {v:g}" for k, v in self.best.items()),
                 f"figures over {len(cal.retrodict_seeds)} seeds (mean [95% interval]):"]
        for r in self.figures.itertuples():
            bound = ">= " if r.bound == "at_least" else ""
            lines.append(f"  {r.key:<44} {r.use:<11} model {_num(r.mean)} [{_num(r.low)}, "
                         f"{_num(r.high)}]  reference {bound}{_num(r.reference)}  {r.verdict}")
        return "\n".join(lines)


def _num(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 10 else f"{x:,.0f}"


def fit(cal: Calibration, jobs: int = 1,
        progress: Callable[[int], None] | None = None) -> Fit:
    """Search the ranges in rounds of Latin-hypercube points on common seeds, keep the point of
    least loss (rounded to 4 significant digits), then run it on ``retrodict_seeds`` seeds over
    the whole timeline."""
    names = list(cal.ranges)
    box = {n: (r.low, r.high) for n, r in cal.ranges.items()}
    rows: list[dict[str, Any]] = []
    best: dict[str, float] = {}
    for round_ in range(cal.rounds):
        # A different design each round, each fixed by the file.
        unit = latin(cal.samples, len(names), seed=DESIGN_SEED + round_)
        points = [{n: _significant(box[n][0] + u * (box[n][1] - box[n][0]))
                   for n, u in zip(names, row, strict=True)} for row in unit]
        tasks = [(cal.scenario.with_overrides(**p), s, cal.fit_steps, str(cal.record))
                 for p in points for s in cal.seeds]
        observed = run_many(tasks, jobs=jobs, progress=progress, work=observe)
        per_seed = len(cal.seeds)
        for k, point in enumerate(points):
            runs = observed[k * per_seed:(k + 1) * per_seed]
            means = {f.key: float(np.mean([r[f.key] for r in runs])) for f in cal.targets}
            rows.append({"round": round_, **point, **means, "loss": loss(means, cal.targets)})
        table = pd.DataFrame(rows)
        best = {n: float(v) for n, v in table.loc[table["loss"].idxmin(), names].items()}
        # Next round: a box half as wide, centred on the best point, inside the ranges.
        for n in names:
            r = cal.ranges[n]
            half = (box[n][1] - box[n][0]) / 4
            box[n] = (max(r.low, best[n] - half), min(r.high, best[n] + half))
    figures = retrodict(cal, best, jobs=jobs, progress=progress)
    return Fit(cal, pd.DataFrame(rows), best, figures)


def retrodict(cal: Calibration, params: dict[str, float], jobs: int = 1,
              progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Every reference figure from the scenario with ``params``, over ``retrodict_seeds``
    seeds: the model's mean and 95% bootstrap interval, and how it compares."""
    spec = cal.scenario.with_overrides(**params)
    observed = run_many([(spec, s, None, str(cal.record)) for s in cal.retrodict_seeds],
                        jobs=jobs, progress=progress, work=observe)
    targets = {f.key for f in cal.targets}
    scripted = scripted_from(cal.scenario)
    rows = []
    for f in cal.figures:
        values = np.array([r[f.key] for r in observed], dtype=float)
        if np.isnan(values).any():
            continue
        low, high = bootstrap_interval(values)
        use = (FITTED if f.key in targets else SCRIPTED if scripted and f.last_day >= scripted
               else CHECKED if f.fittable else RETRODICTED)
        rows.append({"key": f.key, "label": f.label, "reference": f.value, "bound": f.bound,
                     "source": f.source, "use": use, "mean": float(values.mean()),
                     "low": low, "high": high, "verdict": f.verdict(low, high)})
    return pd.DataFrame(rows)


def scripted_from(scenario: Scenario) -> dt.date | None:
    """The date of the first outcome the scenario scripts (:data:`OUTCOME_EVENTS`), if any."""
    dates = [dt.date.fromisoformat(e.date) for e in scenario.events if e.type in OUTCOME_EVENTS]
    return min(dates, default=None)


# --- writing -------------------------------------------------------------------------------

def scenario_text(cal: Calibration, best: dict[str, float], beside: Path) -> str:
    """The fitted scenario as TOML: extends the calibrated scenario (path relative to the folder
    ``beside``, where the file will live) with the fitted values."""
    extends = Path(os.path.relpath(cal.scenario_path, beside.resolve())).as_posix()
    lines = [f"{MARK} {cal.path.as_posix()}`: fitted to "
             f"{', '.join(f.key for f in cal.targets)} (figures up to {reference.FIT_UNTIL}).",
             "# Rerun that command to regenerate it; do not edit by hand.",
             f"name = {json.dumps(cal.scenario.name + ', calibrated')}",
             "description = " + json.dumps(f"{cal.scenario.name} with the parameters fitted "
                                           f"by {cal.path.name}."),
             f"extends = {json.dumps(extends)}"]
    sections: dict[str, list[str]] = {}
    for name, value in best.items():
        section, key = name.split(".", 1)
        sections.setdefault(section, []).append(f"{key} = {value!r}")
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    return "\n".join(lines) + "\n"


def check_scenario_out(path: Path) -> None:
    """Refuse to overwrite a file this command did not write."""
    if path.exists() and (not path.is_file()
                          or not path.read_text(errors="replace").startswith(MARK)):
        raise OutputError(f"{path}: exists and was not written by blowback calibrate; choose "
                          "another --scenario-out")


def plot_figures(figures: pd.DataFrame) -> Figure:
    """Each figure's model interval against the reference, as a ratio (log scale)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 0.45 * len(figures) + 1.5))
    y = np.arange(len(figures))[::-1]
    ratio = figures["mean"] / figures["reference"]
    err = np.stack([ratio - figures["low"] / figures["reference"],
                    figures["high"] / figures["reference"] - ratio])
    for use, colour in ((FITTED, "tab:blue"), (CHECKED, "tab:grey"),
                        (RETRODICTED, "tab:orange"), (SCRIPTED, "tab:red")):
        rows = (figures["use"] == use).to_numpy()
        if rows.any():
            ax.errorbar(ratio[rows], y[rows], xerr=err[:, rows], fmt="o", color=colour,
                        capsize=3, label=use)
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(y, [f"{k}{' (at least)' if b == 'at_least' else ''}"
                      for k, b in zip(figures["key"], figures["bound"], strict=True)])
    ax.set_xlabel("model / reference (1 = the public figure)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig


def write(result: Fit, out: Path) -> Path:
    """Write the points, the figures table and chart, and the fitted scenario, atomically."""
    return write_report(
        out, FILES, tables={"points.csv": result.points, "figures.csv": result.figures},
        texts={"calibration.txt": result.text() + "\n",
               "calibrated.toml": scenario_text(result.calibration, result.best, out)},
        figures={"figures": lambda: plot_figures(result.figures)})


def write_scenario(result: Fit, path: Path) -> None:
    """Write the fitted scenario to ``path`` (replaced whole, never half-written)."""
    check_scenario_out(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = scenario_text(result.calibration, result.best, path.parent)
    write_atomic(path, lambda tmp: tmp.write_text(text))
