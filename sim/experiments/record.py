"""The public record of Mali, as data: the figures the model is calibrated on and checked against.

The record is one table, one row a figure (``sim/data/mali_record.csv``), and its sources are
another (``sim/data/mali_sources.csv``).  The columns:

- ``series``: what was counted, by whom (``acled_civilian_fatalities``, ``idps``, ...);
- ``year``: the year the figure belongs to;
- ``date``: the last day it covers (for a stock, the day it was counted); empty: 31 December;
- ``value``, ``unit`` (deaths, events, persons, fighters, personnel, USD or share);
- ``source``: who reported it; ``note``: what the source says about it;
- optionally ``start``: the first day a count or share covers (empty: 1 January of the year;
  a stock covers its day alone) and ``bound``: ``about`` (the default) or ``at_least``.

Sources count differently (ACLED, UCDP and the UN give different levels for the same year), so
each series is one source's count and is compared only with itself.  A user's own export of the
same series, say a newer ACLED aggregate, with these columns is read by :func:`load_record` and
checked like any other input: every mistake is one line naming the file, the row and the column.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import re
from pathlib import Path

import pandas as pd

from sim.core.inputs import ScenarioError, read_text, unknown
from sim.core.paths import CSV_LIMIT

DATA = Path(__file__).resolve().parents[1] / "data"
RECORD = DATA / "mali_record.csv"
SOURCES = DATA / "mali_sources.csv"
REQUIRED = ("series", "year", "date", "value", "unit", "source", "note")
OPTIONAL = ("start", "bound")
# Stocks are counted on a day; the other units count what happened over a period.
STOCKS = ("persons", "fighters", "personnel", "USD")
UNITS = ("deaths", "events", "share", *STOCKS)
BOUNDS = ("about", "at_least")
_SERIES = re.compile(r"[a-z][a-z0-9_]*")


def load_record(path: str | Path | None = None) -> pd.DataFrame:
    """The record (the package's own by default) as a checked table, one row a figure:
    series, year, start, end (dates), value, unit, source, note, bound."""
    file = str(path if path is not None else RECORD)
    rows = list(csv.reader(read_text(file, CSV_LIMIT).splitlines()))
    if not rows:
        raise ScenarioError(file, None, f"empty; allowed: a header with {', '.join(REQUIRED)}")
    header = [h.strip() for h in rows[0]]
    for column in header:
        if column not in REQUIRED + OPTIONAL:
            problem = unknown(f"unknown column {column!r}", column, REQUIRED + OPTIONAL)
            raise ScenarioError(file, "header", f"{problem}; allowed: "
                                f"{', '.join(REQUIRED + OPTIONAL)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ScenarioError(file, "header", f"no column {', '.join(missing)}; allowed: "
                            f"{', '.join(REQUIRED)}, and optionally {', '.join(OPTIONAL)}")
    figures, seen = [], {}
    for n, fields in enumerate(rows[1:], start=2):
        if not any(f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            raise ScenarioError(file, f"row {n}", f"{len(fields)} fields, the header has "
                                f"{len(header)}; allowed: one field a column (quote a field "
                                "that holds a comma)")
        figure = _figure(file, n, dict(zip(header, (f.strip() for f in fields), strict=True)))
        key = (figure["series"], figure["start"], figure["end"])
        if key in seen:
            raise ScenarioError(file, f"row {n}", f"repeats row {seen[key]} ({key[0]}, "
                                f"{key[1]} to {key[2]}); allowed: one figure a series and "
                                "period (another source's count is another series)")
        seen[key] = n
        figures.append(figure)
    columns = ["series", "year", "start", "end", "value", "unit", "source", "note", "bound"]
    return pd.DataFrame(figures, columns=columns)


def _figure(file: str, n: int, row: dict[str, str]) -> dict:
    """One row checked and completed (start, end and bound filled in)."""
    def fail(column: str, problem: str) -> ScenarioError:
        return ScenarioError(file, f"row {n}, {column}", problem)

    series = row["series"]
    if not _SERIES.fullmatch(series):
        raise fail("series", f"{series!r}; allowed: lower-case letters, digits and _")
    try:
        year = int(row["year"])
    except ValueError:
        raise fail("year", f"{row['year']!r}; allowed: a year such as 2019") from None
    if not 1900 <= year <= 2100:
        raise fail("year", f"{year}; allowed: a year in [1900, 2100]")
    unit = row["unit"]
    if unit not in UNITS:
        raise fail("unit", f"{unit!r}; allowed: {', '.join(UNITS)}")
    try:
        value = float(row["value"])
    except ValueError:
        raise fail("value", f"{row['value']!r}; allowed: a number") from None
    top = 1.0 if unit == "share" else math.inf
    if not (math.isfinite(value) and 0.0 <= value <= top):
        allowed = f"a number in [0, {top:g}]" if math.isfinite(top) else "a finite number >= 0"
        raise fail("value", f"{row['value']}; allowed: {allowed}")
    end = _date(row["date"], fail, "date") or dt.date(year, 12, 31)
    if end.year != year:
        raise fail("date", f"{end} is not in {year}; allowed: a day of the row's year")
    first = _date(row.get("start", ""), fail, "start")
    if first is not None and unit in STOCKS:
        raise fail("start", f"{first} for a stock ({unit}); allowed: empty (a stock is "
                   "counted on its date)")
    start = first or (end if unit in STOCKS else dt.date(year, 1, 1))
    if start > end:
        raise fail("start", f"{start} is after the figure's last day {end}; allowed: a day "
                   "on or before it")
    if not row["source"]:
        raise fail("source", "empty; allowed: who reported the figure")
    bound = row.get("bound", "") or "about"
    if bound not in BOUNDS:
        raise fail("bound", f"{bound!r}; allowed: {', '.join(BOUNDS)} (empty: about)")
    return {"series": series, "year": year, "start": start, "end": end, "value": value,
            "unit": unit, "source": row["source"], "note": row["note"], "bound": bound}


def _date(text: str, fail, column: str) -> dt.date | None:
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise fail(column, f"{text!r}; allowed: a date YYYY-MM-DD, or empty") from None


def load_sources(path: str | Path | None = None) -> pd.DataFrame:
    """The sources of the record: code (as in its ``source`` column), name, what it counts."""
    file = str(path if path is not None else SOURCES)
    rows = list(csv.DictReader(read_text(file, CSV_LIMIT).splitlines()))
    return pd.DataFrame(rows, columns=["source", "name", "counts"])
