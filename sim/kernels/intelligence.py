"""M3 Cooperation is the enabler: intelligence comes from cooperation, plus partner support."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def intelligence(cell_cooperation, cell_support, partner_intelligence, base_concealment,
                 out_intelligence, out_concealment):
    """Intelligence and concealment of each cell.

    Communities that cooperate tell the state where insurgents hide; partner intelligence adds to
    it.  Bands hide better among communities that do not cooperate and that support them (M5:
    "recruit and hide among vulnerable communities").
    """
    for c in range(len(cell_cooperation)):
        coop = cell_cooperation[c]
        intel = coop + partner_intelligence * (1.0 - coop)
        out_intelligence[c] = min(1.0, max(0.0, intel))
        hide = base_concealment + (1.0 - base_concealment) * (1.0 - coop) * cell_support[c]
        out_concealment[c] = min(1.0, max(0.0, hide))
