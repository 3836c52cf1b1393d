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

from sim.core import rng
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import DEAD
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

# The model's assumptions (docs/ODD.md, "Region").
WEEKS_OF_A_YEAR = 53  # territory gain is measured against the week a year before
ARMS_TRACKING_CUT = 0.5  # share of spill-over full arms tracking stops
BORDER_DEATHS_FULL = 10.0  # deaths a week near a border at which spill-over is full
CONTRACTOR_DESTABILISES = 0.002  # instability a week from a neighbour's own contractor
CALMING = 0.002  # share of instability that fades each week
APPARENT_BASE = 0.5  # the copy chance's factors: base and per territory share gained
APPARENT_GAIN = 5.0
NARRATIVE_BASE = 0.5
ADOPT = rng.purpose("m11.adopt")
BURKINA = geography.NEIGHBOURS.index("Burkina Faso")


def border_violence(model) -> np.ndarray:
    """Civilian and combatant deaths of the week in host cells along each neighbour."""
    on_border = model.border_cells
    deaths = model.cell_totals[on_border, DEAD:DEAD + 4].sum(axis=1) \
        + model.cells.kills[on_border]
    return np.bincount(model.world.cell_border[on_border], weights=deaths,
                       minlength=len(geography.NEIGHBOURS)).astype(float)


def update_region(model, violence: np.ndarray, territory_gain: float,
                  relationship_mean: float) -> None:
    """One week of the neighbours' instability and of their choice of a contractor."""
    p = model.p
    s = model.neighbour_instability
    spill = p["region.spillover"] * (1.0 - ARMS_TRACKING_CUT * lever(model, "arms_tracking"))
    s += spill * np.minimum(1.0, violence / BORDER_DEATHS_FULL)
    s += CONTRACTOR_DESTABILISES * model.neighbour_contractor
    s -= CALMING * s
    np.clip(s, 0.0, 1.0, out=s)
    if not model.contractor_present:
        return
    apparent = APPARENT_BASE + APPARENT_GAIN * max(0.0, territory_gain)
    narrative = NARRATIVE_BASE + (1.0 - relationship_mean)
    for k in range(len(s)):
        if model.neighbour_contractor[k]:
            continue
        chance = p["region.diffusion"] * s[k] * apparent * narrative
        if rng.uniform(model.seed, model.t, k, ADOPT, 0) < chance:
            model.neighbour_contractor[k] = True


def setup(model) -> None:
    """The neighbours' instability at the start; none has a contractor yet."""
    model.neighbour_instability = geography.NEIGHBOUR_INSTABILITY.copy()
    model.neighbour_contractor = np.zeros(len(geography.NEIGHBOURS), dtype=bool)
    model.territory_history = []
    # The host's cells along a border, found once: the map does not change during a run.
    model.border_cells = np.flatnonzero(model.world.cell_border >= 0)


def update(model, week) -> None:
    """Spill-over of the week's violence, and the neighbours' choice of a contractor."""
    history = model.territory_history
    history.append(week.row["territory_state_share"])
    gain = history[-1] - history[max(0, len(history) - WEEKS_OF_A_YEAR)]
    update_region(model, border_violence(model), gain,
                  float(np.mean(list(model.relationship.values()))))


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
                      record=record)
REGION = Step(MECHANISM, "neighbours", update)
