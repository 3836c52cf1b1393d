"""An ensemble's runs are the runs made alone, to the last bit, compiled and in plain Python."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import small, without_jit

from sim.core.ensemble import Ensemble, EnsembleError
from sim.core.model import BlowbackModel
from sim.core.scenario import default_scenario
from sim.core.week import WEEK

TINY = {"map.communities": 400, "map.width": 32, "map.height": 24, "insurgents.bands": 16,
        "state.units": 12}
COLUMNS = ("population", "displaced", "cooperation", "support", "grievance", "memory",
           "insurgent_memory", "fear")


def _scenarios(steps: int) -> list:
    """Two regimes on two seeds: common random numbers across regimes, streams across seeds.
    Neighbours copy a contractor readily, so that the runs' draws for it are taken."""
    return [small(name, **TINY, **{"run.steps": steps, "run.seed": seed, "region.diffusion": 0.2})
            for name in ("contractor_unchecked", "partner_led") for seed in (1, 2)]


def test_a_step_runs_together_in_the_week():
    assert any(step.together is not None for step in WEEK)


def test_every_run_of_an_ensemble_is_the_run_made_alone():
    scenarios = _scenarios(40)
    ensemble = Ensemble(scenarios).run()
    assert ensemble.t == 40
    copied = [m.records["neighbour_states_with_contractors"][-1] for m in ensemble.models]
    assert 0 < copied[0] != copied[1], copied
    for scenario, model in zip(scenarios, ensemble.models, strict=True):
        alone = BlowbackModel(scenario, agents=False).run()
        pd.testing.assert_frame_equal(pd.DataFrame(model.records), pd.DataFrame(alone.records),
                                      check_exact=True)
        for column in COLUMNS:
            np.testing.assert_array_equal(getattr(model.communities, column),
                                          getattr(alone.communities, column), err_msg=column)


def test_an_ensembles_clock_times_every_step_and_the_records_and_changes_no_number():
    timed = Ensemble(_scenarios(6))
    timed.clock = {}
    timed.run()
    assert set(timed.clock) == {step.label for step in WEEK} | {"record"}
    assert all(seconds > 0 for seconds in timed.clock.values())
    untimed = Ensemble(_scenarios(6)).run()
    for one, other in zip(timed.models, untimed.models, strict=True):
        pd.testing.assert_frame_equal(pd.DataFrame(one.records), pd.DataFrame(other.records),
                                      check_exact=True)


def test_the_runs_read_and_write_rows_of_the_ensembles_tables():
    ensemble = Ensemble(_scenarios(3))
    ensemble.models[2].communities.cooperation[5] = 0.25
    assert ensemble.communities.cooperation[2, 5] == 0.25
    assert ensemble.communities.cooperation.shape == (4, 400)


def test_a_run_whose_array_was_replaced_is_refused_by_name():
    ensemble = Ensemble(_scenarios(3))
    ensemble.models[1].communities.fear = np.zeros(400)
    with pytest.raises(RuntimeError, match="run 1's communities.fear"):
        ensemble.step()


def test_runs_of_different_sizes_cannot_be_advanced_together():
    with pytest.raises(EnsembleError, match="must share map.communities, map.width"):
        Ensemble([small(**TINY), small(**(TINY | {"map.communities": 300}))])
    with pytest.raises(EnsembleError, match="at least one"):
        Ensemble([])


def test_an_ensemble_in_plain_python_matches_compiled():
    plain = without_jit(
        "import json, sys\n"
        "from test_ensemble import _scenarios\n"
        "from sim.core.ensemble import Ensemble\n"
        "e = Ensemble(_scenarios(5)).run()\n"
        "json.dump([m.communities.cooperation.tolist() + m.records['recruits'] "
        "for m in e.models], sys.stdout)\n")
    compiled = Ensemble(_scenarios(5)).run()
    for values, model in zip(plain, compiled.models, strict=True):
        expected = model.communities.cooperation.tolist() + model.records["recruits"]
        np.testing.assert_array_equal(np.asarray(values), np.asarray(expected))


def test_many_runs_asked_to_go_together_without_a_way_to_are_refused():
    from sim.experiments.runs import run_many

    with pytest.raises(ValueError, match="ensemble=4 needs a `together` function"):
        run_many([(_scenarios(2)[0], 1, 2)], ensemble=4)


def test_the_runs_an_ensemble_may_hold_shrink_with_the_map_and_the_weeks():
    from sim.core.ensemble import MOST_BYTES, most_runs

    default = dict(default_scenario().params)
    # The sizes the benchmarks advance together fit at the default size...
    assert most_runs(default) >= 64
    # ...fewer on a larger map or a longer run, and always one.
    assert most_runs(default | {"map.communities": 40_000}) < most_runs(default)
    assert most_runs(default | {"run.steps": 5_200}) < most_runs(default)
    assert most_runs(default | {"map.communities": 10**9}) == 1
    assert most_runs(default) * 3_000_000 <= MOST_BYTES


def test_a_run_of_an_ensemble_with_a_step_replaced_is_refused():
    """The ensemble runs the week's steps for all its runs: a step one of them replaced by hand
    would be skipped without a word."""
    ensemble = Ensemble(_scenarios(2))
    ensemble.models[1].replace_step("news spreads", lambda model, week: None)
    with pytest.raises(RuntimeError, match="step replaced by hand"):
        ensemble.step()
