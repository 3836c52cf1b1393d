"""The dashboard without a browser: its session, its drawings, its page rendered in-process."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys

import numpy as np
import pytest
import solara
import solara.widgets
from conftest import ROOT, small

from sim.core import outcomes
from sim.core.parameters import BY_NAME
from sim.core.state import CONTRACTOR
from sim.interfaces.dashboard import charts
from sim.interfaces.dashboard import map as world_map
from sim.interfaces.dashboard.session import INJECTIONS, LEVERS, Session, scenario_choices


@pytest.fixture
def session() -> Session:
    return Session(small("contractor_unchecked"))


def test_every_lever_is_a_registered_parameter_with_a_usable_range():
    for _, group in LEVERS:
        for lever in group:
            assert lever.name in BY_NAME
            assert lever.is_switch or lever.low < lever.top <= BY_NAME[lever.name].high


def test_step_advances_both_sides_together_and_stops_at_the_end(session):
    session.compare_with(small("contractor_accountable"))
    assert session.step(3) == 3
    assert [r.model.t for r in session.runs] == [3, 3]
    assert session.step(500) == 104 - 3
    assert session.finished and session.step() == 0


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
    assert model.event_log[-1][1] == "mass_atrocity"
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
    assert "mass_atrocity" not in [text for _, text in session.model.event_log]


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
    assert "Contractor, unchecked" in choices
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


def test_quarterly_deaths_are_13_week_sums(session):
    session.step(20)
    raw = np.array(session.model.records["civilian_deaths"])
    charted = charts.values(session.model, outcomes.BY_NAME["civilian_deaths"])
    assert charted[19] == pytest.approx(raw[7:20].sum())


# --- the page, rendered in-process ------------------------------------------------------------
def _status(rc):
    widgets = rc.find(solara.widgets.HTML).widgets
    return next(w for w in widgets if w.attributes.get("class") == "bb-status")


def test_page_steps_and_a_slider_moves_the_model():
    import ipyvuetify as v

    from sim.interfaces.dashboard.app import Dashboard

    box, rc = solara.render(Dashboard(small("contractor_unchecked")), handle_error=False)
    try:
        rc.find(v.Btn, children=["Step"]).widget.click()
        rc.find(v.Btn, children=["Step"]).widget.click()
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
        assert "next week: mass_atrocity" in log.unsafe_innerHTML
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
        rc.find(v.Btn, children=["Step"]).widget.click()
        chart = next(w for w in rc.find(solara.widgets.HTML).widgets
                     if 'data-series="civilian_deaths"' in (w.unsafe_innerHTML or ""))
        assert len(re.findall(r'data-points="1"', chart.unsafe_innerHTML)) == 2
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
