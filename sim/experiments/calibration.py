"""Calibration: Bayesian fit of the model and of what each source records to the public figures
up to the end of 2021 (ABC-SMC, ``pyabc``), then the prior and posterior predictions of every
figure, the later ones retrodicted without refitting.

A calibration file (TOML, in ``scenarios/calibration/``) names the scenario, the figures to fit
(series of :mod:`sim.experiments.reference`, each meaning all its rows inside the fitting
window, or single keys), the parameters and detection rates with the range of their priors, and
the sizes::

    name = "Mali, fitted to 2013-2021"
    scenario = "../mali_2013_2024.toml"
    record = "my_record.csv"   # optional: a record of the same columns (default: the package's)
    targets = ["acled_civilian_fatalities", "idps", "un_civilians_killed:2021"]
    population = 160       # particles of each ABC-SMC generation
    generations = 3        # generations (the first samples the prior)
    seed = 1               # every random draw of the fit and the predictions comes from it
    predictive_draws = 80  # runs of the whole timeline from the prior and from the posterior
    [parameters]
    "engagement.harm_rate" = { low = 0.001, high = 0.01 }
    [detection]            # rates of sim.experiments.detection
    "acled.state" = { low = 0.05, high = 2.0 }

Every prior is uniform on the log scale between ``low`` and ``high``: the parameters are rates
and scales known to an order of magnitude.  A simulation runs the scenario on a seed of its own
up to the end of the fitting window, so later figures cannot leak into the fit; its statistics
are the targets as the sources would have recorded them at the particle's detection rates
(counts and stocks on the log scale, shares as they are), and the distance between them and the
record is pyabc's adaptive weighted L1 distance, robust to figures the model cannot reach
(:func:`~sim.experiments.distance.robust_distance`).  The generations' draws are seeded task by task
from ``seed``, so the same file gives the same posterior whatever the number of workers, and
whether or not a worker advances its tasks' runs together (``ensemble``).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import math
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.core import inputs
from sim.core.ensemble import most_runs
from sim.core.inputs import ScenarioError, dotted, expect, integer, read_document, show, unknown
from sim.core.parameters import BY_NAME
from sim.core.paths import CSV_LIMIT, input_file
from sim.core.scenario import Scenario, load_scenario
from sim.experiments import detection, posterior, reference
from sim.experiments.design import Range, check_axis
from sim.experiments.lockstep import simulated
from sim.experiments.output import folded
from sim.experiments.posterior import WEIGHT
from sim.experiments.predictive import (
    CHECKED,
    FITTED,
    RETRODICTED,
    figures_table,
    predict,
    summarise_posterior,
    years_table,
)
from sim.experiments.record import RECORD
from sim.experiments.results import series as weekly
from sim.experiments.runs import advance

TOP_KEYS = ("name", "description", "scenario", "record", "targets", "population",
            "generations", "seed", "predictive_draws", "parameters", "detection")
HISTORY = "history.db"
WEEK_MIDDLE = dt.timedelta(days=3)


@dataclass
class Calibration:
    """A checked calibration file."""

    name: str
    description: str
    path: Path
    scenario: Scenario
    scenario_path: Path
    record: Path  # the record the figures come from (sim.experiments.record)
    figures: tuple[reference.Figure, ...]  # every figure of the record inside the run
    targets: list[reference.Figure]
    population: int
    generations: int
    seed: int
    predictive_draws: int
    ranges: dict[str, Range]  # the scenario's parameters
    rates: dict[str, Range]  # the detection rates (sim.experiments.detection)

    @property
    def fit_steps(self) -> int:
        """Weeks from the scenario's start to the end of the fitting window."""
        return (reference.FIT_UNTIL - self.scenario.start_date()).days // 7 + 1

    @property
    def priors(self) -> dict[str, Range]:
        """Every fitted quantity's prior range, the parameters first."""
        return {**self.ranges, **{f"detection.{k}": r for k, r in self.rates.items()}}

    def simulator(self) -> Simulator:
        """pyabc's model of this calibration: its targets read off a run to the window's end."""
        return Simulator(self.scenario, self.fit_steps, str(self.record),
                         tuple(f.key for f in self.targets))


def load_calibration(path: str | Path) -> Calibration:
    """Read and check a calibration file; each mistake is one line naming file and key."""
    file = str(path)
    if importlib.util.find_spec("pyabc") is None:
        raise ScenarioError(file, None, "calibration needs pyabc, which is not installed; "
                            "pip install 'blowback[calibrate]'")
    _, raw, name, description = read_document(file, TOP_KEYS, inputs.CALIBRATION_FILE)
    if "scenario" not in raw:
        raise ScenarioError(file, "scenario", "missing; allowed: a scenario file, relative to "
                            "this file")
    where = expect(file, "scenario", raw["scenario"], str, "a scenario file (a string)")
    scenario_path = input_file(Path(file).parent / where, where=(file, "scenario"))
    scenario = load_scenario(scenario_path)
    if scenario.start_date() > reference.FIT_UNTIL:
        raise ScenarioError(file, "scenario", f"starts after {reference.FIT_UNTIL}, the end of "
                            "the fitting window; allowed: a scenario that starts before it")
    record = RECORD
    if "record" in raw:
        where = expect(file, "record", raw["record"], str, "a record file (a string)")
        record = input_file(Path(file).parent / where, CSV_LIMIT, where=(file, "record"))
    # Figures of periods the run covers whole; a stock from the end of its first week.
    first_day = scenario.start_date()
    figures = tuple(f for f in reference.load_figures(record)
                    if f.first_day >= first_day and f.last_day >= first_day + WEEK_MIDDLE)
    targets = _targets(file, raw.get("targets"), figures)
    population = integer(file, "population", raw.get("population", 160), 4, 100_000)
    generations = integer(file, "generations", raw.get("generations", 3), 1, 100)
    seed = integer(file, "seed", raw.get("seed", 1), 0, 2**32 - 1)
    draws = integer(file, "predictive_draws", raw.get("predictive_draws", 80), 2, 100_000)
    parameters = expect(file, "parameters", raw.get("parameters"), dict,
                        "a table [parameters] of ranges { low = ..., high = ... }")
    ranges: dict[str, Range] = {}
    for pname, spec in dotted(file, "parameters", parameters, _section).items():
        where = f"parameters.{pname}"
        if getattr(BY_NAME.get(pname), "type", float) is not float:  # unknown: check_axis's
            raise ScenarioError(file, where, f"a parameter of {BY_NAME[pname].type.__name__} "
                                "values; allowed: a real-valued parameter, which a prior draws")
        ranges[pname] = check_axis(file, where, pname, _positive(file, where, spec), "latin")
    if not ranges:
        raise ScenarioError(file, "parameters", "empty; allowed: at least one range")
    rates: dict[str, Range] = {}
    known = (*detection.RATES, *detection.SCALES)
    table = expect(file, "detection", raw.get("detection", {}), dict,
                   "a table [detection] of ranges { low = ..., high = ... }")
    for rname, spec in dotted(file, "detection", table, _section).items():
        where = f"detection.{rname}"
        if rname not in known:
            raise ScenarioError(file, where, f"{unknown('unknown rate', rname, known)}; "
                                f"allowed: {', '.join(known)}")
        rates[rname] = _rate(file, where, spec)
    return Calibration(name, description, Path(path), scenario, scenario_path, record, figures,
                       targets, population, generations, seed, draws, ranges, rates)


def _section(_: str, value: Any) -> bool:
    # An unquoted `engagement.harm_rate = {...}` reads as a sub-table [parameters.engagement].
    return isinstance(value, dict) and not ({"low", "high"} & set(value))


def _positive(file: str, where: str, spec: Any) -> Any:
    """A prior's range as given, its low checked first, before the parameter's own range, whose
    "allowed" would offer 0: priors are uniform on the log scale."""
    low = spec.get("low") if isinstance(spec, dict) else None
    if isinstance(low, int | float) and not isinstance(low, bool) and low <= 0:
        raise ScenarioError(file, f"{where}.low", f"{show(low)}; allowed: a number above 0 "
                            "(priors are uniform on the log scale)")
    return spec


def _rate(file: str, where: str, spec: Any) -> Range:
    if not isinstance(spec, dict) or set(spec) != {"low", "high"}:
        raise ScenarioError(file, where, f"{show(spec)}; allowed: a range "
                            "{ low = ..., high = ... }")
    for key in ("low", "high"):
        value = spec[key]
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not 0 < value <= 1000 or math.isnan(value):
            raise ScenarioError(file, f"{where}.{key}", f"{show(value)}; allowed: a number in "
                                "(0, 1000]")
    if not spec["low"] < spec["high"]:
        raise ScenarioError(file, f"{where}.high", f"{show(spec['high'])} is not above low "
                            f"{show(spec['low'])}; allowed: high > low")
    return Range(float(spec["low"]), float(spec["high"]))


def _targets(file: str, listed: Any,
             figures: tuple[reference.Figure, ...]) -> list[reference.Figure]:
    by_key = {f.key: f for f in figures}
    by_series: dict[str, list[reference.Figure]] = {}
    for f in figures:
        if f.fittable:
            by_series.setdefault(f.series, []).append(f)
    if not by_series:
        raise ScenarioError(file, "record", "holds no figure the model's series can be read "
                            "against up to the fitting window; allowed: a record with rows of "
                            f"the series {', '.join(reference.READERS)}")
    allowed = f"a list of series ({', '.join(by_series)}) or figures (series:period)"
    if listed is None:
        raise ScenarioError(file, "targets", f"missing; allowed: {allowed}")
    if not isinstance(listed, list) or not listed:
        raise ScenarioError(file, "targets", f"{show(listed)}; allowed: {allowed}")
    chosen: list[reference.Figure] = []
    for i, key in enumerate(listed):
        if isinstance(key, str) and key in by_series:
            found = by_series[key]
        elif isinstance(key, str) and key in by_key:
            figure = by_key[key]
            if not figure.fittable:
                raise ScenarioError(file, f"targets[{i}]", f"{key!r} covers up to "
                                    f"{figure.last_day}, after the fitting window "
                                    f"({reference.FIT_UNTIL}); allowed: {allowed}")
            found = [figure]
        else:
            problem = unknown(f"{show(key)} is not a series or figure", str(key),
                              [*by_series, *by_key])
            raise ScenarioError(file, f"targets[{i}]", f"{problem}; allowed: {allowed}")
        if any(f in chosen for f in found):
            raise ScenarioError(file, f"targets[{i}]", f"{key!r} is repeated; allowed: "
                                "distinct figures")
        chosen += found
    return chosen


# --- running -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Simulator:
    """pyabc's model: one run up to the end of the fitting window on a seed drawn from the
    task's seeded stream, read as the target statistics at the particle's detection rates.
    A particle holds the logarithms of the fitted quantities."""

    scenario: Scenario
    steps: int
    record: str
    keys: tuple[str, ...]

    def __call__(self, logs: Mapping[str, float]) -> dict[str, float]:
        params, rates = posterior.split({k: math.exp(v) for k, v in logs.items()})
        seed = int(np.random.randint(2**31 - 1))
        spec = self.scenario.with_overrides(**params, **{"run.seed": seed})
        series = simulated(spec, self.series)
        figures = reference.by_key_of(self.record)
        return {k: figures[k].statistic(figures[k].read(series, rates)) for k in self.keys}

    def series(self, specs: list[Scenario]) -> list[pd.DataFrame]:
        """The weekly series of each scenario run up to the end of the fitting window, the runs
        advanced together when they can be."""
        return [weekly(model) for model in advance(specs, self.steps)]


@dataclass
class Fit:
    """The posterior, the generations that reached it, and the prior and posterior
    predictions of every figure."""

    calibration: Calibration
    posterior: pd.DataFrame  # one row a particle: its weight and every fitted quantity
    generations: pd.DataFrame  # one row a generation: epsilon, particles, simulations
    parameters: pd.DataFrame  # one row a fitted quantity: prior range, posterior quantiles
    figures: pd.DataFrame  # one row a figure: reference, use, prior and posterior intervals
    years: pd.DataFrame  # one row a series and year: the same, for every year of the run
    history: Path  # pyabc's database of the fit

    @property
    def best(self) -> dict[str, float]:
        """The posterior median of each scenario parameter (what a single run uses), to four
        significant digits."""
        medians = self.parameters.set_index("name")["median"]
        return {n: float(f"{float(medians[n]):.4g}") for n in self.calibration.ranges}

    def text(self, wide: bool = False) -> str:
        """The posterior and the figures, as text that fits 100 characters (a figure's
        numbers under its name; one line a figure and nothing folded with ``wide``)."""
        cal = self.calibration
        gens = self.generations
        done, runs = int((gens["generation"] >= 0).sum()), int(gens["simulations"].sum())
        lines = [f"{cal.name} ({cal.path.name}, seed {cal.seed}): ABC-SMC, {done} generation"
                 f"{'s' if done != 1 else ''} of {cal.population} particles, {runs} simulations, "
                 f"fitted to {len(cal.targets)} figures up to {reference.FIT_UNTIL} (final epsilon "
                 f"{gens['epsilon'].iloc[-1]:.3g})",
                 "posterior (weighted median [central 90%] of the particles; prior range):"]
        for r in self.parameters.itertuples():
            lines.append(f"  {r.name:<34} {r.median:<10.4g} [{r.low:.4g}, {r.high:.4g}]  prior "
                         f"[{r.prior_low:g}, {r.prior_high:g}]")
        inside = ("matches", "meets", "reached")
        for use in (FITTED, CHECKED, RETRODICTED):
            rows = self.figures[self.figures["use"] == use]
            if len(rows):
                lines.append(f"{use}: {rows['prior_verdict'].isin(inside).sum()} of {len(rows)} "
                             "figures inside the prior's 90% predictive interval, "
                             f"{rows['verdict'].isin(inside).sum()} inside the posterior's")
        lines.append(f"figures, {cal.predictive_draws} runs each from the posterior (median "
                     "[central 90%]) and from the prior (central 90%):")
        for r in self.figures.itertuples():
            bound, sep = ">= " if r.bound == "at_least" else "", " " if wide else "\n      "
            lines.append(f"  {r.key:<44} {r.use:<11}{sep}model {_num(r.median)} [{_num(r.low)}, "
                         f"{_num(r.high)}]  prior [{_num(r.prior_low)}, {_num(r.prior_high)}]  "
                         f"reference {bound}{_num(r.reference)}  {r.verdict}")
        return "\n".join(lines) if wide else folded("\n".join(lines))


def _num(x: float) -> str:
    return f"{x:.2f}" if abs(x) < 10 else f"{x:,.0f}"


def fit(cal: Calibration, jobs: int = 1, progress: Callable[[int], None] | None = None,
        workdir: Path | None = None, ensemble: int = 1,
        sampled: Callable[[int], None] | None = None) -> Fit:
    """Fit the posterior with pyabc's ABC-SMC (:func:`run_abc`, ``sampled`` told each sample's
    simulations), then predict every figure from it and from the prior (:func:`from_history`,
    ``progress`` told each run).  pyabc's database is kept in ``workdir`` (a temporary folder if
    None); pyabc logs only its warnings meanwhile.  ``ensemble``: as :func:`run_abc`."""
    from sim.experiments.smc import pyabc_warnings_only
    workdir = Path(workdir or tempfile.mkdtemp(prefix="blowback-abc-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with pyabc_warnings_only():
        return from_history(cal, run_abc(cal, workdir / HISTORY, jobs, ensemble, sampled), jobs,
                            progress, ensemble)


def run_abc(cal: Calibration, history: Path, jobs: int = 1, ensemble: int = 1,
            sampled: Callable[[int], None] | None = None) -> Path:
    """Run ABC-SMC for ``generations`` generations of ``population`` particles into pyabc's
    database ``history`` (replaced), each worker advancing up to ``ensemble`` tasks' runs
    together, with the same numbers (:class:`~sim.experiments.smc.SeededSampler`);
    ``sampled(simulations)`` after the prior's sample and after each generation."""
    import pyabc

    from sim.experiments.distance import record_statistics, robust_distance
    from sim.experiments.smc import GaussianProposal, SeededSampler, worker_map

    # pyabc works on the logarithms, where the priors are uniform and its Gaussian
    # perturbations keep their scale across an order of magnitude.
    prior = pyabc.Distribution(**{n: pyabc.RV("uniform", math.log(r.low),
                                              math.log(r.high) - math.log(r.low))
                                  for n, r in cal.priors.items()})
    simulator = cal.simulator()
    observed = record_statistics(cal).to_dict()
    history.unlink(missing_ok=True)
    with worker_map(jobs) as pool_map:
        abc = pyabc.ABCSMC(simulator, prior, robust_distance(),
                           population_size=cal.population,
                           transitions=GaussianProposal(
                               {n: (math.log(r.low), math.log(r.high))
                                for n, r in cal.priors.items()}),
                           sampler=SeededSampler(pool_map, cal.seed, _width(cal, ensemble),
                                                 jobs, sampled))
        abc.sampler.show_progress = False
        abc.new(f"sqlite:///{history}", observed)
        abc.run(max_nr_populations=cal.generations)
    return history


def _width(cal: Calibration, ensemble: int) -> int:
    """Runs a worker advances together: ``ensemble``, or fewer where they would not fit in an
    ensemble's memory (:func:`~sim.core.ensemble.most_runs`)."""
    return min(ensemble, most_runs(cal.scenario.params))


def from_history(cal: Calibration, history: Path, jobs: int = 1,
                 progress: Callable[[int], None] | None = None, ensemble: int = 1) -> Fit:
    """The posterior of pyabc's database ``history`` (its last generation), and
    ``predictive_draws`` runs of the whole timeline from the prior and from the posterior."""
    import pyabc

    names = list(cal.priors)
    stored = pyabc.History(f"sqlite:///{history}", create=False)
    frame, weights = stored.get_distribution()
    posterior = np.exp(frame[names]).assign(**{WEIGHT: weights / weights.sum()}
                                             ).reset_index(drop=True)
    populations = stored.get_all_populations()
    # Generation -1 is pyabc's sample of the prior that sets the distance's first weights.
    generations = pd.DataFrame({"generation": populations["t"].to_numpy(),
                                "epsilon": populations["epsilon"].to_numpy(),
                                "simulations": populations["samples"].to_numpy()})
    rng = np.random.default_rng([cal.seed, 1])
    prior_draws = [{n: float(math.exp(rng.uniform(math.log(r.low), math.log(r.high))))
                    for n, r in cal.priors.items()} for _ in range(cal.predictive_draws)]
    picks = rng.choice(len(posterior), size=cal.predictive_draws,
                       p=posterior[WEIGHT].to_numpy())
    posterior_draws = [{n: float(posterior.at[i, n]) for n in names} for i in picks]
    # One pool for both (starting workers costs seconds); the posterior's seeds follow the prior's.
    both = predict(cal, prior_draws + posterior_draws, jobs, progress,
                   ensemble=_width(cal, ensemble))
    before = both.iloc[:cal.predictive_draws].reset_index(drop=True)
    after = both.iloc[cal.predictive_draws:].reset_index(drop=True)
    return Fit(cal, posterior, generations, summarise_posterior(cal, posterior),
               figures_table(cal, before, after), years_table(cal, before, after), history)
