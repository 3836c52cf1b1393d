"""Conduct: each armed unit chooses its restraint and where its effort goes, from its incentives.

The regimes differ in institutions (who is hired, chain of command, contract terms, oversight);
how units then behave follows from what those institutions make worth doing.  Two choices a
week, both a logit (quantal response) over perceived payoffs with one temperature, the
bounded rationality of commanders who weigh payoffs roughly:

* **Restraint** r on the grid 0, 1/4, ..., 1.  Restraint costs the unit tempo, safety and, for
  a contractor paid per result, pay, and more for a unit not paid in full (M7), which could
  loot instead: ``C`` a week at full restraint.  Its absence risks
  punishment: an abuse costs ``penalty x q``, where q is the chance the unit expects an abuse
  to be punished.  U(r) = -C r - penalty q (1 - r).  q is learned: a belief that starts at the
  chance the rules in force announce (documentation x investigation x punishment x reach, M6)
  with the weight of ``conduct.prior_weight`` abuses, and moves with the abuses the unit has
  seen and the punishments that followed, its own and the average of units like it; a state
  unit with contractor teams in its area of operations (within its reach) also sees theirs
  ("joint operations"), so impunity next door teaches impunity.  Seen counts fade by
  ``conduct.memory`` a week.
* **Effort** over offensive operations, protecting people and guarding mines.  The state and
  the partner value the mission (1) and protection (their ``protect_mandate``).  A contractor
  values what its contract pays: results, and, when paid in concessions, the mines it holds.
  Inside the chain of command it takes the host's orders, so it weighs the host's values
  instead.

Restraint sets discipline (M2's atrocity risk) and discrimination = skill x (1/2 + r/2): the
share of force a unit aims at combatants, of what its training allows.  Effort sets where a unit
deploys (M1) and the share of its force that goes into operations (M2): guarding a mine is not
fighting.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import CONTRACTOR, PARTNER, STATE, ForcesView
from sim.core.summation import sum_of_kind
from sim.mechanisms.m06_oversight import announced_chances

PARAMETERS = (
    Param("conduct.penalty", 6.0, 0.0, 1000.0, "weeks of restraint",
          "what a punishment costs a unit, in weeks of full restraint's cost", kind="behaviour"),
    Param("conduct.temperature", 0.5, 0.01, 10.0, "payoff",
          "spread of the logit choice: 0 would be best replies, large values random conduct",
          kind="behaviour"),
    Param("conduct.prior_weight", 5.0, 0.0, 1000.0, "abuses",
          "weight of the announced rules in a unit's belief, in abuses seen", kind="behaviour"),
    Param("conduct.memory", 0.98, 0.0, 1.0, "1/week", "share of what a unit has seen kept a week",
          kind="behaviour"),
    Param("conduct.unpaid_cost", 1.0, 0.0, 100.0, "weeks of restraint",
          "what restraint costs a unit that is not paid (what looting is worth to it), on top "
          "of its usual cost, in weeks of full restraint's cost", kind="behaviour"),
    Param("conduct.joint_learning", 1.0, 0.0, 1.0, "weight",
          "weight a state unit gives to the abuses and punishments of contractor teams in its "
          "area of operations (within its reach)", kind="behaviour"),
    Param("state.protect_mandate", 0.8, 0.0, 10.0, "payoff",
          "value the host's command puts on protecting people, against 1 for offensives",
          kind="institution"),
    Param("partner.protect_mandate", 0.8, 0.0, 10.0, "payoff",
          "value the partner's command puts on protecting people, against 1 for offensives",
          kind="institution"),
    Param("contractor.pay_per_result", 0.0, 0.0, 1.0, "share",
          "share of the contractor's pay tied to results (kills) rather than to time",
          kind="institution"),
)
OUTCOMES = (
    Outcome("state_restraint", "state restraint", "0-1", share=True),
    Outcome("contractor_restraint", "contractor restraint", "0-1", share=True),
    Outcome("contractor_guarding", "contractor effort on mines", "share", share=True),
)

# Restraint's postures: 0, 1/4, ..., 1, equally spaced (the model's assumption: five suffice).
POSTURES = 5
# Share of its skill an unrestrained unit still aims at combatants: the model's assumption.
UNRESTRAINED_AIM = 0.5
# Value to a contractor of holding its mines, per unit of its price paid in concessions,
# against 1 for the mission its client asks of it: the model's assumption.
STAKE_VALUE = 1.0
OFFENSIVE, PROTECT, GUARD = range(3)

Beliefs = namedtuple("Beliefs", "announced penalty prior_weight temperature")


@njit(cache=kernel_cache.CACHE)
def logit_mean(slope, temperature):
    """Mean restraint over the postures r_j = j / (POSTURES - 1) under logit weights
    exp(slope r_j / temperature).  The postures are equally spaced, so the weights form a
    geometric series: one ``exp`` a unit, its ratio at most 1 so that nothing overflows."""
    step = 1.0 / (POSTURES - 1)
    ratio = math.exp(-abs(slope) * step / temperature)
    num = 0.0
    den = 0.0
    w = 1.0
    for j in range(POSTURES):
        # The heaviest posture first: r = 0 when restraint costs more than it saves, else r = 1.
        r = j * step if slope < 0.0 else 1.0 - j * step
        num += w * r
        den += w
        w *= ratio
    return num / den


@njit(cache=kernel_cache.CACHE)
def effort_shares(values, temperature):
    """Each kind's shares of effort (offensive, protect, guard): a logit over the values its
    institutions give each use, the same for every unit of the kind."""
    shares = np.empty_like(values)
    for k in range(values.shape[0]):
        top = max(values[k, OFFENSIVE], values[k, PROTECT], values[k, GUARD])
        total = 0.0
        for use in range(3):
            shares[k, use] = math.exp((values[k, use] - top) / temperature)
            total += shares[k, use]
        for use in range(3):
            shares[k, use] /= total
    return shares


@njit(cache=kernel_cache.CACHE)
def choose_conduct(units, beliefs, restraint_cost, values):
    """Each active unit's restraint and its shares of effort for the week."""
    units = ForcesView(*units)
    t = beliefs.temperature
    shares = effort_shares(values, t)
    for u in range(len(units.kind)):
        if not units.active[u]:
            continue
        k = units.kind[u]
        weight = beliefs.prior_weight + units.seen_abuses[u]
        q = beliefs.announced[k]
        if weight > 0.0:
            q = (beliefs.prior_weight * q + units.seen_punished[u]) / weight
        r = logit_mean(beliefs.penalty * q - restraint_cost[k], t)
        units.restraint[u] = r
        units.discipline[u] = r
        units.discrimination[u] = units.skill[u] * (UNRESTRAINED_AIM + (1.0 - UNRESTRAINED_AIM) * r)
        units.offensive[u] = shares[k, OFFENSIVE]
        units.protect[u] = shares[k, PROTECT]
        units.guard[u] = shares[k, GUARD]


@njit(cache=kernel_cache.CACHE)
def contractor_cells(units):
    """The cells of the active contractor teams."""
    cells = np.empty(len(units.kind), np.int64)
    n = 0
    for v in range(len(units.kind)):
        if units.kind[v] == CONTRACTOR and units.active[v]:
            cells[n] = units.cell[v]
            n += 1
    return cells[:n]


@njit(cache=kernel_cache.CACHE)
def beside_contractor(cell, reach, teams, width):
    """Whether one of the contractor teams in cells ``teams`` is within ``reach`` of a unit in
    ``cell`` (its area of operations), on a map ``width`` cells wide.  It takes the unit's cell
    and reach, not the forces' table: a call that takes a table counts a reference to each of
    its arrays in and out."""
    x, y = cell % width, cell // width
    for team in teams:
        if max(abs(team % width - x), abs(team // width - y)) <= reach:
            return True
    return False


@njit(cache=kernel_cache.CACHE)
def peer_averages(kind, active, own_abuses, own_punished):
    """``peers[k]`` = (abuses, punished) of the average active unit of kind k this week; zero
    for a kind with no active unit."""
    peers = np.zeros((3, 2))
    for k in (STATE, CONTRACTOR, PARTNER):
        abuses, n = sum_of_kind(kind, active, own_abuses, k)
        if n > 0:
            punished, _ = sum_of_kind(kind, active, own_punished, k)
            peers[k, 0] = abuses / n
            peers[k, 1] = punished / n
    return peers


@njit(cache=kernel_cache.CACHE)
def learn_from_oversight(units, own_abuses, own_punished, peers, joint, width, memory):
    """What each unit has seen of oversight this week, added to what it remembers.

    ``peers[k]`` = (abuses, punished) of the average unit of kind k this week; a state unit
    with contractor teams in its area of operations also sees their average, with weight
    ``joint``."""
    units = ForcesView(*units)
    teams = contractor_cells(units)
    for u in range(len(units.kind)):
        k = units.kind[u]
        abuses = own_abuses[u] + peers[k, 0]
        punished = own_punished[u] + peers[k, 1]
        if (k == STATE and joint > 0.0
                and beside_contractor(units.cell[u], units.reach[u], teams, width)):
            abuses += joint * peers[CONTRACTOR, 0]
            punished += joint * peers[CONTRACTOR, 1]
        units.seen_abuses[u] = memory * units.seen_abuses[u] + abuses
        units.seen_punished[u] = memory * units.seen_punished[u] + punished


def valuations(p: dict) -> np.ndarray:
    """Value of offensive operations, protection and guarding mines to each kind of force."""
    host = (1.0, float(p["state.protect_mandate"]), 0.0)
    partner = (1.0, float(p["partner.protect_mandate"]), 0.0)
    own = (1.0 + p["contractor.pay_per_result"], 0.0, STAKE_VALUE * p["contractor.concessions"])
    command = float(p["contractor.in_chain_of_command"])
    # Plain floats: numpy's arithmetic costs more than it saves on rows of three.
    contractor = tuple(command * h + (1.0 - command) * o for h, o in zip(host, own, strict=True))
    values = np.empty((3, 3))
    values[STATE], values[CONTRACTOR], values[PARTNER] = host, contractor, partner
    return values


def restraint_costs(p: dict, pay_share: np.ndarray) -> np.ndarray:
    """A week of full restraint's cost to each kind: 1; for a contractor paid per result what
    restraint costs it in results (a contractor in the chain of command is paid as the host's
    units are); and for units not paid in full (M7's ``pay_share``), what looting would bring."""
    per_result = 0.0 if p["contractor.in_chain_of_command"] else p["contractor.pay_per_result"]
    unpaid = p["conduct.unpaid_cost"]
    return np.array([base + unpaid * (1.0 - min(max(share, 0.0), 1.0))
                     for base, share in zip((1.0, 1.0 + per_result, 1.0), pay_share.tolist(),
                                            strict=True)])


def choose(model, week) -> None:
    """Every unit weighs its incentives for the week."""
    p = model.p
    beliefs = Beliefs(announced_chances(model), p["conduct.penalty"], p["conduct.prior_weight"],
                      p["conduct.temperature"])
    choose_conduct(model.forces.view(), beliefs, restraint_costs(p, model.pay_share),
                   valuations(p))


def learn(model, week) -> None:
    """Every unit takes in the week's abuses and what oversight did about them."""
    f, review = model.forces, week.review
    peers = peer_averages(f.kind, f.active, review.unit_abuses, review.unit_punished)
    learn_from_oversight(f.view(), review.unit_abuses, review.unit_punished, peers,
                         model.p["conduct.joint_learning"], model.world.width,
                         model.p["conduct.memory"])


def record(model, week) -> None:
    """Mean restraint of state units and contractor teams, and the teams' effort on mines."""
    f = model.forces
    week.row["state_restraint"] = f.active_mean(f.restraint, STATE)
    week.row["contractor_restraint"] = f.active_mean(f.restraint, CONTRACTOR)
    week.row["contractor_guarding"] = f.active_mean(f.guard, CONTRACTOR)


MECHANISM = Mechanism("conduct", "conduct chosen from incentives", PARAMETERS, OUTCOMES,
                      kernels=(choose_conduct, peer_averages, learn_from_oversight), record=record)
CHOOSE = Step(MECHANISM, "units choose restraint and effort", choose)
LEARN = Step(MECHANISM, "units learn from oversight", learn)
