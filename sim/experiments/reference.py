"""The public figures on Mali that the model is read against, and how it is read.

The figures are data (:mod:`sim.experiments.record`); this module says how the model's
counterpart of a series is read off a run's weekly series (a stock on a day, a count over a
period), and makes a :class:`Figure` of every row of the record whose series the model can be
read against.  Series without a reader here (ACLED's and UCDP's yearly counts, the perpetrator
splits, refugees, the neighbours) are kept in the record for the calibration that models what
each source sees.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.experiments.record import load_record

# The last day whose figures may be used for fitting; later ones are for retrodiction only.
FIT_UNTIL = dt.date(2021, 12, 31)


@dataclass(frozen=True)
class Figure:
    """One public figure and how the model's counterpart is read off a run's weekly series."""

    key: str
    label: str
    value: float
    bound: str  # "about": a point value; "at_least": a lower bound
    source: str
    last_day: dt.date  # the last day the figure covers: fit only if <= FIT_UNTIL
    read: Callable[[pd.DataFrame], float]

    @property
    def fittable(self) -> bool:
        """Whether the figure lies inside the fitting window."""
        return self.last_day <= FIT_UNTIL

    def verdict(self, low: float, high: float) -> str:
        """How a model interval [low, high] compares with the figure: 'matches', 'above',
        'below' (for a bound: 'meets' or 'below')."""
        if self.bound == "at_least":
            return "meets" if high >= self.value else "below"
        if low > self.value:
            return "above"
        if high < self.value:
            return "below"
        return "matches"


def _dates(series: pd.DataFrame) -> pd.Series:
    """The middle day of each weekly step: a week counts in the period that holds its middle
    (the week of 28 February 2022 is a March week), so no week counts twice."""
    return pd.to_datetime(series["date"]) + pd.Timedelta(days=3)


def _between(series: pd.DataFrame, column: str, start: str, end: str) -> float:
    """The sum of a weekly count over the weeks whose middle lies in [start, end]; NaN if the
    run begins after ``start`` (the period is not all in the run)."""
    when = _dates(series)
    if when.iloc[0] - pd.Timedelta(days=7) > pd.Timestamp(start):
        return float("nan")
    return float(series.loc[(when >= start) & (when <= end), column].sum())


def _stock_at(series: pd.DataFrame, column: str, day: str) -> float:
    """The value of a stock at the end of the last week whose middle is on or before ``day``."""
    when = _dates(series)
    before = series.loc[when <= day, column]
    return float(before.iloc[-1]) if len(before) else float("nan")


def atrocity_toll(series: pd.DataFrame, start: str = "2022-03-01", end: str = "2022-03-31"
                  ) -> float:
    """The largest single event's toll in a window (an operation's month): what the model has
    for one operation's mass killing."""
    when = _dates(series)
    window = series.loc[(when >= start) & (when <= end), "largest_event"]
    return float(window.max()) if len(window) else 0.0


def _month_window(start: str, end: str) -> tuple[str, str]:
    """The calendar months that hold ``start`` and ``end``: scenarios date an operation by
    month, so its week can be any week of the month the source dates it to."""
    first = pd.Timestamp(start).replace(day=1)
    last = pd.Timestamp(end) + pd.offsets.MonthEnd(0)
    return str(first.date()), str(last.date())


def _deaths(series: pd.DataFrame, start: str, end: str) -> float:
    return _between(series, "civilian_deaths", start, end)


def _deaths_without_atrocity(series: pd.DataFrame, start: str, end: str) -> float:
    """Civilian deaths less the toll of the March 2022 operation, which the UN counted apart."""
    return _deaths(series, start, end) - atrocity_toll(series)


def _contractor_share(series: pd.DataFrame, start: str, end: str) -> float:
    total = _deaths(series, start, end)
    by_contractor = _between(series, "civilian_deaths_contractor", start, end)
    return by_contractor / total if total > 0 else 0.0


def _displaced(series: pd.DataFrame, start: str, end: str) -> float:
    return _stock_at(series, "displaced", end)


def _atrocity(series: pd.DataFrame, start: str, end: str) -> float:
    return atrocity_toll(series, *_month_window(start, end))


# How the model's counterpart of each series is read, over the figure's period [start, end];
# and what the series is called in a table.
READERS: dict[str, tuple[str, Callable[[pd.DataFrame, str, str], float]]] = {
    "idps": ("internally displaced", _displaced),
    "un_civilians_killed": ("civilians killed (UN)", _deaths),
    "un_civilians_killed_quarter": ("civilians killed in a quarter (UN)", _deaths),
    "un_civilians_killed_excl_mass_atrocity": ("civilians killed, the mass atrocity excluded "
                                               "(UN)", _deaths_without_atrocity),
    "acled_civilian_fatalities_window": ("civilians killed (ACLED, Jan 2023)", _deaths),
    "acled_share_involving_contractor": ("share of civilian deaths involving the contractor "
                                         "(ACLED)", _contractor_share),
    "ohchr_mass_atrocity_deaths": ("deaths in the mass-atrocity operation (OHCHR)", _atrocity),
}


def _period(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{end:%d %b %Y}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(end.year)
    return f"{start:%d %b %Y} to {end:%d %b %Y}"


def _key(row) -> str:
    whole_year = (row.start == dt.date(row.year, 1, 1) and row.end == dt.date(row.year, 12, 31))
    return f"{row.series}:{row.year if whole_year else row.end.isoformat()}"


def figures(record: pd.DataFrame) -> tuple[Figure, ...]:
    """A :class:`Figure` of every row of ``record`` (:func:`load_record`) whose series the
    model is read against, keyed ``series:year`` (a whole year) or ``series:last day``."""
    made = []
    for row in record.itertuples():
        if row.series not in READERS:
            continue
        label, reader = READERS[row.series]
        start, end = row.start.isoformat(), row.end.isoformat()
        made.append(Figure(_key(row), f"{label}, {_period(row.start, row.end)}", row.value,
                           row.bound, row.source, row.end,
                           lambda s, f=reader, a=start, b=end: f(s, a, b)))
    return tuple(made)


def load_figures(path: str | Path | None = None) -> tuple[Figure, ...]:
    """The figures of a record file (the package's own by default)."""
    return figures(load_record(path))


FIGURES: tuple[Figure, ...] = load_figures()
BY_KEY = {f.key: f for f in FIGURES}
