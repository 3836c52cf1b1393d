"""The public figures on Mali that the model is calibrated on and checked against.

Each figure says what was counted, its value, who reported it, whether the public figure is a
point value or a bound ("at least"), and how the same quantity is read off a run's weekly
series.  The brief's table (``shared/MODEL-BRIEF.md``) is their origin; they are typed once here
and every notebook, test and report reads them from this module.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

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
    when = _dates(series)
    return float(series.loc[(when >= start) & (when <= end), column].sum())


def _stock_at(series: pd.DataFrame, column: str, day: str) -> float:
    """The value of a stock at the end of the last week whose middle is on or before ``day``."""
    when = _dates(series)
    before = series.loc[when <= day, column]
    return float(before.iloc[-1]) if len(before) else float("nan")


def atrocity_toll(series: pd.DataFrame, start: str = "2022-03-01", end: str = "2022-03-31"
                  ) -> float:
    """The largest single mass-atrocity toll in a window (the scheduled operation's week)."""
    when = _dates(series)
    window = series.loc[(when >= start) & (when <= end), "largest_event"]
    return float(window.max()) if len(window) else 0.0


def _civilians_2022_without_atrocity(series: pd.DataFrame) -> float:
    return _between(series, "civilian_deaths", "2022-01-01", "2022-12-31") - atrocity_toll(series)


def _contractor_share_2022(series: pd.DataFrame) -> float:
    total = _between(series, "civilian_deaths", "2022-01-01", "2022-12-31")
    by_contractor = _between(series, "civilian_deaths_contractor", "2022-01-01", "2022-12-31")
    return by_contractor / total if total > 0 else 0.0


def _acled_window(series: pd.DataFrame) -> float:
    return _between(series, "civilian_deaths", "2021-12-01", "2023-01-31")


def _acled_year_before(series: pd.DataFrame) -> float:
    return _between(series, "civilian_deaths", "2020-12-01", "2021-11-30")


FIGURES: tuple[Figure, ...] = (
    Figure("idp_2019", "internally displaced, December 2019", 207_751, "about",
           "IOM displacement tracking", dt.date(2019, 12, 31),
           lambda s: _stock_at(s, "displaced", "2019-12-31")),
    Figure("idp_2020", "internally displaced, December 2020", 332_957, "about",
           "IOM displacement tracking", dt.date(2020, 12, 31),
           lambda s: _stock_at(s, "displaced", "2020-12-31")),
    Figure("idp_2021", "internally displaced, mid-2021", 380_000, "about",
           "IOM displacement tracking", dt.date(2021, 6, 30),
           lambda s: _stock_at(s, "displaced", "2021-06-30")),
    Figure("civilians_2021", "civilians killed, 2021", 584, "about",
           "UN mission (MINUSMA) human-rights division", dt.date(2021, 12, 31),
           lambda s: _between(s, "civilian_deaths", "2021-01-01", "2021-12-31")),
    Figure("civilians_year_before", "civilians killed, Dec 2020 - Nov 2021", 500, "about",
           "ACLED, reported January 2023", dt.date(2021, 11, 30), _acled_year_before),
    Figure("civilians_2022", "civilians killed, 2022, the mass atrocity excluded", 1_277,
           "about", "UN mission (MINUSMA) human-rights division", dt.date(2022, 12, 31),
           _civilians_2022_without_atrocity),
    Figure("civilians_dec2021_jan2023", "civilians killed, Dec 2021 - Jan 2023", 2_000,
           "at_least", "ACLED, reported January 2023", dt.date(2023, 1, 31), _acled_window),
    Figure("contractor_share_2022", "share of 2022 civilian deaths involving the contractor",
           1 / 3, "at_least", "ACLED, reported January 2023", dt.date(2022, 12, 31),
           _contractor_share_2022),
    Figure("atrocity_2022", "deaths in the mass-atrocity operation, March 2022", 500,
           "at_least", "OHCHR report, May 2023", dt.date(2022, 3, 31), atrocity_toll),
)
BY_KEY = {f.key: f for f in FIGURES}
