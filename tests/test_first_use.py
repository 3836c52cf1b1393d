"""What a new user meets first: --version, ``run --json``, ``import sim``, one end date, the
scenario listing against the defaults, ``analyse`` of a missing folder, and ``Sim.plot``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, SCENARIOS, assert_refused, blowback

from sim.core.model import BlowbackModel
from sim.core.scenario import load_scenario
from sim.interfaces import simulation
from sim.interfaces.simulation import Sim
from sim.version import __version__


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A scenario file of 200 communities and three weeks, in its own folder."""
    path = tmp_path / "tiny.toml"
    path.write_text(f'extends = "{(SCENARIOS / "base.toml").as_posix()}"\n'
                    "[run]\nsteps = 3\n[map]\ncommunities = 200\n")
    return path


def test_version(capsys):
    status, out, err = blowback(capsys, "--version")
    assert (status, out, err) == (0, f"blowback {__version__}\n", "")


def test_run_json_alone_writes_no_folder(capsys, tiny, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    status, out, err = blowback(capsys, "run", str(tiny), "--json")
    assert status == 0, err
    doc = json.loads(out)
    assert doc["summary"]["steps"] == 3 and doc["provenance"]["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.toml"]
    status, again, err = blowback(capsys, "run", str(tiny), "--json", "--out", "kept")
    assert status == 0, err
    assert json.loads(again) == json.loads((tmp_path / "kept" / "summary.json").read_text())


def test_import_sim_is_light_and_reaches_every_named_module():
    texts = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")),
             *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    names = sorted({m for path in texts
                    for m in re.findall(r"\bsim(?:\.[A-Za-z_]\w*)+", path.read_text())}
                   | {"sim.sweep.load", "sim.results.load", "sim.Sim"})
    script = (
        "import sys\nimport sim\n"
        "assert 'sim.core.model' not in sys.modules and 'mesa' not in sys.modules\n"
        f"missing = []\nfor name in {names!r}:\n"
        "    value = sim\n"
        "    try:\n"
        "        for part in name.split('.')[1:]:\n"
        "            value = getattr(value, part)\n"
        "    except AttributeError as err:\n"
        "        missing.append(f'{name}: {err}')\n"
        "print('\\n'.join(missing))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "", f"not reachable after `import sim`:\n{done.stdout}"


def test_dir_of_sim_lists_what_a_session_reaches_and_each_is_there():
    """Tab completion in a notebook offers the names of the start, the short names and the
    subpackages, each reachable, and not the imports the package works with."""
    import sim

    listed = dir(sim)
    assert {"Sim", "load_scenario", "results", "sweep", "experiments", "core"} <= set(listed)
    assert not {"importlib", "Any", "annotations", "Path", "submodules"} & set(listed)
    for name in listed:
        assert getattr(sim, name) is not None, name


def test_a_scenario_a_sim_and_a_model_say_in_one_line_what_they_are():
    """What a notebook shows when a cell ends with one of them: its name, seed and week, not a
    memory address or every one of the scenario's parameters."""
    import sim

    scenario = sim.load_scenario(ROOT / "scenarios" / "mali_2013_2024.toml")
    said = repr(scenario)
    assert said.startswith("<Scenario 'Mali 2013-2024' (mali_2013_2024.toml): ")
    assert f"{len(scenario.events)} events" in said and len(said) < 120
    run = sim.Sim(scenario, communities=300, agents=False).run(10)
    where = "'Mali 2013-2024', seed 1: week 10 of 627, 11 Mar 2013>"
    assert (repr(run), repr(run.model)) == (f"<Sim {where}", f"<BlowbackModel {where}")


def test_one_end_date_everywhere(capsys, tiny, tmp_path):
    assert load_scenario(SCENARIOS / "base.toml").end_date().isoformat() == "2031-12-15"
    scenario = load_scenario(tiny)
    s = Sim(scenario, agents=False).run()
    end = scenario.end_date().isoformat()
    assert s.summary()["end_date"] == end
    assert s.results["date"].iloc[-1].date().isoformat() == end
    assert s.model.date.isoformat() == end  # after the run: its end, not the week after
    # Each week is recorded on the date the model showed while it ran, one week apart.
    model = BlowbackModel(scenario, agents=False)
    shown = []
    while model.t < model.steps_total:
        shown.append(model.date)
        model.step()
    assert model.records["date"] == shown == [scenario.date_of(k) for k in model.records["step"]]
    assert model.date == scenario.end_date() == shown[-1]
    status, out, err = blowback(capsys, "run", str(tiny), "--out", str(tmp_path / "run"))
    assert status == 0, err
    assert f"weeks from 2022-01-03 (the last from {end}), seed 1" in out.splitlines()[0]


def test_scenario_listing_marks_what_differs_from_the_defaults(capsys, tiny):
    status, out, _ = blowback(capsys, "scenario", str(tiny))
    lines = out.splitlines()
    assert status == 0 and "* map.communities = 200" in lines and "  run.seed = 1" in lines
    marked = [line for line in lines if line.startswith("* ")]
    assert lines[-1] == f"{len(marked)} values differ from the defaults (marked *)"
    status, out, _ = blowback(capsys, "scenario", str(tiny), "--changed")
    assert status == 0 and out.splitlines()[1:] == marked + [lines[-1].split(" (")[0]]


def test_analyse_of_a_missing_folder(capsys, tmp_path):
    status, out, err = blowback(capsys, "analyse", str(tmp_path / "nowhere"))
    assert_refused(status, err, "nowhere: no such folder; allowed: a folder")
    assert out == "" and list(tmp_path.iterdir()) == []


def test_sweep_names_a_loader_that_works(capsys, tiny):
    experiment = tiny.parent / "exp.toml"
    experiment.write_text('scenarios = ["tiny.toml"]\nseeds = 1\nsteps = 3\n')
    status, out, err = blowback(capsys, "sweep", str(experiment), "--out",
                                str(tiny.parent / "grid"), "--jobs", "1")
    assert status == 0, err
    code = out.split("in Python: ")[1].strip()
    assert code.startswith("import sim; sim.results.load(")
    namespace: dict = {}
    exec(code.replace("; ", "\nrows = "), namespace)
    assert len(namespace["rows"]) == 1


@pytest.fixture
def short_run() -> Sim:
    return Sim(steps=3, communities=200, agents=False).run()


def test_plot_saves_by_suffix_and_says_where(capsys, short_run, tmp_path):
    for name in ("run.png", "run.svg"):
        short_run.plot(path=tmp_path / name)
        assert f"Figure saved to {tmp_path / name}" in capsys.readouterr().out
    assert (tmp_path / "run.png").read_bytes()[:4] == b"\x89PNG"
    assert "<svg" in (tmp_path / "run.svg").read_text()
    with pytest.raises(ValueError, match=r"allowed: a file ending in \.png or \.svg"):
        short_run.plot(path=tmp_path / "run.jpg")
    assert not (tmp_path / "run.jpg").exists()


def test_plot_saves_into_a_folder_not_yet_made_and_refuses_a_folder_as_its_file(short_run,
                                                                               tmp_path):
    """``plot(path="figures/run.png")`` failed in Pillow ("No such file or directory") when the
    folder was not there yet, as ``save`` does not; a folder named as the file is refused in
    one line before anything is drawn."""
    import matplotlib.pyplot as plt

    figures = len(plt.get_fignums())
    short_run.plot(path=tmp_path / "figures" / "of runs" / "run.png")
    assert (tmp_path / "figures" / "of runs" / "run.png").read_bytes()[:4] == b"\x89PNG"
    plt.close("all")
    (tmp_path / "taken.png").mkdir()
    with pytest.raises(ValueError, match=r"taken\.png.*is a folder") as err:
        short_run.plot(path=tmp_path / "taken.png")
    assert "\n" not in str(err.value) and len(plt.get_fignums()) == 0 <= figures


def test_a_runs_figure_is_titled_by_its_run_and_each_label_fits_its_panel(short_run):
    """The figure said only "Blowback run", and the label "population under state control
    (0–1)" ran into the panel above it."""
    import matplotlib.pyplot as plt

    fig = short_run.plot()
    try:
        assert fig.get_suptitle() == f"{short_run.scenario.name}, seed {short_run.model.seed}"
        fig.canvas.draw()
        for ax in fig.axes:
            label, panel = ax.yaxis.label, ax.get_window_extent()
            assert label.get_window_extent().height <= panel.height, label.get_text()
    finally:
        plt.close(fig)


@pytest.mark.parametrize("steps", [-3, 2.5, True, "3"])
def test_run_takes_a_whole_number_of_weeks(steps):
    sim = Sim(steps=6, communities=200, agents=False)
    with pytest.raises(ValueError, match=r"^steps: .* allowed: an integer of at least 0"):
        sim.run(steps)
    assert sim.model.t == 0 and sim.run(0).model.t == 0 and sim.run(99).model.t == 6


@pytest.mark.parametrize(("given", "said"), [
    ({"scenario": {"oversight": {"punishment": 0.9}}}, "scenario: a dict; allowed: "),
    ({"scenario": 3}, "scenario: 3 is int; allowed: "),
    ({"params": "oversight.punishment=0.9"},
     "params: 'oversight.punishment=0.9' is str; allowed: "),
    ({"agents": "no"}, "agents: 'no'; allowed: True or False"),
])
def test_sim_refuses_an_argument_of_the_wrong_type_in_one_line(given, said):
    """A dict where a scenario goes was looked for as a file, a string of --set's form as
    params failed in dict() with Python's words, and agents="no" built the agents."""
    with pytest.raises(TypeError) as err:
        Sim(**given, steps=3, communities=200)
    assert str(err.value).startswith(said) and "\n" not in str(err.value)
    pairs = Sim(params=[("oversight.punishment", 0.9)], steps=3, communities=200, agents=False)
    assert pairs.model.p["oversight.punishment"] == 0.9


@pytest.mark.parametrize("columns", [(), ("recruits",), ("legitimacy", "nope")])
def test_plot_names_what_it_can_draw(short_run, columns):
    with pytest.raises(ValueError, match="cannot be plotted; allowed: a tuple of one or more of "
                                         "civilian_deaths, cooperation_mean"):
        short_run.plot(columns)
    assert len(short_run.plot("legitimacy").axes) == 1


def test_plot_before_any_week_says_to_run_first():
    with pytest.raises(ValueError, match="no week has run yet: call run"):
        Sim(steps=3, communities=200, agents=False).plot()


def test_plot_outside_jupyter_says_once_how_to_see_it(capsys, short_run, monkeypatch):
    monkeypatch.setattr(simulation, "_told", [])
    monkeypatch.delitem(sys.modules, "ipykernel", raising=False)
    short_run.plot()
    short_run.plot()
    assert capsys.readouterr().err.count("s.plot(show=True)") == 1
    shown = []
    monkeypatch.setattr("matplotlib.pyplot.show", lambda: shown.append(True))
    assert len(short_run.plot(show=True).axes) >= 4 and shown == [True]


def test_save_keeps_an_earlier_run_unless_told_to_replace_it(short_run, tmp_path):
    import json

    from sim.experiments.output import OutputError

    out = short_run.save(tmp_path / "run")
    first = (out / "summary.json").read_text()
    with pytest.raises(OutputError, match=r"already holds a result .* add replace=True"):
        short_run.save(out)
    assert (out / "summary.json").read_text() == first
    assert short_run.save(out, replace=True) == out
    assert json.loads((out / "summary.json").read_text())["summary"]
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("keep me")
    with pytest.raises(OutputError, match="not Blowback's output"):
        short_run.save(tmp_path / "mine", replace=True)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "keep me"
    with pytest.raises(ValueError, match="replace: 'no'; allowed: True or False"):
        short_run.save(out, replace="no")
    assert json.loads((out / "summary.json").read_text())["summary"]


def test_a_run_is_saved_only_once_it_has_ended(tmp_path):
    """A saved run's provenance redoes it whole: a run stopped early would be redone longer."""
    from sim import Sim

    partial = Sim(communities=300, steps=6, seed=4).run(2)
    with pytest.raises(ValueError, match="gone 2 of its 6 weeks"):
        partial.save(tmp_path / "partial")
    assert not (tmp_path / "partial").exists()
    assert partial.run().save(tmp_path / "whole").is_dir()
