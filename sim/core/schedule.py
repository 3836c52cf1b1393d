"""A scenario's schedule: the types of event it may hold, how each ``[[events]]`` table is
checked, and how a checked event is placed on a week of the run.

Each event is a table with ``date`` (``"YYYY-MM"``, the 1st of that month, ``"YYYY-MM-DD"`` or
a TOML date) and ``type`` (see ``EVENT_TYPES``); its step is the number of whole weeks from
``run.start_date``.  A ``set`` event takes ``params = { "oversight.punishment" = 0.9 }``; the
unquoted form ``{ oversight.punishment = 0.9 }``, which TOML reads as a nested table, means the
same.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sim.core.inputs import (
    ScenarioError,
    check_param,
    check_value,
    dotted,
    expect,
    parse_date,
    show,
    unknown,
    unknown_parameter,
)
from sim.core.parameters import BY_NAME
from sim.core.registry import Param
from sim.world.geography import NEIGHBOURS, TOWNS

TOWN_NAMES: tuple[str, ...] = tuple(t[0] for t in TOWNS)
# The map is generated and the clock laid out before step 0, so events cannot move them.
EVENT_LOCKED_SECTIONS: tuple[str, ...] = ("run", "map")

_MONTH_RE = re.compile(r"\d{4}-\d{2}")


class RunParameters(dict):
    """A run's parameters (``model.p``), read as a dict.  A value set while the run goes is
    checked as a scenario's ``set`` event checks it: a known parameter, of its type and in its
    range, and not one read only when the run is built, so that a typo or an impossible value
    is refused in one line rather than run (or silently ignored).  No parameter can be removed:
    a run without one would fail weeks later, on whichever step reads it first.

    A value set by hand (``model.p[name] = value``) is also told to ``noted``, since the
    scenario and seed no longer redo the run; a scenario's events set through :meth:`schedule`.
    """

    def __init__(self, values: Any = (), noted: Callable[[str], None] | None = None) -> None:
        super().__init__(values)
        self.noted = noted

    def __setitem__(self, name: str, value: Any) -> None:
        self.schedule(name, value)
        if self.noted is not None:
            self.noted(f"model.p[{name!r}] = {value!r}")

    def schedule(self, name: str, value: Any) -> None:
        """Set ``name`` as a scenario's ``set`` event does: checked, and not noted."""
        param = BY_NAME.get(name)
        if param is not None and (param.at_start
                                  or name.split(".", 1)[0] in EVENT_LOCKED_SECTIONS):
            raise ScenarioError("model.p", name, "is read once, when the run is built, so "
                                "changing it now changes nothing; allowed: parameters read "
                                "every week (set the others in the scenario: with_overrides)")
        super().__setitem__(name, check_param("model.p", str(name), name, value))

    def update(self, *args: Any, **kwargs: Any) -> None:
        """Set each value as ``self[name] = value`` does, checked."""
        for name, value in dict(*args, **kwargs).items():
            self[name] = value

    def __ior__(self, other: Any) -> RunParameters:
        self.update(other)
        return self

    def __missing__(self, name: Any) -> Any:
        # A misspelt name read in a notebook says what it is not, and the nearest known one.
        raise KeyError(f"model.p: {name}: {unknown_parameter(str(name))}")

    def setdefault(self, name: str, value: Any = None) -> Any:
        """The value of ``name``; a name the run lacks is set as ``self[name] = value`` sets
        it, checked (every known parameter is there, so a misspelt one is refused)."""
        if name not in self:
            self[name] = value
        return self[name]

    def _refuse_removal(self, name: Any = None, *_: Any) -> None:
        which = f"{name}: " if isinstance(name, str) else ""
        raise TypeError(f"model.p: {which}a parameter cannot be removed from a run, whose "
                        "every week reads it; allowed: model.p[name] = value, a value in its "
                        "range")

    __delitem__ = pop = popitem = clear = _refuse_removal

    def __reduce__(self) -> tuple:
        # A copy or a pickle is built whole, as the model built it, not set key by key.
        return (type(self), (dict(self), self.noted))


@dataclass(frozen=True)
class Event:
    """A scheduled event: its date (ISO ``YYYY-MM-DD``), step (week), type and fields.

    ``fields`` holds the event's other keys, checked and with defaults filled in (for ``set``:
    ``{"params": {dotted name: value}}``).  ``source`` and ``index`` say where it was written
    (file and position in that file's ``[[events]]``, from 0), for error messages.
    """

    date: str
    step: int
    type: str
    fields: dict[str, Any]
    source: str = field(default="", compare=False, repr=False)
    index: int = field(default=0, compare=False, repr=False)


@dataclass(frozen=True)
class WrittenEvent:
    """An event as checked in its file, before the merged run places it on a step."""

    source: str
    index: int
    written: str  # as the file wrote the date, for error messages
    date: str  # ISO YYYY-MM-DD
    type: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class _Choice:
    options: tuple[str, ...]

    def allowed(self) -> str:
        """The options in words, for messages and --explain."""
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class _ParamTable:
    def allowed(self) -> str:
        """What the table may hold, in words."""
        return "a table of parameter names and values (not run.* or map.*)"


@dataclass(frozen=True)
class EventField:
    """One field of an event type: how it is checked, whether it is required, its default."""

    check: Param | _Choice | _ParamTable
    required: bool = False
    default: Any = None  # None: left out of Event.fields when absent


def _num(name: str, kind: type, low: float, high: float, unit: str, meaning: str) -> Param:
    return Param(name, kind(low), low, high, unit, meaning)


_PARTNERS = _Choice(("partner", "un"))
_TOWN = _Choice(TOWN_NAMES)

EVENT_TYPES: dict[str, dict[str, EventField]] = {
    "contractor_arrives": {
        "units": EventField(_num("units", int, 0, 10_000, "units", "teams deployed")),
        "strength": EventField(_num("strength", float, 0, 10_000, "personnel", "per team")),
    },
    "contractor_leaves": {},
    "partner_arrives": {"partner": EventField(_PARTNERS, required=True)},
    "partner_leaves": {"partner": EventField(_PARTNERS, required=True)},
    "sanctions": {
        "level": EventField(_num("level", float, 0, 1, "0-1", "sanctions"), required=True),
    },
    "mass_atrocity": {
        "near": EventField(_TOWN, required=True),
        "perpetrator": EventField(_Choice(("state", "contractor", "partner")),
                                  default="contractor"),
        "deaths": EventField(_num("deaths", float, 1, 100_000, "people", "toll")),
    },
    "coup": {"country": EventField(_Choice(("host", *NEIGHBOURS)), required=True)},
    "peace_agreement": {},
    "offensive": {"near": EventField(_TOWN, required=True)},
    "set": {"params": EventField(_ParamTable(), required=True)},
}

EVENT_MEANINGS: dict[str, str] = {
    "contractor_arrives": "a contractor deploys (absent fields: contractor.units/.strength)",
    "contractor_leaves": "the contractor withdraws",
    "partner_arrives": "a foreign partner or the UN mission deploys",
    "partner_leaves": "a foreign partner or the UN mission withdraws",
    "sanctions": "targeted sanctions are set to a level",
    "mass_atrocity": "a mass atrocity near a town (absent deaths: the model draws the toll)",
    "coup": "a coup in the host or a neighbour",
    "peace_agreement": "a peace agreement with the armed groups",
    "offensive": "a concentrated offensive near a town",
    "set": "parameters change from this week on",
}


def check_event(file: str, index: int, raw: Any) -> WrittenEvent:
    """The ``index``-th ``[[events]]`` table of ``file``, checked, defaults filled in."""
    where = f"events[{index}]"
    types = ", ".join(EVENT_TYPES)
    expect(file, where, raw, dict, "a table [[events]] with date and type")
    if "type" not in raw:
        raise ScenarioError(file, f"{where}.type", f"missing; allowed: {types}")
    etype = raw["type"]
    if not isinstance(etype, str) or etype not in EVENT_TYPES:
        problem = unknown(f"unknown event type {show(etype)}", str(etype), EVENT_TYPES)
        raise ScenarioError(file, f"{where}.type", f"{problem}; allowed: {types}")
    if "date" not in raw:
        raise ScenarioError(file, f"{where}.date", "missing; allowed: YYYY-MM or YYYY-MM-DD")
    written = raw["date"]
    written = written.isoformat() if isinstance(written, datetime.date) else written
    day = _event_date(file, f"{where}.date", written)
    spec = EVENT_TYPES[etype]
    fields: dict[str, Any] = {}
    for key, value in raw.items():
        if key in ("date", "type"):
            continue
        if key not in spec:
            allowed = ", ".join(("date", "type", *spec))
            problem = unknown(f"unknown field of {etype}", str(key), spec)
            raise ScenarioError(file, f"{where}.{key}", f"{problem}; allowed: {allowed}")
        fields[key] = _check_field(file, f"{where}.{key}", spec[key], value)
    for key, f in spec.items():
        if key in fields:
            continue
        if f.required:
            raise ScenarioError(file, f"{where}.{key}", f"missing; allowed: {f.check.allowed()}")
        if f.default is not None:
            fields[key] = f.default
    return WrittenEvent(file, index, written, day.isoformat(), etype, fields)


def place_events(params: dict[str, Any], events: list[WrittenEvent], file: str) -> list[Event]:
    """The events on the weeks of a run with ``params``, sorted by step (file order within a
    step); an event outside the run is an error."""
    start = datetime.date.fromisoformat(params["run.start_date"])
    try:
        end = start + datetime.timedelta(weeks=params["run.steps"])
    except OverflowError:
        raise ScenarioError(
            file, "run.steps", "the run would end after 9999-12-31; allowed: a shorter run"
        ) from None
    placed = []
    for e in events:
        day = datetime.date.fromisoformat(e.date)
        if not start <= day < end:
            # Named by its weeks' first days, as the run's summary dates it (Scenario.end_date).
            last_week = end - datetime.timedelta(weeks=1)
            raise ScenarioError(
                e.source,
                f"events[{e.index}].date",
                f"{e.written} is outside the run (the weeks of {start} to {last_week})",
            )
        step = (day - start).days // 7
        placed.append(Event(day.isoformat(), step, e.type, e.fields, e.source, e.index))
    return sorted(placed, key=lambda ev: ev.step)


def _check_field(file: str, where: str, f: EventField, value: Any) -> Any:
    check = f.check
    if isinstance(check, Param):
        return check_value(file, where, check, value)
    if isinstance(check, _Choice):
        if value not in check.options:
            problem = unknown(f"{show(value)} is not known", str(value), check.options)
            raise ScenarioError(file, where, f"{problem}; allowed: {check.allowed()}")
        return value
    expect(file, where, value, dict, check.allowed())
    checked = {}
    for name, v in dotted(file, where, value, lambda _, v: isinstance(v, dict)).items():
        key = f"{where}.{name}"
        if name.split(".", 1)[0] in EVENT_LOCKED_SECTIONS and name in BY_NAME:
            raise ScenarioError(
                file, key, "cannot be set by an event; allowed: parameters outside run.* and map.*"
            )
        if name in BY_NAME and BY_NAME[name].at_start:
            raise ScenarioError(
                file, key, "is read once, when the run is built, and cannot be set by an event; "
                "allowed: parameters read every week (who arrives or leaves: the events "
                "contractor_arrives, contractor_leaves, partner_arrives, partner_leaves)")
        checked[name] = check_param(file, key, name, v)
    return checked


def _event_date(file: str, where: str, value: Any) -> datetime.date:
    month = isinstance(value, str) and _MONTH_RE.fullmatch(value)
    day = parse_date(f"{value}-01" if month else value)
    if day is None:
        allowed = "a date YYYY-MM (the 1st) or YYYY-MM-DD"
        raise ScenarioError(file, where, f"{show(value)} is not a date; allowed: {allowed}")
    return day
