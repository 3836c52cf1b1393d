"""What a mechanism declares: its parameters, the outcomes it records, and its steps of the week.

A mechanism is one unit, as a Starsim module is: :class:`Mechanism` names it (``M05``, its
subject), lists its :class:`Param` (default, range, unit, meaning) and its :class:`Outcome`
(name, label, unit, how a run's summary reads it), and its module defines its kernels and the
:class:`Step` functions that :mod:`sim.core.week` runs in order.  Nothing else in the package
invents a parameter or an outcome: the registries of :mod:`sim.core.parameters` and
:mod:`sim.core.outcomes` are gathered from these declarations.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# What a parameter describes.  ``world``: the map and the population (and the conflict's
# starting state).  ``behaviour``: how actors respond (sensitivities, rates, decision rules,
# the effects of oversight).  ``institution``: what a government or a partner chooses (who is
# hired, chain of command, contract terms and price, the oversight the regime sets, levers,
# presence and size of forces, sanctions policy).  Regimes differ only in institutions.
WORLD, BEHAVIOUR, INSTITUTION = "world", "behaviour", "institution"
KINDS: tuple[str, ...] = (WORLD, BEHAVIOUR, INSTITUTION)
# The run's own parameters (dates, length, seed) are of their own kind.
RUN_KIND = "run"


@dataclass(frozen=True)
class Param:
    """One parameter: a default, a type, an allowed range, what it means and its kind.

    ``kind`` is one of :data:`KINDS` (``run`` for the run's own); a mechanism refuses any
    other when it is declared.  ``at_start``: read once, when the run is built (who is deployed
    where, the communities' first attitudes, the first budget), so an event cannot change it.
    """

    name: str
    default: Any
    low: float | None
    high: float | None
    unit: str
    meaning: str
    mechanism: str = ""
    kind: str = field(default="", kw_only=True)
    at_start: bool = field(default=False, kw_only=True)

    @property
    def type(self) -> type:
        """The Python type a value must have (int, float, bool or str)."""
        return type(self.default)

    def allowed(self) -> str:
        """Describe the allowed values in words, for error messages and --explain."""
        if self.type is bool:
            return "true or false"
        if self.type is str:
            # A step is a week from Monday to Sunday, so a date parameter names a Monday.
            return "a Monday, YYYY-MM-DD" if self.unit == "date" else "a string"
        kind = "an integer" if self.type is int else "a number"
        return f"{kind} in [{_fmt(self.low)}, {_fmt(self.high)}]"


def check_kind(param: Param, allowed: tuple[str, ...] = KINDS) -> Param:
    """``param`` if its kind is one of ``allowed``, else a ValueError naming it."""
    if param.kind not in allowed:
        declared = f" (declared by {param.mechanism})" if param.mechanism else ""
        raise ValueError(f"parameter {param.name}{declared}: kind {param.kind!r}; allowed: "
                         + ", ".join(allowed))
    return param


def _fmt(x: float | None) -> str:
    if x is None:
        return "?"
    if isinstance(x, int):
        return str(x)
    if float(x).is_integer() and abs(x) < 1e15:
        return str(int(x))
    return f"{x:g}"


# How a run's summary reads an outcome's weekly series.
TOTAL, FINAL, LARGEST = "total", "final", "largest"


@dataclass(frozen=True)
class Outcome:
    """One weekly series a run records, and how reports show it.

    ``summary`` is its key in a run's summary ("" if the summary leaves it out; a dot nests it,
    as in ``civilian_deaths.total``), read off the series by ``reduce`` (the sum of the weeks,
    the last week, or the largest).  ``shown`` names the reports that list it: ``table`` (the
    comparison and analysis tables), ``comparison`` (the comparison table alone), ``ranking``
    (sensitivity; ``better`` says which way is better), ``plot`` (a run's figure) and ``chart``
    (the dashboard).  ``title`` is the longer label of plots and charts.
    """

    name: str
    label: str
    unit: str
    mechanism: str = ""
    summary: str = ""
    reduce: str = FINAL
    kind: type = float
    flow: bool = False  # a weekly flow (plots sum it by quarter); else a level
    share: bool = False  # a share or index on 0-1
    shown: frozenset[str] = frozenset()
    title: str = ""
    better: str = ""  # "lower" or "higher", for rankings

    @property
    def column(self) -> str:
        """Its name in tables of runs (a sweep's or a comparison's): the summary key, flat."""
        return self.summary.replace(".", "_")


@dataclass(frozen=True)
class Mechanism:
    """A mechanism's declarations: its id and subject, parameters and outcomes, and two hooks.

    ``kernels`` are the numba functions its steps call (the tests run each as plain Python and
    compare; the benchmarks time each).  ``setup(model)`` makes the mechanism's own state when
    a model is built (e.g. the state's budget); ``record(model, week)`` puts the week's value
    of each of its outcomes in ``week.row``, after every step of the week has run.  Unnumbered
    modules (the world, armed-group violence, territorial control) use the same declarations
    with a name for an id.
    """

    id: str
    subject: str
    parameters: tuple[Param, ...] = ()
    outcomes: tuple[Outcome, ...] = ()
    kernels: tuple[Callable[..., Any], ...] = ()
    setup: Callable[[Any], None] | None = None
    record: Callable[[Any, Any], None] | None = None

    def __post_init__(self) -> None:
        # Declared once with the mechanism, so each parameter and outcome carries its id.
        object.__setattr__(self, "parameters", tuple(
            check_kind(dataclasses.replace(p, mechanism=self.id)) for p in self.parameters))
        object.__setattr__(self, "outcomes", tuple(
            Outcome(**{**o.__dict__, "mechanism": self.id}) for o in self.outcomes))


@dataclass(frozen=True)
class Step:
    """One step of the week: a mechanism's function of the model and the week's record.

    ``together``, where a step has it, runs the step for every run of an ensemble
    (:class:`sim.core.ensemble.Ensemble`) in one call, given the ensemble and the runs' weeks;
    each run comes out as ``run`` alone leaves it, to the last bit.  Steps without it run
    once a run.
    """

    mechanism: Mechanism
    name: str
    run: Callable[[Any, Any], None]
    together: Callable[[Any, list], None] | None = None

    @property
    def label(self) -> str:
        """``M05 recruitment and concealment: recruitment``, as the week's list prints it; a
        module without a number shows its name alone (``observation: tally``)."""
        m = self.mechanism
        numbered = m.id[:1] == "M" and m.id[1:].isdigit()
        return f"{m.id} {m.subject}: {self.name}" if numbered else f"{m.id}: {self.name}"
