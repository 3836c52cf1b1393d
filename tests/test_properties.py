"""Properties of every valid scenario, drawn at random over the parameter registry's ranges.

Whatever the parameters and events, a run keeps every number finite, every share and
probability in [0, 1] and every person accounted for (alive + displaced + dead = initial) at
every step; the same seed gives the same run; compiled and plain-Python kernels agree.
Hypothesis runs derandomized with no example database, so the suite is reproducible.
"""

from __future__ import annotations

import datetime
import importlib
import pkgutil
from contextlib import ExitStack
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim.core.observation as observation_module
import sim.mechanisms
import sim.world.events as events_module
from sim.core.model import BlowbackModel
from sim.core.outcomes import NAMES as SERIES
from sim.core.parameters import PARAMETERS
from sim.core.scenario import Scenario, default_scenario, from_dict
from sim.core.state import CONTRACTOR, STATE
from sim.experiments.results import summary as summarise
from sim.world.geography import NEIGHBOURS, TOWNS

# Deterministic: the same examples on every machine and run; nothing written to .hypothesis/.
REPRODUCIBLE = dict(derandomize=True, database=None, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Counts are capped below their registry maximum (10,000 units) to keep each example short;
# tests/test_extremes.py runs every parameter at both ends of its full range.
COUNT_CAP = 60
# Series that are shares or probabilities, and series that NaN marks as "no such unit".
SHARE_SERIES = ("cooperation_mean", "grievance_mean", "support_mean", "legitimacy",
                "partner_present", "un_present", "contractor_present", "partner_relationship",
                "un_relationship", "sanctions_level", "territory_state_share")
# Means over the active units of one kind: NaN while none is active.
DISCRIMINATION = {"state_discrimination": STATE, "contractor_discrimination": CONTRACTOR,
                  "state_restraint": STATE, "contractor_restraint": CONTRACTOR,
                  "contractor_guarding": CONTRACTOR}
START = datetime.date.fromisoformat(default_scenario().params["run.start_date"])


def _value(p) -> st.SearchStrategy:
    if p.type is bool:
        return st.booleans()
    if p.type is int:
        high = min(p.high, COUNT_CAP) if p.high >= 1000 else p.high
        return st.integers(p.low, high)
    # The ends of a range are where arithmetic breaks, so they are drawn often.
    return st.one_of(st.sampled_from([p.low, p.high]),
                     st.floats(p.low, p.high, allow_nan=False, allow_infinity=False))


MAP = {
    "map.communities": st.integers(1, 400),
    "map.width": st.integers(8, 24),
    "map.height": st.integers(8, 24),
    "map.population": st.sampled_from([1.0, 1e3, 2.1e7, 2e9]),
    "map.mines": st.integers(0, 20),
}


def _event(steps: int) -> st.SearchStrategy:
    towns = [t[0] for t in TOWNS]
    settable = [p for p in PARAMETERS
                if p.name.split(".")[0] not in ("run", "map") and not p.at_start]
    kinds = st.one_of(
        st.builds(lambda u, s: {"type": "contractor_arrives", "units": u, "strength": s},
                  st.integers(0, COUNT_CAP), st.floats(0, 10_000)),
        st.just({"type": "contractor_leaves"}),
        st.builds(lambda p: {"type": "partner_arrives", "partner": p},
                  st.sampled_from(["partner", "un"])),
        st.builds(lambda p: {"type": "partner_leaves", "partner": p},
                  st.sampled_from(["partner", "un"])),
        st.builds(lambda x: {"type": "sanctions", "level": x}, st.floats(0, 1)),
        st.builds(lambda n, who: {"type": "mass_atrocity", "near": n, "perpetrator": who},
                  st.sampled_from(towns), st.sampled_from(["state", "contractor", "partner"])),
        st.builds(lambda c: {"type": "coup", "country": c},
                  st.sampled_from(["host", *NEIGHBOURS])),
        st.just({"type": "peace_agreement"}),
        st.builds(lambda n: {"type": "offensive", "near": n}, st.sampled_from(towns)),
        st.sampled_from(settable).flatmap(
            lambda p: _value(p).map(lambda v: {"type": "set", "params": {p.name: v}})),
    )
    date = st.integers(0, steps - 1).map(lambda k: START + datetime.timedelta(weeks=k))
    return st.builds(lambda d, e: {"date": d.isoformat(), **e}, date, kinds)


@st.composite
def scenarios(draw, max_steps: int = 16, max_communities: int = 400) -> Scenario:
    """A valid scenario: every parameter drawn within its range, a small map, a short run,
    and up to four events of any type."""
    steps = draw(st.integers(1, max_steps))
    values = {"run.steps": steps, "run.seed": draw(st.integers(0, 2**62))}
    values |= {name: draw(s) for name, s in MAP.items()}
    values["map.communities"] = min(values["map.communities"], max_communities)
    for p in PARAMETERS:
        if p.name.split(".")[0] not in ("run", "map") or p.name in ("map.centre_mixing",
                                                                     "map.ties"):
            values[p.name] = draw(_value(p))
    raw: dict = {}
    for name, value in values.items():
        section, key = name.split(".", 1)
        raw.setdefault(section, {})[key] = value
    raw["events"] = draw(st.lists(_event(steps), max_size=4))
    return from_dict(raw, "<hypothesis>")


def assert_sound(model: BlowbackModel, initial: float) -> None:
    """Finite state, shares in [0, 1], everyone alive, displaced or dead."""
    c, cells, f, b = model.communities, model.cells, model.forces, model.bands
    arrays = {f"communities.{k}": getattr(c, k) for k in (
        "population", "displaced", "dead", "cooperation", "support", "grievance", "memory",
        "insurgent_memory", "fear")}
    arrays |= {f"cells.{k}": getattr(cells, k) for k in (
        "population", "cooperation", "support", "grievance", "fear", "recruit_pool",
        "intelligence", "concealment", "insurgents", "forces", "force_presence",
        "insurgent_presence", "control")}
    arrays |= {"forces.strength": f.strength, "forces.discrimination": f.discrimination,
               "forces.discipline": f.discipline, "bands.strength": b.strength,
               "news_state": model.news_state, "news_insurgent": model.news_insurgent,
               "neighbour_instability": model.neighbour_instability}
    for name, values in arrays.items():
        assert np.isfinite(values).all(), f"{name} not finite at step {model.t}"
    scalars = {"legitimacy": model.legitimacy, "sanctions": model.sanctions,
               "budget": model.budget, **model.relationship}
    assert np.isfinite(list(scalars.values())).all(), scalars
    shares = {k: arrays[k] for k in (
        "communities.cooperation", "communities.support", "communities.grievance",
        "cells.control", "cells.intelligence", "cells.concealment", "forces.discrimination",
        "forces.discipline", "neighbour_instability")}
    shares |= {k: np.array([v]) for k, v in scalars.items() if k != "budget"}
    for name, values in shares.items():
        assert ((values >= 0) & (values <= 1)).all(), f"{name} outside [0, 1] at step {model.t}"
    for name in ("communities.population", "communities.dead", "bands.strength",
                 "forces.strength"):
        assert (arrays[name] >= 0).all(), f"{name} negative at step {model.t}"
    assert (c.displaced >= -1e-9 * initial).all()
    total = c.population.sum() + c.displaced.sum() + c.dead.sum()
    assert abs(total - initial) <= 1e-9 * initial, f"{total} people of {initial}"


def assert_outputs(model: BlowbackModel) -> None:
    """Finite series and summary; share series in [0, 1]."""
    df = pd.DataFrame(model.records)
    plain = [k for k in SERIES if k not in DISCRIMINATION]
    broken = [k for k in plain if not np.isfinite(df[k]).all()]
    assert broken == [], broken
    for k in SHARE_SERIES:
        assert df[k].between(0, 1).all(), f"{k}: {df[k].min()} .. {df[k].max()}"
    # NaN there says "no unit of that kind is active"; anything else must be a share.
    f = model.forces
    for k, kind in DISCRIMINATION.items():
        last = df[k].iloc[-1]
        assert np.isnan(last) == (not ((f.kind == kind) & f.active).any())
        assert df[k].dropna().between(0, 1).all()
    numbers = []
    for value in summarise(model).values():
        numbers += list(value.values()) if isinstance(value, dict) else [value]
    numbers = [v for v in numbers if isinstance(v, int | float)]
    assert np.isfinite(numbers).all()


@settings(max_examples=40, **REPRODUCIBLE)
@given(scenarios())
def test_any_valid_scenario_stays_finite_bounded_and_conserves_people(scenario):
    model = BlowbackModel(scenario, agents=False)
    initial = model.communities.initial_population.sum()
    assert_sound(model, initial)
    while model.t < model.steps_total:
        model.step()
        assert_sound(model, initial)
    assert_outputs(model)


@settings(max_examples=15, **REPRODUCIBLE)
@given(scenarios(max_steps=8, max_communities=200))
def test_the_same_seed_gives_identical_runs(scenario):
    first = BlowbackModel(scenario, agents=False).run()
    again = BlowbackModel(scenario, agents=False).run()
    pd.testing.assert_frame_equal(pd.DataFrame(first.records), pd.DataFrame(again.records),
                                  check_exact=True)
    np.testing.assert_array_equal(first.communities.cooperation, again.communities.cooperation)
    np.testing.assert_array_equal(first.communities.dead, again.communities.dead)


def _kernels() -> dict[str, object]:
    """Every compiled kernel the week and the events call, by the name they call it by."""
    found = {}
    mechanisms = [importlib.import_module(f"sim.mechanisms.{m.name}")
                  for m in pkgutil.iter_modules(sim.mechanisms.__path__)]
    for module in (observation_module, events_module, *mechanisms):
        for name, value in vars(module).items():
            if hasattr(value, "py_func"):
                found[(module, name)] = value.py_func
    return found


@settings(max_examples=6, **REPRODUCIBLE)
@given(scenarios(max_steps=4, max_communities=80))
def test_compiled_and_plain_python_kernels_agree(scenario):
    compiled = BlowbackModel(scenario, agents=False).run()
    with ExitStack() as stack:
        for (module, name), plain in _kernels().items():
            stack.enter_context(mock.patch.object(module, name, plain))
        python = BlowbackModel(scenario, agents=False).run()
    assert len(_kernels()) >= 16
    pd.testing.assert_frame_equal(pd.DataFrame(python.records), pd.DataFrame(compiled.records),
                                  check_exact=True)
    np.testing.assert_array_equal(python.communities.population,
                                  compiled.communities.population)
    np.testing.assert_array_equal(python.communities.grievance, compiled.communities.grievance)
