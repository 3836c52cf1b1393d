"""How every Blowback figure looks: one palette, one look per regime, readable type, axis labels
that state units and legends outside the data.

The palette is Okabe and Ito's eight colours, safe for the common colour-vision deficiencies and
distinct on a washed-out projector.  A figure with more groups than colours varies the marker
and the line style as well, so that no two groups look the same.  Each drawing function runs
under :func:`styled`, so that its type sizes hold whatever the caller's matplotlib settings.
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

from sim.core.registry import Outcome, Param

# Okabe & Ito (2008), "Color Universal Design"; black first, yellow last because it is the
# faintest on a white background.
OKABE_ITO: tuple[str, ...] = ("#000000", "#E69F00", "#56B4E9", "#009E73", "#0072B2",
                              "#D55E00", "#CC79A7", "#F0E442")
MARKERS: tuple[str, ...] = ("o", "s", "^", "D", "v", "P")
LINE_STYLES: tuple[str, ...] = ("-", "--", ":", "-.")
# Inches a panel takes beside its data (ticks, axis label, gaps) and that a figure keeps above
# the top of its axes (the title).
PANEL_MARGIN = 0.5
LEGEND_TOP = 0.7
NEUTRAL = "#999999"  # points and bands that belong to no group
HIGHLIGHT = "#D55E00"  # vermillion: the cases a figure singles out

# Sizes in points, for a figure shown on a projector at the back of a seminar room.
RC: dict[str, Any] = {
    "font.size": 12, "axes.titlesize": 13, "axes.labelsize": 12, "xtick.labelsize": 11,
    "ytick.labelsize": 11, "legend.fontsize": 11, "figure.titlesize": 14,
    "axes.spines.top": False, "axes.spines.right": False, "lines.linewidth": 2.0,
}


@dataclass(frozen=True)
class Look:
    """How one group (a regime, a scenario) is drawn in every figure."""

    colour: str
    marker: str
    line: str


def looks(names: Iterable[str]) -> dict[str, Look]:
    """One look per name, in the order given: the k-th name gets the same look in every figure
    that is given the same names.  Colours cycle first; past eight names the marker and the line
    style change too, so every name's look differs from every other's."""
    out: dict[str, Look] = {}
    for k, name in enumerate(dict.fromkeys(names)):
        turn = k // len(OKABE_ITO)
        out[name] = Look(OKABE_ITO[k % len(OKABE_ITO)], MARKERS[turn % len(MARKERS)],
                         LINE_STYLES[turn % len(LINE_STYLES)])
    return out


def unit_of(outcome: Outcome, per_year: bool = False) -> str:
    """The unit an axis of ``outcome`` states: a share as (0–1), a weekly flow per week (or per
    year where the figure sums it by year)."""
    if outcome.share or outcome.unit in ("0-1", "share"):
        return "0–1"
    unit = outcome.unit
    if per_year and unit.endswith("/week"):
        return unit.removesuffix("/week") + " per year"
    return unit.replace("/week", " per week")


def parameter_unit(param: Param) -> str:
    """The unit an axis of ``param`` states: its declared unit, a share as (0–1), a switch as
    (0 = no, 1 = yes), and a pure number, declared "-", as dimensionless."""
    if param.unit in ("0-1", "share"):
        return "0–1"
    if param.unit == "-":
        return "0 = no, 1 = yes" if param.type is bool else "dimensionless"
    return param.unit


def axis_label(quantity: Outcome | Param, per_year: bool = False) -> str:
    """An axis label that names the quantity and states its unit, e.g. "civilian deaths per
    year" (a weekly flow summed by year), "state legitimacy (0–1)", or for a parameter its
    name and unit, "insurgents.recruitment (1/week)"."""
    if isinstance(quantity, Param):
        return f"{quantity.name} ({parameter_unit(quantity)})"
    if per_year and quantity.flow:
        return f"{quantity.label} per year"
    return f"{quantity.title or quantity.label} ({unit_of(quantity, per_year)})"


def date_axis(ax: Any) -> None:
    """Dates along x with a few short ticks (years, then months), never crowded."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=6)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def share_axis(ax: Any, axis: str = "y") -> None:
    """A 0–1 quantity's axis runs from 0 to 1, so small changes look as small as they are."""
    (ax.set_ylim if axis == "y" else ax.set_xlim)(0, 1)


def count_axis(ax: Any, axis: str = "y") -> None:
    """A count's axis in plain numbers, thousands separated (1,500,000): matplotlib writes a
    count of millions as 1.5 under a "1e6" above the axis, which a reader of a report misses."""
    from matplotlib.ticker import FuncFormatter

    def plain(value: float, _position: int) -> str:
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:g}"

    (ax.yaxis if axis == "y" else ax.xaxis).set_major_formatter(FuncFormatter(plain))


def legend_outside(where: Any, handles: Sequence[Any] | None = None,
                   labels: Sequence[str] | None = None, title: str | None = None) -> Any:
    """A legend beside the data, never over it: right of the axes for one axes, below all
    panels for a figure (``where`` is an axes or a figure; the figure must use the constrained
    layout, which makes room for it).  Long labels (a sweep's groups) take fewer columns below
    the panels, and the figure grows where the legend would otherwise take the data's room."""
    from matplotlib.figure import Figure

    if handles is None:
        found: dict[str, Any] = {}  # one entry a label, as panels repeat them
        for ax in where.axes if isinstance(where, Figure) else [where]:
            for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
                found.setdefault(label, handle)
        labels, handles = list(found), list(found.values())
    if isinstance(where, Figure):
        return _below(where, handles, labels, title)
    legend = where.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                          borderaxespad=0.0, title=title)
    _fit_beside(where.get_figure(), legend)
    return legend


def _below(fig: Any, handles: Sequence[Any], labels: Sequence[str], title: str | None) -> Any:
    """A legend below the panels in as many columns (up to four) as fit the figure's width;
    the figure grows by what the legend takes beyond a fifth of its height, so that the panels
    keep theirs, and in width for a label wider than the figure."""
    for columns in range(min(len(handles), 4), 0, -1):
        legend = fig.legend(handles, labels, loc="outside lower center", ncols=columns,
                            title=title)
        box = legend.get_window_extent()
        if columns == 1 or box.width <= 0.95 * fig.bbox.width:
            break
        legend.remove()  # a legend's columns are fixed when it is made
    fig.set_figwidth(max(fig.get_figwidth(), box.width / 0.95 / fig.dpi))
    fig.set_figheight(fig.get_figheight() + max(0.0, box.height / fig.dpi
                                                - fig.get_figheight() / 5))
    return legend


def _fit_beside(fig: Any, legend: Any) -> None:
    """The figure grows by what the legend right of its axes takes beyond a quarter of its width,
    so that the data keep theirs (and the title centred over them stays on the image), and
    grows in height to hold a legend longer than the axes are high."""
    box = legend.get_window_extent()
    width, height = box.width / fig.dpi, box.height / fig.dpi
    fig.set_figwidth(fig.get_figwidth() + max(0.0, width - fig.get_figwidth() / 4))
    # Below the axes' top, where the legend starts, lie all but the title's room.
    fig.set_figheight(max(fig.get_figheight(), height + LEGEND_TOP))


def wrapped(text: str, width: int) -> str:
    """``text`` broken at spaces into lines of at most ``width`` characters (a word longer than
    that stays whole), for a title or axis label that names a long group."""
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


def widen_for_labels(fig: Any, ax: Any, columns: int, data: float) -> None:
    """Widen ``fig`` where ``ax``'s y tick labels (a sweep's group names) are long, so that
    each of the ``columns`` panels of a row, whose labels appear once at its left, keeps
    ``data`` inches for its data."""
    widest = max((label.get_window_extent().width for label in ax.get_yticklabels()),
                 default=0.0) / fig.dpi
    fig.set_figwidth(max(fig.get_figwidth(), widest + columns * (data + PANEL_MARGIN)))


P = ParamSpec("P")
R = TypeVar("R")


def styled(draw: Callable[P, R]) -> Callable[P, R]:
    """Run a drawing function under the Blowback style (type sizes, palette)."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        import matplotlib.pyplot as plt
        from cycler import cycler

        with plt.rc_context(RC | {"axes.prop_cycle": cycler(color=OKABE_ITO)}):
            drawn = draw(*args, **kwargs)
            # A notebook's first figure loads the backend, which turns interactive mode on;
            # leaving the context must not undo that, or no later figure would be shown.
            settled = {key: plt.rcParams[key] for key in ("backend", "interactive")}
        plt.rcParams.update(settled)
        return drawn

    return wrapper
