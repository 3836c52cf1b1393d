"""Results folders through the real command line: never silently replaced (``--force``), never
the current folder, checksummed and checked when read, written with the user's umask; a saved
run read back by ``sim.results.load_run``.

Sweep folders (checksums.jsonl, the lock, --resume redoing damaged runs) are in
tests/test_sweep_checksums.py.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
import pytest
import test_faults
from conftest import ROOT, blowback
from conftest import assert_refused as refused

import sim
import sim.experiments.output as output
from sim.core.paths import PathError
from sim.experiments import compare, results, sweep_folder
from sim.interfaces.cli import main

# A tmpfs of its own that can be made read-only (needs root; skipped elsewhere).
small_disk = test_faults.small_disk


def assert_refused(status: int, err: str, *words: str) -> None:
    refused(status, err)
    for word in words:
        assert word in err, err


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: to show that nothing was touched."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def scenario(tmp_path, monkeypatch) -> Path:
    """A tiny scenario in tmp_path, which is also the current folder (default outputs land in
    tmp_path/results)."""
    path = tmp_path / "tiny.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "base.toml"}"\n[map]\ncommunities = 200\n')
    monkeypatch.chdir(tmp_path)
    return path


def _run(capsys, scenario: Path, *extra: str) -> tuple[int, str, str]:
    return blowback(capsys, "run", str(scenario), "--steps", "3", *extra)


def _compare(capsys, scenario: Path, *extra: str) -> tuple[int, str, str]:
    return blowback(capsys, "compare", str(scenario), "--seeds", "2", "--steps", "3",
                    "--jobs", "1", *extra)


def _only_folder(parent: Path, prefix: str) -> Path:
    found = [p for p in parent.iterdir() if p.name.startswith(prefix)]
    assert len(found) == 1, found
    return found[0]


# --- 1. a default output never replaces a different result -----------------------------------


def test_run_default_folder_is_named_by_the_resolved_scenario(capsys, scenario):
    assert _run(capsys, scenario)[0] == 0
    assert _run(capsys, scenario, "--steps", "4")[0] == 0
    assert _run(capsys, scenario, "--set", "oversight.punishment=0.9")[0] == 0
    folders = sorted(p.name for p in (scenario.parent / "results").iterdir())
    assert len(folders) == 3 and all(f.startswith("tiny-seed1-") for f in folders), folders
    steps = {json.loads((scenario.parent / "results" / f / "summary.json").read_text())
             ["summary"]["steps"] for f in folders}
    assert steps == {3, 4}


def test_run_again_into_its_default_folder_is_refused_and_touches_nothing(capsys, scenario):
    assert _run(capsys, scenario)[0] == 0
    out = _only_folder(scenario.parent / "results", "tiny-seed1-")
    before = tree(out)
    status, stdout, err = _run(capsys, scenario)
    assert_refused(status, err, str(Path("results") / out.name), "already holds a result",
                   "a run of Base world seed 1", "--force")
    assert stdout == "" and tree(out) == before


def test_run_with_force_replaces_its_own_result(capsys, scenario):
    out = scenario.parent / "o"
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    assert _run(capsys, scenario, "--out", str(out), "--steps", "4")[0] == 2
    assert _run(capsys, scenario, "--out", str(out), "--steps", "4", "--force")[0] == 0
    assert json.loads((out / "summary.json").read_text())["summary"]["steps"] == 4
    assert not [p for p in scenario.parent.iterdir() if p.name.startswith(".o-")]


def test_force_never_replaces_a_folder_with_foreign_files(capsys, scenario):
    out = scenario.parent / "precious"
    out.mkdir()
    (out / "thesis.docx").write_text("keep me")
    (out / "summary.json").write_text("{}")
    status, _, err = _run(capsys, scenario, "--out", str(out), "--force")
    assert_refused(status, err, "not Blowback's output")
    assert sorted(p.name for p in out.iterdir()) == ["summary.json", "thesis.docx"]


def test_another_commands_folder_is_named_as_such(capsys, scenario):
    """A sweep's folder given to `run --out` is Blowback's, but not a run's: it is refused
    as another command's results, not as the user's own files."""
    out = scenario.parent / "a-sweep"
    (out / "runs").mkdir(parents=True)
    (out / "manifest.json").write_text(json.dumps({"format": "blowback-sweep/3"}))
    status, _, err = _run(capsys, scenario, "--out", str(out), "--force")
    assert_refused(status, err, "holds the results of another command (a sweep)")
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "runs"]


def test_an_empty_folder_is_written_without_force(capsys, scenario):
    out = scenario.parent / "empty"
    out.mkdir()
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    assert (out / "summary.json").is_file()


def test_compare_with_another_first_seed_lands_in_another_folder(capsys, scenario):
    assert _compare(capsys, scenario)[0] == 0
    assert _compare(capsys, scenario, "--first-seed", "5")[0] == 0
    folders = [p for p in (scenario.parent / "results").iterdir()]
    assert len(folders) == 2
    seeds = {tuple(pd.read_csv(f / "runs.csv")["seed"]) for f in folders}
    assert seeds == {(1, 2), (5, 6)}


def test_compare_again_is_refused_and_force_replaces(capsys, scenario):
    assert _compare(capsys, scenario)[0] == 0
    out = _only_folder(scenario.parent / "results", "compare-")
    before = tree(out)
    status, _, err = _compare(capsys, scenario)
    assert_refused(status, err, "already holds a result", "a comparison of Base world on "
                   "seeds 1-2", "--force")
    assert tree(out) == before
    assert _compare(capsys, scenario, "--force")[0] == 0


def test_analyse_refuses_to_replace_its_analysis_without_force(capsys, scenario):
    out = scenario.parent / "cmp"
    assert _compare(capsys, scenario, "--out", str(out))[0] == 0
    assert blowback(capsys, "analyse", str(out))[0] == 0
    analysis = scenario.parent / "cmp-analysis"
    before = tree(analysis)
    status, _, err = blowback(capsys, "analyse", str(out))
    assert_refused(status, err, "cmp-analysis", "already holds a result", "an analysis of")
    assert tree(analysis) == before
    assert blowback(capsys, "analyse", str(out), "--force")[0] == 0


def test_validate_refuses_its_fixed_folder_before_running_anything(capsys, scenario,
                                                                    monkeypatch):
    from sim.experiments import claims

    monkeypatch.setattr(claims, "measure", lambda *a, **k: pytest.fail("ran the claims"))
    out = scenario.parent / "results" / "validation"
    out.mkdir(parents=True)
    (out / "claims.csv").write_text("key\nbennett\n")
    status, _, err = blowback(capsys, "validate", "--claims", "bennett", "--seeds", "2")
    assert_refused(status, err, "results/validation", "already holds a result", "--force")
    assert (out / "claims.csv").read_text() == "key\nbennett\n"


@pytest.fixture
def unfitted(monkeypatch) -> str:
    """The shipped calibration file, whose fit fails the test if it starts."""
    pytest.importorskip("pyabc")
    from sim.experiments import calibration

    monkeypatch.setattr(calibration, "fit", lambda *a, **k: pytest.fail("fitted"))
    return str(ROOT / "scenarios" / "calibration" / "mali.toml")


def test_calibrate_refuses_an_existing_folder_and_scenario_before_fitting(capsys, scenario,
                                                                         unfitted):
    from sim.experiments import calibration_report

    cal = unfitted
    out = scenario.parent / "cal"
    out.mkdir()
    (out / "posterior.csv").write_text("x\n1\n")
    status, _, err = blowback(capsys, "calibrate", cal, "--out", str(out))
    assert_refused(status, err, "cal", "already holds a result", "--force")
    written = scenario.parent / "fitted.toml"
    written.write_text(calibration_report.MARK + " x`\n")
    status, _, err = blowback(capsys, "calibrate", cal, "--out", str(scenario.parent / "new"),
                              "--scenario-out", str(written))
    assert_refused(status, err, "fitted.toml", "already holds a result", "--scenario-out",
                   "--force")
    assert not (scenario.parent / "new").exists()


def test_sensitivity_refuses_its_analysis_folder_before_running_the_sweep(capsys, scenario,
                                                                          monkeypatch):
    pytest.importorskip("SALib")
    from test_sensitivity import _experiment as sobol_experiment

    from sim.experiments import sensitivity

    # Its check of the installed extras imports EMA Workbench (seconds); not what is tested.
    monkeypatch.setattr(sensitivity, "check", lambda experiment: None)

    experiment = sobol_experiment(scenario.parent, 4)
    analysis = scenario.parent / "sw-sensitivity"
    analysis.mkdir()
    (analysis / "indices.csv").write_text("x\n")
    status, _, err = blowback(capsys, "sensitivity", str(experiment), "--out",
                              str(scenario.parent / "sw"))
    assert_refused(status, err, "sw-sensitivity", "already holds a result", "--force")
    assert not (scenario.parent / "sw").exists()


def test_calibrate_default_folder_carries_a_hash_of_the_file(tmp_path):
    pytest.importorskip("pyabc")
    from sim.experiments import calibration, calibration_report

    shipped = ROOT / "scenarios" / "calibration" / "mali.toml"
    copy = tmp_path / "mali.toml"
    copy.write_text(shipped.read_text().replace('scenario = "../',
                                                f'scenario = "{shipped.parent.parent}/'))
    name = calibration_report.default_out(calibration.load_calibration(shipped)).name
    assert name.startswith("calibrate-mali-") and len(name) == len("calibrate-mali-") + 8
    changed = copy.read_text() + "\n# another calibration\n"
    copy.write_text(changed)
    assert calibration_report.default_out(calibration.load_calibration(copy)).name != name


# --- 2. never the current folder, and nothing left behind by a failed replace ----------------


@pytest.mark.parametrize("out", [".", "..", "./", "sub/.."])
def test_out_that_is_or_holds_the_current_folder_is_refused(capsys, scenario, out):
    before = sorted(p.name for p in scenario.parent.iterdir())
    status, _, err = _run(capsys, scenario, "--out", out)
    assert_refused(status, err, "--out", "current folder")
    assert sorted(p.name for p in scenario.parent.iterdir()) == before


def test_compare_and_sweep_out_dot_are_refused(capsys, scenario):
    assert_refused(*_compare(capsys, scenario, "--out", ".")[::2], "current folder")
    experiment = scenario.parent / "exp.toml"
    experiment.write_text('scenarios = ["tiny.toml"]\nseeds = 1\nsteps = 3\n')
    status, _, err = blowback(capsys, "sweep", str(experiment), "--out", ".")
    assert_refused(status, err, "current folder")
    assert sorted(p.name for p in scenario.parent.iterdir()) == ["exp.toml", "tiny.toml"]


@pytest.fixture
def unwritable(tmp_path, monkeypatch) -> Path:
    """A folder in which nothing can be made, as a folder of another user's or a read-only disk
    behaves even for root: the temporary folders made in it are refused."""
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkdtemp

    def mkdtemp(*args, dir=None, **kwargs):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    return locked


@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_out_that_cannot_be_written_is_refused_before_any_run(capsys, scenario, unwritable,
                                                                 monkeypatch, command):
    from sim.interfaces import simulation

    monkeypatch.setattr(simulation.Sim, "run", lambda *a, **k: pytest.fail("ran"))
    monkeypatch.setattr(compare, "run_many", lambda *a, **k: pytest.fail("ran"))
    go = _run if command == "run" else _compare
    status, _, err = go(capsys, scenario, "--out", str(unwritable / "deep" / "o"))
    assert_refused(status, err, "--out", "cannot write there", "Permission denied")
    assert not any(unwritable.iterdir())


def test_an_out_named_in_other_bytes_than_utf8_is_refused_in_one_line(tmp_path):
    out = tmp_path / "o\udcffut"
    with pytest.raises(PathError, match="not UTF-8"):
        output.check_replaceable(out, frozenset())
    with pytest.raises(PathError, match="not UTF-8"):
        sweep_folder.hold(out)
    assert not any(tmp_path.iterdir())


def test_calibrate_refuses_a_scenario_out_inside_its_results_before_fitting(capsys, scenario,
                                                                          unfitted):
    out = scenario.parent / "cal"
    for inside in (out, out / "fitted.toml"):
        status, _, err = blowback(capsys, "calibrate", unfitted, "--out", str(out),
                                  "--scenario-out", str(inside))
        assert_refused(status, err, "--scenario-out", "outside it")
    assert not out.exists()


def test_calibrate_refuses_a_scenario_out_inside_another_results_folder(capsys, scenario,
                                                                        unfitted):
    """Another command's results folder is checked against its manifest: a scenario written
    into it (or into a sweep's runs/) would make it a folder of foreign files."""
    other = scenario.parent / "a-sweep"
    (other / "runs").mkdir(parents=True)
    (other / "manifest.json").write_text(json.dumps({"format": "blowback-sweep/3"}))
    for inside in (other / "fitted.toml", other / "runs" / "fitted.toml"):
        status, _, err = blowback(capsys, "calibrate", unfitted, "--out",
                                  str(scenario.parent / "cal"), "--scenario-out", str(inside))
        assert_refused(status, err, "inside a results folder of Blowback's", "a sweep")
    assert sorted(p.name for p in other.iterdir()) == ["manifest.json", "runs"]
    assert not (scenario.parent / "cal").exists()


@pytest.mark.parametrize(("kind", "expected"), [
    ("file", "exists and is a file; allowed: a new folder, or a folder of Blowback's output"),
    ("fifo", "exists and is a FIFO (named pipe); allowed: a new folder"),
    ("nul", "holds a NUL byte; allowed: a new folder"),
])
def test_an_output_that_is_no_folder_is_refused_by_the_path_check(tmp_path, kind, expected):
    """The folders a command names itself (an analysis beside its comparison, a default
    results folder) and a sweep's folder meet the same check of what a path is as ``--out``."""
    taken = tmp_path / "taken"
    if kind == "file":
        taken.write_text("mine\n")
    elif kind == "fifo":
        os.mkfifo(taken)
    out = Path(f"{tmp_path}/a\0b") if kind == "nul" else taken
    with pytest.raises(PathError, match=re.escape(expected)):
        output.check_replaceable(out, frozenset({"series.csv"}), force=True)
    with pytest.raises(PathError, match=re.escape(expected)):
        sweep_folder.hold(out)  # a sweep's folder too
    assert [p.name for p in tmp_path.iterdir()] == ([] if kind == "nul" else ["taken"])


@pytest.mark.parametrize("failing", [1, 2])
def test_a_failed_replace_keeps_the_old_result_and_leaves_no_temporary_folder(
        capsys, scenario, monkeypatch, failing):
    out = scenario.parent / "o"
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    before = tree(out)
    calls = []
    real = os.replace

    def replace(src, dst):
        calls.append(src)
        if len(calls) == failing:
            raise PermissionError(13, "Permission denied")
        return real(src, dst)

    monkeypatch.setattr(output.os, "replace", replace)
    status, _, err = _run(capsys, scenario, "--out", str(out), "--steps", "4", "--force")
    assert_refused(status, err, "o: cannot write", "Permission denied")
    assert tree(out) == before
    assert sorted(p.name for p in scenario.parent.iterdir()) == ["o", "tiny.toml"]


def test_a_replace_on_a_read_only_disk_keeps_the_old_result(capsys, scenario, small_disk):
    out = small_disk / "o"
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    before = tree(out)
    test_faults._make_read_only(small_disk)
    status, _, err = _run(capsys, scenario, "--out", str(out), "--steps", "4", "--force")
    assert_refused(status, err, "Read-only file system")
    assert tree(out) == before and [p.name for p in small_disk.iterdir()] == ["o"]


# --- 3. manifests with checksums, checked when read ------------------------------------------


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_run_folder_records_every_file_with_size_and_sha256(capsys, scenario):
    out = scenario.parent / "o"
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["what"] == "a run of Base world seed 1"
    assert set(manifest["files"]) == {"summary.json", "timeseries.parquet"}
    for name, entry in manifest["files"].items():
        assert entry == {"size": (out / name).stat().st_size, "sha256": _sha(out / name)}


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Path:
    """One tiny comparison for the module, copied by each test that damages it."""
    folder = tmp_path_factory.mktemp("compared")
    path = folder / "tiny.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "base.toml"}"\n[map]\ncommunities = 200\n')
    assert main(["compare", str(path), "--seeds", "2", "--steps", "3", "--jobs", "1", "--out",
                 str(folder / "cmp")]) == 0
    return folder / "cmp"


@pytest.fixture
def comparison(compared, scenario) -> Path:
    return Path(shutil.copytree(compared, scenario.parent / "cmp"))


def test_comparison_and_analysis_folders_carry_checksums(capsys, comparison):
    files = json.loads((comparison / "manifest.json").read_text())["files"]
    assert {"runs.csv", "comparison.csv", "comparison.png"} <= set(files)
    assert blowback(capsys, "analyse", str(comparison))[0] == 0
    analysis = comparison.with_name("cmp-analysis")
    files = json.loads((analysis / "manifest.json").read_text())["files"]
    assert set(files) == {p.name for p in analysis.iterdir()} - {"manifest.json"}


@pytest.mark.parametrize("damage", ["half", "empty", "edited", "no_manifest", "no_files_key",
                                    "files_wrong_type", "size_wrong_type", "not_json"])
def test_a_damaged_comparison_is_refused_naming_the_file(capsys, comparison, damage):
    runs, manifest = comparison / "runs.csv", comparison / "manifest.json"
    doc = json.loads(manifest.read_text())
    if damage == "half":
        runs.write_bytes(runs.read_bytes()[: runs.stat().st_size // 2])
    elif damage == "empty":
        runs.write_bytes(b"")
    elif damage == "edited":
        runs.write_text(runs.read_text().replace("Base world", "Base_world"))
    elif damage == "no_manifest":
        manifest.unlink()
    elif damage == "not_json":
        manifest.write_text("{")
    else:
        if damage == "no_files_key":
            del doc["files"]
        elif damage == "files_wrong_type":
            doc["files"] = ["runs.csv"]
        else:
            doc["files"]["runs.csv"]["size"] = "12"
        manifest.write_text(json.dumps(doc))
    status, _, err = blowback(capsys, "analyse", str(comparison))
    named = "runs.csv" if damage in ("half", "empty", "edited") else (
        "before Blowback recorded checksums" if damage == "no_manifest" else "manifest.json")
    assert_refused(status, err, named)
    assert not comparison.with_name("cmp-analysis").exists()


def test_a_file_copied_into_a_comparison_folder_is_refused(capsys, comparison):
    manifest = comparison / "manifest.json"
    doc = json.loads(manifest.read_text())
    del doc["files"]["runs.csv"]
    manifest.write_text(json.dumps(doc))
    status, _, err = blowback(capsys, "analyse", str(comparison))
    assert_refused(status, err, "runs.csv", "not recorded")


# --- 4. the umask ------------------------------------------------------------------------------


def test_folders_and_files_get_the_modes_of_the_umask(capsys, scenario):
    out = scenario.parent / "o"
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    assert out.stat().st_mode & 0o777 == 0o777 & ~output.UMASK
    for file in out.iterdir():
        assert file.stat().st_mode & 0o777 == 0o666 & ~output.UMASK, file


@pytest.mark.skipif(sys.platform == "win32", reason="umask modes are POSIX")
def test_a_group_umask_gives_group_readable_results(scenario):
    out = scenario.parent / "shared"
    code = ("import os, sys; os.umask(0o027); from sim.interfaces.cli import main; "
            "sys.exit(main(sys.argv[1:]))")
    done = subprocess.run([sys.executable, "-c", code, "run", str(scenario), "--steps", "3",
                           "--out", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o750
    assert {f.stat().st_mode & 0o777 for f in out.iterdir()} == {0o640}


# --- 6. analyse . from inside a folder ---------------------------------------------------------


def test_analyse_dot_inside_a_comparison_folder_writes_beside_it(capsys, comparison,
                                                                 monkeypatch):
    monkeypatch.chdir(comparison)
    status, stdout, err = blowback(capsys, "analyse", ".")
    assert status == 0, err
    assert "Paired difference" in stdout
    assert (comparison.with_name("cmp-analysis") / "table.csv").is_file()
    assert not [p for p in comparison.iterdir() if p.name.startswith(".")]


def test_analyse_dot_inside_a_run_folder_is_one_line(capsys, scenario, monkeypatch):
    out = scenario.parent / "o"
    assert _run(capsys, scenario, "--out", str(out))[0] == 0
    monkeypatch.chdir(out)
    status, _, err = blowback(capsys, "analyse", ".")
    assert_refused(status, err, "a run of Base world seed 1", "not a sweep or a comparison")
    assert not (scenario.parent / "o-analysis").exists()


# --- 7. a saved run read back (sim.results.load_run) -------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[sim.Sim, Path]:
    """One tiny run for the module, saved with ``Sim.save``: the run and its folder, which each
    test that damages it copies."""
    folder = tmp_path_factory.mktemp("saved")
    path = folder / "tiny.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / "base.toml"}"\n[map]\ncommunities = 200\n')
    run = sim.Sim(path, seed=3, steps=3).run()
    return run, run.save(folder / "mine")


@pytest.fixture
def saved_copy(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved[1], tmp_path / "mine"))


def test_a_saved_run_reads_back_as_it_ran(saved):
    run, folder = saved
    back = sim.results.load_run(folder)
    pd.testing.assert_frame_equal(back.series, run.results)
    assert pd.api.types.is_datetime64_dtype(back.series["date"])
    assert back.summary == run.summary()
    made = json.loads(json.dumps(results.run_document(run.model)["provenance"], default=str))
    assert back.provenance == made
    assert repr(back) == (f"<SavedRun 'Base world', seed 3: 3 weeks, "
                          f"{run.summary()['start_date']} to {run.summary()['end_date']}, "
                          f"from {folder}>")


def test_a_run_saved_by_the_command_line_reads_back(capsys, scenario):
    out = scenario.parent / "o"
    assert _run(capsys, scenario, "--seed", "2", "--out", str(out))[0] == 0
    back = sim.results.load_run(str(out))
    assert back.provenance["seed"] == 2 and len(back.series) == back.summary["steps"] == 3


def _one_line(err: pytest.ExceptionInfo, *words: str) -> None:
    said = str(err.value)
    assert "\n" not in said, said
    for word in words:
        assert word in said, said


@pytest.mark.parametrize(("damage", "named"), [
    ("series_half", "timeseries.parquet: damaged"),
    ("series_gone", "timeseries.parquet: unreadable"),
    ("summary_edited", "summary.json: damaged"),
    ("unrecorded", "manifest.json: records no summary.json"),
    ("manifest_not_json", "manifest.json: unreadable"),
    ("no_manifest", "written before Blowback recorded checksums"),
])
def test_a_damaged_run_folder_is_refused_in_one_line_naming_the_file(saved_copy, damage, named):
    series, summary = saved_copy / "timeseries.parquet", saved_copy / "summary.json"
    manifest = saved_copy / "manifest.json"
    if damage == "series_half":
        series.write_bytes(series.read_bytes()[: series.stat().st_size // 2])
    elif damage == "series_gone":
        series.unlink()
    elif damage == "summary_edited":
        summary.write_text(summary.read_text().replace('"steps": 3', '"steps": 4'))
    elif damage == "unrecorded":
        doc = json.loads(manifest.read_text())
        del doc["files"]["summary.json"]
        manifest.write_text(json.dumps(doc))
    elif damage == "manifest_not_json":
        manifest.write_text("{")
    else:
        manifest.unlink()
    with pytest.raises(output.OutputError) as err:
        sim.results.load_run(saved_copy)
    _one_line(err, str(saved_copy), named, "save the run again")


def test_a_folder_that_holds_no_run_is_refused_in_one_line(tmp_path, comparison):
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "manifest.json").write_text(json.dumps({"format": "blowback-sweep/3"}))
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("")
    for folder, words in [(tmp_path / "gone", ["no such folder"]),
                          (tmp_path / "file", ["not a folder"]),
                          (tmp_path / "empty", ["no manifest.json or summary.json"]),
                          (sweep, ["holds a sweep", "sim.results.load(folder)"]),
                          (comparison, ["holds a comparison", "sim.analysis.load(folder)"])]:
        with pytest.raises(output.OutputError) as err:
            sim.results.load_run(folder)
        _one_line(err, f"{folder}: ", *words, "allowed: a run's folder")


def test_the_sweep_reader_given_a_run_folder_points_to_load_run(saved):
    with pytest.raises(output.OutputError) as err:
        sim.results.load(saved[1])
    _one_line(err, f"{saved[1]}: holds a run of Base world seed 3, not a sweep",
              "sim.results.load_run(folder)")


def test_the_analysis_reader_given_a_run_folder_points_to_load_run(saved, capsys):
    """``sim.analysis.load`` and ``blowback analyse`` said only "not a sweep or a comparison"."""
    from sim.experiments.analysis import AnalysisError

    with pytest.raises(AnalysisError) as err:
        sim.analysis.load(saved[1])
    _one_line(err, f"{saved[1]}: holds a run of Base world seed 3, not a sweep or a comparison",
              "sim.results.load_run(folder)")
    status, _, said = blowback(capsys, "analyse", str(saved[1]))
    assert status == 2 and "sim.results.load_run(folder)" in said and said.count("\n") == 1
