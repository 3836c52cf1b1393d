"""Every model parameter, declared once: default, type, allowed range, unit and meaning.

Each mechanism declares its own parameters (:class:`sim.core.registry.Param`); this module
gathers them, with the run's own, into the one table that scenario files, `blowback scenario
--explain`, the dashboard's sliders and the sweeps read.  Nothing else invents a parameter.
Names are dotted ``section.key`` and map one-to-one onto TOML tables
(``[oversight] punishment = 0.5``).
"""

from __future__ import annotations

from typing import Any

from sim.core.registry import RUN_KIND, Param, check_kind
from sim.core.week import MECHANISMS

RUN: tuple[Param, ...] = (
    Param("run.start_date", "2013-01-07", None, None, "date",
          "calendar date of step 0, the Monday its first week starts", "run", kind=RUN_KIND),
    Param("run.steps", 520, 1, 5200, "weeks", "length of the run; 520 weeks is ten years", "run",
          kind=RUN_KIND),
    Param("run.seed", 1, 0, 2**62, "-", "root seed: every random draw is keyed by it", "run",
          kind=RUN_KIND),
)
# The order in which --explain lists the sections; a section of a new mechanism comes after.
_ORDER: tuple[str, ...] = ("run", "map", "state", "contractor", "engagement", "insurgents",
                           "community", "partner", "un", "relations", "oversight", "conduct",
                           "government", "sanctions", "region", "levers", "politics")


def _gather() -> tuple[Param, ...]:
    declared = RUN + tuple(p for m in MECHANISMS for p in m.parameters)
    seen: dict[str, str] = {}
    # A mechanism checked the kinds of its parameters when it was declared; run.* have their own.
    for p in RUN:
        check_kind(p, (RUN_KIND,))
    for p in declared:
        if p.name in seen:
            raise ValueError(f"parameter {p.name} is declared by both {seen[p.name]} and "
                             f"{p.mechanism}")
        seen[p.name] = p.mechanism

    def rank(p: Param) -> int:
        section = p.name.split(".")[0]
        return _ORDER.index(section) if section in _ORDER else len(_ORDER)

    return tuple(sorted(declared, key=rank))


PARAMETERS: tuple[Param, ...] = _gather()
SECTIONS: tuple[str, ...] = tuple(dict.fromkeys(p.name.split(".")[0] for p in PARAMETERS))
BY_NAME: dict[str, Param] = {p.name: p for p in PARAMETERS}


def defaults() -> dict[str, Any]:
    """A fresh flat mapping ``{"section.key": default}`` of every parameter."""
    return {p.name: p.default for p in PARAMETERS}
