"""Faults during sweeps and runs, made by the operating system rather than by mocks.

Workers are killed with SIGKILL from outside while they run (local pool and Dask), the disk
fills up or the folder turns read-only under a running sweep (a small tmpfs, remounted), a
second sweep tries the folder of a running one, a run file is cut short.  Each time the sweep
either completes the dataset or stops with one line, and every finished run stays readable.
(tests/test_sweep.py covers workers killed by its test hook, Ctrl-C and a killed sweep.)
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from test_sweep import GRID, _experiment

from sim.experiments.experiment import load_experiment
from sim.experiments.output import OutputError
from sim.experiments.runs import run_one
from sim.experiments.shard_log import read_log
from sim.experiments.shards import survey
from sim.experiments.sweep import SHARD_SECONDS_ENV, load, run_sweep
from sim.interfaces.cli import main


def _sweep_process(experiment: Path, out: Path, *extra: str) -> subprocess.Popen:
    # A shard a run: the faults land between shards as they did between files.
    return subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(experiment), "--out",
                             str(out), "--jobs", "2", *extra], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True,
                            env={**os.environ, SHARD_SECONDS_ENV: "0"})


# A sweep that a test interrupts from outside while it runs: 48 runs of 200 weeks, about a
# second after its first runs are written (20 weeks left 90 ms, and a fault that took longer
# than that to make, such as remounting the disk read-only, could land after the sweep's end).
def _interrupted_experiment(folder: Path) -> Path:
    return _experiment(folder, GRID, seeds=12, steps=200)


def _finished(out: Path) -> int:
    return len(survey(out).homes)


def _wait_for_runs(out: Path, n: int, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + 120
    while _finished(out) < n:
        assert proc is None or proc.poll() is None, "the sweep ended early"
        assert time.monotonic() < deadline, f"{n} runs did not finish in time"
        time.sleep(0.02)


def _blowback(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


def _assert_complete(out: Path, experiment: Path) -> None:
    rows = load(out)
    assert sorted(rows["run_id"]) == sorted(r.run_id for r in load_experiment(experiment).runs)


def _assert_one_line(err: str, *words: str) -> None:
    assert err.startswith("blowback: error: ") and len(err.splitlines()) == 1, err
    assert "Traceback" not in err
    for word in words:
        assert word in err, err


# --- two sweeps, one folder ------------------------------------------------------------------


def test_a_second_sweep_on_a_running_sweeps_folder_is_refused(tmp_path, capsys):
    experiment = _interrupted_experiment(tmp_path)
    out = tmp_path / "out"
    first = _sweep_process(experiment, out)
    try:
        _wait_for_runs(out, 2, first)
        manifest = (out / "manifest.json").read_bytes()
        for extra in ([], ["--resume"]):
            assert main(["sweep", str(experiment), "--out", str(out), *extra]) == 2
            _assert_one_line(capsys.readouterr().err, f"another sweep (process {first.pid})")
        assert first.poll() is None, "the first sweep ended before the second was tried"
        assert (out / "manifest.json").read_bytes() == manifest
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(first.pid, signal.SIGKILL)
        first.communicate()
    # The killed sweep's lock file is still there; the system released its lock.
    assert (out / ".lock").exists()
    report = run_sweep(load_experiment(experiment), out, jobs=2, resume=True)
    assert report.skipped >= 2 and report.skipped + report.written == report.total
    _assert_complete(out, experiment)


# --- the disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path) -> Path:
    """A 4 MiB tmpfs of its own, so that the test can fill it or remount it read-only: needs
    root (chmod does not stop root from writing, a full or read-only mount does)."""
    disk = tmp_path / "disk"
    disk.mkdir()
    if not shutil.which("mount"):
        pytest.skip("no mount command")
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                          capture_output=True, text=True)
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip()}): needs root")
    yield disk
    while os.path.ismount(disk):
        subprocess.run(["umount", "-l", str(disk)], check=True)


def _fill(disk: Path) -> Path:
    """Write a file until the disk is full; returns it (delete it to make room again)."""
    filler = disk / f"filler-{uuid.uuid4().hex}"
    # Unbuffered: a buffered file would keep the bytes the disk refused and fail again, outside
    # the suppress, when it is closed.
    with filler.open("wb", buffering=0) as f, contextlib.suppress(OSError):
        while True:
            f.write(b"\0" * 65536)
    return filler


def _make_read_only(disk: Path) -> None:
    """Lay a read-only view of ``disk`` over it: new writes fail with EROFS.  (A plain
    remount is refused while the sweep holds files open for writing.)"""
    subprocess.run(["mount", "--bind", str(disk), str(disk)], check=True)
    # The kernel refuses the remount while a file on the new view is open for writing, which
    # the running sweep does for a moment at each run: try again until it falls between two.
    for _ in range(100):
        done = subprocess.run(["mount", "-o", "remount,bind,ro", str(disk)],
                              capture_output=True, text=True)
        if done.returncode == 0:
            return
        time.sleep(0.02)
    raise AssertionError(f"cannot remount {disk} read-only: {done.stderr.strip()}")


def _make_writable(disk: Path) -> None:
    # The killed sweep's workers may hold a file of the read-only view open for a moment after
    # the sweep's own exit (longer on a loaded machine): try again until they are gone.
    for _ in range(200):
        done = subprocess.run(["umount", str(disk)], capture_output=True, text=True)
        if done.returncode == 0:
            return
        time.sleep(0.05)
    raise AssertionError(f"cannot unmount the read-only view of {disk}: {done.stderr.strip()}")


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_disk_fault_mid_sweep_stops_it_in_one_line_and_keeps_finished_runs(
        tmp_path, small_disk, fault):
    experiment = _interrupted_experiment(tmp_path)
    out = small_disk / "out"
    proc = _sweep_process(experiment, out)
    try:
        _wait_for_runs(out, 3, proc)
        if fault == "full":
            filler = _fill(small_disk)
        else:
            _make_read_only(small_disk)
        _, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()  # reaped and its pipes closed, whatever happened above
    reason = "No space left on device" if fault == "full" else "Read-only file system"
    assert proc.returncode == 1, err
    _assert_one_line(err, reason, "rerun with --resume")
    kept = load(out)
    assert f"the {len(kept)} finished runs are kept" in err
    assert 3 <= len(kept) < len(load_experiment(experiment).runs)
    for line in read_log(out):
        for name in line["files"]:
            if (out / name).exists():
                assert pq.read_table(out / name).num_rows == len(line["runs"])
    if fault == "full":
        filler.unlink()
    else:
        _make_writable(small_disk)
    report = run_sweep(load_experiment(experiment), out, jobs=2, resume=True)
    assert report.skipped == len(kept)
    _assert_complete(out, experiment)
    assert not [p.name for p in (out / "runs").iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_run_on_a_faulty_disk_writes_nothing_and_says_so(tmp_path, small_disk, capsys, fault):
    scenario = tmp_path / "small.toml"
    scenario.write_text(f'extends = "{ROOT / "scenarios" / "base.toml"}"\n'
                        "[map]\ncommunities = 300\n")
    if fault == "full":
        _fill(small_disk)
    else:
        _make_read_only(small_disk)
    before = sorted(p.name for p in small_disk.iterdir())
    status = main(["run", str(scenario), "--steps", "5", "--out", str(small_disk / "out")])
    err = capsys.readouterr().err
    assert status == 2
    _assert_one_line(err, "No space left on device" if fault == "full"
                     else "Read-only file system")
    assert sorted(p.name for p in small_disk.iterdir()) == before


@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_a_sweep_that_cannot_start_on_a_faulty_disk_leaves_nothing(tmp_path, small_disk, capsys,
                                                                   fault):
    experiment = _experiment(tmp_path, GRID, seeds=1, steps=4)
    if fault == "full":
        _fill(small_disk)
    else:
        _make_read_only(small_disk)
    before = sorted(p.name for p in small_disk.iterdir())
    assert main(["sweep", str(experiment), "--out", str(small_disk / "out")]) == 2
    _assert_one_line(capsys.readouterr().err, "cannot write there")
    assert sorted(p.name for p in small_disk.iterdir()) == before


def test_a_damaged_run_file_is_named_and_resume_runs_it_again(tmp_path, capsys):
    experiment = _experiment(tmp_path, GRID, seeds=1, steps=4)
    out = tmp_path / "out"
    run_sweep(load_experiment(experiment), out, jobs=1, shard_runs=1)
    victim = sorted((out / "runs").glob("*.parquet"))[0]
    victim.write_bytes(victim.read_bytes()[: victim.stat().st_size // 2])
    with pytest.raises(OutputError, match="damaged"):
        load(out)
    assert main(["analyse", str(out)]) == 2
    _assert_one_line(capsys.readouterr().err, "damaged", "--resume")
    # The first sweep's lock went with it: the resume is not refused.
    report = run_sweep(load_experiment(experiment), out, jobs=1, resume=True)
    assert report.written == 1
    _assert_complete(out, experiment)


# --- workers killed from outside ---------------------------------------------------------------


def _kill_one_worker_once(out: Path, pids) -> threading.Thread:
    """A thread that SIGKILLs one worker process as soon as two runs are written."""
    def kill() -> None:
        deadline = time.monotonic() + 120
        while _finished(out) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        victims = pids()
        if victims:
            os.kill(victims[0], signal.SIGKILL)
            killed.append(victims[0])

    killed: list[int] = []
    thread = threading.Thread(target=kill, daemon=True)
    thread.killed = killed
    thread.start()
    return thread


def _assert_rows_are_the_runs(out: Path, experiment: Path) -> None:
    _assert_complete(out, experiment)
    rows = load(out).set_index("run_id")
    for run in load_experiment(experiment).runs[::4]:
        summary, _ = run_one(run.spec, run.seed, None)
        assert rows.loc[run.run_id, "civilian_deaths_total"] == \
            summary["civilian_deaths"]["total"]


def test_a_local_worker_killed_mid_run_is_replaced_and_the_dataset_completes(tmp_path):
    experiment = _experiment(tmp_path, GRID, seeds=3, steps=30)
    out = tmp_path / "out"
    killer = _kill_one_worker_once(out, lambda: [p.pid for p in multiprocessing.active_children()])
    report = run_sweep(load_experiment(experiment), out, jobs=2, shard_runs=1)
    killer.join(timeout=10)
    assert killer.killed, "no worker was running to be killed"
    assert report.written == report.total == 12
    _assert_rows_are_the_runs(out, experiment)


def test_a_dask_worker_killed_mid_run_is_replaced_and_the_dataset_completes(tmp_path):
    distributed = pytest.importorskip("distributed")
    experiment = _experiment(tmp_path, GRID, seeds=3, steps=30)
    out = tmp_path / "out"
    # Every port 0: dashboard_address=None still binds the scheduler's HTTP server to 8787, which
    # another cluster on the machine may hold.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", scheduler_port=0,
                                  dashboard_address=":0") as cluster:
        def pids() -> list[int]:
            return [nanny.process.process.pid for nanny in cluster.workers.values()
                    if nanny.process is not None and nanny.process.process is not None]

        killer = _kill_one_worker_once(out, pids)
        report = run_sweep(load_experiment(experiment), out,
                           scheduler=cluster.scheduler_address, shard_runs=1)
        killer.join(timeout=10)
    assert killer.killed, "no worker was running to be killed"
    assert report.written == report.total == 12
    _assert_rows_are_the_runs(out, experiment)


def test_a_refused_sweep_leaves_nothing_in_a_folder_that_is_not_a_sweeps(tmp_path, capsys):
    experiment = _experiment(tmp_path, GRID, seeds=1, steps=4)
    mine = tmp_path / "documents"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    assert main(["sweep", str(experiment), "--out", str(mine)]) == 2
    _assert_one_line(capsys.readouterr().err, "not empty and not a sweep folder")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
