"""``blowback sweep``: run an experiment's sweep into its folder, resume it, or merge its shards
(``--compact``), once :mod:`sim.interfaces.cli` has read the arguments.

Like the other commands (:mod:`sim.interfaces.commands`) it returns the exit status, tells a user
error in one line on stderr, and imports the experiments only once the arguments are read.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from sim.interfaces.commands import EXIT_USAGE, interrupted

if TYPE_CHECKING:
    from sim.experiments.experiment import Experiment


def sweep(args: argparse.Namespace) -> int:
    """``blowback sweep``: run (or resume) an experiment's sweep into its folder."""
    from sim.experiments.experiment import load_experiment
    from sim.experiments.sweep import (
        SchedulerError,
        SweepError,
        SweepInterrupted,
        default_out,
        run_sweep,
    )
    from sim.experiments.sweep_folder import MIXED_WITHOUT_RESUME

    if (args.compact is None) == (args.experiment is None):
        print("blowback: error: sweep: give an experiment file to run, or --compact FOLDER to "
              "merge a sweep's shards (not both)", file=sys.stderr)
        return EXIT_USAGE
    if args.compact is not None:
        return _compact(args)
    if args.mixed_versions and not args.resume:
        print(f"blowback: error: {MIXED_WITHOUT_RESUME}", file=sys.stderr)
        return EXIT_USAGE
    experiment = load_experiment(args.experiment)
    out = args.out or default_out(experiment)
    _check_before_start(experiment, out, args)
    try:
        report = run_sweep(experiment, out, jobs=args.jobs, scheduler=args.scheduler,
                           resume=args.resume, mixed_versions=args.mixed_versions,
                           progress=sys.stderr.isatty(), ensemble=args.ensemble)
    except SweepInterrupted as stop:
        return interrupted(stop, out, "rerun with --resume to finish it: " + shlex.join(
            _rerun(args, out)))
    except SchedulerError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return EXIT_USAGE
    except SweepError as err:
        print(f"blowback: error: {err}", file=sys.stderr)
        return 1
    redone = f" ({report.redone} redone: their files were damaged)" if report.redone else ""
    print(f"{experiment.name}: {report.written} runs written{redone}, {report.skipped} already "
          f"done, {report.total} in all")
    series = ", series/shard-*.parquet" if experiment.keep == "series" else ""
    print(f"  in {out}/ (manifest.json, shards.jsonl, runs/shard-*.parquet{series}); in Python: "
          f"import sim; sim.results.load({str(out)!r})")
    return 0


def _rerun(args: argparse.Namespace, out: Path) -> list[str]:
    """The command that finishes a stopped sweep where it ran: its folder, and the options that
    say where and how its runs go (a cluster's scheduler, or as many local workers)."""
    where = ["--scheduler", args.scheduler] if args.scheduler else ["--jobs", str(args.jobs)]
    return (["blowback", "sweep", str(args.experiment), "--out", str(out), "--resume", *where]
            + (["--ensemble", str(args.ensemble)] if args.ensemble != 1 else [])
            + (["--mixed-versions"] if args.mixed_versions else [])
            + (["--yes"] if args.yes else []))


def _check_before_start(experiment: Experiment, out: Path, args: argparse.Namespace) -> None:
    """Warn where ``--resume`` finds no sweep to resume (a mistyped ``--out`` would otherwise
    start every run again unnoticed), then refuse or confirm a long sweep by the runs it has
    left."""
    from sim.experiments.store import finished_runs
    from sim.experiments.sweep_folder import check_folder
    from sim.experiments.workload import check_duration, experiment_runs

    held = check_folder(out)
    if args.resume and held is None:
        print(f"blowback: warning: {out} holds no sweep to resume: --resume starts a new one "
              "there", file=sys.stderr)
    done = finished_runs(out) if args.resume and held is not None else set()
    if args.scheduler is None:  # a cluster's size is known only once connected
        check_duration(experiment_runs(experiment, done), args.jobs, args.yes)


def _compact(args: argparse.Namespace) -> int:
    """``blowback sweep --compact FOLDER``: merge a sweep's shards into one file."""
    from sim.core.paths import input_folder
    from sim.experiments.compaction import compact

    given = [name for name, value in (("--out", args.out), ("--scheduler", args.scheduler),
                                      ("--resume", args.resume),
                                      ("--mixed-versions", args.mixed_versions),
                                      ("--ensemble", args.ensemble != 1),
                                      ("--yes", args.yes)) if value]
    if given:
        print(f"blowback: error: sweep --compact merges the folder it names and runs "
              f"nothing: {given[0]} does not go with it", file=sys.stderr)
        return EXIT_USAGE
    folder = args.compact
    input_folder(folder)
    try:
        done = compact(folder)
    except OSError as err:
        if isinstance(err, PermissionError):
            raise  # said by the command line's own handler, with the file to fix
        print(f"blowback: error: {folder}: cannot merge its shards ({err.strerror or err}); "
              "nothing of the merge is left, and its runs load as before: make room, then run "
              "--compact again", file=sys.stderr)
        return 1
    removed = f"; {done.removed} files left by a killed sweep or merge removed" if \
        done.removed else ""
    if done.into is None:
        print(f"{folder}: {done.runs} runs, nothing to merge (one shard or none){removed}")
    else:
        print(f"{folder}: {done.runs} runs of {done.merged} shards merged into "
              f"{done.into.relative_to(folder)}{removed}")
    if done.log_left:
        print(f"blowback: warning: {folder}: its log still lists the merged shards "
              f"({done.log_left}), which every reader skips; --compact again shortens it",
              file=sys.stderr)
    return 0
