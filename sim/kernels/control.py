"""Territorial control: who holds each cell, from the presence of forces and armed groups."""

from __future__ import annotations

from numba import njit


@njit(cache=True)
def update_control(cell_forces, cell_insurgents, cell_admin, legitimacy, force_presence,
                   insurgent_presence, control):
    """Move state control of each cell towards the balance of presences.

    Presence is remembered (decay 0.9 a week), so a raid leaves less than a garrison; the state's
    administration counts as presence in proportion to legitimacy (M8).
    """
    for c in range(len(control)):
        force_presence[c] = 0.9 * force_presence[c] + cell_forces[c]
        insurgent_presence[c] = 0.9 * insurgent_presence[c] + cell_insurgents[c, 0] \
            + cell_insurgents[c, 1]
        state = force_presence[c] + cell_admin[c] * legitimacy
        target = state / (state + 3.0 * insurgent_presence[c] + 1.0)
        control[c] += 0.1 * (target - control[c])
