"""Run a Blowback sweep on a SLURM or PBS cluster, its workers started by dask-jobqueue.

Run it where jobs can be submitted (a login node, or a small long job of its own). It starts a
Dask scheduler in this process, asks the queue for ``--jobs`` worker jobs of ``--cores`` cores
each (one single-threaded Dask worker a core: a run is single-threaded Python and numba), waits
for their workers, then runs ``blowback sweep EXPERIMENT --scheduler <its address>`` with every
other option given here (``--out``, ``--resume``, ``--mixed-versions``, ``--ensemble``). This
process writes every result into the sweep folder; the workers only compute. A worker job that is
pre-empted or reaches its walltime is replaced by a new one. Leaving (the sweep's end, Ctrl-C, an
error) cancels the worker jobs.

    python docs/cluster/sweep_on_cluster.py EXPERIMENT --out OUT --jobs 4 --cores 16 \\
        --memory 32GiB --walltime 04:00:00 [--queue Q] [--account A] [--pbs] [--dry-run]

``--dry-run`` prints the worker job script and submits nothing. ``--local`` starts the workers
as processes of this machine through dask-jobqueue's own ``LocalCluster`` (the same machinery
without a queue), to try the script out.
"""

from __future__ import annotations

import argparse
import logging
import re
import shlex
import signal
import sys
import time
from pathlib import Path

from dask.utils import format_bytes, parse_bytes
from dask_jobqueue import JobQueueCluster, PBSCluster, SLURMCluster
from dask_jobqueue.local import LocalCluster
from distributed import Client
from distributed.core import Status

from sim.core.scenario import ScenarioError
from sim.experiments.experiment import load_experiment
from sim.experiments.output import OutputError
from sim.experiments.stopping import exit_status, stop_signals
from sim.experiments.sweep import default_out
from sim.experiments.sweep_folder import check
from sim.interfaces.cli import argument_parser
from sim.interfaces.cli import main as blowback

# Any address: the sweep's options are parsed before there is a scheduler.
_NO_SCHEDULER_YET = "tcp://127.0.0.1:8786"


def _count(text: str) -> int:
    """A count of jobs or cores: a whole number, 1 or more."""
    if not re.fullmatch(r"\d+", text.strip()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a whole number, 1 or more")
    return int(text)


# Memory below which a worker is warned of: a sweep's worker process making default runs peaks
# at 350-550 MB (docs/PERFORMANCE.md), and Dask stops a worker near its limit.
WORKER_MEMORY = 2**30


def _memory(text: str) -> str:
    """A job's memory, a number and its unit (32GiB, 500MB), at least a MiB.  A bare number is
    refused whatever its size: Dask would read it as bytes, where a user writing ``--memory
    32000`` most likely meant megabytes, and the job would fail on the node, not here."""
    try:
        size = parse_bytes(text) if re.fullmatch(r"\s*\d+(\.\d+)?\s*[A-Za-z]+\s*", text) \
            else 0
    except ValueError:
        size = 0
    if size < 2**20:
        raise argparse.ArgumentTypeError(f"{text!r}: a size with its unit, at least 1MiB "
                                         "(e.g. 32GiB)")
    return text.strip()


def _walltime(text: str) -> str:
    """A time limit as both SLURM and PBS read it: hours:minutes:seconds."""
    if not re.fullmatch(r"\d+:[0-5]\d:[0-5]\d", text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r}: hours:minutes:seconds (e.g. 04:00:00)")
    return text.strip()


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    """This script's options, and the rest: the options of ``blowback sweep``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], allow_abbrev=False)
    parser.add_argument("experiment", help="experiment file (TOML)")
    queue = parser.add_mutually_exclusive_group()
    queue.add_argument("--pbs", action="store_true", help="PBS or Torque (qsub), not SLURM")
    queue.add_argument("--local", action="store_true",
                       help="jobs as local processes (dask-jobqueue's LocalCluster), to try it")
    parser.add_argument("--jobs", type=_count, default=1, help="worker jobs to submit (1)")
    parser.add_argument("--cores", type=_count, default=1,
                        help="cores a job, each one single-threaded Dask worker (1)")
    parser.add_argument("--memory", type=_memory, default="4GiB", help="memory a job (4GiB)")
    parser.add_argument("--walltime", type=_walltime, default="01:00:00",
                        help="a job's time limit, hours:minutes:seconds (01:00:00)")
    parser.add_argument("--queue", help="partition (SLURM) or queue (PBS)")
    parser.add_argument("--account", help="account charged for the jobs")
    parser.add_argument("--interface", help="network interface of the workers, e.g. ib0")
    parser.add_argument("--prologue", action="append", default=[], metavar="COMMAND",
                        help="a command the job runs before its workers (e.g. module load ...)")
    parser.add_argument("--wait", type=float, default=3600.0, metavar="SECONDS",
                        help="longest wait for the workers to join (3600)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the worker job script, submit nothing")
    args, rest = parser.parse_known_args(argv)
    if args.local and re.search(r"\s", sys.executable):
        # dask-jobqueue's local job splits its command at whitespace, quotes or not.
        parser.error(f"--local: this interpreter's path has a space ({sys.executable}), which "
                     "dask-jobqueue's local jobs cannot start; use a checkout without one")
    return args, rest


def check_sweep(experiment: str, sweep_args: list[str]) -> str | None:
    """What ``blowback sweep`` would refuse in its options, its experiment or its folder, said
    in the sweep's own words before a job waits in the queue for it; None if nothing. A wrong
    option exits here, as ``blowback`` does, with its usage."""
    args = argument_parser().parse_args(["sweep", experiment, "--scheduler",
                                         _NO_SCHEDULER_YET, *sweep_args])
    try:
        found = load_experiment(args.experiment)
        check(Path(args.out or default_out(found)), found, args.resume, args.mixed_versions)
    except (ScenarioError, OutputError) as err:
        return str(err)
    return None


class _Refusals(logging.Filter):
    """The queue's refusals of the worker jobs (``sbatch`` or ``qsub`` missing, or refusing a
    job), kept for the wait to stop on and to say in one line; the traceback that the event
    loop logs for each is held back."""

    def __init__(self) -> None:
        super().__init__()
        self.errors: list[BaseException] = []
        logging.getLogger("tornado.application").addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        """Drop the record of a refusal already kept."""
        return not (record.exc_info and record.exc_info[1] in self.errors)

    def first(self) -> str | None:
        """What the queue said of the first job it refused, or None."""
        if not self.errors:
            return None
        err = self.errors[0]
        if isinstance(err, FileNotFoundError):
            return f"{err.filename} not found: run this where jobs are submitted"
        said = str(err).partition("stderr:\n")[2].strip() or str(err).strip()
        return said.splitlines()[0] if said else type(err).__name__


REFUSALS = _Refusals()


def _reported(job_cls: type) -> type:
    """``job_cls`` with its failures to submit kept in :data:`REFUSALS`."""

    class Reported(job_cls):
        async def _submit_job(self, script_filename):
            try:
                return await super()._submit_job(script_filename)
            except Exception as err:
                REFUSALS.errors.append(err)
                self.status = Status.failed  # what distributed expects of it when it closes
                raise

    return Reported


def wait_for_workers(client: Client, workers: int, seconds: float) -> str | None:
    """Wait for ``workers`` workers, at most ``seconds``; what went wrong, or None."""
    deadline = time.monotonic() + seconds
    while (refused := REFUSALS.first()) is None:
        left = deadline - time.monotonic()
        if left <= 0:
            return (f"fewer than {workers} workers joined within {seconds:g} s (--wait); see "
                    "the queue's state of the jobs")
        try:
            client.wait_for_workers(workers, timeout=min(left, 1.0))
            return None
        except TimeoutError:
            continue
    return (f"the queue did not take a worker job ({refused}); check its options with "
            "--dry-run")


def build_cluster(args: argparse.Namespace) -> JobQueueCluster:
    """The dask-jobqueue cluster the options ask for; nothing is submitted until it scales."""
    # The interpreter's path is a word of the job's shell script, quoted where it has spaces.
    common = dict(cores=args.cores, processes=args.cores, memory=args.memory,
                  interface=args.interface, python=shlex.quote(sys.executable))
    if args.local:
        # A scheduler that only this machine can reach, on ports the system picks (its web
        # server would otherwise take 8787 even without a dashboard, and a second try on the
        # same machine would fail to start); a local job runs its script's words as one
        # command, so it takes no prologue.
        return LocalCluster(**common, scheduler_options={"host": "127.0.0.1", "port": 0,
                                                         "dashboard_address": ":0"})
    queue_cls = PBSCluster if args.pbs else SLURMCluster
    return queue_cls(**common, walltime=args.walltime, queue=args.queue, account=args.account,
                     job_script_prologue=args.prologue, job_cls=_reported(queue_cls.job_cls))


def main(argv: list[str] | None = None) -> int:
    """Submit the worker jobs, run the sweep on them, cancel them; the sweep's exit status."""
    args, sweep_args = parse(argv)
    wrong = check_sweep(args.experiment, sweep_args)
    if wrong is not None:
        print(f"sweep_on_cluster: error: {wrong}; no job was submitted", file=sys.stderr)
        return 2
    each = parse_bytes(args.memory) / args.cores
    if each < WORKER_MEMORY:
        print(f"sweep_on_cluster: warning: --memory {args.memory} over {args.cores} workers "
              f"leaves each {format_bytes(each)}; a worker making default runs peaks at about "
              "0.5 GiB: give at least 1GiB a core", file=sys.stderr)
    # Ctrl-C and SIGTERM as exceptions (dask-jobqueue makes Ctrl-C a silent exit with status 0,
    # and SIGTERM would kill the script outright), so that the jobs are cancelled on the way out;
    # within the sweep, blowback says itself what it kept.
    with stop_signals():
        try:
            return _on_the_jobs(args, sweep_args)
        except KeyboardInterrupt as stop:
            print("sweep_on_cluster: interrupted before the sweep started; the worker jobs are "
                  "cancelled", file=sys.stderr)
            return exit_status(stop)


def _on_the_jobs(args: argparse.Namespace, sweep_args: list[str]) -> int:
    """Submit the worker jobs, run the sweep on them, cancel them; the sweep's exit status."""
    with build_cluster(args) as cluster:
        if args.dry_run:
            print(cluster.job_script())
            return 0
        # Adaptive with a fixed size rather than scale(): it submits a new job for each one
        # that is pre-empted or reaches its walltime, whose runs Dask reruns meanwhile.
        adaptive = cluster.adapt(minimum_jobs=args.jobs, maximum_jobs=args.jobs)
        workers = args.jobs * args.cores
        # The sweep would take the workers as they join (it counts them every 10 s); waiting
        # for them all says a job the queue holds back or refuses here, before any run starts.
        with Client(cluster) as client:
            wrong = wait_for_workers(client, workers, args.wait)
        if wrong is not None:
            adaptive.stop()
            # A job the queue refused has no id to cancel.
            for name, job in list(cluster.workers.items()):
                if job.status == Status.failed:
                    del cluster.workers[name]
            print(f"sweep_on_cluster: error: {wrong}", file=sys.stderr)
            return 1
        status = blowback(["sweep", args.experiment, "--scheduler", cluster.scheduler_address,
                           *sweep_args])
        if status in (128 + signal.SIGINT, 128 + signal.SIGTERM):
            # The sweep's line names the command that finishes it, with this script's scheduler.
            print("sweep_on_cluster: the scheduler that line names was this script's and has "
                  "left with its jobs: to finish the sweep, run this script again with --resume "
                  "added", file=sys.stderr)
        return status


if __name__ == "__main__":
    sys.exit(main())
