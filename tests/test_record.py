"""The public record of Mali as data (sim.experiments.record): the package's own file, and a
user's export checked like any input."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import pytest
from conftest import ROOT

from sim.core.inputs import ScenarioError
from sim.experiments import record, reference

HEADER = "series,year,date,value,unit,source,note\n"


def test_the_package_record_holds_the_public_series_with_their_sources():
    table = record.load_record()
    sources = set(record.load_sources()["source"])
    assert set(table["source"]) <= sources
    yearly = table[table["series"] == "acled_civilian_fatalities"].set_index("year")["value"]
    assert list(yearly.index) == list(range(2012, 2022)) and yearly[2018] == 871
    government = table[table["series"] == "ucdp_one_sided_government"]
    assert len(government) == 10
    # ACLED's perpetrator file covers January to July of 2020
    vac = table[(table["series"] == "acled_vac_deaths_total") & (table["year"] == 2020)]
    assert vac.iloc[0]["end"] == dt.date(2020, 7, 31) and vac.iloc[0]["value"] == 666
    # a stock is counted on its day; a quarter covers its quarter
    idp = table[(table["series"] == "idps") & (table["end"] == dt.date(2013, 6, 30))].iloc[0]
    assert idp["start"] == idp["end"] and idp["value"] == 353_000
    quarter = table[table["series"] == "un_civilians_killed_quarter"].iloc[0]
    assert quarter["start"] == dt.date(2020, 4, 1)


def test_the_figures_come_from_the_record(tmp_path):
    """A figure's value is the record's: change the file and the figure changes."""
    assert reference.BY_KEY["un_civilians_killed:2021"].value == 584
    assert reference.BY_KEY["ohchr_mass_atrocity_deaths:2022-03-31"].bound == "at_least"
    text = record.RECORD.read_text().replace("un_civilians_killed,2021,,584,",
                                             "un_civilians_killed,2021,,600,")
    mine = tmp_path / "mine.csv"
    mine.write_text(text)
    figures = {f.key: f for f in reference.load_figures(mine)}
    assert figures["un_civilians_killed:2021"].value == 600
    assert len(figures) == len(reference.FIGURES)


def test_a_users_export_with_only_the_required_columns_loads(tmp_path):
    mine = tmp_path / "acled.csv"
    mine.write_text(HEADER + "acled_civilian_fatalities,2022,,1800,deaths,A26,newer release\n")
    (row,) = record.load_record(mine).itertuples()
    assert (row.start, row.end, row.bound) == (dt.date(2022, 1, 1), dt.date(2022, 12, 31),
                                               "about")


@pytest.mark.parametrize(("text", "where", "allowed"), [
    ("series,year,value,unit,source,note\n", "header", "no column date"),
    (HEADER.replace("note", "notes"), "header", "did you mean note"),
    (HEADER + "idps,2019,,207751,persons,IOM,a, b\n", "row 2", "quote a field"),
    (HEADER + "Idps,2019,,1,persons,IOM,\n", "row 2, series", "lower-case"),
    (HEADER + "idps,nineteen,,1,persons,IOM,\n", "row 2, year", "a year"),
    (HEADER + "idps,2019,2019-13-01,1,persons,IOM,\n", "row 2, date", "YYYY-MM-DD"),
    (HEADER + "idps,2019,2020-01-01,1,persons,IOM,\n", "row 2, date", "row's year"),
    (HEADER + "idps,2019,,-5,persons,IOM,\n", "row 2, value", "a finite number >= 0"),
    (HEADER + "idps,2019,,inf,persons,IOM,\n", "row 2, value",  # was: "in [0, inf]"
     "inf; allowed: a finite number >= 0"),
    (HEADER + "share_x,2019,,1.5,share,IOM,\n", "row 2, value", "[0, 1]"),
    (HEADER + "idps,2019,,1,people,IOM,\n", "row 2, unit", "persons"),
    (HEADER + "idps,2019,,1,persons,,\n", "row 2, source", "who reported"),
    (HEADER + "deaths_x,2019,,1,deaths,A,\ndeaths_x,2019,,2,deaths,B,\n", "row 3", "repeats row 2"),
    (HEADER.replace("note", "note,bound") + "deaths_x,2019,,1,deaths,A,,maybe\n", "row 2, bound",
     "at_least"),
    (HEADER.replace("note", "note,start") + "deaths_x,2019,,1,deaths,A,,2019-12-31x\n",
     "row 2, start", "YYYY-MM-DD"),
])
def test_a_bad_record_names_file_row_column_and_what_is_allowed(tmp_path, text, where, allowed):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(ScenarioError) as err:
        record.load_record(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {where}") and allowed in message, message
    assert "\n" not in message


def test_a_calibration_refuses_a_record_key_that_is_not_a_figure_in_one_line(tmp_path):
    """The calibration's targets are the record's keys; a misspelt one is named."""
    path = tmp_path / "cal.toml"
    path.write_text(f'scenario = "{(ROOT / "scenarios" / "mali_2013_2024.toml").as_posix()}"\n'
                    'targets = ["idps:2019-12-30"]\n[parameters]\n'
                    '"insurgents.coercion" = { low = 0.001, high = 0.004 }\n')
    done = subprocess.run([sys.executable, "-m", "sim", "calibrate", str(path)],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and "did you mean idps:2019-12-31" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_calibration_can_name_its_own_record(tmp_path):
    """`record = "..."` in a calibration file: its targets and figures come from that file, and
    a mistake in it is named in the record's own words."""
    from sim.experiments import calibration

    mine = tmp_path / "mine.csv"
    mine.write_text(record.RECORD.read_text().replace("un_civilians_killed,2021,,584,",
                                                      "un_civilians_killed,2021,,600,"))
    path = tmp_path / "cal.toml"
    body = (f'scenario = "{(ROOT / "scenarios" / "mali_2013_2024.toml").as_posix()}"\n'
            'record = "mine.csv"\ntargets = ["un_civilians_killed:2021"]\n[parameters]\n'
            '"insurgents.coercion" = { low = 0.001, high = 0.004 }\n')
    path.write_text(body)
    cal = calibration.load_calibration(path)
    assert cal.record == mine and cal.targets[0].value == 600
    mine.write_text(HEADER + "idps,2019,,1,people,IOM,\n")
    with pytest.raises(ScenarioError, match=r"mine\.csv: row 2, unit"):
        calibration.load_calibration(path)
    path.write_text(body.replace("mine.csv", "absent.csv"))
    with pytest.raises(ScenarioError, match=r"cal\.toml: record: .*absent\.csv: no such file"):
        calibration.load_calibration(path)
