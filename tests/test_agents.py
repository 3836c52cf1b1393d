"""The Mesa agents as a notebook uses them: what they accept, refuse, and say once stale."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

from conftest import small

from sim.core.model import BlowbackModel


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
