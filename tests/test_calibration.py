"""Calibration files, the reference figures, and `blowback calibrate` at a tiny size."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import json
import logging
import os
import re
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, SCENARIOS, small

from sim.core.scenario import ScenarioError, load_scenario
from sim.experiments import (
    calibration,
    calibration_report,
    detection,
    made_by,
    posterior,
    predictive,
    reference,
    runs,
)
from sim.experiments.record import load_record
from sim.interfaces.cli import main

GOOD = """
name = "tiny"
scenario = "{scenario}"
targets = ["un_civilians_killed:2021", "acled_civilian_fatalities"]
population = 4
generations = 1
predictive_draws = 2
[parameters]
"insurgents.coercion" = {{ low = 0.001, high = 0.004 }}
[detection]
"acled.state" = {{ low = 0.1, high = 1.0 }}
"""


def write(tmp_path, text: str, name: str = "cal.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def good(tmp_path):
    return write(tmp_path, GOOD.format(scenario=(SCENARIOS / "mali_2013_2024.toml").as_posix()))


@pytest.mark.parametrize(("change", "key", "allowed"), [
    (("targets = [\"un_civilians_killed:2021\"",
      "targets = [\"un_civilians_killed_excl_mass_atrocity:2022\""), "targets[0]",
     "after the fitting window"),
    (("targets = [\"un_civilians_killed:2021\"", "targets = [\"deaths\""), "targets[0]",
     "is not a series or figure"),
    (("\"acled_civilian_fatalities\"]", "\"un_civilians_killed\"]"), "targets[1]",
     "repeated"),
    (("targets = [\"un_civilians_killed:2021\", \"acled_civilian_fatalities\"]",
      "targets = []"), "targets", "a list of series"),
    (("\"insurgents.coercion\"", "\"insurgents.coersion\""), "parameters.insurgents.coersion",
     "did you mean"),
    (("low = 0.001, high = 0.004", "low = 0.004, high = 0.001"),
     "parameters.insurgents.coercion.high", "high > low"),
    (("low = 0.001, high = 0.004", "low = 0.001, high = 4.0"),
     "parameters.insurgents.coercion.high", "out of range"),
    (("low = 0.001, high = 0.004", "low = 0.0, high = 0.004"),
     "parameters.insurgents.coercion.low", "above 0"),
    (("low = 0.001, high = 0.004", "low = -0.001, high = 0.004"),  # was: "in [0, ...]"
     "parameters.insurgents.coercion.low", "-0.001; allowed: a number above 0"),
    (("population = 4", "population = \"two\""), "population", "an integer"),
    (("generations = 1", "generation = 1"), "generation", "did you mean generations"),
    (("\"acled.state\"", "\"acled.states\""), "detection.acled.states", "did you mean"),
    (("low = 0.1, high = 1.0", "low = 0.1, high = -1.0"), "detection.acled.state.high",
     "(0, 1000]"),
    (("low = 0.1, high = 1.0", "low = 0.1"), "detection.acled.state", "a range"),
    (("\"insurgents.coercion\" = { low = 0.001, high = 0.004 }",
      "\"state.units\" = { low = 1, high = 20 }"), "parameters.state.units", "real-valued"),
    (("\"insurgents.coercion\" = { low = 0.001, high = 0.004 }",
      "\"contractor.present\" = { low = 0, high = 1 }"), "parameters.contractor.present",
     "real-valued"),
    (("[parameters]\n\"insurgents.coercion\" = { low = 0.001, high = 0.004 }\n", ""),
     "parameters", "missing; allowed: a table [parameters]"),
    (("\"insurgents.coercion\" = { low = 0.001, high = 0.004 }",
      "\"insurgents.coercion\" = { low = 0.001, high = 0.004 }\n"
      "insurgents.coercion = { low = 0.002, high = 0.003 }"), "parameters.insurgents.coercion",
     "given twice"),
])
def test_bad_calibration_files_name_file_key_and_what_is_allowed(tmp_path, change, key,
                                                                  allowed):
    path = write(tmp_path, good(tmp_path).read_text().replace(*change))
    with pytest.raises(ScenarioError) as err:
        calibration.load_calibration(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and key in message
    assert allowed in message


def test_a_record_of_no_series_the_model_reads_says_so(tmp_path):
    """Where a record holds nothing the model's series can be read against, the list of
    series a target may name is empty: the record is named as the mistake."""
    (tmp_path / "mine.csv").write_text(
        "series,year,date,value,unit,source,note,start,bound\n"
        "my_series,2015,,10,deaths,X,,,\n")
    path = write(tmp_path, good(tmp_path).read_text().replace(
        'targets = ["un_civilians_killed:2021", "acled_civilian_fatalities"]',
        'record = "mine.csv"\ntargets = ["my_series"]'))
    with pytest.raises(ScenarioError) as err:
        calibration.load_calibration(path)
    message = str(err.value)
    assert "\n" not in message and "record: holds no figure" in message
    assert "un_civilians_killed" in message


def test_a_missing_scenario_is_one_line_and_exit_2(tmp_path, capsys):
    path = write(tmp_path, GOOD.format(scenario="nowhere.toml"))
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "scenario: " in err[0] and "nowhere.toml: no such file" in err[0]
    assert not (tmp_path / "out").exists()


def test_the_shipped_calibration_fits_many_more_figures_than_quantities_before_2022():
    cal = calibration.load_calibration(SCENARIOS / "calibration" / "mali.toml")
    assert all(f.fittable for f in cal.targets) and len(cal.targets) >= 3 * len(cal.priors)
    assert cal.scenario.date_of(cal.fit_steps - 1) <= reference.FIT_UNTIL
    assert cal.scenario.date_of(cal.fit_steps) > reference.FIT_UNTIL - pd.Timedelta(days=7)
    fitted = {f.series for f in cal.targets}
    assert {"acled_civilian_fatalities", "ucdp_one_sided_government", "ucdp_one_sided_nonstate",
            "acled_vac_share_militias", "idps", "burkina_acled_fatalities"} <= fitted
    # the 2013 peak, the return of 2016-2017 and the surge from 2018 are all fitted
    keys = {f.key for f in cal.targets}
    assert {"idps:2013-06-30", "idps:2016-12-31", "idps:2021-12-31"} <= keys
    assert {"conduct.penalty", "relations.abuse_penalty", "militias.formation"} <= set(cal.ranges)
    assert set(cal.rates) >= set(detection.RATES)


def test_the_shipped_posterior_and_calibrated_scenario_agree():
    cal = calibration.load_calibration(SCENARIOS / "calibration" / "mali.toml")
    table = posterior.load_posterior(SCENARIOS / "mali_calibrated.posterior.csv")
    assert set(table.columns) == {*cal.priors, posterior.WEIGHT}
    assert table[posterior.WEIGHT].sum() == pytest.approx(1.0)
    for name, r in cal.priors.items():
        assert table[name].between(r.low, r.high).all(), name
    fitted = load_scenario(SCENARIOS / "mali_calibrated.toml")
    raw = tomllib.loads((SCENARIOS / "mali_calibrated.toml").read_text())
    assert raw["extends"] == "mali_2013_2024.toml"
    for name in cal.ranges:
        values = np.sort(table[name].to_numpy())
        assert values[0] <= fitted.params[name] <= values[-1], name
    assert len(fitted.events) == len(cal.scenario.events)


def _shown(text: str) -> tuple[float, float]:
    """A number as a document writes it, and half a unit of its last significant digit."""
    digits = text.replace(",", "")
    if "." in digits:
        return float(digits), 0.5 * 10.0 ** -len(digits.split(".")[1])
    return float(digits), 0.5 * 10.0 ** (len(digits) - len(digits.rstrip("0")))


def test_the_posterior_table_of_validation_md_is_the_shipped_posterior():
    """Each median and 90% interval of docs/VALIDATION.md's table is the shipped posterior's
    weighted quantile, rounded as written."""
    table = posterior.load_posterior(SCENARIOS / "mali_calibrated.posterior.csv")
    rows = re.findall(r"^\| (?:detection )?`([\w.]+)`[^|]*\| [^|]+ \| ([\d.,]+) \| "
                      r"\[([\d.,]+), ([\d.,]+)\] \|$",
                      (ROOT / "docs" / "VALIDATION.md").read_text(), re.M)
    names = {n.removeprefix(posterior.DETECTION): n for n in table.columns}
    assert {names[name] for name, *_ in rows} == set(table.columns) - {posterior.WEIGHT}
    for name, *written in rows:
        values = table[names[name]].to_numpy()
        low, median, high = predictive._weighted_quantiles(
            values, table[posterior.WEIGHT].to_numpy(), (predictive.LOW_Q, 0.5, predictive.HIGH_Q))
        for text, value in zip(written, (median, low, high), strict=True):
            shown, half = _shown(text)
            assert abs(shown - value) <= half * (1 + 1e-9), (name, text, value)


def test_each_table_of_a_calibration_gives_the_unit_of_its_numbers(tmp_path):
    """A reader of parameters.csv, figures.csv or years.csv alone can tell a rate a week from a
    share and a count of deaths from one of events: each row names its unit."""
    cal = calibration.load_calibration(good(tmp_path))
    particles = pd.DataFrame({**{n: [0.001, 0.002] for n in cal.priors},
                              posterior.WEIGHT: [0.5, 0.5]})
    parameters = predictive.summarise_posterior(cal, particles)
    assert parameters["unit"].tolist() == [predictive.fitted(n).unit for n in cal.priors]
    runs = pd.DataFrame([{f.key: float(k) for f in cal.figures} for k in range(3)])
    figures = predictive.figures_table(cal, runs, runs)
    by_key = {f.key: f for f in cal.figures}
    assert figures["unit"].tolist() == [by_key[k].unit for k in figures["key"]]
    years = predictive.years_table(cal, runs, runs)
    assert not years.empty
    assert years["unit"].tolist() == [
        by_key[f"{s}:{y}"].unit if f"{s}:{y}" in by_key else reference.series_unit(s)
        for s, y in zip(years["series"], years["year"], strict=True)]
    assert {"deaths", "share"} <= {*figures["unit"], *years["unit"]}


def test_every_file_calibrate_writes_is_named_where_it_says_and_in_validation_md(tmp_path):
    text = calibration_report.written_text(tmp_path / "out", tmp_path / "fitted.toml")
    docs = (ROOT / "docs" / "VALIDATION.md").read_text()
    for name in {*calibration_report.FILES, "manifest.json"}:
        stem, kind = name.rsplit(".", 1)
        if kind in ("png", "svg"):
            assert stem in text and kind.upper() in text, name
            assert f"`{stem}`" in docs and kind.upper() in docs, name
        else:
            assert name in text and f"`{name}`" in docs, name
    assert str(tmp_path / "fitted.posterior.csv") in text
    # each table's columns are named in its item of the list
    cal = calibration.load_calibration(good(tmp_path))
    runs = pd.DataFrame([{f.key: float(k) for f in cal.figures} for k in range(3)])
    particles = pd.DataFrame({**{n: [r.low, r.high] for n, r in cal.priors.items()},
                              posterior.WEIGHT: [0.5, 0.5]})
    for name, table in (("parameters.csv", predictive.summarise_posterior(cal, particles)),
                        ("figures.csv", predictive.figures_table(cal, runs, runs)),
                        ("years.csv", predictive.years_table(cal, runs, runs))):
        item = re.search(rf"^- `{name}`: .*?;$", docs, re.M | re.S)[0]
        named = set(re.findall(r"`(\w+)`", item))
        if name == "years.csv":  # "the same" as figures.csv's, and its own
            named |= set(re.findall(r"`(\w+)`", re.search(r"^- `figures.csv`: .*?;$", docs,
                                                          re.M | re.S)[0]))
        assert set(table.columns) <= named, (name, set(table.columns) - named)


def test_a_stop_while_the_fitted_scenario_is_written_waits_for_the_pair(tmp_path, monkeypatch,
                                                                         capsys):
    """Ctrl-C once one file of --scenario-out's pair is written and before the other: both are
    written, so that the scenario's medians are those of the posterior beside it, and the
    command says what it wrote."""
    cal = calibration.load_calibration(good(tmp_path))

    def fitted(value: float) -> calibration.Fit:
        particles = pd.DataFrame({**{n: [value] for n in cal.priors}, posterior.WEIGHT: [1.0]})
        return calibration.Fit(cal, particles, pd.DataFrame(),
                               predictive.summarise_posterior(cal, particles), pd.DataFrame(),
                               pd.DataFrame(), tmp_path / "history.db")

    scenario_out = tmp_path / "scen" / "fitted.toml"
    calibration_report.write_scenario(fitted(0.002), scenario_out)  # an earlier fit's
    monkeypatch.setattr(calibration, "fit", lambda *args, **kwargs: fitted(0.003))
    monkeypatch.setattr(calibration_report, "write", lambda result, out: out.mkdir())
    write_atomic = calibration_report.write_atomic

    def stopped_after(path, write, seal=None) -> None:
        write_atomic(path, write, seal)
        os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(calibration_report, "write_atomic", stopped_after)
    out = tmp_path / "out"
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        status = main(["calibrate", str(good(tmp_path)), "--out", str(out), "--scenario-out",
                       str(scenario_out), "--force", "--jobs", "1", "--yes"])
    finally:
        signal.signal(signal.SIGINT, before[0])
        signal.signal(signal.SIGTERM, before[1])
    assert status == 130
    beside = posterior.load_posterior(calibration_report.posterior_path(scenario_out))
    assert beside["insurgents.coercion"].tolist() == [0.003]
    assert load_scenario(scenario_out).params["insurgents.coercion"] == 0.003
    err = capsys.readouterr().err
    assert err == f"blowback: interrupted; written: {out}, {scenario_out}, " \
        f"{calibration_report.posterior_path(scenario_out)}\n"


@pytest.mark.parametrize("failing", ["fitted.toml", "fitted.posterior.csv"])
def test_a_full_disk_at_the_scenario_out_leaves_the_earlier_pair_and_says_where_the_fit_is(
        tmp_path, monkeypatch, capsys, failing):
    """A disk that fills while --scenario-out is written, after the fit: one line that names the
    file and the folder that holds the fit, and the scenario and posterior of the earlier fit
    left as they were, as a pair, whichever of the two failed."""
    cal = calibration.load_calibration(good(tmp_path))
    particles = pd.DataFrame({**{n: [0.002] for n in cal.priors}, posterior.WEIGHT: [1.0]})
    earlier = calibration.Fit(cal, particles, pd.DataFrame(),
                              predictive.summarise_posterior(cal, particles), pd.DataFrame(),
                              pd.DataFrame(), tmp_path / "history.db")
    scenario_out = tmp_path / "scen" / "fitted.toml"
    calibration_report.write_scenario(earlier, scenario_out)
    before = {p.name: p.read_bytes() for p in scenario_out.parent.iterdir()}
    later = dataclasses.replace(
        earlier, posterior=particles.assign(**{"insurgents.coercion": [0.003]}))
    monkeypatch.setattr(calibration, "fit", lambda *args, **kwargs: later)
    monkeypatch.setattr(calibration_report, "write", lambda result, out: out.mkdir())

    def full(path, write, seal=None):
        if Path(path).name == failing:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return write_atomic(path, write, seal)

    write_atomic = calibration_report.write_atomic
    monkeypatch.setattr(calibration_report, "write_atomic", full)
    out = tmp_path / "out"
    status = main(["calibrate", str(good(tmp_path)), "--out", str(out), "--scenario-out",
                   str(scenario_out), "--force", "--jobs", "1", "--yes"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert "No space left on device" in err and str(scenario_out.parent / failing) in err
    assert str(out) in err
    assert {p.name: p.read_bytes() for p in scenario_out.parent.iterdir()} == before


def test_a_scenario_out_that_cannot_be_written_is_refused_before_the_fit(tmp_path, monkeypatch,
                                                                          capsys):
    """--scenario-out in a folder where nothing can be made (another user's, a read-only disk)
    is refused in one line before any simulation, as --out is, not with a traceback once the
    fit is done."""
    import tempfile

    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.mkdtemp

    def mkdtemp(suffix=None, prefix=None, dir=None):
        if dir is not None and Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(suffix, prefix, dir)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    monkeypatch.setattr(calibration, "fit", lambda *a, **k: pytest.fail("fitted"))
    out = tmp_path / "out"
    status = main(["calibrate", str(good(tmp_path)), "--out", str(out), "--scenario-out",
                   str(locked / "fitted.toml"), "--jobs", "1", "--yes"])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "--scenario-out" in err and "cannot write there" in err and "Permission denied" in err
    assert not out.exists() and not any(locked.iterdir())


def test_the_text_and_the_chart_of_figures_say_how_their_intervals_are_made(tmp_path):
    cal = calibration.load_calibration(good(tmp_path))
    particles = pd.DataFrame({**{n: [r.low, r.high] for n, r in cal.priors.items()},
                              posterior.WEIGHT: [0.5, 0.5]})
    runs = pd.DataFrame([{f.key: float(k + 1) for f in cal.figures} for k in range(3)])
    figures = predictive.figures_table(cal, runs, runs)
    fit = calibration.Fit(cal, particles, pd.DataFrame({"generation": [-1, 0], "epsilon": [
        np.inf, 1.0], "simulations": [4, 4]}), predictive.summarise_posterior(cal, particles),
        figures, predictive.years_table(cal, runs, runs), tmp_path / "history.db")
    lines = fit.text(wide=True).splitlines()
    assert ": ABC-SMC, 1 generation of " in lines[0]  # was: "1 generations"
    # what a report must say to be redone: the calibration file and its seed
    assert lines[0].startswith(f"tiny ({cal.path.name}, seed {cal.seed}): ABC-SMC")
    assert "posterior (weighted median [central 90%] of the particles; prior range):" in lines
    assert (f"figures, {cal.predictive_draws} runs each from the posterior (median [central 90%])"
            " and from the prior (central 90%):") in lines
    label = calibration_report.plot_figures(figures).axes[0].get_xlabel()
    assert "the posterior's runs' median and central 90%" in label
    assert "figures of 0 left out" in label


def test_a_median_of_0_is_drawn_below_every_ratio_with_a_marker_of_its_own():
    """A log axis has no 0: a figure whose runs' median is 0 sat at a ratio of 1e-3, above a
    figure the model reaches at 1e-4, drawn as a plain point."""
    figures = pd.DataFrame({"key": ["small", "none", "fair"], "bound": ["equal"] * 3,
                            "use": [predictive.FITTED] * 3, "reference": [1000.0] * 3,
                            "low": [0.05, 0.0, 500.0], "median": [0.1, 0.0, 900.0],
                            "high": [0.2, 3.0, 1200.0]})
    ax = calibration_report.plot_figures(figures).axes[0]
    drawn = {}
    for line in ax.lines:
        if line.get_marker() in ("o", "<"):
            for x, y in zip(line.get_xdata(), line.get_ydata(), strict=True):
                drawn[ax.get_yticklabels()[len(figures) - 1 - int(y)].get_text()] = \
                    (line.get_marker(), x)
    assert drawn["none"][0] == "<" and drawn["small"][0] == drawn["fair"][0] == "o"
    assert drawn["none"][1] < drawn["small"][1] == pytest.approx(1e-4)
    assert "\u25c1 a median of 0" in ax.get_xlabel()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [predictive.FITTED]


def _weeks(n: int = 60, **columns) -> pd.DataFrame:
    dates = pd.date_range("2020-12-28", periods=n, freq="7D")  # Mondays
    frame = pd.DataFrame({"date": dates, "largest_event": np.zeros(n),
                          "displaced": np.arange(float(n)), "burkina_instability": np.ones(n)})
    for kind in detection.KINDS.values():
        for column in kind:
            frame[column] = 0.0
    for column, value in columns.items():
        frame[column] = value
    frame["civilian_deaths"] = frame[[c for k in detection.KINDS.values() for c in k]].sum(axis=1)
    return frame


def test_figures_read_weeks_by_their_middle_day():
    series = _weeks(civilian_deaths_state=1.0)
    series.loc[9, "largest_event"] = 500.0  # the week of 1 March 2021 in this made-up year
    year = reference.BY_KEY["un_civilians_killed:2021"].read(series)
    assert year == 52  # the week of 28 Dec 2020 has its middle in 2020; 27 Dec 2021 in 2021
    assert reference.BY_KEY["idps:2021-05-31"].read(series) == 21.0  # the week of 24 May
    quarter = reference.BY_KEY["un_civilians_killed_quarter:2021-06-30"].read(series)
    assert quarter == 13  # weeks with middles from 1 April to 30 June 2021
    # a count whose period begins before the run is not read as zero, nor is a share
    assert np.isnan(reference.BY_KEY["un_civilians_killed_quarter:2020-06-30"].read(series))
    assert np.isnan(reference.BY_KEY["acled_vac_share_state:2020-07-31"].read(series))
    assert reference.atrocity_toll(series, "2021-03-01", "2021-03-31") == 500.0


def test_the_record_of_one_groups_fighters_reads_that_group_on_its_day():
    dates = pd.date_range("2018-01-01", periods=60, freq="7D")  # Mondays
    series = pd.DataFrame({"date": dates, "insurgent_strength": np.full(60, 1e6),
                           "insurgent_strength_a": np.arange(60.0)})
    jnim = reference.BY_KEY["jnim_fighters:2018-12-31"]
    assert (jnim.value, jnim.unit, jnim.fittable) == (800.0, "fighters", True)
    # the week of 24 December 2018 is the last whose middle falls in 2018
    assert jnim.read(series) == 51.0
    assert jnim.statistic(799.0) == pytest.approx(np.log(800.0))


def test_each_source_records_its_share_of_each_kind_of_perpetrator():
    series = _weeks(civilian_deaths_state=2.0, civilian_deaths_contractor=1.0,
                    civilian_deaths_partner=1.0, civilian_deaths_insurgent=4.0,
                    civilian_deaths_militia=2.0)
    rates = {"acled.state": 0.5, "acled.partner": 1.0, "acled.armed_groups": 0.25,
             "acled.militias": 0.5, "ucdp.government": 0.1, "ucdp.nonstate": 0.2, "un.all": 0.3}
    read = {k: reference.figure(k, pd.Timestamp("2021-01-01").date(),
                                pd.Timestamp("2021-12-31").date()).read
            for k in reference.READERS if k != "idps"}
    weeks = 52
    assert read["acled_civilian_fatalities"](series) == 10 * weeks  # the truth
    assert read["acled_civilian_fatalities"](series, rates) == pytest.approx(
        (3 * 0.5 + 1 + 4 * 0.25 + 2 * 0.5) * weeks)
    assert read["ucdp_one_sided_government"](series, rates) == pytest.approx(4 * 0.1 * weeks)
    assert read["ucdp_one_sided_nonstate"](series, rates) == pytest.approx(6 * 0.2 * weeks)
    assert read["un_civilians_killed"](series, rates) == pytest.approx(10 * 0.3 * weeks)
    # shares are of what the source records: ACLED's militias 1.0 of its 4.5 a week
    assert read["acled_vac_share_militias"](series, rates) == pytest.approx(1.0 / 4.5)
    assert read["acled_share_involving_contractor"](series, rates) == pytest.approx(0.5 / 4.5)
    # a rate common to every kind leaves the UN's shares as the model's
    assert read["un_victims_share_armed_groups"](series, rates) == pytest.approx(0.4)
    assert read["burkina_acled_fatalities"](series, {"acled.burkina_full": 7.0}) == 7 * weeks


def test_acled_perpetrator_shares_are_derived_from_its_counts():
    record = load_record()
    shares = reference.vac_shares(record)
    by_period = shares.groupby(["year", "end"])["value"].sum()
    assert np.allclose(by_period, 1.0)
    row = record[(record["series"] == "acled_vac_deaths_state_forces")
                 & (record["year"] == 2019)]
    identified = record[(record["year"] == 2019) & record["series"].isin(
        [reference.VAC_PREFIX + a for a in reference.VAC_ACTORS])]["value"].sum()
    state = reference.BY_KEY["acled_vac_share_state:2019"]
    assert state.value == pytest.approx(float(row["value"].iloc[0]) / identified)
    assert reference.BY_KEY["acled_vac_share_state:2020-07-31"].first_day.isoformat() \
        == "2020-01-01"


@pytest.mark.parametrize(("bound", "low", "median", "high", "verdict"), [
    ("about", 90, 95, 110, "matches"), ("about", 120, 125, 130, "above"),
    ("about", 10, 15, 20, "below"), ("at_least", 90, 100, 110, "meets"),
    ("at_least", 50, 90, 110, "reached"), ("at_least", 10, 15, 20, "below"),
])
def test_verdicts(bound, low, median, high, verdict):
    figure = reference.Figure("x", "x", 100.0, bound, "s", reference.FIT_UNTIL, len)
    assert figure.verdict(low, median, high) == verdict


def test_a_run_above_an_at_least_figure_is_at_no_distance_from_it():
    lower_bound = reference.Figure("x", "x", 500.0, "at_least", "s", reference.FIT_UNTIL, len)
    point = reference.Figure("x", "x", 500.0, "about", "s", reference.FIT_UNTIL, len)
    observed = lower_bound.statistic(lower_bound.value)
    assert lower_bound.statistic(2000.0) == observed
    assert lower_bound.statistic(100.0) < observed
    assert point.statistic(2000.0) > point.statistic(500.0)
    assert np.isnan(lower_bound.statistic(float("nan")))


def _small_mali(tmp_path, extra: str = ""):
    scenario = tmp_path / "small_mali.toml"
    scenario.write_text(f'extends = "{(SCENARIOS / "mali_2013_2024.toml").as_posix()}"\n'
                        f'[map]\ncommunities = 300\n{extra}')
    return scenario


def test_calibrate_end_to_end_at_a_tiny_size(tmp_path):
    path = write(tmp_path, GOOD.format(scenario=_small_mali(tmp_path).as_posix()))
    out = tmp_path / "out"
    foreign = tmp_path / "mine.toml"
    foreign.write_text("name = 'keep me'\n")
    cmd = [sys.executable, "-m", "sim.interfaces.cli", "calibrate", str(path), "--jobs", "1",
           "--ensemble", "2"]
    refused = subprocess.run([*cmd, "--out", str(out), "--scenario-out", str(foreign)],
                             capture_output=True, text=True, cwd=ROOT)
    assert refused.returncode == 2 and "not written by blowback calibrate" in refused.stderr
    assert foreign.read_text() == "name = 'keep me'\n" and not out.exists()

    fitted_file = tmp_path / "scen" / "fitted.toml"
    done = subprocess.run([*cmd, "--out", str(out), "--scenario-out", str(fitted_file)],
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert {p.name for p in out.iterdir()} == set(calibration_report.FILES) | {"manifest.json"}
    figures = pd.read_csv(out / "figures.csv")
    fitted = set(figures.loc[figures["use"] == predictive.FITTED, "key"])
    assert fitted == {"un_civilians_killed:2021"} | {f"acled_civilian_fatalities:{y}"
                                                     for y in range(2013, 2022)}
    retrodicted = set(figures.loc[figures["use"] == predictive.RETRODICTED, "key"])
    assert {"un_civilians_killed_excl_mass_atrocity:2022", "ohchr_mass_atrocity_deaths:2022-03-31",
            "acled_share_involving_contractor:2022"} <= retrodicted
    assert "idps:2019-12-31" in set(figures.loc[figures["use"] == predictive.CHECKED, "key"])
    assert (figures["low"] <= figures["median"]).all()
    assert (figures["median"] <= figures["high"]).all()
    years = pd.read_csv(out / "years.csv")
    assert set(years["year"]) == set(range(2013, 2025))
    predicted = years[years["year"] >= 2022]
    assert set(predicted["use"]) == {"predicted", predictive.RETRODICTED} or \
        set(predicted["use"]) == {"predicted"}
    table = posterior.load_posterior(out / "posterior.csv")
    assert len(table) == 4 and set(table.columns) == {
        "insurgents.coercion", "detection.acled.state", posterior.WEIGHT}
    generations = pd.read_csv(out / "generations.csv")
    # pyabc's sample of the prior for the distance's weights (-1), then the one generation
    assert list(generations["generation"]) == [-1, 0]
    assert (generations["simulations"] >= 4).all()
    # A fit of many minutes says how far it has come, each generation as it ends.
    sims = [int(n) for n in generations["simulations"]]
    assert [line for line in done.stderr.splitlines() if line.startswith("blowback: calibrate")] \
        == [f"blowback: calibrate: the prior sampled for the distance's scales, {sims[0]:,} "
            "simulations",
            f"blowback: calibrate: generation 1 of 1 done, {sims[1]:,} simulations "
            f"({sum(sims):,} in all)"]
    beside = calibration_report.posterior_path(fitted_file)
    assert beside.read_text() == (out / "posterior.csv").read_text()
    medians = pd.read_csv(out / "parameters.csv").set_index("name")["median"]
    for written in (out / "calibrated.toml", fitted_file):
        spec = load_scenario(written)
        assert spec.params["insurgents.coercion"] == pytest.approx(
            medians["insurgents.coercion"], rel=1e-3)
    assert "un_civilians_killed:2021" in done.stdout and "retrodicted" in done.stdout
    # The folder says what made it: the command as run and the calibration file it read.
    made = json.loads((out / "manifest.json").read_text())["made_by"]
    assert made["command"] == ["blowback", *cmd[3:], "--out", str(out), "--scenario-out",
                               str(fitted_file)]
    assert made["cwd"] == str(ROOT)
    assert made["inputs"] == [{"path": str(path),
                               "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}]
    assert made["versions"] == made_by.versions() and made["git_commit"] == made_by.git_commit()
    # ... and the scenario the fit ran, as it ran: what the calibration file names, and what
    # that extends, are pinned, not only the calibration file's text.
    ran = json.loads((out / "scenario.json").read_text())
    assert ran["scenario_hash"] == calibration.load_calibration(path).scenario.content_hash
    assert ran["parameters"]["map.communities"] == 300 and "seed" not in ran


def test_the_posterior_is_the_same_whatever_the_number_of_workers(tmp_path, capfd, caplog):
    """... with runs advanced together or not, and pyabc says nothing below a warning
    meanwhile, while the levels the user set, pyabc's own and the root logger's, are as they
    were afterwards."""
    import pyabc  # noqa: F401 (its import sets its logger to INFO, with a handler on stderr)

    from sim.experiments.smc import PYABC_LOGGER

    pyabc_logger, root = logging.getLogger(PYABC_LOGGER), logging.getLogger()
    levels = pyabc_logger.level, root.level
    path = write(tmp_path, GOOD.format(scenario=_small_mali(tmp_path).as_posix()))
    cal = calibration.load_calibration(path)
    cal.predictive_draws = 2
    capfd.readouterr()
    with caplog.at_level(logging.DEBUG):
        one = calibration.fit(cal, jobs=1, workdir=tmp_path / "one")
        two = calibration.fit(cal, jobs=2, workdir=tmp_path / "two")
        batched = calibration.fit(cal, jobs=2, workdir=tmp_path / "batched", ensemble=2)
    for other in (two, batched):
        pd.testing.assert_frame_equal(one.posterior, other.posterior)
        pd.testing.assert_frame_equal(one.figures, other.figures)
    said = capfd.readouterr()
    assert not re.search(rf"^{PYABC_LOGGER}[.\w]* (DEBUG|INFO)", said.err, re.M), said.err
    assert not [r for r in caplog.records if r.name.split(".")[0] == PYABC_LOGGER
                and r.levelno < logging.WARNING]
    assert levels[0] == logging.INFO  # so pyabc would have spoken
    assert (pyabc_logger.level, root.level) == levels


def test_the_fit_is_the_same_when_runs_are_advanced_together(tmp_path, monkeypatch):
    """With ``ensemble``, pyabc's tasks in a worker advance their runs in lockstep and the
    predictive runs go in batches; the particles, the simulations counted and the predictions
    are those of one run at a time."""
    path = write(tmp_path, GOOD.format(scenario=_small_mali(tmp_path).as_posix())
                 .replace("generations = 1", "generations = 2"))
    cal = calibration.load_calibration(path)
    widths = []

    class Counted(runs.Ensemble):
        def __init__(self, scenarios):
            widths.append(len(scenarios))
            super().__init__(scenarios)

    monkeypatch.setattr(runs, "Ensemble", Counted)
    alone = calibration.fit(cal, jobs=1, workdir=tmp_path / "alone")
    assert widths == []
    together = calibration.fit(cal, jobs=1, workdir=tmp_path / "together", ensemble=3)
    # the population of 4 as 3 then 1 tasks; the 2 + 2 predictive runs as one ensemble of 3
    assert max(widths) == 3 and len(widths) >= 4
    pd.testing.assert_frame_equal(alone.posterior, together.posterior)
    pd.testing.assert_frame_equal(alone.generations, together.generations)
    pd.testing.assert_frame_equal(alone.figures, together.figures)
    pd.testing.assert_frame_equal(alone.years, together.years)


def test_figures_after_a_scripted_outcome_are_labelled_scripted(tmp_path):
    """A scenario that schedules an outcome (here a partner's withdrawal in August 2022) cannot
    retrodict what follows it: those figures are reported as scripted, the earlier ones not."""
    scenario = _small_mali(tmp_path, '[[events]]\ndate = "2022-08"\ntype = "partner_leaves"\n'
                           'partner = "partner"\n')
    path = write(tmp_path, GOOD.format(scenario=scenario.as_posix()))
    cal = calibration.load_calibration(path)
    assert predictive.scripted_from(cal.scenario).isoformat().startswith("2022-08")
    assert predictive.scripted_from(load_scenario(SCENARIOS / "mali_2013_2024.toml")) is None
    runs = predictive.predict(cal, [{}, {}])
    figures = predictive.figures_table(cal, runs, runs).set_index("key")["use"]
    assert figures["acled_civilian_fatalities_window:2023-01-31"] == predictive.SCRIPTED
    assert figures["ohchr_mass_atrocity_deaths:2022-03-31"] == predictive.RETRODICTED
    assert figures["un_civilians_killed:2021"] == predictive.FITTED
    assert predictive.RETRODICTED not in set(figures[figures.index.str.contains("2023")])
    years = predictive.years_table(cal, runs, runs).set_index(["series", "year"])["use"]
    assert years[("acled_civilian_fatalities", 2023)] == predictive.SCRIPTED
    assert years[("acled_civilian_fatalities", 2021)] == predictive.FITTED


@pytest.mark.parametrize(("content", "column", "allowed"), [
    ("weight,insurgents.coercion\n1,0.002\n", None, None),
    ("insurgents.coercion\n0.002\n", "weight", "posterior.csv"),
    ("weight,insurgents.coersion\n1,0.002\n", "insurgents.coersion", "did you mean"),
    ("weight,insurgents.coercion\n1,abc\n", "insurgents.coercion", "finite number"),
    ("weight,insurgents.coercion\n1,7\n", "insurgents.coercion", "a number in"),
    ("weight,insurgents.coercion\n-1,0.002\n", "weight", "weights >= 0"),
    ("weight,insurgents.coercion\n1e308,0.002\n1e308,0.003\n", "weight", "finite"),
    ("weight,map.width\n1,10\n", "map.width", "real-valued parameters"),
    ("", None, "not a table"),
    ("weight\n1\n2\n", None, "a column for each fitted parameter"),
    ("weight,detection.un.all\n1,0.5\n", None, "draws no parameter"),
    ("weight,insurgents.coercion,detection.bogus\n1,0.002,1\n", "detection.bogus",
     "detection.un.all"),
    ("weight,insurgents.coercion,detection.un.all\n1,0.002,-5\n", "detection.un.all", ">= 0"),
    ("weight,insurgents.coercion,insurgents.coercion\n1,0.002,0.003\n", "insurgents.coercion",
     "given twice"),
])
def test_a_posterior_file_is_checked(tmp_path, content, column, allowed):
    path = tmp_path / "posterior.csv"
    path.write_text(content)
    if allowed is None:
        draws = posterior.draws(posterior.load_posterior(path), 3, seed=1)
        assert draws == [{"insurgents.coercion": 0.002}] * 3
        return
    with pytest.raises(ScenarioError) as err:
        posterior.load_posterior(path)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and allowed in message
    if column:
        assert column in message


def test_compare_runs_seed_k_of_every_scenario_on_the_kth_posterior_draw(tmp_path, capsys):
    from sim.experiments.compare import compare

    path = tmp_path / "posterior.csv"
    path.write_text("weight,insurgents.recruitment,detection.un.all\n"
                    "1,0.0001,0.5\n1,0.002,0.5\n")
    draws = posterior.draws(posterior.load_posterior(path), 3, seed=1)
    assert {d["insurgents.recruitment"] for d in draws} <= {0.0001, 0.002}
    assert all(set(d) == {"insurgents.recruitment"} for d in draws)  # rates stay out
    a, b = small("partner_led", **{"run.steps": 30}), small("contractor_unchecked",
                                                               **{"run.steps": 30})
    plain = compare([a, b], seeds=3)
    drawn = compare([a, b], seeds=3, draws=draws)
    again = compare([a, b], seeds=3, draws=draws)
    pd.testing.assert_frame_equal(drawn.runs, again.runs)
    assert not drawn.runs.equals(plain.runs)
    alone = compare([a.with_overrides(**draws[1])], seeds=1, first_seed=2)
    second = drawn.runs[(drawn.runs["scenario"] == drawn.runs["scenario"].iloc[0])
                        & (drawn.runs["seed"] == 2)].reset_index(drop=True)
    # Each run's row says which values it drew; without them it is the run made alone.
    assert drawn.runs.columns[:3].tolist() == ["scenario", "seed", "insurgents.recruitment"]
    assert drawn.runs.groupby("scenario")["insurgents.recruitment"].apply(list).tolist() == \
        [[d["insurgents.recruitment"] for d in draws]] * 2
    pd.testing.assert_frame_equal(second.drop(columns="insurgents.recruitment"), alone.runs,
                                  check_dtype=False)

    out = tmp_path / "cmp"
    code = main(["compare", str(SCENARIOS / "partner_led.toml"), "--seeds", "2", "--steps", "5",
                 "--jobs", "1", "--posterior", str(path), "--out", str(out)])
    assert code == 0
    assert "insurgents.recruitment" in pd.read_csv(out / "runs.csv").columns
    # A posterior does not say which calibration made it: the command names what it drew, and
    # so does the folder's text.
    said = "of 1 parameter: insurgents.recruitment (runs.csv gives each run's values)."
    assert said in " ".join(capsys.readouterr().out.split())
    assert said in " ".join((out / "comparison.txt").read_text().split())
    assert str(path) in " ".join((out / "comparison.txt").read_text().split())
    path.write_text("weight,insurgents.recruitment\n1,9\n")
    assert main(["compare", str(SCENARIOS / "partner_led.toml"), "--seeds", "2", "--posterior",
                 str(path), "--out", str(tmp_path / "bad")]) == 2
    assert not (tmp_path / "bad").exists()


def test_the_proposal_is_one_gaussian_over_the_population_mixed_with_the_prior():
    from sim.experiments.smc import GaussianProposal

    rng = np.random.default_rng(3)
    population = pd.DataFrame(rng.normal(size=(400, 3)) * [1.0, 2.0, 0.5] + [1.0, -1.0, 0.0],
                              columns=["a", "b", "c"])
    weights = np.full(400, 1 / 400)
    bounds = {"a": (-10.0, 10.0), "b": (-10.0, 10.0), "c": (-5.0, 5.0)}
    proposal = GaussianProposal(bounds, scaling=2.0, defensive=0.1)
    proposal.fit(population, weights)
    assert np.allclose(proposal.mean, population.mean(), atol=1e-12)
    assert np.allclose(proposal.cov, 2.0 * np.cov(population.T, ddof=1), rtol=0.02)
    np.random.seed(5)
    first = proposal.rvs_single()
    np.random.seed(5)
    assert dict(proposal.rvs_single()) == dict(first)
    # the density is the mixture's, the same for a point and for a table of points
    point = population.iloc[0]
    assert proposal.pdf(point) == pytest.approx(proposal.pdf(population.iloc[[0]])[0])
    # far from the population but inside the box, the prior's share bounds the weight
    far = pd.Series({"a": 9.0, "b": 9.0, "c": 4.5})
    box = 1.0 / (20 * 20 * 10)
    assert proposal.pdf(far) == pytest.approx(0.1 * box, rel=1e-6)
    assert proposal.pdf(pd.Series({"a": 11.0, "b": 0.0, "c": 0.0})) < 1e-10
    draws = pd.DataFrame([dict(proposal.rvs_single()) for _ in range(2000)])
    outside = ((draws - population.mean()).abs() > 6 * population.std()).any(axis=1).mean()
    assert 0.0 < outside < 0.1  # a few come from the prior's box


def test_no_figure_takes_over_the_distance_and_none_the_model_misses_is_ignored():
    from sim.experiments.distance import robust_distance

    rng = np.random.default_rng(4)
    samples = np.stack([rng.normal(0.0, 1.0, 400),      # spread 1, the record at its middle
                        1e-5 * rng.normal(0.0, 1.0, 400),  # a share kept near 0; the record 0.004
                        np.zeros(400),                    # no simulation moves; the record 0.06
                        np.zeros(400)], axis=1)          # no simulation moves; the record agrees
    observed = np.array([0.0, 0.004, 0.06, 0.0])
    scales = robust_distance().scale_function(samples=samples, s0=observed,
                                              s_ids=["a", "b", "c", "d"])
    mad = np.median(np.abs(samples - np.median(samples, axis=0)), axis=0)
    assert scales[0] == pytest.approx(2 * mad[0], rel=0.1)  # the record at the middle: twice
    # the near-constant share is scaled by how far the record is, not by its tiny spread
    assert scales[1] == pytest.approx(0.004, rel=0.01) and scales[1] > 100 * mad[1]
    assert scales[2] == pytest.approx(0.06) and scales[3] == 0.0


def test_the_record_far_from_a_statistic_the_model_barely_moves_no_longer_takes_the_distance():
    from sim.experiments.distance import effective_figures, weights

    rng = np.random.default_rng(5)
    samples = pd.DataFrame({f"count{k}": rng.normal(0.0, 1.0, 300) for k in range(8)}
                           | {"share": 1e-5 * rng.normal(0.0, 1.0, 300)})
    observed = pd.Series({f"count{k}": 0.0 for k in range(8)} | {"share": 0.004})
    table = weights(samples, observed)
    assert table.loc["share", "share_by_spread"] > 0.9
    assert table.loc["share", "share"] < 0.25
    assert table["share"].sum() == pytest.approx(1.0)
    assert effective_figures(table["share_by_spread"]) < 1.3 < 7 < effective_figures(
        table["share"]) <= 9


def test_a_prior_sample_is_the_same_whatever_the_number_of_workers(tmp_path):
    from sim.experiments.distance import prior_sample, record_statistics, weights

    cal = calibration.load_calibration(write(tmp_path, GOOD.format(
        scenario=_small_mali(tmp_path).as_posix())))
    one = prior_sample(cal, draws=3, seed=2, jobs=1)
    assert one.equals(prior_sample(cal, draws=3, seed=2, jobs=2))
    assert list(one.columns) == [f.key for f in cal.targets] and len(one) == 3
    assert not one.equals(prior_sample(cal, draws=3, seed=3, jobs=1))
    table = weights(one, record_statistics(cal))
    assert set(table.index) == set(one.columns)
    assert table["share"].sum() == pytest.approx(1.0)
