"""Extreme settings that must still finish with sensible numbers: nobody to fight, nobody to
fight them, one village, every parameter at each end of its range, fifty years, and (marked
slow, run with ``pytest -m slow``) a million communities."""

from __future__ import annotations

import datetime

import numpy as np
import pytest
from test_properties import assert_outputs, assert_sound

from sim.core.model import BlowbackModel
from sim.core.parameters import PARAMETERS
from sim.core.scenario import default_scenario

SMALL = {"map.communities": 150, "run.steps": 30}
# Parameters that make the world (run.*, map.*) are varied separately: their ends are sizes.
BEHAVIOUR = [p for p in PARAMETERS if p.name.split(".")[0] not in ("run", "map")]
PRESENT = {"contractor.present": True, "partner.present": True, "un.present": True}


def _run(**overrides) -> BlowbackModel:
    """A run checked at every step; returns the finished model, its outputs checked too."""
    model = BlowbackModel(default_scenario().with_overrides(**overrides), agents=False)
    initial = model.communities.initial_population.sum()
    while model.t < model.steps_total:
        model.step()
        assert_sound(model, initial)
    assert_outputs(model)
    return model


def _total(model: BlowbackModel, series: str) -> float:
    return float(np.sum(model.records[series]))


def test_no_insurgents_means_no_fighting_and_no_insurgent_violence():
    model = _run(**SMALL, **PRESENT, **{"insurgents.bands": 0})
    assert _total(model, "insurgent_strength") == 0
    assert _total(model, "recruits") == 0 and _total(model, "combatant_deaths") == 0
    assert _total(model, "civilian_deaths_insurgent") == 0


def test_no_forces_means_no_deaths_by_forces_and_insurgents_keep_their_ground():
    model = _run(**SMALL, **{"state.units": 0})
    for series in ("civilian_deaths_state", "civilian_deaths_contractor",
                   "civilian_deaths_partner", "abuses"):
        assert _total(model, series) == 0, series
    assert np.isnan(model.records["state_discrimination"]).all()
    assert model.records["insurgent_strength"][-1] > 0


def test_one_community_holds_everyone():
    model = _run(**{**SMALL, **PRESENT, "map.communities": 1})
    c = model.communities
    assert len(c) == 1
    assert c.population[0] + c.displaced[0] + c.dead[0].sum() == pytest.approx(
        model.p["map.population"], rel=1e-12)


@pytest.mark.parametrize("population", [1.0, 2e9])
def test_one_person_and_two_billion_people(population):
    model = _run(**SMALL, **{"map.population": population})
    assert model.communities.initial_population.sum() == pytest.approx(population, rel=1e-9)


@pytest.mark.parametrize("end", ["low", "high"])
@pytest.mark.parametrize("flags", [False, True])
def test_every_parameter_at_the_same_end_of_its_range(end, flags):
    """All at once: 10,000 units of every force against 10,000 bands at full lethality, or
    nothing at all; every actor present or none."""
    values = {p.name: getattr(p, end) for p in BEHAVIOUR if p.type in (int, float)}
    values |= {p.name: flags for p in BEHAVIOUR if p.type is bool}
    _run(**{**SMALL, "run.steps": 6}, **values)


def _ends() -> list[tuple[str, object]]:
    cases = []
    for p in PARAMETERS:
        if p.type is bool:
            cases.append((p.name, not p.default))
        elif p.type in (int, float):
            cases += [(p.name, p.low), (p.name, p.high)]
    return cases


@pytest.mark.parametrize(("name", "value"), _ends(), ids=[f"{n}={v}" for n, v in _ends()])
def test_each_parameter_alone_at_each_end(name, value):
    """One at a time, with every actor present so that every mechanism runs.  The world's
    largest sizes (2 million communities, a 1024-cell side, 100 years) are tried at a smaller
    scale here and at full scale in the slow test and the fifty-year test."""
    capped = {"map.communities": 2000, "map.width": 256, "map.height": 256, "run.steps": 12}
    if name in capped:
        value = min(value, capped[name])
    _run(**{**SMALL, "run.steps": 6, **PRESENT, name: value})


def test_fifty_years_stay_sound_at_every_step():
    model = _run(**{"map.communities": 300, "run.steps": 52 * 50})
    assert len(model.records["step"]) == 2600
    # The model's date stays on the run's last week once it has ended.
    assert model.date == model.scenario_spec.end_date() \
        == model.scenario_spec.start_date() + datetime.timedelta(weeks=2599)


@pytest.mark.slow
def test_a_million_communities():
    model = _run(**{"map.communities": 1_000_000, "run.steps": 520}, **PRESENT)
    assert len(model.communities) == 1_000_000
