"""The Mesa agents as a notebook uses them: what they accept, refuse, and say once stale."""

from __future__ import annotations

import copy
import pickle
from collections import Counter

import pytest
from conftest import ROOT, small

from sim.core.model import BlowbackModel
from sim.world.agents import Community, ContractorUnit, InsurgentBand


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


@pytest.mark.parametrize(("name", "message"), [
    ("cooperaton", r"^Community has no attribute 'cooperaton' \(did you mean cooperation\?\)"),
    ("row", r"^Community.row is read-only; allowed: cooperation, displaced, grievance"),
    ("group", r"^Community.group is read-only"),
])
def test_a_community_refuses_a_name_no_kernel_reads(name, message):
    """A misspelt name became an attribute of the agent that no kernel reads, and row could be
    pointed at another community."""
    model = _model()
    village = list(model.agents_by_type[Community])[3]
    with pytest.raises(AttributeError, match=message):
        setattr(village, name, 0.9)
    with pytest.raises(AttributeError, match=message):
        model.agents_by_type[Community].set(name, 0.9)
    assert village.row == 3 and vars(village).get(name) != 0.9


def test_mesa_sets_its_own_attributes_as_it_builds_and_moves_agents():
    """Mesa 3.4+ sets ``unique_id`` once more when it registers an agent, after its constructor
    has set it to None; its spaces set ``pos``."""
    village = list(_model().agents_by_type[Community])[3]
    number = village.unique_id
    village.unique_id = number
    village.pos = (1, 2)
    assert (village.unique_id, village.pos) == (number, (1, 2))


def test_agents_that_only_read_the_model_say_so():
    model = _model()
    with pytest.raises(AttributeError, match="legitimacy is read-only; allowed: none"):
        model.government.legitimacy = 0.3
    with pytest.raises(AttributeError, match="name is read-only"):
        model.partners["un"].name = "partner"


def test_agents_have_no_step_and_cannot_be_removed():
    """ODD 2.1: the agents have no step method; Mesa's did nothing, and removing a view left
    its row in the arrays."""
    model = _model()
    village = list(model.agents_by_type[Community])[3]
    assert not hasattr(village, "step")
    with pytest.raises(AttributeError, match="the model runs the week; allowed: model.step"):
        model.agents.do("step")
    with pytest.raises(AttributeError, match="cannot be removed"):
        village.remove()
    assert village in model.agents_by_type[Community]


def test_a_unit_or_band_no_longer_there_refuses_a_write():
    """A value written to a withdrawn unit or a dissolved band went into a row no kernel reads."""
    model = _model()
    unit = next(iter(model.agents_by_type[ContractorUnit]))
    model.withdraw_contractor()
    with pytest.raises(ValueError, match=r"^strength: ContractorUnit \d+ is not active"):
        unit.strength = 200.0
    free = next(b for b in model.agents_by_type[InsurgentBand] if not b.active)
    with pytest.raises(ValueError, match=r"^strength: InsurgentBand \d+ is not active"):
        free.strength = 50.0
    assert model.bands.strength[free.row] == 0.0


def test_the_agent_of_a_dissolved_band_does_not_become_the_next_band_in_its_row():
    """A split reuses the row of a dissolved band: its agent went on reading the new band as if
    it were the old one, active again."""
    model = _model(40)
    old = next(b for b in model.agents_by_type[InsurgentBand] if b.row == 0)
    old.strength = 1.0  # below the size at which a band dissolves
    model.step()
    assert not model.bands.active[0]
    while not model.bands.active[0]:
        model.step()
    assert old.active is False
    with pytest.raises(AttributeError, match="this band dissolved, and from week"):
        _ = old.strength
    new = next(b for b in model.agents_by_type[InsurgentBand] if b.row == 0)
    assert new is not old and new.active and new.unique_id > old.unique_id
    assert new.strength == model.bands.strength[0]
    assert repr(old) == f"<InsurgentBand 0: dissolved in week {vars(old)['_gone']}>"
    assert repr(new).startswith(f"<InsurgentBand 0 faction={new.faction!r} strength=")
    assert old not in model.agents_by_type[InsurgentBand]
    assert len(model.agents_by_type[InsurgentBand]) == len(model.bands)


def test_every_agent_prints_what_it_is_and_its_state():
    """The band, partner, government and neighbour agents printed as object addresses, so a
    notebook listing them showed nothing of them."""
    model = _model()
    village = list(model.agents_by_type[Community])[3]
    assert repr(village) == (f"<Community 3 group={village.group!r} region={village.region!r} "
                             f"population={village.population:,.0f} "
                             f"cooperation={village.cooperation:.2f} "
                             f"grievance={village.grievance:.2f}>")
    government = model.government
    assert repr(government) == (f"<Government legitimacy={government.legitimacy:.2f} "
                                f"budget={government.budget:,.0f} "
                                f"sanctions={government.sanctions:.2f}>")
    partner = model.partners["un"]
    assert repr(partner) == (f"<Partner un present={partner.present} "
                             f"relationship={partner.relationship:.2f}>")
    niger = next(n for n in model.neighbours if n.name == "Niger")
    assert repr(niger) == (f"<NeighbourState Niger instability={niger.instability:.2f} "
                           f"has_contractor={niger.has_contractor}>")
    unit = next(iter(model.agents_by_type[ContractorUnit]))
    assert repr(unit).startswith(f"<ContractorUnit {unit.row} strength={unit.strength:,.0f} ")
    for agent in model.agents:
        assert " object at 0x" not in repr(agent)


def test_a_run_changed_by_hand_is_saved_with_its_changes_and_a_warning(tmp_path):
    """Sim.save wrote the scenario and seed as a provenance that redoes the run, though a hand
    had changed a parameter and a village on the way."""
    import json

    import sim

    s = sim.Sim(seed=3, steps=12, communities=400).run(4)
    s.model.p["oversight.punishment"] = 0.9
    list(s.model.agents_by_type[Community])[3].cooperation = 1.0
    s.run()
    with pytest.warns(UserWarning, match="2 changes made by hand"):
        s.save(tmp_path / "run")
    made = json.loads((tmp_path / "run" / "summary.json").read_text())["provenance"]
    assert made["changed_by_hand"] == ["week 4: model.p['oversight.punishment'] = 0.9",
                                       "week 4: Community 3: cooperation = 1.0"]
    untouched = sim.Sim(seed=3, steps=12, communities=400).run()
    untouched.save(tmp_path / "plain")
    assert "changed_by_hand" not in json.loads(
        (tmp_path / "plain" / "summary.json").read_text())["provenance"]


def test_a_scenarios_own_set_event_is_not_a_change_by_hand(tmp_path):
    """The scenario's events redo themselves: only what a hand changes is listed."""
    from sim.core.scenario import load_scenario

    path = tmp_path / "with_event.toml"
    base = (ROOT / "scenarios" / "base.toml").as_posix()
    path.write_text(f'extends = "{base}"\n[run]\nsteps = 8\n[map]\ncommunities = 400\n'
                    '[[events]]\ndate = "2022-01-24"\ntype = "set"\n'
                    'params = { "oversight.punishment" = 0.9 }\n')
    model = BlowbackModel(load_scenario(path)).run()
    assert model.p["oversight.punishment"] == 0.9 and model.changed_by_hand == []
