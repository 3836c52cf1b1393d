"""Scenario files: TOML that sets parameters and schedules events, checked against the registry.

A scenario file may hold, at the top, ``name``, ``description``, ``extends`` and
``replace_events``; one table per registry section (``[oversight] punishment = 0.5``); and any
number of ``[[events]]``.  Every mistake raises a one-line :class:`ScenarioError` naming the
file, the dotted key and what is allowed, before any model is built.

``extends = "base.toml"`` (relative to the extending file's folder) starts from another file:
the child's keys override the parent's section by section and key by key, its ``name`` and
``description`` override the parent's, and its events are *appended* to the parent's unless
the child sets ``replace_events = true``.  Chains may hold at most ``MAX_EXTENDS_DEPTH`` files.

Each event is a table with ``date`` (``"YYYY-MM"``, the 1st of that month, ``"YYYY-MM-DD"`` or
a TOML date) and ``type`` (see ``EVENT_TYPES``); its step is the number of whole weeks from
``run.start_date``, counted after the chain is merged.  A ``set`` event takes
``params = { "oversight.punishment" = 0.9 }``; the unquoted form ``{ oversight.punishment =
0.9 }``, which TOML reads as a nested table, means the same.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import difflib
import hashlib
import json
import numbers
import os
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.parameters import BY_NAME, PARAMETERS, SECTIONS, Param, defaults
from sim.world.geography import NEIGHBOURS, TOWNS

MAX_EXTENDS_DEPTH = 32
TOP_LEVEL_KEYS: tuple[str, ...] = ("name", "description", "extends", "replace_events", "events")
TOWN_NAMES: tuple[str, ...] = tuple(t[0] for t in TOWNS)
# The map is generated and the clock laid out before step 0, so events cannot move them.
EVENT_LOCKED_SECTIONS: tuple[str, ...] = ("run", "map")

_OVERRIDES = "<overrides>"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_MONTH_RE = re.compile(r"\d{4}-\d{2}")
_HIDDEN = frozenset({"Cc", "Cf", "Zl", "Zp"})


class ScenarioError(ValueError):
    """A scenario that cannot be run; ``str(err)`` is one line ``<file>: <key>: <problem>``.

    ``file``, ``key`` (dotted, or None for a problem with the whole file) and ``problem`` are
    kept as attributes for callers that show them apart (the dashboard).
    """

    def __init__(self, file: str, key: str | None, problem: str) -> None:
        self.file = file
        self.key = key
        self.problem = problem
        line = ": ".join(part for part in (file, key, problem) if part)
        line = re.sub(r"\s*[\r\n]+\s*", " ", line)
        # Control and bidirectional-format characters of a file's keys would garble or reorder
        # the message on a terminal: they are shown escaped.
        super().__init__("".join(f"\\u{ord(ch):04x}" if unicodedata.category(ch) in _HIDDEN
                                 else ch for ch in line))

    def __reduce__(self) -> tuple[Any, ...]:
        # The default pickling passes only the message back to __init__; sweeps pickle errors.
        return (type(self), (self.file, self.key, self.problem))


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


@dataclass
class Scenario:
    """A checked scenario: every parameter's value, the events in order, and provenance.

    ``params`` is flat and holds every registry name.  ``events`` are sorted by step, in file
    order within a step (parents' events before children's).  ``raw`` is the merged, checked
    content of the file and every file it extends; ``content_hash`` is the sha256 of its
    canonical JSON, so it changes exactly when that content does.
    """

    name: str
    description: str
    params: dict[str, Any]
    events: list[Event]
    path: Path | None
    content_hash: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    def start_date(self) -> datetime.date:
        """The calendar date of step 0."""
        return datetime.date.fromisoformat(self.params["run.start_date"])

    def date_of(self, step: int) -> datetime.date:
        """The calendar date of a step: ``start_date + 7*step`` days."""
        return self.start_date() + datetime.timedelta(weeks=step)

    def with_overrides(self, **overrides: Any) -> Scenario:
        """A copy with some parameters changed, checked like a file; events are re-placed.

        Keys are dotted names passed as ``**{"run.seed": 3}``, or ``run__seed=3``.  Changing
        ``run.start_date`` or ``run.steps`` can push an event outside the run: that raises.
        """
        raw = copy.deepcopy(self.raw)
        params = dict(self.params)
        for key, value in overrides.items():
            name = key if "." in key else key.replace("__", ".", 1)
            params[name] = _check_param(_OVERRIDES, name, name, value)
            section, short = name.split(".", 1)
            raw.setdefault(section, {})[short] = params[name]
        placed = [
            _Written(e.source, e.index, e.date, e.date, e.type, e.fields) for e in self.events
        ]
        return dataclasses.replace(
            self,
            params=params,
            events=_place_events(params, placed, _OVERRIDES),
            content_hash=_hash(raw),
            raw=raw,
        )


@dataclass(frozen=True)
class _Choice:
    options: tuple[str, ...]

    def allowed(self) -> str:
        return "one of " + ", ".join(self.options)


@dataclass(frozen=True)
class _ParamTable:
    def allowed(self) -> str:
        return "a table of parameter names and values (not run.* or map.*)"


@dataclass(frozen=True)
class _Field:
    check: Param | _Choice | _ParamTable
    required: bool = False
    default: Any = None  # None: left out of Event.fields when absent


def _num(name: str, kind: type, low: float, high: float, unit: str, meaning: str) -> Param:
    return Param(name, kind(low), low, high, unit, meaning)


_PARTNERS = _Choice(("partner", "un"))
_TOWN = _Choice(TOWN_NAMES)

EVENT_TYPES: dict[str, dict[str, _Field]] = {
    "contractor_arrives": {
        "units": _Field(_num("units", int, 0, 10_000, "units", "teams deployed")),
        "strength": _Field(_num("strength", float, 0, 10_000, "personnel", "per team")),
    },
    "contractor_leaves": {},
    "partner_arrives": {"partner": _Field(_PARTNERS, required=True)},
    "partner_leaves": {"partner": _Field(_PARTNERS, required=True)},
    "sanctions": {"level": _Field(_num("level", float, 0, 1, "0-1", "sanctions"), required=True)},
    "mass_atrocity": {
        "near": _Field(_TOWN, required=True),
        "perpetrator": _Field(_Choice(("state", "contractor", "partner")), default="contractor"),
        "deaths": _Field(_num("deaths", float, 1, 100_000, "people", "toll")),
    },
    "coup": {"country": _Field(_Choice(("host", *NEIGHBOURS)), required=True)},
    "peace_agreement": {},
    "offensive": {"near": _Field(_TOWN, required=True)},
    "set": {"params": _Field(_ParamTable(), required=True)},
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


@dataclass(frozen=True)
class _Written:
    """An event as checked in its file, before the merged run places it on a step."""

    source: str
    index: int
    written: str  # as the file wrote the date, for error messages
    date: str  # ISO YYYY-MM-DD
    type: str
    fields: dict[str, Any]


@dataclass
class _Doc:
    """One file's checked content, or a chain's merged content."""

    top: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[_Written] = field(default_factory=list)
    extends: str | None = None
    replace_events: bool = False


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and check a scenario file."""
    display = str(path)
    doc = _load_chain(display, ((Path(display).resolve(), display),))
    return _build(doc, Path(path), Path(path).stem, display)


def default_scenario() -> Scenario:
    """The registry's defaults, no events, no file."""
    return _build(_Doc(), None, "default", "<default>")


def from_dict(raw: dict, source: str = "<dict>") -> Scenario:
    """Check a scenario given as a dict shaped like a parsed file (for notebooks).

    ``extends`` here is resolved relative to the current directory.
    """
    if not isinstance(raw, dict):
        raise ScenarioError(source, None, f"{_kind_of(raw)}; allowed: a table (dict)")
    doc = _check_document(source, raw)
    if doc.extends is not None:
        doc = _merge(_load_parent(source, doc.extends, ".", ()), doc)
    return _build(doc, None, "untitled", source)


def explain() -> str:
    """Every parameter (name, default, allowed values, unit, mechanism, meaning) by section,
    then the event types and their fields."""
    head = ("name", "default", "allowed", "unit", "mechanism")
    rows = {
        p.name: (p.name, _literal(p.default), p.allowed(), p.unit, p.mechanism or "-")
        for p in PARAMETERS
    }
    widths = [max(len(r[i]) for r in (head, *rows.values())) for i in range(len(head))]

    def line(cells: tuple[str, ...]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(head), "      meaning", ""]
    for section in SECTIONS:
        out.append(f"[{section}]")
        for p in PARAMETERS:
            if p.name.split(".", 1)[0] == section:
                out += [line(rows[p.name]), f"      {p.meaning}"]
        out.append("")
    out.append('[[events]]  date = "YYYY-MM" or "YYYY-MM-DD", type = one of:')
    for etype, spec in EVENT_TYPES.items():
        out.append(f"  {etype}: {EVENT_MEANINGS[etype]}")
        for key, f in spec.items():
            extra = " (required)" if f.required else ""
            if f.default is not None:
                extra = f" (default {_literal(f.default)})"
            out.append(f"      {key}: {f.check.allowed()}{extra}")
    return "\n".join(out) + "\n"


# --- reading and merging files ------------------------------------------------------------


def _read_toml(display: str) -> dict[str, Any]:
    try:
        data = Path(display).read_bytes()
    except OSError as err:
        raise ScenarioError(display, None, f"cannot read: {err.strerror or err}") from None
    try:
        # utf-8-sig: editors on Windows put a byte-order mark that tomllib would reject.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(
            display, None, f"not UTF-8 ({err.reason} at byte {err.start}); allowed: UTF-8 text"
        ) from None
    return parse_toml(display, text)


def parse_toml(file: str, text: str) -> dict[str, Any]:
    """Parse TOML text, turning every way it can fail into a one-line :class:`ScenarioError`."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(file, None, f"not valid TOML: {err}") from None
    except RecursionError:
        # tomllib descends once per nested array or inline table: thousands of brackets.
        raise ScenarioError(file, None, "not valid TOML: arrays or tables nested too deeply; "
                            "allowed: a few levels") from None


def _load_chain(display: str, chain: tuple[tuple[Path, str], ...]) -> _Doc:
    raw = _read_toml(display)
    if not raw:
        # Most likely a save that was cut short; the defaults alone are `name = "..."` away.
        raise ScenarioError(display, None, "empty (no keys); allowed: at least one of name, "
                            "extends or a [section]; name = \"...\" alone runs the defaults")
    doc = _check_document(display, raw)
    if doc.extends is None:
        return doc
    return _merge(_load_parent(display, doc.extends, os.path.dirname(display), chain), doc)


def _load_parent(
    display: str, extends: str, folder: str, chain: tuple[tuple[Path, str], ...]
) -> _Doc:
    target_display = os.path.normpath(os.path.join(folder, extends))
    target = usable_path(display, "extends", extends, target_display)
    seen = [p for p, _ in chain]
    if target in seen:
        names = [d for _, d in chain[seen.index(target):]] + [target_display]
        raise ScenarioError(display, "extends", "cycle: " + " -> ".join(names))
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            display, "extends", f"chain too deep; allowed: at most {MAX_EXTENDS_DEPTH} files"
        )
    if not target.is_file():
        problem = "not a file" if target.exists() else "no such file"
        raise ScenarioError(display, "extends", f"{problem}: {target_display}")
    return _load_chain(target_display, (*chain, (target, target_display)))


def usable_path(file: str, key: str, written: str, path: str) -> Path:
    """``path`` (``written`` in ``file`` at ``key``) resolved, or a one-line
    :class:`ScenarioError` if the system cannot even look it up (a NUL byte, a name longer
    than the system allows)."""
    try:
        target = Path(path).resolve()
        target.exists()
    except (OSError, ValueError) as err:
        reason = getattr(err, "strerror", None) or str(err)
        raise ScenarioError(file, key, f"{_show(written)} is not a usable path ({reason}); "
                            "allowed: a file name the system accepts") from None
    return target


def _merge(parent: _Doc, child: _Doc) -> _Doc:
    sections = {s: dict(table) for s, table in parent.sections.items()}
    for s, table in child.sections.items():
        sections.setdefault(s, {}).update(table)
    events = child.events if child.replace_events else parent.events + child.events
    return _Doc({**parent.top, **child.top}, sections, events)


def _build(doc: _Doc, path: Path | None, fallback_name: str, file: str) -> Scenario:
    params = defaults()
    for section, table in doc.sections.items():
        for key, value in table.items():
            params[f"{section}.{key}"] = value
    raw: dict[str, Any] = {**doc.top, **doc.sections}
    if doc.events:
        raw["events"] = [{"date": e.date, "type": e.type, **e.fields} for e in doc.events]
    return Scenario(
        name=doc.top.get("name", fallback_name),
        description=doc.top.get("description", ""),
        params=params,
        events=_place_events(params, doc.events, file),
        path=path,
        content_hash=_hash(raw),
        raw=raw,
    )


def _hash(raw: dict[str, Any]) -> str:
    text = json.dumps(raw, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _place_events(params: dict[str, Any], events: list[_Written], file: str) -> list[Event]:
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
            last = end - datetime.timedelta(days=1)
            raise ScenarioError(
                e.source,
                f"events[{e.index}].date",
                f"{e.written} is outside the run ({start} to {last})",
            )
        step = (day - start).days // 7
        placed.append(Event(day.isoformat(), step, e.type, e.fields, e.source, e.index))
    return sorted(placed, key=lambda ev: ev.step)


# --- checking one document ------------------------------------------------------------------


def _check_document(file: str, raw: dict[str, Any]) -> _Doc:
    doc = _Doc()
    for key, value in raw.items():
        if key in SECTIONS:
            doc.sections[key] = _check_section(file, key, value)
        elif key in ("name", "description", "extends"):
            doc.top[key] = _expect(file, key, value, str, "a string")
        elif key == "replace_events":
            doc.replace_events = _expect(file, key, value, bool, "true or false")
        elif key == "events":
            tables = _expect(file, key, value, list, "an array of tables [[events]]")
            doc.events = [_check_event(file, i, ev) for i, ev in enumerate(tables)]
        else:
            what = "unknown section" if isinstance(value, dict) else "unknown key"
            candidates = (*SECTIONS, *TOP_LEVEL_KEYS, *BY_NAME)
            raise ScenarioError(file, str(key), _unknown(what, str(key), candidates))
    doc.extends = doc.top.pop("extends", None)
    return doc


def _check_section(file: str, section: str, table: Any) -> dict[str, Any]:
    _expect(file, section, table, dict, f"a table [{section}]")
    return {
        key: _check_param(file, f"{section}.{key}", f"{section}.{key}", value)
        for key, value in table.items()
    }


def _check_param(file: str, where: str, name: str, value: Any) -> Any:
    param = BY_NAME.get(name)
    if param is None:
        raise ScenarioError(file, where, _unknown("unknown key", name, BY_NAME))
    return _check_value(file, where, param, value)


def _check_value(file: str, where: str, param: Param, value: Any) -> Any:
    if param.kind is bool:
        return _expect(file, where, value, bool, param.allowed())
    if param.kind is str:
        if param.unit == "date":
            return _iso_date(file, where, value, param.allowed())
        return _expect(file, where, value, str, param.allowed())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScenarioError(file, where, f"{_kind_of(value)}; allowed: {param.allowed()}")
    if param.kind is int:
        if not isinstance(value, numbers.Integral):
            raise ScenarioError(
                file, where, f"{_show(value)} is not an integer; allowed: {param.allowed()}"
            )
        value = int(value)
    else:
        value = float(value)
    # Written so that NaN fails too.
    if not param.low <= value <= param.high:
        problem = f"{_show(value)} is out of range; allowed: {param.allowed()}"
        raise ScenarioError(file, where, problem)
    return value


def _check_event(file: str, index: int, raw: Any) -> _Written:
    where = f"events[{index}]"
    types = ", ".join(EVENT_TYPES)
    _expect(file, where, raw, dict, "a table [[events]] with date and type")
    if "type" not in raw:
        raise ScenarioError(file, f"{where}.type", f"missing; allowed: {types}")
    etype = raw["type"]
    if not isinstance(etype, str) or etype not in EVENT_TYPES:
        problem = _unknown(f"unknown event type {_show(etype)}", str(etype), EVENT_TYPES)
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
            problem = _unknown(f"unknown field of {etype}", str(key), spec)
            raise ScenarioError(file, f"{where}.{key}", f"{problem}; allowed: {allowed}")
        fields[key] = _check_field(file, f"{where}.{key}", spec[key], value)
    for key, f in spec.items():
        if key in fields:
            continue
        if f.required:
            raise ScenarioError(file, f"{where}.{key}", f"missing; allowed: {f.check.allowed()}")
        if f.default is not None:
            fields[key] = f.default
    return _Written(file, index, written, day.isoformat(), etype, fields)


def _check_field(file: str, where: str, f: _Field, value: Any) -> Any:
    check = f.check
    if isinstance(check, Param):
        return _check_value(file, where, check, value)
    if isinstance(check, _Choice):
        if value not in check.options:
            problem = _unknown(f"{_show(value)} is not known", str(value), check.options)
            raise ScenarioError(file, where, f"{problem}; allowed: {check.allowed()}")
        return value
    _expect(file, where, value, dict, check.allowed())
    checked = {}
    for name, v in _flatten(value).items():
        key = f"{where}.{name}"
        if name.split(".", 1)[0] in EVENT_LOCKED_SECTIONS and name in BY_NAME:
            raise ScenarioError(
                file, key, "cannot be set by an event; allowed: parameters outside run.* and map.*"
            )
        checked[name] = _check_param(file, key, name, v)
    return checked


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    # TOML reads an unquoted dotted key `oversight.punishment = 1` as a nested table.
    flat: dict[str, Any] = {}
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


# --- small helpers ------------------------------------------------------------------------


def _expect(file: str, where: str, value: Any, kind: type, allowed: str) -> Any:
    # bool is an int in Python, so `true` must not pass where a number is wanted.
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        raise ScenarioError(file, where, f"{_kind_of(value)}; allowed: {allowed}")
    return value


def _parse_date(value: Any) -> datetime.date | None:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if isinstance(value, str) and _DATE_RE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _iso_date(file: str, where: str, value: Any, allowed: str) -> str:
    day = _parse_date(value)
    if day is None:
        raise ScenarioError(file, where, f"{_show(value)} is not a date; allowed: {allowed}")
    return day.isoformat()


def _event_date(file: str, where: str, value: Any) -> datetime.date:
    month = isinstance(value, str) and _MONTH_RE.fullmatch(value)
    day = _parse_date(f"{value}-01" if month else value)
    if day is None:
        allowed = "a date YYYY-MM (the 1st) or YYYY-MM-DD"
        raise ScenarioError(file, where, f"{_show(value)} is not a date; allowed: {allowed}")
    return day


def _unknown(what: str, key: str, candidates: Any) -> str:
    close = difflib.get_close_matches(key, list(candidates), n=1)
    return f"{what}; did you mean {close[0]}?" if close else what


def _kind_of(value: Any) -> str:
    # datetime before date: a TOML date-time is both.
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string",
             dict: "a table", list: "an array", datetime.datetime: "a date-time",
             datetime.date: "a date", datetime.time: "a time"}
    for kind, name in names.items():
        if isinstance(value, kind):
            return f"{_show(value)} is {name}"
    return f"{_show(value)} is {type(value).__name__}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
