"""The models' arguments, checked before anything is built.

A wrong argument raises at once, naming the argument, its value and what is allowed:
``TypeError`` for a value of the wrong kind, ``ValueError`` for one out of range.  Without
these a zero width failed deep in the neighbourhood code, a negative ``max_jail_term`` jailed
for good, a negative density emptied the grid and a seed of 1.5 failed inside numpy.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from sim.classics.epstein.layout import ACTIVATION_ORDERS, JAIL_MODES, RATIOS
from sim.classics.neighbourhood import SHAPES

# The seed is every draw's key, an int64 in the kernels; Mesa's Model refuses negative seeds.
SEED_LIMIT = 2**63


def _real(name: str, value: Any) -> float:
    """``value`` as a float, ``TypeError`` naming ``name`` unless it is a real number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} {value!r}: expected a number")
    return float(value)


def number(name: str, value: Any, low: float = -math.inf, high: float = math.inf) -> float:
    """A finite real number in [low, high], as a float."""
    v = _real(name, value)
    if not (math.isfinite(v) and low <= v <= high):
        allowed = "a finite number"
        if math.isfinite(high):
            allowed = f"a number from {low:g} to {high:g}"
        elif math.isfinite(low):
            allowed = f"a finite number of at least {low:g}"
        raise ValueError(f"{name} {value!r}: expected {allowed}")
    return v


def whole(name: str, value: Any, low: int, *, infinite: bool = False) -> float:
    """A whole number of at least ``low`` (40 or 40.0), or ``math.inf`` where ``infinite``."""
    v = _real(name, value)
    if infinite and v == math.inf:
        return v
    if not (math.isfinite(v) and v == int(v) and v >= low):
        more = " or math.inf" if infinite else ""
        raise ValueError(f"{name} {value!r}: expected a whole number of at least {low}{more}")
    return v


def switch(name: str, value: Any, none: bool = False) -> None:
    """A yes/no argument: True or False (or 1 or 0); None too where ``none``."""
    if value is None and none:
        return
    if not isinstance(value, (bool, np.bool_, numbers.Integral)) or value not in (0, 1):
        also = ", or None" if none else ""
        raise TypeError(f"{name} {value!r}: expected True or False{also}")


def choice(name: str, value: Any, choices: Any) -> None:
    """One of the strings ``choices``."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} {value!r}: expected one of {', '.join(choices)}")


def seed(name: str, value: Any, also: str = "") -> None:
    """None, or an integer from 0 to 2**63 - 1 (the key of every draw); ``also`` names what
    else the caller takes."""
    if value is None:
        return
    allowed = f"None, {also} or" if also else "None or"
    allowed += " an integer from 0 to 2**63 - 1"
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} {value!r}: expected {allowed}")
    if not 0 <= value < SEED_LIMIT:
        raise ValueError(f"{name} {value!r}: expected {allowed}")


def check_settings(s: dict[str, Any]) -> None:
    """Check the arguments of :meth:`~sim.classics.epstein.base.EpsteinBase._build`, which
    Model I and Model II share (the legitimacies are checked by the models, under the names
    their callers gave).

    ``s`` holds them by name.  The densities must also sum to at most 1, with the message of
    Mesa's example.
    """
    for name in ("width", "height"):
        whole(name, s[name], 1)
    for name in ("citizen_density", "cop_density"):
        number(name, s[name], 0.0, 1.0)
    if s["cop_density"] + s["citizen_density"] > 1:
        raise ValueError("Cop density + citizen density must be less than 1 (citizen_density "
                         f"{s['citizen_density']!r} + cop_density {s['cop_density']!r})")
    for name in ("citizen_vision", "cop_vision"):
        number(name, s[name], 0.0)
    number("active_threshold", s["active_threshold"])
    number("arrest_prob_constant", s["arrest_prob_constant"], 0.0)
    number("fission_probability", s["fission_probability"], 0.0, 1.0)
    whole("max_jail_term", s["max_jail_term"], 0, infinite=True)
    whole("max_iters", s["max_iters"], 0)
    whole("death_age", s["death_age"], 0)
    switch("movement", s["movement"])
    switch("cop_movement", s["cop_movement"], none=True)
    seed("seed", s["seed"])
    for name, choices in (("ratio", RATIOS), ("jail", JAIL_MODES),
                          ("neighbourhood", SHAPES), ("activation_order", ACTIVATION_ORDERS)):
        choice(name, s[name], choices)
    if s["neighbourhood"] != "euclidean":
        # Only the Euclidean disc has a fractional radius; the grid shapes count whole steps,
        # so a vision of 1.7 would be read as 1 without a word.
        for name in ("citizen_vision", "cop_vision"):
            if s[name] != int(s[name]):
                raise ValueError(f"{name} {s[name]!r}: the {s['neighbourhood']} neighbourhood "
                                 "counts whole cells; expected a whole number, or "
                                 "neighbourhood='euclidean' for a fractional radius")
