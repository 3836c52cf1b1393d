"""Conduct is chosen: restraint and effort follow from institutions, through incentives."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import small

from sim.core.model import BlowbackModel
from sim.core.parameters import defaults
from sim.core.state import CONTRACTOR, PARTNER, STATE, Forces
from sim.mechanisms.conduct import (
    GUARD,
    OFFENSIVE,
    POSTURES,
    PROTECT,
    Beliefs,
    choose_conduct,
    learn_from_oversight,
    logit_mean,
    restraint_costs,
    valuations,
)

SEEDS = (1, 2, 3)


def _units(kinds) -> Forces:
    forces = Forces.empty()
    for kind in kinds:
        forces.add(kind, np.array([0]), 100.0, 1.0, 0.8, 2)
    return forces


def _choose(forces, announced, p=None):
    p = p or defaults()
    beliefs = Beliefs(np.asarray(announced, dtype=float), p["conduct.penalty"],
                      p["conduct.prior_weight"], p["conduct.temperature"])
    choose_conduct(forces.view(), beliefs, restraint_costs(p, np.ones(3)), valuations(p))


def test_the_likelier_punishment_the_more_restraint():
    restraint = []
    for chance in (0.0, 0.1, 0.3, 0.6):
        forces = _units([STATE])
        _choose(forces, [chance, 0.0, 0.0])
        restraint.append(forces.restraint[0])
    assert np.all(np.diff(restraint) > 0)
    assert restraint[0] < 0.3 and restraint[-1] > 0.8


def test_restraint_sets_discipline_and_discrimination_within_skill():
    forces = _units([STATE, STATE])
    forces.skill[1] = 0.4
    _choose(forces, [0.3, 0.0, 0.0])
    assert np.array_equal(forces.discipline, forces.restraint)
    assert forces.discrimination[0] > forces.discrimination[1]
    assert (forces.discrimination <= forces.skill).all()


def test_seen_punishments_move_belief_and_restraint():
    """Two state units under the same announced rules: the one that has seen its abuses
    punished restrains itself more than the one that has seen them go unpunished."""
    forces = _units([STATE, STATE])
    own_abuses = np.array([4.0, 4.0])
    own_punished = np.array([4.0, 0.0])
    learn_from_oversight(forces.view(), own_abuses, own_punished, np.zeros((3, 2)), 1.0, 8,
                         0.98)
    _choose(forces, [0.1, 0.0, 0.0])
    assert forces.restraint[0] > forces.restraint[1] + 0.2


def test_joint_operations_teach_state_units_the_contractors_impunity():
    """A state unit with contractor teams that abuse unpunished in its area of operations sees
    their impunity too; one beyond its reach does not."""
    forces = Forces.empty()
    forces.add(STATE, np.array([0, 40]), 100.0, 1.0, 0.8, 2)  # cells (0, 0) and (0, 5)
    forces.add(CONTRACTOR, np.array([2]), 100.0, 1.0, 0.8, 12)  # cell (2, 0), on a width of 8
    peers = np.zeros((3, 2))
    peers[STATE] = (1.0, 0.5)
    peers[CONTRACTOR] = (5.0, 0.0)
    learn_from_oversight(forces.view(), np.zeros(3), np.zeros(3), peers, 1.0, 8, 0.98)
    _choose(forces, [0.2, 0.0, 0.0])
    assert forces.seen_abuses[0] > forces.seen_abuses[1]
    assert forces.restraint[0] < forces.restraint[1]


def test_a_contractor_paid_in_mines_outside_the_chain_guards_them():
    p = defaults() | {"contractor.concessions": 1.0, "contractor.in_chain_of_command": False}
    forces = _units([CONTRACTOR, STATE, PARTNER])
    _choose(forces, [0.1, 0.1, 0.1], p)
    assert forces.guard[0] > 0.2 and forces.guard[1] < forces.guard[0] / 4
    assert forces.protect[0] < forces.protect[1]
    commanded = _units([CONTRACTOR, STATE])
    _choose(commanded, [0.1, 0.1, 0.1], p | {"contractor.in_chain_of_command": True})
    assert commanded.guard[0] == commanded.guard[1]
    assert valuations(p)[CONTRACTOR, GUARD] > valuations(p)[CONTRACTOR, PROTECT]
    paid = p | {"contractor.pay_per_result": 1.0}
    assert valuations(paid)[CONTRACTOR, OFFENSIVE] > valuations(p)[CONTRACTOR, OFFENSIVE]
    full_pay = np.ones(3)
    assert restraint_costs(paid, full_pay)[CONTRACTOR] > restraint_costs(p, full_pay)[CONTRACTOR]


def test_unpaid_units_restrain_themselves_less():
    p = defaults()
    costs = restraint_costs(p, np.array([0.4, 1.0, 1.0]))
    assert costs[STATE] > costs[PARTNER]
    paid, unpaid = _units([STATE]), _units([STATE])
    _choose(paid, [0.3, 0.0, 0.0])
    beliefs = Beliefs(np.array([0.3, 0.0, 0.0]), p["conduct.penalty"], p["conduct.prior_weight"],
                      p["conduct.temperature"])
    choose_conduct(unpaid.view(), beliefs, costs, valuations(p))
    assert unpaid.restraint[0] < paid.restraint[0] - 0.1


def _mean(column: str, kind: int):
    def metric(model):
        rows = model.forces.kind == kind
        return float(getattr(model.forces, column)[rows].mean())
    return metric


def _paired(name, metric, low, high):
    out = []
    for changes in (low, high):
        out.append(np.array([metric(BlowbackModel(small(name, **changes, **{"run.seed": s}),
                                                  agents=False).run()) for s in SEEDS]))
    return out


def test_the_same_contractor_behaves_better_under_accountable_institutions():
    """Both regime files hire the same contractor; what differs is the chain of command, the
    contract and oversight, and the contractor's restraint follows."""
    unchecked, accountable = (
        np.array([_mean("restraint", CONTRACTOR)(
            BlowbackModel(small(name, **{"run.seed": s}), agents=False).run()) for s in SEEDS])
        for name in ("contractor_unchecked", "contractor_accountable"))
    assert (accountable > unchecked + 0.1).all()


def test_state_restraint_erodes_beside_an_unpunished_contractor():
    """State units are well overseen, the contractor is beyond the reach of justice: what state
    units see of the teams in their area lowers their restraint.  (Where the state's own abuses
    go unpunished too, as in the unchecked regime's file, its units are already at the least
    restraint they choose, and the teams' example adds little.)"""
    setting = {"oversight.investigation": 0.6, "oversight.punishment": 0.6,
               "contractor.oversight_reach": 0.0}
    alone, joint = _paired("contractor_unchecked", _mean("restraint", STATE),
                           setting | {"conduct.joint_learning": 0.0},
                           setting | {"conduct.joint_learning": 1.0})
    assert (joint < alone - 0.01).all()


def test_the_logit_over_postures_is_the_direct_sum():
    """The geometric series of :func:`logit_mean` equals the plain logit average over the
    postures, on either side of indifference and far from it (no overflow)."""
    postures = np.linspace(0.0, 1.0, POSTURES)
    for slope, temperature in ((-3.0, 0.5), (0.0, 0.5), (0.7, 0.5), (900.0, 0.01),
                               (-900.0, 0.01)):
        u = slope * postures / temperature
        w = np.exp(u - u.max())
        assert logit_mean(slope, temperature) == pytest.approx((w * postures).sum() / w.sum())
