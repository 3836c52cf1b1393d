"""What the kernels and the models agree on: purposes of draws, codes, slots and the arrays.

Codes of kinds, states and groups; the slots of the parameter vectors handed to the kernels and
of the counters they return; the columns of the agent tables and the layers of the count field;
and the named tuples that carry a model's state and neighbourhoods into the kernels
(:mod:`sim.classics.epstein.kernels`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from sim.core.rng import purpose

# Purposes of draws, derived from their names (sim.core.rng.purpose), as the conflict model's are.
PLACE = purpose("epstein.place")
HARDSHIP = purpose("epstein.hardship")
RISK_AVERSION = purpose("epstein.risk_aversion")
ORDER = purpose("epstein.order")
ARREST_PICK = purpose("epstein.arrest_pick")
JAIL_TERM = purpose("epstein.jail_term")
MOVE = purpose("epstein.move")
RELEASE = purpose("epstein.release")
KILL_PICK = purpose("epstein.kill_pick")
GROUP_DRAW = purpose("epstein.group_draw")
AGE_DRAW = purpose("epstein.age_draw")
FISSION = purpose("epstein.fission")
BIRTH_CELL = purpose("epstein.birth_cell")
COP_ADJUST = purpose("epstein.cop_adjust")

CITIZEN = 0
COP = 1
QUIET = 0
ACTIVE = 1
JAILED = 2
DEAD = 3
BLUE = 0
GREEN = 1

RATIOS = {"continuous": 0, "floor": 1, "round": 2}
JAIL_MODES = ("stay", "leave")
# Mesa's names: "Random" is its shuffle_do (and Epstein's random sequential activation),
# "Sequential" its do, in the order the agents were created (cell by cell).
ACTIVATION_ORDERS = ("Random", "Sequential")
# An unbounded jail term (the paper's J_max = infinity) as a count that never runs out.
FOREVER = 1 << 62

# Slots of the integer and float parameter vectors handed to the kernel.
(I_MOVEMENT, I_COP_MOVEMENT, I_LEAVE, I_ETHNIC, I_JAIL_MAX, I_DEATH_AGE, I_RATIO,
 I_SAME_VISION, I_SEQUENTIAL) = range(9)
# F_TABLE on: P = 1 - exp(-k r) for r = 0, 1, ... up to the cells in vision.
F_LEGIT_BLUE, F_LEGIT_GREEN, F_THRESHOLD, F_K, F_FISSION, F_TABLE = range(6)
# Slots of the per-step counters the kernel returns.
(O_ACTIVE, O_QUIET, O_JAILED, O_COPS, O_ACTIVATIONS, O_ARRESTS, O_BLUE, O_GREEN, O_BLUE_ACTIVE,
 O_GREEN_ACTIVE, O_BLUE_KILLED, O_GREEN_KILLED, O_BIRTHS, O_DEATHS) = range(14)
N_OUT = 14

# Columns of the agent tables: one int64 table and one float64 table, one row per agent slot.
# Two tables rather than ten arrays because numba reference-counts every array argument of
# every call, and the per-agent calls of the step would pay that dozens of times per agent; a
# row per agent because agents act in random order and a row keeps one agent's numbers together.
KIND, GROUP, STATE, Y, X, JAIL, AGE = range(7)
HARDSHIP_COL, RISK_COL, ARREST_P = range(3)
# Layers of the count field: what a citizen standing on a cell sees within its vision.
COPS_NEAR, ACTIVE_NEAR, BLUE_NEAR, GREEN_NEAR = range(4)


class State(NamedTuple):
    """The arrays a step changes.

    ``occ``: int64 ``[H, W]``, the slot of the agent on each cell, -1 where empty.  ``ag``:
    int64 ``[slots, 7]``, columns ``KIND`` .. ``AGE``.  ``af``: float64 ``[slots, 3]``, columns
    ``HARDSHIP_COL`` .. ``ARREST_P``.  ``field``: the kept count field, int32 ``[4, H, 2W]``
    (layers ``COPS_NEAR`` .. ``GREEN_NEAR``; :func:`sim.classics.neighbourhood.kept_field`).
    """

    occ: np.ndarray
    ag: np.ndarray
    af: np.ndarray
    field: np.ndarray


class Reach(NamedTuple):
    """The neighbourhoods, fixed for a model's life.

    ``rows``: the citizens' vision as row spans (footprints in the field); ``vis`` and ``cvis``:
    the citizens' and the cops' vision as offsets; ``adj``: the adjacent cells as offsets, where
    offspring go (Ascape's findRandomAvailableNeighbor).
    """

    rows: np.ndarray
    vis: np.ndarray
    cvis: np.ndarray
    adj: np.ndarray
