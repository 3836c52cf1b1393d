"""The ``blowback`` command: run a scenario, compare regimes, explain the parameters.

This module reads the arguments; :mod:`sim.interfaces.commands` does what each command says.
Heavy imports (Mesa, numba, matplotlib) happen inside the commands, so that ``--help`` and
input errors answer at once.  Every user error is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
from pathlib import Path
from typing import TextIO

from sim.core.messages import ShownStream, StreamError, shown
from sim.core.paths import check_output_folder
from sim.core.scenario import ScenarioError
from sim.experiments.stopping import exit_status, stop_signals, unmasked_stops
from sim.experiments.workload import WorkloadError, check_jobs, check_seeds, cores
from sim.interfaces import commands, sweep_command, tools
from sim.interfaces.commands import BENCHMARKS, CLAIMS, EXIT_USAGE
from sim.version import __version__


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


def _not_empty(empty: str, allowed: str, convert=str):
    """An argparse type: the text converted, refused when empty (``Path("")`` would be the
    current folder and ``--baseline ""`` the default, neither of which the user named)."""
    def parse(text: str):
        if not text.strip():
            raise argparse.ArgumentTypeError(f"an empty {empty}; allowed: {allowed}")
        return convert(text)
    return parse


_path = _not_empty("path", "the path of a file or folder", Path)
_file = _not_empty("name", "the path of a file")
_name = _not_empty("name", "a scenario's name")
_positive = _integer_from(1)
_seed = _integer_from(0)

_FORCE_HELP = "replace the output folder if it already holds a result of this command"

_YES_HELP = "start even if the runs are estimated to take more than an hour"
_SET_HELP = ("set a parameter, VALUE as in a scenario file (TOML): --set oversight.punishment=0.8, "
             "--set 'run.start_date=\"2014-01-06\"'; repeatable")


def argument_parser() -> argparse.ArgumentParser:
    """The ``blowback`` command's parser, every subcommand with its options (a script that runs
    ``blowback`` checks its options with it, as ``docs/cluster/sweep_on_cluster.py`` does)."""
    parser = argparse.ArgumentParser(
        prog="blowback",
        description="Agent-based simulation of outsourced counterinsurgency.")
    parser.add_argument("--version", action="version", version=f"blowback {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_runs, _add_experiments, _add_checks, _add_tools):
        add(sub)
    return parser


def _add_runs(sub) -> None:
    """The commands that run scenarios: one (run) or several on common seeds (compare)."""
    run = sub.add_parser("run", help="run one scenario and write its results")
    run.add_argument("scenario", type=_file, help="scenario file (TOML)")
    run.add_argument("--seed", type=_seed, help="root seed (default: the scenario's run.seed)")
    run.add_argument("--steps", type=_positive, help="weeks to run (default: run.steps)")
    run.add_argument("--out", type=_path,
                     help="output folder (default: results/<scenario>-seed<N>-<hash>, the hash "
                     "of the scenario as run)")
    run.add_argument("--force", action="store_true", help=_FORCE_HELP)
    run.add_argument("--json", action="store_true",
                     help="print the summary as JSON on stdout and nothing else; writes no "
                     "results folder unless --out is given")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help=_SET_HELP)

    cmp_ = sub.add_parser("compare", help="compare scenarios on common random numbers")
    cmp_.add_argument("scenarios", type=_file, nargs="+",
                      help="scenario files; the first is the baseline")
    cmp_.add_argument("--seeds", type=_positive, default=10, help="seeds per scenario (10)")
    cmp_.add_argument("--first-seed", type=_seed, default=1, help="first seed (1)")
    cmp_.add_argument("--steps", type=_positive, help="weeks to run (default: each run.steps)")
    cmp_.add_argument("--jobs", type=_positive, default=cores(),
                      help="worker processes (default: all cores)")
    cmp_.add_argument("--yes", action="store_true", help=_YES_HELP)
    cmp_.add_argument("--out", type=_path, help="output folder (default: results/compare-<hash>)")
    cmp_.add_argument("--force", action="store_true", help=_FORCE_HELP)
    cmp_.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help=_SET_HELP + "; applied to every scenario")
    cmp_.add_argument("--posterior", type=_path, metavar="FILE",
                      help="a calibration's posterior (e.g. scenarios/mali_calibrated.posterior"
                      ".csv): seed k of every scenario runs with the k-th draw from it (--set "
                      "keys keep their values)")
    _add_wide(cmp_)


def _add_experiments(sub) -> None:
    """The commands of experiment files: sweep, sensitivity, analyse."""
    swp = sub.add_parser("sweep", help="run an experiment: scenarios x parameter points x seeds, "
                         "resumably")
    swp.add_argument("experiment", type=_file, nargs="?",
                     help="experiment file (TOML; see scenarios/experiments/)")
    swp.add_argument("--out", type=_path, help="sweep folder (default: results/sweep-<hash>)")
    swp.add_argument("--jobs", type=_positive, default=cores(),
                     help="local worker processes (default: all cores)")
    swp.add_argument("--yes", action="store_true", help=_YES_HELP)
    swp.add_argument("--scheduler", metavar="ADDRESS",
                     type=_not_empty("address", "a Dask scheduler's, tcp://host:8786"),
                     help="run on this Dask scheduler (tcp://host:8786) instead of locally")
    swp.add_argument("--ensemble", metavar="R", type=_positive, default=1,
                     help="advance up to R runs of one map size together in each task of a "
                          "worker; the same numbers (default 1: not reliably faster yet)")
    swp.add_argument("--resume", action="store_true",
                     help="finish the sweep in --out: skip the runs already written")
    swp.add_argument("--mixed-versions", action="store_true",
                     help="with --resume: finish a sweep started with other model code or "
                          "library versions (recorded in its manifest)")
    swp.add_argument("--compact", metavar="FOLDER", type=_path,
                     help="merge the shards of the sweep in FOLDER into one file (instead of "
                          "running an experiment)")

    sens = sub.add_parser("sensitivity", help="Sobol indices of the outcomes over an "
                          "experiment's ranges (sampler = \"sobol\"), ranking flips, and "
                          "PRIM boxes of where the first regime is not worse")
    sens.add_argument("experiment", type=_file,
                      help="experiment file with sampler = \"sobol\" (indices and boxes) or "
                      "\"latin\" (boxes, on independent points)")
    sens.add_argument("--out", type=_path, help="sweep folder, reused if it exists (default: "
                      "results/sweep-<hash>); the analysis goes beside it, OUT-sensitivity")
    sens.add_argument("--jobs", type=_positive, default=cores(),
                      help="local worker processes (default: all cores)")
    sens.add_argument("--yes", action="store_true", help=_YES_HELP)
    sens.add_argument("--mixed-versions", action="store_true",
                      help="finish a sweep started with other model code or libraries "
                      "(recorded in the manifest)")
    sens.add_argument("--force", action="store_true",
                      help="replace the analysis folder OUT-sensitivity if it holds one")
    _add_wide(sens)

    ana = sub.add_parser("analyse", help="tables and figures of a sweep's (or compare's) runs")
    ana.add_argument("results", type=_path, help="a sweep folder (or a compare folder)")
    ana.add_argument("--baseline", type=_name,
                     help="scenario name to pair against (default: the first)")
    ana.add_argument("--out", type=_path, help="output folder (default: RESULTS-analysis)")
    ana.add_argument("--force", action="store_true", help=_FORCE_HELP)
    _add_wide(ana)


def _add_wide(parser) -> None:
    """The flag that prints a command's tables whole, one line a row however long."""
    parser.add_argument("--wide", action="store_true",
                        help="print the tables whole, one line a row (default: fit 100 columns)")


def _add_checks(sub) -> None:
    """The commands that check the model: validate (the literature's claims) and calibrate."""
    val = sub.add_parser("validate", help="measure the literature's patterns (Bennett, "
                         "Condra-Shapiro, Kalyvas, Lyall, Kress-Szechtman) over many seeds")
    val.add_argument("--claims", help="comma-separated subset of: " + ", ".join(CLAIMS))
    val.add_argument("--seeds", type=_integer_from(2), default=20,
                     help="seeds per setting, at least 2: a claim is judged on a 95%% interval "
                          "over them (20)")
    val.add_argument("--jobs", type=_positive, default=cores(),
                     help="worker processes (default: all cores)")
    val.add_argument("--yes", action="store_true", help=_YES_HELP)
    val.add_argument("--out", type=_path, default=Path("results") / "validation",
                     help="output folder (default: results/validation)")
    val.add_argument("--force", action="store_true", help=_FORCE_HELP)
    _add_wide(val)

    cal = sub.add_parser("calibrate", help="fit the posterior of parameters and detection rates "
                         "to the public record up to 2021 (ABC-SMC), then retrodict 2022-2024 "
                         "without refitting")
    cal.add_argument("calibration", type=_file,
                     help="calibration file (TOML; see scenarios/calibration/)")
    cal.add_argument("--out", type=_path,
                     help="output folder (default: results/calibrate-<file name>-<hash>)")
    cal.add_argument("--force", action="store_true",
                     help=_FORCE_HELP + ", and the --scenario-out file it wrote")
    cal.add_argument("--jobs", type=_positive, default=cores(),
                     help="worker processes (default: all cores)")
    cal.add_argument("--ensemble", metavar="R", type=_positive, default=1,
                     help="advance up to R runs together in each worker, the fit's and the "
                          "predictions'; the same numbers (default 1: not reliably faster yet)")
    cal.add_argument("--yes", action="store_true", help=_YES_HELP)
    cal.add_argument("--scenario-out", type=_path, metavar="FILE",
                     help="also write the fitted scenario here (e.g. "
                     "scenarios/mali_calibrated.toml), and its posterior beside it "
                     "(<name>.posterior.csv)")
    _add_wide(cal)


def _add_tools(sub) -> None:
    """The tools around the model: bench, dashboard and scenario."""
    bench = sub.add_parser("bench", help="measure speed against Mesa and plain Python")
    bench.add_argument("--tiny", action="store_true", help="tiny sizes (seconds; for tests)")
    bench.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHMARKS))
    bench.add_argument("--report", action="store_true",
                       help="also write docs/performance.json, docs/img/performance.png and "
                       "the table of docs/PERFORMANCE.md (a whole run: not with --tiny or "
                       "--only)")
    bench.add_argument("--mesa-python", action="append", default=[], metavar="PYTHON",
                       help="also compare Epstein's classic with the Mesa of this interpreter "
                       "(e.g. a Python 3.12 environment with Mesa 3.5 and numba); repeatable")

    dash = sub.add_parser("dashboard", help="the seminar dashboard in the browser, on this "
                          "machine only unless --allow-remote (needs the dashboard extra)")
    dash.add_argument("scenario", type=_file, nargs="?",
                      help="scenario file to open (default: the defaults)")
    dash.add_argument("--port", type=_integer_from(0), default=8765,
                      help="port (8765; 0: a free port, the one the address printed gives)")
    dash.add_argument("--host", default="127.0.0.1",
                      help="address to listen on (default 127.0.0.1: this machine only); "
                      "another loopback (::1, localhost) is fine, any other address needs "
                      "--allow-remote")
    dash.add_argument("--allow-remote", action="store_true",
                      help="allow a --host reachable from the network (0.0.0.0, ::, or this "
                      "machine's address): the page has no password, anyone who reaches the "
                      "port can run the model; on 0.0.0.0 or :: it answers any Host name "
                      "unless --allowed-host is given")
    dash.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                      help="also answer requests addressed to NAME (e.g. this machine's name "
                      "on the network); any other Host header gets 400 and no page; "
                      "repeatable")
    dash.add_argument("--seed", type=_seed, help="root seed (default: the scenario's run.seed; "
                      "at most 2**62)")
    dash.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                      help=_SET_HELP + "; applied to the scenario the page opens")

    scen = sub.add_parser("scenario", help="check a scenario file, or explain every parameter")
    scen.add_argument("file", type=_file, nargs="?",
                      help="scenario file to check and print resolved")
    scen.add_argument("--explain", action="store_true",
                      help="print every parameter: default, allowed range, unit, kind (world, "
                      "behaviour, institution or run), mechanism, meaning")
    scen.add_argument("--diff", metavar="OTHER", type=_file,
                      help="print the parameters whose resolved values differ between FILE and "
                      "OTHER, one a line in registry order: name, kind, FILE's value, OTHER's")
    scen.add_argument("--changed", action="store_true",
                      help="with FILE: print only the values that differ from the defaults "
                      "(marked * in the full listing)")
    scen.add_argument("--json", action="store_true",
                      help="print FILE's resolved parameters as one JSON object (name: value), "
                      "or with --explain the registry as a JSON list")
    scen.add_argument("--markdown", action="store_true",
                      help="with --explain, the parameters as one Markdown table (the appendix "
                      "of docs/ODD.md)")
    scen.add_argument("--shipped", action="store_true",
                      help="list the shipped scenario, experiment and calibration files, with "
                      "the folder that holds them (inside the package, in a regular install)")
    scen.add_argument("--steps", action="store_true",
                      help="print the steps of one week, in order, each with its mechanism")


_COMMANDS = {"run": commands.run, "compare": commands.compare, "sweep": sweep_command.sweep,
             "bench": tools.bench, "analyse": commands.analyse,
             "sensitivity": commands.sensitivity, "scenario": tools.scenario,
             "validate": commands.validate, "calibrate": commands.calibrate,
             "dashboard": tools.dashboard}


# The options of each command that name its input files, recorded with their sha256 in the
# folders it writes (sim.experiments.made_by).
_INPUTS = {"run": ("scenario",), "compare": ("scenarios", "posterior"), "sweep": ("experiment",),
           "sensitivity": ("experiment",), "analyse": ("results",), "calibrate": ("calibration",)}


def _inputs(args: argparse.Namespace) -> list[Path]:
    """The input files ``args`` names, in the order of its options."""
    named = [getattr(args, option, None) for option in _INPUTS.get(args.command, ())]
    return [Path(path) for value in named if value is not None
            for path in (value if isinstance(value, list) else [value])]


# A command whose reader went away ends as Unix tools killed by SIGPIPE do: 128 + 13.
EXIT_CLOSED = 141


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``blowback`` command; returns the exit status.

    Everything written to stdout and stderr goes through :class:`ShownStream` (escapes instead
    of a terminal's controls; stderr keeps the progress bar's carriage returns), with
    characters the encoding lacks written as ``\\u`` escapes.  A reader that closes stdout
    early (``| head -1``) ends the command silently with status 141; a stdout that cannot be
    written (a full disk) ends it with one line and status 1.
    """
    out, err = sys.stdout, sys.stderr
    for stream in (out, err):
        with contextlib.suppress(AttributeError, ValueError, io.UnsupportedOperation):
            stream.reconfigure(errors="backslashreplace")
    sys.stdout = ShownStream(out, keep="\n\t", failing=True)
    sys.stderr = ShownStream(err, keep="\n\t\r")
    try:
        try:
            return _command(argv)
        finally:
            # Buffered output fails here, where it can be told, not at the interpreter's exit.
            sys.stdout.flush()
    except StreamError as failure:
        return _unwritable(failure, out)
    finally:
        sys.stdout, sys.stderr = out, err


def _command(argv: list[str] | None) -> int:
    """Parse the arguments and run the command, telling a user error in one line."""
    args = argument_parser().parse_args(argv)
    from sim.experiments import made_by
    from sim.experiments.output import OutputError

    # Ctrl-C and SIGTERM become exceptions, so that workers are stopped and temporary folders
    # removed on the way out; a command that keeps something (a sweep's runs) says so itself.
    with stop_signals():
        try:
            with unmasked_stops():
                if getattr(args, "out", None) is not None:
                    check_output_folder(args.out)
                _check_workload(args)
                with made_by.command(sys.argv[1:] if argv is None else argv, _inputs(args)):
                    return _COMMANDS[args.command](args)
        except (ScenarioError, OutputError, WorkloadError) as err:
            print(f"blowback: error: {shown(str(err), keep='')}", file=sys.stderr)
            return EXIT_USAGE
        except PermissionError as err:
            # A file or folder the user may not read or write (a results folder's runs/, a
            # cluster's shared disk): its owner can fix it, and nothing else is wrong.
            where = err.filename if err.filename is not None else "a file"
            print(f"blowback: error: {shown(str(where), keep='')}: {err.strerror or err}; it "
                  "is left as it is: change its permissions and try again", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt as stop:
            print("blowback: interrupted; nothing was written", file=sys.stderr)
            return exit_status(stop)


def _check_workload(args: argparse.Namespace) -> None:
    """Refuse ``--jobs`` and ``--seeds`` beyond their limits before anything is built."""
    if args.command in ("compare", "validate"):
        check_seeds(args.seeds)
    if getattr(args, "jobs", None) is not None:
        warning = check_jobs(args.jobs)
        if warning:
            print(f"blowback: warning: {warning}", file=sys.stderr)


def _unwritable(failure: StreamError, stdout: TextIO) -> int:
    """The exit status when stdout cannot be written, after saying why unless it was closed."""
    # Python's advice for SIGPIPE: point stdout at devnull, so that the flush at the
    # interpreter's exit has nothing left to fail on ("Exception ignored ...").
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stdout.fileno())
        os.close(devnull)
    if isinstance(failure.error, BrokenPipeError):
        return EXIT_CLOSED
    # Whatever was written before (a results folder) stays: the line says only what failed.
    print(f"blowback: error: cannot write to standard output ({failure})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
