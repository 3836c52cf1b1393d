"""Experiments and sweeps: checked files, designs, identical results on any executor, resume."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from collections import deque
from concurrent.futures import Future
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, shrunk

from sim.core.scenario import ScenarioError
from sim.experiments.experiment import load_experiment
from sim.experiments.shards import survey
from sim.experiments.sweep import SHARD_SECONDS_ENV, SweepError, load, load_series, run_sweep
from sim.experiments.sweep_workers import TEST_KILL_ENV, LocalPool, _collect, first_runs

SCENARIOS = ROOT / "scenarios"


def _experiment(folder: Path, body: str = "", seeds: int = 3, steps: int = 12,
                name: str = "exp.toml") -> Path:
    """An experiment on two shipped regimes shrunk to 300 communities, beside it in ``folder``."""
    for regime in ("partner_led", "contractor_unchecked"):
        shrunk(folder, regime)
    path = folder / name
    path.write_text('scenarios = ["partner_led.toml", "contractor_unchecked.toml"]\n'
                    f"seeds = {seeds}\nsteps = {steps}\n{body}")
    return path


GRID = '[vary]\n"oversight.punishment" = [0.1, 0.9]\n'


def _blowback(*args: str, cwd: Path = ROOT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=300, **kwargs)


# Shards closed every few runs, so that a sweep killed mid-way has closed some and left one open.
OFTEN = {**os.environ, SHARD_SECONDS_ENV: "0.2"}


def closed_runs(out: Path) -> int:
    """The runs of the closed shards of a sweep folder (0 before it has any)."""
    return len(survey(out).homes)


def _sweep_until_killed(path: Path, out: Path, runs: int, shards: int = 1) -> int:
    """Start ``blowback sweep`` in its own process group and SIGKILL it once ``runs`` runs are
    in ``shards`` closed shards or more; returns how many runs were then."""
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out),
                             "--jobs", "2"], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True, env=OFTEN)
    try:
        deadline = time.monotonic() + 120
        while (closed_runs(out) < runs or len(survey(out).live) < shards) and \
                proc.poll() is None:
            assert time.monotonic() < deadline, "no run finished in time"
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        assert _group_ends(proc.pid, within=10), "orphaned workers outlived their parent"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    return closed_runs(out)


def _group_ends(group: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.1)
    return False


def _by_id(df: pd.DataFrame) -> pd.DataFrame:
    return df.sort_values("run_id").reset_index(drop=True)


# --- experiment files -------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "key", "words"), [
    ("seed = 3\n", "seed", "did you mean seeds?"),
    ('[vary]\n"oversight.punishmnt" = [0.1]\n', "vary.oversight.punishmnt",
     "did you mean oversight.punishment?"),
    ('[vary]\nsampler = "latn"\n', "vary.sampler", "did you mean latin?"),
    ('[vary]\n"oversight.punishment" = [0.1, 1.5]\n', "vary.oversight.punishment[1]",
     "out of range; allowed: a number in [0, 1]"),
    ('[vary]\nsampler = "latin"\nsamples = 4\n"oversight.punishment" = { low = 0.2, high = 2 }\n',
     "vary.oversight.punishment.high", "out of range"),
    ('[vary]\n"run.seed" = [1, 2]\n', "vary.run.seed", "cannot be varied"),
    ('[vary]\n"state.discrimination" = { low = 0.3, high = 0.9 }\n',
     "vary.state.discrimination.levels", "missing"),
    ('keep = "everything"\n', "keep", "allowed: one of summary, series"),
    ('[vary]\n"oversight.punishment" = [0.1, 0.9]\noversight.punishment = [0.3, 0.5]\n',
     "vary.oversight.punishment", "given twice"),
    ('[vary]\n"state.units" = { low = 1, high = 5000, levels = 5000 }\n'
     '"state.strength" = { low = 1, high = 900, levels = 900 }\n', "vary", "4,500,000 points"),
])
def test_experiment_mistakes_name_file_and_key(tmp_path, body, key, words):
    path = _experiment(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_experiment(path)
    assert err.value.file == str(path) and err.value.key == key
    assert words in str(err.value) and "\n" not in str(err.value)


def test_a_missing_scenario_file_is_named(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text('scenarios = ["nowhere.toml"]\nseeds = 2\n')
    with pytest.raises(ScenarioError, match=r"exp\.toml: scenarios\[0\]: .*nowhere\.toml: no such"):
        load_experiment(path)


def test_sobol_without_salib_says_so_in_one_line(tmp_path, monkeypatch):
    # Its submodules too: another test may have imported them already.
    for name in ("SALib", "SALib.sample", "SALib.sample.sobol"):
        monkeypatch.setitem(sys.modules, name, None)
    path = _experiment(tmp_path, '[vary]\nsampler = "sobol"\nsamples = 4\n'
                                 '"oversight.punishment" = { low = 0.1, high = 0.9 }\n')
    with pytest.raises(ScenarioError, match=r"vary\.sampler: sobol needs SALib"):
        load_experiment(path)


def test_sobol_design_has_saltelli_size_within_range(tmp_path):
    pytest.importorskip("SALib")
    path = _experiment(tmp_path, '[vary]\nsampler = "sobol"\nsamples = 4\n'
                                 '"oversight.punishment" = { low = 0.1, high = 0.9 }\n'
                                 '"state.discrimination" = { low = 0.3, high = 0.6 }\n')
    points = load_experiment(path).points
    assert len(points) == 4 * (2 * 2 + 2)
    assert all(0.1 <= p["oversight.punishment"] <= 0.9 for p in points)
    assert all(0.3 <= p["state.discrimination"] <= 0.6 for p in points)
    assert points == load_experiment(path).points


def test_cli_refuses_a_bad_experiment_without_traceback_or_output(tmp_path):
    path = _experiment(tmp_path, '[vary]\n"oversight.punishment" = [0.1, 1.5]\n')
    out = tmp_path / "out"
    done = _blowback("sweep", str(path), "--out", str(out))
    assert done.returncode == 2
    assert done.stderr.startswith("blowback: error: ") and done.stderr.count("\n") == 1
    assert "vary.oversight.punishment[1]" in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_factorial_crosses_levels_and_ranges(tmp_path):
    path = _experiment(tmp_path, '[vary]\n"oversight.punishment" = [0.1, 0.5, 0.9]\n'
                                 '"state.units" = { low = 10, high = 30, levels = 3 }\n')
    exp = load_experiment(path)
    assert len(exp.points) == 9 and len(exp.runs) == 2 * 9 * 3
    assert {p["state.units"] for p in exp.points} == {10, 20, 30}
    assert all(isinstance(p["state.units"], int) for p in exp.points)
    run = exp.runs[4]  # runs go scenario, then point, then seed
    assert (run.point, run.seed) == (1, 2)
    assert run.spec.params["state.units"] == exp.points[1]["state.units"]
    assert run.spec.params["run.seed"] == 2 and run.spec.params["run.steps"] == 12
    assert run.spec.params["map.communities"] == 300


def test_latin_hypercube_fills_every_stratum_within_range(tmp_path):
    path = _experiment(tmp_path, '[vary]\nsampler = "latin"\nsamples = 8\n'
                                 '"oversight.punishment" = { low = 0.2, high = 0.6 }\n'
                                 '"state.units" = { low = 1, high = 8 }\n')
    exp = load_experiment(path)
    assert len(exp.points) == 8 and len(exp.runs) == 2 * 8 * 3
    punish = sorted(p["oversight.punishment"] for p in exp.points)
    assert all(0.2 <= v <= 0.6 for v in punish)
    assert [int((v - 0.2) / 0.4 * 8) for v in punish] == list(range(8))
    assert sorted(p["state.units"] for p in exp.points) == list(range(1, 9))


def test_run_ids_are_stable_and_follow_the_content(tmp_path):
    path = _experiment(tmp_path, GRID)
    first, again = load_experiment(path), load_experiment(path)
    ids = [r.run_id for r in first.runs]
    assert ids == [r.run_id for r in again.runs] and len(set(ids)) == len(ids) == 12
    (tmp_path / "partner_led.toml").write_text(
        (tmp_path / "partner_led.toml").read_text() + "[state]\nunits = 30\n")
    assert not set(ids) & {r.run_id for r in load_experiment(path).runs}


def test_shipped_experiments_load():
    regimes = load_experiment(SCENARIOS / "experiments" / "regimes.toml")
    assert len(regimes.scenarios) == 6 and len(regimes.runs) == 60
    grid = load_experiment(SCENARIOS / "experiments" / "punishment_grid.toml")
    assert grid.varied == ["oversight.punishment", "state.discrimination"]
    assert len(grid.points) == 9 and len(grid.scenarios) == 2


# --- sweeps -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """A local sweep with two workers that keeps the series: the rows every executor must give."""
    folder = tmp_path_factory.mktemp("reference")
    path = _experiment(folder, 'keep = "series"\n' + GRID)
    report = run_sweep(load_experiment(path), folder / "out", jobs=2)
    assert report.written == report.total == 12
    return path, load(folder / "out")


def test_local_sweep_writes_a_row_per_run_with_outcomes(reference):
    path, rows = reference
    exp = load_experiment(path)
    assert sorted(rows["run_id"]) == sorted(r.run_id for r in exp.runs)
    assert list(rows.columns[:5]) == ["run_id", "scenario", "seed", "point",
                                      "oversight.punishment"]
    assert {"civilian_deaths_total", "civilian_deaths_contractor", "recruits_total",
            "legitimacy_final", "partner_present_final"} <= set(rows.columns)
    assert (rows["steps"] == 12).all()
    # Common random numbers: the same seed is the same world, so the partner-led runs differ
    # from the unchecked contractor's by the regime, not by chance alone.
    assert rows.groupby("scenario")["seed"].apply(sorted).map(tuple).nunique() == 1
    manifest = json.loads((path.parent / "out" / "manifest.json").read_text())
    assert manifest["experiment_hash"] == exp.content_hash
    assert manifest["scenarios"][0]["parameters"]["map.communities"] == 300
    assert {"blowback", "numba"} <= set(manifest["versions"])
    series = load_series(path.parent / "out")
    assert len(series) == 12 * 12 and set(series["run_id"]) == set(rows["run_id"])


def test_one_worker_gives_the_same_rows_as_two(reference, tmp_path):
    path, rows = reference
    run_sweep(load_experiment(path), tmp_path / "one", jobs=1)
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "one")), _by_id(rows), check_exact=True)


@pytest.mark.parametrize("ensemble", [1, 3])
def test_dask_cluster_gives_the_same_rows_even_when_a_worker_dies(reference, tmp_path,
                                                                   monkeypatch, ensemble):
    """A task is one run, or (``ensemble`` 3) three runs advanced together."""
    distributed = pytest.importorskip("distributed")
    path, rows = reference
    marker = tmp_path / "killed"
    monkeypatch.setenv(TEST_KILL_ENV, f"{load_experiment(path).runs[3].run_id}:{marker}")
    # Every port 0: dashboard_address=None still binds the scheduler's HTTP server to 8787, which
    # another cluster on the machine may hold.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", scheduler_port=0,
                                  dashboard_address=":0") as cluster:
        report = run_sweep(load_experiment(path), tmp_path / "dask",
                           scheduler=cluster.scheduler_address, ensemble=ensemble)
    assert marker.exists(), "the test hook never killed a worker"
    assert report.written == 12
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "dask")), _by_id(rows),
                                  check_exact=True)


def test_a_sweep_on_a_cluster_compiles_the_kernels_once_before_its_runs(reference, tmp_path,
                                                                        monkeypatch):
    """Workers that share the sweep's kernel cache then load the kernels; a sweep with nothing
    left to run compiles nothing."""
    distributed = pytest.importorskip("distributed")
    from sim.experiments import sweep

    path, rows = reference
    compiled: list[int] = []
    monkeypatch.setattr(sweep, "compile_once", lambda: compiled.append(len(compiled)))
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", scheduler_port=0,
                                  dashboard_address=":0") as cluster:
        run_sweep(load_experiment(path), tmp_path / "dask", scheduler=cluster.scheduler_address)
        assert compiled == [0]
        run_sweep(load_experiment(path), tmp_path / "dask", scheduler=cluster.scheduler_address,
                  resume=True)
    assert compiled == [0]
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "dask")), _by_id(rows),
                                  check_exact=True)


def test_a_run_dask_gives_up_on_is_reported_in_one_line_without_dask_noise(reference,
                                                                          tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    import dask

    path, _ = reference
    victim = load_experiment(path).runs[-1].run_id
    monkeypatch.setenv(TEST_KILL_ENV, victim)  # every attempt of it kills its worker
    config = {"distributed.scheduler.allowed-failures": 0,
              "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(config), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
            dashboard_address=None) as cluster:
        done = subprocess.run([sys.executable, "-m", "sim", "sweep", str(path), "--out",
                               str(tmp_path / "dask"), "--scheduler", cluster.scheduler_address],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 1
    assert done.stderr.startswith(f"blowback: error: run {victim} "), done.stderr
    assert done.stderr.count("\n") == 1, done.stderr


def test_a_sweep_on_a_cluster_waits_for_a_first_worker_and_counts_those_that_join(
        monkeypatch, capsys):
    """With no worker yet the sweep waited in silence, and it kept the number of tasks in
    flight it counted when it connected: batch jobs that joined later sat idle."""
    distributed = pytest.importorskip("distributed")
    import threading

    from sim.experiments import sweep_workers

    monkeypatch.setattr(sweep_workers, "RECOUNT_SECONDS", 0.0)
    with distributed.LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", scheduler_port=0,
                                  dashboard_address=":0") as cluster:
        threading.Timer(1.0, cluster.scale, (1,)).start()
        pool = sweep_workers.DaskPool(cluster.scheduler_address)
        try:
            assert "no worker has joined the scheduler" in capsys.readouterr().err
            assert pool.in_flight == sweep_workers.IN_FLIGHT_PER_WORKER
            cluster.scale(2)
            pool._client.wait_for_workers(2)
            assert pool.in_flight == 2 * sweep_workers.IN_FLIGHT_PER_WORKER
        finally:
            pool.close(abandon=True)


def test_dask_tracebacks_of_connections_the_sweep_closes_are_held_back():
    distributed = pytest.importorskip("distributed")
    from sim.experiments.sweep_workers import _DaskQuiet

    def logged(error: BaseException) -> bool:
        record = logging.LogRecord("tornado.application", logging.ERROR, __file__, 0,
                                   "Exception in callback", None, (type(error), error, None))
        return quiet.filter(record)

    quiet = _DaskQuiet()
    try:
        closed = distributed.comm.core.CommClosedError("in <TCP (closed)>: Stream is closed")
        assert logged(closed), "a connection lost mid-sweep is Dask's error and is shown"
        assert not logged(asyncio.CancelledError())
        quiet.closing = True
        assert not logged(closed)
    finally:
        quiet.restore()
    assert quiet not in logging.getLogger("tornado.application").filters


def test_a_worker_killed_mid_run_is_retried(reference, tmp_path, monkeypatch):
    path, rows = reference
    exp = load_experiment(path)
    marker = tmp_path / "killed"
    monkeypatch.setenv(TEST_KILL_ENV, f"{exp.runs[5].run_id}:{marker}")
    report = run_sweep(exp, tmp_path / "out", jobs=2)
    assert marker.exists(), "the test hook never killed a worker"
    assert report.written == 12
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "out")), _by_id(rows), check_exact=True)


def test_runs_advanced_together_give_the_rows_and_series_of_one_run_a_task(reference, tmp_path):
    path, rows = reference
    report = run_sweep(load_experiment(path), tmp_path / "together", jobs=2, ensemble=5)
    assert report.written == 12
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "together")), _by_id(rows),
                                  check_exact=True)
    by_run = ["run_id", "step"]
    pd.testing.assert_frame_equal(
        load_series(tmp_path / "together").sort_values(by_run).reset_index(drop=True),
        load_series(path.parent / "out").sort_values(by_run).reset_index(drop=True),
        check_exact=True)


def test_a_task_takes_the_runs_of_one_map_size_at_the_head_of_the_queue(tmp_path):
    path = _experiment(tmp_path, '[vary]\n"map.communities" = [300, 200]\n', seeds=3)
    queue = deque(load_experiment(path).runs)
    sizes = [{**r.base.params, **r.values}["map.communities"] for r in queue]
    assert sizes[:6] == [300, 300, 300, 200, 200, 200]
    assert first_runs(queue, 5) == list(queue)[:3]
    assert first_runs(queue, 2) == list(queue)[:2]
    assert first_runs(deque(list(queue)[3:5]), 4) == list(queue)[3:5]
    # The last runs are shared among the tasks in flight: 12 runs, 6 tasks, 2 a task.
    assert len(queue) == 12 and first_runs(queue, 5, tasks=6) == list(queue)[:2]
    assert first_runs(queue, 5, tasks=100) == list(queue)[:1]


def test_a_task_advances_no_more_runs_together_than_fit_in_an_ensembles_memory(
        tmp_path, monkeypatch):
    import sim.core.ensemble as ensemble

    path = _experiment(tmp_path, "", seeds=6)
    queue = deque(load_experiment(path).runs)
    one_run = ensemble.MOST_BYTES // ensemble.most_runs({**queue[0].base.params})
    monkeypatch.setattr(ensemble, "MOST_BYTES", 2 * one_run)
    assert first_runs(queue, 5) == list(queue)[:2]
    monkeypatch.setattr(ensemble, "MOST_BYTES", 1)
    assert first_runs(queue, 5) == list(queue)[:1]


def test_a_run_killing_the_worker_of_its_ensemble_is_found_alone_and_the_rest_resume(
        reference, tmp_path, monkeypatch):
    path, rows = reference
    exp = load_experiment(path)
    victim = exp.runs[5]
    monkeypatch.setenv(TEST_KILL_ENV, victim.run_id)
    with pytest.raises(SweepError, match=f"run {victim.run_id} .* 3 times"):
        run_sweep(exp, tmp_path / "out", jobs=2, ensemble=4)
    assert victim.run_id not in set(load(tmp_path / "out")["run_id"])
    monkeypatch.delenv(TEST_KILL_ENV)
    run_sweep(exp, tmp_path / "out", jobs=2, resume=True, ensemble=4)
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "out")), _by_id(rows), check_exact=True)


def test_tasks_that_end_together_hand_their_runs_on_in_the_order_they_were_submitted(tmp_path):
    """A set of completed futures iterates in no fixed order: the runs of tasks that ended
    between two looks went to the shards in a different order from sweep to sweep."""
    runs = load_experiment(_experiment(tmp_path, GRID)).runs
    in_flight: dict[Future, list] = {}
    for run in runs:
        done: Future = Future()
        done.set_result([None])
        in_flight[done] = [run]
    handed: list = []
    lost = _collect(set(in_flight), in_flight, LocalPool.__new__(LocalPool),
                    lambda run, _: handed.append(run.run_id), tmp_path, deque())
    assert lost == [] and not in_flight
    assert handed == [run.run_id for run in runs]


def test_the_runs_of_a_failed_ensemble_are_run_again_alone_and_a_lone_failure_is_named(
        reference, tmp_path):
    exp = load_experiment(reference[0])
    pool = LocalPool.__new__(LocalPool)
    failed: Future = Future()
    failed.set_exception(ValueError("no such thing"))
    alone: deque = deque()
    lost = _collect({failed}, {failed: exp.runs[:3]}, pool, lambda *_: None, tmp_path, alone)
    assert lost == [] and list(alone) == exp.runs[:3]
    failed = Future()
    failed.set_exception(ValueError("no such thing"))
    with pytest.raises(ValueError, match="no such thing") as raised:
        _collect({failed}, {failed: exp.runs[1:2]}, pool, lambda *_: None, tmp_path, alone)
    assert f"in run {exp.runs[1].run_id}" in raised.value.__notes__[0]


def test_a_run_that_keeps_killing_its_worker_is_named_and_the_rest_resume(
        reference, tmp_path, monkeypatch):
    path, rows = reference
    exp = load_experiment(path)
    victim = exp.runs[5]
    monkeypatch.setenv(TEST_KILL_ENV, victim.run_id)  # no marker: it dies every time
    with pytest.raises(SweepError, match=f"run {victim.run_id} .*point 1, seed 3.* 3 times"):
        run_sweep(exp, tmp_path / "out", jobs=2)
    assert victim.run_id not in set(load(tmp_path / "out")["run_id"])
    monkeypatch.delenv(TEST_KILL_ENV)
    run_sweep(exp, tmp_path / "out", jobs=2, resume=True)
    pd.testing.assert_frame_equal(_by_id(load(tmp_path / "out")), _by_id(rows), check_exact=True)


def test_killed_sweep_resumes_to_every_run_exactly_once(tmp_path):
    path = _experiment(tmp_path, GRID, seeds=20, steps=60)
    out = tmp_path / "out"
    before = _sweep_until_killed(path, out, 3)
    assert 3 <= before < 80, "the sweep ended before it was killed"
    done = _blowback("sweep", str(path), "--out", str(out), "--jobs", "2", "--resume", env=OFTEN)
    assert done.returncode == 0, done.stderr
    assert f"{80 - before} runs written, {before} already done" in done.stdout
    rows = load(out)
    exp = load_experiment(path)
    assert sorted(rows["run_id"]) == sorted(r.run_id for r in exp.runs)
    # The shard left open by the kill is gone: only closed shards, each with its line.
    assert not [p for p in (out / "runs").iterdir() if p.suffix != ".parquet"]
    assert not survey(out).stale and not survey(out).partial


def test_killed_then_compacted_sweep_resumes_to_the_uninterrupted_rows(tmp_path):
    # Runs long enough that two shards close well before the sweep ends: at 40 weeks the
    # 32 runs could all finish before the kill landed.
    path = _experiment(tmp_path, 'keep = "series"\n' + GRID, seeds=8, steps=160)
    whole = tmp_path / "whole"
    run_sweep(load_experiment(path), whole, jobs=2)
    out = tmp_path / "out"
    before = _sweep_until_killed(path, out, 3, shards=2)
    assert 3 <= before < 32, "the sweep ended before it was killed"
    merged = _blowback("sweep", "--compact", str(out))
    assert merged.returncode == 0 and "merged into runs/shard-" in merged.stdout, merged.stderr
    assert len(load(out)) == before
    done = _blowback("sweep", str(path), "--out", str(out), "--jobs", "2", "--resume", env=OFTEN)
    assert done.returncode == 0, done.stderr
    assert f"{32 - before} runs written, {before} already done" in done.stdout
    assert _blowback("sweep", "--compact", str(out)).returncode == 0
    assert [p.name for p in (out / "runs").iterdir()] == [p.name for p in
                                                          (out / "series").iterdir()]
    assert len(list((out / "runs").iterdir())) == 1
    pd.testing.assert_frame_equal(load(out), load(whole), check_exact=True)
    pd.testing.assert_frame_equal(load_series(out), load_series(whole), check_exact=True)


# A sweep SIGKILLed while its first manifest is being written, after the folders of its shards
# were made: nothing in the folder is a run.
_KILLED_AT_MANIFEST = """
import os, signal, sys
from sim.experiments import output
from sim.interfaces.cli import main
synced = output.sync
def sync(path):
    synced(path)
    if path.name.startswith(".manifest.json."):
        os.kill(os.getpid(), signal.SIGKILL)
output.sync = sync
main(sys.argv[1:])
"""


@pytest.mark.parametrize("resume", [[], ["--resume"]])
def test_a_sweep_killed_before_its_manifest_was_in_place_starts_afresh(tmp_path, resume):
    path = _experiment(tmp_path, seeds=1, steps=4)
    out = tmp_path / "out"
    killed = subprocess.run([sys.executable, "-c", _KILLED_AT_MANIFEST, "sweep", str(path),
                             "--out", str(out), "--jobs", "1"], cwd=ROOT, capture_output=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists() and (out / "runs").is_dir()
    done = _blowback("sweep", str(path), "--out", str(out), "--jobs", "1", *resume)
    assert done.returncode == 0, done.stderr
    assert "2 runs written, 0 already done, 2 in all" in done.stdout
    assert ("holds no sweep to resume" in done.stderr) == bool(resume)
    assert len(load(out)) == 2
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_resume_into_a_folder_that_does_not_exist_warns_before_it_starts_afresh(tmp_path):
    path = _experiment(tmp_path, seeds=1, steps=4)
    out = tmp_path / "typo"
    done = _blowback("sweep", str(path), "--out", str(out), "--jobs", "1", "--resume")
    assert done.returncode == 0, done.stderr
    assert f"blowback: warning: {out} holds no sweep to resume" in done.stderr
    assert "2 runs written, 0 already done, 2 in all" in done.stdout


def test_a_folder_without_a_manifest_holding_a_file_in_runs_is_refused(tmp_path):
    path = _experiment(tmp_path, seeds=1, steps=4)
    out = tmp_path / "out"
    (out / "runs").mkdir(parents=True)
    (out / "runs" / "mine.parquet").write_text("mine")
    refused = _blowback("sweep", str(path), "--out", str(out), "--resume")
    assert refused.returncode == 2 and "not empty and not a sweep folder" in refused.stderr
    assert sorted(p.name for p in out.rglob("*")) == ["mine.parquet", "runs"]


def test_ctrl_c_keeps_finished_runs_and_says_how_to_resume(tmp_path):
    path = _experiment(tmp_path, GRID, seeds=20, steps=60)
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, "-m", "sim", "sweep", str(path), "--out", str(out),
                             "--jobs", "2"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True, env=OFTEN)
    deadline = time.monotonic() + 120
    while closed_runs(out) < 3 and proc.poll() is None:
        assert time.monotonic() < deadline, "no run finished in time"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    kept = len(load(out))
    assert err.strip() == (f"blowback: interrupted: {kept} of 80 runs done, kept in {out}; rerun "
                           f"with --resume to finish it: blowback sweep {path} --out {out} "
                           "--resume --jobs 2")
    assert 3 <= kept < 80


def test_a_stop_landing_while_a_run_joins_its_shard_leaves_the_rows_and_the_log_agreeing(
        reference, tmp_path, monkeypatch):
    """Ctrl-C can land anywhere in the sweep's process, between two steps of a finished run's
    addition to the open shard too (here: its row buffered, its series and its entry in the
    log's line not yet): the run joins the shard whole or not at all, so the rows read back are
    the runs the log holds, and --resume gives each run once."""
    from sim.experiments import shards
    from sim.interfaces.cli import main

    path, rows = reference
    opened = shards._OpenShard.__init__

    class StopsOnTheSecondRow(list):
        def append(self, table) -> None:
            super().append(table)
            if len(self) == 2:
                os.kill(os.getpid(), signal.SIGINT)

    def open_shard(self, *args) -> None:
        opened(self, *args)
        self._pending[shards.RUNS] = StopsOnTheSecondRow()

    monkeypatch.setattr(shards._OpenShard, "__init__", open_shard)
    out = tmp_path / "out"
    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert main(["sweep", str(path), "--out", str(out), "--jobs", "1"]) == 130
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    monkeypatch.undo()
    assert sorted(load(out)["run_id"]) == sorted(survey(out).homes)
    run_sweep(load_experiment(path), out, jobs=1, resume=True)
    pd.testing.assert_frame_equal(load(out), rows, check_exact=True)


@pytest.mark.parametrize("where", ["before its runs", "in a resume's checks"])
def test_a_stop_before_the_runs_of_a_folder_in_place_says_what_it_keeps_and_how_to_finish(
        reference, tmp_path, monkeypatch, capsys, where):
    """Ctrl-C after the sweep's folder is in place but before its runs start (the shard writer
    being made), or while a resume checks the folder, left the generic "nothing was written",
    with no command to finish the sweep, although the folder was there with its manifest, and a
    resume's with its runs. It says what the folder keeps and how to finish, and that works."""
    import shlex

    from sim.experiments import sweep as sweeps
    from sim.interfaces.cli import main

    path, rows = reference
    out = tmp_path / "out"
    if where == "in a resume's checks":
        run_sweep(load_experiment(path), out, jobs=1, shard_runs=1)
        runs = sorted(out.glob("runs/shard-*.parquet"))
        for shard in runs[len(runs) // 2:]:
            shard.unlink()
        target, arguments = "prepare", ["--resume"]
    else:
        target, arguments = "ShardWriter", []

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(sweeps, target, stopped)
    handlers = {n: signal.getsignal(n) for n in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert main(["sweep", str(path), "--out", str(out), "--jobs", "1", *arguments]) == 130
    finally:
        for number, handler in handlers.items():
            signal.signal(number, handler)
    monkeypatch.undo()
    kept = len(set(survey(out).homes))
    said = capsys.readouterr().err.splitlines()[-1]
    head, command = said.split("rerun with --resume to finish it: ")
    assert head == f"blowback: interrupted: {kept} of 12 runs done, kept in {out}; "
    assert main(shlex.split(command)[1:]) == 0
    pd.testing.assert_frame_equal(_by_id(load(out)), _by_id(rows), check_exact=True)


@pytest.mark.parametrize(("given", "kept"), [
    (["--jobs", "1"], ["--jobs", "1"]),
    (["--scheduler", "tcp://head:8786", "--ensemble", "4", "--yes"],
     ["--scheduler", "tcp://head:8786", "--ensemble", "4", "--yes"]),
    (["--resume", "--mixed-versions", "--jobs", "3"], ["--jobs", "3", "--mixed-versions"]),
], ids=["local", "cluster", "mixed"])
def test_an_interrupted_sweep_names_the_command_that_finishes_it(tmp_path, capsys,
                                                                 monkeypatch, given, kept):
    """"Rerun with --resume" alone, a sweep given --out starts afresh in its default folder and
    leaves the stopped one unfinished, and one on a cluster finishes on the machine it is typed
    on: the message names the whole command, --out and where the runs go included."""
    import shlex

    from sim.experiments import sweep as sweeps
    from sim.interfaces.cli import main

    def stopped(*args, **kwargs):
        raise sweeps.SweepInterrupted(2, 6)

    monkeypatch.setattr(sweeps, "run_sweep", stopped)
    path, out = _experiment(tmp_path), tmp_path / "my grid"
    assert main(["sweep", str(path), "--out", str(out), *given]) == 130
    assert capsys.readouterr().err.splitlines()[-1] == (
        f"blowback: interrupted: 2 of 6 runs done, kept in {out}; rerun with --resume to finish "
        f"it: blowback sweep {shlex.quote(str(path))} --out {shlex.quote(str(out))} --resume "
        + shlex.join(kept))


def test_resume_refuses_another_experiments_folder(reference, tmp_path):
    path, _ = reference
    out = path.parent / "out"
    other = _experiment(tmp_path, '[vary]\n"oversight.punishment" = [0.2, 0.9]\n')
    done = _blowback("sweep", str(other), "--out", str(out), "--resume")
    assert done.returncode == 2 and "holds a sweep of another experiment" in done.stderr
    assert done.stderr.count("\n") == 1
    again = _blowback("sweep", str(path), "--out", str(out))
    assert again.returncode == 2 and "add --resume" in again.stderr
    assert len(load(out)) == 12


@pytest.mark.parametrize(("key", "then", "named"), [
    ("numpy", "1.0.0", "numpy 1.0.0 -> "), ("model_code", "0" * 64, "model code 000000000000 -> ")])
def test_resume_refuses_runs_of_other_versions_unless_asked(tmp_path, key, then, named):
    path = _experiment(tmp_path, seeds=2, steps=4)
    out = tmp_path / "out"
    run_sweep(load_experiment(path), out, shard_runs=1)
    (out / "runs" / sorted(p.name for p in (out / "runs").iterdir())[0]).unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["model_code"]) == 64 and "resumptions" not in manifest
    if key == "numpy":
        manifest["versions"]["numpy"] = then
    else:
        manifest["model_code"] = then
    (out / "manifest.json").write_text(json.dumps(manifest))
    refused = _blowback("sweep", str(path), "--out", str(out), "--resume")
    assert refused.returncode == 2 and refused.stderr.count("\n") == 1, refused.stderr
    assert named in refused.stderr and "--mixed-versions" in refused.stderr
    assert len(load(out)) == 3 and "resumptions" not in json.loads(
        (out / "manifest.json").read_text())
    mixed = _blowback("sweep", str(path), "--out", str(out), "--resume", "--mixed-versions")
    assert mixed.returncode == 0, mixed.stderr
    assert len(load(out)) == 4
    (resumed,) = json.loads((out / "manifest.json").read_text())["resumptions"]
    assert resumed["runs_done"] == 3 and resumed["model_code"] != then


def test_a_finished_sweep_resumed_under_other_code_adds_nothing_and_is_not_refused(tmp_path):
    """Resuming a finished sweep adds no run, so no versions can mix: its analysis (e.g.
    `blowback sensitivity` on the same folder) may be redone after the code changed."""
    path = _experiment(tmp_path, seeds=2, steps=4)
    out = tmp_path / "out"
    run_sweep(load_experiment(path), out)
    before = {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()}
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["model_code"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    done = _blowback("sweep", str(path), "--out", str(out), "--resume")
    assert done.returncode == 0, done.stderr
    assert {p.name: p.stat().st_mtime_ns for p in (out / "runs").iterdir()} == before
    assert json.loads((out / "manifest.json").read_text())["model_code"] == "0" * 64


def test_the_sweeps_checks_alone_refuse_as_the_sweep_does_and_write_nothing(tmp_path):
    """``sweep_folder.check`` (what the cluster script asks before it queues a job) makes the
    refusals of a resumption without making it."""
    from sim.experiments.output import OutputError
    from sim.experiments.sweep_folder import check

    path = _experiment(tmp_path, seeds=2, steps=4)
    experiment, out = load_experiment(path), tmp_path / "out"
    check(out, experiment, resume=False)
    assert not out.exists()
    run_sweep(experiment, out, shard_runs=1)
    (out / "runs" / sorted(p.name for p in (out / "runs").iterdir())[0]).unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["model_code"] = "0" * 64
    (out / "manifest.json").write_text(json.dumps(manifest))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for resume, said in ((False, "add --resume"), (True, "--mixed-versions")):
        with pytest.raises(OutputError, match=said):
            check(out, experiment, resume=resume)
    check(out, experiment, resume=True, mixed_versions=True)
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    resumed = _blowback("sweep", str(path), "--out", str(out), "--resume", "--mixed-versions")
    assert resumed.returncode == 0, resumed.stderr
    assert len(load(out)) == 4


def test_mixed_versions_goes_with_resume(tmp_path):
    done = _blowback("sweep", str(_experiment(tmp_path)), "--out", str(tmp_path / "out"),
                     "--mixed-versions")
    assert done.returncode == 2 and "--mixed-versions goes with --resume" in done.stderr
    assert not (tmp_path / "out").exists()


def test_a_task_dask_dropped_is_told_apart_from_an_error_of_the_run():
    """distributed's concurrent.futures wrapper fails unpacking the state of a task lost with
    its worker: that run is run again, while an error raised by a run still stops the sweep."""
    from pathlib import Path

    from sim.experiments.sweep_workers import dropped_by_dask

    def raised(filename: str) -> BaseException:
        try:
            exec(compile("typ, exc, tb = (1,)", filename, "exec"))
        except ValueError as err:
            return err
        raise AssertionError("nothing raised")

    assert dropped_by_dask(raised(str(Path("site-packages") / "distributed" / "cfexecutor.py")))
    assert not dropped_by_dask(raised(str(Path("sim") / "experiments" / "runs.py")))
    assert not dropped_by_dask(RuntimeError("a run's own error"))


@pytest.mark.parametrize("keep", ["summary", "series"])
def test_the_sweep_names_the_files_it_wrote(tmp_path, keep):
    """The closing line lists the series shards where the sweep keeps the series, and only
    there: an analyst reading it should not go looking for files that are not there, nor miss
    ones that are."""
    path = _experiment(tmp_path, f'keep = "{keep}"\n', seeds=1, steps=4)
    out = tmp_path / "out"
    done = _blowback("sweep", str(path), "--jobs", "1", "--out", str(out))
    assert done.returncode == 0, done.stderr
    listed = done.stdout.splitlines()[1]
    assert "runs/shard-*.parquet" in listed and any((out / "runs").glob("shard-*.parquet"))
    series = any((out / "series").glob("shard-*.parquet"))
    assert series == (keep == "series")
    assert ("series/shard-*.parquet" in listed) == series
