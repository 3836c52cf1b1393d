"""Hostile inputs: scenario and experiment files are data, never code; results folders are
read without unpickling anything; outputs stay inside the folder the user named."""

from __future__ import annotations

import ast
import pickle
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import ROOT
from test_sweep import GRID, _experiment

from sim.core.scenario import load_scenario
from sim.experiments.analysis import load as load_results
from sim.experiments.experiment import load_experiment
from sim.experiments.output import OutputError
from sim.experiments.sweep import load, load_series, run_sweep
from sim.interfaces.cli import main

SOURCES = sorted((ROOT / "sim").rglob("*.py"))
CODE_LOADERS = {"pickle", "cPickle", "dill", "cloudpickle", "marshal", "shelve", "joblib"}


def test_the_package_never_evaluates_or_unpickles():
    """No eval, exec or compile of text, no pickle-like loader anywhere in the package (its
    worker processes exchange runs through the standard library's executors only)."""
    found = []
    for path in SOURCES:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id in ("eval", "exec", "compile", "__import__"):
                found.append(f"{path.name}:{node.lineno} {node.func.id}()")
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
                if CODE_LOADERS & {n.split(".")[0] for n in names}:
                    found.append(f"{path.name}:{node.lineno} import {names}")
            if isinstance(node, ast.Attribute) and node.attr in ("read_pickle", "unsafe_load"):
                found.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert len(SOURCES) > 20 and found == []


@pytest.fixture
def pickle_calls(monkeypatch) -> list[str]:
    """Every use of pickle's loaders while the test runs (each also fails)."""
    calls: list[str] = []

    def refuse(name):
        def loader(*args, **kwargs):
            calls.append(name)
            raise AssertionError(f"pickle.{name} was called")
        return loader

    for name in ("load", "loads"):
        monkeypatch.setattr(pickle, name, refuse(name))
    monkeypatch.setattr(pickle, "Unpickler", refuse("Unpickler"))
    return calls


CODE = "__import__('pathlib').Path('{marker}').touch()"


def test_code_in_a_scenario_or_experiment_stays_text(tmp_path, capsys, pickle_calls):
    marker = tmp_path / "ran"
    code = CODE.format(marker=marker)
    scenario = tmp_path / "s.toml"
    scenario.write_text(f"name = {code!r}\ndescription = {code!r}\n[map]\ncommunities = 300\n"
                        f'[[events]]\ndate = "2014-01"\ntype = "set"\n'
                        f'params = {{ "oversight.press" = 0.5 }}\n')
    assert load_scenario(scenario).name == code
    assert main(["scenario", str(scenario)]) == 0 and code in capsys.readouterr().out
    experiment = tmp_path / "e.toml"
    experiment.write_text(f'name = {code!r}\nscenarios = ["s.toml"]\nseeds = 1\nsteps = 60\n')
    assert load_experiment(experiment).name == code
    assert not marker.exists() and pickle_calls == []


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    experiment = _experiment(folder, 'keep = "series"\n' + GRID, seeds=1, steps=3)
    run_sweep(load_experiment(experiment), folder / "out", jobs=1)
    return folder / "out"


def test_loading_results_unpickles_nothing(sweep_folder, pickle_calls):
    assert len(load(sweep_folder)) == 4 and len(load_series(sweep_folder)) == 12
    assert len(load_results(sweep_folder)) == 4
    assert pickle_calls == []


class _Payload:
    """Unpickled, it would create the file ``path``."""

    def __init__(self, path: Path) -> None:
        self.path = str(path)

    def __reduce__(self):
        return open, (self.path, "w")


def test_a_planted_pickle_in_a_results_folder_is_never_run(sweep_folder, tmp_path,
                                                           pickle_calls):
    """A run file whose column claims pyarrow's pickled Python extension type: reading the
    folder must not unpickle it, and refuses the foreign file in one line (it is not in the
    sweep's checksums, so it is refused before it is read)."""
    marker = tmp_path / "unpickled"
    field = pa.field("run_id", pa.string(), metadata={
        b"ARROW:extension:name": b"arrow.py_extension_type",
        b"ARROW:extension:metadata": pickle.dumps(_Payload(marker))})
    planted = sweep_folder / "runs" / "0000planted0000.parquet"
    pq.write_table(pa.table({"run_id": ["x"]}, schema=pa.schema([field])), planted)
    try:
        with pytest.raises(OutputError, match="0000planted0000.parquet: not recorded"):
            load(sweep_folder)
        with pytest.raises(OutputError, match="0000planted0000.parquet: not recorded"):
            load_results(sweep_folder)
    finally:
        planted.unlink()
    assert not marker.exists() and pickle_calls == []


def _tree(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def test_outputs_stay_in_the_folder_named_whatever_the_scenario_is_called(tmp_path, capsys):
    (tmp_path / "work").mkdir()
    scenario = tmp_path / "work" / "s.toml"
    scenario.write_text(f'extends = "{ROOT / "scenarios" / "base.toml"}"\n'
                        'name = "../../../escaped/../../x"\n[map]\ncommunities = 300\n')
    experiment = tmp_path / "work" / "e.toml"
    experiment.write_text('name = "../../escaped"\nscenarios = ["s.toml", "s.toml"]\n'
                          'seeds = 1\nsteps = 3\nkeep = "series"\n')
    before = _tree(tmp_path)
    outs = [tmp_path / "work" / name for name in ("run", "sweep", "compare")]
    assert main(["run", str(scenario), "--steps", "3", "--out", str(outs[0])]) == 0
    assert main(["sweep", str(experiment), "--jobs", "1", "--out", str(outs[1])]) == 0
    assert main(["compare", str(scenario), str(scenario), "--seeds", "1", "--steps", "3",
                 "--jobs", "1", "--out", str(outs[2])]) == 0
    capsys.readouterr()
    new = _tree(tmp_path) - before
    assert new and all(any(out == p or out in p.parents for out in outs) for p in new), \
        sorted(str(p) for p in new)


def test_a_resumed_sweep_does_not_follow_a_planted_link_out_of_its_folder(sweep_folder,
                                                                          tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    folder = tmp_path / "copy"
    folder.mkdir()
    (folder / "manifest.json").write_bytes((sweep_folder / "manifest.json").read_bytes())
    (folder / "runs").symlink_to(elsewhere, target_is_directory=True)
    experiment = load_experiment(sweep_folder.parent / "exp.toml")
    with pytest.raises(OutputError, match="is a link"):
        run_sweep(experiment, folder, jobs=1, resume=True)
    assert list(elsewhere.iterdir()) == []


def test_the_dashboard_listens_on_loopback_unless_told_otherwise():
    from sim.interfaces.cli import argument_parser

    assert argument_parser().parse_args(["dashboard"]).host == "127.0.0.1"
    assert argument_parser().parse_args(["dashboard", "--host", "0.0.0.0"]).host == "0.0.0.0"
