"""The default map: a stylised Mali and its seven neighbours, generated from the seed.

A sparse north of nomadic groups, a dense and ethnically mixed centre along the Niger river,
a south with the capital and the gold mines.  The outline, towns and mines are rough
longitude/latitude anchors, not survey data: the map is stylised on purpose.  Communities are
stored sorted by cell, so that ``cell_start[c]:cell_start[c+1]`` lists the communities of cell
``c`` and the kernels can walk a cell as one contiguous slice.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core import rng
from sim.core.registry import Mechanism, Param
from sim.core.state import ArrayTable, view_type

LON_MIN, LON_MAX = -18.0, 8.0
LAT_MIN, LAT_MAX = 8.0, 27.0

HOST = 0
NEIGHBOURS: tuple[str, ...] = (
    "Algeria", "Mauritania", "Senegal", "Guinea", "Côte d'Ivoire", "Burkina Faso", "Niger",
)
# Anchor of each neighbour's territory (cells outside the host go to the nearest anchor) and
# its instability at the start of the run (the central Sahel states were the fragile ones):
# the model's assumption, on the 0-1 scale of M11 (docs/ODD.md 5.2).
_NEIGHBOUR_ANCHORS = np.array(
    [(2.0, 24.0), (-10.0, 20.0), (-14.5, 14.5), (-11.0, 10.0), (-6.0, 8.5), (-1.5, 12.3),
     (5.0, 15.5)]
)
NEIGHBOUR_INSTABILITY = np.array([0.15, 0.15, 0.05, 0.15, 0.1, 0.4, 0.35])

_MALI_OUTLINE = np.array([
    (-12.2, 14.8), (-11.5, 15.5), (-5.5, 15.5), (-6.5, 25.0), (-4.8, 25.0), (1.2, 21.1),
    (1.2, 20.0), (3.3, 19.8), (4.2, 19.1), (4.2, 16.8), (3.5, 15.4), (0.2, 14.9), (-0.6, 15.1),
    (-2.0, 14.2), (-3.0, 13.6), (-4.3, 12.7), (-5.3, 10.3), (-6.2, 10.2), (-7.6, 10.2),
    (-8.5, 11.3), (-9.0, 12.4), (-11.2, 12.4), (-12.2, 12.6), (-11.4, 13.9),
])
_NIGER_RIVER = np.array([
    (-9.0, 12.0), (-8.0, 12.65), (-6.3, 13.4), (-4.2, 14.5), (-3.0, 16.6), (-0.5, 16.4),
    (0.0, 16.3), (1.5, 15.4), (3.5, 15.0),
])

NORTH, CENTRE, SOUTH = 0, 1, 2
REGIONS: tuple[str, ...] = ("north", "centre", "south")

GROUPS: tuple[str, ...] = (
    "northern nomads", "central herders", "central farmers", "river peoples", "southern farmers",
)
# Probability of each social group by region; the centre's row is set by map.centre_mixing.
# A stylised map: the model's assumption (docs/ODD.md 5.1).
_GROUP_SHARES = {
    NORTH: (0.65, 0.1, 0.0, 0.25, 0.0),
    SOUTH: (0.0, 0.1, 0.05, 0.0, 0.85),
}

# The centre's mixed share (map.centre_mixing) is this share herders, the rest river peoples.
CENTRE_HERDERS = 0.75

TOWNS: tuple[tuple[str, float, float, float], ...] = (
    # name, lon, lat, share of the national population
    ("Bamako", -8.0, 12.65, 0.12),
    ("Sikasso", -5.67, 11.32, 0.012),
    ("Ségou", -6.27, 13.43, 0.007),
    ("Mopti", -4.2, 14.5, 0.006),
    ("Kayes", -11.43, 14.45, 0.006),
    ("Timbuktu", -3.0, 16.77, 0.004),
    ("Gao", -0.04, 16.27, 0.004),
    ("Kidal", 1.41, 18.44, 0.002),
    ("Ménaka", 2.4, 15.9, 0.001),
)
_MINE_ANCHORS = np.array([
    (-11.4, 13.0), (-11.7, 13.9), (-11.1, 12.8), (-7.3, 11.6), (-6.1, 10.8), (-8.2, 11.2),
    (0.5, 17.0), (-10.5, 12.5),
])


@dataclass
class World(ArrayTable):
    """The generated map: cell fields and the communities sorted by cell."""

    width: int
    height: int
    cell_country: np.ndarray  # int8: 0 host, 1..7 neighbour (index into NEIGHBOURS + 1)
    cell_region: np.ndarray  # int8: NORTH / CENTRE / SOUTH inside the host, -1 outside
    cell_mine: np.ndarray  # float64: mining value of the cell (0 none)
    cell_border: np.ndarray  # int8: neighbour index bordering a host cell, -1 none
    cell_start: np.ndarray  # int64, length cells + 1
    settled: np.ndarray  # int64: the cells where communities live, in order
    community_cell: np.ndarray  # int64
    community_group: np.ndarray  # int8
    community_x: np.ndarray  # float32, cell units
    community_y: np.ndarray
    community_population: np.ndarray  # float64
    community_town: np.ndarray  # int16: index into TOWNS, -1 for villages
    town_cells: np.ndarray  # int64 per town

    @property
    def cells(self) -> int:
        """Number of cells of the map."""
        return self.width * self.height


WorldView = World.View = view_type(World)

# The stylised map's shapes: rough figures of Mali's geography (latitudes of the Sahel's
# regions, the river valley's density), chosen by eye for a map that looks and behaves right,
# not measured (docs/ODD.md 5.1, "The generated map").
MAP_STREAM = rng.purpose("world.map")  # spawn key of the map's random stream
NORTH_FROM_LAT = 17.0  # the north starts at this latitude
CENTRE_FROM_LAT = 13.6  # the centre, at this one
KAYES_WEST_OF_LON = -9.5  # Kayes, in the west, is a southern region
DENSITY = (0.08, 1.0, 1.8)  # relative density of villages: north, centre, south
RIVER_DENSITY = 3.0  # extra density along the Niger, at the river
RIVER_WIDTH = 0.8  # degrees from the river at which that extra falls by e
MINE_JITTER = 0.35  # degrees: spread of mines beyond the anchors
VILLAGE_SPREAD = 0.8  # sigma of the lognormal sizes of villages

PARAMETERS = (
    Param("map.communities", 4000, 1, 2_000_000, "communities",
          "villages and population clusters", kind="world"),
    Param("map.width", 64, 8, 1024, "cells",
          "map width, host and neighbours (a cell is about 45 km at 64 cells)", kind="world"),
    Param("map.height", 48, 8, 1024, "cells", "map height", kind="world"),
    Param("map.population", 21_000_000.0, 1.0, 2e9, "people", "host population at the start",
          kind="world"),
    Param("map.mines", 12, 0, 500, "sites",
          "gold-mining sites (most in the south-west and south)", kind="world"),
    Param("map.centre_mixing", 0.5, 0.0, 1.0, "share",
          "ethnic mixing of the centre: share of central communities of the minority groups",
          kind="world"),
    Param("community.cooperation", 0.5, 0.0, 1.0, "0-1", "initial cooperation with the state",
          kind="world", at_start=True),
    Param("community.grievance", 0.25, 0.0, 1.0, "0-1", "initial grievance", kind="world",
          at_start=True),
)
MECHANISM = Mechanism("map", "the map and its communities", PARAMETERS)


def _to_grid(lon, lat, width, height):
    col = np.clip(((np.asarray(lon) - LON_MIN) / (LON_MAX - LON_MIN) * width).astype(int), 0,
                  width - 1)
    row = np.clip(((LAT_MAX - np.asarray(lat)) / (LAT_MAX - LAT_MIN) * height).astype(int), 0,
                  height - 1)
    return col, row


def _inside(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule point-in-polygon, vectorised over points."""
    x, y = points[:, 0], points[:, 1]
    inside = np.zeros(len(points), dtype=bool)
    px, py = polygon[:, 0], polygon[:, 1]
    for i in range(len(polygon)):
        x1, y1, x2, y2 = px[i - 1], py[i - 1], px[i], py[i]
        crosses = (y1 > y) != (y2 > y)
        with np.errstate(divide="ignore", invalid="ignore"):
            xcross = x1 + (y - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (x < xcross)
    return inside


def _distance_to_polyline(points: np.ndarray, line: np.ndarray) -> np.ndarray:
    best = np.full(len(points), np.inf)
    for a, b in zip(line[:-1], line[1:], strict=True):
        ab = b - a
        t = np.clip(((points - a) @ ab) / (ab @ ab), 0.0, 1.0)
        d = np.hypot(*(points - (a + t[:, None] * ab)).T)
        best = np.minimum(best, d)
    return best


def _countries(width: int, height: int) -> tuple:
    """Cell centres, the host's cells and town cells, each cell's country and region."""
    cols, rows = np.meshgrid(np.arange(width), np.arange(height))
    lon = LON_MIN + (cols.ravel() + 0.5) / width * (LON_MAX - LON_MIN)
    lat = LAT_MAX - (rows.ravel() + 0.5) / height * (LAT_MAX - LAT_MIN)
    centres = np.column_stack([lon, lat])
    in_host = _inside(centres, _MALI_OUTLINE)
    towns_lonlat = np.array([(t[1], t[2]) for t in TOWNS])
    tcol, trow = _to_grid(towns_lonlat[:, 0], towns_lonlat[:, 1], width, height)
    town_cells = (trow * width + tcol).astype(np.int64)
    in_host[town_cells] = True
    nearest = np.argmin(
        ((centres[:, None, :] - _NEIGHBOUR_ANCHORS[None, :, :]) ** 2).sum(-1), axis=1
    )
    cell_country = np.where(in_host, HOST, nearest + 1).astype(np.int8)
    region = np.where(lat > NORTH_FROM_LAT, NORTH, np.where(lat > CENTRE_FROM_LAT, CENTRE, SOUTH))
    region = np.where(lon < KAYES_WEST_OF_LON, SOUTH, region)
    return centres, in_host, town_cells, cell_country, region


def _borders(cell_country: np.ndarray, width: int, height: int) -> np.ndarray:
    """For each host cell, the neighbour it touches (-1 for none)."""
    grid = cell_country.reshape(height, width)
    border = np.full((height, width), -1, dtype=np.int8)
    for dr, dc in ((-1, 0), (1, 0), (0, -1), (0, 1)):
        shifted = np.full_like(grid, HOST)
        src = grid[max(-dr, 0):height - max(dr, 0), max(-dc, 0):width - max(dc, 0)]
        shifted[max(dr, 0):height - max(-dr, 0), max(dc, 0):width - max(-dc, 0)] = src
        touches = (grid == HOST) & (shifted != HOST)
        border[touches] = shifted[touches] - 1
    return border.ravel()


def _mines(rng: np.random.Generator, n_mines: int, cell_country: np.ndarray, width: int,
           height: int) -> np.ndarray:
    """Mining value per cell: the anchors first, further mines jittered around them."""
    cell_mine = np.zeros(width * height)
    if n_mines:
        anchors = _MINE_ANCHORS[np.arange(n_mines) % len(_MINE_ANCHORS)]
        jitter = rng.normal(0.0, MINE_JITTER, size=anchors.shape) * (
            np.arange(n_mines) >= len(_MINE_ANCHORS))[:, None]
        mcol, mrow = _to_grid(anchors[:, 0] + jitter[:, 0], anchors[:, 1] + jitter[:, 1], width,
                              height)
        np.add.at(cell_mine, mrow * width + mcol, 1.0)
        cell_mine[cell_country != HOST] = 0.0
    return cell_mine


def _settle(rng: np.random.Generator, n: int, centres: np.ndarray, in_host: np.ndarray,
            region: np.ndarray, town_cells: np.ndarray) -> tuple:
    """Where the communities live (towns first, villages by density) and how many people."""
    density = np.select([region == NORTH, region == CENTRE], list(DENSITY[:2]),
                        DENSITY[2]).astype(float)
    river = _distance_to_polyline(centres, _NIGER_RIVER)
    density *= 1.0 + RIVER_DENSITY * np.exp(-((river / RIVER_WIDTH) ** 2))
    density[~in_host] = 0.0
    n_towns = min(len(TOWNS), n)
    n_villages = n - n_towns
    village_cells = rng.choice(len(density), size=n_villages, p=density / density.sum())
    cells = np.concatenate([town_cells[:n_towns], village_cells]).astype(np.int64)
    town = np.concatenate([np.arange(n_towns), np.full(n_villages, -1)]).astype(np.int16)
    village_pop = rng.lognormal(0.0, VILLAGE_SPREAD, size=n_villages)
    town_share = np.array([t[3] for t in TOWNS[:n_towns]])
    if n_villages:
        village_pop *= (1.0 - town_share.sum()) / village_pop.sum()
    else:
        town_share = town_share / town_share.sum()
    return cells, town, np.concatenate([town_share, village_pop])


def _groups(rng: np.random.Generator, comm_region: np.ndarray, mixing: float) -> np.ndarray:
    """Each community's social group, drawn from its region's shares."""
    shares = dict(_GROUP_SHARES)
    shares[CENTRE] = (0.0, CENTRE_HERDERS * mixing, 1.0 - mixing,
                      (1.0 - CENTRE_HERDERS) * mixing, 0.0)
    u = rng.random(len(comm_region))
    group = np.zeros(len(comm_region), dtype=np.int8)
    for reg, probs in shares.items():
        sel = comm_region == reg
        group[sel] = np.searchsorted(np.cumsum(probs), u[sel], side="right").clip(0, 4)
    return group


def build_world(params: dict, seed: int) -> World:
    """Generate the map and its communities from the scenario's map parameters and the seed."""
    width, height = params["map.width"], params["map.height"]
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(MAP_STREAM,)))
    centres, in_host, town_cells, cell_country, region = _countries(width, height)
    cell_region = np.where(in_host, region, -1).astype(np.int8)
    cell_border = _borders(cell_country, width, height)
    cell_mine = _mines(rng, params["map.mines"], cell_country, width, height)
    cells, town, shares = _settle(rng, params["map.communities"], centres, in_host, region,
                                  town_cells)
    population = shares * params["map.population"]
    group = _groups(rng, cell_region[cells], params["map.centre_mixing"])
    x = (cells % width + rng.random(len(cells))).astype(np.float32)
    y = (cells // width + rng.random(len(cells))).astype(np.float32)
    order = np.argsort(cells, kind="stable")
    cells = cells[order]
    cell_start = np.zeros(width * height + 1, dtype=np.int64)
    np.cumsum(np.bincount(cells, minlength=width * height), out=cell_start[1:])
    return World(
        width=width, height=height, cell_country=cell_country, cell_region=cell_region,
        cell_mine=cell_mine, cell_border=cell_border, cell_start=cell_start,
        settled=np.flatnonzero(np.diff(cell_start)), community_cell=cells,
        community_group=group[order], community_x=x[order], community_y=y[order],
        community_population=population[order], community_town=town[order],
        town_cells=town_cells,
    )
