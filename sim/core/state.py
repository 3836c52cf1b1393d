"""The model's state, declared once as typed numpy arrays (one row per entity).

Kernels read and write these arrays in place; the Mesa agents of :mod:`sim.world.agents` are views
onto one row each.  Perpetrator columns of the death arrays follow ``PERPETRATORS``.
"""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass, field, fields
from typing import Any, NamedTuple

import numpy as np

from sim.core.summation import sum_of_kind

PERPETRATORS: tuple[str, ...] = ("state", "contractor", "partner", "insurgent", "militia")
STATE, CONTRACTOR, PARTNER, INSURGENT, MILITIA = range(5)
N_PERPETRATORS = len(PERPETRATORS)
FORCE_KINDS: tuple[str, ...] = PERPETRATORS[:3]
FACTIONS: tuple[str, ...] = ("armed group A", "armed group B")

# Columns of the per-cell totals a week tallies (sim.core.observation): residents, population-
# weighted sums of attitudes, displaced, and civilian deaths of the week by perpetrator.
POPULATION, COOPERATION, GRIEVANCE, SUPPORT, DISPLACED, DEAD = 0, 1, 2, 3, 4, 5
COLUMNS = DEAD + len(PERPETRATORS)
# A community's support for the armed groups at the start, per unit of its grievance then:
# the model's assumption (docs/ODD.md 5.2, "Initial state").
INITIAL_SUPPORT = 0.5


def _zeros(n: int, dtype=np.float64, *shape: int) -> np.ndarray:
    return np.zeros((n, *shape), dtype=dtype)


class ArrayTable:
    """A table of same-length arrays that kernels take whole, as one argument.

    A kernel names ``communities.fear`` instead of taking thirty positional arrays: it receives
    the table as a plain tuple of its arrays, in the order of the fields, and names them again
    on entry (``communities = CommunitiesView(*communities)``, the table's named tuple).  Numba
    would take the named tuple itself, but it types an argument at every call, and for a named
    tuple it encodes each field's name: about 0.1 µs a field, some 700 fields a default week,
    against a third of that for a plain tuple.  The tuple is kept between calls, since a week
    hands each table to several kernels; assigning another object to any attribute (units are
    appended by replacing arrays) drops it, so a kernel never misses an array.
    """

    View: type

    def view(self) -> tuple:
        """The arrays as a plain tuple in the order of ``View``'s fields (the kernels'
        argument; ``View(*table.view())`` names them)."""
        kept = self.__dict__.get("_view")
        if kept is None:
            kept = tuple(getattr(self, name) for name in self.View._fields)
            self.__dict__["_view"] = kept
        return kept

    def __setattr__(self, name: str, value: Any) -> None:
        # ``table.x &= mask`` assigns the same array back: the tuple still holds it.
        if self.__dict__.get(name) is not value:
            self.__dict__.pop("_view", None)
        object.__setattr__(self, name, value)


def view_type(cls: type) -> type:
    # Module-level names, so that numba's cache can pickle the types of its signatures.
    return namedtuple(f"{cls.__name__}View", [f.name for f in fields(cls)], module=cls.__module__)


@dataclass
class Communities(ArrayTable):
    """Villages and population clusters: who lives there, what they think, what they suffered."""

    cell: np.ndarray
    group: np.ndarray
    population: np.ndarray  # residents alive and at home
    initial_population: np.ndarray
    displaced: np.ndarray  # residents currently displaced
    dead: np.ndarray  # (n, N_PERPETRATORS) civilian deaths by perpetrator, cumulative
    dead_step: np.ndarray  # (n, N_PERPETRATORS) civilian deaths by perpetrator, this step
    cooperation: np.ndarray  # with the state, 0-1
    support: np.ndarray  # for the armed groups, 0-1
    grievance: np.ndarray  # 0-1
    memory: np.ndarray  # memory of abuses by state-side forces (decays)
    insurgent_memory: np.ndarray  # memory of abuses by armed groups (decays)
    fear: np.ndarray  # short memory of force (Lyall's deterrence)

    @classmethod
    def create(cls, cell, group, population, cooperation, grievance) -> Communities:
        """Communities at the start of a run: no deaths, no displacement, no memories."""
        n = len(cell)
        return cls(
            cell=cell, group=group, population=population.copy(),
            initial_population=population.copy(), displaced=_zeros(n),
            dead=_zeros(n, np.float64, N_PERPETRATORS),
            dead_step=_zeros(n, np.float64, N_PERPETRATORS), cooperation=np.full(n, cooperation),
            support=np.full(n, INITIAL_SUPPORT * grievance), grievance=np.full(n, grievance),
            memory=_zeros(n), insurgent_memory=_zeros(n), fear=_zeros(n),
        )

    def __len__(self) -> int:
        return len(self.cell)


@dataclass
class Forces(ArrayTable):
    """State, contractor and partner units: where they are, how they use force, and the conduct
    each chooses (:mod:`sim.mechanisms.conduct`)."""

    kind: np.ndarray  # int64: STATE / CONTRACTOR / PARTNER
    cell: np.ndarray
    strength: np.ndarray
    firepower: np.ndarray
    skill: np.ndarray  # discrimination at full restraint: training and equipment
    reach: np.ndarray  # int64, cells a week
    active: np.ndarray  # bool
    # Chosen each week (conduct): restraint, and the shares of effort on offensive operations,
    # protecting people and guarding mines.
    restraint: np.ndarray
    offensive: np.ndarray
    protect: np.ndarray
    guard: np.ndarray
    discrimination: np.ndarray  # share of force that reaches combatants, from skill and restraint
    discipline: np.ndarray  # restraint as M2's atrocity risk reads it
    # What the unit has seen of oversight (decaying counts): abuses, and those punished.
    seen_abuses: np.ndarray
    seen_punished: np.ndarray

    @classmethod
    def empty(cls) -> Forces:
        """No units; :meth:`add` appends them."""
        return cls(**{f.name: np.zeros(0, dtype=_FORCE_DTYPES.get(f.name, np.float64))
                      for f in fields(cls)})

    def add(self, kind: int, cells: np.ndarray, strength: float, firepower: float,
            skill: float, reach: int) -> np.ndarray:
        """Append ``len(cells)`` units of one kind; return their row indices.  They have seen
        nothing of oversight yet; their conduct is chosen before they first operate."""
        n = len(cells)
        start = len(self.kind)
        new = dict(kind=np.full(n, kind), cell=np.asarray(cells, dtype=np.int64),
                   strength=np.full(n, strength), firepower=np.full(n, firepower),
                   skill=np.full(n, skill), reach=np.full(n, reach), active=np.ones(n, dtype=bool),
                   discrimination=np.full(n, skill))
        for f in fields(self):
            values = new.get(f.name, np.zeros(n))
            dtype = _FORCE_DTYPES.get(f.name, np.float64)
            setattr(self, f.name, np.concatenate([getattr(self, f.name), values.astype(dtype)]))
        return np.arange(start, start + n)

    def active_mean(self, column: np.ndarray, kind: int) -> float:
        """The mean of ``column`` over the active units of ``kind``; NaN while none is."""
        total, n = sum_of_kind(self.kind, self.active, column, kind)
        return total / n if n else float("nan")

    def __len__(self) -> int:
        return len(self.kind)


_FORCE_DTYPES = dict(kind=np.int64, cell=np.int64, reach=np.int64, active=np.bool_)


@dataclass
class Bands(ArrayTable):
    """Insurgent bands of the two rival armed groups; free rows are reused when a band splits,
    and rows are added when too few are free
    (:func:`sim.mechanisms.m05_recruitment.make_room`)."""

    faction: np.ndarray
    cell: np.ndarray
    strength: np.ndarray
    active: np.ndarray
    recruits: np.ndarray = field(default_factory=lambda: np.zeros(0))  # this step

    @classmethod
    def create(cls, faction: np.ndarray, cell: np.ndarray, strength: float,
               capacity: int) -> Bands:
        """Bands at the start, with room for ``capacity`` bands in all."""
        n = len(faction)
        cap = max(capacity, n)
        bands = cls(faction=np.zeros(cap, np.int64), cell=np.zeros(cap, np.int64),
                    strength=np.zeros(cap), active=np.zeros(cap, np.bool_), recruits=np.zeros(cap))
        bands.faction[:n] = faction
        bands.cell[:n] = cell
        bands.strength[:n] = strength
        bands.active[:n] = strength > 0
        return bands

    def add_rows(self, n: int) -> range:
        """Append ``n`` free rows (no band, no fighters); return their indices."""
        start = len(self)
        for f in fields(self):
            column = getattr(self, f.name)
            setattr(self, f.name, np.concatenate([column, np.zeros(n, column.dtype)]))
        return range(start, start + n)

    def __len__(self) -> int:
        return len(self.faction)


@dataclass
class Cells(ArrayTable):
    """Per-cell aggregates recomputed each step, and the slow fields of control."""

    population: np.ndarray
    cooperation: np.ndarray  # population-weighted means
    support: np.ndarray
    grievance: np.ndarray
    fear: np.ndarray
    recruit_pool: np.ndarray
    intelligence: np.ndarray
    concealment: np.ndarray
    insurgents: np.ndarray  # (cells, 2) fighters by faction
    forces: np.ndarray  # personnel of all forces in the cell
    force_presence: np.ndarray  # decaying memory of force presence
    insurgent_presence: np.ndarray
    control: np.ndarray  # state control 0-1
    kills: np.ndarray  # combatants killed by forces this step
    force_losses: np.ndarray  # force personnel killed by armed groups this step
    rival_losses: np.ndarray  # (cells, 2) fighters of each group killed by the other, this step

    @classmethod
    def create(cls, n: int, control: np.ndarray) -> Cells:
        """Empty aggregates for ``n`` cells with an initial control field."""
        arrays = {f.name: _zeros(n) for f in fields(cls)}
        arrays["insurgents"] = _zeros(n, np.float64, 2)
        arrays["rival_losses"] = _zeros(n, np.float64, 2)
        arrays["control"] = control.astype(np.float64).copy()
        return cls(**arrays)


CommunitiesView = Communities.View = view_type(Communities)
ForcesView = Forces.View = view_type(Forces)
BandsView = Bands.View = view_type(Bands)
CellsView = Cells.View = view_type(Cells)


class Abuse(NamedTuple):
    """One abuse of a week, for oversight (M6): civilians killed by one force's action."""

    source: str  # "operation" or "atrocity" (a unit's, M2), or "event" (a dated event)
    entity: int  # the unit, or the dated event's index: the key of oversight's draws
    kind: int  # STATE, CONTRACTOR or PARTNER
    deaths: float

    @property
    def unit(self) -> int:
        """The unit responsible, or -1 for a dated event."""
        return -1 if self.source == "event" else self.entity


@dataclass
class Week:
    """What one week has produced so far, handed from step to step, and the row it records.

    Each step reads what earlier steps left here and adds its own results; ``row`` collects the
    week's value of every outcome, which the last step appends to the model's records.
    """

    abuses: list[Abuse] = field(default_factory=list)  # by units' operations (M2)
    scheduled: list[Abuse] = field(default_factory=list)  # by dated events
    insurgents_killed: float = 0.0
    force_killed: float = 0.0
    # Force personnel killed by armed groups this week, by kind of force (FORCE_KINDS): each
    # partner counts its own dead (M9).
    force_killed_by_kind: np.ndarray = field(default_factory=lambda: np.zeros(len(FORCE_KINDS)))
    recruits: float = 0.0
    crossed: float = 0.0
    newly_displaced: float = 0.0
    review: Any = None  # the oversight of the week's abuses (M6)
    ledger: Any = None  # the week's public money and contractor income (M7)
    totals: Any = None  # the week's per-cell tallies summed over cells (sim.core.observation)
    row: dict[str, float] = field(default_factory=dict)

    def mean(self, column: int) -> float:
        """A column of the week's totals per resident (0 where nobody is left)."""
        pop = self.totals[POPULATION]
        return float(self.totals[column] / pop) if pop > 0 else 0.0

    def all_abuses(self) -> list[Abuse]:
        """The operations' abuses, then those of dated events, in the order oversight sees
        them."""
        return self.abuses + self.scheduled
