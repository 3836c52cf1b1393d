"""Where a sweep's runs run: local worker processes or a Dask cluster, kept busy, with the runs
lost to a worker that dies run again.

The parent process submits the runs and writes every result (the workers only compute), so a
cluster's workers need no shared disk, and it holds only the runs in flight.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ALL_COMPLETED, Executor, Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.ensemble import most_runs, shape
from sim.experiments import made_by
from sim.experiments.experiment import Run
from sim.experiments.runs import (
    IN_FLIGHT_PER_WORKER,
    flat_summary,
    one_thread,
    run_together,
    worker_pool,
)
from sim.experiments.scheduler_address import not_a_scheduler
from sim.experiments.stopping import completed, stop_now, stops_held

# How many times a run may be in flight in a worker process that dies before the sweep stops.
MAX_ATTEMPTS = 3
TEST_KILL_ENV = "BLOWBACK_TEST_KILL_RUN"


class SweepError(RuntimeError):
    """A sweep that had to stop (one line, for the CLI); finished runs are kept."""


class SchedulerError(SweepError):
    """The Dask scheduler cannot be used as given (a user error)."""


class WorkerCodeError(SweepError):
    """A worker runs other model code or libraries than the sweep, so its runs would differ."""


@functools.cache
def running_code() -> dict[str, str]:
    """What a run's numbers depend on besides its scenario and seed, in this process: the
    library versions and the model's code (its hash, as a sweep's manifest records it)."""
    return {**made_by.versions(), "model code": made_by.model_code()[:12]}


class LocalPool:
    """Worker processes on this machine; a dead worker breaks the pool, which is remade."""

    gave_up: tuple[type[BaseException], ...] = ()

    def __init__(self, jobs: int) -> None:
        self.in_flight = IN_FLIGHT_PER_WORKER * jobs
        self._jobs = jobs
        self.executor: Executor = self._start()

    def _start(self) -> ProcessPoolExecutor:
        return worker_pool(self._jobs)

    def died(self, err: BaseException) -> bool:
        """Whether ``err`` says the run's worker process died (and with it the pool)."""
        return isinstance(err, BrokenProcessPool)

    def restart(self) -> None:
        """Replace the broken pool with fresh workers."""
        with stops_held():
            self.executor.shutdown(wait=False, cancel_futures=True)
            self.executor = self._start()

    def close(self, abandon: bool) -> None:
        """Stop the workers: after their runs, or at once when ``abandon``."""
        if abandon:
            stop_now(self.executor)
            return
        with stops_held():
            self.executor.shutdown(wait=True)


# How often a sweep on a Dask cluster counts its workers' threads again (one call to the
# scheduler): often enough for batch jobs that start late, rarely against a run's length.
RECOUNT_SECONDS = 10.0


class DaskPool:
    """A Dask distributed cluster; Dask itself reruns the tasks of a worker that dies."""

    def __init__(self, address: str) -> None:
        try:
            from distributed import Client, KilledWorker
        except ImportError:
            raise SchedulerError("--scheduler needs dask.distributed, which is not installed; "
                                 "pip install 'blowback[dask]'") from None
        wrong = not_a_scheduler(address)
        if wrong is not None:
            raise SchedulerError(f"--scheduler {address}: {wrong}")
        try:
            self._client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as err:  # the scheduler gone since it answered
            raise SchedulerError(f"--scheduler {address}: cannot connect ({err})") from None
        self._quiet = _DaskQuiet()
        if not self._count():
            # Workers started as batch jobs may join long after the scheduler is up.
            print(f"blowback: no worker has joined the scheduler at {address} yet; waiting for "
                  "one (Ctrl-C to stop)", file=sys.stderr, flush=True)
            self._client.wait_for_workers(1)
        self.executor: Executor = self._client.get_executor(pure=False)
        # Dask reruns the task of a worker that dies, up to distributed.scheduler.allowed-failures
        # times, then fails it with this.
        self.gave_up = (KilledWorker,)
        try:
            _check_workers(self._client, address)
        except BaseException:
            self.close(abandon=True)
            raise

    @property
    def in_flight(self) -> int:
        """Tasks kept submitted: a few a worker thread, the threads counted again every
        :data:`RECOUNT_SECONDS`, so that workers joining during the sweep get their share."""
        if not self._threads or time.monotonic() - self._counted >= RECOUNT_SECONDS:
            self._count()
        return IN_FLIGHT_PER_WORKER * max(self._threads, 1)

    def _count(self) -> int:
        """The workers' threads now (one call to the scheduler), kept with when they were
        counted."""
        self._threads, self._counted = sum(self._client.nthreads().values()), time.monotonic()
        return self._threads

    def died(self, err: BaseException) -> bool:
        """Never: Dask reruns a dead worker's tasks itself, and fails them with ``gave_up``."""
        return False

    def restart(self) -> None:
        """Not needed: a cluster outlives its workers."""
        raise AssertionError("a Dask cluster is never restarted by the sweep")

    def close(self, abandon: bool) -> None:
        """Let go of the cluster, waiting for the runs in flight unless ``abandon``."""
        self._quiet.closing = True
        try:
            self.executor.shutdown(wait=not abandon)
            self._client.close()
        finally:
            self._quiet.restore()


def _check_workers(client: Any, address: str) -> None:
    """Refuse a cluster with a worker that runs other model code or libraries than this
    process, or cannot run its code at all (an older Blowback); workers that join later are
    checked by each of their tasks (:func:`_check_code`)."""
    here = running_code()
    for worker, there in sorted(client.run(running_code, on_error="return").items()):
        if isinstance(there, BaseException):
            found = f"cannot run this Blowback's code ({there})"
        else:
            changed = _differences(here, there, "here", "there")
            if not changed:
                continue
            found = f"runs other code ({changed}), so its runs would differ"
        raise SchedulerError(f"--scheduler {address}: worker {worker} {found}; install this "
                             "Blowback and its libraries on every worker and restart them")


class _DaskQuiet(logging.Filter):
    """While a sweep holds a Dask client, what Dask logs about its own recovery stays out of
    the user's terminal: the client's warnings (a result it could not gather and fetches again),
    the traceback the event loop logs for each run cancelled when the sweep stops, and, while the
    sweep lets go of the cluster, the tracebacks of results still being gathered over the
    connections it closes.  The sweep says itself, in one line, what it did with every run;
    errors of Dask's are still shown."""

    def __init__(self) -> None:
        super().__init__()
        self.closing = False
        # Dask's logging configuration gives some of its loggers levels of their own.
        self._levels = {name: logging.getLogger(name).level
                        for name in ["distributed", *logging.root.manager.loggerDict]
                        if name.startswith("distributed")}
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(max(logging.ERROR, level))
        self._loop = logging.getLogger("tornado.application")
        self._loop.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop an event-loop record whose exception is a cancelled run, and every one logged
        while the client closes."""
        error = record.exc_info[1] if record.exc_info else None
        cancelled = error is not None and "Cancelled" in type(error).__name__
        return not (cancelled or self.closing)

    def restore(self) -> None:
        """The loggers as they were before the client."""
        for name, level in self._levels.items():
            logging.getLogger(name).setLevel(level)
        self._loop.removeFilter(self)


def drive(pool: LocalPool | DaskPool, todo: list[Run], keep_series: bool,
          finished: Callable[[Run, Any], None], out: Path, ensemble: int = 1) -> None:
    """Keep ``pool.in_flight`` tasks submitted, each of up to ``ensemble`` runs of one map size
    advanced together, hand each run's result to ``finished`` as it comes, and resubmit the
    runs lost with a dead worker process.

    A dead worker breaks the whole local pool, and with it every run in flight, so a lost run
    cannot be told from the one that killed its worker.  Lost runs are therefore run again
    alone: one that kills its worker alone is the culprit, and after ``MAX_ATTEMPTS`` losses
    the sweep stops.  The runs of a task that fails with an error are run again alone too, so
    that the error is told with the run it belongs to.
    """
    queue = deque(todo)
    suspects: deque[Run] = deque()
    attempts: Counter[str] = Counter()
    in_flight: dict[Future, list[Run]] = {}
    clean = False
    code = running_code()

    def submit(source: deque[Run], size: int, tasks: int = 1) -> None:
        batch = first_runs(source, size, tasks)
        # Taken off its queue only once submitted: a broken pool refuses it, to be run later.
        with stops_held():
            future = pool.executor.submit(_execute, batch, keep_series, code)
        in_flight[future] = [source.popleft() for _ in batch]

    try:
        while queue or suspects or in_flight:
            broken = False
            try:
                alone = any(attempts[run.run_id] for runs in in_flight.values() for run in runs)
                if suspects and not in_flight:
                    submit(suspects, 1)
                    alone = True
                while not (alone or suspects) and queue and len(in_flight) < pool.in_flight:
                    submit(queue, ensemble, pool.in_flight)
            except BrokenProcessPool:
                broken = True
            complete = completed(in_flight) if in_flight else set()
            lost = _collect(complete, in_flight, pool, finished, out, suspects)
            if not (lost or broken):
                continue
            # Collect what the other runs in flight give (some had finished) and start afresh.
            lost += _collect(completed(in_flight, ALL_COMPLETED), in_flight, pool, finished, out,
                             suspects)
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


def first_runs(queue: deque[Run], size: int, tasks: int = 1) -> list[Run]:
    """The runs at the head of ``queue`` that one task advances together, all of the first
    one's map size and length: at most ``size``, as many as fit in an ensemble's memory
    (:func:`~sim.core.ensemble.most_runs`), and no more than an even share of the queue among
    ``tasks`` tasks in flight, so that the last runs of a sweep are spread over its workers."""
    head = _params(queue[0])
    size = min(size, most_runs(head), -(-len(queue) // tasks))
    head_shape = shape(head)
    batch = [queue[0]]
    while len(batch) < size and shape(_params(queue[len(batch)])) == head_shape:
        batch.append(queue[len(batch)])
    return batch


def _params(run: Run) -> dict[str, Any]:
    return {**run.base.params, **run.values}


def _collect(complete: set[Future], in_flight: dict[Future, list[Run]],
             pool: LocalPool | DaskPool, finished: Callable[[Run, Any], None], out: Path,
             alone: deque[Run]) -> list[Run]:
    """Hand the results of ``complete`` to ``finished``; return the runs lost with a worker,
    and put those of a task of several runs that failed in ``alone``."""
    lost = []
    # In the order the tasks were submitted, not the set's: tasks that end together (short runs,
    # one worker) write their runs to the shards in the same order on every sweep.
    for future in [f for f in in_flight if f in complete]:
        runs = in_flight.pop(future)
        with stops_held():
            err = future.exception()
            results = future.result() if err is None else None
        if err is None:
            for run, result in zip(runs, results, strict=True):
                finished(run, result)
        elif isinstance(err, WorkerCodeError):
            raise WorkerCodeError(f"{err}; the finished runs are kept in {out}; install this "
                                 "Blowback and its libraries on every worker, then rerun with "
                                 "--resume") from None
        elif pool.died(err):
            lost.extend(runs)
        elif len(runs) > 1 or dropped_by_dask(err):
            alone.extend(runs)
        else:
            _fail(runs[0], err, pool, out)
    return lost


def dropped_by_dask(err: BaseException) -> bool:
    """Whether ``err`` is no error of the run's but Dask's: a task whose worker died can end
    neither finished nor failed while the scheduler recovers, and distributed's wrapper of it as a
    ``concurrent.futures`` future then fails unpacking its state (a ``ValueError`` raised in
    ``distributed/cfexecutor.py``). Such a run is run again, alone."""
    innermost = err.__traceback__
    while innermost is not None and innermost.tb_next is not None:
        innermost = innermost.tb_next
    return (isinstance(err, ValueError) and innermost is not None
            and Path(innermost.tb_frame.f_code.co_filename).parts[-2:]
            == ("distributed", "cfexecutor.py"))


def _fail(run: Run, err: BaseException, pool: LocalPool | DaskPool, out: Path) -> None:
    if isinstance(err, pool.gave_up):
        raise SweepError(
            f"run {run.run_id} ({run.scenario}, point {run.point}, seed {run.seed}) killed "
            f"its Dask workers until the scheduler gave up; the finished runs are kept in {out}; "
            "rerun with --resume") from None
    err.add_note(f"in run {run.run_id} ({run.scenario}, point {run.point}, seed {run.seed}); "
                 f"the finished runs are kept in {out}")
    raise err


# --- in the worker ----------------------------------------------------------------------------


def _execute(runs: list[Run], keep_series: bool,
             code: dict[str, str]) -> list[tuple[dict[str, Any], pd.DataFrame | None]]:
    """Simulate runs together (in a worker): each one's row of outcomes and, if kept, its
    weekly series; none if the worker runs other code than ``code``, the sweep's."""
    _check_code(code)
    for run in runs:
        _test_kill_hook(run.run_id)
    # Here too: a Dask worker runs no initializer, and numba's thread count is per thread.
    one_thread()
    done = run_together([(run.spec, run.seed, None) for run in runs])
    out = []
    for run, (summ, series) in zip(runs, done, strict=True):
        row: dict[str, Any] = {"run_id": run.run_id, "scenario": run.scenario, "seed": run.seed,
                               "point": run.point, **run.values, **flat_summary(summ)}
        out.append((row, series.assign(run_id=run.run_id)[["run_id", *series.columns]]
                    if keep_series else None))
    return out


def _check_code(wanted: dict[str, str]) -> None:
    """Refuse to run in a worker whose model code or libraries differ from the sweep's
    (``wanted``): a cluster's workers import their own installation of Blowback, and its rows
    would be written as the sweep's."""
    changed = _differences(wanted, running_code(), "in the sweep", "here")
    if changed:
        raise WorkerCodeError(f"a worker on {socket.gethostname()} runs other code than the "
                             f"sweep ({changed}), so its runs would differ")


def _differences(wanted: dict[str, str], found: dict[str, str], wanted_at: str,
                 found_at: str) -> str:
    """Each entry of :func:`running_code` that differs between two processes, with both values
    ("numba 0.68.1 here, 0.61.0 there"), or "" where none does."""
    return "; ".join(f"{key} {wanted[key]} {wanted_at}, {found.get(key)} {found_at}"
                     for key in sorted(wanted) if found.get(key) != wanted[key])


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
