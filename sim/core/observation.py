"""Observation: community fields summed per cell, where units and bands are, and the tallies
that the week records.

Three passes over contiguous arrays: :func:`aggregate_cells` gives the per-cell view units and
bands act on, :func:`locate_units` counts forces and fighters per cell, :func:`tally_cells`
gives every per-cell total a week records.  Cells sum their own slices in order, so totals
taken over cells afterwards are the same for any number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from sim import kernel_cache
from sim.core.compiled import PRANGE_ONLY
from sim.core.registry import TOTAL, Mechanism, Outcome, Step
from sim.core.state import (
    COLUMNS,
    COOPERATION,
    DEAD,
    DISPLACED,
    GRIEVANCE,
    N_PERPETRATORS,
    PERPETRATORS,
    POPULATION,
    SUPPORT,
    CellsView,
    CommunitiesView,
)
from sim.mechanisms.m05_recruitment import pool_term


@njit(cache=kernel_cache.CACHE)
def aggregate_cells(cell_start, settled, communities, deterrence, cells):
    """Population-weighted means per cell and the recruitment pool of each cell (M5), for the
    ``settled`` cells (those with communities): an empty cell's aggregates stay zero."""
    # Named here, not in the parallel loop's function: numba loses writes made through a
    # named tuple built inside a parallel function (numba 0.68).
    _aggregate_cells(cell_start, settled, CommunitiesView(*communities), deterrence,
                     CellsView(*cells))


@njit(cache=kernel_cache.CACHE, parallel=PRANGE_ONLY)
def _aggregate_cells(cell_start, settled, communities, deterrence, cells):
    # Arrays are taken out of their tuples before a parallel loop: numba loses writes made
    # through a tuple's field inside prange (seen with numba 0.68).
    c = communities
    out_population, out_cooperation, out_support = cells.population, cells.cooperation, \
        cells.support
    out_grievance, out_fear, out_pool = cells.grievance, cells.fear, cells.recruit_pool
    for s in prange(len(settled)):
        k = settled[s]
        pop = 0.0
        coop = 0.0
        sup = 0.0
        grv = 0.0
        fr = 0.0
        pool = 0.0
        for i in range(cell_start[k], cell_start[k + 1]):
            p = c.population[i]
            pop += p
            coop += p * c.cooperation[i]
            sup += p * c.support[i]
            grv += p * c.grievance[i]
            fr += p * c.fear[i]
            pool += pool_term(p, c.grievance[i], c.support[i], deterrence, c.fear[i])
        out_population[k] = pop
        if pop > 0.0:
            out_cooperation[k] = coop / pop
            out_support[k] = sup / pop
            out_grievance[k] = grv / pop
            out_fear[k] = fr / pop
        else:
            out_cooperation[k] = 0.0
            out_support[k] = 0.0
            out_grievance[k] = 0.0
            out_fear[k] = 0.0
        out_pool[k] = pool


@njit(cache=kernel_cache.CACHE)
def locate_units(unit_cell, unit_strength, unit_active, band_cell, band_faction, band_strength,
                 band_active, forces, insurgents):
    """Personnel of forces (``forces``) and fighters of each faction (``insurgents``) per cell.

    It takes the few columns it reads, not the forces', bands' and cells' tables: it runs four
    times a week, and a call that takes the tables unboxes their 36 arrays (4.7 us a call at the
    default size, against 2.8 us with these 9)."""
    for c in range(len(forces)):
        forces[c] = 0.0
        insurgents[c, 0] = 0.0
        insurgents[c, 1] = 0.0
    for u in range(len(unit_cell)):
        if unit_active[u]:
            forces[unit_cell[u]] += unit_strength[u]
    for b in range(len(band_cell)):
        if band_active[b]:
            insurgents[band_cell[b], band_faction[b]] += band_strength[b]


@njit(cache=kernel_cache.CACHE)
def tally_cells(cell_start, settled, communities, out, totals):
    """Per cell: residents, population-weighted sums of attitudes, displaced, deaths by
    perpetrator; and in ``totals`` their sums over the cells, added cell after cell.  Only the
    ``settled`` cells (those with communities) are visited: an empty cell's row stays zero."""
    # Named here, not in the parallel loop's function: numba loses writes made through a
    # named tuple built inside a parallel function (numba 0.68).
    _tally_cells(cell_start, settled, CommunitiesView(*communities), out, totals)


@njit(cache=kernel_cache.CACHE, parallel=PRANGE_ONLY)
def _tally_cells(cell_start, settled, communities, out, totals):
    c = communities
    for s in prange(len(settled)):
        k = settled[s]
        for j in range(COLUMNS):
            out[k, j] = 0.0
        for i in range(cell_start[k], cell_start[k + 1]):
            p = c.population[i]
            out[k, POPULATION] += p
            out[k, COOPERATION] += p * c.cooperation[i]
            out[k, GRIEVANCE] += p * c.grievance[i]
            out[k, SUPPORT] += p * c.support[i]
            out[k, DISPLACED] += c.displaced[i]
            for j in range(N_PERPETRATORS):
                out[k, DEAD + j] += c.dead_step[i, j]
    for j in range(COLUMNS):
        totals[j] = 0.0
    for k in settled:
        for j in range(COLUMNS):
            totals[j] += out[k, j]


def _start(model, week) -> None:
    c, cells = model.communities, model.cells
    c.dead_step[:] = 0.0
    cells.kills[:] = 0.0
    cells.force_losses[:] = 0.0
    cells.rival_losses[:] = 0.0


def locate(model, week) -> None:
    """Recount forces and fighters per cell after someone moved or died."""
    f, b, cells = model.forces, model.bands, model.cells
    locate_units(f.cell, f.strength, f.active, b.cell, b.faction, b.strength, b.active,
                 cells.forces, cells.insurgents)


def aggregate(model, week) -> None:
    """The per-cell view of the communities, and who is where."""
    aggregate_cells(model.world.cell_start, model.world.settled, model.communities.view(),
                    model.p["insurgents.deterrence"], model.cells.view())
    locate(model, week)


def tally(model, week) -> None:
    """The per-cell totals the week records, and their sums over cells."""
    week.totals = np.zeros(COLUMNS)
    tally_cells(model.world.cell_start, model.world.settled, model.communities.view(),
                model.cell_totals, week.totals)


def record(model, week) -> None:
    """Civilian deaths of the week by perpetrator."""
    by = week.totals[DEAD:COLUMNS]
    week.row["civilian_deaths"] = float(by.sum())
    for k, who in enumerate(PERPETRATORS):
        week.row[f"civilian_deaths_{who}"] = float(by[k])


def _deaths(who: str, label: str, shown: frozenset[str] = frozenset(), **more) -> Outcome:
    name = "civilian_deaths" + (f"_{who}" if who != "total" else "")
    return Outcome(name, label, "people/week", summary=f"civilian_deaths.{who}", reduce=TOTAL,
                   flow=True, shown=shown, **more)


OUTCOMES = (
    _deaths("total", "civilian deaths", frozenset({"table", "ranking", "plot", "chart"}),
            title="civilian deaths per quarter", better="lower"),
    _deaths("state", "by state forces"),
    _deaths("contractor", "by contractor", frozenset({"table"})),
    _deaths("partner", "by partner"),
    _deaths("insurgent", "by armed groups"),
    _deaths("militia", "by community militias", frozenset({"table"})),
)
MECHANISM = Mechanism("observation", "what the week leaves", (), OUTCOMES,
                      kernels=(aggregate_cells, locate_units, tally_cells), record=record)
START = Step(MECHANISM, "a new week", _start)
AGGREGATE = Step(MECHANISM, "cells aggregated", aggregate)
LOCATE = Step(MECHANISM, "units located", locate)
TALLY = Step(MECHANISM, "tally", tally)
