"""Sweeps: run every run of an experiment in worker processes or on a Dask cluster, resumably.

A sweep folder holds::

    manifest.json            the experiment (hash, text, design, seeds), each scenario's resolved
                             parameters, versions and git commit; written before the first run
    runs/<run_id>.parquet    one row a finished run: ids, varied values and summary outcomes
    series/<run_id>.parquet  its weekly series (only with keep = "series")
    .lock                    locked (flock) by the sweep writing the folder: a second is refused

Each file is written under a temporary dot-name in its folder, flushed to disk and renamed into
place, and a run's row is written last, so a row file exists only for a run whose outputs are
complete: ``--resume`` skips exactly those.  A write that fails (a full disk, a folder gone
read-only) stops the sweep with :class:`SweepError`; the finished runs stay readable.  The
parent process writes every file (the workers only compute), so a cluster's workers need no
shared disk, and it holds only the runs in flight.
"""

from __future__ import annotations

import contextlib
import datetime
import fcntl
import json
import multiprocessing
import os
import shutil
import signal
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.experiments.experiment import Experiment, Run
from sim.experiments.output import OutputError, write_atomic
from sim.experiments.results import git_commit, model_code, versions
from sim.experiments.runs import flat_summary, one_thread, run_one

MANIFEST = "manifest.json"
LOCK = ".lock"
RUNS = "runs"
SERIES = "series"
FORMAT = "blowback-sweep/1"
# How many times a run may be in flight in a worker process that dies before the sweep stops.
MAX_ATTEMPTS = 3
# Runs queued per worker: enough to keep every worker busy, few enough to bound the memory of
# the parent, which holds the results of the runs in flight.
IN_FLIGHT_PER_WORKER = 4
TEST_KILL_ENV = "BLOWBACK_TEST_KILL_RUN"


class SweepError(RuntimeError):
    """A sweep that had to stop (one line, for the CLI); finished runs are kept."""


class SchedulerError(SweepError):
    """The Dask scheduler cannot be used as given (a user error)."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; ``done`` of ``total`` runs are written and kept."""

    def __init__(self, done: int, total: int) -> None:
        super().__init__(f"{done} of {total} runs done")
        self.done = done
        self.total = total


@dataclass(frozen=True)
class SweepReport:
    """What a sweep did: ``written`` runs now, ``skipped`` found done, of ``total``."""

    out: Path
    total: int
    skipped: int
    written: int


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
    :class:`SweepInterrupted` on Ctrl-C and :class:`SweepError` when a run's worker keeps
    dying; the runs written so far are kept either way.
    """
    out = Path(out)
    # Connect first, so that a wrong address leaves no folder behind.
    cluster = _DaskPool(scheduler) if scheduler else None
    created = not out.exists()
    try:
        lock = _hold(out)
        try:
            done = _prepare(out, experiment, resume, mixed_versions)
        except BaseException:
            if created:  # a sweep that never started leaves no folder; the lock keeps others out
                shutil.rmtree(out, ignore_errors=True)
            os.close(lock)
            raise
    except BaseException:
        if cluster is not None:
            cluster.close(abandon=True)
        raise
    try:
        return _run_todo(experiment, out, done, cluster, jobs, progress)
    finally:
        os.close(lock)


def _run_todo(experiment: Experiment, out: Path, done: set[str], cluster: _DaskPool | None,
              jobs: int, progress: bool) -> SweepReport:
    todo = [run for run in experiment.runs if run.run_id not in done]
    total = len(experiment.runs)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=total, initial=total - len(todo), unit="run",
                   desc=experiment.name[:40], smoothing=0.1)
    written = 0

    def finished(run: Run, result: tuple[dict, pd.DataFrame | None]) -> None:
        nonlocal written
        try:
            _write(out, run, *result)
        except OSError as err:
            raise SweepError(
                f"{out}: cannot write run {run.run_id} ({err.strerror or err}); the "
                f"{total - len(todo) + written} finished runs are kept and readable; make room "
                "or make the folder writable, then rerun with --resume") from None
        written += 1
        if bar is not None:
            bar.update(1)

    try:
        pool = cluster or _LocalPool(max(1, min(jobs, len(todo))))
        _drive(pool, todo, experiment.keep == "series", finished, out)
    except KeyboardInterrupt:
        raise SweepInterrupted(total - len(todo) + written, total) from None
    finally:
        if bar is not None:
            bar.close()
    return SweepReport(out, total, total - len(todo), written)


def load(path: str | Path) -> pd.DataFrame:
    """The finished runs of a sweep folder, one row each, in experiment order.

    Columns: ``run_id``, ``scenario``, ``seed``, ``point``, the varied parameters by their
    dotted names, then the outcomes.  Reads Parquet with pyarrow only (nothing is unpickled),
    and only completed files (temporary dot-files are skipped), so it is safe while a sweep
    runs.
    """
    path = Path(path)
    manifest = _read_manifest(path)
    files = _finished_files(path / RUNS)
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
    _read_manifest(path)
    files = _finished_files(path / SERIES)
    if not files:
        return pd.DataFrame(columns=["run_id", "step"])
    table = _read(path, files)
    return table.to_pandas().sort_values(["run_id", "step"], kind="stable").reset_index(drop=True)


def _read(path: Path, files: dict[str, Path]):
    """The rows of ``files`` as one Arrow table, or one line naming the file that is damaged."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        return ds.dataset([str(f) for f in files.values()], format="parquet").to_table()
    except (OSError, pa.ArrowException) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise OutputError(f"{path}: a run file is damaged ({first}); delete it and rerun the "
                          "sweep with --resume") from None


# --- the folder -----------------------------------------------------------------------------


def _hold(out: Path) -> int:
    """Create ``out`` if needed and lock it for this sweep; return the lock's descriptor, whose
    closing releases it.  The system drops the lock of a process that dies, so a killed
    sweep never blocks its ``--resume``."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder; choose another --out")
    if out.is_dir() and not (out / MANIFEST).exists() and any(
            p.name != LOCK for p in out.iterdir()):
        # Refused before the lock file is made: nothing is left in a folder that is not ours.
        raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder for "
                          "--out")
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
        fd = os.open(out / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        if created:
            with contextlib.suppress(OSError):
                out.rmdir()  # only while empty: never another sweep's folder
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose "
                          "another --out") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip() or "?"
        os.close(fd)
        raise OutputError(f"{out}: another sweep (process {holder}) is writing to this folder; "
                          "wait for it to end, or choose another --out") from None
    # The process id only names the holder in another sweep's refusal: a full disk may keep it.
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


def _prepare(out: Path, experiment: Experiment, resume: bool, mixed_versions: bool) -> set[str]:
    """Check ``out`` and return the ids of the runs already written there."""
    try:
        return _check_or_start(out, experiment, resume, mixed_versions)
    except OSError as err:
        raise OutputError(f"{out}: cannot write there ({err.strerror or err}); choose "
                          "another --out") from None


def _check_or_start(out: Path, experiment: Experiment, resume: bool,
                    mixed_versions: bool) -> set[str]:
    if any(p.name != LOCK for p in out.iterdir()):
        if not (out / MANIFEST).is_file():
            raise OutputError(f"{out}: not empty and not a sweep folder; choose a new folder "
                              "for --out")
        manifest = _read_manifest(out)
        theirs = manifest.get("experiment_hash", "")
        ours = experiment.content_hash
        if theirs != ours:
            if resume:
                raise OutputError(
                    f"{out}: holds a sweep of another experiment or other scenario files "
                    f"({theirs[:10]}, not {ours[:10]}); resume it with the experiment it was "
                    "started with, or choose a new --out")
            raise OutputError(f"{out}: holds another sweep; choose a new folder for --out")
        done = set(_finished_files(out / RUNS))
        if not resume:
            raise OutputError(
                f"{out}: already holds {len(done)} of {len(experiment.runs)} runs of this "
                "experiment; add --resume to finish it, or choose a new --out")
        # Before anything in the folder is touched: a refusal leaves it as it was.
        now = _code_and_versions()
        _check_same_code(out, manifest, now, mixed_versions)
        for folder in (out / RUNS, out / SERIES):
            if folder.is_symlink():
                # Followed, it would write outside the folder the user named.
                raise OutputError(f"{folder}: is a link, not a folder of this sweep; a sweep "
                                  "writes only inside its --out")
            # Left by a sweep killed while writing; a finished file never has a dot-name.
            for stale in folder.glob(".*.tmp"):
                stale.unlink(missing_ok=True)
            for file in _finished_files(folder).values():
                if not _whole(file):
                    file.unlink()
        done = set(_finished_files(out / RUNS))
        manifest.setdefault("resumptions", []).append({
            "at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
            "runs_done": len(done), **now})
        _write_manifest(out, manifest)
        return done
    (out / RUNS).mkdir(parents=True, exist_ok=True)
    if experiment.keep == "series":
        (out / SERIES).mkdir(exist_ok=True)
    _write_manifest(out, _manifest(experiment))
    return set()


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    write_atomic(out / MANIFEST,
                  lambda tmp: tmp.write_text(json.dumps(manifest, indent=2, default=str) + "\n"))


def _code_and_versions() -> dict[str, Any]:
    """What a run's numbers depend on besides its scenario and seed, and the commit."""
    return {"model_code": model_code(), "versions": versions(), "git_commit": git_commit()}


def _manifest(experiment: Experiment) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "experiment_hash": experiment.content_hash,
        "experiment_file": str(experiment.path),
        "experiment_text": experiment.text,
        "name": experiment.name,
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "seeds": experiment.seeds,
        "steps": experiment.steps,
        "keep": experiment.keep,
        "sampler": experiment.sampler,
        "varied": experiment.varied,
        "points": experiment.points,
        "runs": len(experiment.runs),
        "scenarios": [
            {"name": name, "file": experiment.scenario_files[name],
             "scenario_hash": s.content_hash, "parameters": s.params,
             "events": [{"date": e.date, "step": e.step, "type": e.type, **e.fields}
                        for e in s.events]}
            for name, s in experiment.scenarios.items()
        ],
        **_code_and_versions(),
    }


def _check_same_code(out: Path, manifest: dict[str, Any], now: dict[str, Any],
                     mixed_versions: bool) -> None:
    """Refuse to add runs made by other model code or libraries (``now``, as
    :func:`_code_and_versions` gives them) than the finished ones, whose numbers could differ
    for the same run, unless the user says the mix is wanted."""
    then = dict(manifest.get("versions") or {})
    if "model_code" in manifest:
        then["model code"] = str(manifest["model_code"])[:12]
    current = now["versions"] | {"model code": now["model_code"][:12]}
    changed = [f"{k} {then[k]} -> {current[k]}" for k in sorted(then)
               if k in current and then[k] != current[k]]
    if changed and not mixed_versions:
        raise OutputError(
            f"{out}: was started with other versions ({'; '.join(changed)}), so its runs and new "
            "ones could differ; resume with the versions it was started with, choose a new "
            "--out, or add --mixed-versions to finish it anyway (recorded in the manifest)")


def _read_manifest(out: Path) -> dict[str, Any]:
    try:
        doc = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OutputError(f"{out}: not a sweep folder (no {MANIFEST})") from None
    except (OSError, ValueError) as err:
        raise OutputError(f"{out / MANIFEST}: unreadable ({err})") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise OutputError(f"{out / MANIFEST}: not a Blowback sweep manifest ({FORMAT})")
    return doc


def _whole(file: Path) -> bool:
    """Whether a Parquet file ends with its footer's magic bytes: one cut short (by a crash of
    the machine, or a copy) does not, and is run again on ``--resume``."""
    with file.open("rb") as f:
        size = f.seek(0, os.SEEK_END)
        if size < 8:
            return False
        f.seek(-4, os.SEEK_END)
        return f.read(4) == b"PAR1"


def _finished_files(folder: Path) -> dict[str, Path]:
    """``run_id -> file`` of the completed Parquet files in ``folder``."""
    if not folder.is_dir():
        return {}
    return {p.stem: p for p in sorted(folder.glob("*.parquet")) if not p.name.startswith(".")}


def _write(out: Path, run: Run, row: dict[str, Any], series: pd.DataFrame | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if series is not None:
        table = pa.Table.from_pandas(series, preserve_index=False)
        write_atomic(out / SERIES / f"{run.run_id}.parquet",
                      lambda tmp: pq.write_table(table, tmp))
    # The row last: its file is the mark that the run is complete.
    write_atomic(out / RUNS / f"{run.run_id}.parquet",
                  lambda tmp: pq.write_table(pa.Table.from_pylist([row]), tmp))


# --- running ------------------------------------------------------------------------------


class _LocalPool:
    """Worker processes on this machine; a dead worker breaks the pool, which is remade."""

    gave_up: tuple[type[BaseException], ...] = ()

    def __init__(self, jobs: int) -> None:
        self.in_flight = IN_FLIGHT_PER_WORKER * jobs
        self._jobs = jobs
        self.executor: Executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        # "spawn": a fork of a parent with numba's threads running can deadlock.
        return ProcessPoolExecutor(max_workers=self._jobs,
                                   mp_context=multiprocessing.get_context("spawn"),
                                   initializer=_init_worker, initargs=(os.getpid(),))

    def died(self, err: BaseException) -> bool:
        return isinstance(err, BrokenProcessPool)

    def restart(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.executor = self._start()

    def close(self, abandon: bool) -> None:
        if not abandon:
            self.executor.shutdown(wait=True)
            return
        # Without this the interpreter would wait at exit for the runs the workers hold.
        # (shutdown forgets the processes, so they are taken first.)
        processes = list((getattr(self.executor, "_processes", None) or {}).values())
        self.executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()


class _DaskPool:
    """A Dask distributed cluster; Dask itself reruns the tasks of a worker that dies."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client, KilledWorker
        except ImportError:
            raise SchedulerError("--scheduler needs dask.distributed, which is not installed; "
                                 "pip install 'blowback[dask]'") from None
        try:
            self._client = Client(address, timeout="20s")
        except (OSError, TimeoutError, ValueError) as err:
            raise SchedulerError(f"--scheduler {address}: cannot connect ({err})") from None
        threads = sum(self._client.nthreads().values())
        self.in_flight = IN_FLIGHT_PER_WORKER * max(threads, 1)
        self.executor: Executor = self._client.get_executor(pure=False)
        # Dask reruns the task of a worker that dies, up to distributed.scheduler.allowed-failures
        # times, then fails it with this.
        self.gave_up = (KilledWorker,)

    def died(self, err: BaseException) -> bool:
        return False

    def restart(self) -> None:
        raise AssertionError("a Dask cluster is never restarted by the sweep")

    def close(self, abandon: bool) -> None:
        self.executor.shutdown(wait=not abandon)
        self._client.close()


def _drive(pool: _LocalPool | _DaskPool, todo: list[Run], keep_series: bool,
           finished: Callable[[Run, Any], None], out: Path) -> None:
    """Keep ``pool.in_flight`` runs submitted, hand each result to ``finished`` as it comes,
    and resubmit the runs lost with a dead worker process.

    A dead worker breaks the whole local pool, and with it every run in flight, so a lost run
    cannot be told from the one that killed its worker.  Lost runs are therefore run again
    alone: one that kills its worker alone is the culprit, and after ``MAX_ATTEMPTS`` losses
    the sweep stops.
    """
    queue = deque(todo)
    suspects: deque[Run] = deque()
    attempts: Counter[str] = Counter()
    in_flight: dict[Future, Run] = {}
    clean = False

    def submit(source: deque[Run]) -> None:
        # Taken off its queue only once submitted: a broken pool refuses it, to be run later.
        future = pool.executor.submit(_execute, source[0], keep_series)
        in_flight[future] = source.popleft()

    try:
        while queue or suspects or in_flight:
            broken = False
            try:
                alone = any(attempts[run.run_id] for run in in_flight.values())
                if suspects and not in_flight:
                    submit(suspects)
                    alone = True
                while not (alone or suspects) and queue and len(in_flight) < pool.in_flight:
                    submit(queue)
            except BrokenProcessPool:
                broken = True
            complete = wait(in_flight, return_when=FIRST_COMPLETED).done if in_flight else set()
            lost = _collect(complete, in_flight, pool, finished, out)
            if not (lost or broken):
                continue
            # Collect what the other runs in flight give (some had finished) and start afresh.
            lost += _collect(wait(in_flight).done, in_flight, pool, finished, out)
            for run in lost:
                attempts[run.run_id] += 1
                if attempts[run.run_id] >= MAX_ATTEMPTS:
                    raise SweepError(
                        f"run {run.run_id} ({run.scenario}, point {run.point}, seed {run.seed}) "
                        f"killed its worker process {MAX_ATTEMPTS} times (alone after the "
                        f"first); the finished runs are kept in {out}; rerun with --resume")
            suspects.extend(lost)
            pool.restart()
        clean = True
    finally:
        pool.close(abandon=not clean)


def _collect(complete: set[Future], in_flight: dict[Future, Run], pool: _LocalPool | _DaskPool,
             finished: Callable[[Run, Any], None], out: Path) -> list[Run]:
    """Hand the results of ``complete`` to ``finished``; return the runs lost with a worker."""
    lost = []
    for future in complete:
        run = in_flight.pop(future)
        err = future.exception()
        if err is None:
            finished(run, future.result())
        elif pool.died(err):
            lost.append(run)
        else:
            _fail(run, err, pool, out)
    return lost


def _fail(run: Run, err: BaseException, pool: _LocalPool | _DaskPool, out: Path) -> None:
    if isinstance(err, pool.gave_up):
        raise SweepError(
            f"run {run.run_id} ({run.scenario}, point {run.point}, seed {run.seed}) killed "
            f"its Dask workers until the scheduler gave up; the finished runs are kept in {out}; "
            "rerun with --resume") from None
    err.add_note(f"in run {run.run_id} ({run.scenario}, point {run.point}, seed {run.seed}); "
                 f"the finished runs are kept in {out}")
    raise err


# --- in the worker ----------------------------------------------------------------------------


def _init_worker(parent: int) -> None:
    # Ctrl-C reaches the whole process group: the parent alone stops the sweep and the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    one_thread()


def _exit_with_parent(parent: int) -> None:
    # A worker whose parent was killed would otherwise wait for work forever.
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _execute(run: Run, keep_series: bool) -> tuple[dict[str, Any], pd.DataFrame | None]:
    """Simulate one run (in a worker): its row of outcomes and, if kept, its weekly series."""
    _test_kill_hook(run.run_id)
    # Here too: a Dask worker runs no initializer, and numba's thread count is per thread.
    one_thread()
    summ, series = run_one(run.spec, run.seed, None)
    row: dict[str, Any] = {"run_id": run.run_id, "scenario": run.scenario, "seed": run.seed,
                           "point": run.point, **run.values, **flat_summary(summ)}
    if not keep_series:
        return row, None
    return row, series.assign(run_id=run.run_id)[["run_id", *series.columns]]


def _test_kill_hook(run_id: str) -> None:
    """Test hook, for the tests of worker deaths only: ``BLOWBACK_TEST_KILL_RUN=<run_id>`` makes
    the worker process die whenever it starts that run; ``<run_id>:<file>`` only if ``file``
    does not exist yet (the hook creates it, so the worker dies once)."""
    hook = os.environ.get(TEST_KILL_ENV)
    if not hook:
        return
    target, _, marker = hook.partition(":")
    if target != run_id:
        return
    if marker:
        try:
            os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return
    os._exit(1)
