"""Figures of runs and comparisons (matplotlib, no display needed).

Both show the outcomes the registry shows as ``plot`` (:func:`sim.core.outcomes.shown`).  A flow
(deaths) is drawn as bars of its total per calendar year, so that each atrocity counts once and
the bars read as deaths per year; a share runs on a 0–1 axis.  Colours, type and legends come
from :mod:`sim.interfaces.figure_style`.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.core.outcomes import shown
from sim.core.registry import Outcome
from sim.interfaces.figure_style import (
    NEUTRAL,
    axis_label,
    count_axis,
    date_axis,
    legend_outside,
    looks,
    share_axis,
    styled,
    wrapped,
)

BAND = (10, 90)  # the percentiles of the seeds a comparison's band spans
BAND_LABEL = "middle 80% of seeds (10th–90th percentile)"
YEAR_WIDTH = 0.8 * 365.25  # days a year's bars take up on a date axis
RUN_LABEL_WIDTH = 22  # characters of a y label that fit the height of one of a run's panels


def _share_by_year(dates: pd.Series, values: np.ndarray) -> pd.Series:
    """``values``, one a week starting on ``dates``, summed per calendar year, a week across
    the new year shared between its two years by its days in each (a year holds 52 weeks and
    one or two days, so giving each week to the year it starts in made some years 53 weeks)."""
    start = pd.to_datetime(dates)
    days_before = (pd.to_datetime((start.dt.year + 1).astype(str) + "-01-01") - start).dt.days
    days_before = days_before.to_numpy()
    first = values * np.clip(days_before, 0, 7) / 7.0
    years = start.dt.year.to_numpy()
    crosses = days_before < 7
    per_year = pd.Series(first).groupby(years).sum()
    return per_year.add(pd.Series((values - first)[crosses]).groupby(years[crosses] + 1).sum(),
                        fill_value=0.0)


def yearly(frame: pd.DataFrame, outcome: Outcome) -> pd.Series:
    """A weekly flow summed per calendar year, indexed by year, the years the run covers only
    in part included (:func:`_year_title` names them)."""
    return _share_by_year(frame["date"], frame[outcome.name].astype(float).to_numpy())


def _year_title(outcome: Outcome, dates: pd.Series) -> str:
    """A flow's panel title: per calendar year, naming the years the run misses more than a
    week of."""
    covered = 7 * _share_by_year(dates, np.ones(len(dates)))
    partial = [int(y) for y, days in covered.items()
               if days < (366 if calendar.isleap(int(y)) else 365) - 7]
    note = f" ({' and '.join(map(str, partial))} partial)" if partial else ""
    return f"{outcome.label} per calendar year{note}"


def _mid_year(years: Iterable[int]) -> np.ndarray:
    return np.array([date2num(pd.Timestamp(int(y), 7, 2)) for y in years])


@styled
def plot_run(df: pd.DataFrame, event_log: Iterable[tuple[str, str]] = (),
             columns: Sequence[str] | None = None, title: str = "Blowback run") -> Figure:
    """The main series of one run against its dates, with its events marked (grey lines),
    under ``title``."""
    chosen = [o for o in shown("plot") if columns is None or o.name in columns]
    fig, axes = plt.subplots(len(chosen), 1, figsize=(10, 2.6 * len(chosen)), sharex=True,
                             squeeze=False, layout="constrained")
    for ax, o in zip(axes[:, 0], chosen, strict=True):
        if o.flow:
            per_year = yearly(df, o)
            ax.bar(_mid_year(per_year.index), per_year.to_numpy(), width=YEAR_WIDTH,
                   color="#0072B2")
            ax.set_title(_year_title(o, df["date"]), loc="left")
        else:
            ax.plot(pd.to_datetime(df["date"]), df[o.name].to_numpy(dtype=float),
                    color="#0072B2")
        if o.share:
            share_axis(ax)
        else:
            count_axis(ax)
        # Broken into lines that fit the panel's height: one line ran into the panels next
        # to it ("population under state control (0–1)").
        ax.set_ylabel(wrapped(axis_label(o, per_year=o.flow), RUN_LABEL_WIDTH))
        for date, _ in event_log:
            ax.axvline(pd.Timestamp(date), color=NEUTRAL, lw=0.6, zorder=0)
    axes[-1, 0].set_xlabel("date (grey lines: events)")
    axes[-1, 0].xaxis_date()
    date_axis(axes[-1, 0])
    fig.suptitle(title)
    return fig


@dataclass
class Seeds:
    """A scenario's runs as :func:`plot_comparison` draws them: the ``dates`` of its first run,
    each level's weekly values (``levels``, one row a run) and each flow's totals per calendar
    year (``per_year``, one row a run, :func:`yearly`), by the outcome's name."""

    dates: pd.Series
    levels: dict[str, np.ndarray]
    per_year: dict[str, pd.DataFrame]
    count: int


def seeds_of(frames: Sequence[pd.DataFrame]) -> Seeds:
    """What :func:`plot_comparison` draws of ``frames``, each a run's weekly series."""
    panels = shown("plot")
    return Seeds(frames[0]["date"],
                 {o.name: np.array([f[o.name].to_numpy(dtype=float) for f in frames])
                  for o in panels if not o.flow},
                 {o.name: pd.DataFrame([yearly(f, o) for f in frames]) for o in panels if o.flow},
                 len(frames))


@styled
def plot_comparison(runs: Mapping[str, Sequence[pd.DataFrame] | Seeds]) -> Figure:
    """Mean over seeds of the main series and the middle 80% of seeds, one look per scenario;
    flows as bars per calendar year (whiskers: the same middle 80%).  A scenario's runs are
    its weekly series, one frame a run, or what is drawn of them (:class:`Seeds`)."""
    runs = {name: seeds if isinstance(seeds, Seeds) else seeds_of(seeds)
            for name, seeds in runs.items()}
    panels = shown("plot")
    rows = -(-len(panels) // 3)
    fig, axes = plt.subplots(rows, 3, figsize=(16, 4.2 * rows + 1.2), squeeze=False,
                             layout="constrained")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    style = looks(runs)
    for k, (name, seeds) in enumerate(runs.items()):
        for ax, o in zip(axes.ravel(), panels, strict=False):
            if o.flow:
                _yearly_bars(ax, o, seeds, style[name], k, len(runs))
            else:
                _band(ax, o, seeds, style[name])
    for ax, o in zip(axes.ravel(), panels, strict=False):
        ax.set_ylabel(axis_label(o, per_year=o.flow))
        ax.set_xlabel("calendar year" if o.flow else "date")
        if not o.flow:  # a flow's bars are labelled by their years (_yearly_bars)
            ax.xaxis_date()
            date_axis(ax)
        if o.share:
            share_axis(ax)
        else:
            count_axis(ax)
        if not o.flow:
            ax.set_title(o.title)
    handles = [Patch(color=look.colour, label=name) for name, look in style.items()]
    handles.append(Patch(color=NEUTRAL, alpha=0.3, label=f"band, whiskers: {BAND_LABEL}"))
    legend_outside(fig, handles, [h.get_label() for h in handles])
    # A sweep analysed before it finished has fewer seeds in some groups than in others.
    counts = sorted({seeds.count for seeds in runs.values()})
    n = f"{counts[0]}" if len(counts) == 1 else f"{counts[0]}–{counts[-1]}"
    fig.suptitle(f"Regimes compared on common random numbers: mean over {n} seeds and the "
                 "middle 80% of seeds")
    return fig


def _band(ax, o: Outcome, seeds: Seeds, look) -> None:
    """A level's mean over seeds and the middle 80% of seeds."""
    dates = pd.to_datetime(seeds.dates)
    stack = seeds.levels[o.name]
    low, high = np.percentile(stack, BAND, axis=0)
    ax.fill_between(dates, low, high, color=look.colour, alpha=0.18, lw=0)
    ax.plot(dates, stack.mean(axis=0), color=look.colour, ls=look.line)


def _yearly_bars(ax, o: Outcome, seeds: Seeds, look, k: int, n: int) -> None:
    """A flow's mean total per calendar year, one bar a scenario side by side, whiskers the
    middle 80% of seeds."""
    per_year = seeds.per_year[o.name]
    mean = per_year.mean().to_numpy()
    low, high = np.percentile(per_year.to_numpy(), BAND, axis=0)
    width = YEAR_WIDTH / n
    x = _mid_year(per_year.columns) - YEAR_WIDTH / 2 + width * (k + 0.5)
    ax.bar(x, mean, width=width, color=look.colour, hatch=None if look.line == "-" else "//",
           yerr=np.stack([mean - low, high - mean]), capsize=2, ecolor=NEUTRAL)
    ax.set_title(_year_title(o, seeds.dates))
    # A year, not a date, under each group of bars: month ticks ("Mar", "May") under the bars
    # of a run of a year or two read as if each bar were a month. At most seven labels.
    years = [int(y) for y in per_year.columns][:: -(-len(per_year.columns) // 7)]
    ax.set_xticks(_mid_year(years), [str(y) for y in years])
