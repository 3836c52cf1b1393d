"""What the commands that run the model do (run, compare, analyse, sensitivity, validate,
calibrate), once :mod:`sim.interfaces.cli` has read their arguments; ``blowback sweep`` is in
:mod:`sim.interfaces.sweep_command`, the tools around the model in :mod:`sim.interfaces.tools`.

Each command returns the exit status: 0 when done, ``EXIT_USAGE`` (2) for a user error, told in
one line on stderr.  Heavy imports (Mesa's model, matplotlib, the experiments) happen inside the
commands, so that ``--help`` and input errors answer at once.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sim.core.scenario import Scenario

EXIT_USAGE = 2
BENCHMARKS = ("epstein", "kernels", "scale", "build", "startup", "profile", "sweep")
# The claims of `blowback validate` (sim.experiments.claims.CLAIMS; named here to keep start-up
# light).
CLAIMS = ("bennett", "condra_shapiro", "kalyvas", "lyall", "kress_szechtman")
# How `blowback run` names the perpetrators whose key is not the word a reader expects.
PERPETRATOR_WORDS = {"insurgent": "armed groups", "militia": "militias"}


def subset(option: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    """The names of a comma-separated ``option`` (``--claims bennett,lyall``), each one of
    ``allowed`` and named once; else a one-line :class:`ScenarioError` naming the option."""
    from sim.core.messages import ScenarioError

    names = [name.strip() for name in text.split(",")]
    for k, name in enumerate(names):
        if name not in allowed:
            wrong = f"unknown name {name!r}" if name else "an empty name"
            raise ScenarioError(option, None, f"{wrong}; allowed: one or more of "
                                f"{', '.join(allowed)}, separated by commas")
        if name in names[:k]:
            raise ScenarioError(option, None, f"{name!r} named twice; allowed: each once")
    return names


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The ``--set KEY=VALUE`` options, each checked like a value in a scenario file."""
    from sim.core.inputs import parse_setting

    return dict(parse_setting("--set", text) for text in args.set)


def _overrides(args: argparse.Namespace) -> dict[str, dict[str, int]]:
    """The parameters ``--seed`` and ``--steps`` set, by option (the name its errors give)."""
    changes = {}
    if getattr(args, "seed", None) is not None:
        changes["--seed"] = {"run.seed": args.seed}
    if args.steps is not None:
        changes["--steps"] = {"run.steps": args.steps}
    return changes


def _configured(scenario: Scenario, args: argparse.Namespace) -> Scenario:
    """``scenario`` with ``--set``, then ``--seed`` and ``--steps`` (which win over ``--set``)."""
    values = settings(args)
    if values:
        scenario = scenario.with_values(values, "--set")
    for option, changes in _overrides(args).items():
        scenario = scenario.with_values(changes, option)
    return scenario


def interrupted(stop: Any, out: Path, again: str) -> int:
    """Say what a stopped sweep kept, and where; the exit status (130 or 143)."""
    print(f"blowback: interrupted: {stop.done} of {stop.total} runs done, kept in {out}; "
          f"{again}", file=sys.stderr)
    return stop.status


def run(args: argparse.Namespace) -> int:
    """``blowback run``: run one scenario, write its series and summary, print the summary."""
    from sim.core.scenario import load_scenario
    from sim.core.state import PERPETRATORS

    scenario = _configured(load_scenario(args.scenario), args)
    seed = scenario.params["run.seed"]
    from sim.experiments.output import check_replaceable
    from sim.experiments.results import RUN_FILES, default_out, run_document
    from sim.interfaces.simulation import Sim

    # --json alone is a question asked on stdout: it leaves no folder behind.
    keep = args.out is not None or not args.json
    out = args.out or default_out(scenario, Path(args.scenario).stem)
    if keep:
        check_replaceable(out, RUN_FILES, args.force)
    sim = Sim(scenario, agents=False)
    sim.run(progress=sys.stderr.isatty() and not args.json)
    doc = json.loads(json.dumps(run_document(sim.model), default=str))
    if keep:
        sim.save(out, replace=args.force)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    s = doc["summary"]
    deaths = s["civilian_deaths"]
    print(f"{scenario.name}: {s['steps']:,} weeks from {s['start_date']} (the last from "
          f"{s['end_date']}), seed {seed}")
    by = ", ".join(f"{PERPETRATOR_WORDS.get(who, who)} {deaths[who]:,.0f}" for who in PERPETRATORS)
    print(f"  civilian deaths {deaths['total']:,.0f} ({by})")
    print(f"  insurgents at end {s['insurgent_strength_final']:,.0f}, recruits "
          f"{s['recruits_total']:,.0f}, cooperation {s['cooperation_mean_final']:.2f}, "
          f"legitimacy {s['legitimacy_final']:.2f}, displaced {s['displaced_final']:,.0f}")
    print(f"  written to {out}/ (timeseries.parquet, summary.json)")
    return 0


def compare(args: argparse.Namespace) -> int:
    """``blowback compare``: run scenarios on common seeds, write and print the comparison."""
    from sim.core.parameters import BY_NAME
    from sim.core.scenario import load_scenario
    from sim.experiments.compare import (
        COMPARISON_FILES,
        check_lengths,
        default_out,
        write_comparison,
    )
    from sim.experiments.compare import compare as run_comparison
    from sim.experiments.output import check_replaceable
    from sim.experiments.workload import WorkloadError, check_duration, scenario_runs

    top = BY_NAME["run.seed"].high
    if args.first_seed + args.seeds - 1 > top:
        raise WorkloadError(f"--first-seed: {args.first_seed} and {args.seeds} seeds pass the "
                            f"largest seed, {top}; allowed: a first seed up to "
                            f"{top - args.seeds + 1}")
    if "run.seed" in settings(args):
        raise WorkloadError("--set: run.seed: compare runs the seeds of --first-seed and "
                            "--seeds; allowed: --first-seed N")
    scenarios = [_configured(load_scenario(path), args) for path in args.scenarios]
    check_lengths(scenarios)
    check_duration([scenario_runs(args.seeds, s) for s in scenarios], args.jobs, args.yes)
    draws, fingerprint, note = _posterior_draws(args, scenarios)
    out = args.out or default_out(scenarios, args.seeds, args.steps, fingerprint,
                                  args.first_seed)
    check_replaceable(out, COMPARISON_FILES, args.force)
    total = len(scenarios) * args.seeds
    bar = _progress_bar(total, "compare")
    try:
        result = run_comparison(scenarios, args.seeds, None, jobs=min(args.jobs, total),
                                first_seed=args.first_seed, progress=bar.update if bar else None,
                                draws=draws)
    finally:
        if bar is not None:
            bar.close()
    write_comparison(result, out, note)
    print(result.text(wide=args.wide))
    if note:
        print("\n" + note)
    print(f"\nFigure: {out / 'comparison.png'}   Tables: {out}/comparison.csv, differences.csv,"
          " runs.csv (each run), comparison.txt (as printed), scenarios.json (each scenario "
          "as run)")
    return 0


def _posterior_draws(args: argparse.Namespace, scenarios: list[Scenario]) -> tuple[
        list[dict[str, float]] | None, str | None, str]:
    """With ``--posterior``: one draw a seed (less what ``--set`` fixes), the posterior's
    fingerprint, and the sentence that says what the runs drew; else (None, None, "")."""
    if args.posterior is None:
        return None, None, ""
    from sim.experiments import posterior
    from sim.experiments.output import folded

    table = posterior.load_posterior(args.posterior)
    kept = {item.split("=", 1)[0].strip() for item in args.set}
    draws = [{k: v for k, v in draw.items() if k not in kept}
             for draw in posterior.draws(table, args.seeds, args.first_seed)]
    # A posterior the scenarios cannot take is refused before any run is spent.
    for scenario in scenarios:
        scenario.with_overrides(**draws[0])
    n = len(draws[0])
    # Its file does not say which calibration made it: the comparison says what was drawn.
    note = folded(f"Seed k of every scenario ran with the k-th of {args.seeds} draws from the "
                  f"posterior {args.posterior}, of {n} parameter{'s' if n != 1 else ''}: "
                  f"{', '.join(sorted(draws[0]))} (runs.csv gives each run's values).")
    return draws, posterior.fingerprint(table), note


def analyse(args: argparse.Namespace) -> int:
    """``blowback analyse``: the tables and figures of a sweep's or a comparison's runs."""
    from sim.core.paths import input_folder
    from sim.experiments.analysis import ANALYSIS_FILES, AnalysisError, load, write_analysis
    from sim.experiments.analysis import analyse as analyse_runs
    from sim.experiments.output import check_replaceable

    input_folder(args.results)
    # `analyse .` inside a results folder: named by the folder itself, its analysis beside it.
    results = args.results if args.results.name not in ("", "..") else args.results.resolve()
    out = args.out or results.with_name(results.name + "-analysis")
    try:
        check_replaceable(out, ANALYSIS_FILES, args.force)
        runs = load(args.results)
        result = analyse_runs(runs, args.baseline)
    except AnalysisError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    _say_runs_missing(args.results, len(runs))
    series = None
    if (args.results / "series").is_dir():
        from sim.experiments.analysis import series_seeds

        series = series_seeds(args.results, result.runs)
    write_analysis(result, series, out, results)
    print(result.text(wide=args.wide))
    print(f"\nFigures (PNG and SVG) and tables: {out}/")
    return 0


def _say_runs_missing(folder: Path, found: int) -> None:
    """Warn when a sweep folder holds fewer runs than its experiment has: a sweep still
    running, stopped, or with a file gone, whose analysis covers the runs that are there."""
    from sim.experiments.output import OutputError
    from sim.experiments.sweep_folder import read_manifest

    try:
        total = read_manifest(folder).get("runs")
    except OutputError:  # a comparison's folder: all its runs or none
        return
    if isinstance(total, int) and found < total:
        print(f"blowback: warning: {folder} holds {found} of its experiment's {total} runs; "
              "the analysis covers those, and blowback sweep EXPERIMENT --out "
              f"{folder} --resume runs the others", file=sys.stderr)


def sensitivity(args: argparse.Namespace) -> int:
    """``blowback sensitivity``: run (or finish) a Sobol sweep; its indices and ranking flips."""
    from sim.experiments import sensitivity as global_sensitivity
    from sim.experiments.experiment import load_experiment
    from sim.experiments.store import finished_runs
    from sim.experiments.sweep import SweepInterrupted, default_out, load, run_sweep
    from sim.experiments.workload import check_duration, experiment_runs

    experiment = load_experiment(args.experiment)
    try:
        global_sensitivity.check(experiment)
    except global_sensitivity.SensitivityError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or default_out(experiment)
    done = finished_runs(out) if (out / "manifest.json").is_file() else set()
    check_duration(experiment_runs(experiment, done), args.jobs, args.yes)
    analysis = out.with_name(out.name + "-sensitivity")
    from sim.experiments.output import check_replaceable

    check_replaceable(analysis, global_sensitivity.FILES, args.force)
    # A sweep already there (of this experiment) is finished, not redone.
    try:
        run_sweep(experiment, out, jobs=args.jobs, resume=out.exists(),
                  mixed_versions=args.mixed_versions, progress=sys.stderr.isatty())
    except SweepInterrupted as stop:
        return interrupted(stop, out, "rerun the same command to finish it")
    result = global_sensitivity.analyse(experiment, load(out))
    written = global_sensitivity.write(result, analysis)
    print(result.text(wide=args.wide))
    charts = sorted(path.stem for path in written.glob("*.png"))
    drawn = f" and charts ({', '.join(charts)}; PNG, SVG)" if charts else ""
    print(f"\nTables{drawn}: {written}/")
    return 0


def _progress_bar(total: int, desc: str):
    """A tqdm bar on a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc=desc)


def validate(args: argparse.Namespace) -> int:
    """``blowback validate``: measure the literature's claims and write their table."""
    names = list(CLAIMS) if args.claims is None else subset("--claims", args.claims, CLAIMS)
    from sim.core.parameters import BY_NAME
    from sim.experiments import claims, claims_report
    from sim.experiments.output import check_replaceable
    from sim.experiments.workload import check_duration, claim_runs

    check_duration(claim_runs(names, args.seeds, BY_NAME["map.communities"].default),
                   args.jobs, args.yes)
    check_replaceable(args.out, claims_report.FILES, args.force)
    results = claims.measure(names, seeds=args.seeds, jobs=args.jobs)
    claims_report.write(results, args.out)
    print(claims_report.text(claims_report.table_of(results), wide=args.wide))
    print(f"\nTables: {args.out}/claims.csv, claims.md; the scenarios as they ran: "
          "scenarios.json")
    return 0


def calibrate(args: argparse.Namespace) -> int:
    """``blowback calibrate``: fit a calibration file's posterior, then predict every figure
    from the prior and the posterior."""
    from sim.experiments import calibration, calibration_report
    from sim.experiments.output import OutputError, check_replaceable
    from sim.experiments.stopping import exit_status
    from sim.experiments.workload import check_duration, scenario_runs

    cal = calibration.load_calibration(args.calibration)
    # Each generation (and pyabc's sample of the prior) runs the fitting window; pyabc also runs
    # the draws it rejects, so this errs short.  Then the predictive runs of the whole timeline.
    check_duration([(cal.population * (cal.generations + 1), cal.fit_steps,
                     cal.scenario.params["map.communities"]),
                    scenario_runs(2 * cal.predictive_draws, cal.scenario)], args.jobs, args.yes)
    out = args.out or calibration_report.default_out(cal)
    check_replaceable(out, calibration_report.FILES, args.force)
    if args.scenario_out is not None:
        calibration_report.check_scenario_out(args.scenario_out, args.force, out)
    written: list[Path] = []  # what a stop that comes after the fit leaves, to name it
    told = _FitProgress(cal.generations, 2 * cal.predictive_draws)
    try:
        with tempfile.TemporaryDirectory(prefix="blowback-abc-") as work:
            result = calibration.fit(cal, jobs=args.jobs, workdir=Path(work),
                                     ensemble=args.ensemble, sampled=told.sampled,
                                     progress=told.ran)
            calibration_report.write(result, out)
            written.append(out)
        if args.scenario_out is not None:
            try:
                calibration_report.write_scenario(result, args.scenario_out, written)
            except OutputError as err:
                raise OutputError(f"{err}; the fit is written in {out}, whose calibrated.toml "
                                  "is the fitted scenario") from None
        print(result.text(wide=args.wide))
        print("\n" + calibration_report.written_text(out, args.scenario_out))
    except KeyboardInterrupt as stop:
        if not written:
            raise
        print(f"blowback: interrupted; written: {', '.join(map(str, written))}", file=sys.stderr)
        return exit_status(stop)
    finally:
        told.close()
    return 0


class _FitProgress:
    """How far a fit of many minutes has come, on stderr: a line for each sample it completes
    (pyabc's sample of the prior, which sets the distance's scales, then each generation), then,
    on a terminal, a bar of the predictive runs."""

    def __init__(self, generations: int, runs: int) -> None:
        self.generations, self.runs = generations, runs
        self.done, self.simulations, self.bar = -1, 0, None

    def sampled(self, simulations: int) -> None:
        """One more sample completed, of ``simulations`` simulations."""
        self.done += 1
        self.simulations += simulations
        what = (f"generation {self.done} of {self.generations} done, {simulations:,} simulations "
                f"({self.simulations:,} in all)" if self.done else
                f"the prior sampled for the distance's scales, {simulations:,} simulations")
        print(f"blowback: calibrate: {what}", file=sys.stderr, flush=True)

    def ran(self, runs: int) -> None:
        """``runs`` more predictive runs done; the bar starts with the first, after the fit's
        lines."""
        if self.bar is None:
            self.bar = _progress_bar(self.runs, "predictive runs")
        if self.bar is not None:
            self.bar.update(runs)

    def close(self) -> None:
        """End the bar, if one was drawn."""
        if self.bar is not None:
            self.bar.close()
