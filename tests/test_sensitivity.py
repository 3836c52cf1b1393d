"""`blowback sensitivity`: Sobol indices over an experiment's ranges, and ranking flips."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from conftest import ROOT, blowback, shrunk

from sim.experiments import sensitivity
from sim.experiments.experiment import load_experiment


def _experiment(tmp_path, samples: int, sampler: str = "sobol", second_order: bool = False):
    for name in ("contractor_unchecked", "contractor_accountable"):
        shrunk(tmp_path, name)
    path = tmp_path / "sens.toml"
    path.write_text(
        'name = "tiny"\nscenarios = ["contractor_unchecked.toml", "contractor_accountable.toml"]\n'
        f'seeds = 1\nsteps = 15\n[vary]\nsampler = "{sampler}"\nsamples = {samples}\n'
        + (f'second_order = {str(second_order).lower()}\n' if sampler == "sobol" else "")
        + '"insurgents.recruitment" = { low = 0.0002, high = 0.0006 }\n'
        '"community.harm_sensitivity" = { low = 200.0, high = 800.0 }\n')
    return path


def test_indices_find_the_parameter_that_matters(tmp_path):
    """Synthetic outcomes that depend on the first parameter only: its total index is near 1,
    the other's near 0."""
    experiment = load_experiment(_experiment(tmp_path, 64))
    points = pd.DataFrame(experiment.points)
    x = (points["insurgents.recruitment"] - 0.0002) / 0.0004
    rows = []
    for k, scenario in enumerate(experiment.scenarios):
        rows.append(pd.DataFrame({
            "scenario": scenario, "point": range(len(points)), "seed": 1,
            "civilian_deaths_total": 100 * x * (1 + k) + k, "insurgent_strength_final": x ** 2 + k,
            "cooperation_mean_final": 0.5 - 0.1 * x - 0.01 * k}))
    result = sensitivity.analyse(experiment, pd.concat(rows, ignore_index=True))
    st = result.indices.set_index(["scenario", "outcome", "parameter"])["ST"]
    for scenario in experiment.scenarios:
        for outcome in ("civilian deaths", "insurgents at end", "cooperation"):
            assert st[(scenario, outcome, "insurgents.recruitment")] > 0.9
            assert st[(scenario, outcome, "community.harm_sensitivity")] < 0.05
    # scenario 0 always has fewer deaths and more cooperation: its ranking never flips
    assert (result.ranking["share_differs"] == 0).all()
    first, other = experiment.scenarios
    # the difference in deaths (-100 x - 1) depends on recruitment alone; the differences in
    # the other outcomes are constant, so their indices are undefined, and said to be
    diff = result.indices[result.indices["scenario"] == f"{first} - {other}"]
    defined = diff.dropna(subset=["ST"])
    assert set(defined["outcome"]) == {"civilian deaths"}, diff
    assert set(diff["outcome"]) == {"civilian deaths", "insurgents at end", "cooperation"}
    assert st[(f"{first} - {other}", "civilian deaths", "insurgents.recruitment")] > 0.9
    assert (f"{first} - {other} / cooperation: the same at every design point, no variance "
            "to apportion") in result.text(wide=True)
    assert "outside 0-1" not in result.text(wide=True)
    sensitivity.plot_indices(result.indices)
    assert (result.worse[["share_worse", "share_worse_runs"]] == 0).all().all()
    assert list(result.worse["outcome"])[-1] == sensitivity.ALL


def test_worse_counts_points_and_paired_runs(tmp_path):
    experiment = load_experiment(_experiment(tmp_path, 2))
    a, b = experiment.scenarios
    # two points, two seeds: at point 0 `a` has more deaths in one seed of two (mean worse),
    # at point 1 in none
    runs = pd.DataFrame({
        "scenario": [a, a, a, a, b, b, b, b], "point": [0, 0, 1, 1] * 2, "seed": [1, 2] * 4,
        "civilian_deaths_total": [10.0, 1.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0],
        "insurgent_strength_final": [1.0] * 4 + [2.0] * 4,
        "cooperation_mean_final": [0.4] * 4 + [0.5] * 4})
    worse = sensitivity._worse(runs, a, [b]).set_index("outcome")
    assert worse.loc["civilian deaths", "share_worse"] == 0.5
    assert worse.loc["civilian deaths", "share_worse_runs"] == 0.25
    assert worse.loc["insurgents at end", "share_worse"] == 0.0
    assert worse.loc["cooperation", "share_worse"] == 1.0
    assert worse.loc[sensitivity.ALL, "share_worse"] == 0.0


def test_cli_runs_the_sweep_and_writes_tables_and_chart(tmp_path, capsys):
    path = _experiment(tmp_path, 2)
    out = tmp_path / "sw"
    # In this process: the workbench takes 8 s to import, once for the whole file.
    status, stdout, err = blowback(capsys, "sensitivity", str(path), "--out", str(out), "--jobs",
                                   "1")
    assert status == 0, err
    report = tmp_path / "sw-sensitivity"
    indices = pd.read_csv(report / "indices.csv")
    assert len(indices) >= 2 * 3 * 2
    assert set(pd.read_csv(report / "worse.csv")["outcome"]) == {
        "civilian deaths", "insurgents at end", "cooperation", sensitivity.ALL}
    ranking = pd.read_csv(report / "ranking.csv")
    assert ranking["share_differs"].between(0, 1).all()
    assert (report / "indices.png").stat().st_size > 5_000
    assert "Sobol indices" in stdout
    boxes = pd.read_csv(report / "boxes.csv")
    assert set(boxes["outcome"]) == set(pd.read_csv(report / "worse.csv")["outcome"])
    assert boxes[["coverage", "density", "mass"]].stack().between(0, 1).all()
    assert (report / "boxes.png").stat().st_size > 5_000
    assert "PRIM boxes" in stdout
    # Its gap is the smallest of the three: at most zero where it is not worse on one of them.
    combined = next(line for line in stdout.splitlines() if line.startswith(f"  {sensitivity.ALL}"))
    assert "not worse on at least one of the three" in combined
    # Two samples over two parameters: 8 design points, of which 4 are points of their own.
    assert len(load_experiment(path).points) == 8 and (boxes["points"] == 4).all()


@pytest.mark.parametrize("second_order", [False, True])
def test_the_independent_points_are_the_a_and_b_rows_of_saltellis_design(second_order):
    """Every other row of the design shares all but one value with its A or its B row."""
    from SALib.sample import sobol

    problem = {"num_vars": 5, "names": list("abcde"), "bounds": [[0.0, 1.0]] * 5}
    rows = sobol.sample(problem, 8, calc_second_order=second_order, seed=3)
    own = sensitivity.independent_points(len(rows), 5, second_order)
    assert len(own) == 16
    shared = [[int((rows[i] == rows[j]).sum()) for j in own if j != i] for i in own]
    assert max(map(max, shared)) == 0
    block = len(rows) // 8
    for i in set(range(len(rows))) - set(own):
        a, b = rows[i - i % block], rows[i - i % block + block - 1]
        assert max((rows[i] == a).sum(), (rows[i] == b).sum()) == 4


def test_a_machine_without_the_workbench_is_told_before_any_run(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "ema_workbench" else real(name, *a))
    with pytest.raises(sensitivity.SensitivityError, match="ema_workbench.*blowback\\[sensitivity"):
        sensitivity.check(load_experiment(_experiment(tmp_path, 2)))


def test_a_latin_design_needs_no_salib(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "SALib" else real(name, *a))
    sensitivity.check(load_experiment(_experiment(tmp_path, 4, sampler="latin")))
    with pytest.raises(sensitivity.SensitivityError, match="needs SALib"):
        sensitivity.check(load_experiment(_experiment(tmp_path, 2)))


def test_a_factorial_experiment_is_refused(tmp_path):
    path = tmp_path / "grid.toml"
    path.write_text(f'name = "grid"\nscenarios = ["{ROOT / "scenarios" / "base.toml"}"]\n'
                    'seeds = 1\nsteps = 2\n[vary]\n"insurgents.recruitment" = [0.0002, 0.0006]\n')
    with pytest.raises(sensitivity.SensitivityError):
        sensitivity.check(load_experiment(path))
    done = subprocess.run([sys.executable, "-m", "sim", "sensitivity", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and '"sobol"' in done.stderr and '"latin"' in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_design_that_moves_no_outcome_has_no_index_to_draw(tmp_path, capsys):
    """Sanctions' blowback, in fifteen weeks without sanctions, changes nothing: every index is
    undefined, and the report is written without their chart."""
    path = _experiment(tmp_path, 2)
    text = path.read_text().split("[vary]")[0]
    path.write_text(text + '[vary]\nsampler = "sobol"\nsamples = 2\nsecond_order = false\n'
                    '"sanctions.blowback" = { low = 0.0, high = 1.0 }\n')
    status, stdout, err = blowback(capsys, "sensitivity", str(path), "--out",
                                   str(tmp_path / "sw"), "--jobs", "1")
    assert status == 0, err
    report = tmp_path / "sw-sensitivity"
    assert pd.read_csv(report / "indices.csv")["ST"].isna().all()
    assert not (report / "indices.png").exists() and (report / "worse.png").exists()
    assert f"Tables and charts (boxes, worse; PNG, SVG): {report}/" in stdout


def test_one_scenario_has_no_comparison_but_a_table_with_its_columns():
    runs = pd.DataFrame(columns=["scenario", "point", "seed", "civilian_deaths_total",
                                 "insurgent_strength_final", "cooperation_mean_final"])
    assert list(sensitivity._worse(runs, "only", [])) == [
        "scenario", "other", "outcome", "share_worse", "share_worse_runs"]


def test_a_latin_design_gives_boxes_on_every_point_and_no_indices(tmp_path, capsys):
    path = _experiment(tmp_path, 12, sampler="latin")
    out = tmp_path / "sw"
    status, stdout, err = blowback(capsys, "sensitivity", str(path), "--out", str(out), "--jobs",
                                   "1")
    assert status == 0, err
    report = tmp_path / "sw-sensitivity"
    assert "No Sobol indices" in stdout and "PRIM boxes" in stdout
    assert pd.read_csv(report / "indices.csv").empty
    assert not (report / "indices.png").exists()
    boxes = pd.read_csv(report / "boxes.csv")
    assert (boxes["points"] == 12).all() and (report / "boxes.png").exists()
    assert len(pd.read_csv(report / "worse.csv")) == 4


def test_an_index_outside_zero_to_one_is_flagged_as_too_few_samples():
    indices = pd.DataFrame([
        {"scenario": "A", "outcome": "civilian deaths", "parameter": name, "S1": s1,
         "S1_conf": 0.1, "ST": st, "ST_conf": 0.1}
        for name, s1, st in (("a.rate", -0.84, 0.98), ("b.rate", 0.24, 1.4),
                             ("c.rate", 0.3, 0.4))])
    empty = pd.DataFrame()
    lines = sensitivity.Sensitivity(indices, pd.DataFrame(columns=["outcome"]), empty,
                                    []).text(wide=True).splitlines()
    flagged = [line.split()[0] for line in lines if "outside 0-1: too few samples" in line]
    assert flagged == ["a.rate", "b.rate"]


def test_each_poor_index_is_flagged_for_what_it_is_and_counted_in_a_warning():
    """A first order above the total is not "outside 0-1"; an interval wider than 0-1 says
    nothing; one base sample gives no interval (SALib's bootstrap gives ± 0.00 there). The
    header says how the intervals were found and the warning counts the indices flagged."""
    nan = float("nan")
    indices = pd.DataFrame([
        {"scenario": "A", "outcome": "civilian deaths", "parameter": name, "S1": s1,
         "S1_conf": c1, "ST": st, "ST_conf": ct}
        for name, s1, c1, st, ct in (("a.above", 0.15, 0.11, 0.03, 0.04),
                                     ("b.wide", 0.15, 0.50, 0.47, 3.68),
                                     ("c.none", 0.4, nan, 0.5, nan),
                                     ("d.fine", 0.3, 0.1, 0.4, 0.1))])
    text = sensitivity.Sensitivity(indices, pd.DataFrame(columns=["outcome"]), pd.DataFrame(),
                                   [], base_samples=4).text(wide=True)
    flags = {line.split()[0]: line.split("(", 1)[-1] for line in text.splitlines()
             if line.startswith("    ")}
    assert flags["a.above"] == "S1 above ST: too few samples)"
    assert flags["b.wide"] == "interval wider than 0-1: too few samples)"
    assert flags["c.none"] == "no interval from one base sample: too few samples)"
    assert "±  n/a" in text and "too few" not in text.split("d.fine")[1]
    assert "from 4 base samples" in text and "bootstrap" in text
    assert "Warning: 3 of 4 indices are flagged" in text


def test_one_base_sample_gives_no_interval(tmp_path):
    """SALib resamples the base samples: with one, every resample is that sample, and its
    interval of width 0 is written as none (NaN), not as an exact index."""
    experiment = load_experiment(_experiment(tmp_path, 1))
    points = pd.DataFrame(experiment.points)
    x = points["insurgents.recruitment"] * 1e4 + points["community.harm_sensitivity"] / 100
    rows = [pd.DataFrame({"scenario": scenario, "point": range(len(points)), "seed": 1,
                          "civilian_deaths_total": x * (1 + k), "insurgent_strength_final": x,
                          "cooperation_mean_final": 0.1 * x + k})
            for k, scenario in enumerate(experiment.scenarios)]
    result = sensitivity.analyse(experiment, pd.concat(rows, ignore_index=True))
    assert result.base_samples == 1
    defined = result.indices.dropna(subset=["ST"])
    assert len(defined) and defined[["S1_conf", "ST_conf"]].isna().all().all()
    assert "no interval from one base sample" in result.text(wide=True)


def test_second_order_indices_name_the_pair_that_acts_together(tmp_path):
    """An outcome that is the product of the two parameters: their pair's second-order index
    is clear of zero, and is written and printed."""
    experiment = load_experiment(_experiment(tmp_path, 64, second_order=True))
    points = pd.DataFrame(experiment.points)
    x = (points["insurgents.recruitment"] - 0.0002) / 0.0004 - 0.5
    y = (points["community.harm_sensitivity"] - 200.0) / 600.0 - 0.5
    rows = [pd.DataFrame({"scenario": scenario, "point": range(len(points)), "seed": 1,
                          "civilian_deaths_total": 100 * x * y + k, "insurgent_strength_final": x,
                          "cooperation_mean_final": 0.5 + 0.1 * y})
            for k, scenario in enumerate(experiment.scenarios)]
    result = sensitivity.analyse(experiment, pd.concat(rows, ignore_index=True))
    pairs = result.interactions.set_index(["scenario", "outcome"])
    first = next(iter(experiment.scenarios))
    deaths = pairs.loc[(first, "civilian deaths")]
    assert (deaths["parameter"], deaths["other"]) == ("insurgents.recruitment",
                                                      "community.harm_sensitivity")
    assert deaths["S2"] > 0.5 and deaths["S2"] - deaths["S2_conf"] > 0  # all of it, in truth
    text = result.text(wide=True)
    assert (f"{first} / civilian deaths: insurgents.recruitment x community.harm_sensitivity"
            in text)
    assert f"{first} / insurgents at end: none" in text


def test_the_discovery_experiment_spans_the_sensitivity_experiments_ranges():
    """discovery.toml is the Latin twin of sensitivity.toml: same regimes, seeds, weeks and
    ranges, so that its boxes are read in the same space as the indices."""
    import tomllib

    folder = ROOT / "scenarios" / "experiments"
    sobol, latin = (tomllib.loads((folder / f"{name}.toml").read_text())
                    for name in ("sensitivity", "discovery"))
    assert latin["vary"].pop("sampler") == "latin" and sobol["vary"].pop("sampler") == "sobol"
    for doc in (sobol, latin):
        for key in ("samples", "second_order"):
            doc["vary"].pop(key, None)
    assert latin["vary"] == sobol["vary"]
    assert all(latin[k] == sobol[k] for k in ("scenarios", "seeds", "steps", "keep"))
    assert len(load_experiment(folder / "discovery.toml").points) == 300
