"""The dashboard's colours for a colour-blind viewer on a projector: every map layer tells its
values apart under each of the three dichromacies, every symbol stands out on every layer, and
its casing leaves its colour as wide as it is meant to be.

The colour vision of a dichromat is simulated with Machado, Oliveira and Fernandes's (2009)
matrices at full severity, applied to linear RGB; two colours are told apart by their CIE76
difference (Euclidean distance in CIELAB), where about 2.3 is just noticeable and 10 is plain.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import MAP_SCALE, small

from sim.interfaces.dashboard import map as world_map
from sim.interfaces.dashboard.session import Session

# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of color
# vision deficiency", IEEE TVCG 15(6), table of severity 1.0.
DICHROMACIES = {
    "protanopia": np.array([[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216],
                            [-0.003882, -0.048116, 1.051998]]),
    "deuteranopia": np.array([[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413],
                              [-0.011820, 0.042940, 0.968881]]),
    "tritanopia": np.array([[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602],
                            [0.004733, 0.691367, 0.303900]]),
}
CATEGORIES_APART = 12.0  # ΔE between any two categories: plainly different at a glance
ENDS_APART = 25.0  # ΔE between the two ends of a scale
STEPS_APART = 10.0  # ΔE between points a quarter of the scale apart


def linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB (0-255) to linear RGB (0-1)."""
    c = np.asarray(rgb, dtype=float) / 255.0
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def lab(rgb_linear: np.ndarray) -> np.ndarray:
    """Linear RGB to CIELAB (D65 white)."""
    xyz = rgb_linear @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                                 [0.0193, 0.1192, 0.9505]]).T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]),
                     200 * (f[..., 1] - f[..., 2])], axis=-1)


def seen(rgb: np.ndarray, dichromacy: str) -> np.ndarray:
    """The CIELAB colours a viewer with ``dichromacy`` sees for sRGB (0-255) ``rgb``."""
    return lab(np.clip(linear(rgb) @ DICHROMACIES[dichromacy].T, 0.0, 1.0))


def _apart(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b))


@pytest.mark.parametrize("dichromacy", list(DICHROMACIES))
@pytest.mark.parametrize("name", list(world_map.LAYERS))
def test_every_map_layer_tells_its_values_apart_for_a_colour_blind_viewer(name, dichromacy):
    """A categorical layer (the social groups) keeps every two categories plainly apart; a 0-1
    layer keeps its two ends apart (a red-green map's ends look alike to a deuteranope) and
    every two points a quarter of its scale apart."""
    layer = world_map.LAYERS[name]
    if layer.categories:
        shown = seen(world_map.colours(layer, np.arange(len(layer.categories))), dichromacy)
        closest = min((_apart(shown[i], shown[j]), layer.categories[i], layer.categories[j])
                      for i in range(len(shown)) for j in range(i + 1, len(shown)))
        assert closest[0] >= CATEGORIES_APART, closest
        return
    at = np.linspace(layer.low, layer.high, 5)
    values = 10 ** at - 1 if layer.log else at
    shown = seen(world_map.colours(layer, values), dichromacy)
    assert _apart(shown[0], shown[-1]) >= ENDS_APART, layer.colormap
    steps = [_apart(shown[k], shown[k + 1]) for k in range(len(shown) - 1)]
    assert min(steps) >= STEPS_APART, (layer.colormap, steps)


def test_the_social_groups_take_okabe_ito_colours_as_every_figure_does():
    from sim.interfaces.figure_style import OKABE_ITO

    layer = world_map.LAYERS["group"]
    assert set(layer.palette) <= set(OKABE_ITO)
    assert len(set(layer.palette)) == len(layer.categories)


NON_TEXT_CONTRAST = 3.0  # WCAG 2.1, success criterion 1.4.11: a graphic against what adjoins it
# A ring thinner than about 1.5 pixels is lost to anti-aliasing.  A part of a symbol counts
# where it is that wide on the smallest map the page draws (MAP_SCALE pixels a unit, which the
# browser test checks): 2 map units.
RING_PIXELS = 1.5
WIDE_ENOUGH = RING_PIXELS / MAP_SCALE
_ELEMENT = re.compile(r'<(rect|polygon|circle|path) [^>]*?(?:fill="([^"]*)" )?stroke="([^"]*)"'
                      r' stroke-width="([^"]*)"')


def luminance(rgb: np.ndarray) -> np.ndarray:
    """WCAG relative luminance of sRGB (0-255) colours."""
    return linear(rgb) @ np.array([0.2126, 0.7152, 0.0722])


def contrast(a: np.ndarray, b: np.ndarray) -> float:
    """WCAG contrast ratio of two sRGB (0-255) colours, 1 to 21."""
    la, lb = sorted((float(luminance(a)), float(luminance(b))))
    return (lb + 0.05) / (la + 0.05)


def _rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[k:k + 2], 16) for k in (1, 3, 5)])


def visible_parts(symbol: str) -> list[tuple[str, float]]:
    """The colours a symbol shows and how wide each is, in map units: its elements are drawn
    in order, each a stroke (and a fill) over the one before; an element's stroke shows
    outside the next one's by half the difference of their widths, and the last one's fill and
    stroke show whole.  A fill is taken as wide enough."""
    elements = [(fill, stroke, float(width)) for _, fill, stroke, width in
                _ELEMENT.findall(symbol)]
    assert elements, symbol
    parts = [(stroke, (width - elements[k + 1][2]) / 2)
             for k, (_, stroke, width) in enumerate(elements[:-1])]
    fill, stroke, width = elements[-1]
    parts.append((stroke, width))
    if fill and fill != "none" and not symbol.count("<path "):
        parts.append((fill, np.inf))
    return parts


def _symbols() -> list[str]:
    """Each symbol the map's key shows (units, bands, mines), as drawn on the map."""
    return re.findall(r'<g class="bb-(?:symbol|band)"[^>]*>.*?</g>', world_map.key("cooperation"))


@pytest.mark.parametrize("name", list(world_map.LAYERS))
def test_every_symbol_stands_out_on_every_layer(name):
    """Each unit, band and mine has a part at least WIDE_ENOUGH whose WCAG contrast ratio with
    the layer's colour under it is at least 3:1 (non-text contrast), for the layer's colours
    at both ends of its scale and at its quarters (every category of a categorical layer), and
    for the countries' own colours where no community is."""
    layer = world_map.LAYERS[name]
    values = np.arange(len(layer.categories)) if layer.categories else \
        np.linspace(layer.low, layer.high, 5)
    if layer.log:
        values = 10 ** values - 1
    under = [*world_map.colours(layer, values), np.array(world_map.HOST_RGB),
             np.array(world_map.NEIGHBOUR_RGB)]
    symbols = _symbols()
    assert len(symbols) == 6  # three kinds of unit, two factions' bands, a mine
    for symbol in symbols:
        title = re.search(r"<title>([^<]*)", symbol).group(1)
        parts = [(_rgb(colour), width) for colour, width in visible_parts(symbol)
                 if width >= WIDE_ENOUGH]
        for colour in under:
            best = max((contrast(part, colour) for part, _ in parts), default=1.0)
            assert best >= NON_TEXT_CONTRAST, (title, tuple(colour), round(best, 2))


def test_the_key_draws_its_symbols_as_large_as_the_smallest_map():
    """The symbols above are judged at MAP_SCALE pixels a unit: the key, page text beside the
    maps, draws each at that scale or more, so that its casing keeps RING_PIXELS there too."""
    boxes = re.findall(r'<svg viewBox="[-.\d]+ [-.\d]+ ([.\d]+) [.\d]+" width="([.\d]+)"',
                       world_map.key("cooperation"))
    assert len(boxes) == 7  # three kinds of unit, two factions' bands, a mine, a town
    for units, pixels in boxes:
        assert float(pixels) / float(units) >= MAP_SCALE, (units, pixels)


# The least width of each shape's coloured fill, inside its black edge, on the smallest map the
# page draws (MAP_SCALE pixels a unit): the diameter of the circle inside it, in pixels, as wide
# as under an edge of 1.5 units.  A unit's colour says who it is (the contractor's orange above
# all): a wider casing must not take it.
FILL_PIXELS = {"rect": 3.2, "circle": 3.2, "triangle": 2.0, "diamond": 2.65}
_GEOMETRY = re.compile(r'<(rect|circle|polygon) ([^>]*?) fill="(?!#ffffff)[^"]*" stroke="[^"]*"'
                       r' stroke-width="([^"]*)"')


def _inradius(tag: str, geometry: str) -> tuple[str, float]:
    """The shape and the radius of the circle inside it, in map units, of an SVG element: a
    polygon's (a triangle, a rhombus) is its area over its half-perimeter."""
    numbers = {k: float(v) for k, v in re.findall(r'(\w+)="([-0-9.]+)"', geometry)}
    if tag == "rect":
        return tag, min(numbers["width"], numbers["height"]) / 2
    if tag == "circle":
        return tag, numbers["r"]
    points = np.array(re.search(r'points="([^"]*)"', geometry).group(1).replace(",", " ").split(),
                      dtype=float).reshape(-1, 2)
    x, y = points.T
    area = abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2
    perimeter = np.hypot(*(points - np.roll(points, 1, axis=0)).T).sum()
    return {3: "triangle", 4: "diamond"}[len(points)], area / (perimeter / 2)


def test_every_unit_and_mine_keeps_its_colour_inside_its_casing():
    """The coloured fill of each unit and mining site on the map, less the half of its black
    edge that lies over it, is at least as wide as FILL_PIXELS says at MAP_SCALE."""
    svg = world_map.svg(Session(small("contractor_unchecked", **{"map.communities": 200}))
                        .model, "cooperation")
    fills = {}
    for tag, geometry, edge in _GEOMETRY.findall(svg):
        shape, radius = _inradius(tag, geometry)
        fills[shape] = min(fills.get(shape, np.inf), 2 * (radius - float(edge) / 2) * MAP_SCALE)
    assert set(fills) == set(FILL_PIXELS)
    for shape, pixels in fills.items():
        assert pixels >= FILL_PIXELS[shape], (shape, round(pixels, 2))
