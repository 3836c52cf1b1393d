"""The public figures on Mali that the model is read against, and how it is read.

The figures are data (:mod:`sim.experiments.record`); this module says how the model's
counterpart of a series is read off a run's weekly series (a stock on a day, a count over a
period), through what each source records of the model's deaths (:mod:`sim.experiments.
detection`), and makes a :class:`Figure` of every row of the record whose series the model can
be read against, with ACLED's perpetrator shares derived from its counts.  Series without a
reader (refugees abroad, Niger's counts, ACLED's event counts and all fatalities, UCDP's
organised violence, the contractor's size and price) are kept in the record but not read: the
model has no counterpart for them.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiments import detection
from sim.experiments.record import load_record

Rates = Mapping[str, float]
Reader = Callable[[pd.DataFrame, str, str, Rates], float]

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
    read: Callable[..., float]  # (weekly series, detection rates = the truth) -> value
    series: str = ""
    unit: str = "deaths"
    first_day: dt.date = dt.date.min  # the first day it covers (a stock: its day)

    @property
    def fittable(self) -> bool:
        """Whether the figure lies inside the fitting window."""
        return self.last_day <= FIT_UNTIL

    def statistic(self, value: float) -> float:
        """What a calibration's distance compares of a run's ``value`` and of the figure's:
        a count or stock on the log scale, a share as it is; a run that reaches an "at least"
        figure is as close to it as the figure itself."""
        if self.bound == "at_least" and value > self.value:
            value = self.value
        return value if self.unit == "share" else math.log1p(max(value, 0.0))

    def verdict(self, low: float, median: float, high: float) -> str:
        """How a model interval [low, high] with its median compares with the figure:
        'matches', 'above' or 'below'; for an "at least" figure, 'meets' when the median
        reaches it, 'reached' when only the interval's upper part does, else 'below'."""
        if self.bound == "at_least":
            return ("meets" if median >= self.value else "reached" if high >= self.value
                    else "below")
        if low > self.value:
            return "above"
        if high < self.value:
            return "below"
        return "matches"


def _dates(series: pd.DataFrame) -> np.ndarray:
    """The middle day of each weekly step: a week counts in the period that holds its middle
    (the week of 28 February 2022 is a March week), so no week counts twice."""
    return pd.to_datetime(series["date"]).to_numpy() + np.timedelta64(3, "D")


def _sum_over(weekly: np.ndarray, series: pd.DataFrame, start: str, end: str) -> float:
    """The sum of a weekly count (aligned with ``series``) over the weeks whose middle lies in
    [start, end]; NaN if the run begins after ``start`` (the period is not all in the run)."""
    when = _dates(series)
    if when[0] - np.timedelta64(7, "D") > np.datetime64(start):
        return float("nan")
    return float(weekly[(when >= np.datetime64(start)) & (when <= np.datetime64(end))].sum())


def _between(series: pd.DataFrame, column: str, start: str, end: str) -> float:
    """The sum of one of the run's weekly counts over [start, end] (:func:`_sum_over`)."""
    return _sum_over(series[column].to_numpy(dtype=float), series, start, end)


def _stock_at(series: pd.DataFrame, column: str, day: str) -> float:
    """The value of a stock at the end of the last week whose middle is on or before ``day``."""
    before = series[column].to_numpy(dtype=float)[_dates(series) <= np.datetime64(day)]
    return float(before[-1]) if len(before) else float("nan")


def atrocity_toll(series: pd.DataFrame, start: str = "2022-03-01", end: str = "2022-03-31"
                  ) -> float:
    """The largest single event's toll in a window (an operation's month): what the model has
    for one operation's mass killing."""
    when = _dates(series)
    inside = (when >= np.datetime64(start)) & (when <= np.datetime64(end))
    window = series["largest_event"].to_numpy(dtype=float)[inside]
    return float(window.max()) if len(window) else 0.0


def _month_window(start: str, end: str) -> tuple[str, str]:
    """The calendar months that hold ``start`` and ``end``: scenarios date an operation by
    month, so its week can be any week of the month the source dates it to."""
    first = pd.Timestamp(start).replace(day=1)
    last = pd.Timestamp(end) + pd.offsets.MonthEnd(0)
    return str(first.date()), str(last.date())


def _recorded(source: str, kinds: tuple[str, ...] = tuple(detection.KINDS)) -> Reader:
    """A reader of the civilian deaths by ``kinds`` that ``source`` records over a period."""
    def read(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
        return _sum_over(detection.weekly(series, source, kinds, rates), series, start, end)
    return read


def _share(source: str, kinds: tuple[str, ...]) -> Reader:
    """A reader of the share of the deaths ``source`` records that it books to ``kinds``."""
    def read(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
        total = _recorded(source)(series, start, end, rates)
        if not total > 0:  # no deaths: no share; NaN: the period is not all in the run
            return 0.0 if total == 0 else float("nan")
        return _recorded(source, kinds)(series, start, end, rates) / total
    return read


def _without_atrocity(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
    """The UN's count less the toll of the March 2022 operation, which the UN counted apart."""
    seen = rates.get(detection.kind_of("un", "state"), 1.0)
    return _recorded("un")(series, start, end, rates) - seen * atrocity_toll(series)


def _contractor_share(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
    total = _recorded("acled")(series, start, end, rates)
    if not total > 0:
        return 0.0 if total == 0 else float("nan")
    seen = rates.get(detection.kind_of("acled", "state"), 1.0)
    return seen * _between(series, "civilian_deaths_contractor", start, end) / total


def _stock(column: str) -> Reader:
    """A reader of a stock of the run (``column``) on the figure's day."""
    def read(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
        return _stock_at(series, column, end)
    return read


def _atrocity(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
    return atrocity_toll(series, *_month_window(start, end))


def _burkina(series: pd.DataFrame, start: str, end: str, rates: Rates) -> float:
    scale = rates.get(detection.BURKINA_SCALE, 1.0)
    return scale * _between(series, "burkina_instability", start, end)


_ACLED_KINDS = {"state": "Malian forces and the contractor", "partner": "foreign forces",
                "armed_groups": "armed groups", "militias": "community militias"}
# The UN mission's shares of victims by perpetrator, and the kinds each covers.
_UN_SHARES = {"armed_groups": ("armed_groups",), "militias": ("militias",),
              "state": ("state",), "international": ("partner",)}

# How the model's counterpart of each series is read, over the figure's period [start, end]
# and through the sources' detection rates; and what the series is called in a table.
READERS: dict[str, tuple[str, Reader]] = {
    "idps": ("internally displaced", _stock("displaced")),
    # The UN monitoring team's estimate is of JNIM alone: the model's faction A, placed in the
    # north and centre, where the rival B starts in the east, as IS Sahel did.
    "jnim_fighters": ("fighters of the main armed group (JNIM)", _stock("insurgent_strength_a")),
    "un_civilians_killed": ("civilians killed (UN)", _recorded("un")),
    "un_civilians_killed_quarter": ("civilians killed in a quarter (UN)", _recorded("un")),
    "un_civilians_killed_excl_mass_atrocity": ("civilians killed, the mass atrocity excluded "
                                               "(UN)", _without_atrocity),
    **{f"un_victims_share_{name}": (f"share of victims by {name.replace('_', ' ')} (UN)",
                                    _share("un", kinds))
       for name, kinds in _UN_SHARES.items()},
    "acled_civilian_fatalities": ("civilians killed (ACLED)", _recorded("acled")),
    "acled_civilian_fatalities_window": ("civilians killed (ACLED, Jan 2023)",
                                         _recorded("acled")),
    **{f"acled_vac_share_{kind}": (f"share of civilian deaths by {label} (ACLED)",
                                   _share("acled", (kind,)))
       for kind, label in _ACLED_KINDS.items()},
    "acled_share_involving_contractor": ("share of civilian deaths involving the contractor "
                                         "(ACLED)", _contractor_share),
    "ucdp_one_sided_government": ("one-sided deaths by the government side (UCDP)",
                                  _recorded("ucdp", ("state", "partner"))),
    "ucdp_one_sided_nonstate": ("one-sided deaths by non-state groups (UCDP)",
                                _recorded("ucdp", ("armed_groups", "militias"))),
    "ucdp_one_sided_deaths": ("one-sided deaths (UCDP)", _recorded("ucdp")),
    "ohchr_mass_atrocity_deaths": ("deaths in the mass-atrocity operation (OHCHR)", _atrocity),
    "burkina_acled_fatalities": ("fatalities in Burkina Faso (ACLED)", _burkina),
}
# ACLED's violence against civilians by the event's first actor, gathered into the model's
# kinds of perpetrator; deaths by other or unidentified actors are left out of the shares.
VAC_ACTORS: dict[str, str] = {
    "state_forces": "state", "french_forces": "partner", "jnim": "armed_groups",
    "jnim_components": "armed_groups", "isgs": "armed_groups", "jnim_or_is": "armed_groups",
    "dan_na_ambassagou": "militias", "dozo_dogon_militias": "militias",
    "fulani_militia": "militias",
}
VAC_PREFIX = "acled_vac_deaths_"


def _period(start: dt.date, end: dt.date) -> str:
    if start == end:
        return f"{end:%d %b %Y}"
    if (start.month, start.day, end.month, end.day) == (1, 1, 12, 31) and start.year == end.year:
        return str(end.year)
    return f"{start:%d %b %Y} to {end:%d %b %Y}"


def vac_shares(record: pd.DataFrame) -> pd.DataFrame:
    """Rows ``acled_vac_share_<kind>`` derived from the record's ACLED deaths by perpetrator:
    each kind's share of the deaths ACLED books to an identified actor, per period."""
    vac = record[record["series"].str.startswith(VAC_PREFIX)].copy()
    vac["kind"] = vac["series"].str.removeprefix(VAC_PREFIX).map(VAC_ACTORS)
    vac = vac.dropna(subset=["kind"])
    rows = []
    for (year, start, end), period in vac.groupby(["year", "start", "end"]):
        by_kind = period.groupby("kind")["value"].sum()
        if by_kind.sum() <= 0:
            continue
        source = period["source"].iloc[0]
        for kind in detection.KINDS:
            rows.append({"series": f"acled_vac_share_{kind}", "year": year, "start": start,
                         "end": end, "value": float(by_kind.get(kind, 0.0) / by_kind.sum()),
                         "unit": "share", "source": source, "bound": "about",
                         "note": "derived from ACLED's deaths by identified perpetrator"})
    return pd.DataFrame(rows, columns=record.columns)


# The series of READERS that are stocks, counted on a day, with their unit.
STOCKS = {"idps": "persons", "jnim_fighters": "fighters"}


def series_unit(series: str) -> str:
    """The unit of a series of :data:`READERS` when its record names none."""
    return "share" if "share" in series else STOCKS.get(series, "deaths")


def figure(series: str, start: dt.date, end: dt.date, value: float = float("nan"),
           bound: str = "about", source: str = "", unit: str | None = None) -> Figure:
    """The :class:`Figure` of ``series`` over [start, end] (a series of :data:`READERS`),
    keyed ``series:year`` (a whole year) or ``series:last day``; without a value it is a
    period the record has no figure for, read for prediction."""
    label, reader = READERS[series]
    whole_year = start == dt.date(end.year, 1, 1) and end == dt.date(end.year, 12, 31)
    key = f"{series}:{end.year if whole_year else end.isoformat()}"
    a, b = start.isoformat(), end.isoformat()
    if unit is None:
        unit = series_unit(series)
    return Figure(key, f"{label}, {_period(start, end)}", value, bound, source, end,
                  lambda s, rates=detection.TRUTH: reader(s, a, b, rates), series, unit, start)


def figures(record: pd.DataFrame) -> tuple[Figure, ...]:
    """A :class:`Figure` of every row of ``record`` (:func:`load_record`) whose series the
    model is read against, with ACLED's perpetrator shares derived from its counts."""
    rows = pd.concat([record, vac_shares(record)], ignore_index=True)
    return tuple(figure(row.series, row.start, row.end, row.value, row.bound, row.source,
                        row.unit) for row in rows.itertuples() if row.series in READERS)


def load_figures(path: str | Path | None = None) -> tuple[Figure, ...]:
    """The figures of a record file (the package's own by default)."""
    return figures(load_record(path))


FIGURES: tuple[Figure, ...] = load_figures()
BY_KEY = {f.key: f for f in FIGURES}


@functools.cache
def figures_of(record: str | None) -> tuple[Figure, ...]:
    """The figures of a record file (the package's if None), read once per process: worker
    processes receive the file's name, since readers do not pickle."""
    return FIGURES if record is None else load_figures(record)


@functools.cache
def by_key_of(record: str | None) -> dict[str, Figure]:
    """:func:`figures_of` by key."""
    return {f.key: f for f in figures_of(record)}
