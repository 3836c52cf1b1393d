"""The Mesa agents as a notebook uses them: what they accept, refuse, and say once stale."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import pytest
from conftest import small

from sim.core.model import BlowbackModel
from sim.world.agents import Community


def _model(steps: int = 4) -> BlowbackModel:
    return BlowbackModel(small("contractor_unchecked", **{"run.steps": steps}))


def test_agents_made_after_a_copy_or_unpickling_keep_unique_ids():
    """Mesa says unique_id is unique within a model; a copied model numbered its new agents
    from 1 again, beside the agents it brought."""
    model = BlowbackModel(small("base", **{"run.steps": 4}))
    for other in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        other.deploy_contractor(3, 100.0)
        assert len(other.agents) == len(model.agents) + 3
        counts = Counter(agent.unique_id for agent in other.agents)
        assert max(counts.values()) == 1


def test_a_communitys_civilian_deaths_cannot_be_written():
    """A write to the dict changed only a copy, and the model went on as if nothing was said."""
    village = list(_model().agents_by_type[Community])[3]
    deaths = village.civilian_deaths
    with pytest.raises(TypeError, match="read-only"):
        deaths["state"] = 5.0
    with pytest.raises(TypeError, match="read-only"):
        deaths.update(state=5.0)
    assert dict(deaths) == village.civilian_deaths
    assert pickle.loads(pickle.dumps(deaths)) == deaths
