"""The cluster job script of docs/cluster/: a sweep through dask-jobqueue gives the rows of a
local sweep, resumes after a failure, and asks the queue for what it was told to."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, blowback

from sim.experiments.experiment import load_experiment
from sim.experiments.sweep import default_out, load
from sim.experiments.sweep_workers import TEST_KILL_ENV

pytest.importorskip("dask_jobqueue")

SCRIPT = ROOT / "docs" / "cluster" / "sweep_on_cluster.py"


def _experiment(folder: Path) -> Path:
    """Two shipped regimes shrunk to 300 communities, 12 weeks, 3 seeds: six runs."""
    names = ("partner_led", "contractor_unchecked")
    for name in names:
        (folder / f"{name}.toml").write_text(
            f'extends = "{ROOT / "scenarios" / name}.toml"\n[map]\ncommunities = 300\n')
    path = folder / "exp.toml"
    path.write_text(f"scenarios = {[f'{n}.toml' for n in names]}\nseeds = 3\nsteps = 12\n"
                    .replace("'", '"'))
    return path


def _script(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The job script run as a user runs it, with this checkout's ``sim`` in its workers too."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=180)


def _by_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("run_id").reset_index(drop=True)


def test_a_sweep_on_the_jobs_resumes_and_gives_the_rows_of_a_local_sweep(tmp_path, capsys):
    exp = _experiment(tmp_path)
    status, _, err = blowback(capsys, "sweep", str(exp), "--jobs", "1", "--out",
                              str(tmp_path / "local"))
    assert status == 0, err
    local = _by_id(load(tmp_path / "local"))
    # A run that kills its worker every time; with no failure allowed, the scheduler (in the
    # script's process) gives it up at once and the sweep stops, keeping the runs it finished.
    # The last run, and one task a worker thread: Dask queues a task on the scheduler only once
    # its group outnumbers twice the threads, so an early task may wait on the victim's worker
    # and be given up with it.
    victim = load_experiment(exp).runs[-1].run_id
    cluster = ["--local", "--jobs", "2", "--cores", "1", "--memory", "2GiB",
               "--out", str(tmp_path / "cluster")]
    stopped = _script(str(exp), *cluster, env={
        TEST_KILL_ENV: victim, "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "0",
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"})
    assert stopped.returncode == 1, stopped.stderr
    assert f"run {victim} " in stopped.stderr, stopped.stderr
    assert "rerun with --resume" in stopped.stderr
    resumed = _script(str(exp), *cluster, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert "6 in all" in resumed.stdout
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "cluster")), local, check_exact=True)


@pytest.mark.parametrize(("queue", "wanted"), [
    ([], ["#SBATCH --cpus-per-task=4", "#SBATCH --mem=16G", "#SBATCH -t 02:30:00",
                 "#SBATCH -p short", "#SBATCH -A lab"]),
    (["--pbs"], ["#PBS -l select=1:ncpus=4:mem=16GB", "#PBS -l walltime=02:30:00",
               "#PBS -q short", "#PBS -A lab"]),
], ids=["slurm", "pbs"])
def test_the_worker_job_asks_the_queue_for_the_cores_memory_and_time_given(queue, wanted,
                                                                           tmp_path):
    exp = _experiment(tmp_path)
    shown = _script(str(exp), *queue, "--dry-run", "--cores", "4", "--memory", "16GiB",
                    "--walltime", "02:30:00", "--queue", "short", "--account", "lab",
                    "--prologue", "module load python")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    for directive in wanted:
        assert directive in lines, shown.stdout
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    # One single-threaded worker a core, in this interpreter, after the prologue.
    assert worker.startswith(sys.executable)
    assert " --nthreads 1 " in worker and " --nworkers 4 " in worker
    assert lines.index("module load python") < lines.index(worker)
    assert not (ROOT / default_out(load_experiment(exp))).exists(), "a dry run ran the sweep"



@pytest.mark.parametrize(("option", "said"), [
    (["--cores", "0"], "--cores: '0': a whole number, 1 or more"),
    (["--jobs", "0"], "--jobs: '0': a whole number, 1 or more"),
    (["--memory", "32"], "--memory: '32': a size with its unit"),
    (["--memory", "32000000000"], "--memory: '32000000000': a size with its unit"),
    (["--memory", "GiB"], "--memory: 'GiB': a size with its unit"),
    (["--walltime", "4h"], "--walltime: '4h': hours:minutes:seconds"),
])
def test_a_job_the_queue_cannot_take_is_refused_in_one_line(tmp_path, option, said):
    shown = _script(str(_experiment(tmp_path)), "--dry-run", *option)
    assert shown.returncode == 2 and not shown.stdout, shown.stdout
    assert shown.stderr.splitlines()[-1].startswith(
        f"sweep_on_cluster.py: error: argument {said}"), shown.stderr
    assert "Traceback" not in shown.stderr


def test_a_job_the_queue_refuses_is_said_in_one_line_without_waiting_out_the_wait(tmp_path):
    """An account or partition the queue does not know: ``sbatch`` fails, and the script says
    what it said, at once, rather than waiting --wait for workers that will never come."""
    queue = tmp_path / "bin"
    queue.mkdir()
    (queue / "sbatch").write_text("#!/bin/sh\necho 'sbatch: error: Invalid account or "
                                  "account/partition combination specified' >&2\nexit 1\n")
    (queue / "sbatch").chmod(0o755)
    started = time.monotonic()
    shown = _script(str(_experiment(tmp_path)), "--account", "nolab", "--wait", "120",
                    "--out", str(tmp_path / "out"),
                    env={"PATH": f"{queue}{os.pathsep}{os.environ['PATH']}"})
    assert time.monotonic() - started < 60
    assert shown.returncode == 1, shown.stderr
    assert shown.stderr == ("sweep_on_cluster: error: the queue did not take a worker job (sbatch: "
                            "error: Invalid account or account/partition combination specified); "
                            "check its options with --dry-run\n")
    assert not (tmp_path / "out").exists()

def _page_commands() -> list[list[str]]:
    """The script's command lines quoted by docs/CLUSTER.md, those wrapped in sbatch too."""
    from test_docs import _blocks, _shell_commands

    found = []
    for language, body in _blocks((ROOT / "docs" / "CLUSTER.md").read_text(encoding="utf-8")):
        for tokens in _shell_commands(body, language) if language == "bash" else []:
            wrapped = tokens[tokens.index("--wrap") + 1].split() if "--wrap" in tokens else tokens
            if SCRIPT.name in " ".join(wrapped):
                found.append(wrapped[wrapped.index(str(SCRIPT.relative_to(ROOT))) + 1:])
    return found


def test_the_script_commands_of_the_cluster_page_parse():
    from sim.interfaces.cli import argument_parser

    spec = importlib.util.spec_from_file_location("sweep_on_cluster", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    commands = _page_commands()
    assert len(commands) >= 4, commands
    for argv in commands:
        args, rest = script.parse(argv)
        assert (ROOT / args.experiment).is_file(), argv
        # What the script hands on is read by blowback sweep's own parser.
        sweep = argument_parser().parse_args(["sweep", args.experiment, "--scheduler",
                                              "tcp://x:1", *rest])
        assert sweep.out is not None or args.dry_run, argv


def test_the_cluster_page_names_every_option_the_script_hands_on_to_the_sweep():
    """What goes to ``blowback sweep`` as it is, and shapes a sweep on a scheduler, is named on
    the page and in the script's docstring: an option left out there is one a reader of the
    page does not know the script takes (``--ensemble`` changes what a task is)."""
    import argparse

    from sim.interfaces.cli import argument_parser

    spec = importlib.util.spec_from_file_location("sweep_on_cluster", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    subcommands = next(a for a in argument_parser()._actions
                       if isinstance(a, argparse._SubParsersAction))
    sweep_options = {o for a in subcommands.choices["sweep"]._actions for o in a.option_strings}
    own = {"--help", "-h", "--jobs", "--scheduler", "--compact",
           "--yes"}  # set by the script, taken by it, or not read on a scheduler
    handed_on = sorted(sweep_options - own)
    assert "--ensemble" in handed_on
    page = (ROOT / "docs" / "CLUSTER.md").read_text(encoding="utf-8")
    told = page[page.index("every other option"):].split(")")[0]
    assert [o for o in handed_on if f"`{o}`" not in told] == []
    docstring = script.__doc__[script.__doc__.index("every\nother option"):].split(")")[0]
    assert [o for o in handed_on if f"``{o}``" not in docstring] == []
    section = page[page.index("## What a task is"):page.index("## Where the results land")]
    assert "`--ensemble R`" in section


def _worker_of_other_code(tmp_path: Path, address: str) -> subprocess.Popen:
    """A Dask worker that imports a copy of ``sim`` whose model code differs by one comment,
    as a node with another checkout or an older installation would."""
    import shutil

    other = tmp_path / "other"
    shutil.copytree(ROOT / "sim", other / "sim", ignore=shutil.ignore_patterns("__pycache__"))
    with (other / "sim" / "core" / "state.py").open("a", encoding="utf-8") as state:
        state.write("# another version of the model\n")
    return subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", address,
                             "--nthreads", "1", "--no-nanny", "--dashboard-address", ":0"],
                            cwd=other, env={**os.environ, "PYTHONPATH": str(other)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_a_cluster_with_a_worker_of_other_model_code_is_refused_in_one_line(tmp_path):
    """Its rows would be written as this code's: the sweep names the worker and runs nothing."""
    distributed = pytest.importorskip("distributed")
    exp = _experiment(tmp_path)
    with distributed.LocalCluster(n_workers=0, host="127.0.0.1", scheduler_port=0,
                                  dashboard_address=":0") as cluster:
        worker = _worker_of_other_code(tmp_path, cluster.scheduler_address)
        try:
            with distributed.Client(cluster) as client:
                client.wait_for_workers(1, timeout=60)
            done = subprocess.run([sys.executable, "-m", "sim", "sweep", str(exp), "--out",
                                   str(tmp_path / "out"), "--scheduler",
                                   cluster.scheduler_address],
                                  capture_output=True, text=True, cwd=ROOT, timeout=300)
        finally:
            worker.kill()
            worker.wait()
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(f"blowback: error: --scheduler {cluster.scheduler_address}: "
                                  "worker tcp://"), done.stderr
    assert "runs other code (model code " in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_task_on_a_worker_of_other_code_stops_the_sweep_and_writes_none_of_its_rows(
        tmp_path):
    """A worker that joins once the sweep has started is checked by each of its tasks."""
    from concurrent.futures import Future

    from sim.experiments.sweep_workers import (
        LocalPool,
        WorkerCodeError,
        _collect,
        _execute,
        running_code,
    )

    run = load_experiment(_experiment(tmp_path)).runs[0]
    other = {**running_code(), "model code": "0" * 12}
    with pytest.raises(WorkerCodeError, match="model code 000000000000 in the sweep") as lost:
        _execute([run], False, other)
    future: Future = Future()
    future.set_exception(lost.value)
    written = []
    with pytest.raises(WorkerCodeError, match=f"kept in {tmp_path}; .* rerun with --resume"):
        _collect({future}, {future: [run]}, LocalPool.__new__(LocalPool),
                 lambda *result: written.append(result), tmp_path, deque())
    assert not written



def test_the_sweeps_own_mistakes_are_said_before_any_job_is_queued(tmp_path, capsys):
    """A missing experiment, an --out in the way (a file, a folder of something else), a
    folder that holds the sweep without --resume: said at once, not once the queue has started
    the jobs (here, with no queue, a job never starts and the script would wait out --wait)."""
    exp = _experiment(tmp_path)
    fewer = tmp_path / "fewer.toml"
    fewer.write_text(exp.read_text().replace("seeds = 3", "seeds = 2"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("another command's output\n")
    status, _, err = blowback(capsys, "sweep", str(exp), "--jobs", "1", "--out",
                              str(tmp_path / "done"))
    assert status == 0, err
    shutil.copytree(tmp_path / "done", tmp_path / "stray")
    (tmp_path / "stray" / "runs" / "notes.parquet").write_bytes(b"not the sweep's")
    done = str(tmp_path / "done")
    for args, said in [
        ([str(tmp_path / "missing.toml"), "--out", str(tmp_path / "a")], "no such file"),
        ([str(exp), "--out", str(exp)], "exists and is a file"),
        ([str(exp), "--out", done], "already holds 6 of 6 runs of this experiment; add --resume"),
        ([str(exp), "--out", str(tmp_path / "other")], "not empty and not a sweep folder"),
        ([str(fewer), "--out", done], "holds another sweep; choose a new folder"),
        ([str(fewer), "--out", done, "--resume"],
         "resume it with the experiment it was started with"),
        ([str(exp), "--out", str(tmp_path / "stray"), "--resume"],
         "notes.parquet: not recorded in the folder's log"),
        ([str(exp), "--out", str(tmp_path / "b"), "--mixed-versions"],
         "--mixed-versions goes with --resume"),
    ]:
        shown = _script(*args, "--wait", "5")
        assert shown.returncode == 2, shown.stderr
        assert shown.stderr.startswith("sweep_on_cluster: error: "), shown.stderr
        assert said in shown.stderr and "no job was submitted" in shown.stderr
        assert shown.stderr.count("\n") == 1, shown.stderr


def _fake_queue(folder: Path) -> Path:
    """An ``sbatch`` that takes every job and never starts it, and a ``scancel``, both noting
    what they were asked in ``queue.log``."""
    folder.mkdir()
    log = folder / "queue.log"
    for name, answer in (("sbatch", 'echo "Submitted batch job $$"'), ("scancel", "")):
        (folder / name).write_text(f'#!/bin/sh\necho "{name} $@" >> "{log}"\n{answer}\n')
        (folder / name).chmod(0o755)
    return log


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_a_script_stopped_while_its_jobs_wait_in_the_queue_cancels_them(tmp_path, stop):
    """Stopped before its workers joined: every job it submitted is cancelled, and it says so
    in one line with the exit status of a stopped command (not 0, as if the sweep were done)."""
    log = _fake_queue(tmp_path / "bin")
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(_experiment(tmp_path)), "--jobs", "2",
         "--out", str(tmp_path / "out")], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT),
             "PATH": f"{log.parent}{os.pathsep}{os.environ['PATH']}"})
    deadline = time.monotonic() + 60
    while (not log.exists() or log.read_text().count("sbatch") < 2) and proc.poll() is None:
        assert time.monotonic() < deadline, "no job was submitted in time"
        time.sleep(0.1)
    proc.send_signal(stop)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + stop, err
    assert err.splitlines()[-1] == ("sweep_on_cluster: interrupted before the sweep started; "
                                    "the worker jobs are cancelled"), err
    assert "Traceback" not in err
    said = log.read_text().splitlines()
    submitted = [line for line in said if line.startswith("sbatch")]
    assert len(submitted) == 2 and len([line for line in said if line.startswith("scancel")]) == 2
    assert not (tmp_path / "out").exists()


def test_the_job_starts_an_interpreter_whose_path_has_spaces(tmp_path):
    """A checkout in "My projects": the job's shell script must read the path as one word."""
    venv = tmp_path / "my projects" / "venv"
    venv.parent.mkdir()
    venv.symlink_to(sys.prefix, target_is_directory=True)
    python = venv / Path(sys.executable).relative_to(sys.prefix)
    shown = subprocess.run([str(python), str(SCRIPT), str(_experiment(tmp_path)), "--dry-run"],
                           capture_output=True, text=True, cwd=ROOT, timeout=120,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert shown.returncode == 0, shown.stderr
    worker = next(line for line in shown.stdout.splitlines() if "dask_worker" in line)
    assert shlex.split(worker)[:3] == [str(python), "-m", "distributed.cli.dask_worker"]
    local = subprocess.run([str(python), str(SCRIPT), str(_experiment(tmp_path)), "--local",
                            "--out", str(tmp_path / "out")], capture_output=True, text=True,
                           cwd=ROOT, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert local.returncode == 2 and "Traceback" not in local.stderr, local.stderr
    assert local.stderr.splitlines()[-1].startswith(
        "sweep_on_cluster.py: error: --local: this interpreter's path has a space"), local.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("status", [130, 143], ids=["ctrl-c", "sigterm"])
def test_a_sweep_stopped_on_the_jobs_says_to_run_the_script_again(tmp_path, monkeypatch, capsys,
                                                                 status):
    """The sweep's own line names the command that finishes it, with the scheduler of this
    script, which leaves with the jobs: the script says to run it again with --resume."""
    spec = importlib.util.spec_from_file_location("sweep_on_cluster", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)

    class Jobs:
        scheduler_address, workers = "tcp://127.0.0.1:1", {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def adapt(self, **sizes):
            return self

    ran = []
    monkeypatch.setattr(script, "build_cluster", lambda args: Jobs())
    monkeypatch.setattr(script, "Client", lambda cluster: Jobs())
    monkeypatch.setattr(script, "wait_for_workers", lambda *args: None)
    monkeypatch.setattr(script, "blowback", lambda argv: ran.append(argv) or status)
    exp = _experiment(tmp_path)
    out = tmp_path / "out"
    assert script.main([str(exp), "--jobs", "2", "--out", str(out)]) == status
    assert ran and ran[0][2:4] == ["--scheduler", "tcp://127.0.0.1:1"]
    err = capsys.readouterr().err
    assert err.splitlines()[-1] == (
        "sweep_on_cluster: the scheduler that line names was this script's and has left with "
        "its jobs: to finish the sweep, run this script again with --resume added")


@pytest.mark.parametrize(("cores", "memory", "warned"), [
    ("16", "4GiB", True), ("16", "32GiB", False), ("1", "1GiB", False)])
def test_a_job_whose_workers_get_too_little_memory_is_warned_of(tmp_path, cores, memory, warned):
    """`--memory` is the whole job's: 16 workers in 4GiB get 256 MiB each, less than a worker
    holding a run needs, and Dask would stop them one after the other mid-sweep."""
    shown = _script(str(_experiment(tmp_path)), "--dry-run", "--cores", cores, "--memory", memory)
    assert shown.returncode == 0, shown.stderr
    said = [line for line in shown.stderr.splitlines() if "warning" in line]
    if warned:
        assert said == [f"sweep_on_cluster: warning: --memory {memory} over {cores} workers leaves "
                        "each 256.00 MiB; a worker making default runs peaks at about 0.5 GiB: "
                        "give at least 1GiB a core"], shown.stderr
    else:
        assert not said, shown.stderr
