"""The command line as a user meets it: outputs, JSON, comparison, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

from sim.core.outcomes import shown

SUMMARY_KEYS = {
    "civilian_deaths", "combatant_deaths", "insurgent_strength_final", "recruits_total",
    "cooperation_mean_final", "grievance_mean_final", "legitimacy_final", "displaced_final",
    "abuses_detected", "abuses_punished", "partner_present_final", "state_budget_final",
    "contractor_revenue_total", "neighbour_states_with_contractors_final",
    "territory_state_share_final",
}


def blowback(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=600)


def _small_scenario(tmp_path: Path, name: str = "contractor_unchecked") -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'extends = "{ROOT / "scenarios" / (name + ".toml")}"\n'
                    "[map]\ncommunities = 800\n")
    return path


def test_run_writes_series_and_summary_with_provenance(tmp_path):
    out = tmp_path / "out"
    done = blowback("run", str(_small_scenario(tmp_path)), "--steps", "30", "--seed", "4",
                    "--out", str(out))
    assert done.returncode == 0, done.stderr
    df = pd.read_parquet(out / "timeseries.parquet")
    assert len(df) == 30
    assert {"date", "civilian_deaths_state", "civilian_deaths_contractor",
            "civilian_deaths_insurgent", "displaced"} <= set(df.columns)
    assert pd.api.types.is_datetime64_any_dtype(df["date"])
    doc = json.loads((out / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(doc["summary"])
    assert set(doc["summary"]["civilian_deaths"]) >= {"total", "state", "contractor",
                                                       "insurgent"}
    prov = doc["provenance"]
    assert prov["seed"] == 4 and prov["parameters"]["run.steps"] == 30
    assert len(prov["scenario_hash"]) == 64
    assert {"blowback", "mesa", "numba"} <= set(prov["versions"])
    assert "git_commit" in prov


def test_run_json_prints_only_the_summary(tmp_path):
    done = blowback("run", str(_small_scenario(tmp_path)), "--steps", "10", "--json",
                    "--out", str(tmp_path / "o"))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert SUMMARY_KEYS <= set(doc["summary"])


def test_same_seed_same_files(tmp_path):
    scenario = str(_small_scenario(tmp_path))
    for name in ("a", "b"):
        assert blowback("run", scenario, "--steps", "20", "--out",
                        str(tmp_path / name)).returncode == 0
    a = pd.read_parquet(tmp_path / "a" / "timeseries.parquet")
    b = pd.read_parquet(tmp_path / "b" / "timeseries.parquet")
    pd.testing.assert_frame_equal(a, b)
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert sa == sb


def test_compare_prints_table_and_writes_figure(tmp_path):
    a = _small_scenario(tmp_path, "contractor_accountable")
    b = _small_scenario(tmp_path, "contractor_unchecked")
    out = tmp_path / "cmp"
    done = blowback("compare", str(a), str(b), "--seeds", "3", "--steps", "20", "--jobs", "2",
                    "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert "Contractor, accountable" in done.stdout and "Contractor, unchecked" in done.stdout
    assert "civilian deaths" in done.stdout and "Paired difference" in done.stdout
    assert (out / "comparison.png").stat().st_size > 10_000
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {"Contractor, accountable", "Contractor, unchecked"}
    assert (table["low"] <= table["mean"] + 1e-9).all()
    assert (table["mean"] <= table["high"] + 1e-9).all()
    runs = pd.read_csv(out / "runs.csv")
    assert len(runs) == 6
    # The outcomes and their order are the registry's, under the same column names as a
    # sweep's (total civilian deaths: civilian_deaths_total).
    columns = [o.column for o in shown("comparison")]
    assert list(runs.columns) == ["scenario", "seed", *columns]
    assert list(dict.fromkeys(table["outcome"])) == columns
    assert list(dict.fromkeys(table["label"])) == [o.label for o in shown("comparison")]


def test_compare_results_do_not_depend_on_workers(tmp_path):
    a = _small_scenario(tmp_path, "partner_led")
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}"
        assert blowback("compare", str(a), "--seeds", "2", "--steps", "15", "--jobs", jobs,
                        "--out", str(out)).returncode == 0
        outs.append(pd.read_csv(out / "runs.csv"))
    pd.testing.assert_frame_equal(outs[0], outs[1])


def test_scenario_explain_lists_every_parameter():
    from sim.core.parameters import PARAMETERS

    done = blowback("scenario", "--explain")
    assert done.returncode == 0
    for p in PARAMETERS:
        assert p.name in done.stdout


def test_scenario_steps_prints_the_week_in_order():
    from sim.core.week import WEEK

    done = blowback("scenario", "--steps")
    assert done.returncode == 0
    lines = done.stdout.splitlines()[1:]
    assert lines == [f"{i:2d}. {step.label}" for i, step in enumerate(WEEK, 1)]
    for mechanism in ("M01", "M02", "M03", "M04", "M05", "M06", "M07", "M08", "M09", "M10",
                      "M11", "M12", "M13"):
        assert any(f". {mechanism} " in line for line in lines), mechanism


def test_every_shipped_scenario_is_valid():
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        done = blowback("scenario", str(path))
        assert done.returncode == 0, (path, done.stderr)
        assert "valid" in done.stdout


BAD = {
    "unknown_key": ('[oversight]\npunishmnt = 0.5\n', "oversight.punishment"),
    "wrong_type": ('[state]\nunits = "many"\n', "state.units"),
    "out_of_range": ('[oversight]\npunishment = 1.5\n', "oversight.punishment"),
    "missing_extends": ('extends = "nowhere.toml"\n', "extends"),
    "not_toml": ('[oversight\npunishment = 0.5\n', "bad.toml"),
    "event_outside": ('[[events]]\ndate = "2199-01"\ntype = "coup"\ncountry = "host"\n',
                      "events[0].date"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_is_one_line_exit_2_and_no_output(tmp_path, case):
    text, expected = BAD[case]
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    out = tmp_path / "out"
    done = blowback("run", str(bad), "--out", str(out))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "bad.toml" in lines[0] and expected in lines[0]
    assert done.stdout == ""
    assert not out.exists()


def test_extends_cycle_is_refused(tmp_path):
    (tmp_path / "a.toml").write_text('extends = "b.toml"\n')
    (tmp_path / "b.toml").write_text('extends = "a.toml"\n')
    done = blowback("run", str(tmp_path / "a.toml"), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "cycle" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_output_folder_with_foreign_files_is_not_touched(tmp_path):
    out = tmp_path / "precious"
    out.mkdir()
    (out / "thesis.docx").write_text("keep me")
    done = blowback("run", str(_small_scenario(tmp_path)), "--steps", "3", "--out", str(out))
    assert done.returncode == 2 and "precious" in done.stderr
    assert (out / "thesis.docx").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["thesis.docx"]


def test_bad_flag_values_exit_2():
    done = blowback("run", "scenarios/base.toml", "--steps", "0")
    assert done.returncode == 2 and "Traceback" not in done.stderr
