"""Mesa agents: the readable face of the model's arrays.

Each agent is a view onto one row of :mod:`sim.core.state`: reading ``community.cooperation`` reads
the array, assigning it writes the array, so a notebook can inspect or nudge one village and the
kernels see the change.  ``model.agents_by_type[Community]`` lists them.
"""

from __future__ import annotations

import mesa

from sim.core.parameters import BY_NAME
from sim.core.state import CONTRACTOR, FACTIONS, PARTNER, PERPETRATORS, STATE
from sim.world import geography
from sim.world.views import ModelAgent, Tally, array_field, chosen, fixed

# The largest sizes a scenario allows (a community's residents, a unit's or a band's strength,
# a unit's firepower): beyond them a unit's force turns the week's means into NaN and a band
# splits into more rows than memory holds.
_MOST_PEOPLE = BY_NAME["map.population"].high
_MOST_PERSONNEL = max(BY_NAME[f"{force}.strength"].high
                      for force in ("state", "contractor", "partner"))
_MOST_FIREPOWER = max(BY_NAME[f"{force}.firepower"].high
                      for force in ("state", "contractor", "partner"))
_MOST_FIGHTERS = BY_NAME["insurgents.strength"].high


class Community(ModelAgent):
    """A village or population cluster: the people whose cooperation counterinsurgency lives on.

    Its cooperation with the state is "the most important short-term enabler of successful
    counterinsurgency: local cooperation"; punitive operations that "blurred the line between
    combatants and civilians" erode it and raise its grievance.
    """

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self._row = row

    row = fixed("row", "the community's row of model.communities")
    _shown = ("group", "region", "population", "cooperation", "grievance")
    cooperation = array_field("communities", "cooperation", "cooperation with the state, 0-1", 1.0)
    grievance = array_field("communities", "grievance", "grievance, 0-1", 1.0)
    support = array_field("communities", "support", "support for the armed groups, 0-1", 1.0)
    population = array_field("communities", "population", "residents alive and at home",
                        _MOST_PEOPLE)
    displaced = array_field("communities", "displaced", "residents currently displaced",
                       _MOST_PEOPLE)
    memory = array_field("communities", "memory", "memory of abuses by state-side forces")

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


class ForceUnit(ModelAgent):
    """A unit that uses force: its discrimination decides whom its force reaches."""

    def __init__(self, model: mesa.Model, row: int) -> None:
        super().__init__(model)
        self._row = row

    row = fixed("row", "the unit's row of model.forces")
    _shown = ("strength", "discrimination", "active")
    strength = array_field("forces", "strength", "personnel", _MOST_PERSONNEL)
    firepower = array_field("forces", "firepower", "force per person", _MOST_FIREPOWER)
    skill = array_field("forces", "skill", "discrimination at full restraint (training)", 1.0)
    restraint = chosen("restraint", "restraint chosen this week, 0-1")
    discrimination = chosen("discrimination", "share of force reaching combatants")
    discipline = chosen("discipline", "restraint as the risk of atrocities reads it")
    guard = chosen("guard", "share of effort on guarding mines")

    @property
    def cell(self) -> int:
        """Map cell the unit operates in."""
        return int(self.model.forces.cell[self.row])

    @property
    def active(self) -> bool:
        """Whether the unit is deployed and operating."""
        return bool(self.model.forces.active[self.row])


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

    row = fixed("row", "the band's row of model.bands")
    _shown = ("faction", "strength", "cell", "active")
    strength = array_field("bands", "strength", "fighters", _MOST_FIGHTERS)

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

    name = fixed("name", '"partner" (the foreign military partner) or "un" (the UN mission)')
    _shown = ("present", "relationship")

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

    _shown = ("legitimacy", "budget", "sanctions")

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

    index = fixed("index", "the neighbour's index in geography.NEIGHBOURS")
    name = fixed("name", "the neighbour's name")
    _shown = ("instability", "has_contractor")

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
