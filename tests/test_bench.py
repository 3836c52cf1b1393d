"""The benchmark command runs end to end on tiny sizes (figures belong to benchmarks, not here)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import ROOT

from benchmarks.run import BenchmarkError, _isolated


def test_bench_runs_on_tiny_sizes():
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--tiny"], capture_output=True,
                          text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    for heading in ("Epstein's civil violence", "Kernels, compiled vs plain Python",
                    "Whole model, one weekly step", "Building", "Where a step's time goes",
                    "µs with each table a plain tuple", "one by one against one ensemble"):
        assert heading in done.stdout
    kernel_lines = [line for line in done.stdout.splitlines() if line.rstrip().endswith("x")]
    assert len(kernel_lines) >= 14


def test_bench_rejects_unknown_sections():
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--only", "warp"],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "warp" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("partial", [["--tiny"], ["--only", "epstein"]])
def test_a_report_of_tiny_or_partial_figures_is_refused_before_measuring(partial):
    before = {path: path.read_bytes() for path in (ROOT / "docs" / "performance.json",
                                                   ROOT / "docs" / "PERFORMANCE.md")}
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--report", *partial],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert done.returncode == 2 and "--report" in done.stderr and not done.stdout
    assert len(done.stderr.strip().splitlines()) == 1
    assert all(path.read_bytes() == content for path, content in before.items())


def test_bench_compares_under_another_interpreter_and_names_a_bad_one(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "bench", "--tiny", "--only", "epstein",
                           "--mesa-python", sys.executable], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert len([line for line in done.stdout.splitlines() if "12x12" in line]) == 2
    missing = subprocess.run([sys.executable, "-m", "sim", "bench", "--only", "epstein",
                              "--mesa-python", str(tmp_path / "python")], capture_output=True,
                             text=True, cwd=ROOT, timeout=60)
    assert missing.returncode == 2 and "--mesa-python" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and "Traceback" not in missing.stderr
    # A program that runs but cannot import Mesa, or is no Python at all (it exits 0 and prints
    # nothing), and a folder: each refused in one line before any benchmark runs.
    broken = tmp_path / "broken-python"
    broken.write_text("#!/bin/sh\necho 'ModuleNotFoundError: no mesa here' >&2\nexit 1\n")
    silent = tmp_path / "silent"
    silent.write_text("#!/bin/sh\nexit 0\n")
    for program in (broken, silent):
        program.chmod(0o755)
    for program, said in ((broken, "no mesa here"), (silent, "nothing printed"),
                          (tmp_path, "is a folder")):
        failed = subprocess.run([sys.executable, "-m", "sim", "bench", "--tiny", "--only",
                                 "startup", "--mesa-python", str(program)], capture_output=True,
                                text=True, cwd=ROOT, timeout=300)
        assert failed.returncode == 2 and not failed.stdout and str(program) in failed.stderr
        assert said in failed.stderr and len(failed.stderr.strip().splitlines()) == 1
    # A section whose interpreter prints no result is named, not a traceback.
    with pytest.raises(BenchmarkError, match="printed no result"):
        _isolated("epstein", "compare", 12, 1, 1, python=str(silent))


def _figures(ratio: float, slowest_kernel: float) -> dict:
    """Figures shaped as a run's, with chosen values: what the report makes of them."""
    return {"machine": "test", "epstein": [
        {"mesa": "3.5.1", "python": "3.12.1", "grid": "40x40", "agents": 1223,
         "mesa_agent_steps_per_s": 40e3, "ours_agent_steps_per_s": 40e3 * ratio,
         "ratio": ratio, "median_ratio": ratio}],
        "kernels": [{"kernel": "recruit", "speedup": 500.0},
                    {"kernel": "band_losses", "speedup": slowest_kernel}],
        "scale": [{"communities": n, "ms_per_step": ms, "community_steps_per_s": n / ms * 1e3,
                   "ns_per_community_step": ms * 1e6 / n}
                  for n, ms in ((10_000, 2.0), (1_000_000, 40.0))]}


def test_report_gives_each_ensemble_against_one_run_a_task_and_the_time_of_10000_runs():
    sys.path.insert(0, str(ROOT))
    from benchmarks.report import table

    sweep = {"runs": 1000, "jobs": 2, "sweep_s": 200.0, "sweep_runs_per_min": 300.0,
             "loop_s": 400.0, "loop_runs_per_min": 150.0, "loops_s": 195.0, "peak_mb": 340.0,
             "overhead": 0.03, "ensembles": [
                 {"ensemble": 4, "sweep_s": 50.0, "runs_per_min": 1200.0, "ratio": 4.0,
                  "peak_mb": 460.0},
                 {"ensemble": 8, "sweep_s": 210.0, "runs_per_min": 286.0, "ratio": 200 / 210,
                  "peak_mb": 580.0}]}
    rows = table({"sweep": sweep}).splitlines()[-3:]
    assert "`--ensemble 4`" in rows[0] and "**4.00×**" in rows[0]
    assert "**0.95×: target not met**" in rows[1] and "580 MB" in rows[1]
    # The best rate is R = 4's: 50 s for 1,000 runs, 500 s (8 min) for 10,000.
    assert "**8 min**" in rows[2]
    slow = table({"sweep": sweep | {"ensembles": []}}).splitlines()[-1]
    assert "**33 min: target not met**" in slow


def test_report_names_each_missed_target_and_rewrites_only_its_table(tmp_path):
    sys.path.insert(0, str(ROOT))
    from benchmarks.report import BEGIN, END, table, write

    met = table(_figures(ratio=420.0, slowest_kernel=120.0))
    assert "target not met" not in met and "**420×**" in met
    missed = table(_figures(ratio=250.0, slowest_kernel=94.0)).splitlines()
    assert [("not met" in line) for line in missed[2:]] == [True, True, False, False, False]
    assert "`band_losses`" in missed[3]

    (tmp_path / "docs").mkdir()
    doc = tmp_path / "docs" / "PERFORMANCE.md"
    doc.write_text(f"# Performance\n\n{BEGIN}\nold table\n{END}\n\nNotes kept.\n")
    written = write(_figures(ratio=420.0, slowest_kernel=120.0), root=tmp_path)
    assert {p.name for p in written} == {"performance.json", "performance.png",
                                         "PERFORMANCE.md"}
    text = doc.read_text()
    assert "old table" not in text and met in text and text.endswith("\n\nNotes kept.\n")
    assert not [p for p in (tmp_path / "docs").iterdir() if p.name.startswith(".")]


def test_the_calibration_benchmark_times_two_fits_that_agree(capsys):
    from benchmarks.calibration import main

    assert main(["--population", "4", "--generations", "1", "--draws", "2", "--ensemble", "2",
                 "--jobs", "1", "--communities", "300"]) == 0
    said = capsys.readouterr().out
    assert "same fit: yes" in said and "ratio" in said


def test_the_profile_splits_each_mechanism_into_its_kernels_and_its_python():
    from benchmarks.conflict import profile

    prof = profile(1_000, 3)
    in_kernels = prof["mechanisms_in_kernels_ms"]
    # Each kernel is timed within a step of the mechanism that owns it, so a mechanism's
    # kernels never take longer than its steps, and together they are all the kernels' time.
    assert set(in_kernels) <= set(prof["mechanisms_ms"])
    assert {"attitudes", "observation", "M04 harm and news"} <= set(in_kernels)
    for name, ms in in_kernels.items():
        assert 0.0 < ms <= prof["mechanisms_ms"][name], name
    assert sum(in_kernels.values()) == pytest.approx(prof["in_kernels_ms"])


def test_the_calling_benchmark_hands_over_every_kernel_call_of_the_week_unless_told_fewer():
    from benchmarks.calling import week_calls

    _, every = week_calls(300)
    _, first = week_calls(300, 6)
    # A default week makes 28 kernel calls; a bug once kept none of them unless told how many.
    assert len(every) > 20 and len(first) == 6


def test_compiled_kernels_are_timed_on_the_threads_a_model_of_that_size_gives_them(monkeypatch):
    import numba

    import benchmarks.conflict as conflict
    from sim.core.compiled import PARALLEL_FROM

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("numba has one thread here: one thread is all either side could use")
    threads = []

    def timed(fn, args, repeats, least_seconds=0.0):
        threads.append(numba.get_num_threads())
        return 1e-6

    monkeypatch.setattr(conflict, "_time_call", timed)
    monkeypatch.setattr(conflict, "_plain_times", lambda calls, repeats: dict.fromkeys(calls, 1e-4))
    before = numba.get_num_threads()
    numba.set_num_threads(2)
    try:
        rows = conflict.kernels(300, 1)
    finally:
        numba.set_num_threads(before)
    # Below PARALLEL_FROM a model runs its kernels on one thread, as the plain side runs.
    assert 300 < PARALLEL_FROM
    assert len(threads) == len(rows) >= 20 and set(threads) == {1}
    assert all(row["speedup"] == pytest.approx(100.0) for row in rows)


def test_a_kernel_is_timed_after_a_first_call_that_is_not_counted():
    """The first call of a plain kernel warms the interpreter's caches; a cheap kernel is called
    until its calls add up to the seconds asked, within MOST_CALLS."""
    from benchmarks.conflict import MOST_CALLS, _time_call

    made = []
    _time_call(made.append, (1,), 3)
    assert len(made) == 1 + 3
    made.clear()
    _time_call(made.append, (1,), 3, least_seconds=1e9)
    assert len(made) == 1 + MOST_CALLS


@pytest.mark.parametrize(("seconds", "peak_mb", "missed", "met"), [
    (0.2, 1500.0, "**1,500 MB: target not met**", "**0.20 s**"),
    (12.0, 300.0, "**12.00 s: target not met**", "**300 MB**")])
def test_the_build_row_names_the_figure_that_missed_its_target(seconds, peak_mb, missed, met):
    sys.path.insert(0, str(ROOT))
    from benchmarks.report import table

    build = {"communities": 1_000_000, "seconds": seconds, "peak_mb": peak_mb, "before_mb": 250.0}
    row = table({"build": build}).splitlines()[-1]
    assert missed in row and met in row and row.count("not met") == 1


def test_a_peak_of_memory_is_read_in_megabytes_whatever_the_platform():
    """``ru_maxrss`` counts kB on Linux and bytes on macOS: read as kB there, every peak of the
    table would be 1,024 times too large."""
    from benchmarks.sweep import measured

    _, peak = measured([sys.executable, "-c", "held = bytearray(300 * 2**20); held[::4096] = "
                        "b'x' * len(held[::4096])"])
    assert 300 <= peak < 600
