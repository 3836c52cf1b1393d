"""The map of the dashboard: one raster image of the communities, and the few units over it.

Thousands of communities drawn as SVG markers would make every redraw slow, so they are
painted as dots into one PNG (countries and borders are painted once per world and reused);
only the handful of units, bands, mining sites and towns are SVG shapes on top.  The result
is one self-contained ``<svg>`` string that a Solara page, a notebook or a test can show.  Its
key is HTML apart (:func:`key`): drawn inside the SVG, its text would shrink with the map, to
under 8 pixels on a projector's page side by side.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import matplotlib
import numpy as np
from PIL import Image

from sim.core.model import BlowbackModel
from sim.core.state import CONTRACTOR, FACTIONS, PARTNER, STATE
from sim.interfaces.dashboard.town_labels import town_labels
from sim.interfaces.figure_style import OKABE_ITO
from sim.world import geography

HOST_RGB = (246, 241, 231)
NEIGHBOUR_RGB = (222, 222, 222)
BORDER_RGB = (70, 70, 70)
TARGET_WIDTH = 560  # pixels; a cell is a whole number of pixels


@dataclass(frozen=True)
class Layer:
    """A variable the communities (or the cells) are coloured by: on a matplotlib colour map
    from ``low`` to ``high``, or, for a categorical layer, the value k in ``palette[k]``."""

    label: str
    values: Callable  # model -> values per community, or per cell when ``per_cell``
    low: float
    high: float
    colormap: str
    per_cell: bool = False
    log: bool = False
    categories: tuple[str, ...] = ()  # names of the values 0, 1, ... of a categorical layer
    palette: tuple[str, ...] = ()  # the colour of each category


def _deaths(model) -> np.ndarray:
    return model.communities.dead.sum(axis=1)


def _displaced_share(model) -> np.ndarray:
    c = model.communities
    return np.divide(c.displaced, c.initial_population, out=np.zeros_like(c.displaced),
                     where=c.initial_population > 0)


# Every layer reads for a colour-blind viewer: perceptually uniform or ColorBrewer maps whose
# order holds without hue (cividis, magma, inferno; YlOrRd, Purples), a diverging map whose two
# ends differ for every dichromacy (RdBu, around the contested middle), and Okabe-Ito's colours
# for the social groups (black left out: a black dot reads as a band's cross).
LAYERS: dict[str, Layer] = {
    "cooperation": Layer("cooperation with the state", lambda m: m.communities.cooperation,
                         0.0, 1.0, "cividis"),
    "grievance": Layer("grievance", lambda m: m.communities.grievance, 0.0, 1.0, "YlOrRd"),
    "memory": Layer("memory of abuses (news travels along social ties)",
                    lambda m: np.minimum(m.communities.memory, 1.0), 0.0, 1.0, "magma_r"),
    "control": Layer("who controls the area (red: armed groups, blue: the state)",
                     lambda m: m.cells.control, 0.0, 1.0, "RdBu", per_cell=True),
    "displaced": Layer("share of residents displaced", _displaced_share, 0.0, 0.5, "Purples"),
    "deaths": Layer("civilian deaths (log scale)", _deaths, 0.0, 3.0, "inferno_r", log=True),
    "group": Layer("social group", lambda m: m.communities.group.astype(float), 0.0,
                   len(geography.GROUPS) - 1.0, "", categories=geography.GROUPS,
                   palette=OKABE_ITO[1:1 + len(geography.GROUPS)]),
}

# Units by type: SVG shape and colour (Okabe-Ito's blue, vermillion and bluish green), and the
# half-size of the coloured fill in cells (_marker draws the casing outside it).
_FORCE_STYLE = {STATE: ("rect", "#0072b2", "state unit", 0.275),
                CONTRACTOR: ("triangle", "#d55e00", "contractor team", 0.24),
                PARTNER: ("circle", "#009e73", "partner unit", 0.275)}
# A band's cross by faction, as ``FACTIONS`` names them: its colour and the casing around it
# (black in white, white in black), told apart by lightness alone.
_BAND_STYLE = (("#000000", "#ffffff"), ("#ffffff", "#000000"))
MINE_COLOUR = "#e6b400"
MINE_FILL = 0.32  # half-size of a mining site's fill, in cells
TITLE_SIZE = 15  # map units of a side's title, side by side
# Every symbol is cased: a black edge, and a white halo around it, each EDGE map units wide, so
# 1.5 pixels or more on every map the page draws (a thinner ring is lost to anti-aliasing):
# 1.52 on the smallest, side by side at 1024x768 (0.759 pixels a unit), 2.24 on the next (1.12,
# one run at 1024x768, or side by side at 1280x800).  On any colour under it, black or white
# contrasts at least 4.6:1 (WCAG), so a symbol stands out on every layer, whatever its own colour.
EDGE = 2
# The key draws each symbol as on a map of KEY_CELL units a cell (8 on the default map): larger,
# in the same proportions, in a box of 22 units drawn KEY_PX pixels wide: 0.82 pixels a unit,
# more than the smallest map's (MAP_SCALE in the tests), so that its casing is as wide as there.
KEY_CELL = 17
KEY_PX = 18
# A contractor's triangle, in units of its half-size: half its base, and how far its apex and
# its base lie from its centre.
_TRIANGLE_HALF_BASE, _TRIANGLE_UP, _TRIANGLE_DOWN = 1.2, 1.3, 1.0
# The radius of the circle inside each shape (its inradius), per unit of the half-size that
# _geometry takes: a triangle's is its area over its half-perimeter.
_TRIANGLE_HEIGHT = _TRIANGLE_UP + _TRIANGLE_DOWN
_INRADIUS = {"rect": 1.0, "circle": 1.0, "diamond": 0.5 ** 0.5,
             "triangle": _TRIANGLE_HALF_BASE * _TRIANGLE_HEIGHT
             / (_TRIANGLE_HALF_BASE + float(np.hypot(_TRIANGLE_HALF_BASE, _TRIANGLE_HEIGHT)))}


def _lut(name: str) -> np.ndarray:
    return matplotlib.colormaps[name](np.linspace(0.0, 1.0, 256), bytes=True)[:, :3]


def colours(layer: Layer, values: np.ndarray) -> np.ndarray:
    """The RGB colour (0-255) ``layer`` paints each of ``values`` in."""
    if layer.palette:
        palette = np.array([[int(c[k:k + 2], 16) for k in (1, 3, 5)] for c in layer.palette],
                           dtype=np.uint8)
        return palette[np.clip(np.asarray(values).astype(np.int64), 0, len(palette) - 1)]
    return _lut(layer.colormap)[(_normalised(layer, values) * 255).astype(np.int64)]


def _scale(world) -> int:
    return max(1, TARGET_WIDTH // world.width)


# Painted backgrounds by world; the world is kept beside its id so a reused id never matches.
_BASES: dict[int, tuple[object, np.ndarray]] = {}
_KEEP_BASES = 4  # both sides of the page, and the worlds of a reset or two


def _base(world) -> np.ndarray:
    """Countries and borders at pixel size, painted once per world."""
    cached = _BASES.get(id(world))
    if cached is not None and cached[0] is world:
        return cached[1]
    s = _scale(world)
    country = world.cell_country.reshape(world.height, world.width)
    pixels = np.repeat(np.repeat(country, s, axis=0), s, axis=1)
    image = np.where((pixels == geography.HOST)[..., None], np.array(HOST_RGB, np.uint8),
                     np.array(NEIGHBOUR_RGB, np.uint8)).astype(np.uint8)
    edge = np.zeros(pixels.shape, dtype=bool)
    edge[:, 1:] |= pixels[:, 1:] != pixels[:, :-1]
    edge[1:, :] |= pixels[1:, :] != pixels[:-1, :]
    image[edge] = BORDER_RGB
    if len(_BASES) >= _KEEP_BASES:  # resets build new worlds: forget the oldest
        del _BASES[next(iter(_BASES))]
    _BASES[id(world)] = (world, image)
    return image


def _normalised(layer: Layer, values: np.ndarray) -> np.ndarray:
    v = np.log10(1.0 + values) if layer.log else np.asarray(values, dtype=float)
    return np.clip((v - layer.low) / (layer.high - layer.low), 0.0, 1.0)


def raster(model: BlowbackModel, layer: str) -> np.ndarray:
    """The map as an RGB array: countries, borders and the communities (or cells) coloured by
    ``layer`` (a key of ``LAYERS``)."""
    spec = LAYERS[layer]
    world = model.world
    s = _scale(world)
    image = _base(world).copy()
    rgb = colours(spec, spec.values(model))
    if spec.per_cell:
        host = (world.cell_country == geography.HOST).reshape(world.height, world.width)
        cell_rgb = rgb.reshape(world.height, world.width, 3)
        fill = np.repeat(np.repeat(cell_rgb, s, axis=0), s, axis=1)
        mask = np.repeat(np.repeat(host, s, axis=0), s, axis=1)
        edge = np.all(image == np.array(BORDER_RGB, np.uint8), axis=-1)
        image[mask & ~edge] = fill[mask & ~edge]
        return image
    size = max(2, s // 3)
    h, w = image.shape[:2]
    x = np.clip((world.community_x * s).astype(np.int64) - size // 2, 0, w - size)
    y = np.clip((world.community_y * s).astype(np.int64) - size // 2, 0, h - size)
    # Towns are drawn larger, and last, so that a village never hides a capital.
    order = np.argsort(world.community_town >= 0, kind="stable")
    for dy in range(size):
        for dx in range(size):
            image[y[order] + dy, x[order] + dx] = rgb[order]
    towns = world.community_town >= 0
    for dy in range(-1, size + 1):
        for dx in range(-1, size + 1):
            image[np.clip(y[towns] + dy, 0, h - 1), np.clip(x[towns] + dx, 0, w - 1)] = \
                rgb[towns]
    return image


def png(image: np.ndarray) -> bytes:
    """Encode an RGB array as PNG (fast compression: the page redraws several times a
    second)."""
    out = io.BytesIO()
    Image.fromarray(image).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _geometry(shape: str, x: float, y: float, r: float) -> tuple[str, str]:
    """The SVG element and its geometry of a unit's (or a mine's) shape, ``r`` its half-size."""
    if shape == "rect":
        return "rect", (f'x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" '
                        f'height="{2 * r:.1f}"')
    if shape == "triangle":
        up, down, half = _TRIANGLE_UP * r, _TRIANGLE_DOWN * r, _TRIANGLE_HALF_BASE * r
        return "polygon", (f'points="{x:.1f},{y - up:.1f} {x - half:.1f},{y + down:.1f} '
                           f'{x + half:.1f},{y + down:.1f}"')
    if shape == "diamond":
        return "polygon", (f'points="{x:.1f},{y - r:.1f} {x + r:.1f},{y:.1f} {x:.1f},'
                           f'{y + r:.1f} {x - r:.1f},{y:.1f}"')
    return "circle", f'cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}"'


def _marker(shape: str, x: float, y: float, fill: float, colour: str, title: str) -> str:
    """A cased symbol (:data:`EDGE`): the white halo, then the shape in ``colour`` edged in
    black.  ``fill`` is the half-size of the coloured part: the black edge lies outside it, so
    however wide the casing, it never eats the colour."""
    tag, geometry = _geometry(shape, x, y, fill + EDGE / 2 / _INRADIUS[shape])
    return (f'<g class="bb-symbol"><title>{escape(title)}</title>'
            f'<{tag} {geometry} fill="#ffffff" stroke="#ffffff" stroke-width="{3 * EDGE:g}"/>'
            f'<{tag} {geometry} fill="{colour}" stroke="#000000" stroke-width="{EDGE:g}"/></g>')


def _spread(cells: np.ndarray, world, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel centres of units, nudged apart when several share a cell."""
    x = (cells % world.width + 0.5) * s
    y = (cells // world.width + 0.5) * s
    nth = np.zeros(len(cells))
    for cell in np.unique(cells):
        rows = np.flatnonzero(cells == cell)
        nth[rows] = np.arange(len(rows))
    angle = nth * 2.4
    radius = np.where(nth > 0, 0.35 * s, 0.0)
    return x + radius * np.cos(angle), y + radius * np.sin(angle)


def _units(model, s: int) -> list[str]:
    f, b, world = model.forces, model.bands, model.world
    out = []
    bands = np.flatnonzero(b.active)
    bx, by = _spread(b.cell[bands], world, s)
    for k, x, y in zip(bands, bx, by, strict=True):
        r = 0.22 * s * (1.0 + min(2.0, b.strength[k] / 300.0))
        faction = int(b.faction[k])
        out.append(_cross(x, y, r, faction % 2,
                          f"{_band_name(faction)}, {b.strength[k]:.0f} fighters"))
    units = np.flatnonzero(f.active)
    ux, uy = _spread(f.cell[units], world, s)
    for k, x, y in zip(units, ux, uy, strict=True):
        shape, colour, name, fill = _FORCE_STYLE[int(f.kind[k])]
        out.append(_marker(shape, x, y, fill * s, colour, f"{name}, {f.strength[k]:.0f}"))
    return out


def _band_name(faction: int) -> str:
    """A band as the key and its tooltip name it: "armed band, group A"."""
    return f"armed band, {FACTIONS[faction].removeprefix('armed ')}"


def _mines(world, s: int) -> list[str]:
    out = []
    for cell in np.flatnonzero(world.cell_mine > 0):
        x, y = (cell % world.width + 0.5) * s, (cell // world.width + 0.5) * s
        out.append(_marker("diamond", x, y, MINE_FILL * s, MINE_COLOUR, "mining site"))
    return out


def _cross(x: float, y: float, r: float, faction: int, title: str) -> str:
    """A band's cross: its faction's colour on a casing EDGE wide each side (``_BAND_STYLE``)."""
    colour, casing = _BAND_STYLE[faction]
    d = f"M{x - r:.1f},{y - r:.1f}L{x + r:.1f},{y + r:.1f}M{x - r:.1f},{y + r:.1f}L{x + r:.1f}," \
        f"{y - r:.1f}"
    return (f'<g class="bb-band" data-colour="{colour}"><title>{escape(title)}</title>'
            f'<path d="{d}" stroke="{casing}" stroke-width="{2.5 + 2 * EDGE:g}"/>'
            f'<path d="{d}" stroke="{colour}" stroke-width="2.5"/></g>')


def _symbols() -> str:
    """The key of every symbol drawn over the colours (units, bands, mines, towns): each drawn
    in a small SVG of its own, beside its name."""
    keys = [(_marker(shape, 0, 0, fill * KEY_CELL, colour, name), name)
            for shape, colour, name, fill in _FORCE_STYLE.values()]
    keys += [(_cross(0, 0, 5, k, _band_name(k)), _band_name(k)) for k in range(len(_BAND_STYLE))]
    keys += [(_marker("diamond", 0, 0, MINE_FILL * KEY_CELL, MINE_COLOUR, "mining site"),
              "mining site"),
             ('<rect x="-4" y="-4" width="8" height="8" fill="#777"/>', "town (larger dot)")]
    return "".join(f'<span class="bb-key-entry"><svg viewBox="-11 -11 22 22" width="{KEY_PX}" '
                   f'height="{KEY_PX}">{shape}</svg>{escape(name)}</span>' for shape, name in keys)


def _rgb(colour: np.ndarray) -> str:
    return "rgb({},{},{})".format(*(int(c) for c in colour))


def _legend(layer: Layer) -> str:
    """The colours of ``layer``: each category's swatch and name, or the colour scale between
    its two ends."""
    if layer.categories:
        rgb = colours(layer, np.arange(len(layer.categories)))
        return "".join(f'<span class="bb-key-entry"><span class="bb-swatch" '
                       f'style="background:{_rgb(rgb[k])}"></span>{escape(name)}</span>'
                       for k, name in enumerate(layer.categories))
    lut = _lut(layer.colormap)
    stops = ", ".join(_rgb(lut[k * 255 // 8]) for k in range(9))
    low, high = (f"{10 ** layer.low - 1:g}", f"{10 ** layer.high - 1:g}") if layer.log else (
        f"{layer.low:g}", f"{layer.high:g}")
    return (f'<div class="bb-ramp" style="background:linear-gradient(to right, {stops})"></div>'
            f'<div class="bb-ramp-ends"><span>{low}</span><span>{high}</span></div>')


def key(layer: str) -> str:
    """The map's key, as HTML beside the maps (the same for both sides): the symbols drawn over
    the colours, named, and the colours of ``layer``.  Page text, not part of the map's SVG,
    so that it stays as large as the page's own text however small the map is drawn."""
    spec = LAYERS[layer]
    return (f'<div class="bb-map-key" data-layer="{layer}">'
            f'<div class="bb-symbols">{_symbols()}</div>'
            f'<div class="bb-legend"><div>{escape(spec.label)}</div>{_legend(spec)}</div></div>')


def _host_frame(world, s: int) -> tuple[int, int, int, int]:
    """Pixel box of the host with a margin of two cells: the neighbours are context only."""
    host = (world.cell_country == geography.HOST).reshape(world.height, world.width)
    rows, cols = np.flatnonzero(host.any(axis=1)), np.flatnonzero(host.any(axis=0))
    if len(rows) == 0:
        return 0, 0, world.width * s, world.height * s
    r0, r1 = max(0, rows[0] - 2), min(world.height, rows[-1] + 3)
    c0, c1 = max(0, cols[0] - 2), min(world.width, cols[-1] + 3)
    return int(c0 * s), int(r0 * s), int(c1 * s), int(r1 * s)


def svg(model: BlowbackModel, layer: str = "cooperation", title: str = "") -> str:
    """The whole map as one ``<svg>``: the raster of ``layer``, mining sites, units by type
    (squares: state, triangles: contractor, circles: partner, crosses: armed bands), town
    names over them and an optional title.  Its key is :func:`key`."""
    image = raster(model, layer)
    h, w = image.shape[:2]
    s = _scale(model.world)
    x0, y0, x1, y1 = _host_frame(model.world, s)
    data = base64.b64encode(png(image)).decode("ascii")
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bb-map" data-layer="{layer}" '
             f'viewBox="{x0} {y0} {x1 - x0} {y1 - y0}" width="100%">',
             f'<image href="data:image/png;base64,{data}" width="{w}" height="{h}" '
             'style="image-rendering:pixelated"/>',
             *_mines(model.world, s), *_units(model, s),
             *town_labels(model.world, s, (x0, y0, x1, y1))]
    if title:
        # TITLE_SIZE units are 11 pixels or more on every map the page draws (0.75 a unit).
        parts.append(f'<text class="bb-map-title" x="{x1 - 8}" y="{y0 + 18}" '
                     f'font-size="{TITLE_SIZE}" text-anchor="end" font-weight="bold" '
                     f'paint-order="stroke" stroke="white" stroke-width="3">'
                     f"{escape(title)}</text>")
    parts.append("</svg>")
    return "".join(parts)
