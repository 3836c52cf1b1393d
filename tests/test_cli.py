"""The command line as a user meets it: outputs, JSON, comparison, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, assert_refused
from conftest import blowback as blowback_here

from sim.core.outcomes import shown
from sim.core.scenario import load_scenario
from sim.core.state import PERPETRATORS
from sim.interfaces.commands import PERPETRATOR_WORDS

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
    assert set(doc["summary"]["civilian_deaths"]) == {"total", *PERPETRATORS}
    # The printed breakdown names every perpetrator, so that its parts add up to the total.
    deaths = doc["summary"]["civilian_deaths"]
    # The end date is the first day of the last week, and the line says so.
    assert done.stdout.splitlines()[0].endswith(
        f": 30 weeks from {doc['summary']['start_date']} (the last from "
        f"{doc['summary']['end_date']}), seed 4")
    line, = [x for x in done.stdout.splitlines() if "civilian deaths" in x]
    assert line.strip() == "civilian deaths {:,.0f} ({})".format(deaths["total"], ", ".join(
        f"{PERPETRATOR_WORDS.get(who, who)} {deaths[who]:,.0f}" for who in PERPETRATORS))
    assert "militias" in line and "armed groups" in line
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
    # The closing line names every file written but the manifest (runs.csv was left out).
    closing = done.stdout.splitlines()[-1]
    assert all(p.name in closing for p in out.iterdir() if p.name != "manifest.json"), closing
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
    # Each scenario as it ran, its chain of files resolved: what the files named on the command
    # line extend is pinned too, not only their own text.
    ran = json.loads((out / "scenarios.json").read_text())
    assert list(ran) == ["Contractor, accountable", "Contractor, unchecked"]
    for path, name in ((a, "Contractor, accountable"), (b, "Contractor, unchecked")):
        spec = load_scenario(path).with_overrides(**{"run.steps": 20})
        assert ran[name]["scenario_file"] == str(path)
        assert ran[name]["scenario_hash"] == spec.content_hash
        assert ran[name]["parameters"] == json.loads(json.dumps(dict(spec.params)))
        assert len(ran[name]["events"]) == len(spec.events)
        assert "seed" not in ran[name]


def test_a_mean_that_rounds_to_zero_prints_without_a_sign():
    """A paired difference of -0.00001 prints as "0.000", not "-0.000"; its bounds keep theirs."""
    from sim.experiments.compare import format_table

    table = pd.DataFrame([("b", "grievance", -1.0e-5, -0.0052, 0.0051)],
                         columns=["scenario", "label", "mean", "low", "high"])
    assert format_table(table).splitlines()[2].split()[1:] == ["0.000", "[-0.005,", "0.005]"]


def test_the_tables_heading_says_over_how_many_seeds():
    """The printed tables (and comparison.txt, tables.txt) say how many seeds each interval is
    over, as table.csv's ``n`` does; a sweep analysed before it finished gives a range; one seed
    gives no t interval and the heading says why its brackets hold dashes."""
    from sim.experiments.compare import readings

    def heading(*counts: int) -> str:
        rows = [(f"s{k}", "civilian_deaths_total", 1.0, 0.0, 2.0, n)
                for k, n in enumerate(counts)]
        return readings(pd.DataFrame(rows, columns=["scenario", "outcome", "mean", "low",
                                                    "high", "n"]))

    assert heading(4, 4).splitlines()[0] == "over 4 seeds in each row"
    assert heading(3, 2).splitlines()[0] == "over 2 to 3 seeds a row (n in the CSV)"
    assert heading(1, 1).splitlines()[0] == ("over 1 seed in each row: too few for a t interval "
                                             "([-, -])")
    table = pd.DataFrame([("s", "civilian_deaths_total", 1.0, 0.0, 2.0, 3)],
                         columns=["scenario", "outcome", "mean", "low", "high", "n"])
    # How many weeks a total is over: a sweep's scenarios may run for different spans.
    assert "totals over the run (520 weeks): " in readings(table, [520, 520])
    assert "totals over the run (260 to 520 weeks): " in readings(table, [260, 520])


def test_the_tables_csv_say_what_each_rows_mean_is_in():
    """comparison.csv, differences.csv and analyse's table.csv had no unit: a reader of the
    file alone could not tell people from fighters, a total over the run from the last week's
    value, or a share of seeds from a 0-1 level."""
    from sim.experiments.compare import summarise, summarise_paired

    runs = pd.DataFrame({"scenario": ["a", "a"], "seed": [1, 2],
                         **{o.column: [0.0, 1.0] for o in shown("comparison")}})
    units = summarise(runs, ["a"]).set_index("outcome")["unit"]
    assert units["civilian_deaths_total"] == "people, total over the run"
    assert units["recruits_total"] == "fighters, total over the run"
    assert units["cooperation_mean_final"] == "0-1, in the last week"
    assert units["territory_state_share_final"] == "0-1, in the last week"
    assert units["displaced_final"] == "people, in the last week"
    assert units["partner_present_final"] == "share of seeds"
    assert list(summarise_paired([("a", runs, runs)])["unit"]) == list(units)


def test_an_interval_of_no_width_prints_as_its_column_does():
    """A contractor's deaths where it is absent are 0 on every seed: "0 [0, 0]" among counts,
    not "0.00 [0.00, 0.00]"; a share every seed gives alike keeps its column's decimals; a
    column with no width anywhere (one seed) prints whole numbers whole, others with two."""
    from sim.experiments.compare import format_table

    nan = float("nan")
    rows = [("absent", "deaths", 0.0, 0.0, 0.0), ("present", "deaths", 3283.0, 2584.0, 3982.0),
            ("absent", "stays", 1.0, 1.0, 1.0), ("present", "stays", 0.5, 0.24, 0.76),
            ("absent", "alike", 0.0, 0.0, 0.0), ("present", "alike", 39.0, nan, nan),
            ("absent", "mean", 0.25, nan, nan), ("present", "mean", 0.5, nan, nan)]
    table = pd.DataFrame(rows, columns=["scenario", "label", "mean", "low", "high"])
    absent, present = format_table(table, wide=True).splitlines()[2:]
    assert absent.split()[1:] == ["0", "[0,", "0]", "1.00", "[1.00,", "1.00]",
                                  "0", "[0,", "0]", "0.25", "[-,", "-]"]
    assert present.split()[1:4] == ["3,283", "[2,584,", "3,982]"]
    assert present.split()[7:] == ["39", "[-,", "-]", "0.50", "[-,", "-]"]


def test_compare_results_do_not_depend_on_workers(tmp_path, capsys):
    a = _small_scenario(tmp_path, "partner_led")
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"j{jobs}"
        status, _, err = blowback_here(capsys, "compare", str(a), "--seeds", "2", "--steps", "15",
                                       "--jobs", jobs, "--out", str(out))
        assert status == 0, err
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


def test_every_shipped_scenario_is_valid(capsys):
    # In this process: a new interpreter per scenario would only repeat the imports.
    for path in sorted((ROOT / "scenarios").glob("*.toml")):
        status, out, err = blowback_here(capsys, "scenario", str(path))
        assert status == 0, (path, err)
        assert "valid" in out


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


def test_scenario_diff_prints_differing_keys_with_kinds_in_registry_order():
    from sim.core.parameters import PARAMETERS

    a, b = ROOT / "scenarios" / "partner_led.toml", ROOT / "scenarios" / "pressure.toml"
    done = blowback("scenario", str(a), "--diff", str(b))
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines() if not line.startswith("event")]
    assert ["contractor.present", "institution", "false", "true"] in rows
    assert ["oversight.punishment", "institution", "0.6", "0.4"] in rows
    assert ["sanctions.propensity", "institution", "0.0", "0.3"] in rows
    order = [p.name for p in PARAMETERS]
    names = [row[0] for row in rows]
    assert names == sorted(names, key=order.index)
    assert "oversight.independent" not in names  # 0.3 in both


def test_scenario_diff_prints_the_events_only_one_file_has(tmp_path, capsys):
    base = tmp_path / "base.toml"
    base.write_text('[[events]]\ndate = "2014-02"\ntype = "offensive"\nnear = "Mopti"\n'
                    '[[events]]\ndate = "2015-03"\ntype = "sanctions"\nlevel = 0.5\n')
    other = tmp_path / "other.toml"
    other.write_text(f'extends = "{base.as_posix()}"\n[[events]]\ndate = "2014-06"\n'
                     'type = "sanctions"\nlevel = 0.5\n')
    status, out, err = blowback_here(capsys, "scenario", str(base), "--diff", str(other))
    assert status == 0, err
    assert out.splitlines() == [
        f'event  2014-06-01  sanctions  {{"level": 0.5}}  only in {other}']
    status, out, _ = blowback_here(capsys, "scenario", str(other), "--diff", str(base))
    assert out.splitlines() == [
        f'event  2014-06-01  sanctions  {{"level": 0.5}}  only in {other}']


@pytest.mark.parametrize("argv, expected", [
    (["scenarios/base.toml", "--steps"], "--steps and FILE do not go together"),
    (["scenarios/base.toml", "--explain"], "--explain and FILE do not go together"),
    (["--explain", "--steps"], "--explain and --steps do not go together"),
    (["--explain", "--markdown", "--json"], "--json and --markdown do not go together"),
    (["--explain", "--changed"], "--changed does not go with --explain"),
    (["--steps", "--json"],
     "--json does not go with --steps; allowed with --steps: no other option"),
    (["scenarios/base.toml", "--markdown"], "--markdown does not go with FILE"),
    (["scenarios/base.toml", "--diff", "scenarios/base.toml", "--json"],
     "--diff and --json do not go together"),
    (["scenarios/base.toml", "--diff", "scenarios/base.toml", "--changed"],
     "--diff and --changed do not go together"),
    (["--markdown"], "give one of a FILE to check, --explain, --steps or --shipped"),
    (["--shipped", "--json"],
     "--json does not go with --shipped; allowed with --shipped: no other option"),
    (["scenarios/base.toml", "--shipped"], "--shipped and FILE do not go together"),
])
def test_scenario_refuses_options_it_would_ignore(capsys, argv, expected):
    status, out, err = blowback_here(capsys, "scenario", *argv)
    assert_refused(status, err, expected)
    assert out == ""


@pytest.mark.parametrize("argv, expected", [
    (["run", "scenarios/base.toml", "--out", ""], "argument --out: an empty path"),
    (["compare", "scenarios/base.toml", "--out", " "], "argument --out: an empty path"),
    (["analyse", "results", "--baseline", ""], "argument --baseline: an empty name"),
    (["run", ""], "argument scenario: an empty name"),
    (["compare", "scenarios/base.toml", ""], "argument scenarios: an empty name"),
    (["scenario", "scenarios/base.toml", "--diff", ""], "argument --diff: an empty name"),
])
def test_an_empty_path_or_name_is_refused_not_read_as_the_default(capsys, argv, expected):
    status, out, err = blowback_here(capsys, *argv)
    assert status == 2 and expected in err and out == ""


def test_scenario_diff_of_a_file_with_itself_prints_nothing():
    path = str(ROOT / "scenarios" / "engagement.toml")
    done = blowback("scenario", path, "--diff", path)
    assert done.returncode == 0 and done.stdout == ""


def test_scenario_json_prints_the_resolved_parameters():
    from sim.core.parameters import PARAMETERS

    done = blowback("scenario", str(ROOT / "scenarios" / "contractor_unchecked.toml"), "--json")
    assert done.returncode == 0, done.stderr
    params = json.loads(done.stdout)
    assert list(params) == [p.name for p in PARAMETERS]
    assert params["contractor.present"] is True and params["run.start_date"] == "2022-01-03"
    assert params["oversight.punishment"] == 0.2


def test_scenario_explain_json_is_the_registry_with_kinds():
    from sim.core.parameters import PARAMETERS

    done = blowback("scenario", "--explain", "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["name"] for r in records] == [p.name for p in PARAMETERS]
    keys = {"name", "default", "kind", "mechanism", "low", "high", "unit", "meaning"}
    assert all(keys <= set(r) for r in records)
    by_name = {r["name"]: r for r in records}
    assert by_name["oversight.punishment"].items() >= {
        "kind": "institution", "mechanism": "M06", "low": 0.0, "high": 1.0,
        "default": 0.4}.items()
    assert by_name["insurgents.recruitment"]["kind"] == "behaviour"
    assert by_name["map.population"]["kind"] == "world"
    assert by_name["run.seed"]["kind"] == "run"


def test_scenario_explain_shows_each_kind():
    done = blowback("scenario", "--explain")
    line = next(x for x in done.stdout.splitlines() if x.split()[:1] == ["conduct.penalty"])
    assert "behaviour" in line.split()


def test_run_set_changes_parameters_like_a_file(tmp_path):
    out = tmp_path / "out"
    done = blowback("run", str(_small_scenario(tmp_path)), "--steps", "3", "--out", str(out),
                    "--set", "oversight.punishment=0.8", "--set", "contractor.transparent=true",
                    "--set", 'run.start_date="2014-01-06"')
    assert done.returncode == 0, done.stderr
    prov = json.loads((out / "summary.json").read_text())["provenance"]
    assert prov["parameters"]["oversight.punishment"] == 0.8
    assert prov["parameters"]["contractor.transparent"] is True
    assert prov["parameters"]["run.start_date"] == "2014-01-06"
    assert prov["parameters"]["run.steps"] == 3


BAD_SETS = {
    "unknown_key": ("oversight.punishmnt=0.5", "oversight.punishmnt", "oversight.punishment"),
    "wrong_type": ("state.units=\"many\"", "state.units", "an integer in [0, 10000]"),
    "out_of_range": ("oversight.punishment=1.5", "oversight.punishment", "a number in [0, 1]"),
    "not_toml": ("contractor.transparent=yes", "contractor.transparent", "true or false"),
    "no_equals": ("oversight.punishment", "KEY=VALUE", "allowed"),
    "unquoted_date_text": ("run.start_date=soon", "run.start_date", "a Monday, YYYY-MM-DD"),
    "not_a_monday": ('run.start_date="2013-01-01"', "run.start_date",
                     "2013-01-01 is a Tuesday; allowed: a Monday, YYYY-MM-DD (the Monday of that "
                     "week is 2012-12-31)"),
}


@pytest.mark.parametrize("case", sorted(BAD_SETS))
def test_bad_set_is_one_line_exit_2_and_no_output(tmp_path, case):
    setting, key, allowed = BAD_SETS[case]
    out = tmp_path / "out"
    done = blowback("run", str(_small_scenario(tmp_path)), "--out", str(out), "--set", setting)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "--set" in lines[0] and key in lines[0] and allowed in lines[0]
    assert not out.exists()


@pytest.mark.parametrize(("args", "said"), [
    (["run", "--seed", str(2**62 + 1)], "--seed: run.seed: 4611686018427387905 is out of range"),
    (["run", "--steps", "100000"], "--steps: run.steps: 100000 is out of range"),
    (["compare", "--seeds", "2", "--first-seed", str(2**62)],
     "--first-seed: 4611686018427387904 and 2 seeds pass the largest seed"),
    (["compare", "--set", "run.seed=77"], "--set: run.seed: compare runs the seeds of"),
])
def test_an_option_out_of_range_is_named_as_typed(tmp_path, capsys, args, said):
    command, *options = args
    out = tmp_path / "out"
    status, stdout, err = blowback_here(capsys, command, str(_small_scenario(tmp_path)),
                                        *options, "--out", str(out))
    assert status == 2 and not stdout and not out.exists()
    assert len(err.strip().splitlines()) == 1 and err.startswith("blowback: error: ")
    assert said in err


@pytest.mark.parametrize(("args", "said"), [
    (["validate", "--claims", ""], "--claims: an empty name; allowed: one or more of bennett"),
    (["validate", "--claims", "bennett,"], "--claims: an empty name"),
    (["validate", "--claims", "bennett, bennett"], "--claims: 'bennett' named twice"),
    (["validate", "--claims", "benett"], "--claims: unknown name 'benett'"),
    (["bench", "--only", ""], "--only: an empty name; allowed: one or more of epstein"),
    (["bench", "--only", "sweep,sweep"], "--only: 'sweep' named twice"),
])
def test_a_list_option_names_each_choice_once(tmp_path, capsys, args, said):
    status, stdout, err = blowback_here(capsys, *args, "--out", str(tmp_path / "out")) \
        if args[0] == "validate" else blowback_here(capsys, *args)
    assert status == 2 and not stdout and not (tmp_path / "out").exists()
    assert len(err.strip().splitlines()) == 1 and said in err


def test_an_empty_scheduler_address_is_refused_not_run_locally(tmp_path, capsys):
    """`--scheduler "$UNSET"` meant a cluster: running on this machine instead would be silent."""
    status, stdout, err = blowback_here(capsys, "sweep", str(ROOT / "scenarios" / "experiments"
                                                          / "sensitivity.toml"),
                                        "--scheduler", "", "--out", str(tmp_path / "out"))
    assert status == 2 and not stdout and not (tmp_path / "out").exists()
    assert "--scheduler: an empty address" in err


@pytest.mark.parametrize(("address", "said"), [
    ("tls://127.0.0.1:1", "TLS expects"),  # a TLS scheduler without Dask's TLS settings
    ("scheduler-host", "missing port number"),
])
def test_a_scheduler_address_that_cannot_be_used_is_said_in_one_line(tmp_path, capsys,
                                                                      address, said):
    pytest.importorskip("distributed")
    status, stdout, err = blowback_here(capsys, "sweep", str(ROOT / "scenarios" / "experiments"
                                                          / "sensitivity.toml"),
                                        "--scheduler", address, "--out", str(tmp_path / "out"))
    assert status == 2 and not stdout and not (tmp_path / "out").exists()
    assert err.startswith(f"blowback: error: --scheduler {address}: cannot connect ("), err
    assert err.count("\n") == 1 and said in err, err


@pytest.mark.parametrize(("answer", "said"), [
    (b"", "no Dask scheduler answered there within 2 s"),  # a dashboard: HTTP waits for a request
    (b"\xff" * 64, "what answers there is not a Dask scheduler"),
], ids=["silent", "other bytes"])
def test_an_address_where_no_scheduler_answers_is_said_in_one_line(tmp_path, capsys, monkeypatch,
                                                                   answer, said):
    """The dashboard's port given for the scheduler's: Dask's own client would wait for its
    handshake for ever, or fail allocating another service's bytes read as a length."""
    import socket
    import threading

    pytest.importorskip("distributed")
    from sim.experiments import scheduler_address

    monkeypatch.setattr(scheduler_address, "HANDSHAKE_SECONDS", 2.0)
    server = socket.create_server(("127.0.0.1", 0))
    held = []

    def serve() -> None:
        with server:
            conn, _ = server.accept()
            held.append(conn)
            conn.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    address = f"tcp://127.0.0.1:{server.getsockname()[1]}"
    status, stdout, err = blowback_here(capsys, "sweep", str(ROOT / "scenarios" / "experiments"
                                                          / "sensitivity.toml"),
                                        "--scheduler", address, "--out", str(tmp_path / "out"))
    for conn in held:
        conn.close()
    assert status == 2 and not stdout and not (tmp_path / "out").exists()
    assert err.startswith(f"blowback: error: --scheduler {address}: {said}"), err
    assert err.count("\n") == 1, err


def test_a_scheduler_answers_a_check_made_inside_a_running_event_loop():
    """A notebook runs an event loop: run_sweep(scheduler=...) called there still finds the
    scheduler, rather than taking the loop's refusal for another service's answer."""
    import asyncio

    distributed = pytest.importorskip("distributed")
    from sim.experiments.scheduler_address import not_a_scheduler

    with distributed.LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                                  dashboard_address=None) as cluster:
        async def inside() -> str | None:
            return not_a_scheduler(cluster.scheduler_address, 10.0)

        assert not_a_scheduler(cluster.scheduler_address, 10.0) is None
        assert asyncio.run(inside()) is None


def test_validate_refuses_a_single_seed(tmp_path, capsys):
    """A claim is judged on a 95% interval over the seeds, which one seed cannot give: it would
    fail every claim on an interval of NaN."""
    status, stdout, err = blowback_here(capsys, "validate", "--claims", "lyall", "--seeds", "1",
                                        "--out", str(tmp_path / "out"))
    assert status == 2 and not stdout and not (tmp_path / "out").exists()
    assert "--seeds: 1 must be at least 2" in err


class _SeenError(Exception):
    """Raised by a stand-in for the comparison once it has seen its scenarios."""


def test_compare_set_applies_to_every_scenario(tmp_path, monkeypatch):
    import sim.experiments.compare as comparison
    from sim.interfaces.cli import main

    seen = []

    def stand_in(scenarios, *args, **kwargs):
        seen.extend(scenarios)
        raise _SeenError

    monkeypatch.setattr(comparison, "compare", stand_in)
    files = [str(ROOT / "scenarios" / f"{name}.toml") for name in ("partner_led", "pressure")]
    with pytest.raises(_SeenError):
        main(["compare", *files, "--out", str(tmp_path / "cmp"), "--steps", "7",
              "--set", "levers.services=0.9", "--set", "oversight.punishment=0.1"])
    assert [s.name for s in seen] == ["Partner-led", "Pressure"]
    for s in seen:
        assert s.params["levers.services"] == 0.9 and s.params["oversight.punishment"] == 0.1
        assert s.params["run.steps"] == 7


def test_compare_bad_set_writes_nothing(tmp_path):
    out = tmp_path / "cmp"
    done = blowback("compare", str(ROOT / "scenarios" / "partner_led.toml"), "--out", str(out),
                    "--set", "levers.services=2")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("blowback: error: --set: levers.services: 2")
    assert not out.exists()


def test_dashboard_set_is_checked_before_serving_and_reaches_the_page(monkeypatch):
    from sim.interfaces.cli import main
    from sim.interfaces.dashboard import server

    served = []
    held: list = []
    monkeypatch.setattr(server, "listen", lambda host, port: held)
    monkeypatch.setattr(server, "serve", lambda *args: served.append(args))
    path = str(ROOT / "scenarios" / "pressure.toml")
    assert main(["dashboard", path, "--set", "levers.justice=1.5"]) == 2
    assert served == []
    assert main(["dashboard", path, "--set", "levers.justice=0.7"]) == 0
    assert served == [(path, "127.0.0.1", held, None, ["levers.justice=0.7"],
                       ["127.0.0.1", "localhost", "[::1]"], "Blowback \u2014 Pressure")]

    from sim.interfaces.dashboard.app import served_scenario

    for name, value in zip((server.SCENARIO_ENV, server.SETTINGS_ENV),
                           (path, '["levers.justice=0.7"]'), strict=True):
        monkeypatch.setenv(name, value)
    scenario = served_scenario()
    assert scenario.name == "Pressure" and scenario.params["levers.justice"] == 0.7


def test_scenario_shipped_lists_every_shipped_file_with_its_name_and_folder(capsys):
    """A regular install keeps the shipped scenarios inside the package: the list names their
    folder, and each file with its name, under what takes it."""
    from sim.core.shipped import scenarios_folder

    status, out, err = blowback_here(capsys, "scenario", "--shipped")
    folder = scenarios_folder()
    assert status == 0 and err == ""
    assert out.splitlines()[0] == f"The shipped scenarios, in {folder}:"
    listed = {line.split()[0] for line in out.splitlines() if line.startswith("  ")}
    assert listed == {p.relative_to(folder).as_posix() for p in folder.rglob("*.toml")}
    assert "  contractor_unchecked.toml" in out and "Contractor, unchecked" in out
    assert "experiments/ — blowback sweep, sensitivity" in out
    assert all(len(line) <= 100 for line in out.splitlines())


def test_scenario_shipped_says_which_file_is_not_toml(capsys, monkeypatch, tmp_path):
    from sim.core import shipped

    (tmp_path / "broken.toml").write_text("name = \n")
    (tmp_path / "plain.toml").write_text("# A run without a name\nseed = 1\n")
    monkeypatch.setattr(shipped, "scenarios_folder", lambda: tmp_path)
    status, out, _ = blowback_here(capsys, "scenario", "--shipped")
    assert status == 0
    assert "  broken.toml  (not readable as TOML)" in out
    assert "  plain.toml   A run without a name" in out
