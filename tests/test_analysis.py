"""`blowback analyse`: tables with intervals, paired differences, figures;
`sim.experiments.analysis.load`."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, shrunk

from sim.experiments.analysis import MAX_POINT_GROUPS, AnalysisError, analyse, load
from sim.interfaces.cli import main


def blowback(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=600)


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analyse")
    for name in ("contractor_unchecked", "contractor_accountable"):
        shrunk(tmp, name)
    (tmp / "exp.toml").write_text(
        'name = "tiny"\nscenarios = ["contractor_unchecked.toml", "contractor_accountable.toml"]\n'
        'seeds = 3\nsteps = 20\nkeep = "series"\n[vary]\nsampler = "factorial"\n'
        '"oversight.punishment" = [0.2, 0.8]\n')
    # In this process: a new interpreter would only repeat the imports.
    assert main(["sweep", str(tmp / "exp.toml"), "--out", str(tmp / "sw"), "--jobs", "1"]) == 0
    return tmp / "sw"


def test_analyse_writes_tables_and_figures(sweep):
    done = blowback("analyse", str(sweep))
    assert done.returncode == 0, done.stderr
    out = sweep.with_name("sw-analysis")
    for name in ("distributions", "tradeoff", "series"):
        for ext in ("png", "svg"):
            assert (out / f"{name}.{ext}").stat().st_size > 5_000
    table = pd.read_csv(out / "table.csv")
    assert len(set(table["scenario"])) == 4  # two regimes x two design points
    assert ((table["low"] <= table["mean"] + 1e-9) & (table["mean"] <= table["high"] + 1e-9)).all()
    assert "Paired difference against Contractor, unchecked" in done.stdout


def test_paired_differences_are_differences_on_the_same_seed_and_point(sweep):
    runs = load(sweep)
    assert runs.attrs["sampler"] == "factorial"  # what tells a grid from a sampled design
    analysis = analyse(runs)
    col = "civilian_deaths_total"
    base = runs[runs["scenario"] == "Contractor, unchecked"].set_index(["point", "seed"])[col]
    other = runs[runs["scenario"] == "Contractor, accountable"].set_index(["point", "seed"])[col]
    for point, punishment in ((0, 0.2), (1, 0.8)):
        expected = (other.xs(point) - base.xs(point)).mean()
        row = analysis.differences[
            (analysis.differences["scenario"]
             == f"Contractor, accountable, punishment={punishment}")
            & (analysis.differences["outcome"] == col)]
        assert row["mean"].iloc[0] == pytest.approx(expected)
    assert np.isfinite(analysis.table["mean"]).all()


def test_bad_baseline_and_folder_are_one_line_errors(sweep, tmp_path):
    # Scenario names hold commas ("Contractor, unchecked"): each is quoted, or the list of
    # what is allowed cannot be read.
    with pytest.raises(AnalysisError, match=r"allowed: 'Contractor, unchecked', 'Contractor, "):
        analyse(load(sweep), "Nobody")
    done = blowback("analyse", str(sweep), "--baseline", "Nobody")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    done = blowback("analyse", str(tmp_path))
    assert done.returncode == 2 and "not a Blowback results folder" in done.stderr


def test_design_points_that_agree_to_three_digits_stay_apart():
    """A group is a scenario at one design point: points whose values print alike at three
    digits, or are all equal, are still told apart, and whole numbers print whole."""
    values = {0: (0.1, 1000), 1: (0.1002, 1000), 2: (0.5, 1025), 3: (0.5, 1025)}
    runs = pd.DataFrame([{"scenario": "A", "point": point, "seed": seed,
                          "oversight.punishment": values[point][0],
                          "map.communities": values[point][1],
                          "civilian_deaths_total": float(10 * point + seed)}
                         for point in values for seed in (1, 2, 3)])
    table = analyse(runs).table
    deaths = table[table["outcome"] == "civilian_deaths_total"].set_index("scenario")
    assert list(deaths.index) == [
        "A, punishment=0.1, communities=1000, point 0",
        "A, punishment=0.1002, communities=1000, point 1",
        "A, punishment=0.5, communities=1025, point 2",
        "A, punishment=0.5, communities=1025, point 3"]
    assert (deaths["n"] == 3).all()
    assert list(deaths["mean"]) == [2.0, 12.0, 22.0, 32.0]


def test_two_varied_parameters_of_one_last_name_keep_their_sections():
    runs = pd.DataFrame([{"scenario": "A", "point": point, "seed": 1,
                          "contractor.present": contractor, "partner.present": False,
                          "civilian_deaths_total": float(point)}
                         for point, contractor in enumerate((True, False))])
    table = analyse(runs).table
    assert set(table["scenario"]) == {
        "A, contractor.present=true, partner.present=false",
        "A, contractor.present=false, partner.present=false"}


def test_a_comparison_of_scenarios_named_like_numbers_or_missing_values(tmp_path):
    """runs.csv is text: a scenario named "2025" or "NA" is read back as that name, not as a
    number or a missing value, so that analyse finds it, as a baseline too."""
    for name, parent in (("NA", "partner_led"), ("2025", "contractor_unchecked")):
        (tmp_path / f"{name}.toml").write_text(
            f'name = "{name}"\nextends = "{ROOT / "scenarios" / (parent + ".toml")}"\n'
            "[map]\ncommunities = 200\n")
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "NA.toml"), str(tmp_path / "2025.toml"), "--seeds", "2",
                 "--steps", "3", "--out", str(out)]) == 0
    assert set(load(out)["scenario"]) == {"NA", "2025"}
    done = blowback("analyse", str(out), "--out", str(tmp_path / "an"), "--baseline", "2025")
    assert done.returncode == 0, done.stderr
    assert "Paired difference against 2025" in done.stdout


def test_rows_that_differ_past_the_name_width_print_whole():
    """A narrow table cuts long group names, but not where the cut makes two rows read alike:
    groups of a sweep that differ only in their design point's last value stay apart."""
    runs = pd.DataFrame([{"scenario": "Contractor, accountable", "point": point, "seed": seed,
                          "oversight.punishment": 0.2, "state.discrimination": level,
                          "civilian_deaths_total": float(seed + 10 * point)}
                         for point, level in enumerate((0.3, 0.6)) for seed in (1, 2)])
    text = analyse(runs).text()
    for level in (0.3, 0.6):
        assert f"Contractor, accountable, punishment=0.2, discrimination={level}  " in text
    assert max(len(line) for line in text.splitlines() if not line.startswith("Paired")) <= 100


def test_a_sampled_design_of_many_points_is_read_one_group_a_regime():
    """A Latin or Sobol design of hundreds of points gives a group to each regime, not to each
    point (a row and a box each would not read, and cost time and memory with the points); its
    differences are still paired on seed and design point.  A grid keeps a group a point."""
    points = MAX_POINT_GROUPS + 1
    runs = pd.DataFrame([{"scenario": name, "point": point, "seed": seed,
                          "oversight.punishment": point / points,
                          "civilian_deaths_total": float(point + seed + shift)}
                         for name, shift in (("A", 0), ("B", 5)) for point in range(points)
                         for seed in (1, 2)])
    runs.attrs["sampler"] = "factorial"
    assert analyse(runs).table["scenario"].nunique() == 2 * points
    runs.attrs["sampler"] = "sobol"
    result = analyse(runs)
    deaths = result.table[result.table["outcome"] == "civilian_deaths_total"]
    assert list(deaths["scenario"]) == ["A", "B"] and (deaths["n"] == 2 * points).all()
    paired = result.differences[result.differences["outcome"] == "civilian_deaths_total"]
    assert list(paired["scenario"]) == ["B"] and paired["mean"].iloc[0] == pytest.approx(5.0)
    assert f"all {points} points of its sampled design" in result.text()
    few = analyse(runs[runs["point"] < MAX_POINT_GROUPS])
    assert few.table["scenario"].nunique() == 2 * MAX_POINT_GROUPS
