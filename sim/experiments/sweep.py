"""Sweeps: run every run of an experiment in worker processes or on a Dask cluster, resumably.

A sweep writes into its own folder (:mod:`sim.experiments.sweep_folder`): a manifest first, then
one file a finished run, each written whole and a run's row last, so ``--resume`` skips exactly
the runs that are complete.  A write that fails (a full disk, a folder gone read-only) stops the
sweep with :class:`SweepError`; the finished runs stay readable.  The runs go to worker
processes or a Dask cluster (:mod:`sim.experiments.sweep_workers`).
"""

from __future__ import annotations

import dataclasses
import shutil
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
from tqdm import tqdm

from sim.experiments.experiment import Experiment, Run
from sim.experiments.output import OutputError
from sim.experiments.stopping import exit_status
from sim.experiments.sweep_folder import (
    RUNS,
    SERIES,
    check_files,
    finished_files,
    hold,
    prepare,
    read_manifest,
    write_run,
)
from sim.experiments.sweep_workers import DaskPool, LocalPool, SchedulerError, SweepError, drive

# What a sweep is, for callers: run it, read it, and what it raises.
__all__ = ["SchedulerError", "SweepError", "SweepInterrupted", "SweepReport", "default_out",
           "load", "load_series", "run_sweep"]


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


def run_sweep(experiment: Experiment, out: str | Path, *, jobs: int = 1,
              scheduler: str | None = None, resume: bool = False,
              mixed_versions: bool = False, progress: bool = False) -> SweepReport:
    """Run every run of ``experiment`` not yet in ``out`` and write each as it finishes.

    Runs go to ``jobs`` local worker processes, or to the Dask cluster whose scheduler is at
    ``scheduler``; each run's numbers depend only on its scenario, point and seed, so neither
    changes them.  ``out`` must be new or empty unless ``resume``, which needs the same
    experiment's folder, started with the same model code and library versions unless
    ``mixed_versions`` (each resumption is recorded in the manifest).  Raises
    :class:`SweepInterrupted` on Ctrl-C (and SIGTERM, under :func:`~sim.experiments.stopping.
    stop_signals`) and :class:`SweepError` when a run's worker keeps
    dying; the runs written so far are kept either way.
    """
    out = Path(out)
    # Connect first, so that a wrong address leaves no folder behind.
    cluster = DaskPool(scheduler) if scheduler else None
    created = not out.exists()
    try:
        lock = hold(out)
        try:
            done, redone = prepare(out, experiment, resume, mixed_versions)
        except BaseException:
            if created:  # a sweep that never started leaves no folder; the lock keeps others out
                shutil.rmtree(out, ignore_errors=True)
            lock.release()
            raise
    except BaseException:
        if cluster is not None:
            cluster.close(abandon=True)
        raise
    try:
        report = _run_todo(experiment, out, done, cluster, jobs, progress)
    finally:
        lock.release()
    return dataclasses.replace(report, redone=redone)


def _run_todo(experiment: Experiment, out: Path, done: set[str], cluster: DaskPool | None,
              jobs: int, progress: bool) -> SweepReport:
    todo = [run for run in experiment.runs if run.run_id not in done]
    total = len(experiment.runs)
    bar = None
    if progress:
        bar = tqdm(total=total, initial=total - len(todo), unit="run",
                   desc=experiment.name[:40], smoothing=0.1)
    written = 0

    def finished(run: Run, result: tuple[dict, pd.DataFrame | None]) -> None:
        nonlocal written
        try:
            write_run(out, run, *result)
        except OSError as err:
            raise SweepError(
                f"{out}: cannot write run {run.run_id} ({err.strerror or err}); the "
                f"{total - len(todo) + written} finished runs are kept and readable; make room "
                "or make the folder writable, then rerun with --resume") from None
        written += 1
        if bar is not None:
            bar.update(1)

    try:
        pool = cluster or LocalPool(max(1, min(jobs, len(todo))))
        drive(pool, todo, experiment.keep == "series", finished, out)
    except KeyboardInterrupt as stop:
        # Counted on disk: the signal can land after a run's file is in place and before the
        # count above has it.
        kept = len(finished_files(out / RUNS).keys() & {run.run_id for run in experiment.runs})
        raise SweepInterrupted(kept, total, exit_status(stop)) from None
    finally:
        if bar is not None:
            bar.close()
    return SweepReport(out, total, total - len(todo), written)


def load(path: str | Path) -> pd.DataFrame:
    """The finished runs of a sweep folder, one row each, in experiment order.

    Columns: ``run_id``, ``scenario``, ``seed``, ``point``, the varied parameters by their
    dotted names, then the outcomes.  Reads Parquet with pyarrow only (nothing is unpickled),
    and only completed files (temporary dot-files are skipped), so it is safe while a sweep
    runs; each is checked against the sweep's checksums first (one line naming a damaged or
    foreign file).
    """
    path = Path(path)
    manifest = read_manifest(path)
    files = check_files(path, RUNS)
    if not files:
        return pd.DataFrame(columns=["run_id", "scenario", "seed", "point", *manifest["varied"]])
    df = _read(path, files).to_pandas()
    missing = [c for c in ("run_id", "scenario", "seed", "point") if c not in df.columns]
    if missing:
        raise OutputError(f"{path / RUNS}: holds a file that is not a run of this sweep (no "
                          f"{', '.join(missing)}); remove it")
    order = {s["name"]: i for i, s in enumerate(manifest["scenarios"])}
    df = df.assign(_order=df["scenario"].map(order))
    return (df.sort_values(["_order", "point", "seed"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def load_series(path: str | Path) -> pd.DataFrame:
    """The weekly series of every finished run of a ``keep = "series"`` sweep, stacked: one row
    a run and week, keyed by ``run_id`` (join :func:`load` on it for the run's parameters)."""
    path = Path(path)
    read_manifest(path)
    files = check_files(path, SERIES)
    if not files:
        return pd.DataFrame(columns=["run_id", "step"])
    table = _read(path, files)
    return table.to_pandas().sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def _read(path: Path, files: dict[str, Path]) -> pa.Table:
    """The rows of ``files`` as one Arrow table, or one line naming the file that is damaged."""
    try:
        return ds.dataset([str(f) for f in files.values()], format="parquet").to_table()
    except (OSError, pa.ArrowException) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OutputError(f"{path}: a run file is damaged ({first}); delete it and rerun the "
                          "sweep with --resume") from None
