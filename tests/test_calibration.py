"""Calibration files, the reference figures, and `blowback calibrate` at a tiny size."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS

from sim.core.scenario import ScenarioError, load_scenario
from sim.experiments import calibration, reference
from sim.interfaces.cli import main

GOOD = """
name = "tiny"
scenario = "{scenario}"
targets = ["un_civilians_killed:2021"]
seeds = 1
samples = 2
rounds = 1
retrodict_seeds = 2
[parameters]
"insurgents.coercion" = {{ low = 0.001, high = 0.004 }}
"""


def write(tmp_path, text: str, name: str = "cal.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def good(tmp_path):
    return write(tmp_path, GOOD.format(scenario=(SCENARIOS / "mali_2013_2024.toml").as_posix()))


@pytest.mark.parametrize(("change", "key", "allowed"), [
    (("targets = [\"un_civilians_killed:2021\"]",
      "targets = [\"un_civilians_killed_excl_mass_atrocity:2022\"]"), "targets[0]",
     "after the fitting window"),
    (("targets = [\"un_civilians_killed:2021\"]", "targets = [\"deaths\"]"), "targets[0]",
     "is not a figure"),
    (("targets = [\"un_civilians_killed:2021\"]", "targets = []"), "targets",
     "a list of figures"),
    (("\"insurgents.coercion\"", "\"insurgents.coersion\""), "parameters.insurgents.coersion",
     "did you mean"),
    (("low = 0.001, high = 0.004", "low = 0.004, high = 0.001"),
     "parameters.insurgents.coercion.high", "high > low"),
    (("low = 0.001, high = 0.004", "low = 0.001, high = 4.0"),
     "parameters.insurgents.coercion.high", "out of range"),
    (("samples = 2", "samples = \"two\""), "samples", "an integer"),
    (("rounds = 1", "round = 1"), "round", "did you mean rounds"),
])
def test_bad_calibration_files_name_file_key_and_what_is_allowed(tmp_path, change, key,
                                                                  allowed):
    path = write(tmp_path, good(tmp_path).read_text().replace(*change))
    with pytest.raises(ScenarioError) as err:
        calibration.load_calibration(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and key in message
    assert allowed in message


def test_a_missing_scenario_is_one_line_and_exit_2(tmp_path, capsys):
    path = write(tmp_path, GOOD.format(scenario="nowhere.toml"))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scenario" in err[0] and "not found" in err[0]
    assert not (tmp_path / "out").exists()


def test_the_shipped_calibration_is_valid_and_fits_before_2022():
    cal = calibration.load_calibration(SCENARIOS / "calibration" / "mali.toml")
    assert all(f.fittable for f in cal.targets) and len(cal.ranges) >= 3
    assert cal.scenario.date_of(cal.fit_steps - 1) <= reference.FIT_UNTIL
    assert cal.scenario.date_of(cal.fit_steps) > reference.FIT_UNTIL - pd.Timedelta(days=7)


def test_the_shipped_calibrated_scenario_holds_values_inside_the_ranges():
    fitted = load_scenario(SCENARIOS / "mali_calibrated.toml")
    cal = calibration.load_calibration(SCENARIOS / "calibration" / "mali.toml")
    raw = tomllib.loads((SCENARIOS / "mali_calibrated.toml").read_text())
    assert raw["extends"] == "mali_2013_2024.toml"
    for name, r in cal.ranges.items():
        assert r.low <= fitted.params[name] <= r.high, name
    assert len(fitted.events) == len(cal.scenario.events)


def test_figures_read_weeks_by_their_middle_day():
    dates = pd.date_range("2020-12-28", periods=60, freq="7D")  # Mondays
    series = pd.DataFrame({"date": dates, "civilian_deaths": np.ones(60),
                           "civilian_deaths_contractor": np.zeros(60),
                           "largest_event": np.zeros(60), "displaced": np.arange(60.0)})
    series.loc[9, "largest_event"] = 500.0  # the week of 1 March 2021 in this made-up year
    year = reference.BY_KEY["un_civilians_killed:2021"].read(series)
    assert year == 52  # the week of 28 Dec 2020 has its middle in 2020; 27 Dec 2021 in 2021
    assert reference.BY_KEY["idps:2021-05-31"].read(series) == 21.0  # the week of 24 May
    quarter = reference.BY_KEY["un_civilians_killed_quarter:2021-06-30"].read(series)
    assert quarter == 13  # weeks with middles from 1 April to 30 June 2021
    # a count whose period begins before the run is not read as zero
    assert np.isnan(reference.BY_KEY["un_civilians_killed_quarter:2020-06-30"].read(series))
    assert reference.atrocity_toll(series, "2021-03-01", "2021-03-31") == 500.0


@pytest.mark.parametrize(("bound", "low", "high", "verdict"), [
    ("about", 90, 110, "matches"), ("about", 120, 130, "above"), ("about", 10, 20, "below"),
    ("at_least", 90, 110, "meets"), ("at_least", 10, 20, "below"),
])
def test_verdicts(bound, low, high, verdict):
    figure = reference.Figure("x", "x", 100.0, bound, "s", reference.FIT_UNTIL, len)
    assert figure.verdict(low, high) == verdict


def test_calibrate_end_to_end_at_a_tiny_size(tmp_path):
    path = good(tmp_path)
    out = tmp_path / "out"
    foreign = tmp_path / "mine.toml"
    foreign.write_text("name = 'keep me'\n")
    cmd = [sys.executable, "-m", "sim.interfaces.cli", "calibrate", str(path), "--jobs", "1"]
    refused = subprocess.run([*cmd, "--out", str(out), "--scenario-out", str(foreign)],
                             capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 2 and "not written by blowback calibrate" in refused.stderr
    assert foreign.read_text() == "name = 'keep me'\n" and not out.exists()

    fitted_file = tmp_path / "scen" / "fitted.toml"
    done = subprocess.run([*cmd, "--out", str(out), "--scenario-out", str(fitted_file)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == set(calibration.FILES)
    figures = pd.read_csv(out / "figures.csv")
    assert set(figures.loc[figures["use"] == calibration.FITTED, "key"]) == {
        "un_civilians_killed:2021"}
    retrodicted = set(figures.loc[figures["use"] == calibration.RETRODICTED, "key"])
    assert {"un_civilians_killed_excl_mass_atrocity:2022", "ohchr_mass_atrocity_deaths:2022-03-31",
            "acled_share_involving_contractor:2022"} <= retrodicted
    assert "idps:2019-12-31" in set(figures.loc[figures["use"] == calibration.CHECKED, "key"])
    assert (figures["low"] <= figures["mean"]).all() and (figures["mean"] <= figures["high"]).all()
    points = pd.read_csv(out / "points.csv")
    assert len(points) == 2 and points["loss"].notna().all()
    for written in (out / "calibrated.toml", fitted_file):
        spec = load_scenario(written)
        best = points.loc[points["loss"].idxmin(), "insurgents.coercion"]
        assert spec.params["insurgents.coercion"] == pytest.approx(best)
    assert "un_civilians_killed:2021" in done.stdout and "retrodicted" in done.stdout


def test_figures_after_a_scripted_outcome_are_labelled_scripted(tmp_path):
    """A scenario that schedules an outcome (here a partner's withdrawal in August 2022) cannot
    retrodict what follows it: those figures are reported as scripted, the earlier ones not."""
    scenario = tmp_path / "scripted.toml"
    scenario.write_text(f'extends = "{(SCENARIOS / "mali_2013_2024.toml").as_posix()}"\n'
                        '[map]\ncommunities = 300\n'
                        '[[events]]\ndate = "2022-08"\ntype = "partner_leaves"\n'
                        'partner = "partner"\n')
    path = write(tmp_path, GOOD.format(scenario=scenario.as_posix()))
    cal = calibration.load_calibration(path)
    assert calibration.scripted_from(cal.scenario).isoformat().startswith("2022-08")
    assert calibration.scripted_from(load_scenario(SCENARIOS / "mali_2013_2024.toml")) is None
    figures = calibration.retrodict(cal, {}, jobs=1).set_index("key")["use"]
    assert figures["acled_civilian_fatalities_window:2023-01-31"] == calibration.SCRIPTED
    assert figures["ohchr_mass_atrocity_deaths:2022-03-31"] == calibration.RETRODICTED
    assert figures["un_civilians_killed:2021"] == calibration.FITTED
    assert calibration.RETRODICTED not in set(figures[figures.index.str.contains("2023")])
