"""Stopping and sizing the commands of many runs: Ctrl-C, SIGTERM and a killed parent stop them
at once and leave no process or folder behind; --jobs, --seeds, an experiment's size and the
estimated hours are checked before anything starts.

The signal tests run real ``python -m sim`` processes in their own session and send the signal
to the process (as ``kill`` does) or to its group (as a terminal's Ctrl-C does).
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
import weakref
from concurrent.futures import Future
from pathlib import Path

import pytest
import sqlalchemy
from conftest import ROOT
from sqlalchemy.orm import Session
from test_calibration import GOOD, _small_mali

from sim.core.parameters import BY_NAME
from sim.experiments import workload
from sim.experiments.calibration import HISTORY, load_calibration
from sim.experiments.runs import run_many
from sim.experiments.shards import survey
from sim.experiments.stopping import (
    Terminated,
    completed,
    exit_status,
    stop_signals,
    stops_held,
    unmasked_stops,
)
from sim.experiments.sweep import SHARD_SECONDS_ENV
from sim.interfaces import cli
from sim.interfaces.cli import argument_parser, main

INTERRUPTED = "blowback: interrupted; nothing was written"
# "At once" is a small part of the work a stop cuts short: each command stopped below is given
# work that the workload estimate puts at ten times this or more, so that a wait this generous
# still holds on a loaded machine.
STOP_WITHIN = 60.0


def _takes_long(runs: list[tuple[int, int, int]], jobs: int = 2) -> bool:
    """Whether ``runs`` (count, weeks, communities) take ten times STOP_WITHIN on ``jobs``."""
    seconds = sum(n * workload.run_seconds(weeks, size) for n, weeks, size in runs) / jobs
    return seconds >= 10 * STOP_WITHIN


def _small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "base.toml"}"\n[map]\ncommunities = 200\n')
    return path


def _experiment(tmp_path: Path, seeds: int, steps: int, vary: str = "") -> Path:
    path = tmp_path / "exp.toml"
    path.write_text(f'name = "stop"\nscenarios = ["{_small(tmp_path)}"]\nseeds = {seeds}\n'
                    f"steps = {steps}\n{vary}")
    return path


@pytest.fixture
def start(tmp_path):
    """Start ``python -m sim ARGS`` in its own session; whatever is left is killed after."""
    started: list[subprocess.Popen] = []

    def launch(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        started.append(subprocess.Popen([sys.executable, "-m", "sim", *args], cwd=tmp_path,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, start_new_session=True,
                                        env=None if env is None else {**os.environ, **env}))
        return started[-1]

    yield launch
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def _children(pid: int) -> set[int]:
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found |= {int(p) for p in task.read_text().split()}
    return found


def _workers(proc: subprocess.Popen, n: int = 2) -> set[int]:
    """The children of ``proc`` once ``n`` workers (and the resource tracker) have started."""
    deadline = time.monotonic() + 120
    while len(kids := _children(proc.pid)) < n + 1:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.05)
    time.sleep(0.5)
    return kids


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (an exited child that nobody reaped yet does not)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def _all_gone(pids: set[int], within: float) -> bool:
    deadline = time.monotonic() + within
    while any(_alive(p) for p in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stop(proc: subprocess.Popen, number: int, group: bool = False) -> tuple[int, str, float]:
    started = time.monotonic()
    (os.killpg if group else os.kill)(proc.pid, number)
    _, err = proc.communicate(timeout=STOP_WITHIN)
    return proc.returncode, err, time.monotonic() - started


def _handles(pid: int, number: int) -> bool:
    caught = re.search(r"^SigCgt:\s*([0-9a-f]+)$", Path(f"/proc/{pid}/status").read_text(), re.M)
    return bool(caught and int(caught.group(1), 16) >> (number - 1) & 1)


def _left(tmp_path: Path) -> list[str]:
    return sorted(p.name for p in tmp_path.iterdir() if p.name not in ("small.toml", "exp.toml"))


@pytest.mark.parametrize(("number", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_compare_stops_at_once_and_leaves_nothing(tmp_path, start, number, status):
    assert _takes_long([(400, 5200, 200)])
    proc = start("compare", str(_small(tmp_path)), "--seeds", "400", "--steps", "5200",
                  "--jobs", "2", "--out", str(tmp_path / "out"))
    kids = _workers(proc)
    code, err, took = _stop(proc, number)
    assert (code, err) == (status, INTERRUPTED + "\n")
    assert took < STOP_WITHIN, f"took {took:.1f} s to stop"
    assert _all_gone(kids, within=STOP_WITHIN), ("workers or the resource tracker outlived the "
                                                 "command")
    assert _left(tmp_path) == []


def test_ctrl_c_to_the_group_twice_gives_one_line_and_no_worker_tracebacks(tmp_path, start):
    proc = start("compare", str(_small(tmp_path)), "--seeds", "40", "--steps", "520",
                  "--jobs", "2")
    kids = _workers(proc)
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.05)
    code, err, _ = _stop(proc, signal.SIGINT, group=True)  # the second, during the cleanup
    assert (code, err) == (130, INTERRUPTED + "\n")
    assert _all_gone(kids, within=STOP_WITHIN)
    assert _left(tmp_path) == []


def test_validate_stops_on_sigterm(tmp_path, start):
    out = tmp_path / "val"
    assert _takes_long(workload.claim_runs(["kalyvas"], 2000, BY_NAME["map.communities"].default))
    proc = start("validate", "--claims", "kalyvas", "--seeds", "2000", "--jobs", "2",
                  "--out", str(out))
    kids = _workers(proc)
    code, err, took = _stop(proc, signal.SIGTERM)
    assert (code, err, took < STOP_WITHIN) == (143, INTERRUPTED + "\n", True)
    assert _all_gone(kids, within=STOP_WITHIN)
    assert _left(tmp_path) == []


def test_calibrate_stops_on_sigint_and_removes_its_working_folder(tmp_path, start):
    temp = tmp_path / "temp"
    temp.mkdir()
    path = tmp_path / "cal.toml"
    path.write_text(GOOD.format(scenario=_small_mali(tmp_path).as_posix())
                    .replace("population = 4", "population = 1500"))
    cal = load_calibration(path)
    assert _takes_long([(cal.population * (cal.generations + 1), cal.fit_steps, 300)])
    proc = start("calibrate", str(path), "--jobs", "2", "--out", str(tmp_path / "out"),
                 env={"TMPDIR": str(temp)})
    kids = _workers(proc)
    deadline = time.monotonic() + 120
    while not list(temp.glob(f"*/{HISTORY}")):  # pyabc has started sampling
        assert time.monotonic() < deadline and proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    code, err, took = _stop(proc, signal.SIGINT)
    assert (code, err.splitlines()[-1], took < STOP_WITHIN) == (130, INTERRUPTED, True)
    assert _all_gone(kids, within=STOP_WITHIN)
    assert list(temp.iterdir()) == [] and not (tmp_path / "out").exists()


def test_sweep_stopped_by_sigterm_says_what_it_kept_and_where(tmp_path, start):
    out = tmp_path / "sw"
    exp = _experiment(tmp_path, 40, 520)
    proc = start("sweep", str(exp), "--out", str(out),
                  "--jobs", "2", env={SHARD_SECONDS_ENV: "0"})
    kids = _workers(proc)
    deadline = time.monotonic() + 120
    while not survey(out).homes:
        assert time.monotonic() < deadline and proc.poll() is None, "no run finished"
        time.sleep(0.05)
    code, err, took = _stop(proc, signal.SIGTERM)
    kept = len(survey(out).homes)
    assert code == 143 and took < STOP_WITHIN
    assert err == (f"blowback: interrupted: {kept} of 40 runs done, kept in {out}; rerun with "
                   f"--resume to finish it: blowback sweep {exp} --out {out} --resume --jobs 2\n")
    assert 1 <= kept < 40
    assert _all_gone(kids, within=STOP_WITHIN)


def test_workers_exit_when_their_parent_is_killed(tmp_path, start):
    proc = start("compare", str(_small(tmp_path)), "--seeds", "40", "--steps", "520",
                  "--jobs", "2")
    kids = _workers(proc)
    _stop(proc, signal.SIGKILL)
    assert _all_gone(kids, within=STOP_WITHIN), "orphaned workers outlived their parent"


def test_run_stopped_by_sigterm_leaves_no_folder(tmp_path, start):
    proc = start("run", str(_small(tmp_path)), "--steps", "5200", "--out",
                  str(tmp_path / "out"))
    deadline = time.monotonic() + 30
    while not _handles(proc.pid, signal.SIGTERM):  # cli.main has taken SIGTERM
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.05)
    time.sleep(1)
    code, err, _ = _stop(proc, signal.SIGTERM)
    assert (code, err) == (143, INTERRUPTED + "\n")
    assert _left(tmp_path) == []


def test_run_many_stops_its_workers_at_once_on_an_exception():
    def interrupt(_: int) -> None:
        raise KeyboardInterrupt

    started = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        run_many([(0.01,), (60,), (60,), (60,)], jobs=2, progress=interrupt, work=time.sleep)
    assert time.monotonic() - started < 30
    import multiprocessing

    assert not [p for p in multiprocessing.active_children() if p.is_alive()]


def test_sigterm_becomes_terminated_and_later_signals_are_ignored():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        with pytest.raises(Terminated), stop_signals():
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert signal.getsignal(signal.SIGINT) == signal.getsignal(signal.SIGTERM) == signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def test_a_stop_is_held_out_of_the_calls_into_a_pool():
    """A stop that comes while the parent waits in a pool's code is raised once it is out of
    it, and leaves no lock of the pool taken: one raised in a lock's ``__exit__`` left a pool's
    queue locked, and the interpreter's exit waiting on it forever.  The signal comes from
    another thread, which the system may deliver it to."""
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    never = Future()
    # A stop raised inside ``wait`` can leave this process waiting on itself: end it instead.
    faulthandler.dump_traceback_later(STOP_WITHIN, exit=True)
    try:
        with pytest.raises(Terminated) as stopped, stop_signals():
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGTERM)).start()
            completed({never})
    finally:
        faulthandler.cancel_dump_traceback_later()
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
    places = [Path(frame.filename) for frame in traceback.extract_tb(stopped.value.__traceback__)]
    assert not [p for p in places if p.name == "threading.py" or "concurrent" in p.parts]
    assert never._condition.acquire(blocking=False)
    never._condition.release()


def test_a_stop_within_nested_holds_is_raised_as_the_outer_one_ends():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    reached = []
    try:
        with pytest.raises(KeyboardInterrupt), stop_signals(), stops_held():
            with stops_held():
                signal.raise_signal(signal.SIGINT)
                reached.append("inner")
            reached.append("outer")
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
    assert reached == ["inner", "outer"]


def test_a_stop_that_lands_in_a_weakref_callback_still_stops_the_block():
    class Thing:
        pass

    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        # Python only prints an exception raised in a weakref callback, and goes on.
        with pytest.raises(KeyboardInterrupt), stop_signals():
            thing = Thing()
            watch = weakref.ref(thing, lambda _: signal.raise_signal(signal.SIGINT))
            del thing
            assert watch() is None
            time.sleep(120)
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])


def _stop_cut_a_transaction_and_the_cleanup_failed() -> None:
    """What pyabc does when a Ctrl-C lands in SQLAlchemy: its ``finally`` writes to the session
    whose transaction the stop cut, and SQLAlchemy's PendingRollbackError takes the stop's place."""
    engine = sqlalchemy.create_engine("sqlite://")
    table = sqlalchemy.Table("t", sqlalchemy.MetaData(),
                             sqlalchemy.Column("x", sqlalchemy.Integer, primary_key=True))
    table.metadata.create_all(engine)
    session = Session(engine)
    statements: list[str] = []

    @sqlalchemy.event.listens_for(engine, "before_cursor_execute")
    def ctrl_c(conn, cursor, statement, *_):
        statements.append(statement)
        if len(statements) == 1:
            raise KeyboardInterrupt

    try:
        session.execute(table.insert().values(x=1))
    finally:
        session.execute(table.insert().values(x=2))


def test_a_stop_hidden_by_a_library_cleanup_that_failed_is_raised_again():
    with pytest.raises(sqlalchemy.exc.PendingRollbackError):
        _stop_cut_a_transaction_and_the_cleanup_failed()
    with pytest.raises(KeyboardInterrupt), unmasked_stops():
        _stop_cut_a_transaction_and_the_cleanup_failed()
    with pytest.raises(ValueError, match="not a stop"), unmasked_stops():
        try:
            raise OSError("an error first")
        except OSError:
            raise ValueError("not a stop") from None


def test_a_command_whose_stop_a_library_hid_exits_as_interrupted(monkeypatch, capsys):
    monkeypatch.setitem(cli._COMMANDS, "calibrate",
                        lambda args: _stop_cut_a_transaction_and_the_cleanup_failed())
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        assert main(["calibrate", str(ROOT / "scenarios" / "calibration" / "mali.toml")]) == 130
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
    assert capsys.readouterr().err == INTERRUPTED + "\n"


def test_stop_signals_puts_the_handlers_back_when_nothing_came():
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    with stop_signals():
        assert signal.getsignal(signal.SIGTERM) not in (signal.SIG_DFL, before[1])
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_exit_status_is_128_plus_the_signal():
    assert (exit_status(KeyboardInterrupt()), exit_status(Terminated())) == (130, 143)


# --- sizes, checked before anything runs ------------------------------------------------------


def _refused(capsys, *argv: str) -> str:
    assert main(list(argv)) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("blowback: error: "), err
    return err


@pytest.mark.parametrize("command", [["compare", "a.toml"], ["sweep", "e.toml"],
                                     ["sensitivity", "e.toml"], ["validate"],
                                     ["calibrate", "c.toml"]])
def test_jobs_beyond_the_cap_are_refused_in_one_line(capsys, command):
    jobs = workload.jobs_limit() + 1
    err = _refused(capsys, *command, "--jobs", str(jobs))
    assert f"--jobs: {jobs} worker processes is too many" in err
    assert f"allowed: 1 to {workload.jobs_limit()}" in err


def test_jobs_above_the_cores_warn_and_go_on(monkeypatch):
    monkeypatch.setattr(workload, "cores", lambda: 2)
    assert workload.check_jobs(2) is None
    assert workload.check_jobs(3) == ("--jobs 3 is more than the 2 cores; the workers will "
                                      "share them (going on)")
    assert workload.jobs_limit() == 8
    monkeypatch.setattr(workload, "cores", lambda: 200)
    assert workload.jobs_limit() == workload.MAX_JOBS


def test_jobs_default_to_the_cores():
    cores = len(os.sched_getaffinity(0))
    for command in (["compare", "a"], ["sweep", "e"], ["sensitivity", "e"], ["validate"],
                    ["calibrate", "c"]):
        assert argument_parser().parse_args(command).jobs == cores == workload.cores()


@pytest.mark.parametrize("command", [["compare", "a.toml"], ["validate"]])
def test_seeds_beyond_the_limit_are_refused_before_anything_is_built(capsys, command):
    err = _refused(capsys, *command, "--seeds", "1000000000")
    assert err == ("blowback: error: --seeds: 1,000,000,000 seeds is too many; allowed: 1 to "
                   "10,000\n")


def test_an_experiment_of_too_many_runs_is_refused_at_once(tmp_path, capsys):
    path = _experiment(tmp_path, 1_000_000, 3, '[vary]\n"oversight.press" = [0.1, 0.9]\n')
    started = time.monotonic()
    err = _refused(capsys, "sweep", str(path), "--out", str(tmp_path / "out"))
    assert "2 points x 1000000 seeds is too many runs; allowed: at most 1,000,000" in err
    assert time.monotonic() - started < 5
    assert not (tmp_path / "out").exists()


HOURS = re.compile(r"^blowback: error: this would take about [\d,.]+ hours on \d+ workers? "
                   r"\([\d,]+ runs of (up to )?[\d,]+ weeks\); add --yes to start it, or fewer "
                   r"seeds/steps\n$")


def test_compare_estimated_beyond_an_hour_needs_yes(tmp_path, capsys):
    err = _refused(capsys, "compare", str(_small(tmp_path)), "--seeds", "10000", "--steps",
                   "5200", "--jobs", "2", "--out", str(tmp_path / "out"))
    assert HOURS.match(err), err
    assert "(10,000 runs of 5,200 weeks)" in err
    assert _left(tmp_path) == []


def test_sweep_estimated_beyond_an_hour_needs_yes(tmp_path, capsys):
    err = _refused(capsys, "sweep", str(_experiment(tmp_path, 2000, 5200)), "--jobs", "2",
                   "--out", str(tmp_path / "out"))
    assert HOURS.match(err) and "(2,000 runs of 5,200 weeks)" in err
    assert _left(tmp_path) == []


def test_a_resumed_sweep_is_estimated_by_the_runs_it_has_left(tmp_path, capsys, monkeypatch):
    path = _experiment(tmp_path, 4, 5)
    out = tmp_path / "out"
    monkeypatch.setenv(SHARD_SECONDS_ENV, "0")  # a shard a run
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out)]) == 0
    aside = [shard.rename(tmp_path / shard.name) for shard in sorted((out / "runs").iterdir())[:2]]
    # A run is now estimated at 0.6 hours: the 4 runs at 2.4, the 2 left at 1.2, 1 at 0.6.
    monkeypatch.setattr(workload, "SECONDS_PER_WEEK", 0.6 * 3600 / 5)
    monkeypatch.setattr(workload, "SECONDS_PER_COMMUNITY_WEEK", 0.0)
    capsys.readouterr()
    err = _refused(capsys, "sweep", str(path), "--jobs", "1", "--out", str(out), "--resume")
    assert HOURS.match(err) and "about 1.2 hours on 1 worker (2 runs of 5 weeks)" in err, err
    err = _refused(capsys, "sweep", str(path), "--jobs", "1", "--out", str(tmp_path / "new"))
    assert "about 2.4 hours on 1 worker (4 runs of 5 weeks)" in err, err
    aside[0].rename(out / "runs" / aside[0].name)
    assert main(["sweep", str(path), "--jobs", "1", "--out", str(out), "--resume"]) == 0
    assert "1 runs written, 3 already done, 4 in all" in capsys.readouterr().out


def test_sensitivity_estimated_beyond_an_hour_needs_yes(tmp_path, capsys):
    vary = ('[vary]\nsampler = "sobol"\nsamples = 64\n"oversight.press" = { low = 0.1, high = '
            '0.9 }\n"state.discrimination" = { low = 0.3, high = 0.9 }\n')
    err = _refused(capsys, "sensitivity", str(_experiment(tmp_path, 10, 5200, vary)), "--jobs",
                   "2", "--out", str(tmp_path / "out"))
    assert HOURS.match(err), err
    assert _left(tmp_path) == []


def test_validate_estimated_beyond_an_hour_needs_yes(tmp_path, capsys):
    err = _refused(capsys, "validate", "--seeds", "1000", "--jobs", "2", "--out",
                   str(tmp_path / "val"))
    assert HOURS.match(err) and "runs of up to 1,040 weeks" in err
    assert _left(tmp_path) == []


def test_calibrate_estimated_beyond_an_hour_needs_yes(tmp_path, capsys):
    text = (ROOT / "scenarios" / "calibration" / "mali.toml").read_text()
    scenario = ROOT / "scenarios" / "mali_2013_2024.toml"
    text = text.replace('"../mali_2013_2024.toml"', f'"{scenario}"')
    path = tmp_path / "cal.toml"
    path.write_text(text.replace("population = 160", "population = 100000"))
    err = _refused(capsys, "calibrate", str(path), "--jobs", "2", "--out", str(tmp_path / "c"))
    assert HOURS.match(err), err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cal.toml"]


def test_yes_or_less_than_an_hour_starts_without_asking(monkeypatch):
    monkeypatch.setattr(workload, "cores", lambda: 2)
    workload.check_duration([(10_000, 5200, 200)], jobs=2, confirmed=True)
    workload.check_duration([(10, 520, 4000)], jobs=2, confirmed=False)
    # Never more workers than runs (nor cores): 2 runs of 4,010 s share 2 of the 8 workers.
    with pytest.raises(workload.WorkloadError, match=r"about 1\.1 hours on 2 workers \(2 runs"):
        workload.check_duration([(2, 10_000, 4_000_000)], jobs=8, confirmed=False)
