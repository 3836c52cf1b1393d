"""The ``blowback`` command: run a scenario, compare regimes, explain the parameters.

Heavy imports (Mesa, numba, matplotlib) happen inside the commands, so that ``--help`` and
input errors answer at once.  Every user error is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

from sim.core.scenario import ScenarioError

EXIT_USAGE = 2
BENCHMARKS = ("epstein", "kernels", "scale", "build", "startup", "profile", "sweep")
# The claims of `blowback validate` (sim.experiments.claims.CLAIMS; named here to keep start-up
# light).
CLAIMS = ("bennett", "condra_shapiro", "kalyvas", "lyall", "kress_szechtman")


def _integer_from(low: int):
    """An argparse type: an integer of at least ``low``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text} must be at least {low}")
        return value
    return parse


_positive = _integer_from(1)
_seed = _integer_from(0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="blowback",
        description="Agent-based simulation of outsourced counterinsurgency.")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run one scenario and write its results")
    run.add_argument("scenario", help="scenario file (TOML)")
    run.add_argument("--seed", type=_seed, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--steps", type=_positive, help="weeks to run (default: run.steps)")
    run.add_argument("--out", type=Path,
                     help="output folder (default: results/<scenario>-seed<N>)")
    run.add_argument("--json", action="store_true",
                     help="print the summary as JSON on stdout and nothing else")

    cmp_ = sub.add_parser("compare", help="compare scenarios on common random numbers")
    cmp_.add_argument("scenarios", nargs="+", help="scenario files; the first is the baseline")
    cmp_.add_argument("--seeds", type=_positive, default=10, help="seeds per scenario (10)")
    cmp_.add_argument("--first-seed", type=_seed, default=1, help="first seed (1)")
    cmp_.add_argument("--steps", type=_positive, help="weeks to run (default: each run.steps)")
    cmp_.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                      help="worker processes (default: all cores)")
    cmp_.add_argument("--out", type=Path, help="output folder (default: results/compare-<hash>)")

    swp = sub.add_parser("sweep", help="run an experiment: scenarios x parameter points x seeds, "
                         "resumably")
    swp.add_argument("experiment", help="experiment file (TOML; see scenarios/experiments/)")
    swp.add_argument("--out", type=Path, help="sweep folder (default: results/sweep-<hash>)")
    swp.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                     help="local worker processes (default: all cores)")
    swp.add_argument("--scheduler", metavar="ADDRESS",
                     help="run on this Dask scheduler (tcp://host:8786) instead of locally")
    swp.add_argument("--resume", action="store_true",
                     help="finish the sweep in --out: skip the runs already written")
    swp.add_argument("--mixed-versions", action="store_true",
                     help="with --resume: finish a sweep started with other model code or "
                          "library versions (recorded in its manifest)")

    sens = sub.add_parser("sensitivity", help="Sobol indices of the outcomes over an "
                          "experiment's ranges (sampler = \"sobol\"), and ranking flips")
    sens.add_argument("experiment", help="experiment file with sampler = \"sobol\"")
    sens.add_argument("--out", type=Path, help="sweep folder, reused if it exists (default: "
                      "results/sweep-<hash>); the analysis goes beside it, OUT-sensitivity")
    sens.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                      help="local worker processes (default: all cores)")

    ana = sub.add_parser("analyse", help="tables and figures of a sweep's (or compare's) runs")
    ana.add_argument("results", type=Path, help="a sweep folder (or a compare folder)")
    ana.add_argument("--baseline", help="scenario name to pair against (default: the first)")
    ana.add_argument("--out", type=Path, help="output folder (default: RESULTS-analysis)")

    val = sub.add_parser("validate", help="measure the literature's patterns (Bennett, "
                         "Condra-Shapiro, Kalyvas, Lyall, Kress-Szechtman) over many seeds")
    val.add_argument("--claims", help="comma-separated subset of: " + ", ".join(CLAIMS))
    val.add_argument("--seeds", type=_positive, default=20, help="seeds per setting (20)")
    val.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                     help="worker processes (default: all cores)")
    val.add_argument("--out", type=Path, default=Path("results") / "validation",
                     help="output folder (default: results/validation)")

    cal = sub.add_parser("calibrate", help="fit parameters to the public figures up to 2021, "
                         "then retrodict 2022-2023 without refitting")
    cal.add_argument("calibration", help="calibration file (TOML; see scenarios/calibration/)")
    cal.add_argument("--out", type=Path,
                     help="output folder (default: results/calibrate-<file name>)")
    cal.add_argument("--jobs", type=_positive, default=os.cpu_count() or 1,
                     help="worker processes (default: all cores)")
    cal.add_argument("--scenario-out", type=Path, metavar="FILE",
                     help="also write the fitted scenario here (e.g. "
                     "scenarios/mali_calibrated.toml)")

    bench = sub.add_parser("bench", help="measure speed against Mesa and plain Python")
    bench.add_argument("--tiny", action="store_true", help="tiny sizes (seconds; for tests)")
    bench.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    bench.add_argument("--report", action="store_true",
                       help="also write docs/performance.json, docs/img/performance.png and "
                       "the table of docs/PERFORMANCE.md")
    bench.add_argument("--mesa-python", action="append", default=[], metavar="PYTHON",
                       help="also compare Epstein's classic with the Mesa of this interpreter "
                       "(e.g. a Python 3.12 environment with Mesa 3.5 and numba); repeatable")

    dash = sub.add_parser("dashboard", help="the seminar dashboard in the browser (needs the "
                          "dashboard extra)")
    dash.add_argument("scenario", nargs="?", help="scenario file to open (default: the defaults)")
    dash.add_argument("--port", type=_integer_from(1), default=8765, help="port (8765)")
    dash.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (127.0.0.1: this machine only)")
    dash.add_argument("--seed", type=_seed, help="root seed (default: the scenario's run.seed)")

    scen = sub.add_parser("scenario", help="check a scenario file, or explain every parameter")
    scen.add_argument("file", nargs="?", help="scenario file to check and print resolved")
    scen.add_argument("--explain", action="store_true",
                      help="print every parameter: default, allowed range, unit, meaning")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``blowback`` command; returns the exit status."""
    args = _parser().parse_args(argv)
    from sim.experiments.output import OutputError

    try:
        commands = {"run": _run, "compare": _compare, "sweep": _sweep, "bench": _bench,
                    "analyse": _analyse, "sensitivity": _sensitivity, "scenario": _scenario,
                    "validate": _validate, "calibrate": _calibrate, "dashboard": _dashboard}
        return commands[args.command](args)
    except (ScenarioError, OutputError) as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("blowback: interrupted; nothing was written", file=sys.stderr)
        return 130


def _overrides(args) -> dict:
    changes = {}
    if getattr(args, "seed", None) is not None:
        changes["run.seed"] = args.seed
    if args.steps is not None:
        changes["run.steps"] = args.steps
    return changes


def _run(args) -> int:
    from sim.core.scenario import load_scenario

    scenario = load_scenario(args.scenario)
    changes = _overrides(args)
    if changes:
        scenario = scenario.with_overrides(**changes)
    seed = scenario.params["run.seed"]
    out = args.out or Path("results") / f"{Path(args.scenario).stem}-seed{seed}"
    from sim.experiments.output import check_replaceable
    from sim.experiments.results import RUN_FILES
    from sim.interfaces.simulation import Sim

    check_replaceable(out, RUN_FILES)
    sim = Sim(scenario, agents=False)
    sim.run(progress=sys.stderr.isatty() and not args.json)
    sim.save(out)
    doc = json.loads((out / "summary.json").read_text())
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    s = doc["summary"]
    deaths = s["civilian_deaths"]
    print(f"{scenario.name}: {s['start_date']} to {s['end_date']}, seed {seed}")
    print(f"  civilian deaths {deaths['total']:,.0f} (state {deaths['state']:,.0f}, contractor "
          f"{deaths['contractor']:,.0f}, partner {deaths['partner']:,.0f}, insurgent "
          f"{deaths['insurgent']:,.0f})")
    print(f"  insurgents at end {s['insurgent_strength_final']:,.0f}, recruits "
          f"{s['recruits_total']:,.0f}, cooperation {s['cooperation_mean_final']:.2f}, "
          f"legitimacy {s['legitimacy_final']:.2f}, displaced {s['displaced_final']:,.0f}")
    print(f"  written to {out}/ (timeseries.parquet, summary.json)")
    return 0


def _compare(args) -> int:
    from sim.core.scenario import load_scenario
    from sim.experiments.compare import COMPARISON_FILES, compare, default_out, write_comparison
    from sim.experiments.output import check_replaceable

    scenarios = [load_scenario(path) for path in args.scenarios]
    if args.steps is not None:
        scenarios = [s.with_overrides(**{"run.steps": args.steps}) for s in scenarios]
    out = args.out or default_out(scenarios, args.seeds, args.steps)
    check_replaceable(out, COMPARISON_FILES)
    total = len(scenarios) * args.seeds
    bar = _progress_bar(total, "compare")
    try:
        result = compare(scenarios, args.seeds, None, jobs=min(args.jobs, total),
                         first_seed=args.first_seed, progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    write_comparison(result, out)
    print(result.text())
    print(f"\nFigure: {out / 'comparison.png'}   Tables: {out}/comparison.csv, differences.csv")
    return 0


def _sweep(args) -> int:
    from sim.experiments.experiment import load_experiment
    from sim.experiments.sweep import (
        SchedulerError,
        SweepError,
        SweepInterrupted,
        default_out,
        run_sweep,
    )

    if args.mixed_versions and not args.resume:
        print("blowback: error: --mixed-versions goes with --resume (a new sweep has one set of "
              "versions)", file=sys.stderr)
        return EXIT_USAGE
    experiment = load_experiment(args.experiment)
    out = args.out or default_out(experiment)
    try:
        report = run_sweep(experiment, out, jobs=args.jobs, scheduler=args.scheduler,
                           resume=args.resume, mixed_versions=args.mixed_versions,
                           progress=sys.stderr.isatty())
    except SweepInterrupted as stop:
        print(f"blowback: interrupted: {stop.done} of {stop.total} runs done; rerun with "
              "--resume", file=sys.stderr)
        return 130
    except SchedulerError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SweepError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return 1
    print(f"{experiment.name}: {report.written} runs written, {report.skipped} already done, "
          f"{report.total} in all")
    print(f"  in {out}/ (manifest.json, runs/*.parquet); in Python: "
          f"sim.experiments.sweep.load({str(out)!r})")
    return 0


def _analyse(args) -> int:
    from sim.experiments.analysis import AnalysisError, analyse, load, write_analysis

    try:
        runs = load(args.results)
        result = analyse(runs, args.baseline)
    except AnalysisError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    series = None
    if (args.results / "series").is_dir():
        from sim.experiments.sweep import load_series

        series = load_series(args.results)
    out = args.out or args.results.with_name(args.results.name + "-analysis")
    write_analysis(result, series, out)
    print(result.text())
    print(f"\nFigures (PNG and SVG) and tables: {out}/")
    return 0


def _sensitivity(args) -> int:
    from sim.experiments import sensitivity
    from sim.experiments.experiment import load_experiment
    from sim.experiments.sweep import default_out, load, run_sweep

    experiment = load_experiment(args.experiment)
    try:
        sensitivity.check(experiment)
    except sensitivity.SensitivityError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    out = args.out or default_out(experiment)
    # A sweep already there (of this experiment) is finished, not redone.
    run_sweep(experiment, out, jobs=args.jobs, resume=out.exists(),
              progress=sys.stderr.isatty())
    result = sensitivity.analyse(experiment, load(out))
    written = sensitivity.write(result, out.with_name(out.name + "-sensitivity"))
    print(result.text())
    print(f"\nTables and chart (PNG, SVG): {written}/")
    return 0


def _progress_bar(total: int, desc: str):
    """A tqdm bar on a terminal, else None."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="run", desc=desc)


def _validate(args) -> int:
    names = list(CLAIMS)
    if args.claims:
        names = [name.strip() for name in args.claims.split(",")]
        unknown = [n for n in names if n not in CLAIMS]
        if unknown:
            print(f"blowback: error: --claims: unknown claim {unknown[0]!r}; allowed: "
                  + ", ".join(CLAIMS), file=sys.stderr)
            return EXIT_USAGE
    from sim.experiments import claims
    from sim.experiments.output import check_replaceable

    check_replaceable(args.out, claims.FILES)
    table = claims.evaluate(names, seeds=args.seeds, jobs=args.jobs)
    claims.write(table, args.out)
    print(claims.text(table))
    print(f"\nTables: {args.out}/claims.csv, claims.md")
    return 0


def _calibrate(args) -> int:
    from sim.experiments import calibration
    from sim.experiments.output import check_replaceable

    cal = calibration.load_calibration(args.calibration)
    out = args.out or Path("results") / f"calibrate-{Path(args.calibration).stem}"
    check_replaceable(out, calibration.FILES)
    if args.scenario_out is not None:
        calibration.check_scenario_out(args.scenario_out)
    runs = (len(cal.seeds) * cal.samples * cal.rounds) + len(cal.retrodict_seeds)
    bar = _progress_bar(runs, "calibrate")
    try:
        result = calibration.fit(cal, jobs=args.jobs, progress=bar.update if bar else None)
    finally:
        if bar is not None:
            bar.close()
    calibration.write(result, out)
    if args.scenario_out is not None:
        calibration.write_scenario(result, args.scenario_out)
    print(result.text())
    print(f"\nIn {out}/: figures.csv, figures.png/svg, points.csv, calibrated.toml"
          + (f"; scenario written to {args.scenario_out}" if args.scenario_out else ""))
    return 0


def _bench(args) -> int:
    only = None
    if args.only:
        only = {name.strip() for name in args.only.split(",")}
        unknown = only - set(BENCHMARKS)
        if unknown:
            print(f"blowback: error: --only: unknown benchmark {sorted(unknown)[0]!r}; allowed: "
                  + ", ".join(BENCHMARKS), file=sys.stderr)
            return EXIT_USAGE
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "run.py").exists():
        print("blowback: error: bench: the benchmarks live in a source checkout "
              f"(benchmarks/ not found beside {root / 'sim'})", file=sys.stderr)
        return EXIT_USAGE
    for python in args.mesa_python:
        if not (shutil.which(python) or os.access(python, os.X_OK)):
            print(f"blowback: error: --mesa-python: {python!r} is not an executable "
                  "interpreter; allowed: the path of a Python with Mesa and numba",
                  file=sys.stderr)
            return EXIT_USAGE
    sys.path.insert(0, str(root))
    from benchmarks.run import BenchmarkError, run

    try:
        run(tiny=args.tiny, only=only, report=args.report, mesa_pythons=args.mesa_python)
    except BenchmarkError as err:
        print(f"blowback: error: bench: {err}", file=sys.stderr)
        return 1
    return 0


def _dashboard(args) -> int:
    from sim.core.scenario import load_scenario

    if args.port > 65535:
        print(f"blowback: error: --port: {args.port}; allowed: an integer in [1, 65535]",
              file=sys.stderr)
        return EXIT_USAGE
    if args.scenario:
        load_scenario(args.scenario)
    import importlib.util

    if importlib.util.find_spec("solara") is None:
        print("blowback: error: dashboard: solara is missing; install the dashboard extra: "
              "pip install -e '.[dashboard]'", file=sys.stderr)
        return EXIT_USAGE
    from sim.interfaces.dashboard.server import check_port, serve

    check_port(args.host, args.port)
    serve(args.scenario, args.host, args.port, args.seed)
    return 0


def _scenario(args) -> int:
    from sim.core.scenario import explain, load_scenario

    if args.explain:
        print(explain())
        return 0
    if not args.file:
        print("blowback: error: scenario: give a FILE to check, or --explain", file=sys.stderr)
        return EXIT_USAGE
    scenario = load_scenario(args.file)
    print(f"{scenario.name} ({scenario.content_hash[:12]}): valid")
    for name, value in scenario.params.items():
        print(f"  {name} = {value!r}")
    for event in scenario.events:
        print(f"  event {event.date} (step {event.step}): {event.type} {event.fields or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
