"""Prior and posterior predictions of a calibration: runs of the whole timeline from draws of
the fitted quantities, every figure of the record and every yearly figure read off each run at
its draw's detection rates, and the tables that set their intervals beside the record.

A figure is, to a calibration, *fitted* (a target), *not fitted* (inside the fitting window but
not a target), *retrodicted* (after the window, never fitted) or *scripted* (after an outcome
the scenario schedules, so no test of the model); a year the record has no figure for is
*predicted*.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from sim.core.parameters import BY_NAME
from sim.core.registry import Param
from sim.core.scenario import Scenario
from sim.experiments import detection, reference
from sim.experiments.design import Range
from sim.experiments.posterior import WEIGHT, split
from sim.experiments.results import series as weekly
from sim.experiments.runs import advance, run_many


class Calibration(Protocol):
    """What the predictions read of a calibration (:class:`sim.experiments.calibration.
    Calibration`): its scenario, record, seed, the record's figures inside the run, the
    targets, and every fitted quantity's prior range."""

    scenario: Scenario
    record: Path
    seed: int
    figures: tuple[reference.Figure, ...]
    targets: list[reference.Figure]

    @property
    def priors(self) -> dict[str, Range]: ...


# What a figure is to a fit: one of its targets; inside the fitting window but not a target;
# after the window; or, from the first outcome the scenario scripts on, scripted.
FITTED, CHECKED, RETRODICTED, SCRIPTED = "fitted", "not fitted", "retrodicted", "scripted"
# Events that impose an outcome (a toll and its perpetrator, a partner's exit) rather than an
# input: every figure not fitted that ends on or after the first of them is scripted.
OUTCOME_EVENTS = ("mass_atrocity", "partner_leaves")
# Predictive intervals: the central 90% of the runs.
LOW_Q, HIGH_Q = 0.05, 0.95

# The years the yearly predictions cover, after the scenario's first.
LAST_YEAR = 2024


def predict(cal: Calibration, draws: list[dict[str, float]], jobs: int = 1,
            progress: Callable[[int], None] | None = None, seed_offset: int = 0,
            ensemble: int = 1) -> pd.DataFrame:
    """Run each draw over the whole timeline on a seed of its own and read every figure of the
    record and every yearly figure, at the draw's detection rates: one row a draw.  Up to
    ``ensemble`` draws in a row are advanced together (:func:`predict_together`), with the
    same numbers."""
    tasks = []
    for k, draw in enumerate(draws):
        params, rates = split(draw)
        tasks.append((cal.scenario.with_overrides(**params), cal.seed * 100_003 + seed_offset
                      + k, None, str(cal.record), rates))
    observed = run_many(tasks, jobs=jobs, progress=progress, work=predict_one,
                        together=predict_together, ensemble=ensemble)
    return pd.DataFrame(observed)


def predict_one(spec: Scenario, seed: int, steps: int | None, record: str,
                rates: Mapping[str, float]) -> dict[str, float]:
    """One run's figures of the record and yearly figures (:func:`read_run`)."""
    return predict_together([(spec, seed, steps, record, rates)])[0]


def predict_together(tasks: list[tuple]) -> list[dict[str, float]]:
    """:func:`predict_one` of each task, the runs advanced as one ensemble when they share a
    map size and a length (:func:`~sim.experiments.runs.advance`)."""
    if len({steps for _, _, steps, _, _ in tasks}) > 1:
        return [predict_one(*task) for task in tasks]
    models = advance([spec.with_overrides(**{"run.seed": seed}) for spec, seed, *_ in tasks],
                     tasks[0][2])
    return [read_run(weekly(model), record, rates)
            for model, (_, _, _, record, rates) in zip(models, tasks, strict=True)]


def read_run(series: pd.DataFrame, record: str | None = None,
             rates: Mapping[str, float] = detection.TRUTH) -> dict[str, float]:
    """Every figure of ``record`` (the package's by default) and every yearly figure
    (:func:`yearly_figures`) that a run's weekly series covers, as the sources would have
    recorded them at detection ``rates``."""
    dates = pd.to_datetime(series["date"])
    first, end = dates.min().date(), dates.max().date()
    figures = (*reference.figures_of(record),
               *yearly_figures(first.year + 1, min(end.year, LAST_YEAR)))
    return {f.key: f.read(series, rates) for f in figures
            if f.last_day <= end + dt.timedelta(days=6)}


# The yearly series of the fit that are predicted for every year (a stock on 31 December).
YEARLY = ("acled_civilian_fatalities", "ucdp_one_sided_government", "ucdp_one_sided_nonstate",
          *(f"acled_vac_share_{kind}" for kind in detection.KINDS), "un_civilians_killed",
          "idps", "burkina_acled_fatalities", "jnim_fighters")


def yearly_figures(first: int, last: int) -> list[reference.Figure]:
    """A figure of every series of :data:`YEARLY` for every whole year from ``first`` to
    ``last``, keyed like the record's (``series:year``; a stock ``series:YYYY-12-31``)."""
    return [reference.figure(s, dt.date(y, 1, 1), dt.date(y, 12, 31))
            if s not in reference.STOCKS
            else reference.figure(s, dt.date(y, 12, 31), dt.date(y, 12, 31))
            for s in YEARLY for y in range(first, last + 1)]


def fitted(name: str) -> Param:
    """The declaration of a fitted quantity, with its unit: a parameter of the model, or a
    source's detection rate (``detection.<rate>``)."""
    return BY_NAME[name] if name in BY_NAME else detection.DECLARED[name]


def summarise_posterior(cal: Calibration, posterior: pd.DataFrame) -> pd.DataFrame:
    """Each fitted quantity's prior range and weighted posterior median and 90% interval."""
    rows = []
    for name, r in cal.priors.items():
        low, median, high = _weighted_quantiles(posterior[name].to_numpy(),
                                                posterior[WEIGHT].to_numpy(),
                                                (LOW_Q, 0.5, HIGH_Q))
        rows.append({"name": name, "unit": fitted(name).unit, "prior_low": r.low,
                     "prior_high": r.high, "low": low, "median": median, "high": high})
    return pd.DataFrame(rows)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray,
                        qs: tuple[float, ...]) -> list[float]:
    order = np.argsort(values)
    cum = np.cumsum(weights[order]) / weights.sum()
    return [float(values[order][min(np.searchsorted(cum, q), len(values) - 1)]) for q in qs]


def _use(cal: Calibration, figure: reference.Figure) -> str:
    scripted = scripted_from(cal.scenario)
    if figure in cal.targets:
        return FITTED
    if scripted and figure.last_day >= scripted:
        return SCRIPTED
    return CHECKED if figure.fittable else RETRODICTED


def _interval(values: pd.Series) -> tuple[float, float, float]:
    v = values.to_numpy(dtype=float)
    v = v[~np.isnan(v)]
    if not len(v):
        return (float("nan"),) * 3
    low, median, high = np.quantile(v, (LOW_Q, 0.5, HIGH_Q))
    return float(low), float(median), float(high)


def figures_table(cal: Calibration, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every figure of the record inside the run: its use, the prior and posterior predictive
    intervals, and how the posterior's compares with the figure."""
    rows = []
    for f in cal.figures:
        if f.key not in after:
            continue
        prior_low, prior_median, prior_high = _interval(before[f.key])
        low, median, high = _interval(after[f.key])
        rows.append({"key": f.key, "label": f.label, "reference": f.value, "unit": f.unit,
                     "bound": f.bound, "source": f.source, "use": _use(cal, f),
                     "prior_low": prior_low, "prior_high": prior_high, "low": low,
                     "median": median, "high": high,
                     "prior_verdict": f.verdict(prior_low, prior_median, prior_high),
                     "verdict": f.verdict(low, median, high)})
    return pd.DataFrame(rows)


def years_table(cal: Calibration, before: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    """Every yearly series (:data:`YEARLY`) for every year of the run: prior and posterior
    predictive intervals beside the record's figure for that year, where it has one."""
    by_key = {f.key: f for f in cal.figures}
    scripted = scripted_from(cal.scenario)
    rows = []
    for key in after.columns:
        series, _, period = key.partition(":")
        if series not in YEARLY or not (len(period) == 4 or period.endswith("-12-31")):
            continue
        year = int(period[:4])
        figure = by_key.get(key)
        prior_low, _, prior_high = _interval(before[key])
        low, median, high = _interval(after[key])
        if math.isnan(median):
            continue
        use = (_use(cal, figure) if figure is not None
               else SCRIPTED if scripted and dt.date(year, 12, 31) >= scripted
               else "predicted" if year > reference.FIT_UNTIL.year else CHECKED)
        rows.append({"series": series, "year": year, "use": use,
                     "reference": figure.value if figure is not None else float("nan"),
                     "unit": figure.unit if figure is not None else reference.series_unit(series),
                     "prior_low": prior_low, "prior_high": prior_high, "low": low,
                     "median": median, "high": high,
                     "verdict": figure.verdict(low, median, high) if figure is not None
                     else ""})
    return pd.DataFrame(rows).sort_values(["series", "year"]).reset_index(drop=True)


def scripted_from(scenario: Scenario) -> dt.date | None:
    """The date of the first outcome the scenario scripts (:data:`OUTCOME_EVENTS`), if any."""
    dates = [dt.date.fromisoformat(e.date) for e in scenario.events if e.type in OUTCOME_EVENTS]
    return min(dates, default=None)
