"""Every results folder says what made it: its manifest's ``made_by`` names the command as run,
where it ran, each input file named on the command line with its sha256, the versions, the git
commit and the model's code (sim/experiments/made_by.py).  One test per family of commands, each
through the real command line on a tiny input; calibrate's is in
``tests/test_calibration.py::test_calibrate_end_to_end_at_a_tiny_size``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, blowback

from sim.experiments import made_by, output
from sim.interfaces.simulation import Sim

TINY = '[map]\ncommunities = 200\n'


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _made_by(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text())["made_by"]


def assert_made_by(folder: Path, argv: list[str], inputs: list[Path]) -> None:
    """``folder``'s manifest says that ``blowback ARGV`` made it here, from ``inputs``, with
    this package's versions, commit and model code."""
    made = _made_by(folder)
    assert made["command"] == ["blowback", *argv]
    assert made["cwd"] == os.getcwd()
    assert made["inputs"] == [{"path": str(p), "sha256": _sha(p)} for p in inputs]
    assert made["versions"] == made_by.versions()
    assert made["git_commit"] == made_by.git_commit()
    assert made["model_code"] == made_by.model_code()


@pytest.fixture
def scenarios(tmp_path, monkeypatch) -> tuple[Path, Path]:
    """Two tiny scenarios in tmp_path, which is also the current folder."""
    monkeypatch.chdir(tmp_path)
    paths = []
    for name, base in (("a", "contractor_unchecked"), ("b", "contractor_accountable")):
        path = tmp_path / f"{name}.toml"
        path.write_text(f'name = "{name}"\nextends = "{ROOT / "scenarios" / base}.toml"\n{TINY}')
        paths.append(path)
    return paths[0], paths[1]


def test_a_run_folder_says_which_command_and_scenario_file_made_it(capsys, scenarios):
    argv = ["run", str(scenarios[0]), "--steps", "3", "--out", "run"]
    assert blowback(capsys, *argv)[0] == 0
    assert_made_by(Path("run"), argv, [scenarios[0]])
    # the summary's provenance and the manifest agree on the versions
    summary = json.loads(Path("run", "summary.json").read_text())
    assert summary["provenance"]["versions"] == _made_by(Path("run"))["versions"]


def test_a_comparison_and_its_analysis_say_what_made_them(capsys, scenarios):
    argv = ["compare", *map(str, scenarios), "--seeds", "2", "--steps", "3", "--jobs", "1",
            "--out", "cmp"]
    assert blowback(capsys, *argv)[0] == 0
    assert_made_by(Path("cmp"), argv, list(scenarios))
    # analyse's input is a folder: recorded by its manifest, whose checksums cover its files
    argv = ["analyse", "cmp"]
    assert blowback(capsys, *argv)[0] == 0
    assert_made_by(Path("cmp-analysis"), argv, [Path("cmp", "manifest.json")])


def test_a_folder_written_before_made_by_is_still_read(capsys, scenarios):
    argv = ["compare", str(scenarios[0]), "--seeds", "2", "--steps", "3", "--jobs", "1",
            "--out", "cmp"]
    assert blowback(capsys, *argv)[0] == 0
    manifest = Path("cmp", "manifest.json")
    doc = json.loads(manifest.read_text())
    del doc["made_by"]
    manifest.write_text(json.dumps(doc))
    assert output.read_manifest(Path("cmp"), "redo it")["files"] == doc["files"]
    assert blowback(capsys, "analyse", "cmp")[0] == 0


def test_a_folder_written_from_python_names_no_command(scenarios):
    Sim(scenarios[0], agents=False, steps=3).run().save("py")
    made = _made_by(Path("py"))
    assert made["command"] is None and made["inputs"] == []
    assert made["versions"] == made_by.versions() and "git_commit" in made


def _experiment(folder: Path, scenarios: tuple[Path, Path], vary: str) -> Path:
    path = folder / "experiment.toml"
    path.write_text(f'name = "tiny"\nscenarios = ["{scenarios[0].name}", "{scenarios[1].name}"]\n'
                    f'seeds = 1\nsteps = 3\nkeep = "summary"\n[vary]\n{vary}')
    return path


def test_a_sweep_manifest_says_which_command_made_it_and_each_resumption(capsys, scenarios):
    path = _experiment(Path.cwd(), scenarios,
                       'sampler = "factorial"\n"oversight.punishment" = [0.1, 0.9]\n')
    argv = ["sweep", str(path), "--jobs", "1", "--out", "sw"]
    assert blowback(capsys, *argv)[0] == 0
    assert_made_by(Path("sw"), argv, [path])
    # a resumption records its own command beside its versions
    manifest = json.loads(Path("sw", "manifest.json").read_text())
    shutil.rmtree(Path("sw", "runs"))
    Path("sw", "shards.jsonl").unlink()
    argv = [*argv, "--resume"]
    assert blowback(capsys, *argv)[0] == 0
    resumed = json.loads(Path("sw", "manifest.json").read_text())
    assert resumed["made_by"] == manifest["made_by"]
    (then,) = resumed["resumptions"]
    assert then["command"] == ["blowback", *argv]
    assert then["inputs"] == [{"path": str(path), "sha256": _sha(path)}]


def test_a_sensitivity_analysis_says_what_made_it(capsys, scenarios):
    path = _experiment(Path.cwd(), scenarios,
                       'sampler = "sobol"\nsamples = 2\nsecond_order = false\n'
                       '"insurgents.recruitment" = { low = 0.0002, high = 0.0008 }\n'
                       '"community.news" = { low = 0.2, high = 0.8 }\n')
    argv = ["sensitivity", str(path), "--jobs", "1", "--out", "sw"]
    status, _, err = blowback(capsys, *argv)
    assert status == 0, err
    assert_made_by(Path("sw-sensitivity"), argv, [path])
    assert_made_by(Path("sw"), argv, [path])


def test_a_validation_says_what_made_it(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    argv = ["validate", "--claims", "kalyvas", "--seeds", "2", "--jobs", "1", "--out", "val"]
    assert blowback(capsys, *argv)[0] == 0
    assert_made_by(Path("val"), argv, [])


def test_an_input_that_is_not_a_plain_file_is_named_without_a_checksum(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert made_by.input_file(fifo) == {"path": str(fifo), "sha256": None}
    assert made_by.input_file(tmp_path / "gone") == {"path": str(tmp_path / "gone"),
                                                     "sha256": None}
    too_long = tmp_path / ("x" * 300 + ".toml")
    assert made_by.input_file(too_long) == {"path": str(too_long), "sha256": None}


def _commit_seen_by(package_parent: Path) -> str:
    """What ``made_by.git_commit()`` gives for a copy of the package under ``package_parent``."""
    shutil.copytree(ROOT / "sim", package_parent / "sim",
                    ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-c", "from sim.experiments.made_by import git_commit; "
                           "print(git_commit())"], cwd=package_parent.parent, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(package_parent)})
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_commit_is_the_checkouts_own_not_that_of_a_repository_around_an_install(tmp_path):
    """A package installed inside another repository's work tree (a project's .venv) records no
    commit: that repository's is not the model's.  A checkout records its own."""
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@blowback"]
    checkout, project = tmp_path / "checkout", tmp_path / "project"
    for repo in (checkout, project):
        repo.mkdir()
        subprocess.run([*git, "init", "-q"], cwd=repo, check=True)
        (repo / ".gitignore").write_text(".venv/\n__pycache__/\n")
        subprocess.run([*git, "add", "."], cwd=repo, check=True)
        subprocess.run([*git, "commit", "-q", "-m", "start"], cwd=repo, check=True)
    installed = project / ".venv" / "lib" / "site-packages"
    installed.mkdir(parents=True)
    assert _commit_seen_by(installed) == "None"
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=checkout, capture_output=True,
                          text=True, check=True).stdout.strip()
    assert _commit_seen_by(checkout) == head
