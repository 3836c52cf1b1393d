"""The model as a whole: determinism, conservation, agents, data collection, events, CRN."""

from __future__ import annotations

import copy
import gc
import pickle
import re
import weakref

import numpy as np
import pandas as pd
import pytest
from conftest import small

from sim import Sim
from sim.core.model import BlowbackModel
from sim.core.outcomes import NAMES as SERIES
from sim.core.scenario import from_dict
from sim.core.state import CONTRACTOR, PARTNER, Forces, ForcesView
from sim.world.agents import Community, ContractorUnit, InsurgentBand, StateForceUnit


def _series(scenario) -> pd.DataFrame:
    return pd.DataFrame(BlowbackModel(scenario, agents=False).run().records)


def test_same_scenario_and_seed_give_identical_results():
    s = small("contractor_unchecked")
    pd.testing.assert_frame_equal(_series(s), _series(s))


def test_different_seeds_give_different_results():
    a = _series(small("contractor_unchecked", **{"run.seed": 1}))
    b = _series(small("contractor_unchecked", **{"run.seed": 2}))
    assert not np.allclose(a["civilian_deaths"], b["civilian_deaths"])


def test_population_is_conserved_at_every_step():
    model = BlowbackModel(small("contractor_unchecked"), agents=False)
    c = model.communities
    initial = c.initial_population.sum()
    for _ in range(104):
        model.step()
        total = c.population.sum() + c.displaced.sum() + c.dead.sum()
        assert total == pytest.approx(initial, rel=1e-12)
        assert (c.population >= 0).all() and (c.displaced >= -1e-9).all()


def test_shares_stay_in_unit_interval_and_finite():
    model = BlowbackModel(small("contractor_unchecked"), agents=False).run()
    c = model.communities
    for arr in (c.cooperation, c.grievance, c.support):
        assert np.isfinite(arr).all() and (arr >= 0).all() and (arr <= 1).all()
    df = pd.DataFrame(model.records)
    assert np.isfinite(df[list(SERIES)].drop(
        columns=["state_discrimination", "contractor_discrimination"]).to_numpy()).all()


def test_agents_are_views_of_the_arrays():
    model = BlowbackModel(small("contractor_unchecked", **{"run.steps": 4}))
    communities = model.agents_by_type[Community]
    assert len(communities) == len(model.communities)
    village = list(communities)[10]
    assert village.cooperation == model.communities.cooperation[village.row]
    village.cooperation = 0.99
    assert model.communities.cooperation[village.row] == 0.99
    assert len(model.agents_by_type[StateForceUnit]) == model.p["state.units"]
    assert len(model.agents_by_type[ContractorUnit]) == model.p["contractor.units"]
    assert len(model.agents_by_type[InsurgentBand]) == len(model.bands)
    assert village.group and village.region in ("north", "centre", "south")
    assert set(village.civilian_deaths) == {"state", "contractor", "partner", "insurgent",
                                            "militia"}


@pytest.mark.parametrize(("field", "value"), [
    ("cooperation", float("nan")), ("cooperation", 1.5), ("cooperation", -0.1),
    ("cooperation", "0.5"), ("cooperation", None), ("cooperation", True),
    ("population", float("inf")), ("population", -100.0), ("memory", -1.0),
    ("population", 1e20), ("displaced", 1e20),
])
def test_a_community_refuses_a_value_its_kernels_cannot_take(field, value):
    model = BlowbackModel(small("contractor_unchecked", **{"run.steps": 2}))
    village = list(model.agents_by_type[Community])[3]
    before = getattr(village, field)
    with pytest.raises(ValueError, match=f"^{field}: .* cannot be set; allowed: a number"):
        setattr(village, field, value)
    assert getattr(village, field) == before


@pytest.mark.parametrize(("kind", "field", "value", "high"), [
    (ContractorUnit, "strength", 1e308, "10000"), (ContractorUnit, "firepower", 1e308, "10"),
    (InsurgentBand, "strength", 1e20, "10000"),
])
def test_a_unit_or_band_refuses_a_size_beyond_the_scenarios_range(kind, field, value, high):
    """Past the range a scenario allows, a unit's strength or firepower turned the week's
    means into NaN, and a band's strength made it split into millions of rows, out of memory."""
    model = BlowbackModel(small("contractor_unchecked", **{"run.steps": 2}))
    agent = next(a for a in model.agents_by_type[kind] if a.active)
    with pytest.raises(ValueError, match=rf"^{field}: .* allowed: a number in \[0, {high}\]$"):
        setattr(agent, field, value)
    setattr(agent, field, float(high))
    assert getattr(agent, field) == float(high)


def test_a_units_chosen_conduct_cannot_be_set_but_its_skill_can():
    model = BlowbackModel(small("contractor_unchecked", **{"run.steps": 2}))
    unit = next(iter(model.agents_by_type[ContractorUnit]))
    for field in ("restraint", "discrimination", "discipline", "guard"):
        with pytest.raises(AttributeError, match=f"^{field}: chosen by the unit each week"):
            setattr(unit, field, 0.9)
    unit.skill = 0.9
    model.step()
    assert unit.skill == 0.9 and model.forces.skill[unit.row] == 0.9
    assert 0.45 <= unit.discrimination <= 0.9  # skill x (1/2 + restraint/2)


def test_a_model_with_agents_is_freed_once_let_go():
    """Mesa 3.3 numbers agents from a table that kept each model alive: a notebook looping
    over seeds grew by a model's arrays each time."""
    model = BlowbackModel(small("contractor_unchecked", **{"run.steps": 2})).run()
    assert list(model.agents_by_type[Community])[0].unique_id >= 1
    gone = weakref.ref(model)
    del model
    gc.collect()
    assert gone() is None


def test_a_model_pickled_or_copied_mid_run_goes_on_as_the_original():
    """A notebook saves a model, or hands it to another process, part-way through a run: Mesa's
    collector held a lambda for each series, which pickle refused."""
    model = BlowbackModel(small("contractor_unchecked", **{"run.steps": 12}))
    for _ in range(5):
        model.step()
    copies = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]
    for other in [model, *copies]:
        other.run()
    for other in copies:
        assert other.records == model.records
        community = list(other.agents_by_type[Community])[0]
        assert community.cooperation == other.communities.cooperation[community.row]
        assert other.datacollector.get_model_vars_dataframe().equals(
            model.datacollector.get_model_vars_dataframe())


def test_datacollector_records_every_series():
    model = BlowbackModel(small(**{"run.steps": 6}), agents=False).run()
    df = model.datacollector.get_model_vars_dataframe()
    assert list(df.columns) == list(SERIES)
    assert len(df) == 6
    assert df["civilian_deaths"].tolist() == model.records["civilian_deaths"]


def test_group_as_fighters_are_its_active_bands_and_a_part_of_all_fighters():
    model = BlowbackModel(small("contractor_unchecked"), agents=False)
    for _ in range(52):
        model.step()
        b = model.bands
        a = model.records["insurgent_strength_a"][-1]
        assert a == b.strength[b.active & (b.faction == 0)].sum()
        assert 0 < a < model.records["insurgent_strength"][-1]


def test_three_line_start_gives_a_dataframe_and_a_figure():
    s = Sim(steps=8, communities=500).run()
    df = s.results
    assert len(df) == 8 and pd.api.types.is_datetime64_any_dtype(df["date"])
    assert {"civilian_deaths_state", "civilian_deaths_contractor", "displaced"} <= set(df.columns)
    fig = s.plot()
    assert len(fig.axes) >= 4


def test_contractor_arrives_on_the_scheduled_week():
    scenario = small("mali_2013_2024", **{"run.steps": 626})
    arrival = next(e for e in scenario.events if e.type == "contractor_arrives")
    df = _series(scenario)
    present = df["contractor_present"].to_numpy()
    assert present[arrival.step - 1] == 0 and present[arrival.step] == 1
    assert arrival.step == (pd.Timestamp("2021-12-01") - pd.Timestamp("2012-12-31")).days // 7


def test_scheduled_mass_atrocity_is_recorded_with_its_perpetrator():
    base = small("contractor_unchecked", **{"run.steps": 30})
    raw = dict(base.raw)
    raw["events"] = [{"date": str(base.date_of(20)), "type": "mass_atrocity", "near": "Mopti",
                      "perpetrator": "contractor"}]
    scenario = from_dict(raw)
    event = next(e for e in scenario.events if e.type == "mass_atrocity")
    df = _series(scenario)
    assert df["largest_event"].iloc[event.step] >= 10 * scenario.params[
        "engagement.atrocity_min"]
    assert df["civilian_deaths_contractor"].iloc[event.step] >= df["largest_event"].iloc[
        event.step]


@pytest.mark.parametrize("perpetrator", ["contractor", "partner"])
def test_a_scheduled_atrocity_by_a_force_not_deployed_is_not_carried_out(perpetrator):
    """The base regime has no contractor and no partner: an atrocity scheduled for either is
    not booked to an absent actor, and the event log says why."""
    base = small(**{"run.steps": 4, "map.communities": 200})
    raw = dict(base.raw)
    raw["events"] = [{"date": str(base.date_of(2)), "type": "mass_atrocity", "near": "Gao",
                      "perpetrator": perpetrator}]
    model = BlowbackModel(from_dict(raw), agents=False).run()
    assert model.communities.dead[:, [CONTRACTOR, PARTNER]].sum() == 0
    assert max(model.records["largest_event"]) < 10 * model.p["engagement.atrocity_min"]
    who = "contractor" if perpetrator == "contractor" else "partner forces"
    assert (str(base.date_of(2)), f"mass atrocity near Gao not carried out: no {who} "
            "deployed") in model.event_log


def test_the_mali_timeline_schedules_inputs_only():
    """Arrivals, coups, sanctions, peace, the contractor and operations ordered at a place; no
    toll, perpetrator or withdrawal is scheduled: those are the model's (M2, conduct, M9)."""
    scenario = small("mali_2013_2024", **{"run.steps": 626})
    assert {e.type for e in scenario.events} == {
        "partner_arrives", "peace_agreement", "coup", "contractor_arrives", "sanctions",
        "offensive"}
    moura = next(e for e in scenario.events if e.type == "offensive")
    assert (moura.fields["near"], str(moura.date)[:7]) == ("Mopti", "2022-03")


def test_common_random_numbers_scenarios_agree_until_their_decisions_differ():
    """A policy change scheduled at week 30 leaves weeks 0-29 bit-identical."""
    base = small(**{"run.steps": 40})

    raw = dict(base.raw)
    raw["events"] = [{"date": str(base.date_of(30)), "type": "set",
                      "params": {"state.discrimination": 0.1}}]
    changed = from_dict(raw)
    a, b = _series(base), _series(changed)
    pd.testing.assert_frame_equal(a.iloc[:30], b.iloc[:30])
    assert not a.iloc[30:].equals(b.iloc[30:])


def test_map_has_a_sparse_north_dense_centre_and_capital_south():
    model = BlowbackModel(small(**{"run.steps": 1}), agents=False)
    w, c = model.world, model.communities
    region = w.cell_region[c.cell]
    pop = np.bincount(region, weights=c.population, minlength=3)
    count = np.bincount(region, minlength=3)
    assert pop[2] > pop[1] > pop[0]
    assert count[0] < count[1] / 4
    centre_groups = np.unique(c.group[region == 1])
    assert len(centre_groups) >= 3
    assert w.cell_mine[w.cell_region == 2].sum() > w.cell_mine[w.cell_region == 0].sum()
    assert (w.cell_border >= 0).sum() > 0


def test_a_table_view_is_kept_until_an_array_is_replaced():
    forces = Forces.empty()
    first = forces.add(0, np.array([3, 4]), 10.0, 1.0, 0.5, 2)
    view = forces.view()
    assert forces.view() is view
    assert ForcesView(*view).strength is forces.strength  # the fields in their order
    forces.strength[first] = 7.0  # written in place: the kept view sees it
    assert list(ForcesView(*view).strength) == [7.0, 7.0]
    forces.active &= forces.strength > 8.0  # the same array assigned back
    assert forces.view() is view and not ForcesView(*view).active.any()
    forces.strength = forces.strength * 2.0  # a new array
    assert forces.view() is not view
    view = forces.view()
    forces.add(1, np.array([5]), 20.0, 1.0, 0.5, 2)
    assert forces.view() is not view
    assert list(ForcesView(*forces.view()).cell) == [3, 4, 5]


@pytest.mark.parametrize(("name", "value", "said"), [
    ("community.adaptation", -3.0, "out of range"),
    ("community.adaptaton", 0.0, "did you mean community.adaptation?"),
    ("oversight.punishment", "0.9", "is a string"),
    ("state.units", 100, "read once, when the run is built"),
    ("run.seed", 3, "read once, when the run is built"),
])
def test_a_parameter_set_mid_run_is_checked_as_a_set_event_is(name, value, said):
    """Notebooks set `model.p[...]` between steps: a value the kernels cannot take, a typo or a
    parameter read only at the start is refused in one line, not run or ignored."""
    from sim.core.messages import ScenarioError

    model = BlowbackModel(small("contractor_unchecked", **{"map.communities": 300,
                                                            "run.steps": 10}), agents=False)
    model.run(2)
    before = dict(model.p)
    with pytest.raises(ScenarioError) as err:
        model.p[name] = value
    assert said in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ScenarioError):
        model.p.update({name: value})
    assert dict(model.p) == before
    model.p["community.adaptation"] = 0.0
    assert model.run().t == 10


def test_a_parameter_is_never_removed_or_added_unchecked_mid_run():
    """`del`, `pop`, `popitem` and `clear` would leave a run that fails weeks later on a
    missing key, and `setdefault` would add a misspelt name unchecked: each is refused in one
    line (or, for `setdefault`, checked as `model.p[name] = value` is), the parameters kept."""
    from sim.core.messages import ScenarioError

    model = BlowbackModel(small("base", **{"map.communities": 300, "run.steps": 4}),
                          agents=False)
    model.run(1)
    before = dict(model.p)
    for change in (lambda p: p.__delitem__("oversight.punishment"),
                   lambda p: p.pop("oversight.punishment"),
                   lambda p: p.pop("oversight.punishment", None), lambda p: p.popitem(),
                   lambda p: p.clear()):
        with pytest.raises(TypeError, match="cannot be removed") as err:
            change(model.p)
        assert str(err.value).startswith("model.p: ") and "\n" not in str(err.value)
    with pytest.raises(ScenarioError, match="did you mean oversight.punishment"):
        model.p.setdefault("oversight.punishmnt", 0.9)
    assert model.p.setdefault("oversight.punishment", 0.9) == before["oversight.punishment"]
    assert dict(model.p) == before and model.changed_by_hand == []
    assert model.run().t == 4


def test_a_misspelt_parameter_read_from_a_run_names_the_nearest_one():
    """``model.p["oversight.punishmnt"]`` raised a bare KeyError of the name alone."""
    model = BlowbackModel(small("base", **{"map.communities": 300, "run.steps": 4}),
                          agents=False)
    with pytest.raises(KeyError, match="did you mean oversight.punishment") as err:
        model.p["oversight.punishmnt"]
    assert str(err.value).startswith("'model.p: oversight.punishmnt: ")
    with pytest.raises(KeyError, match="a section, not a parameter"):
        model.p["oversight"]
    assert model.p.get("oversight.punishmnt") is None and "oversight.punishmnt" not in model.p


def test_mesa_run_model_stops_at_the_end_and_run_refuses_a_number_of_weeks_that_is_not():
    model = BlowbackModel(small("base", **{"map.communities": 300, "run.steps": 5}))
    assert model.running
    model.run_model()
    assert (model.t, model.running) == (5, False)
    for steps in (-1, 2.5, True, "2"):
        with pytest.raises(ValueError, match="is not a number of weeks"):
            model.run(steps)


def test_a_step_replaced_by_one_that_calls_it_runs_the_same_and_is_noted():
    """A researcher changes a mechanism in a notebook: the week's step is replaced from the next
    week on, wherever the week runs it, and the run says so in what it saves."""
    from sim.core.observation import AGGREGATE
    from sim.core.state import Week
    from sim.mechanisms.m04_harm_and_news import spread

    calls: list[int] = []

    def counted(model: BlowbackModel, week: Week) -> None:
        calls.append(model.t)
        spread(model, week)

    aggregated: list[int] = []

    def aggregate(model: BlowbackModel, week: Week) -> None:
        aggregated.append(model.t)
        AGGREGATE.run(model, week)

    plain = BlowbackModel(small("contractor_unchecked"), agents=False).run(6)
    changed = BlowbackModel(small("contractor_unchecked"), agents=False).run(2)
    changed.replace_step("news spreads", counted)
    changed.replace_step("observation: cells aggregated", aggregate)
    changed.run(4)
    pd.testing.assert_frame_equal(pd.DataFrame(plain.records), pd.DataFrame(changed.records))
    assert calls == [2, 3, 4, 5] and aggregated == [2, 2, 3, 3, 4, 4, 5, 5]
    assert [what for _, what in changed.changed_by_hand] == [
        "step 'M04 harm and news: news spreads' replaced by "
        "test_a_step_replaced_by_one_that_calls_it_runs_the_same_and_is_noted.<locals>.counted",
        "step 'observation: cells aggregated' replaced by "
        "test_a_step_replaced_by_one_that_calls_it_runs_the_same_and_is_noted.<locals>.aggregate"]


def test_a_step_replaced_by_nothing_changes_the_run_and_only_that_run():
    silent = BlowbackModel(small("contractor_unchecked"), agents=False)
    silent.replace_step("news spreads", lambda model, week: None)
    silent.run(8)
    plain = BlowbackModel(small("contractor_unchecked"), agents=False).run(8)
    assert not silent.news_state.any() and plain.news_state.any()
    assert silent.records["cooperation_mean"] != plain.records["cooperation_mean"]


def test_an_unknown_step_or_a_step_that_is_no_function_is_refused():
    model = BlowbackModel(small("base"), agents=False)
    with pytest.raises(ValueError, match=r"^'news spread': no step of the week has that name "
                                         r"\(did you mean 'news spreads'\?\); allowed: "
                                         r"'a new week', 'dated events'"):
        model.replace_step("news spread", lambda model, week: None)
    with pytest.raises(TypeError, match=r"^run: None cannot replace a step; allowed: a function"):
        model.replace_step("news spreads", None)
    assert model.changed_by_hand == [] and model.week_steps is BlowbackModel.week_steps


def test_withdraw_refuses_a_name_that_is_no_partner():
    """``model.withdraw("Partner")`` withdrew the contractor, whatever the name said, and set an
    attribute ``Partner_present`` that nothing reads."""
    model = BlowbackModel(small("contractor_unchecked", **{"map.communities": 300,
                                                           "run.steps": 4}), agents=False)
    active = model.forces.active.copy()
    for name in ("Partner", "contractor", "UN", None):
        with pytest.raises(ValueError, match=r"^partner: .* allowed: 'partner' or 'un'") as err:
            model.withdraw(name)
        assert "\n" not in str(err.value)
    assert model.contractor_present and (model.forces.active == active).all()
    assert "Partner_present" not in vars(model) and model.changed_by_hand == []


def test_an_arrival_or_a_departure_made_by_hand_is_noted_and_a_partners_exit_is_not():
    """``model.withdraw_contractor()`` and the other arrivals and departures changed the run,
    but its saved provenance said that the scenario and seed redo it."""
    model = BlowbackModel(small("contractor_unchecked", **{"map.communities": 300,
                                                           "run.steps": 6}), agents=False)
    model.run(2)
    model.withdraw_contractor()
    model.withdraw("un")
    model.run(1)
    model.deploy_contractor(3, 100.0)
    assert model.changed_by_hand == [(2, "withdraw_contractor()"), (2, "withdraw('un')"),
                                     (3, "deploy_contractor(3, 100.0)")]
    leaving = BlowbackModel(small("contractor_unchecked", **{
        "map.communities": 300, "run.steps": 3, "partner.exit_threshold": 1.0}), agents=False)
    leaving.run()
    assert [what.split(":")[0] for _, what in leaving.event_log] == ["partner forces withdraw"]
    assert not leaving.partner_present and leaving.changed_by_hand == []


def test_an_arrival_by_hand_checks_its_arguments_and_refuses_an_actor_already_there():
    """``model.deploy_contractor(-1, 100.0)`` failed in numpy ("negative dimensions are not
    allowed"), and ``deploy_contractor`` or ``deploy_partner`` with the actor already deployed
    did nothing, in silence, and was noted as a change."""
    from sim.core.messages import ScenarioError

    model = BlowbackModel(small("contractor_unchecked", **{"map.communities": 300,
                                                           "run.steps": 4}), agents=False)
    rows = len(model.forces)
    with pytest.raises(ValueError, match=r"^deploy_contractor: a contractor is already "
                                         r"deployed.*allowed: withdraw_contractor\(\) first"):
        model.deploy_contractor(3, 100.0)
    with pytest.raises(ValueError, match=r"^deploy_partner: the partner is already deployed"):
        model.deploy_partner()
    model.withdraw_contractor()
    for units, strength, where in ((-1, 100.0, "units"), ("3", 100.0, "units"),
                                   (2.5, 100.0, "units"), (3, -5.0, "strength"),
                                   (3, float("nan"), "strength")):
        with pytest.raises(ScenarioError, match=rf"^deploy_contractor: {where}: .*allowed: ") \
                as err:
            model.deploy_contractor(units, strength)
        assert "\n" not in str(err.value)
    assert len(model.forces) == rows and not model.contractor_present
    assert model.changed_by_hand == [(0, "withdraw_contractor()")]
    model.deploy_contractor(2, 120.0)
    assert len(model.forces) == rows + 2 and model.contractor_present


def test_the_seed_and_the_length_of_a_built_run_cannot_be_assigned():
    """``model.seed = 7`` kept the map and the actors of seed 1 and drew every later week from
    seed 7, and ``model.steps_total = 8`` ran past the scenario's end: a saved run's provenance
    named the scenario's seed and length, and noted neither change."""
    model = BlowbackModel(small("base", **{"map.communities": 300, "run.steps": 4}),
                          agents=False)
    for name, value, allowed in (("seed", 7, "Sim(seed=N)"), ("steps_total", 8, "Sim(steps=N)")):
        with pytest.raises(AttributeError, match=rf"^{name}: .*allowed: .*{re.escape(allowed)}"):
            setattr(model, name, value)
    assert (model.seed, model.steps_total) == (1, 4) and model.changed_by_hand == []
    assert copy.deepcopy(model).seed == pickle.loads(pickle.dumps(model)).seed == 1
    assert model.run().t == 4


def test_the_models_own_state_set_by_hand_between_weeks_is_noted():
    """``model.legitimacy = 0.9`` or ``model.relationship["partner"] = 0.1`` between weeks moved
    the run, and its saved provenance said that the scenario and seed redo it; the values the
    week's own steps set are not changes by hand."""
    spec = small("contractor_unchecked", **{"map.communities": 300, "run.steps": 8})
    untouched = BlowbackModel(spec, agents=False).run()
    assert untouched.changed_by_hand == []
    model = BlowbackModel(spec, agents=False)
    model.run(2)
    legitimacy, relationship = float(model.legitimacy), model.relationship["partner"]
    model.legitimacy = 0.9
    model.relationship["partner"] = 0.1
    model.run(1)
    model.budget = model.budget
    model.run(1)
    assert model.changed_by_hand == [
        (2, f"legitimacy = 0.9 (the week before left {legitimacy!r})"),
        (2, f"relationship['partner'] = 0.1 (the week before left {relationship!r})")]
