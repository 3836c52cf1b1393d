"""Sweeps: run every run of an experiment in worker processes or on a Dask cluster, resumably.

A sweep writes into its own folder (:mod:`sim.experiments.sweep_folder`): a manifest first, then
the finished runs, appended to Parquet shards that are trusted once closed and logged
(:mod:`sim.experiments.shards`), so ``--resume`` skips exactly the runs of closed shards.  A
write that fails (a full disk, a folder gone read-only) stops the sweep with
:class:`SweepError`; the runs of closed shards stay readable.  The runs go to worker processes
or a Dask cluster (:mod:`sim.experiments.sweep_workers`); :func:`load` reads them back
(:mod:`sim.experiments.store`).
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm import tqdm

from sim.experiments.experiment import Experiment, Run
from sim.experiments.output import OutputError
from sim.experiments.runs import compile_once
from sim.experiments.shards import SHARD_RUNS, SHARD_SECONDS, ShardWriter, survey
from sim.experiments.stopping import exit_status, stops_held, unmasked_stops
from sim.experiments.store import load, load_series
from sim.experiments.sweep_folder import hold, prepare
from sim.experiments.sweep_workers import DaskPool, LocalPool, SchedulerError, SweepError, drive

# What a sweep is, for callers: run it, read it, and what it raises.
__all__ = ["SchedulerError", "SweepError", "SweepInterrupted", "SweepReport", "default_out",
           "configured_shard_seconds", "load", "load_series", "run_sweep"]
# Seconds a shard stays open, for a sweep started from the command line (tests close them
# often, to kill a sweep between shards).
SHARD_SECONDS_ENV = "BLOWBACK_SHARD_SECONDS"


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped a sweep; ``done`` of ``total`` runs are written and kept;
    ``status`` is the command's exit status (130 for Ctrl-C, 143 for SIGTERM)."""

    def __init__(self, done: int, total: int, status: int = 130) -> None:
        super().__init__(f"{done} of {total} runs done")
        self.done = done
        self.total = total
        self.status = status


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: ``written`` runs now (``redone`` of them because their files were
    damaged), ``skipped`` found done, of ``total``."""

    out: Path
    total: int
    skipped: int
    written: int
    redone: int = 0


def default_out(experiment: Experiment) -> Path:
    """The sweep folder named by the experiment's hash, so that a rerun lands in the same one."""
    return Path("results") / f"sweep-{experiment.content_hash[:10]}"


def configured_shard_seconds() -> float:
    """Seconds a sweep's shard stays open: ``$BLOWBACK_SHARD_SECONDS``, else
    :data:`~sim.experiments.shards.SHARD_SECONDS`; one line if the variable is not a number
    of seconds."""
    text = os.environ.get(SHARD_SECONDS_ENV, "").strip()
    if not text:
        return SHARD_SECONDS
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise OutputError(f"{SHARD_SECONDS_ENV}: {text!r} is not a number of seconds; allowed: "
                          "0 (a shard a run) or more")
    return seconds


def run_sweep(experiment: Experiment, out: str | Path, *, jobs: int = 1,
              scheduler: str | None = None, resume: bool = False,
              mixed_versions: bool = False, progress: bool = False,
              shard_runs: int = SHARD_RUNS, shard_seconds: float | None = None,
              ensemble: int = 1) -> SweepReport:
    """Run every run of ``experiment`` not yet in ``out`` and write each as it finishes.

    Runs go to ``jobs`` local worker processes, or to the Dask cluster whose scheduler is at
    ``scheduler``; each run's numbers depend only on its scenario, point and seed, so neither
    changes them.  ``out`` must be new or empty unless ``resume``, which needs the same
    experiment's folder, started with the same model code and library versions unless
    ``mixed_versions`` (each resumption is recorded in the manifest).  Raises
    :class:`SweepInterrupted` on Ctrl-C (and SIGTERM, under :func:`~sim.experiments.stopping.
    stop_signals`) and :class:`SweepError` when a run's worker keeps
    dying; the runs written so far are kept either way.  Finished runs are appended to shards
    closed after ``shard_runs`` runs or ``shard_seconds`` seconds (if None,
    :func:`configured_shard_seconds`), which bounds what a SIGKILL can lose.  Each task of a
    worker advances up to ``ensemble`` runs of one map size together
    (:class:`~sim.core.ensemble.Ensemble`), with the same numbers as one run a task.
    """
    seconds = configured_shard_seconds() if shard_seconds is None else shard_seconds
    out = Path(out)
    # Connect first, so that a wrong address leaves no folder behind.
    cluster = DaskPool(scheduler) if scheduler else None
    created = not out.exists()
    try:
        lock = hold(out)
        try:
            done, redone = prepare(out, experiment, resume, mixed_versions)
        except BaseException as stop:
            if created:  # a sweep that never started leaves no folder; the lock keeps others out
                shutil.rmtree(out, ignore_errors=True)
            lock.release()
            if isinstance(stop, KeyboardInterrupt) and not created:
                raise _kept(out, experiment, stop) from None
            raise
    except BaseException:
        if cluster is not None:
            cluster.close(abandon=True)
        raise
    try:
        writer = ShardWriter(out, survey(out).next_number(), experiment.keep == "series",
                             shard_runs=shard_runs, shard_seconds=seconds)
        report = _run_todo(experiment, out, done, cluster, jobs, progress, writer, ensemble)
    except KeyboardInterrupt as stop:
        # From here on the folder is the sweep's, whenever the stop lands: say what it keeps.
        raise _kept(out, experiment, stop) from None
    finally:
        lock.release()
    return dataclasses.replace(report, redone=redone)


def _kept(out: Path, experiment: Experiment, stop: KeyboardInterrupt) -> SweepInterrupted:
    """The stop of a sweep whose folder is in place, with the runs the folder keeps."""
    kept = len(set(survey(out).homes) & {run.run_id for run in experiment.runs})
    return SweepInterrupted(kept, len(experiment.runs), exit_status(stop))


def _run_todo(experiment: Experiment, out: Path, done: set[str], cluster: DaskPool | None,
              jobs: int, progress: bool, writer: ShardWriter, ensemble: int) -> SweepReport:
    todo = [run for run in experiment.runs if run.run_id not in done]
    total = len(experiment.runs)
    bar = None
    if progress:
        bar = tqdm(total=total, initial=total - len(todo), unit="run",
                   desc=experiment.name[:40], smoothing=0.1)

    def stored(write, what: str) -> None:
        try:
            write()
        except OSError as err:
            writer.abandon()
            raise SweepError(
                f"{out}: cannot write {what} ({err.strerror or err}); the "
                f"{total - len(todo) + writer.closed_runs} finished runs are kept and readable; "
                "make room or make the folder writable, then rerun with --resume") from None

    def finished(run: Run, result: tuple[dict, pd.DataFrame | None]) -> None:
        # A stop waits for the run to join the shard whole: one landing between its row and its
        # entry in the shard's line would leave a row in the file that the log does not list.
        with stops_held():
            stored(lambda: writer.add(*result), f"run {run.run_id}")
        if bar is not None:
            bar.update(1)

    if not todo:
        # A finished sweep resumed: no worker to start, no kernel to compile or load.
        if cluster is not None:
            cluster.close(abandon=False)
        if bar is not None:
            bar.close()
        return SweepReport(out, total, total, 0)
    try:
        if cluster is not None:
            # Into the kernel cache of this home (or of NUMBA_CACHE_DIR): cluster workers that
            # share it load the kernels instead of each compiling them at once on its first run.
            compile_once()
        pool = cluster or LocalPool(max(1, min(jobs, len(todo))))
        with unmasked_stops():
            try:
                drive(pool, todo, experiment.keep == "series", finished, out, ensemble)
            finally:
                # Whatever stopped the sweep, the runs it finished are kept: their shard is closed.
                stored(writer.close, "its last shard")
    finally:
        if bar is not None:
            bar.close()
    return SweepReport(out, total, total - len(todo), writer.closed_runs)
