"""Mesa agents: the readable face of the model's arrays.

Each agent is a view onto one row of :mod:`sim.core.state`: reading ``community.cooperation`` reads
the array, assigning it writes the array, so a notebook can inspect or nudge one village and the
kernels see the change.  ``model.agents_by_type[Community]`` lists them.
"""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import weakref
from collections.abc import Iterator

import mesa

from sim.core.parameters import BY_NAME
from sim.core.state import CONTRACTOR, FACTIONS, PARTNER, PERPETRATORS, STATE
from sim.world import geography

# The largest sizes a scenario allows (a community's residents, a unit's or a band's strength,
# a unit's firepower): beyond them a unit's force turns the week's means into NaN and a band
# splits into more rows than memory holds.
_MOST_PEOPLE = BY_NAME["map.population"].high
_MOST_PERSONNEL = max(BY_NAME[f"{force}.strength"].high
                      for force in ("state", "contractor", "partner"))
_MOST_FIREPOWER = max(BY_NAME[f"{force}.firepower"].high
                      for force in ("state", "contractor", "partner"))
_MOST_FIGHTERS = BY_NAME["insurgents.strength"].high


class _Numbering(weakref.WeakKeyDictionary):
    """Each model's counter of agent ids, held no longer than the model: Mesa 3.3 numbers a
    model's agents from a class-level table that keeps every model that ever made an agent
    alive, with all its arrays, until the process ends."""

    def __getitem__(self, model: mesa.Model) -> Iterator[int]:
        if model not in self:
            # A copied or unpickled model brings its agents, numbered: new ones follow them.
            self[model] = itertools.count(
                1 + max((agent.unique_id for agent in model.agents), default=0))
        return super().__getitem__(model)


def _no_step(self):
    raise AttributeError(f"{type(self).__name__} has no step or advance: the agents are views "
                         "of the model's arrays, and the model runs the week; allowed: "
                         "model.step() or model.run()")


def _fixed(name: str, doc: str):
    """A read-only property of what the agent was made for (its row, its name)."""
    return property(lambda self: getattr(self, f"_{name}"), doc=doc)


class ModelAgent(mesa.Agent):
    """A Mesa agent of this model, numbered as Mesa numbers them, without keeping its model
    alive once the user lets it go.

    Only the attributes that write the model's arrays can be set: a misspelt name or a
    read-only one is refused in one line rather than kept on the agent, where no kernel reads
    it.  The agents have no ``step`` or ``advance``: the model runs the week.
    """

    _ids = _Numbering()
    # Mesa's own: set by its constructor, ``unique_id`` again by Mesa 3.4+'s registry, ``pos``
    # by its spaces.
    _MESA = ("model", "unique_id", "pos")

    step = property(_no_step, doc="None: the model runs the week (model.step()).")
    advance = property(_no_step, doc="None: the model runs the week (model.step()).")

    def __setattr__(self, name: str, value: object) -> None:
        kind = type(self)
        held = getattr(kind, name, None)
        if (name.startswith("_") or name in self._MESA
                or (isinstance(held, property) and held.fset is not None)):
            super().__setattr__(name, value)
            return
        settable = sorted(k for k in dir(kind) if isinstance(getattr(kind, k), property)
                          and getattr(kind, k).fset is not None
                          and not k.startswith("_") and k not in ("step", "advance"))
        allowed = (f"allowed: {', '.join(settable)}" if settable else
                   "allowed: none, this agent only reads the model (set model.p[...] for "
                   "the parameters read every week)")
        if isinstance(held, property) or name in self.__dict__:
            raise AttributeError(f"{kind.__name__}.{name} is read-only; {allowed}")
        close = difflib.get_close_matches(name, [k for k in dir(kind) if not k.startswith("_")],
                                          n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise AttributeError(f"{kind.__name__} has no attribute {name!r}{hint}, and an agent "
                             f"keeps none of its own; {allowed}")

    def live_row(self) -> int:
        """The agent's row; refused once its band has dissolved and the row holds another."""
        gone = self.__dict__.get("_gone")
        if gone is not None:
            raise AttributeError(f"{type(self).__name__} {self._row}: this band dissolved, and "
                                 f"from week {gone} its row holds another band, with an agent of "
                                 "its own; allowed: read active (False), or the agents of "
                                 "model.agents_by_type[InsurgentBand]")
        return self._row

    def remove(self) -> None:
        """Refused: the agent is a view of a row, which stays in the model's arrays."""
        raise AttributeError(f"{type(self).__name__}: an agent is a view of the model's arrays "
                             "and cannot be removed; allowed: set a band's or a unit's strength "
                             "to 0 (it dissolves or stops operating in the next week)")


def _field(store: str, name: str, doc: str, high: float = math.inf):
    """A property that reads and writes the row's value of ``model.<store>.<name>``; a value
    written must be a number in [0, ``high``], as the kernels expect it."""
    def get(self):
        return float(getattr(getattr(self.model, store), name)[self.live_row()])

    def set_(self, value):
        row = self.live_row()
        if (not isinstance(value, numbers.Real) or isinstance(value, bool)
                or not math.isfinite(value) or not 0.0 <= value <= high):
            allowed = "a number of at least 0" if high == math.inf else f"a number in [0, {high:g}]"
            raise ValueError(f"{name}: {value!r} cannot be set; allowed: {allowed}")
        table = getattr(self.model, store)
        if store != "communities" and not table.active[row]:
            raise ValueError(f"{name}: {type(self).__name__} {row} is not active (withdrawn, "
                             "destroyed or dissolved), so no kernel reads a value set here; "
                             "allowed: the agents whose active is True")
        getattr(table, name)[row] = value
        self.model.note_by_hand(f"{type(self).__name__} {row}: {name} = {value!r}")

    return property(get, set_, doc=doc)


def _chosen(name: str, doc: str):
    """A property that reads the row's ``model.forces.<name>``, which the unit chooses each
    week (:mod:`sim.mechanisms.conduct`): a value written would be chosen over before use."""
    def set_(self, value):
        raise AttributeError(f"{name}: chosen by the unit each week from its incentives, so a "
                             "value set here would not last; allowed: set skill, strength or "
                             "firepower, or the scenario's parameters")

    return property(_field("forces", name, doc).fget, set_, doc=doc)


class Tally(dict):
    """A read-only dict of counts read off the arrays: a write would change only the copy."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("a tally read off the model's arrays is read-only (a write would change "
                        "only this copy); allowed: read it, or copy it with dict(...)")

    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple:
        # A copy or a pickle is a plain dict: built key by key, it would be refused.
        return (dict, (dict(self),))


class Community(ModelAgent):
    """A village or population cluster: the people whose cooperation counterinsurgency lives on.

    Its cooperation with the state is "the most important short-term enabler of successful
    counterinsurgency: local cooperation"; punitive operations that "blurred the line between
    combatants and civilians" erode it and raise its grievance.
    """

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self._row = row

    row = _fixed("row", "the community's row of model.communities")
    cooperation = _field("communities", "cooperation", "cooperation with the state, 0-1", 1.0)
    grievance = _field("communities", "grievance", "grievance, 0-1", 1.0)
    support = _field("communities", "support", "support for the armed groups, 0-1", 1.0)
    population = _field("communities", "population", "residents alive and at home",
                        _MOST_PEOPLE)
    displaced = _field("communities", "displaced", "residents currently displaced",
                       _MOST_PEOPLE)
    memory = _field("communities", "memory", "memory of abuses by state-side forces")

    @property
    def civilian_deaths(self) -> dict[str, float]:
        """Civilians of this community killed so far, by perpetrator: a read-only copy."""
        dead = self.model.communities.dead[self.row]
        return Tally({name: float(dead[k]) for k, name in enumerate(PERPETRATORS)})

    @property
    def group(self) -> str:
        """The community's social group."""
        return geography.GROUPS[self.model.communities.group[self.row]]

    @property
    def cell(self) -> int:
        """Map cell of the community."""
        return int(self.model.communities.cell[self.row])

    @property
    def region(self) -> str:
        """North, centre or south."""
        return geography.REGIONS[self.model.world.cell_region[self.cell]]

    @property
    def insurgents(self) -> float:
        """Fighters of both armed groups in the community's cell."""
        return float(self.model.cells.insurgents[self.cell].sum())

    def __repr__(self) -> str:
        return (f"<Community {self.row} {self.group} {self.region} pop={self.population:.0f} "
                f"cooperation={self.cooperation:.2f} grievance={self.grievance:.2f}>")


class ForceUnit(ModelAgent):
    """A unit that uses force: its discrimination decides whom its force reaches."""

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self._row = row

    row = _fixed("row", "the unit's row of model.forces")
    strength = _field("forces", "strength", "personnel", _MOST_PERSONNEL)
    firepower = _field("forces", "firepower", "force per person", _MOST_FIREPOWER)
    skill = _field("forces", "skill", "discrimination at full restraint (training)", 1.0)
    restraint = _chosen("restraint", "restraint chosen this week, 0-1")
    discrimination = _chosen("discrimination", "share of force reaching combatants")
    discipline = _chosen("discipline", "restraint as the risk of atrocities reads it")
    guard = _chosen("guard", "share of effort on guarding mines")

    @property
    def cell(self) -> int:
        """Map cell the unit operates in."""
        return int(self.model.forces.cell[self.row])

    @property
    def active(self) -> bool:
        """Whether the unit is deployed and operating."""
        return bool(self.model.forces.active[self.row])

    def __repr__(self) -> str:
        return (f"<{type(self).__name__} {self.row} strength={self.strength:.0f} "
                f"discrimination={self.discrimination:.2f} active={self.active}>")


class StateForceUnit(ForceUnit):
    """A national army or gendarmerie unit: accountable, inside the chain of command."""


class ContractorUnit(ForceUnit):
    """A foreign private military team: air mobility to "project power into areas where state
    presence had been diminished", less skill than the army at sparing civilians (its
    discrimination at full restraint), and "incentives tied to rent extraction", which weigh on
    the restraint it chooses; inside or outside the chain of command as the contract says."""


class PartnerUnit(ForceUnit):
    """A unit of the foreign military partner: intelligence, training and monitoring come
    with it."""


_UNIT_CLASS = {STATE: StateForceUnit, CONTRACTOR: ContractorUnit, PARTNER: PartnerUnit}


class InsurgentBand(ModelAgent):
    """An armed-group cell, of one of two rival groups, that "recruit[s] and hide[s] among
    vulnerable communities"."""

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self._row = row

    row = _fixed("row", "the band's row of model.bands")
    strength = _field("bands", "strength", "fighters", _MOST_FIGHTERS)

    @property
    def faction(self) -> str:
        """Which armed group the band belongs to."""
        return FACTIONS[self.model.bands.faction[self.live_row()]]

    @property
    def cell(self) -> int:
        """Map cell of the band."""
        return int(self.model.bands.cell[self.live_row()])

    @property
    def active(self) -> bool:
        """Whether the band exists (free rows wait for bands that split).  A band that
        dissolved stays inactive: when a split reuses its row, the new band gets an agent of
        its own, and this one says False and refuses every other read."""
        return "_gone" not in self.__dict__ and bool(self.model.bands.active[self._row])


class Partner(ModelAgent):
    """A foreign military partner or the UN mission: intelligence, monitoring, training,
    mediation; it leaves when its relationship with the host falls below a threshold."""

    def __init__(self, model: mesa.Model, name: str) -> None:
        super().__init__(model)
        self._name = name

    name = _fixed("name", '"partner" (the foreign military partner) or "un" (the UN mission)')

    @property
    def relationship(self) -> float:
        """Relationship with the host, 0-1."""
        return self.model.relationship[self.name]

    @property
    def present(self) -> bool:
        """Whether the partner is deployed."""
        return self.model.partner_present if self.name == "partner" else self.model.un_present


class Government(ModelAgent):
    """The host state: legitimacy, budget, sanctions exposure, and the oversight regime."""

    @property
    def legitimacy(self) -> float:
        """Legitimacy L of Epstein's grievance H(1-L)."""
        return self.model.legitimacy

    @property
    def budget(self) -> float:
        """Security budget, million USD."""
        return self.model.budget

    @property
    def sanctions(self) -> float:
        """Level of targeted sanctions in force, 0-1."""
        return self.model.sanctions


class NeighbourState(ModelAgent):
    """A neighbouring state with its own security choice, exposed to spill-over."""

    def __init__(self, model: mesa.Model, index: int) -> None:
        super().__init__(model)
        self._index = index
        self._name = geography.NEIGHBOURS[index]

    index = _fixed("index", "the neighbour's index in geography.NEIGHBOURS")
    name = _fixed("name", "the neighbour's name")

    @property
    def instability(self) -> float:
        """Instability, 0-1."""
        return float(self.model.neighbour_instability[self.index])

    @property
    def has_contractor(self) -> bool:
        """Whether it has copied the contractor model."""
        return bool(self.model.neighbour_contractor[self.index])


class AgentViews:
    """Creates the Mesa agents of a model and those of units that arrive later."""

    def __init__(self, model: mesa.Model) -> None:
        self.model = model
        for row in range(len(model.communities)):
            Community(model, row)
        self.add_units(range(len(model.forces)))
        self.add_bands(range(len(model.bands)))
        model.partners = {name: Partner(model, name) for name in ("partner", "un")}
        model.government = Government(model)
        model.neighbours = [NeighbourState(model, k) for k in range(len(geography.NEIGHBOURS))]

    def add_units(self, rows) -> None:
        """Create the agents of newly added force units."""
        for row in rows:
            _UNIT_CLASS[int(self.model.forces.kind[row])](self.model, int(row))

    def add_bands(self, rows) -> None:
        """Create the agents of rows added to the bands' table."""
        for row in rows:
            InsurgentBand(self.model, int(row))

    def renew_bands(self, rows) -> None:
        """Give each row that a new band took over a new agent; the agent of the band that
        held it before goes stale (see :attr:`InsurgentBand.active`)."""
        rows = {int(row) for row in rows}
        if not rows:
            return
        for agent in list(self.model.agents_by_type[InsurgentBand]):
            if agent._row in rows:
                agent._gone = self.model.t
                self.model.deregister_agent(agent)
        self.add_bands(sorted(rows))


def create_agents(model: mesa.Model) -> AgentViews:
    """Create every Mesa agent of a freshly built model."""
    return AgentViews(model)
