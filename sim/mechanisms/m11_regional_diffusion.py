"""M11 Regional diffusion: neighbours copy the contractor model; fighters, arms and violence
cross borders.

Violence near a border raises the neighbour's instability (less what arms tracking stops); a
neighbour with a contractor of its own grows less stable.  While the host has a contractor, an
unstable neighbour copies it with a chance that grows with the host's apparent short-term
success (territory gained over the last year) and the anti-partner narrative (a poor
relationship with the partners).  Fighters cross from unstable neighbours in M5's recruitment.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from sim import kernel_cache
from sim.core import rng
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import DEAD, MILITIA
from sim.core.summation import numpy_sum
from sim.mechanisms.m07_rent import lever
from sim.world import geography

PARAMETERS = (
    Param("region.diffusion", 0.01, 0.0, 1.0, "1/week",
          "base chance per week that an unstable neighbour copies the contractor model",
          kind="behaviour"),
    Param("region.spillover", 0.005, 0.0, 1.0, "1/week",
          "instability passed to neighbours by violence near their border", kind="behaviour"),
    Param("region.inflow", 1.0, 0.0, 100.0, "fighters/week per instability",
          "fighters and arms crossing into border bands from unstable neighbours",
          kind="behaviour"),
    Param("insurgents.cross_border", 0.3, 0.0, 1.0, "0-1",
          "reach of bands across borders: sanctuary and inflow from neighbours", kind="behaviour"),
)

# The model's assumptions (docs/ODD.md 7.11, "M11 Regional diffusion").
WEEKS_A_YEAR = 52  # territory gain is measured against the week a year before
ARMS_TRACKING_CUT = 0.5  # share of spill-over full arms tracking stops
BORDER_DEATHS_FULL = 10.0  # deaths a week near a border at which spill-over is full
CONTRACTOR_DESTABILISES = 0.002  # instability a week from a neighbour's own contractor
CALMING = 0.002  # share of instability that fades each week
APPARENT_BASE = 0.5  # the copy chance's factors: base and per territory share gained
APPARENT_GAIN = 5.0
NARRATIVE_BASE = 0.5
ADOPT = rng.purpose("m11.adopt")
BURKINA = geography.NEIGHBOURS.index("Burkina Faso")


@njit(cache=kernel_cache.CACHE)
def border_violence(on_border, cell_border, cell_totals, kills, neighbours):
    """Deaths of the week in the host's cells along each of the ``neighbours``, over the cells
    ``on_border``: civilians killed by the state, its contractor and partners and the armed
    groups (``cell_totals``, every perpetrator before the militias), and combatants
    (``kills``)."""
    violence = np.zeros(neighbours)
    for c in on_border:
        civilians = 0.0
        for j in range(DEAD, DEAD + MILITIA):
            civilians += cell_totals[c, j]
        violence[cell_border[c]] += civilians + kills[c]
    return violence


@njit(cache=kernel_cache.CACHE)
def update_region(seeds, step, instability, contractor, violence, spill, present, chance):
    """One week of each run's neighbours (a row of each table): their instability, and their
    choice of a contractor while the host has one (``present``), with the chance ``chance x
    instability`` (``chance`` = ``(region.diffusion, apparent success, narrative)``)."""
    for r in range(len(seeds)):
        s = instability[r]
        for k in range(len(s)):
            x = s[k] + spill[r] * min(1.0, violence[r, k] / BORDER_DEATHS_FULL)
            x = x + CONTRACTOR_DESTABILISES * contractor[r, k]
            x = x - CALMING * x
            s[k] = min(max(x, 0.0), 1.0)
        if not present[r]:
            continue
        diffusion, apparent, narrative = chance[r, 0], chance[r, 1], chance[r, 2]
        for k in range(len(s)):
            if contractor[r, k]:
                continue
            if rng.uniform(seeds[r], step, k, ADOPT, 0) < diffusion * s[k] * apparent * narrative:
                contractor[r, k] = True


def _week(model, week) -> tuple[np.ndarray, float, np.ndarray]:
    """A run's inputs to :func:`update_region`: the violence along each border, the share of it
    that spills over, and the factors of the chance of copying the contractor model."""
    history = model.territory_history
    history.append(week.row["territory_state_share"])
    gain = history[-1] - history[max(0, len(history) - 1 - WEEKS_A_YEAR)]
    relationships = np.fromiter(model.relationship.values(), float, len(model.relationship))
    relationship_mean = numpy_sum(relationships, len(relationships)) / len(relationships)
    spill = model.p["region.spillover"] * (1.0 - ARMS_TRACKING_CUT
                                           * lever(model, "arms_tracking"))
    chance = np.array([model.p["region.diffusion"], APPARENT_BASE + APPARENT_GAIN * max(0.0, gain),
                       NARRATIVE_BASE + (1.0 - relationship_mean)])
    violence = border_violence(model.border_cells, model.world.cell_border, model.cell_totals,
                               model.cells.kills, len(geography.NEIGHBOURS))
    return violence, spill, chance


def setup(model) -> None:
    """The neighbours' instability at the start; none has a contractor yet."""
    model.neighbour_instability = geography.NEIGHBOUR_INSTABILITY.copy()
    model.neighbour_contractor = np.zeros(len(geography.NEIGHBOURS), dtype=bool)
    model.territory_history = []
    # The host's cells along a border, found once: the map does not change during a run.
    model.border_cells = np.flatnonzero(model.world.cell_border >= 0)


def update(model, week) -> None:
    """Spill-over of the week's violence, and the neighbours' choice of a contractor."""
    violence, spill, chance = _week(model, week)
    update_region(np.array([model.seed]), model.t, model.neighbour_instability[None],
                  model.neighbour_contractor[None], violence[None], np.array([spill]),
                  np.array([model.contractor_present]), chance[None])


def update_together(ensemble, weeks) -> None:
    """:func:`update` for every run of an ensemble, in one kernel call."""
    models = ensemble.models
    violence, spill, chance = zip(*map(_week, models, weeks), strict=True)
    update_region(np.array([m.seed for m in models]), ensemble.t,
                  ensemble.neighbour_instability, ensemble.neighbour_contractor,
                  np.array(violence), np.array(spill),
                  np.array([m.contractor_present for m in models]), np.array(chance))


def record(model, week) -> None:
    """Neighbours that copied the contractor model, and fighters who crossed in."""
    week.row["neighbour_states_with_contractors"] = float(model.neighbour_contractor.sum())
    week.row["cross_border_inflow"] = week.crossed
    week.row["burkina_instability"] = float(model.neighbour_instability[BURKINA])


OUTCOMES = (
    Outcome("neighbour_states_with_contractors", "neighbours copying", "states",
            summary="neighbour_states_with_contractors_final", kind=int,
            shown=frozenset({"comparison"})),
    Outcome("cross_border_inflow", "cross-border inflow", "fighters/week", flow=True),
    Outcome("burkina_instability", "Burkina Faso's instability", "0-1", share=True),
)
MECHANISM = Mechanism("M11", "regional diffusion", PARAMETERS, OUTCOMES, setup=setup,
                      record=record, kernels=(border_violence, update_region))
REGION = Step(MECHANISM, "neighbours", update, together=update_together)
