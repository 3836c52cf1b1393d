"""Scenario files: defaults, extends, events, and one-line errors for every kind of mistake."""

from __future__ import annotations

import datetime
import pickle
from pathlib import Path

import pytest
from conftest import ROOT

from sim.core.inputs import parse_setting
from sim.core.model import BlowbackModel
from sim.core.parameters import BY_NAME, PARAMETERS
from sim.core.scenario import (
    Event,
    ScenarioError,
    default_scenario,
    explain,
    from_dict,
    load_scenario,
    parameter_table,
)
from sim.core.schedule import EVENT_LOCKED_SECTIONS
from sim.interfaces.dashboard.levers import LEVERS
from sim.world.events import APPLIED_BY_SET


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


def assert_one_line(err: ScenarioError, file: str, key: str | None) -> str:
    message = str(err)
    assert "\n" not in message and "\r" not in message
    assert file in message
    if key is not None:
        assert f": {key}: " in message
    return message


def test_defaults_hold_every_parameter():
    s = default_scenario()
    assert s.params == {p.name: p.default for p in PARAMETERS}
    assert s.events == [] and s.path is None
    assert s.start_date() == datetime.date(2013, 1, 7)
    assert s.date_of(1) == datetime.date(2013, 1, 14)
    assert len(s.content_hash) == 64


def test_extends_merges_and_appends_sorted_events(tmp_path):
    write(tmp_path, "base.toml", """
name = "base"
description = "the parent"
[oversight]
punishment = 0.1
press = 0.2
[state]
units = 10
[[events]]
date = "2015-06"
type = "coup"
country = "Niger"
[[events]]
date = 2013-02-04
type = "contractor_arrives"
units = 3
""")
    child = write(tmp_path, "child.toml", """
extends = "base.toml"
name = "child"
[oversight]
punishment = 1
[[events]]
date = "2014-01-15"
type = "mass_atrocity"
near = "Mopti"
[[events]]
date = "2015-06-02"
type = "set"
params = { oversight.press = 0.5, "sanctions.level" = 1 }
""")
    s = load_scenario(child)
    assert s.name == "child" and s.description == "the parent"
    assert s.params["oversight.punishment"] == 1.0
    assert isinstance(s.params["oversight.punishment"], float)
    assert s.params["oversight.press"] == 0.2
    assert s.params["state.units"] == 10
    assert s.params["un.monitoring"] == BY_NAME["un.monitoring"].default
    assert [e.type for e in s.events] == ["contractor_arrives", "mass_atrocity", "coup", "set"]
    assert [e.step for e in s.events] == sorted(e.step for e in s.events)
    coup = s.events[2]
    assert coup.date == "2015-06-01"
    assert coup.step == (datetime.date(2015, 6, 1) - datetime.date(2013, 1, 7)).days // 7
    assert s.events[3].step == coup.step  # same week: the parent's event stays first
    assert s.events[0].fields == {"units": 3}
    assert s.events[1].fields == {"near": "Mopti", "perpetrator": "contractor"}
    assert s.events[3].fields == {"params": {"oversight.press": 0.5, "sanctions.level": 1.0}}


def test_replace_events_drops_the_parents_events(tmp_path):
    write(tmp_path, "base.toml", '[[events]]\ndate = "2014-01"\ntype = "peace_agreement"\n')
    child = write(tmp_path, "child.toml", """
extends = "base.toml"
replace_events = true
[[events]]
date = "2016-01"
type = "contractor_leaves"
""")
    assert [e.type for e in load_scenario(child).events] == ["contractor_leaves"]


def test_extends_resolves_relative_to_the_extending_file(tmp_path):
    (tmp_path / "sub").mkdir()
    write(tmp_path, "base.toml", "[run]\nseed = 7\n")
    child = write(tmp_path / "sub", "child.toml", 'extends = "../base.toml"\n')
    assert load_scenario(child).params["run.seed"] == 7


def test_unknown_key_suggests_the_nearest(tmp_path):
    path = write(tmp_path, "x.toml", "[oversight]\npunishmnt = 0.5\n")
    message = assert_one_line(error_of(path), "x.toml", "oversight.punishmnt")
    assert "did you mean oversight.punishment?" in message


def test_unknown_section(tmp_path):
    path = write(tmp_path, "x.toml", "[oversite]\npress = 0.5\n")
    message = assert_one_line(error_of(path), "x.toml", "oversite")
    assert "unknown section" in message and "oversight" in message


def test_wrong_type(tmp_path):
    path = write(tmp_path, "x.toml", '[oversight]\npress = "high"\n')
    message = assert_one_line(error_of(path), "x.toml", "oversight.press")
    assert "a number in [0, 1]" in message


def test_bool_is_not_a_number(tmp_path):
    path = write(tmp_path, "x.toml", "[state]\nunits = true\n")
    message = assert_one_line(error_of(path), "x.toml", "state.units")
    assert "boolean" in message and "an integer" in message


def test_float_is_not_an_integer(tmp_path):
    path = write(tmp_path, "x.toml", "[run]\nsteps = 52.0\n")
    message = assert_one_line(error_of(path), "x.toml", "run.steps")
    assert "an integer in [1, 5200]" in message


def test_out_of_range(tmp_path):
    path = write(tmp_path, "x.toml", "[oversight]\npunishment = 1.5\n")
    message = assert_one_line(error_of(path), "x.toml", "oversight.punishment")
    assert "out of range" in message and "[0, 1]" in message


def test_start_date_must_be_iso(tmp_path):
    path = write(tmp_path, "x.toml", '[run]\nstart_date = "07/01/2013"\n')
    assert_one_line(error_of(path), "x.toml", "run.start_date")


def test_missing_extends_target(tmp_path):
    path = write(tmp_path, "x.toml", 'extends = "nowhere.toml"\n')
    message = assert_one_line(error_of(path), "x.toml", "extends")
    assert "nowhere.toml" in message


def test_extends_cycle_names_the_chain(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "b.toml"\n')
    write(tmp_path, "b.toml", 'extends = "a.toml"\n')
    message = assert_one_line(error_of(a), "b.toml", "extends")
    assert "a.toml -> " in message and "b.toml -> " in message and "cycle" in message


def test_self_extends(tmp_path):
    a = write(tmp_path, "a.toml", 'extends = "a.toml"\n')
    message = assert_one_line(error_of(a), "a.toml", "extends")
    assert "cycle" in message


def test_not_toml(tmp_path):
    path = write(tmp_path, "x.toml", "[oversight\npress = 0.5\n")
    message = assert_one_line(error_of(path), "x.toml", None)
    assert "not valid TOML" in message


def test_not_toml_in_a_parent_names_the_parent(tmp_path):
    write(tmp_path, "base.toml", "press = = 1\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n')
    message = assert_one_line(error_of(child), "base.toml", None)
    assert "child.toml" not in message


def test_not_utf8(tmp_path):
    path = tmp_path / "x.toml"
    path.write_bytes(b'name = "caf\xe9"\n')
    message = assert_one_line(error_of(path), "x.toml", None)
    assert "UTF-8" in message


def test_missing_file(tmp_path):
    message = assert_one_line(error_of(tmp_path / "absent.toml"), "absent.toml", None)
    assert "no such file; allowed: a file" in message


def test_event_outside_run(tmp_path):
    path = write(tmp_path, "x.toml", '[[events]]\ndate = "2030-01"\ntype = "peace_agreement"\n')
    message = assert_one_line(error_of(path), "x.toml", "events[0].date")
    assert "2030-01 is outside the run (the weeks of 2013-01-07 to 2022-12-19)" in message


def test_event_before_start(tmp_path):
    path = write(tmp_path, "x.toml", '[[events]]\ndate = "2012-12"\ntype = "peace_agreement"\n')
    assert_one_line(error_of(path), "x.toml", "events[0].date")


def test_event_date_must_be_a_real_month_or_day(tmp_path):
    path = write(tmp_path, "x.toml", '[[events]]\ndate = "2014-13"\ntype = "peace_agreement"\n')
    message = assert_one_line(error_of(path), "x.toml", "events[0].date")
    assert '"2014-13" is not a date' in message


def test_event_range_uses_the_merged_run(tmp_path):
    write(tmp_path, "base.toml", '[[events]]\ndate = "2014-01"\ntype = "peace_agreement"\n')
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[run]\nsteps = 10\n')
    assert_one_line(error_of(child), "base.toml", "events[0].date")


def test_unknown_event_type(tmp_path):
    path = write(tmp_path, "x.toml", '[[events]]\ndate = "2014-01"\ntype = "cou"\n')
    message = assert_one_line(error_of(path), "x.toml", "events[0].type")
    assert "did you mean coup?" in message and "peace_agreement" in message


def test_unknown_event_field(tmp_path):
    path = write(tmp_path, "x.toml", """
[[events]]
date = "2014-01"
type = "sanctions"
levle = 0.5
""")
    message = assert_one_line(error_of(path), "x.toml", "events[0].levle")
    assert "did you mean level?" in message


def test_missing_required_event_field(tmp_path):
    path = write(tmp_path, "x.toml", '[[events]]\ndate = "2014-01"\ntype = "sanctions"\n')
    assert_one_line(error_of(path), "x.toml", "events[0].level")


def test_bad_town_name(tmp_path):
    path = write(tmp_path, "x.toml", """
[[events]]
date = "2014-01"
type = "offensive"
[[events]]
date = "2014-02"
type = "mass_atrocity"
near = "Timbuctoo"
""")
    message = assert_one_line(error_of(path), "x.toml", "events[0].near")
    assert "missing" in message
    path = write(tmp_path, "y.toml", """
[[events]]
date = "2014-02"
type = "mass_atrocity"
near = "Timbuctoo"
""")
    message = assert_one_line(error_of(path), "y.toml", "events[0].near")
    assert "did you mean Timbuktu?" in message and "Bamako" in message


def test_set_cannot_touch_run_or_map(tmp_path):
    path = write(tmp_path, "x.toml", """
[[events]]
date = "2014-01"
type = "set"
params = { "run.seed" = 3 }
""")
    message = assert_one_line(error_of(path), "x.toml", "events[0].params.run.seed")
    assert "cannot be set by an event" in message


@pytest.mark.parametrize("name, value", [("state.units", 0), ("insurgents.bands", 0),
                                         ("contractor.present", "true"),
                                         ("community.displaced_at_start", 0.1),
                                         ("community.cooperation", 0.2),
                                         ("government.budget", 50)])
def test_set_cannot_change_what_is_read_only_when_the_run_is_built(tmp_path, name, value):
    """Who is deployed where at the start is placed once: a `set` event would change nothing."""
    path = write(tmp_path, "x.toml", f"""
[[events]]
date = "2022-02"
type = "set"
params = {{ "{name}" = {value} }}
""")
    message = assert_one_line(error_of(path), "x.toml", f"events[0].params.{name}")
    assert "read once, when the run is built" in message and "partner_arrives" in message


class _Reads(dict):
    """A model's parameters that note each one read."""

    def __init__(self, params: dict) -> None:
        super().__init__(params)
        self.read: set[str] = set()

    def __getitem__(self, name: str):
        self.read.add(name)
        return super().__getitem__(name)

    def get(self, name: str, default=None):
        self.read.add(name)
        return super().get(name, default)


def test_what_no_week_reads_is_marked_as_read_when_the_run_is_built():
    """The Mali scenario brings every actor in and out, so each parameter an arrival, a
    departure or a week reads is read during its run: those it never reads are read once, when
    the run is built (a `set` event would change nothing), unless `set` applies them itself."""
    model = BlowbackModel(load_scenario(ROOT / "scenarios" / "mali_2013_2024.toml"), agents=False)
    model.p = _Reads(model.p)
    model.run()
    unread = {name for name in BY_NAME if name.split(".")[0] not in EVENT_LOCKED_SECTIONS
              and name not in model.p.read}
    assert unread - APPLIED_BY_SET == {p.name for p in BY_NAME.values() if p.at_start}
    # Units and strengths are read when their actor arrives, by an event too; a band's
    # strength is also the size at which it splits.
    assert {"contractor.units", "partner.strength", "insurgents.strength"} <= model.p.read


def test_no_lever_of_the_dashboard_is_read_only_when_the_run_is_built():
    assert not [lv.name for _, group in LEVERS for lv in group if lv.param.at_start]


def test_a_parameter_quoted_as_one_key_says_how_to_write_it(tmp_path):
    """Experiment files quote a parameter's full name ("oversight.punishment" = [...]); copied
    into a scenario, the same line must say how a scenario writes it, not suggest itself."""
    path = write(tmp_path, "x.toml", '"oversight.punishment" = 0.1\n')
    message = assert_one_line(error_of(path), "x.toml", "oversight.punishment")
    assert "unquoted" in message and "[oversight]" in message and "did you mean" not in message


@pytest.mark.parametrize(("key", "kind"), [("scenarios", "an experiment file"),
                                         ("record", "a calibration file")])
def test_an_experiment_or_calibration_given_as_a_scenario_is_named_so(tmp_path, key, kind):
    path = write(tmp_path, "x.toml", f'{key} = ["a.toml"]\n')
    message = assert_one_line(error_of(path), "x.toml", key)
    assert kind in message and "not of a scenario" in message


@pytest.mark.parametrize(("given", "read_as", "first", "says"), [
    ("base.toml", "experiment", "run", "a section of a scenario file, which blowback run reads"),
    ("calibration/mali.toml", "experiment", "scenario",
     "a key of a calibration file, which blowback calibrate reads"),
    ("base.toml", "calibration", "run", "a section of a scenario file, which blowback run reads"),
    ("experiments/punishment_grid.toml", "calibration", "scenarios",
     "a key of an experiment file, which blowback sweep reads"),
    ("epstein/model1_run1.toml", "scenario", "model",
     "a key of a run of Epstein's classic, which python -m sim.classics.epstein reads"),
])
def test_a_file_of_one_kind_read_as_another_is_named_as_what_it_is(given, read_as, first, says):
    """`blowback sweep scenarios/base.toml` said "run: unknown key": the file is a scenario,
    and the line says so, which command reads it and which kind of file was wanted."""
    from sim.experiments.calibration import load_calibration
    from sim.experiments.experiment import load_experiment

    path = ROOT / "scenarios" / given
    read = {"experiment": load_experiment, "calibration": load_calibration,
            "scenario": load_scenario}[read_as]
    with pytest.raises(ScenarioError) as info:
        read(path)
    message = assert_one_line(info.value, str(path), first)
    allowed = {"experiment": "an experiment file (scenarios/experiments/*.toml)",
               "calibration": "a calibration file (scenarios/calibration/*.toml)",
               "scenario": "a scenario file (scenarios/*.toml)"}[read_as]
    assert message.endswith(f"{says}, not of {allowed.split(' (')[0]}; allowed: {allowed}")


def test_a_word_put_at_the_wrong_level_of_the_right_file_gets_a_suggestion(tmp_path):
    """``seed`` at the top of a scenario is ``run.seed`` misplaced, not a calibration file."""
    message = assert_one_line(error_of(write(tmp_path, "x.toml", "seed = 3\n")), "x.toml", "seed")
    assert "did you mean run.seed?" in message and "calibration" not in message


def test_set_refuses_a_parameter_given_twice(tmp_path):
    """Quoted, `"oversight.punishment"` is one key; unquoted inside a table, the same name:
    one of the two values would be dropped without a word."""
    path = write(tmp_path, "x.toml", """
[[events]]
date = "2022-02"
type = "set"
params = { "oversight.punishment" = 1.0, oversight = { punishment = 0.5 } }
""")
    message = assert_one_line(error_of(path), "x.toml", "events[0].params.oversight.punishment")
    assert "given twice" in message


def test_set_checks_parameter_values(tmp_path):
    path = write(tmp_path, "x.toml", """
[[events]]
date = "2014-01"
type = "set"
params = { oversight.punishment = 2 }
""")
    message = assert_one_line(error_of(path), "x.toml", "events[0].params.oversight.punishment")
    assert "out of range" in message


def test_content_hash_follows_the_parent(tmp_path):
    base = write(tmp_path, "base.toml", "[oversight]\npress = 0.2\n")
    child = write(tmp_path, "child.toml", 'extends = "base.toml"\n[state]\nunits = 5\n')
    first = load_scenario(child).content_hash
    assert load_scenario(child).content_hash == first
    base.write_text("[oversight]\npress = 0.3\n", encoding="utf-8")
    assert load_scenario(child).content_hash != first


def test_with_overrides_copies_and_checks():
    s = default_scenario()
    t = s.with_overrides(**{"run.seed": 3}, oversight__press=1)
    assert t.params["run.seed"] == 3 and t.params["oversight.press"] == 1.0
    assert s.params["run.seed"] == 1
    assert t.content_hash != s.content_hash
    with pytest.raises(ScenarioError, match="did you mean run.seed"):
        s.with_overrides(**{"run.sed": 3})
    with pytest.raises(ScenarioError, match="run.steps"):
        s.with_overrides(**{"run.steps": True})


def test_with_overrides_rechecks_event_dates():
    s = from_dict({"events": [{"date": "2016-01", "type": "peace_agreement"}]}, "nb")
    assert s.events[0].step == (datetime.date(2016, 1, 1) - s.start_date()).days // 7
    later = s.with_overrides(**{"run.start_date": "2014-01-06"})
    assert later.events[0].step == (datetime.date(2016, 1, 1) - later.start_date()).days // 7
    with pytest.raises(ScenarioError) as info:
        s.with_overrides(**{"run.steps": 52})
    assert_one_line(info.value, "nb", "events[0].date")


def test_from_dict_checks_like_a_file():
    with pytest.raises(ScenarioError) as info:
        from_dict({"state": {"units": -1}}, "notebook")
    assert_one_line(info.value, "notebook", "state.units")


def test_a_section_given_as_a_parameter_names_its_parameters_not_a_lookalike():
    """``with_overrides(oversight={...})`` or ``--set oversight=...`` names a section: the
    message says so and lists its dotted names, rather than suggesting whichever of them is
    spelt most like the section (``did you mean oversight.press?``)."""
    scenario = default_scenario()
    for change in ({"oversight": {"punishment": 0.9}}, {"levers": 0.5}):
        with pytest.raises(ScenarioError) as info:
            scenario.with_overrides(**change)
        section = next(iter(change))
        message = assert_one_line(info.value, "<overrides>", section)
        assert "did you mean" not in message and "a section" in message
        assert all(name in message for name in BY_NAME if name.startswith(f"{section}."))
    with pytest.raises(ScenarioError) as info:
        from_dict({"events": [{"date": "2023-01", "type": "set", "params": {"oversight": 0.5}}]},
                  "nb")
    assert "oversight.punishment" in assert_one_line(info.value, "nb", None)
    with pytest.raises(ScenarioError) as info:
        parse_setting("--set", "oversight=0.8")
    assert "oversight.punishment" in assert_one_line(info.value, "--set", "oversight")
    with pytest.raises(ScenarioError, match="did you mean oversight.punishment"):
        scenario.with_overrides(**{"oversight.punishmnt": 0.9})


def test_errors_survive_pickling():
    err = ScenarioError("x.toml", "run.seed", "bad; allowed: an integer")
    again = pickle.loads(pickle.dumps(err))
    assert str(again) == str(err) and again.key == "run.seed"


def test_event_fields_are_what_the_file_says():
    s = from_dict({"events": [
        {"date": "2014-03-05", "type": "mass_atrocity", "near": "Gao", "perpetrator": "state",
         "deaths": 30},
    ]})
    assert s.events == [Event("2014-03-05", s.events[0].step, "mass_atrocity",
                              {"near": "Gao", "perpetrator": "state", "deaths": 30.0})]


def test_explain_mentions_every_parameter():
    text = explain()
    for p in PARAMETERS:
        assert p.name in text
        assert p.meaning in text


def test_the_odd_parameter_appendix_is_the_registry():
    """docs/ODD.md's appendix is ``blowback scenario --explain --markdown``: a parameter added,
    removed or changed without regenerating it fails here."""
    odd = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
    block = odd.split("<!-- BEGIN GENERATED DEFAULTS -->\n")[1].split(
        "<!-- END GENERATED DEFAULTS -->")[0]
    assert block == parameter_table()


def test_a_scenarios_parameters_are_read_only():
    """A value written into params would run unchecked under the old content hash; a changed
    scenario is made by with_overrides. Copies and pickles keep every value."""
    import copy

    scenario = default_scenario()
    for change in (lambda p: p.__setitem__("oversight.punishment", 7.0),
                   lambda p: p.update({"oversight.punishment": 0.5}),
                   lambda p: p.pop("oversight.punishment")):
        with pytest.raises(TypeError, match="read-only; allowed: scenario.with_overrides"):
            change(scenario.params)
    assert scenario.params == default_scenario().params
    assert pickle.loads(pickle.dumps(scenario)) == scenario == copy.deepcopy(scenario)
    changed = scenario.with_overrides(**{"oversight.punishment": 0.5})
    assert changed.params["oversight.punishment"] == 0.5
    assert changed.content_hash != scenario.content_hash
