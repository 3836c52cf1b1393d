"""Figures of runs and comparisons (matplotlib, no display needed).

Both show the outcomes the registry shows as ``plot`` (:func:`sim.core.outcomes.shown`); a flow
(deaths) is summed per quarter, so that it reads at a glance.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.core.outcomes import shown
from sim.core.registry import Outcome


def _quarterly(values: np.ndarray) -> np.ndarray:
    """Rolling 13-week sum, so a weekly flow reads as deaths per quarter."""
    kernel = np.ones(13)
    return np.convolve(values, kernel, mode="full")[: len(values)]


def _plotted(frame: pd.DataFrame, outcome: Outcome) -> np.ndarray:
    """One outcome's weekly series as plotted: a flow summed per quarter, a level as it is."""
    values = frame[outcome.name].to_numpy(dtype=float)
    return _quarterly(values) if outcome.flow else values


def plot_run(df: pd.DataFrame, event_log: Iterable[tuple[str, str]] = (),
             columns: Sequence[str] | None = None) -> Figure:
    """The main series of one run against its dates, with its events marked."""
    chosen = [o for o in shown("plot") if columns is None or o.name in columns]
    fig, axes = plt.subplots(len(chosen), 1, figsize=(9, 2.1 * len(chosen)), sharex=True,
                             squeeze=False)
    for ax, o in zip(axes[:, 0], chosen, strict=True):
        ax.plot(df["date"], _plotted(df, o), color="#8c2d04")
        ax.set_ylabel(o.title, fontsize=8)
        for date, _ in event_log:
            ax.axvline(pd.Timestamp(date), color="0.7", lw=0.6, zorder=0)
    axes[0, 0].set_title("Blowback run")
    fig.tight_layout()
    return fig


def plot_comparison(runs: dict[str, list[pd.DataFrame]]) -> Figure:
    """Mean and 95% band across seeds of the main series, one colour per scenario."""
    panels = shown("plot")
    rows = -(-len(panels) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(14, 3.5 * rows), sharex=True, squeeze=False)
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (name, frames) in enumerate(runs.items()):
        dates = frames[0]["date"]
        for ax, o in zip(axes.ravel(), panels, strict=False):
            stack = np.array([_plotted(f, o) for f in frames])
            low, high = np.percentile(stack, [2.5, 97.5], axis=0)
            colour = colours[k % len(colours)]
            ax.fill_between(dates, low, high, color=colour, alpha=0.18, lw=0)
            ax.plot(dates, stack.mean(axis=0), color=colour, lw=1.4, label=name)
            ax.set_title(o.title, fontsize=10)
    axes[0, 0].legend(fontsize=7, loc="upper left")
    n = len(next(iter(runs.values())))
    fig.suptitle(f"Regimes compared on common random numbers: mean and 95% band over {n} seeds")
    fig.autofmt_xdate()
    fig.tight_layout()
    return fig
