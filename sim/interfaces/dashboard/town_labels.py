"""Where the map writes each town's name: beside its town, inside the map's frame and clear of
the other names and of the other towns' dots.

A name is drawn TOWN_SIZE map units high, 11 pixels or more on every map the page draws (0.75
pixels a unit or more, as the map's title): at that size the names of nearby towns (Bamako and
Ségou) would overlap, and one near the frame's edge (Ménaka) would be cut off, if every name
sat at the same side of its town.  So each name takes one of a few places around its town,
chosen so that every name is free, the largest towns' first.  The page measures nothing before
drawing: a name's width is that of DejaVu Sans, which matplotlib ships, one of the widest of the
sans-serif fonts a browser falls back to, so a name drawn in another fits the box it was given.
"""

from __future__ import annotations

from functools import cache
from html import escape

from matplotlib.font_manager import FontProperties
from matplotlib.textpath import TextToPath

from sim.world import geography

TOWN_SIZE = 15  # map units: 11.4 pixels on the smallest map the page draws (0.759 a unit)
HALO = 3  # map units: the width of the white stroke around each letter
# The glyphs' box per unit of the font's size, above and below the baseline, as the browser
# lays out a line of text: DejaVu Sans's ascent and descent.
_ASCENT, _DESCENT = 0.93, 0.24
# Where a name may sit, in order of preference: (side, where its baseline lies) with side
# +1 (right of the town, anchored at its start), -1 (left, anchored at its end) or 0 (centred),
# and the baseline above (-1) or below (+1) the town's dot.
_PLACES = ((1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1), (0, 1))
_ANCHOR = {1: "start", -1: "end", 0: "middle"}
SEARCH_LIMIT = 20_000  # places tried before giving up on leaving every name free

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 in map units


@cache
def _width(name: str) -> float:
    """The width of ``name`` in map units at TOWN_SIZE, halo included."""
    width, _, _ = TextToPath().get_text_width_height_descent(
        name, FontProperties(family="DejaVu Sans", size=TOWN_SIZE), ismath=False)
    return width + HALO


def _box(name: str, x: float, y: float, side: int, below: int, gap: float) -> tuple[Box, float,
                                                                                      float]:
    """The box a name takes at one of its places around the town at (x, y), and its anchor."""
    width = _width(name)
    ax = x + side * gap
    baseline = y + gap + _ASCENT * TOWN_SIZE if below > 0 else y - gap
    left = ax if side > 0 else ax - width if side < 0 else ax - width / 2
    pad = HALO / 2
    return ((left, baseline - _ASCENT * TOWN_SIZE - pad, left + width,
             baseline + _DESCENT * TOWN_SIZE + pad), ax, baseline)


def _overlap(a: Box, b: Box) -> float:
    """The area two boxes share."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def _clash(box: Box, frame: Box, taken: list[Box]) -> float:
    """How much of ``box`` lies outside ``frame`` or over a box already ``taken``."""
    area = (box[2] - box[0]) * (box[3] - box[1])
    return area - _overlap(box, frame) + sum(_overlap(box, t) for t in taken)


def _search(places: list[list[Box]], fixed: list[list[Box]], frame: Box) -> list[int] | None:
    """The first place of each name, in the order of ``places`` and of each name's places, that
    keeps every name inside ``frame``, clear of the names before it and of its ``fixed`` boxes
    (the other towns' dots); None when there is none within SEARCH_LIMIT tries."""
    chosen: list[int] = []
    tries = 0

    def place(i: int) -> bool:
        nonlocal tries
        if i == len(places):
            return True
        before = [places[j][n] for j, n in enumerate(chosen)]
        for n, box in enumerate(places[i]):
            tries += 1
            if tries > SEARCH_LIMIT:
                return False
            if _clash(box, frame, fixed[i] + before) == 0.0:
                chosen.append(n)
                if place(i + 1):
                    return True
                chosen.pop()
        return False

    return chosen if place(0) else None


def _least_clash(places: list[list[Box]], fixed: list[list[Box]], frame: Box) -> list[int]:
    """Each name, in order, at the place that clashes least with the frame, its fixed boxes and
    the names before it: where no place is free for every name."""
    chosen: list[int] = []
    for i, boxes in enumerate(places):
        before = [places[j][n] for j, n in enumerate(chosen)]
        chosen.append(min(range(len(boxes)),
                          key=lambda n: (_clash(boxes[n], frame, fixed[i] + before), n)))
    return chosen


def town_labels(world, s: int, frame: Box) -> list[str]:
    """Each town's name as an SVG ``<text>`` with a white halo, at a place around its town
    (towns by size, the largest first, each at its first place that leaves every name free);
    where no choice leaves them all free, each at the place that clashes least.  ``s`` is the
    pixels of a cell, ``frame`` the map's visible box."""
    centres = [((cell % world.width + 0.5) * s, (cell // world.width + 0.5) * s)
               for cell in world.town_cells]
    dot = s / 3 + 2  # half the side of a town's dot, and a little more
    dots = [(x - dot, y - dot, x + dot, y + dot) for x, y in centres]
    order = sorted(range(len(centres)), key=lambda k: -geography.TOWNS[k][3])
    names = [geography.TOWNS[k][0] for k in order]
    drawn = [[_box(names[i], *centres[k], side, below, 0.7 * s) for side, below in _PLACES]
             for i, k in enumerate(order)]
    places = [[box for box, _, _ in options] for options in drawn]
    fixed = [[d for j, d in enumerate(dots) if j != k] for k in order]
    chosen = _search(places, fixed, frame) or _least_clash(places, fixed, frame)
    out = []
    for name, options, n in zip(names, drawn, chosen, strict=True):
        _, ax, baseline = options[n]
        out.append(f'<text class="bb-town" x="{ax:.1f}" y="{baseline:.1f}" '
                   f'font-size="{TOWN_SIZE}" text-anchor="{_ANCHOR[_PLACES[n][0]]}" fill="#333" '
                   f'paint-order="stroke" stroke="white" stroke-width="{HALO}" '
                   f'stroke-opacity="0.85">{escape(name)}</text>')
    return out
