"""The dashboard without a browser: its session, its drawings, its page rendered in-process."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import solara
import solara.widgets
from conftest import MAP_SCALE, ROOT, dashboard_address, small

from sim.core import outcomes
from sim.core.parameters import BY_NAME
from sim.core.registry import INSTITUTION
from sim.core.scenario import ScenarioError, default_scenario, load_scenario
from sim.core.state import CONTRACTOR, STATE
from sim.interfaces import cli
from sim.interfaces.dashboard import charts, page_values, server
from sim.interfaces.dashboard import map as world_map
from sim.interfaces.dashboard.levers import ASSUMPTIONS, INJECTIONS, LEVERS
from sim.interfaces.dashboard.page_values import PageValueError
from sim.interfaces.dashboard.session import (
    Session,
    choice_of,
    counterpart,
    log_line,
    planned,
    scenario_choices,
)
from sim.world.events import deployed


@pytest.fixture
def session() -> Session:
    return Session(small("contractor_unchecked"))


@pytest.fixture
def tiny() -> Session:
    """A session on a map of 200 communities: for the checks, which never step it."""
    return Session(small("contractor_unchecked", **{"map.communities": 200}))


def test_every_lever_is_a_registered_parameter_with_a_usable_range():
    for _, group in LEVERS:
        for lever in group:
            assert lever.name in BY_NAME
            assert lever.is_switch or lever.low < lever.top <= BY_NAME[lever.name].high


def test_the_levers_are_institutions_and_the_assumptions_stand_apart():
    """A regime may differ from another only in its institutions: a lever that sets behaviour
    is kept in its own group, named as an assumption."""
    groups = dict(LEVERS)
    assert list(groups)[-1] == ASSUMPTIONS
    for group, levers in groups.items():
        for lever in levers:
            assert (lever.param.kind == INSTITUTION) == (group != ASSUMPTIONS), lever.name
    assert {"partner.monitoring", "un.monitoring"} <= {lv.name for lv in groups["Oversight"]}


def test_a_lever_dragged_within_a_week_leaves_one_line_and_an_unmoved_one_none(session):
    session.step(1)
    logged = len(session.model.event_log)
    session.set_lever("oversight.punishment", session.lever_value("oversight.punishment"))
    assert len(session.model.event_log) == logged
    for value in (0.3, 0.4, 0.55):
        session.set_lever("oversight.punishment", value)
    assert session.model.event_log[logged:] == [
        (session.model.date.isoformat(), "set oversight.punishment = 0.55")]
    session.set_lever("levers.services", 0.5)
    session.set_lever("oversight.punishment", 0.6)
    session.step(1)
    session.set_lever("oversight.punishment", 0.7)
    assert [text for _, text in session.model.event_log[logged:]] == [
        "set levers.services = 0.5", "set oversight.punishment = 0.6",
        "set oversight.punishment = 0.7"]
    assert session.model.p["oversight.punishment"] == 0.7


def test_a_lever_moved_back_within_a_week_leaves_no_line_and_no_mark(session):
    """A switch flipped and flipped back, or a slider returned to its value, within one week
    leaves the run as it was: no line in the log and no mark on the charts, even with another
    lever moved in between (which keeps its own line)."""
    session.step(1)
    model = session.model
    logged, marks = len(model.event_log), len(charts.event_steps(model))
    transparent = session.lever_value("contractor.transparent")
    session.set_lever("contractor.transparent", not transparent)
    session.set_lever("contractor.transparent", transparent)
    session.set_lever("oversight.punishment", 0.9)
    session.set_lever("levers.services", 0.5)
    session.set_lever("oversight.punishment", 0.2)
    assert model.p["oversight.punishment"] == 0.2
    assert [text for _, text in model.event_log[logged:]] == ["set levers.services = 0.5"]
    assert len(charts.event_steps(model)) == marks + 1
    session.step(1)
    session.set_lever("contractor.transparent", not transparent)
    assert model.event_log[-1][1] == f"set contractor.transparent = {not transparent}"


def test_a_skill_moved_back_keeps_its_line_where_it_reset_what_training_gave(session):
    """Moving a force's skill gives every unit the value, training's gain undone: moved back,
    the units are not as they were, and the log keeps the line."""
    session.step(1)
    f = session.model.forces
    state = f.kind == STATE
    f.skill[state] += 0.1  # as training raises it
    skill = session.lever_value("state.discrimination")
    session.set_lever("state.discrimination", 0.9)
    session.set_lever("state.discrimination", skill)
    assert session.model.event_log[-1][1] == f"set state.discrimination = {skill:g}"
    assert np.all(f.skill[state] == skill)


def test_step_advances_both_sides_together_and_stops_at_the_end(session):
    session.compare_with(small("contractor_accountable"))
    assert session.step(3) == 3
    assert [r.model.t for r in session.runs] == [3, 3]
    assert session.step(500) == 104 - 3
    assert session.finished and session.step() == 0


def test_side_by_side_the_longer_run_goes_on_to_its_own_end(tiny):
    tiny.compare_with(small("contractor_accountable", **{"map.communities": 200,
                                                          "run.steps": 3}))
    left, right = (r.model for r in tiny.runs)
    assert tiny.step(5) == 5 and (left.t, right.t) == (5, 3) and not tiny.finished
    ended = list(right.records["civilian_deaths"])
    assert tiny.clock is left and tiny.step(500) == 104 - 5
    assert tiny.finished and tiny.step() == 0 and left.t == 104
    assert right.t == 3 and right.records["civilian_deaths"] == ended
    # The chart's axis spans the longer run: the shorter one's line stops after 3 weeks of 104.
    chart = charts.svg([right, left], next(o for o in outcomes.shown("chart")
                                                if o.name == "civilian_deaths"))
    ends = [float(line.split()[-1].split(",")[0]) for line in
            re.findall(r' points="([^"]+)"', chart)]
    assert ends[0] < ends[1] / 4 and ends[1] <= charts.WIDTH


def test_page_side_by_side_says_which_run_has_ended_and_steps_the_other():
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{
        "map.communities": 200, "run.steps": 2})), handle_error=False)
    try:
        rc.find(v.Switch, label="side by side").widget.v_model = True
        _advance(rc)
        _advance(rc)
        assert _status(rc).attributes["data-step"] == "2"
        assert not rc.find(v.Btn, children=["Step"]).widget.disabled
        _advance(rc)
        assert _status(rc).attributes["data-step"] == "3"
        maps = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                if w.attributes.get("class") == "bb-map-view"]
        assert ["(ended at week 2)" in m for m in maps] == [True, False]
    finally:
        rc.close()


def test_a_week_no_longer_wanted_is_not_run(session):
    asked = []

    def wanted() -> bool:
        asked.append(session.model.t)
        return len(asked) <= 2

    assert session.step(5, wanted=wanted) == 2
    assert session.model.t == 2 and asked == [0, 1, 2]


def test_side_by_side_shares_the_seed_and_the_regime_makes_the_difference(session):
    session.compare_with(small("contractor_unchecked"))
    session.step(30)
    left, right = (r.model.records["civilian_deaths"] for r in session.runs)
    assert left == right
    session.choose(small("partner_led"), side=1)
    session.step(30)
    assert session.runs[1].model.seed == session.runs[0].model.seed
    left, right = (r.model.records["civilian_deaths"] for r in session.runs)
    assert left != right


def test_a_lever_changes_the_running_model_and_its_units(session):
    session.step(2)
    session.set_lever("contractor.discrimination", 0.9)
    model = session.model
    assert model.p["contractor.discrimination"] == 0.9
    contractors = model.forces.kind == CONTRACTOR
    assert contractors.any() and np.all(model.forces.skill[contractors] == 0.9)
    assert model.event_log[-1][1] == "set contractor.discrimination = 0.9"
    session.set_lever("contractor.in_chain_of_command", True)
    assert session.lever_value("contractor.in_chain_of_command") is True


def test_the_sanctions_lever_can_lift_sanctions(session):
    session.set_lever("sanctions.level", 0.75)
    assert session.model.sanctions == 0.75
    session.set_lever("sanctions.level", 0.0)
    assert session.model.sanctions == 0.0 and session.lever_value("sanctions.level") == 0.0


def test_the_sanctions_button_says_when_a_higher_level_stays_in_force(session):
    """Sanctions only ever raise the level in force: pressed under a higher level, the log
    (and the preview of next week) says that the higher level stays, not that the lower one
    holds; pressed with none in force, that it is the level now."""
    session.inject_button("sanctions")
    assert session.runs[0].previews() == ["sanctions at level 0.5"]
    session.step(1)
    assert session.model.event_log[-1][1] == "sanctions at level 0.5"
    session.set_lever("sanctions.level", 0.8)
    session.inject_button("sanctions")
    kept = "sanctions at level 0.5 asked: the level in force stays at 0.8"
    assert session.runs[0].previews() == [kept]
    session.step(1)
    assert session.model.event_log[-1][1] == kept and session.model.sanctions == 0.8


def test_a_lever_outside_its_range_or_unknown_is_refused(session):
    with pytest.raises(ValueError, match="oversight.punishment"):
        session.set_lever("oversight.punishment", 1.5)
    with pytest.raises(KeyError):
        session.set_lever("map.width", 10)


def test_levers_reach_only_the_side_asked(session):
    session.compare_with(small("contractor_unchecked"))
    session.set_lever("oversight.punishment", 0.95, side="right")
    assert session.lever_value("oversight.punishment", 0) == 0.2
    assert session.lever_value("oversight.punishment", 1) == 0.95


def test_an_injected_atrocity_is_applied_next_step_like_a_scheduled_event(session):
    session.step(5)
    before = session.model.communities.dead[:, CONTRACTOR].sum()
    session.inject_button("mass-atrocity operation")
    assert [e.type for e in session.pending()] == ["mass_atrocity"]
    session.step()
    model = session.model
    assert not session.pending()
    assert model.event_log[-1][1].startswith("mass atrocity near Mopti by the contractor: ")
    # Applied inside the week: its deaths are in that week's tally and went to oversight.
    assert model.communities.dead[:, CONTRACTOR].sum() - before >= 10
    assert model.records["largest_event"][-1] >= 10


def test_injections_are_reproducible_and_reset_drops_them(session):
    other = Session(small("contractor_unchecked"))
    for s in (session, other):
        s.step(4)
        s.inject_button("coup in a neighbour")
        s.inject_button("mass-atrocity operation")
        s.step(10)
    assert session.model.records == other.model.records
    session.reset()
    assert session.model.t == 0 and not session.model.event_log
    session.step(14)
    assert not [text for _, text in session.model.event_log if "atrocity" in text]


def test_reset_on_another_seed_changes_the_world(session):
    session.step(20)
    first = list(session.model.records["civilian_deaths"])
    session.reset(seed=7)
    assert session.model.seed == 7 and session.model.t == 0
    session.step(20)
    assert session.model.records["civilian_deaths"] != first


def test_every_button_names_a_valid_event(session):
    for label in INJECTIONS:
        session.inject_button(label)
    session.step()
    assert len(session.model.event_log) >= len(INJECTIONS)


def test_the_picker_lists_the_shipped_regimes_not_the_experiments():
    choices = scenario_choices(ROOT / "scenarios")
    assert "contractor_unchecked.toml \u2014 Contractor, unchecked" in choices
    assert all(path is None or path.parent == ROOT / "scenarios" for path in choices.values())


@pytest.mark.parametrize("layer", list(world_map.LAYERS))
def test_each_map_layer_draws_a_png_and_the_units(session, layer):
    session.step(10)
    image = world_map.raster(session.model, layer)
    w = session.model.world
    assert image.shape[:2] == (w.height * world_map._scale(w), w.width * world_map._scale(w))
    from PIL import Image

    decoded = Image.open(io.BytesIO(world_map.png(image)))
    assert np.array_equal(np.asarray(decoded), image)
    svg = world_map.svg(session.model, layer)
    f, b = session.model.forces, session.model.bands
    shapes = svg.count("<rect x=") + svg.count("<polygon") + svg.count("<circle") \
        + svg.count("<path")
    mines = int((w.cell_mine > 0).sum())
    assert shapes >= int(f.active.sum()) + int(b.active.sum()) + mines


def test_map_layers_show_different_variables(session):
    session.step(30)
    images = {name: world_map.raster(session.model, name) for name in world_map.LAYERS}
    assert not np.array_equal(images["cooperation"], images["grievance"])
    assert not np.array_equal(images["control"], images["deaths"])


def test_charts_follow_the_series_and_mark_the_events(session):
    session.step(12)
    session.set_lever("oversight.punishment", 0.8)
    session.step(3)
    for outcome in outcomes.shown("chart"):
        svg = charts.svg([session.model], outcome)
        assert f'data-points="{session.model.t}"' in svg
        assert svg.count('class="bb-event"') == len(session.model.event_log)
    two = charts.svg([session.model, session.model], outcomes.shown("chart")[0])
    assert two.count("<polyline") == 2


def test_every_chart_title_states_its_unit(tiny):
    """A share is titled (0–1), a count or a flow by its unit: "state legitimacy" alone does
    not say whether 0.5 is a half or half a point of some index."""
    for outcome in outcomes.shown("chart"):
        svg = charts.svg([tiny.model], outcome)
        heading = re.search(r'font-weight="bold">([^<]*)</text>', svg).group(1)
        unit = "0–1" if outcome.share or outcome.unit in ("0-1", "share") \
            else outcome.unit.removesuffix("/week")
        assert unit in heading.replace("(", " ").replace(")", " ").split(), (heading, unit)


def test_chart_text_is_at_least_11_pixels_as_drawn():
    """Every text of every chart (title, ticks, years, a threshold's label) is at least 11
    pixels high on the page, where the grid draws a chart at least NARROWEST pixels wide; the
    years along the axis stay at least a label's width apart."""
    from sim.interfaces.dashboard.page_style import PAGE_CSS

    assert f"minmax({charts.NARROWEST}px, 1fr)" in PAGE_CSS
    model = Session(small("contractor_unchecked", **{"map.communities": 200,
                                                     "run.steps": 520})).model
    for outcome in outcomes.shown("chart"):
        drawn = charts.svg([model], outcome)
        width = float(re.search(r'viewBox="0 0 ([\d.]+) ', drawn).group(1))
        sizes = [float(size) for size in re.findall(r'<text [^>]*font-size="([\d.]+)"', drawn)]
        assert len(sizes) >= 5 and min(sizes) * charts.NARROWEST / width >= 11, outcome.name
        years = [float(x) for x in re.findall(r'<text x="([\d.]+)"[^>]*middle">\d{4}<', drawn)]
        assert len(years) >= 2 and min(np.diff(years)) >= 30


def test_the_contractors_revenue_is_charted_against_its_price(session):
    """Sanctions bite only where the contractor's revenue falls below its price (M7, M10): the
    chart draws the price a quarter, inside the plot even where no contractor earns anything."""
    revenue = outcomes.BY_NAME["contractor_revenue"]
    assert revenue in outcomes.shown("chart")
    session.step(14)
    price = 13 * session.model.p["contractor.cost"]
    assert f'class="bb-threshold" data-value="{price:g}"' in charts.svg([session.model], revenue)
    alone = Session(small("partner_led", **{"map.communities": 200}))
    alone.step(2)
    drawn = charts.svg([alone.model], revenue)
    y = float(re.search(r'class="bb-threshold"[^>]* y1="([\d.]+)"', drawn).group(1))
    assert charts.HEIGHT - 20 > y > 20  # between the plot's top and bottom edges


def test_quarterly_deaths_are_13_week_sums(session):
    session.step(20)
    raw = np.array(session.model.records["civilian_deaths"])
    charted = charts.values(session.model, outcomes.BY_NAME["civilian_deaths"])
    assert charted[19] == pytest.approx(raw[7:20].sum())


def test_the_event_log_says_what_where_by_whom_and_the_toll(tiny):
    tiny.step(2)
    # The atrocity first: queued after "contractor leaves", it would be the state's forces'.
    for label in sorted(INJECTIONS, key=lambda label: "atrocity" not in label):
        tiny.inject_button(label)
    tiny.step()
    lines = [log_line(date, text) for date, text in tiny.model.event_log]
    atrocity = next(line for line in lines if "atrocity" in line)
    assert re.fullmatch(r"17 Jan 2022 \u2014 Mass atrocity near Mopti by the contractor: "
                        r"\d+ civilians killed", atrocity), atrocity
    assert not [line for line in lines if "_" in line.split(" \u2014 ")[1]], lines
    assert {"Coup in Burkina Faso", "Partner forces leave", "UN mission leaves",
            "Sanctions at level 0.5"} <= {line.split(" \u2014 ")[1] for line in lines}


def test_the_event_log_has_no_departure_of_a_force_that_is_not_there():
    contractor_only = small("contractor_unchecked", **{"map.communities": 200,
                                                       "partner.present": False,
                                                       "un.present": False})
    session = Session(contractor_only)
    for label in ("partner leaves", "UN leaves", "contractor leaves"):
        session.inject_button(label)
    there = [deployed(session.model, e.type, e.fields) for e in session.pending()]
    assert there == [False, False, True]
    assert [planned(e, t) for e, t in zip(session.pending(), there, strict=True)] == [
        "no partner forces deployed to withdraw", "no UN mission deployed to withdraw",
        "contractor leaves"]
    session.step()
    session.inject_button("contractor leaves")  # the week after, it is gone
    session.step()
    texts = [text for _, text in session.model.event_log]
    assert texts == ["no partner forces deployed to withdraw",
                     "no UN mission deployed to withdraw", "contractor leaves",
                     "no contractor deployed to withdraw"]
    partner_led = Session(small("partner_led", **{"map.communities": 200}))
    for label in ("partner leaves", "contractor leaves"):
        partner_led.inject_button(label)
    partner_led.step()
    assert [text for _, text in partner_led.model.event_log] == [
        "partner forces leave", "no contractor deployed to withdraw"]
    assert not partner_led.model.partner_present


def test_an_arrival_of_a_force_already_there_changes_nothing_and_says_so():
    session = Session(small("contractor_unchecked", **{"map.communities": 200}))
    session.step()
    f = session.model.forces
    hired = (f.active & (f.kind == CONTRACTOR)).sum()
    un = session.model.relationship["un"]
    for label in ("contractor arrives", "partner leaves", "partner leaves"):
        session.inject_button(label)
    session.inject("partner_arrives", {"partner": "un"})
    assert session.runs[0].previews() == [
        "the contractor already deployed: no one arrives", "partner forces leave",
        "no partner forces deployed to withdraw", "the UN mission already deployed: no one arrives"]
    session.step()
    log = [text for _, text in session.model.event_log]
    assert log == ["the contractor already deployed: no one arrives", "partner forces leave",
                   "no partner forces deployed to withdraw",
                   "the UN mission already deployed: no one arrives"]
    # No second contingent, and the UN's relationship is not reset by an arrival of nothing.
    assert (f.active & (f.kind == CONTRACTOR)).sum() == hired and not session.model.partner_present
    assert session.model.relationship["un"] <= un


def test_the_same_press_in_the_same_week_draws_alike_whatever_was_pressed_before():
    """An injected atrocity is keyed by its order among the week's injections of its kind, so
    that an earlier press on one side (here one that does nothing) does not change its toll."""
    session = Session(small("base", **{"map.communities": 400}))
    session.compare_with(small("base", **{"map.communities": 400}))
    session.step(2)
    session.inject_button("partner leaves", side="left")
    session.step(3)
    session.inject_button("mass-atrocity operation")
    session.step()
    left, right = (run.model.event_log[-1] for run in session.runs)
    assert left == right and "civilians killed" in left[1]


@pytest.mark.parametrize(("kind", "fields", "key"), [
    ("partner_arrives", {"partner": "contractor"}, "partner"),
    ("sanctions", {"level": 7}, "level"),
    ("coup", {"country": "France"}, "country"),
    ("mass_atrocity", {}, "near"),
    ("bogus", {}, "type"),
])
def test_an_injection_is_checked_as_a_scenarios_event_and_never_stops_the_run(kind, fields,
                                                                               key):
    session = Session(small("base", **{"map.communities": 200}))
    session.step()
    with pytest.raises(ScenarioError) as err:
        session.inject(kind, fields)
    assert f"events[0].{key}" in str(err.value) and "\n" not in str(err.value)
    assert session.pending() == [] and session.step() == 1


def test_a_run_that_has_ended_takes_no_lever_and_no_event_and_says_so():
    session = Session(small("base", **{"map.communities": 200, "run.steps": 3}))
    session.step(3)
    log = list(session.model.event_log)
    for value in (0.8, 0.9):
        session.set_lever("oversight.punishment", value)
    session.inject_button("sanctions")
    session.inject("mass_atrocity", {"near": "Mopti"})
    assert session.model.event_log == log and session.pending() == []
    assert session.lever_value("oversight.punishment") != 0.9
    end = session.model.date.isoformat()
    assert session.runs[0].notes == [
        (end, "set oversight.punishment = 0.9: not applied, the run has ended"),
        (end, "sanctions at level 0.5: not applied, the run has ended"),
        (end, "mass atrocity near Mopti by the contractor: not applied, the run has ended")]


def test_an_atrocity_injected_with_no_contractor_is_booked_to_a_force_present():
    session = Session(small("partner_led", **{"map.communities": 200}))
    session.step()
    assert not session.model.contractor_present
    session.inject_button("mass-atrocity operation")
    assert planned(session.pending()[0]) == "mass atrocity near Mopti by state forces"
    session.step()
    dead = session.model.communities.dead
    assert dead[:, CONTRACTOR].sum() == 0 and dead[:, STATE].sum() >= 10
    assert session.model.event_log[-1][1].startswith("mass atrocity near Mopti by state "
                                                     "forces: ")


def test_side_by_side_opens_another_regime_and_the_switch_says_it_restarts():
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{"map.communities": 200})),
                            handle_error=False)
    try:
        texts = [w.children[0] for w in rc.find(v.Html, tag="span").widgets if w.children]
        assert "(restarts both runs at week 0)" in texts
        _advance(rc)
        rc.find(v.Switch, label="side by side").widget.v_model = True
        assert _status(rc).attributes["data-step"] == "0"
        restarted = [w.children for w in rc.find(v.Html, tag="span").widgets
                     if "bb-restarted" in (w.class_ or "")]
        assert restarted == [["both runs restarted at week 0, seed 1"]]
        maps = [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                if w.attributes.get("class") == "bb-map-view"]
        assert "Contractor, unchecked" in maps[0] and "Contractor, accountable" in maps[1]
    finally:
        rc.close()


def test_the_right_hand_regime_is_never_the_left_one():
    choices = scenario_choices(ROOT / "scenarios")
    for label, path in choices.items():
        scenario = load_scenario(path) if path else default_scenario()
        assert choice_of(choices, scenario) == label
        assert counterpart(choices, scenario) != path
    unchecked = choices["contractor_unchecked.toml \u2014 Contractor, unchecked"]
    assert counterpart(choices, load_scenario(unchecked)).name == "contractor_accountable.toml"


def test_the_partner_chart_draws_the_exit_threshold_at_its_value(tiny):
    relationship = outcomes.BY_NAME["partner_relationship"]
    threshold = tiny.model.p["partner.exit_threshold"]
    svg = charts.svg([tiny.model], relationship)
    line = re.search(r'<line class="bb-threshold" data-value="([0-9.]+)"[^>]* y1="([0-9.]+)"',
                     svg)
    assert float(line.group(1)) == threshold == BY_NAME["partner.exit_threshold"].default
    top, bottom = charts._TOP, charts.HEIGHT - charts._BOTTOM
    assert float(line.group(2)) == pytest.approx(bottom - (bottom - top) * threshold, abs=0.1)
    assert f"partner leaves below {threshold:g}" in svg
    assert "bb-threshold" not in charts.svg([tiny.model], outcomes.BY_NAME["civilian_deaths"])


def test_the_map_keys_every_symbol_and_writes_town_names_over_the_units(tiny):
    key = world_map.key("control")
    for name in ("state unit", "contractor team", "partner unit", "armed band, group A",
                 "armed band, group B", "mining site", "town (larger dot)"):
        assert f"</svg>{name}</span>" in key
    assert "who controls the area (red: armed groups, blue: the state)" in key
    drawn = world_map.svg(tiny.model, "control")
    assert drawn.rindex("<title>state unit") < drawn.index('class="bb-town"')


def test_town_names_are_legible_inside_the_map_and_apart(tiny):
    """Every town's name is 11 pixels or more on the smallest map the page draws (MAP_SCALE a
    unit), lies inside the map's frame and overlaps no other: Ménaka sits near the frame's
    edge, Bamako and Ségou near each other.  Widths are DejaVu Sans's, as matplotlib lays it out
    (the browser test checks the page's own layout)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    drawn = world_map.svg(tiny.model)
    x0, y0, width, height = (float(v) for v in re.search(r'viewBox="([^"]+)"', drawn)
                             .group(1).split())
    boxes = {}
    for x, y, size, anchor, name in re.findall(
            r'<text class="bb-town" x="([-\d.]+)" y="([-\d.]+)" font-size="([\d.]+)"'
            r'(?: text-anchor="(\w+)")?[^>]*>([^<]+)</text>', drawn):
        size, x, y = float(size), float(x), float(y)
        assert size * MAP_SCALE >= 11, f"{name}: {size * MAP_SCALE:.1f} pixels"
        w, _, _ = TextToPath().get_text_width_height_descent(
            name, FontProperties(family="DejaVu Sans", size=size), ismath=False)
        left = {"end": x - w, "middle": x - w / 2}.get(anchor, x)
        boxes[name] = (left, y - 0.93 * size, left + w, y + 0.24 * size)
    assert len(boxes) == 9
    for name, (a, b, c, d) in boxes.items():
        assert x0 <= a and c <= x0 + width and y0 <= b and d <= y0 + height, (name, boxes[name])
    names = sorted(boxes)
    for k, one in enumerate(names):
        for other in names[k + 1:]:
            (a, b, c, d), (e, f, g, h) = boxes[one], boxes[other]
            assert not (a < g and e < c and b < h and f < d), f"{one} overlaps {other}"


def test_the_map_keys_each_colour_its_armed_bands_are_drawn_in(session):
    """The two rival factions' bands are drawn in two colours: the key shows a cross of each,
    named by faction, and each band's tooltip names its faction."""
    session.step(2)
    assert set(session.model.bands.faction[session.model.bands.active]) == {0, 1}
    drawn, key = world_map.svg(session.model, "cooperation"), world_map.key("cooperation")
    band = re.compile(r'<g class="bb-band" data-colour="(#[0-9a-f]{6})"><title>([^<]*)')
    in_key = dict(band.findall(key))
    assert len(in_key) == 2 and band.findall(drawn)
    for colour, title in band.findall(drawn):
        assert colour in in_key, f"{colour} ({title}) is not in the map's key"
        assert title.startswith(in_key[colour] + ","), (title, in_key[colour])


def test_the_server_compiles_the_model_before_it_serves_and_says_so(tiny, capsys):
    server.prepare(tiny.runs[0].scenario)
    assert capsys.readouterr().err == server.PREPARING + "\n"
    assert "compiling" in server.PREPARING


# --- the page, rendered in-process ------------------------------------------------------------
def _status(rc):
    widgets = rc.find(solara.widgets.HTML).widgets
    return next(w for w in widgets if w.attributes.get("class") == "bb-status")


WAIT = 120.0  # seconds a Step may take on a loaded machine before the test gives up


def _workers(click) -> list[threading.Thread]:
    """The threads that ``click()`` started to compute (Solara's task threads are not
    daemons); each has drawn the page's last state when it ends."""
    before = set(threading.enumerate())
    click()
    return [t for t in set(threading.enumerate()) - before if not t.daemon]


def _finish(workers: list[threading.Thread]) -> None:
    for worker in workers:
        worker.join(WAIT)
        assert not worker.is_alive(), f"still computing after {WAIT:g} s"


def _advance(rc, label: str = "Step") -> None:
    """Click a button that advances the runs and wait until the page has drawn the result."""
    import ipyvuetify as v

    _finish(_workers(rc.find(v.Btn, children=[label]).widget.click))


@pytest.fixture(autouse=True)
def prepared():
    """The pages below open as the server serves them: with the kernels prepared (the test of
    a page opened where nothing was prepared clears it)."""
    server.PREPARED.set()


def test_a_page_opened_where_nothing_was_prepared_says_so_until_the_model_is_ready(monkeypatch):
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import ADVANCE, Dashboard

    # The warm-up is held until the test has looked at the page, as a first compile would.
    entered, release, prepare = threading.Event(), threading.Event(), server.prepare

    def held(scenario, out=None):
        entered.set()
        assert release.wait(WAIT)
        prepare(scenario, out)

    monkeypatch.setattr(server, "prepare", held)
    monkeypatch.setattr("sim.interfaces.dashboard.computing.prepare", held)
    server.PREPARED.clear()
    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{"map.communities": 200})),
                            handle_error=False)
    try:
        assert entered.wait(WAIT)
        assert _status(rc).attributes["data-busy"] == "true"
        assert _status(rc).unsafe_innerHTML == server.PREPARING
        blocked = ["Reset", "Play", *ADVANCE]
        assert [rc.find(v.Btn, children=[b]).widget.disabled for b in blocked] == [True] * 4
        release.set()
        deadline = time.monotonic() + WAIT
        while _status(rc).attributes["data-busy"] == "true":
            assert time.monotonic() < deadline, "still preparing"
            time.sleep(0.05)
        assert server.PREPARED.is_set()
        assert not rc.find(v.Btn, children=["Play"]).widget.disabled
        assert _status(rc).unsafe_innerHTML.startswith("week <b>0</b> of 104")
    finally:
        release.set()
        rc.close()


def _held_page(monkeypatch, week: int):
    """A small page whose runs, once at ``week``, wait to step on until ``release`` is set;
    ``entered`` is set when they wait.  Returns the page's render context, entered, release."""
    from sim.interfaces.dashboard.app import Dashboard
    from sim.interfaces.dashboard.session import Session as Held

    entered, release, step = threading.Event(), threading.Event(), Held.step

    def held(self, n=1):
        if self.clock.t == week:
            entered.set()
            assert release.wait(WAIT)
        return step(self, n)

    monkeypatch.setattr(Held, "step", held)
    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{"map.communities": 200})),
                            handle_error=False)
    return rc, entered, release


def test_page_shows_it_is_computing_and_takes_no_second_click(monkeypatch):
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import ADVANCE

    # The first week is held until the test has looked at the page, as a first compile would.
    rc, entered, release = _held_page(monkeypatch, 0)
    try:
        assert _status(rc).attributes["data-busy"] == "false"
        year = _workers(rc.find(v.Btn, children=["+1 year"]).widget.click)
        assert entered.wait(WAIT)
        blocked = ["Reset", "Play", *ADVANCE]
        assert [rc.find(v.Btn, children=[b]).widget.disabled for b in blocked] == [True] * 4
        assert rc.find(v.Select, label="scenario").widget.disabled
        assert rc.find(v.Switch, label="side by side").widget.disabled
        assert _status(rc).attributes["data-busy"] == "true"
        assert _status(rc).unsafe_innerHTML == "computing week 1 (to 52)\u2026"
        assert rc.find(v.ProgressCircular).widget.indeterminate
        assert not _workers(rc.find(v.Btn, children=["Step"]).widget.click)  # a forged click
        release.set()
        _finish(year)
        assert not rc.find(v.Btn, children=["Step"]).widget.disabled
        assert _status(rc).attributes["data-step"] == "52"
        assert _status(rc).attributes["data-busy"] == "false"
        assert _status(rc).unsafe_innerHTML.startswith("week <b>52</b> of 104")
        assert not rc.find(v.ProgressCircular).widgets
        _advance(rc)
        assert _status(rc).attributes["data-step"] == "53"
    finally:
        release.set()
        rc.close()


def test_a_year_redraws_the_page_a_few_times_not_after_every_week(monkeypatch):
    """Each showing of the progress makes Solara go over the whole page, which at the default
    size costs several weeks' worth (``benchmarks/dashboard.py``): shown after every week, it
    drew the page 52 times a year."""
    from sim.interfaces.dashboard import app, computing

    drawn = []
    monkeypatch.setattr(app, "_Toolbar", _counted(app._Toolbar, drawn))
    box, rc = solara.render(app.Dashboard(small("contractor_unchecked",
                                                **{"map.communities": 200})),
                            handle_error=False)
    try:
        drawn.clear()
        start = time.monotonic()
        _advance(rc, "+1 year")
        elapsed = time.monotonic() - start
        assert _status(rc).attributes["data-step"] == "52"
        # The click, the year's start and end, the redraw of its result, and a showing of the
        # progress each PROGRESS_EVERY seconds at most.
        assert 2 <= len(drawn) <= 4 + elapsed / computing.PROGRESS_EVERY, (len(drawn), elapsed)
    finally:
        rc.close()


def test_weeks_slower_than_the_pause_between_showings_show_their_progress(monkeypatch):
    """Where weeks are slow (a large map), the page says which week is computing as they go."""
    import ipyvuetify as v

    from sim.interfaces.dashboard import computing

    monkeypatch.setattr(computing, "PROGRESS_EVERY", 0.0)
    rc, third, release = _held_page(monkeypatch, 2)
    try:
        year = _workers(rc.find(v.Btn, children=["+1 year"]).widget.click)
        assert third.wait(WAIT)
        assert _status(rc).unsafe_innerHTML == "computing week 3 (to 52)\u2026"
        circle = rc.find(v.ProgressCircular).widget
        assert not circle.indeterminate and circle.value == pytest.approx(100.0 * 2 / 52)
        release.set()
        _finish(year)
        assert _status(rc).attributes["data-step"] == "52"
    finally:
        release.set()
        rc.close()


def _playing_page():
    """A small page for the play loop's tests, and a function that finds its buttons."""
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{"map.communities": 200})),
                            handle_error=False)
    return rc, lambda label: rc.find(v.Btn, children=[label]).widget


def _until_play_is_back(button) -> None:
    deadline = time.monotonic() + WAIT
    while button("Play").disabled:
        assert time.monotonic() < deadline, "the loop did not stop"
        time.sleep(0.01)


def test_pause_holds_play_until_the_week_under_way_has_landed(monkeypatch):
    from sim.core.model import BlowbackModel as Held
    from sim.interfaces.dashboard.app import ADVANCE

    # Each week of the loop is held while it runs, until the test lets it go, as a slow week
    # would be.
    entered, release, step = threading.Semaphore(0), threading.Semaphore(0), Held.step

    def held(self):
        entered.release()
        assert release.acquire(timeout=WAIT)
        step(self)

    monkeypatch.setattr(Held, "step", held)
    rc, button = _playing_page()
    try:
        button("Play").click()
        assert entered.acquire(timeout=WAIT)  # the first week is under way
        button("Pause").click()
        assert button("Play").disabled
        assert [button(b).disabled for b in ADVANCE] == [True] * len(ADVANCE)
        assert _status(rc).attributes["data-step"] == "0"
        release.release()
        _until_play_is_back(button)
        assert _status(rc).attributes["data-step"] == "1"
        assert not entered.acquire(timeout=0.5)  # no week after the one under way
        assert [button(b).disabled for b in ADVANCE] == [False] * len(ADVANCE)
    finally:
        for _ in range(3):
            release.release()
        rc.close()


def test_reset_while_playing_never_steps_the_rebuilt_runs(monkeypatch):
    from sim.interfaces.dashboard.session import Session as Held

    # The loop's week is held after the loop decided to run it and before it takes the
    # session, where a Reset can slip in between.
    entered, release, step = threading.Event(), threading.Event(), Held.step

    def held(self, n=1, wanted=None):
        entered.set()
        assert release.wait(WAIT)
        return step(self, n, wanted)

    monkeypatch.setattr(Held, "step", held)
    rc, button = _playing_page()
    try:
        button("Play").click()
        assert entered.wait(WAIT)
        button("Reset").click()
        release.set()
        _until_play_is_back(button)
        assert _status(rc).attributes["data-step"] == "0"
    finally:
        release.set()
        rc.close()


def test_page_steps_and_a_slider_moves_the_model():
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked")), handle_error=False)
    try:
        _advance(rc)
        _advance(rc)
        assert _status(rc).attributes["data-step"] == "2"
        labels = [w for w in rc.find(v.Html, tag="span").widgets
                  if w.children and str(w.children[0]).startswith("punishment:")]
        assert labels[0].children == ["punishment: 0.2"]
        lever = rc.find(v.Html, tag="span", children=["punishment: 0.2"]).widget
        assert lever is labels[0]
        sliders = rc.find(v.Slider).widgets
        index = [lv.name for _, g in LEVERS for lv in g if not lv.is_switch].index(
            "oversight.punishment")
        sliders[index].v_model = 0.7
        assert labels[0].children == ["punishment: 0.7"]
        rc.find(v.Btn, children=["mass-atrocity operation"]).widget.click()
        log = next(w for w in rc.find(solara.widgets.HTML).widgets
                   if w.attributes.get("class") == "bb-log")
        assert "next week: mass atrocity near Mopti by the contractor" in log.unsafe_innerHTML
    finally:
        rc.close()


def test_page_says_that_an_event_pressed_after_the_end_is_not_applied():
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{
        "map.communities": 200, "run.steps": 2})), handle_error=False)
    try:
        _advance(rc, "+1 year")
        assert _status(rc).attributes["data-step"] == "2"
        rc.find(v.Btn, children=["mass-atrocity operation"]).widget.click()
        log = next(w for w in rc.find(solara.widgets.HTML).widgets
                   if w.attributes.get("class") == "bb-log")
        assert ("Mass atrocity near Mopti by the contractor: not applied, the run has ended"
                in log.unsafe_innerHTML)
    finally:
        rc.close()


def _in_force_lines(rc) -> dict[str, str]:
    """The in-force lines under the levers, by the lever's label."""
    import ipyvuetify as v

    spans = [str(w.children[0]) if w.children else "" for w in rc.find(v.Html, tag="span").widgets]
    labels = [k for k, text in enumerate(spans) if text.endswith(tuple("0123456789"))
              and ": " in text]
    return {spans[k].split(":")[0]: spans[k + 1] for k in labels
            if spans[k + 1].startswith(("acts at", "in force"))}


def _counted(component, drawn: list):
    """``component``, noting its name in ``drawn`` each time it is drawn."""
    @solara.component
    def counted(*args):
        drawn.append(component.f.__name__)
        return component.f(*args)

    return counted


def test_page_shows_what_acts_under_each_lever_without_redrawing_the_panel(monkeypatch):
    """With the seven engagement levers at 1 and no budget, the levers' bill is part paid: each
    says the level it acts at, as the state forces' skill says the units' own, raised by
    training; these lines change weekly while the lever controls are not drawn again."""
    import ipyvuetify as v

    from sim.interfaces.dashboard import app

    drawn = []
    for part in ("_Levers", "_LeverControl"):
        monkeypatch.setattr(app, part, _counted(getattr(app, part), drawn))
    box, rc = solara.render(app.Dashboard(small("contractor_unchecked", **{
        "map.communities": 200, "government.budget": 0.0})), handle_error=False)
    try:
        sliders = rc.find(v.Slider).widgets
        names = [lv.name for _, g in LEVERS for lv in g if not lv.is_switch]
        for k, name in enumerate(names):
            if name.startswith("levers."):
                sliders[k].v_model = 1.0
        _advance(rc)
        before = _in_force_lines(rc)
        drawn.clear()
        _advance(rc)
        _advance(rc)
        after = _in_force_lines(rc)
        assert drawn == []
        engagement = {lv.label for group, g in LEVERS if group == "Engagement" for lv in g}
        assert engagement < set(after) and "state forces' skill" in after
        funded = {after[label] for label in engagement}
        assert len(funded) == 1 and re.fullmatch(r"acts at 0\.\d+: level \u00d7 0\.\d+, .*",
                                                 funded.pop())
        assert after["state forces' skill"] != before["state forces' skill"]
    finally:
        rc.close()


def test_page_side_by_side_draws_two_maps():
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked")), handle_error=False)
    try:
        rc.find(v.Switch, label="side by side").widget.v_model = True
        maps = [w for w in rc.find(solara.widgets.HTML).widgets
                if w.attributes.get("class") == "bb-map-view"]
        assert len(maps) == 2
        _advance(rc)
        chart = next(w for w in rc.find(solara.widgets.HTML).widgets
                     if 'data-series="civilian_deaths"' in (w.unsafe_innerHTML or ""))
        assert len(re.findall(r'data-points="1"', chart.unsafe_innerHTML)) == 2
    finally:
        rc.close()


def test_page_side_by_side_says_which_line_of_the_charts_is_which_run():
    """Side by side, each chart draws two lines, brown and blue: a key names the run of each,
    in its line's colour; one run has one line, and no key."""
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked", **{"map.communities": 200})),
                            handle_error=False)
    try:
        def keys() -> list[str]:
            return [w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                    if w.attributes.get("class") == "bb-chart-key"]

        assert keys() == []
        rc.find(v.Switch, label="side by side").widget.v_model = True
        _advance(rc)
        chart = next(w.unsafe_innerHTML for w in rc.find(solara.widgets.HTML).widgets
                     if 'data-series="civilian_deaths"' in (w.unsafe_innerHTML or ""))
        line = dict(re.findall(r'<polyline data-side="(\d)"[^>]* stroke="(#[0-9a-f]{6})"', chart))
        [key] = keys()
        found = re.findall(r'data-side="(\d)" style="color:(#[0-9a-f]{6});[^>]*>.*?</b> '
                           r'([^<]+)</span>', key)
        named = {side: (colour, name) for side, colour, name in found}
        assert named == {"0": (line["0"], "Contractor, unchecked"),
                         "1": (line["1"], "Contractor, accountable")}
    finally:
        rc.close()


# --- the command --------------------------------------------------------------------------------
def _blowback(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_dashboard_command_refuses_a_bad_scenario_in_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[oversight]\npunishmnt = 0.5\n")
    done = _blowback("dashboard", str(bad), "--port", "8799")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "oversight.punishmnt" in done.stderr


def test_dashboard_command_refuses_a_port_in_use():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = _blowback("dashboard", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in done.stderr


# --- hardening: where it listens, whom it answers, what it accepts from the page ---------------

LOOPBACKS = ["127.0.0.1", "127.3.4.5", "::1", "[::1]", "localhost", "LOCALHOST"]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
        return True
    except OSError:
        return False


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


@pytest.mark.parametrize("host", LOOPBACKS)
def test_a_loopback_host_needs_no_flag(host):
    assert server.is_loopback(host)
    assert server.check_host(host, allow_remote=False) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "lab-pc.example.org"])
def test_a_host_beyond_this_machine_is_refused_without_allow_remote(host):
    with pytest.raises(ScenarioError) as err:
        server.check_host(host, allow_remote=False)
    message = str(err.value)
    assert message.startswith(f"--host: {host} ") and "add --allow-remote" in message
    assert "no password" in server.check_host(host, allow_remote=True)


@pytest.mark.parametrize("allow_remote", [False, True])
@pytest.mark.parametrize("host", ["", "  "])
def test_an_empty_host_is_refused_even_with_allow_remote(host, allow_remote):
    with pytest.raises(ScenarioError, match=r"^--host: .* is empty.*0\.0\.0\.0 or an address "
                       "given explicitly"):
        server.check_host(host, allow_remote)


def test_the_page_answers_its_host_and_the_loopback_names_only():
    assert server.allowed_hosts("127.0.0.1") == ["127.0.0.1", "localhost", "[::1]"]
    assert server.allowed_hosts("::1") == ["[::1]", "localhost", "127.0.0.1"]
    assert server.allowed_hosts("192.168.1.5") == ["192.168.1.5"]
    assert server.allowed_hosts("0.0.0.0") == ["*"]
    assert server.allowed_hosts("0.0.0.0", ["Lab-PC.local"]) == [
        "lab-pc.local", "localhost", "127.0.0.1", "[::1]"]


@pytest.mark.parametrize("name", ["bad/name", "", "a b", "*", "http://x"])
def test_an_allowed_host_that_is_no_host_name_is_refused(name):
    with pytest.raises(ScenarioError, match="^--allowed-host: "):
        server.check_allowed_hosts([name])
    assert server.check_allowed_hosts(["Lab-PC.local", "[fe80::1]"]) == [
        "lab-pc.local", "[fe80::1]"]


def _close(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()


@needs_ipv6
def test_the_ipv6_loopback_can_be_listened_on():
    for host in ("::1", "[::1]"):
        sockets = server.listen(host, 0)
        assert [sock.family for sock in sockets] == [socket.AF_INET6]
        _close(sockets)


def test_the_port_is_held_from_the_check_on_so_no_other_program_takes_it():
    sockets = server.listen("127.0.0.1", 0)
    try:
        port = sockets[0].getsockname()[1]
        assert port > 0
        with socket.socket() as other, pytest.raises(OSError):
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            other.bind(("127.0.0.1", port))
            other.listen()
        with pytest.raises(ScenarioError, match=f"^--port: 127.0.0.1:{port} is already in use"):
            server.listen("127.0.0.1", port)
    finally:
        _close(sockets)


def test_port_0_gives_every_address_of_the_name_the_same_free_port():
    sockets = server.listen("localhost", 0)
    try:
        ports = {sock.getsockname()[1] for sock in sockets}
        assert len(sockets) >= 1 and len(ports) == 1 and ports != {0}
    finally:
        _close(sockets)


@pytest.mark.parametrize("family, host", [(socket.AF_INET, "127.0.0.1"),
                                          pytest.param(socket.AF_INET6, "::1",
                                                       marks=needs_ipv6)])
def test_a_port_in_use_is_blamed_on_the_port(family, host):
    with socket.socket(family) as taken:
        taken.bind((host, 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ScenarioError, match=f"^--port: .*:{port} is already in use"):
            server.listen(host, port)


@pytest.mark.parametrize("host", ["192.0.2.1", "no-such-host.invalid"])
def test_an_address_not_of_this_machine_is_blamed_on_the_host(host):
    with pytest.raises(ScenarioError, match=f"^--host: {host} is not"):
        server.listen(host, 8799)


def _asgi(kind: str, host: str | None) -> tuple[bool, list[dict]]:
    """Call the guarded page of a server on 127.0.0.1 with one request of ``kind`` (http,
    websocket) carrying Host ``host``: whether the page was reached, and what went back."""
    import asyncio

    reached, sent = [], []

    async def page(scope, receive, send):
        reached.append(scope["type"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"page"})

    async def receive():
        return {"type": "websocket.connect"} if kind == "websocket" else \
            {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    headers = [] if host is None else [(b"host", host.encode())]
    scope = {"type": kind, "path": "/", "raw_path": b"/", "query_string": b"",
             "headers": headers, "scheme": "ws" if kind == "websocket" else "http",
             "server": ("127.0.0.1", 8765), "root_path": "", "method": "GET"}
    guarded = server.guarded(page, server.allowed_hosts("127.0.0.1"))
    asyncio.run(guarded(scope, receive, send))
    return bool(reached), sent


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.1:8765", "localhost:8765", "[::1]:8765",
                                  "LOCALHOST"])
def test_the_host_guard_lets_the_loopback_names_through(kind, host):
    reached, _ = _asgi(kind, host)
    assert reached


@pytest.mark.parametrize("kind", ["http", "websocket"])
@pytest.mark.parametrize("host", ["evil.example", "evil.example:8765", "127.0.0.1.evil.example",
                                  "www.localhost", "", None])
def test_the_host_guard_refuses_any_other_host_on_pages_and_websockets(kind, host):
    reached, sent = _asgi(kind, host)
    assert not reached
    start = sent[0]
    assert start["status"] == 400
    assert start["type"] == ("websocket.http.response.start" if kind == "websocket"
                             else "http.response.start")


# --- the command's checks, in-process: every one answers before a server starts -----------------
@pytest.mark.parametrize("args, start", [
    (["--host", ""], "--host: '' is empty"),
    (["--host", "", "--allow-remote"], "--host: '' is empty"),
    (["--host", "0.0.0.0"], "--host: 0.0.0.0 is reachable beyond this machine"),
    (["--seed", str(2**70)], f"--seed: {2**70}; allowed: an integer in [0, {2**62}]"),
    (["--host", "0.0.0.0", "--allow-remote", "--allowed-host", "a/b"], "--allowed-host: 'a/b'"),
])
def test_the_command_refuses_in_one_line(args, start, monkeypatch, capsys):
    monkeypatch.setattr(server, "serve", lambda *a: pytest.fail("the server started"))
    assert cli.main(["dashboard", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"blowback: error: {start}") and err.count("\n") == 1


@pytest.mark.parametrize("extra, answers", [
    ([], "any Host name"), (["--allowed-host", "lab-pc"], "Host names lab-pc, localhost")])
def test_allow_remote_warns_that_the_page_has_no_password(extra, answers, monkeypatch,
                                                          capsys):
    served = []
    monkeypatch.setattr(server, "serve", lambda *a: served.append(a))
    assert cli.main(["dashboard", "--host", "0.0.0.0", "--allow-remote", "--port", "0",
                     *extra]) == 0
    err = capsys.readouterr().err
    assert err.startswith("blowback: warning: --host 0.0.0.0: ") and err.count("\n") == 1
    assert "no password" in err and "can run the model" in err and answers in err
    assert [sock.fileno() for sock in served[0][2]] == [-1], "the socket was left open"
    assert served[0][5] == (["*"] if not extra else ["lab-pc", "localhost", "127.0.0.1",
                                                     "[::1]"])


def test_the_help_explains_the_host_flags(capsys):
    with pytest.raises(SystemExit):
        cli.main(["dashboard", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--allow-remote" in text and "no password" in text and "--allowed-host NAME" in text


# --- what the page sends, checked on the server --------------------------------------------------
@pytest.mark.parametrize("value", ["Nope", "A", ["x"], {"a": 1}, None, 3])
def test_a_choice_the_page_did_not_offer_is_refused(value):
    with pytest.raises(PageValueError, match="^scenario: .* not one of the choices offered"):
        page_values.offered("scenario", value, {"a.toml \u2014 A": None})


@pytest.mark.parametrize("value", [2, -1, "1", True, None, 1.0, [0]])
def test_a_toggle_index_the_page_did_not_offer_is_refused(value):
    with pytest.raises(PageValueError, match="^speed: .*; allowed: slow, fast$"):
        page_values.index("speed", value, ["slow", "fast"])
    assert page_values.index("speed", 1, ["slow", "fast"]) == "fast"


@pytest.mark.parametrize("value", [1.5, -0.1, float("nan"), float("inf"), "0.5", True, None])
def test_a_lever_value_outside_the_slider_or_not_a_number_is_refused(tiny, value):
    with pytest.raises(PageValueError, match=r"^oversight.punishment: .*; allowed: a number "
                       r"in \[0, 1\]"):
        tiny.set_lever("oversight.punishment", value)
    assert tiny.lever_value("oversight.punishment") == 0.2 and not tiny.model.event_log


@pytest.mark.parametrize("value", ["false", 0, None, "yes"])
def test_a_switch_takes_only_true_or_false(tiny, value):
    with pytest.raises(PageValueError, match="true or false"):
        tiny.set_lever("contractor.transparent", value)
    with pytest.raises(PageValueError, match="true or false"):
        tiny.set_presence("un", value)
    assert not tiny.pending()


def test_a_presence_switch_put_back_within_the_week_undoes_what_it_queued(tiny):
    """Flipped off and on again, the switch queued a departure and an arrival: the partner
    left and came back next week, its relationship begun anew."""
    assert tiny.present("partner")
    tiny.set_presence("partner", False)
    assert [e.type for e in tiny.pending()] == ["partner_leaves"]
    tiny.set_presence("partner", True)
    assert tiny.pending() == [] and tiny.present("partner")
    tiny.step()
    assert tiny.model.partner_present and not tiny.model.event_log  # neither left nor came
    tiny.set_presence("un", False)
    tiny.step()
    assert not tiny.model.un_present


@pytest.mark.parametrize("value", [2**70, -1, True, "12a", "1" * 30, 2.0, ""])
def test_a_seed_outside_the_models_range_is_refused(tiny, value):
    with pytest.raises(PageValueError, match=r"^seed: .*; allowed: an integer in \[0, "):
        tiny.reset(seed=value)
    with pytest.raises(PageValueError):
        Session(small("contractor_unchecked"), seed=value)
    assert page_values.seed(" 42 ") == 42 and page_values.seed(2**62) == 2**62


# --- the page: picker by file, forged values, title --------------------------------------------
@pytest.fixture
def same_names(tmp_path):
    """Two tiny scenario files in one folder that carry the same name."""
    for stem, communities in (("pressure", 200), ("pressure_copy", 240)):
        (tmp_path / f"{stem}.toml").write_text(
            f'name = "Pressure"\nextends = "{(ROOT / "scenarios" / "base.toml").as_posix()}"\n'
            f"[map]\ncommunities = {communities}\n")
    return tmp_path


def test_two_files_with_one_name_are_both_offered_by_file(same_names):
    choices = scenario_choices(same_names)
    assert list(choices) == ["Defaults (no file)", "pressure.toml \u2014 Pressure",
                             "pressure_copy.toml \u2014 Pressure"]
    copy = Session(same_names / "pressure_copy.toml").runs[0].scenario
    assert choice_of(choices, copy) == "pressure_copy.toml \u2014 Pressure"


def _alerts(rc) -> list[str]:
    import ipyvuetify as v

    return [str(w.children[0]) for w in rc.find(v.Alert).widgets]


def test_page_refuses_forged_values_with_a_short_message(same_names):
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(same_names / "pressure.toml"), handle_error=False)
    try:
        forged = [(v.Select, {"label": "scenario"}, "/etc/passwd", "scenario: "),
                  (v.BtnToggle, {}, 7, "speed: 7 is not one of the choices"),
                  (v.Slider, {}, "a lot", "oversight.independent: 'a lot'; allowed"),
                  (v.Switch, {"label": "side by side"}, "yes", "side by side: 'yes'"),
                  (v.TextField, {"label": "seed"}, str(2**70), None)]
        for widget, where, value, message in forged:
            rc.find(widget, **where).widgets[0].v_model = value
            if message is None:  # the seed is checked when Reset uses it
                rc.find(v.Btn, children=["Reset"]).widget.click()
                message = f"seed: {2**70}; allowed: an integer in [0, "
            shown = _alerts(rc)
            assert len(shown) == 1 and shown[0].startswith(message)
            assert str(same_names) not in shown[0] and "Traceback" not in shown[0]
        assert _status(rc).attributes["data-step"] == "0"
    finally:
        rc.close()


def test_page_is_titled_by_the_scenario_and_picks_by_file(same_names):
    import ipyvuetify as v
    from solara.components.title import TitleWidget

    from sim.interfaces.dashboard.app import Dashboard, page_message

    untitled, rc = solara.render(Dashboard(same_names / "pressure.toml"), handle_error=False)
    assert not rc.find(TitleWidget).widgets  # in a notebook, the notebook keeps its title
    rc.close()
    box, rc = solara.render(Dashboard(same_names / "pressure.toml", titled=True),
                            handle_error=False)
    try:
        assert rc.find(TitleWidget).widget.title == "Blowback \u2014 Pressure"
        picker = rc.find(v.Select, label="scenario").widget
        assert picker.v_model == "pressure.toml \u2014 Pressure"
        picker.v_model = "pressure_copy.toml \u2014 Pressure"
        assert not _alerts(rc)
        model = rc.find(v.Select, label="scenario").widget
        assert model.v_model == "pressure_copy.toml \u2014 Pressure"
    finally:
        rc.close()
    err = ScenarioError(str(same_names / "pressure.toml"), "map.communities", "must be >= 1")
    assert page_message(err) == "pressure.toml: map.communities: must be >= 1"


@needs_ipv6
def test_served_on_ipv6_loopback_it_answers_only_its_own_host_names(same_names, tmp_path):
    import http.client

    log_path = tmp_path / "server.log"
    log = log_path.open("w")
    served = subprocess.Popen([sys.executable, "-m", "sim", "dashboard",
                               str(same_names / "pressure.toml"), "--host", "::1",
                               "--port", "0"], cwd=ROOT, stdout=log, stderr=log)

    def get(host: str, **headers) -> tuple[int, str]:
        conn = http.client.HTTPConnection("::1", port, timeout=10)
        try:
            conn.request("GET", "/jupyter/api/kernels/x/channels" if headers else "/",
                         headers={"Host": host, **headers})
            answer = conn.getresponse()
            return answer.status, answer.read().decode(errors="replace")
        finally:
            conn.close()

    try:
        address = dashboard_address(served, log_path, seconds=90)
        assert address.startswith("http://[::1]:")
        port = int(address.rstrip("/").rsplit(":", 1)[1])
        deadline = time.monotonic() + 60
        while True:
            assert served.poll() is None, log_path.read_text()
            try:
                status, page = get(f"[::1]:{port}")
                break
            except OSError:
                assert time.monotonic() < deadline, "the dashboard did not answer in 60 s"
                time.sleep(0.3)
        assert status == 200 and "<title>Blowback \u2014 Pressure</title>" in page
        assert get("localhost")[0] == 200
        assert get("attacker.example:80") == (400, "Invalid host header")
        upgrade = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
                   "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}
        assert get("attacker.example", **upgrade)[0] == 400
    finally:
        served.terminate()
        served.wait(timeout=20)
        log.close()
