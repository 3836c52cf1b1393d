"""M3 Cooperation is the enabler: intelligence comes from cooperation, plus partner support.

Communities that cooperate tell the state where insurgents hide; partner intelligence adds to
it.  Good intelligence makes force selective (M2's ``located``); poor intelligence makes it
indiscriminate (the Kress-Szechtman and Berman-Shapiro-Felter logic).
"""

from __future__ import annotations

from numba import njit

from sim import kernel_cache
from sim.core.registry import Mechanism, Param, Step
from sim.core.state import CellsView
from sim.mechanisms.m05_recruitment import concealment

PARAMETERS = (
    # Kind institution: the support a present partner chooses to give.
    Param("partner.intelligence", 0.3, 0.0, 1.0, "0-1", "intelligence support to all forces",
          kind="institution"),
)


@njit(cache=kernel_cache.CACHE)
def intelligence(cells, partner_intelligence, base_concealment):
    """Intelligence of each cell, and the concealment of bands there (M5)."""
    cells = CellsView(*cells)
    for c in range(len(cells.cooperation)):
        coop = cells.cooperation[c]
        intel = coop + partner_intelligence * (1.0 - coop)
        cells.intelligence[c] = min(1.0, max(0.0, intel))
        hide = concealment(base_concealment, coop, cells.support[c])
        cells.concealment[c] = min(1.0, max(0.0, hide))


def gather(model, week) -> None:
    """What the forces know of each cell this week; partner intelligence while it stays."""
    p = model.p
    partner = p["partner.intelligence"] if model.partner_present else 0.0
    intelligence(model.cells.view(), partner, p["insurgents.concealment"])


MECHANISM = Mechanism("M03", "cooperation is the enabler", PARAMETERS,
                      kernels=(intelligence,))
INTELLIGENCE = Step(MECHANISM, "intelligence", gather)
