"""The values a page sends, checked on the server before any use.

Every value reaches the server over the page's websocket, and nothing there stops a visitor
from sending one the page never offered: a scenario that is not in the picker, a slider value
beyond its end, a seed of 2**70, a word where a switch sends true or false.  Each check here
returns the value to use or raises :class:`PageValueError`, whose message is one short line
that names the control and shows no server path, so the page can show it as it is.

Nothing here imports Solara: the checks are plain functions that a test calls directly.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from numbers import Integral, Real
from typing import Any

from sim.core.messages import cut
from sim.core.parameters import BY_NAME

# A seed as typed: digits only, and few enough that reading them costs nothing.
_SEED_TEXT = re.compile(r"[0-9]{1,24}")


class PageValueError(ValueError):
    """A value from the page that the dashboard refuses; ``str(err)`` is one short line."""


def offered(control: str, value: Any, offers: Collection[str]) -> str:
    """``value`` if it is one of the ``offers`` the page showed for ``control``."""
    # Tested as a string first: a forged list or dict is unhashable and would raise in `in`.
    if not isinstance(value, str) or value not in offers:
        raise PageValueError(f"{control}: {cut(repr(value))} is not one of the choices offered; "
                             "choose one from the list")
    return value


def index(control: str, value: Any, offers: Sequence[str]) -> str:
    """The offer at ``value``, the index a row of toggle buttons sends."""
    if isinstance(value, bool) or not isinstance(value, Integral) \
            or not 0 <= value < len(offers):
        raise PageValueError(f"{control}: {cut(repr(value))} is not one of the choices offered; "
                             f"allowed: {', '.join(offers)}")
    return offers[value]


def switch(control: str, value: Any) -> bool:
    """``value`` if it is true or false (a switch sends nothing else)."""
    if not isinstance(value, bool):
        raise PageValueError(f"{control}: {cut(repr(value))}; allowed: true or false")
    return value


def number(control: str, value: Any, low: float, high: float) -> float:
    """``value`` as a float if it is a finite number in ``[low, high]`` (a slider's range)."""
    if isinstance(value, bool) or not isinstance(value, Real) \
            or not math.isfinite(value) or not low <= value <= high:
        raise PageValueError(f"{control}: {cut(repr(value))}; allowed: a number in "
                             f"[{low:g}, {high:g}]")
    return float(value)


def seed(value: Any) -> int:
    """``value`` if it is a seed the model takes: an integer in run.seed's range, or such an
    integer typed as text."""
    param = BY_NAME["run.seed"]
    if isinstance(value, str) and _SEED_TEXT.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, Integral) \
            or not param.low <= value <= param.high:
        raise PageValueError(f"seed: {cut(repr(value))}; allowed: {param.allowed()}")
    return int(value)
