"""Scenario files: TOML that sets parameters and schedules events, checked against the registry.

A scenario file may hold, at the top, ``name``, ``description``, ``extends`` and
``replace_events``; one table per registry section (``[oversight] punishment = 0.5``); and any
number of ``[[events]]``.  Every mistake raises a one-line :class:`ScenarioError` naming the
file, the dotted key and what is allowed, before any model is built.

``extends = "base.toml"`` (relative to the extending file's folder) starts from another file:
the child's keys override the parent's section by section and key by key, its ``name`` and
``description`` override the parent's, and its events are *appended* to the parent's unless
the child sets ``replace_events = true``.  Chains may hold at most ``MAX_EXTENDS_DEPTH`` files.

Events (:mod:`sim.core.schedule`) are placed on their weeks after the chain is merged, so a
child's ``run.start_date`` or ``run.steps`` applies to its parents' events too.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.inputs import (
    SCENARIO_FILE,
    ScenarioError,
    check_param,
    content_hash,
    expect,
    kind_of,
    other_kind,
    read_toml,
    unknown,
)
from sim.core.parameters import BY_NAME, PARAMETERS, SECTIONS, defaults
from sim.core.paths import input_file
from sim.core.registry import Param
from sim.core.schedule import (
    EVENT_MEANINGS,
    EVENT_TYPES,
    Event,
    WrittenEvent,
    check_event,
    place_events,
)

MAX_EXTENDS_DEPTH = 32
TOP_LEVEL_KEYS: tuple[str, ...] = ("name", "description", "extends", "replace_events", "events")
_OVERRIDES = "<overrides>"


class ScenarioParameters(dict):
    """A scenario's parameters, read-only: a changed scenario is a new one, made by
    :meth:`Scenario.with_overrides`, which checks each value and gives it its own hash."""

    def _refuse(self, *_: Any, **__: Any) -> None:
        raise TypeError("a scenario's params are read-only; allowed: scenario.with_overrides("
                        "**{name: value}), which checks the value and updates content_hash")

    __setitem__ = __delitem__ = update = pop = popitem = setdefault = clear = _refuse
    __ior__ = _refuse

    def __reduce__(self) -> tuple:
        # A copy or a pickle is built whole, not set key by key.
        return (type(self), (dict(self),))


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

    def __post_init__(self) -> None:
        # A value written into params would run unchecked under the old content hash.
        self.params = ScenarioParameters(self.params)

    def __repr__(self) -> str:
        # Not the dataclass's: it prints every one of the hundred-odd parameters.
        where = self.path.name if self.path is not None else "no file"
        return (f"<Scenario {self.name!r} ({where}): {len(self.params)} parameters, "
                f"{len(self.events)} events, sha256 {self.content_hash[:12]}>")

    def start_date(self) -> datetime.date:
        """The calendar date of step 0."""
        return datetime.date.fromisoformat(self.params["run.start_date"])

    def date_of(self, step: int) -> datetime.date:
        """The calendar date of a step (the first day of its week): ``start_date + 7*step``
        days."""
        return self.start_date() + datetime.timedelta(weeks=step)

    def end_date(self) -> datetime.date:
        """The run's end date: the first day of its last week (step ``run.steps - 1``), as a
        run's summary, the last row of its series and ``blowback run`` give it."""
        return self.date_of(self.params["run.steps"] - 1)

    def with_overrides(self, **overrides: Any) -> Scenario:
        """A copy with some parameters changed, checked like a file; events are re-placed.

        Keys are dotted names passed as ``**{"run.seed": 3}``, or ``run__seed=3``.  Changing
        ``run.start_date`` or ``run.steps`` can push an event outside the run: that raises.
        """
        return self.with_values(overrides)

    def with_values(self, values: Mapping[str, Any], source: str = _OVERRIDES) -> Scenario:
        """:meth:`with_overrides` with the values as a mapping, and ``source`` naming where
        they come from in error messages (``--set``)."""
        raw = copy.deepcopy(self.raw)
        params = dict(self.params)
        for key, value in values.items():
            name = key if "." in key else key.replace("__", ".", 1)
            params[name] = check_param(source, name, name, value)
            section, short = name.split(".", 1)
            raw.setdefault(section, {})[short] = params[name]
        placed = [
            WrittenEvent(e.source, e.index, e.date, e.date, e.type, e.fields) for e in self.events
        ]
        return dataclasses.replace(
            self,
            params=params,
            events=place_events(params, placed, source),
            content_hash=content_hash(raw),
            raw=raw,
        )

    def differences(self, other: Scenario) -> list[tuple[Param, Any, Any]]:
        """The parameters whose resolved values differ, in registry order, each with this
        scenario's value and ``other``'s."""
        return [(p, self.params[p.name], other.params[p.name]) for p in PARAMETERS
                if self.params[p.name] != other.params[p.name]]


@dataclass
class _Doc:
    """One file's checked content, or a chain's merged content."""

    top: dict[str, Any] = field(default_factory=dict)
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[WrittenEvent] = field(default_factory=list)
    extends: str | None = None
    replace_events: bool = False


def load_scenario(path: str | Path) -> Scenario:
    """Read, merge (``extends``) and check a scenario file."""
    display = str(path)
    doc = _load_chain(display, ((input_file(display), display),))
    return _build(doc, Path(path), Path(path).stem, display)


def default_scenario() -> Scenario:
    """The registry's defaults, no events, no file."""
    return _build(_Doc(), None, "default", "<default>")


def from_dict(raw: dict, source: str = "<dict>") -> Scenario:
    """Check a scenario given as a dict shaped like a parsed file (for notebooks).

    ``extends`` here is resolved relative to the current directory.
    """
    if not isinstance(raw, dict):
        raise ScenarioError(source, None, f"{kind_of(raw)}; allowed: a table (dict)")
    doc = _check_document(source, raw)
    if doc.extends is not None:
        doc = _merge(_load_parent(source, doc.extends, ".", ()), doc)
    return _build(doc, None, "untitled", source)


def unique_names(scenarios: Sequence[Scenario]) -> list[str]:
    """The scenarios' names, made distinct where two share one: the second ``name (2)``, the
    third ``name (3)``, so that tables and folders can key on them."""
    names: list[str] = []
    for s in scenarios:
        name = s.name
        k = 2
        while name in names:
            name = f"{s.name} ({k})"
            k += 1
        names.append(name)
    return names


def parameter_table() -> str:
    """Every parameter as one Markdown table (the appendix of docs/ODD.md is this table)."""
    lines = ["| parameter | default | allowed | unit | kind | mechanism | meaning |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| `{p.name}` | `{_literal(p.default)}` | {p.allowed()} | {p.unit} | {p.kind} | "
              f"{p.mechanism} | {p.meaning} |" for p in PARAMETERS]
    return "\n".join(lines) + "\n"


def explain() -> str:
    """Every parameter (name, default, allowed values, unit, kind, mechanism, meaning) by
    section, then the event types and their fields."""
    head = ("name", "default", "allowed", "unit", "kind", "mechanism")
    rows = {
        p.name: (p.name, _literal(p.default), p.allowed(), p.unit, p.kind, p.mechanism or "-")
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


def registry() -> list[dict[str, Any]]:
    """Every parameter as a plain record (``--explain --json``): name, default, kind,
    mechanism, low, high, unit, meaning and the allowed values in words."""
    return [{"name": p.name, "default": p.default, "kind": p.kind, "mechanism": p.mechanism,
             "low": p.low, "high": p.high, "unit": p.unit, "meaning": p.meaning,
             "allowed": p.allowed()} for p in PARAMETERS]


def _load_chain(display: str, chain: tuple[tuple[Path, str], ...]) -> _Doc:
    raw = read_toml(display)
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
    target = input_file(target_display, where=(display, "extends"))
    seen = [p for p, _ in chain]
    if target in seen:
        names = [d for _, d in chain[seen.index(target):]] + [target_display]
        raise ScenarioError(display, "extends", "cycle: " + " -> ".join(names))
    if len(chain) >= MAX_EXTENDS_DEPTH:
        raise ScenarioError(
            display, "extends", f"chain too deep; allowed: at most {MAX_EXTENDS_DEPTH} files"
        )
    return _load_chain(target_display, (*chain, (target, target_display)))


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
        events=place_events(params, doc.events, file),
        path=path,
        content_hash=content_hash(raw),
        raw=raw,
    )


# --- checking one document ------------------------------------------------------------------


def _check_document(file: str, raw: dict[str, Any]) -> _Doc:
    doc = _Doc()
    for key, value in raw.items():
        if key in SECTIONS:
            doc.sections[key] = _check_section(file, key, value)
        elif key in ("name", "description", "extends"):
            doc.top[key] = expect(file, key, value, str, "a string")
        elif key == "replace_events":
            doc.replace_events = expect(file, key, value, bool, "true or false")
        elif key == "events":
            tables = expect(file, key, value, list, "an array of tables [[events]]")
            doc.events = [check_event(file, i, ev) for i, ev in enumerate(tables)]
        elif key in BY_NAME:
            section, name = key.split(".", 1)
            raise ScenarioError(file, key, "a parameter's name quoted as one key, which a "
                                f"scenario does not read; allowed: {key} = ... unquoted, or "
                                f"{name} = ... in the table [{section}]")
        elif (error := other_kind(file, str(key), SCENARIO_FILE)) is not None:
            raise error
        else:
            what = "unknown section" if isinstance(value, dict) else "unknown key"
            candidates = (*SECTIONS, *TOP_LEVEL_KEYS, *BY_NAME)
            raise ScenarioError(file, str(key), unknown(what, str(key), candidates))
    doc.extends = doc.top.pop("extends", None)
    return doc


def _check_section(file: str, section: str, table: Any) -> dict[str, Any]:
    expect(file, section, table, dict, f"a table [{section}]")
    return {
        key: check_param(file, f"{section}.{key}", f"{section}.{key}", value)
        for key, value in table.items()
    }


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)
