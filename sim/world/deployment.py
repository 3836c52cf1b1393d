"""Who is where at the start, and who arrives or leaves: the actors' placement on the map.

Placement draws come from one stream per kind of actor, so whether a partner or a contractor is
deployed never moves where the bands start (common random numbers across scenarios).
"""

from __future__ import annotations

import numpy as np

from sim.core import rng
from sim.core.registry import Mechanism, Outcome, Param
from sim.core.state import CONTRACTOR, INSURGENT, PARTNER, STATE, Bands
from sim.world import geography

PARAMETERS = (
    Param("state.units", 40, 0, 10_000, "units", "national army and gendarmerie units",
          kind="institution", at_start=True),
    Param("state.strength", 450.0, 0.0, 10_000.0, "personnel", "personnel per state unit",
          kind="institution", at_start=True),
    Param("contractor.present", False, None, None, "-", "a contractor is deployed at the start",
          kind="institution", at_start=True),
    # Read when the actor arrives (at the start, or by an event), so a `set` before then counts.
    Param("contractor.units", 8, 0, 10_000, "units", "contractor teams when deployed",
          kind="institution"),
    Param("contractor.strength", 150.0, 0.0, 10_000.0, "personnel",
          "personnel per contractor team", kind="institution"),
    Param("partner.present", False, None, None, "-", "foreign military partner deployed at start",
          kind="institution", at_start=True),
    Param("partner.units", 8, 0, 10_000, "units", "partner units", kind="institution"),
    Param("partner.strength", 500.0, 0.0, 10_000.0, "personnel", "personnel per partner unit",
          kind="institution"),
    Param("un.present", False, None, None, "-", "UN mission deployed at start",
          kind="institution", at_start=True),
    # Kind world: the armed groups' size at the start is the conflict a regime inherits.
    Param("insurgents.bands", 40, 0, 10_000, "bands", "armed-group cells at the start",
          kind="world", at_start=True),
    # Also the size at which a band splits, every week (M5).
    Param("insurgents.strength", 120.0, 0.0, 10_000.0, "fighters",
          "fighters per band at the start", kind="world"),
    Param("insurgents.rival_share", 0.35, 0.0, 1.0, "share",
          "share of bands that belong to the second, rival armed group", kind="world",
          at_start=True),
)

# The placement streams' spawn key, with the kind of actor after it.
PLACEMENT_STREAM = rng.purpose("world.placement")
# State units garrison towns and populous cells: weight sqrt(people) + this per town.  The
# model's assumption (docs/ODD.md 5.2), as are the two placement numbers below.
TOWN_WEIGHT = 50.0
# A band's weight of a cell is sqrt(people) + this, so that empty desert can hold bands too.
BAND_CELL_FLOOR = 1.0
# The rival group starts in the east: its weight grows east of this share of the map's width.
RIVAL_EAST_FROM = 0.6
# The bands' table starts with room for this many times the starting bands, plus a few, as
# they split; it grows when a split finds no free row (m05_recruitment.make_room).
BAND_ROOM = 3
BAND_SPARE = 8
CAPITAL, GAO = 0, 6  # towns of geography.TOWNS where the contractor and the partner arrive


def placement(model, actor: int) -> np.random.Generator:
    """The placement stream of one kind of actor."""
    return np.random.default_rng(np.random.SeedSequence(model.seed,
                                                        spawn_key=(PLACEMENT_STREAM, actor)))


def _host_cells(model, rng: np.random.Generator, n: int, weights: np.ndarray) -> np.ndarray:
    w = weights * (model.world.cell_country == geography.HOST)
    if n == 0 or w.sum() <= 0:
        return np.zeros(n, dtype=np.int64)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _cell_population(model) -> np.ndarray:
    return np.bincount(model.world.community_cell, weights=model.communities.population,
                       minlength=model.world.cells)


def _cells_near(model, rng: np.random.Generator, cell: int, n: int) -> np.ndarray:
    width = model.world.width
    x, y = cell % width, cell // width
    dx = rng.integers(-1, 2, size=n)
    dy = rng.integers(-1, 2, size=n)
    xs = np.clip(x + dx, 0, width - 1)
    ys = np.clip(y + dy, 0, model.world.height - 1)
    cells = ys * width + xs
    return np.where(model.world.cell_country[cells] == geography.HOST, cells, cell)


def _add_units(model, kind: int, section: str, cells: np.ndarray, strength: float) -> np.ndarray:
    p = model.p
    return model.forces.add(kind, cells, strength, p[f"{section}.firepower"],
                            p[f"{section}.discrimination"], p[f"{section}.reach"])


def place_state_forces(model) -> None:
    """State units in populous cells and towns."""
    p = model.p
    weights = np.sqrt(_cell_population(model)) + TOWN_WEIGHT * model.cell_town
    cells = _host_cells(model, placement(model, STATE), p["state.units"], weights)
    _add_units(model, STATE, "state", cells, p["state.strength"])


def place_bands(model) -> Bands:
    """Bands of both armed groups in the north and centre, the rival group further east."""
    p, w = model.p, model.world
    n = p["insurgents.bands"]
    rng = placement(model, INSURGENT)
    rival = rng.random(n) < p["insurgents.rival_share"]
    pop = _cell_population(model)
    north_centre = np.isin(w.cell_region, (geography.NORTH, geography.CENTRE))
    weight_a = np.where(north_centre, np.sqrt(pop) + BAND_CELL_FLOOR, 0.0)
    east = np.clip((np.arange(w.cells) % w.width) / w.width - RIVAL_EAST_FROM, 0.0, None)
    weight_b = weight_a * east
    if weight_b.sum() <= 0:
        weight_b = weight_a
    cells = np.where(rival, _host_cells(model, rng, n, weight_b),
                     _host_cells(model, rng, n, weight_a))
    return Bands.create(rival.astype(np.int64), cells, p["insurgents.strength"],
                        capacity=BAND_ROOM * n + BAND_SPARE)


def deploy_contractor(model, units: int, strength: float) -> None:
    """A contractor arrives at the capital with ``units`` teams (M1)."""
    if model.contractor_present:
        return
    capital = int(model.world.town_cells[CAPITAL])
    cells = _cells_near(model, placement(model, CONTRACTOR), capital, units)
    rows = _add_units(model, CONTRACTOR, "contractor", cells, strength)
    model.contractor_present = units > 0
    if getattr(model, "agent_views", None) is not None:
        model.agent_views.add_units(rows)


def deploy_partner(model) -> None:
    """The foreign military partner deploys in the north and centre, from Gao."""
    p = model.p
    if model.partner_present:
        return
    gao = int(model.world.town_cells[GAO])
    cells = _cells_near(model, placement(model, PARTNER), gao, p["partner.units"])
    rows = _add_units(model, PARTNER, "partner", cells, p["partner.strength"])
    model.partner_present = True
    if getattr(model, "agent_views", None) is not None:
        model.agent_views.add_units(rows)


def withdraw(model, actor: str) -> None:
    """An actor ("partner", "un" or "contractor") leaves; units of a force stop operating."""
    if actor == "un":
        model.un_present = False
        return
    kind = PARTNER if actor == "partner" else CONTRACTOR
    model.forces.active[model.forces.kind == kind] = False
    setattr(model, f"{actor}_present", False)


def setup(model) -> None:
    """Towns, the state's units, the partners and contractor of the scenario, and the bands."""
    p, w = model.p, model.world
    model.cell_town = np.zeros(w.cells)
    model.cell_town[w.community_cell[w.community_town >= 0]] = 1.0
    place_state_forces(model)
    model.partner_present = False
    model.un_present = bool(p["un.present"])
    if p["partner.present"]:
        deploy_partner(model)
    model.contractor_present = False
    if p["contractor.present"]:
        deploy_contractor(model, p["contractor.units"], p["contractor.strength"])
    model.bands = place_bands(model)


def record(model, week) -> None:
    """Whether a contractor is deployed at the end of the week."""
    week.row["contractor_present"] = float(model.contractor_present)


OUTCOMES = (
    Outcome("contractor_present", "contractor present", "yes/no",
            summary="contractor_present_final", kind=bool),
)
MECHANISM = Mechanism("deployment", "who is where", PARAMETERS, OUTCOMES, setup=setup,
                      record=record)
