"""The Blowback model: communities, state forces, contractors, armed groups and partners.

The state lives in the typed arrays of :mod:`sim.core.state`; each week the kernels of
:mod:`sim.kernels` act on them in a fixed order, then the model-level mechanisms (oversight,
legitimacy, rent, partners, sanctions, region) run on the week's tallies.  Communities, units,
bands, partners, the government and the neighbours are also Mesa agents
(:mod:`sim.world.agents`), the readable face of that state.
"""

from __future__ import annotations

import datetime as dt

import mesa
import numpy as np

from sim import legitimacy, levers, oversight, partners, region, rent, sanctions
from sim.core.scenario import Scenario, default_scenario
from sim.core.state import CONTRACTOR, INSURGENT, PARTNER, STATE, Bands, Cells, Communities, Forces
from sim.kernels import quiet
from sim.kernels.aggregation import aggregate_cells, locate_units
from sim.kernels.attitudes import update_attitudes
from sim.kernels.control import update_control
from sim.kernels.displacement import displace
from sim.kernels.engagement import force_operations, insurgent_violence
from sim.kernels.intelligence import intelligence
from sim.kernels.movement import deploy_forces, move_bands
from sim.kernels.news import spread_news
from sim.kernels.recruitment import band_losses, recruit, split_bands
from sim.kernels.tally import (
    COLUMNS,
    COOPERATION,
    DEAD,
    DISPLACED,
    GRIEVANCE,
    POPULATION,
    SUPPORT,
    tally_cells,
)
from sim.world import events as scheduled
from sim.world import geography
from sim.world.agents import create_agents

# Administrative presence of the state per cell, in force-equivalents, by region (north,
# centre, south) and in towns: what holds a cell when no unit is there.
_ADMIN = np.array([30.0, 400.0, 2000.0])
_ADMIN_TOWN = 3000.0

SERIES = (
    "civilian_deaths", "civilian_deaths_state", "civilian_deaths_contractor",
    "civilian_deaths_partner", "civilian_deaths_insurgent", "largest_event", "combatant_deaths",
    "insurgent_strength", "recruits", "cooperation_mean", "grievance_mean", "support_mean",
    "legitimacy", "displaced", "newly_displaced", "abuses", "abuses_detected",
    "abuses_punished", "partner_present", "un_present", "contractor_present",
    "partner_relationship", "un_relationship", "sanctions_level", "state_budget",
    "contractor_revenue", "neighbour_states_with_contractors", "territory_state_share",
    "state_discrimination", "contractor_discrimination", "cross_border_inflow",
)


class BlowbackModel(mesa.Model):
    """A state facing insurgency, with the partners or the contractor it chooses.

    ``BlowbackModel(scenario)`` builds the world of the scenario's seed; ``step()`` advances one
    week; ``run()`` runs to the scenario's end.  ``agents=False`` skips the Mesa agents (for
    sweeps and very large maps: the arrays are the state either way).
    """

    def __init__(self, scenario: Scenario | None = None, *, agents: bool = True) -> None:
        # Not ``self.scenario``: Mesa 3.5 owns that name for its own experimental Scenario.
        self.scenario_spec = scenario if scenario is not None else default_scenario()
        p = self.p = dict(self.scenario_spec.params)
        self.seed = int(p["run.seed"])
        super().__init__(rng=self.seed)
        self.t = 0
        self.steps_total = int(p["run.steps"])
        self.world = w = geography.build_world(p, self.seed)
        self.communities = Communities.create(
            w.community_cell, w.community_group, w.community_population,
            p["community.cooperation"], p["community.grievance"])
        self.cell_town = np.zeros(w.cells)
        self.cell_town[w.community_cell[w.community_town >= 0]] = 1.0
        region_of = np.clip(w.cell_region, 0, 2)
        self.cell_admin = np.where(w.cell_country == 0, _ADMIN[region_of], 0.0)
        self.cell_admin += _ADMIN_TOWN * self.cell_town
        control0 = np.where(w.cell_country == 0, np.array([0.3, 0.7, 0.95])[region_of], 0.0)
        self.cells = Cells.create(w.cells, control0)
        self.forces = Forces.empty()
        self._place_state_forces()
        self.partner_present = False
        self.un_present = bool(p["un.present"])
        if p["partner.present"]:
            self.deploy_partner()
        self.contractor_present = False
        if p["contractor.present"]:
            self.deploy_contractor(p["contractor.units"], p["contractor.strength"])
        self.bands = self._place_bands()

        self.legitimacy = float(p["government.legitimacy"])
        self.budget = float(p["government.budget"])
        self.sanctions = float(p["sanctions.level"])
        self.relationship = {"partner": float(p["partner.relationship"]),
                             "un": float(p["un.relationship"])}
        self.neighbour_instability = geography.NEIGHBOUR_INSTABILITY.copy()
        self.neighbour_contractor = np.zeros(len(geography.NEIGHBOURS), dtype=bool)
        self.contractor_effort = 1.0
        self.event_log: list[tuple[str, str]] = []
        self._territory_history: list[float] = []
        self.news_state = np.zeros((w.cells, len(geography.GROUPS)))
        self.news_insurgent = np.zeros_like(self.news_state)
        self.records: dict[str, list] = {"step": [], "date": []} | {k: [] for k in SERIES}
        self.totals = dict(recruits=0.0, combatant_deaths=0.0, abuses_detected=0.0,
                           abuses_punished=0.0, contractor_revenue=0.0, abuses=0.0)
        self.datacollector = mesa.DataCollector(
            model_reporters={k: (lambda m, k=k: m.records[k][-1]) for k in SERIES})
        self.agent_views = create_agents(self) if agents else None
        self._refresh_cells()
        self.cell_totals = np.zeros((w.cells, COLUMNS))
        self._tally()

    # --- placement ---------------------------------------------------------------------------
    def _placement(self, actor: int) -> np.random.Generator:
        """The placement stream of one kind of actor: whether a partner or a contractor is
        deployed never moves where the bands start (common random numbers)."""
        return np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(7, actor)))

    def _host_cells_by_population(self, rng: np.random.Generator, n: int,
                                  weights: np.ndarray) -> np.ndarray:
        w = weights * (self.world.cell_country == 0)
        if n == 0 or w.sum() <= 0:
            return np.zeros(n, dtype=np.int64)
        return rng.choice(len(w), size=n, p=w / w.sum())

    def _cell_population(self) -> np.ndarray:
        return np.bincount(self.world.community_cell, weights=self.communities.population,
                           minlength=self.world.cells)

    def _place_state_forces(self) -> None:
        p = self.p
        weights = np.sqrt(self._cell_population()) + 50.0 * self.cell_town
        cells = self._host_cells_by_population(self._placement(STATE), p["state.units"], weights)
        self.forces.add(STATE, cells, p["state.strength"], p["state.firepower"],
                        p["state.discrimination"], p["state.discipline"], p["state.reach"])

    def _place_bands(self) -> Bands:
        p = self.p
        n = p["insurgents.bands"]
        w = self.world
        rng = self._placement(INSURGENT)
        rival = rng.random(n) < p["insurgents.rival_share"]
        pop = self._cell_population()
        north_centre = np.isin(w.cell_region, (geography.NORTH, geography.CENTRE))
        weight_a = np.where(north_centre, np.sqrt(pop) + 1.0, 0.0)
        east = np.clip((np.arange(w.cells) % w.width) / w.width - 0.6, 0.0, None)
        weight_b = weight_a * east
        if weight_b.sum() <= 0:
            weight_b = weight_a
        cells = np.where(rival, self._host_cells_by_population(rng, n, weight_b),
                         self._host_cells_by_population(rng, n, weight_a))
        return Bands.create(rival.astype(np.int64), cells, p["insurgents.strength"],
                            capacity=3 * n + 8)

    def _cells_near(self, rng: np.random.Generator, cell: int, n: int) -> np.ndarray:
        width = self.world.width
        x, y = cell % width, cell // width
        dx = rng.integers(-1, 2, size=n)
        dy = rng.integers(-1, 2, size=n)
        xs = np.clip(x + dx, 0, width - 1)
        ys = np.clip(y + dy, 0, self.world.height - 1)
        cells = ys * width + xs
        return np.where(self.world.cell_country[cells] == 0, cells, cell)

    # --- changes of actors (events and thresholds) -------------------------------------------
    def deploy_contractor(self, units: int, strength: float) -> None:
        """A contractor arrives at the capital with ``units`` teams (M1)."""
        p = self.p
        if self.contractor_present:
            return
        capital = int(self.world.town_cells[0])
        rows = self.forces.add(CONTRACTOR, self._cells_near(self._placement(CONTRACTOR), capital,
                                                            units), strength,
                               p["contractor.firepower"], p["contractor.discrimination"],
                               p["contractor.discipline"], p["contractor.reach"])
        self.contractor_present = units > 0
        if getattr(self, "agent_views", None) is not None:
            self.agent_views.add_units(rows)

    def withdraw_contractor(self) -> None:
        """The contractor leaves: its units stop operating."""
        self.forces.active[self.forces.kind == CONTRACTOR] = False
        self.contractor_present = False

    def deploy_partner(self) -> None:
        """The foreign military partner deploys in the north and centre."""
        p = self.p
        if self.partner_present:
            return
        gao = self.world.town_cells[6]
        rows = self.forces.add(PARTNER, self._cells_near(self._placement(PARTNER), int(gao),
                                                         p["partner.units"]),
                               p["partner.strength"], p["partner.firepower"],
                               p["partner.discrimination"], p["partner.discipline"],
                               p["partner.reach"])
        self.partner_present = True
        if getattr(self, "agent_views", None) is not None:
            self.agent_views.add_units(rows)

    def withdraw(self, partner: str) -> None:
        """A partner ("partner" or "un") leaves, with its intelligence, training and monitors."""
        if partner == "partner":
            self.forces.active[self.forces.kind == PARTNER] = False
            self.partner_present = False
        else:
            self.un_present = False

    # --- the week -----------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        """Calendar date of the current step."""
        return self.scenario_spec.date_of(self.t)

    def _refresh_cells(self) -> None:
        c, cells = self.communities, self.cells
        aggregate_cells(self.world.cell_start, c.population, c.cooperation, c.support,
                        c.grievance, c.fear, self.p["insurgents.deterrence"], cells.population,
                        cells.cooperation, cells.support, cells.grievance, cells.fear,
                        cells.recruit_pool)
        self._locate()
        partner_intel = self.p["partner.intelligence"] if self.partner_present else 0.0
        intelligence(cells.cooperation, cells.support, partner_intel,
                     self.p["insurgents.concealment"], cells.intelligence, cells.concealment)

    def _locate(self) -> None:
        f, b, cells = self.forces, self.bands, self.cells
        locate_units(self.world.cells, f.cell, f.strength, f.active, b.cell, b.faction,
                     b.strength, b.active, cells.forces, cells.insurgents)

    def step(self) -> None:
        """Advance the model one week."""
        if self.t >= self.steps_total:
            raise RuntimeError(f"the run has ended after {self.steps_total} steps")
        with quiet():
            self._week()
        self.datacollector.collect(self)
        self.t += 1

    def run(self, steps: int | None = None, progress=None) -> BlowbackModel:
        """Run ``steps`` weeks (default: to the scenario's end); ``progress(n)`` after each."""
        end = self.steps_total if steps is None else min(self.steps_total, self.t + steps)
        while self.t < end:
            self.step()
            if progress is not None:
                progress(1)
        return self

    def _week(self) -> None:
        p, w, c, cells, f, b = self.p, self.world, self.communities, self.cells, self.forces, \
            self.bands
        seed, t = self.seed, self.t
        c.dead_step[:] = 0.0
        cells.kills[:] = 0.0
        cells.force_losses[:] = 0.0
        cells.rival_losses[:] = 0.0
        extra_abuses = scheduled.apply_due(self)
        self._refresh_cells()

        kind_protect = np.array([0.5, 0.1, 0.3])
        kind_revenue = np.array([0.0, p["contractor.revenue_weight"], 0.0])
        deploy_forces(seed, t, w.width, w.height, w.cell_country, f.kind, f.cell, f.reach,
                      f.strength, f.active, kind_protect, kind_revenue, cells.insurgents,
                      cells.intelligence, cells.population, cells.control, w.cell_mine,
                      cells.forces)
        move_bands(seed, t, w.width, w.height, w.cell_country, b.cell, b.strength, b.active,
                   p["insurgents.reach"], p["insurgents.cross_border"], cells.population,
                   cells.support, cells.grievance, cells.concealment, cells.forces)
        self._locate()

        kind_effort = np.array([1.0, self.contractor_effort, 1.0])
        n_events = 2 * len(f)
        event_community = np.full(n_events, -1, dtype=np.int64)
        event_deaths = np.zeros(n_events)
        force_operations(seed, t, f.kind, f.cell, f.strength, f.firepower, f.discrimination,
                         f.discipline, f.active, kind_effort, w.cell_start, c.population,
                         c.support, c.dead, c.dead_step, cells.population, cells.support,
                         cells.intelligence, cells.concealment, cells.insurgents,
                         p["engagement.kill_rate"], p["engagement.harm_rate"],
                         p["engagement.atrocity_rate"], p["engagement.atrocity_min"],
                         p["engagement.atrocity_max"], p["engagement.atrocity_alpha"],
                         cells.kills, event_community, event_deaths)
        un_protection = p["un.protection"] if self.un_present else 0.0
        insurgent_violence(seed, t, b.cell, b.faction, b.strength, b.active, w.cell_country,
                           w.cell_start, c.population, c.cooperation, c.dead, c.dead_step,
                           cells.population, cells.cooperation, cells.fear, cells.forces,
                           cells.insurgents, un_protection, self.cell_town,
                           p["insurgents.coercion"], p["insurgents.lethality"],
                           p["insurgents.deterrence"], cells.force_losses, cells.rival_losses)
        insurgents_killed = band_losses(b.cell, b.faction, b.strength, b.active,
                                        cells.insurgents, cells.kills, cells.rival_losses)
        force_killed = self._force_losses()

        spread_news(w.width, w.height, len(geography.GROUPS), w.cell_start, c.group,
                    c.population, c.dead_step, p["map.ties"], self.news_state,
                    self.news_insurgent)
        services = p["levers.services"] if self.budget > 0 else 0.0
        reconciliation = min(1.0, p["levers.reconciliation"]
                             + (p["un.mediation"] if self.un_present else 0.0) * 0.5)
        update_attitudes(c.cell, c.group, c.population, c.initial_population, c.displaced,
                         c.dead_step, c.cooperation, c.support, c.grievance, c.memory,
                         c.insurgent_memory, c.fear, self.news_state, self.news_insurgent,
                         cells.control, self.legitimacy, p["community.hardship"],
                         p["community.adaptation"], p["community.harm_sensitivity"],
                         p["community.news"], p["community.memory_decay"],
                         p["insurgents.deterrence"], services, reconciliation,
                         p["levers.humanitarian_access"])
        aggregate_cells(w.cell_start, c.population, c.cooperation, c.support, c.grievance,
                        c.fear, p["insurgents.deterrence"], cells.population, cells.cooperation,
                        cells.support, cells.grievance, cells.fear, cells.recruit_pool)
        self._locate()
        crossed = recruit(seed, t, b.cell, b.strength, b.active, b.recruits, w.cell_country,
                w.cell_border, cells.recruit_pool, cells.insurgents, self.neighbour_instability,
                p["insurgents.recruitment"], p["region.inflow"], p["insurgents.cross_border"],
                p["levers.arms_tracking"], p["insurgents.attrition"])
        recruits = float(b.recruits.sum())
        split_bands(seed, t, w.width, w.height, b.cell, b.faction, b.strength, b.active,
                    p["insurgents.strength"] if p["insurgents.strength"] > 0 else 100.0, 3.0)
        fled = np.empty(len(c))
        displace(c.cell, c.population, c.displaced, c.dead_step, cells.control,
                 p["community.displacement"], p["community.insecurity_flight"],
                 p["community.return"], p["levers.humanitarian_access"], fled)
        newly_displaced = float(fled.sum())
        self._locate()
        update_control(cells.forces, cells.insurgents, self.cell_admin, self.legitimacy,
                       cells.force_presence, cells.insurgent_presence, cells.control)

        self._tally()
        abuses = [(e, int(f.kind[e // 2]), float(event_deaths[e]))
                  for e in np.flatnonzero(event_deaths > 0)] + extra_abuses
        self._institutions(abuses, recruits, crossed, insurgents_killed + force_killed,
                           newly_displaced)

    def _force_losses(self) -> float:
        f, cells = self.forces, self.cells
        held = cells.forces[f.cell]
        share = np.divide(f.strength, held, out=np.zeros_like(f.strength), where=held > 0)
        # min: the shares of a cell's losses can round a hair above a unit's strength.
        loss = np.where(f.active, np.minimum(cells.force_losses[f.cell] * share, f.strength), 0.0)
        f.strength -= loss
        f.active &= f.strength > 1.0
        return float(loss.sum())

    def _institutions(self, abuses, recruits, crossed, combatant_deaths, newly_displaced
                      ) -> None:
        p, f = self.p, self.forces
        review = oversight.review_abuses(self, abuses)
        totals = self.cell_totals.sum(axis=0)
        insurgent_deaths = float(totals[DEAD + 3])
        population = float(totals[POPULATION])
        self.legitimacy = legitimacy.update_legitimacy(
            self.legitimacy, p, review, insurgent_deaths, population, self.un_present,
            self.budget > 0)

        at_contractor = float(self.world.cell_mine[f.cell[(f.kind == CONTRACTOR) & f.active]]
                              .sum())
        ledger = rent.settle_week(p, self.contractor_present, float(self.world.cell_mine.sum()),
                                  at_contractor, float(f.strength[(f.kind == STATE)
                                                                  & f.active].sum()),
                                  self.sanctions)
        self.budget += ledger.state_income - ledger.state_spending
        self.contractor_effort = ledger.contractor_effort if self.contractor_present else 1.0

        documented_host = review.documented[STATE] + review.documented[CONTRACTOR]
        for name, present in (("partner", self.partner_present), ("un", self.un_present)):
            if not present:
                continue
            r = partners.update_relationship(self.relationship[name], p[f"{name}.relationship"],
                                             p, documented_host, self.contractor_present)
            self.relationship[name] = r
            if r < p[f"{name}.exit_threshold"]:
                self.withdraw(name)
                self.event_log.append((self.date.isoformat(), f"{name} withdraws"))
        self.sanctions = sanctions.escalate(self, review.documented[CONTRACTOR])
        levers.train_state_forces(f, p, self.partner_present)

        territory = self.territory_state_share()
        history = self._territory_history
        history.append(territory)
        gain = territory - history[max(0, len(history) - 53)]
        border_violence = self._border_violence()
        region.update_region(self, border_violence, gain, float(np.mean(list(
            self.relationship.values()))))

        self.totals["recruits"] += recruits
        self.totals["combatant_deaths"] += combatant_deaths
        self.totals["abuses"] += len(abuses)
        self.totals["abuses_detected"] += review.documented.sum()
        self.totals["abuses_punished"] += review.punished.sum()
        self.totals["contractor_revenue"] += ledger.contractor_revenue
        self._record(review, recruits, crossed, combatant_deaths, newly_displaced, ledger,
                     len(abuses), max([a[2] for a in abuses], default=0.0), territory)

    def _border_violence(self) -> np.ndarray:
        """Civilian and combatant deaths of the week in host cells along each neighbour."""
        border = self.world.cell_border
        on_border = border >= 0
        deaths = self.cell_totals[on_border, DEAD:DEAD + 4].sum(axis=1) \
            + self.cells.kills[on_border]
        return np.bincount(border[on_border], weights=deaths,
                           minlength=len(geography.NEIGHBOURS)).astype(float)

    # --- outputs -------------------------------------------------------------------------------
    def _tally(self) -> None:
        c = self.communities
        tally_cells(self.world.cell_start, c.population, c.displaced, c.dead_step,
                    c.cooperation, c.grievance, c.support, self.cell_totals)

    def territory_state_share(self) -> float:
        """Share of the resident population living in cells the state controls (control > 0.5),
        as of the last tally (the end of the last step)."""
        pop = self.cell_totals[:, POPULATION]
        total = pop.sum()
        if total <= 0:
            return 0.0
        # The two sums add in different orders: a share of all cells came out as 1.0000000000000004.
        return min(1.0, float(pop[self.cells.control > 0.5].sum() / total))

    def _record(self, review, recruits, crossed, combatant_deaths, newly_displaced, ledger,
                n_abuses, largest, territory) -> None:
        f, b = self.forces, self.bands
        totals = self.cell_totals.sum(axis=0)
        by = totals[DEAD:DEAD + 4]

        def mean(column):
            pop = totals[POPULATION]
            return float(totals[column] / pop) if pop > 0 else 0.0

        def discrimination(kind):
            rows = (f.kind == kind) & f.active
            return float(f.discrimination[rows].mean()) if rows.any() else float("nan")

        row = dict(
            civilian_deaths=float(by.sum()), civilian_deaths_state=float(by[0]),
            civilian_deaths_contractor=float(by[1]), civilian_deaths_partner=float(by[2]),
            civilian_deaths_insurgent=float(by[3]), largest_event=float(largest),
            combatant_deaths=float(combatant_deaths),
            insurgent_strength=float(b.strength[b.active].sum()), recruits=recruits,
            cooperation_mean=mean(COOPERATION), grievance_mean=mean(GRIEVANCE),
            support_mean=mean(SUPPORT), legitimacy=self.legitimacy,
            displaced=float(totals[DISPLACED]), newly_displaced=float(newly_displaced),
            abuses=float(n_abuses), abuses_detected=float(review.documented.sum()),
            abuses_punished=float(review.punished.sum()),
            partner_present=float(self.partner_present), un_present=float(self.un_present),
            contractor_present=float(self.contractor_present),
            partner_relationship=self.relationship["partner"],
            un_relationship=self.relationship["un"], sanctions_level=self.sanctions,
            state_budget=self.budget, contractor_revenue=ledger.contractor_revenue,
            neighbour_states_with_contractors=float(self.neighbour_contractor.sum()),
            territory_state_share=territory, state_discrimination=discrimination(STATE),
            contractor_discrimination=discrimination(CONTRACTOR), cross_border_inflow=crossed,
        )
        self.records["step"].append(self.t)
        self.records["date"].append(self.date)
        for k in SERIES:
            self.records[k].append(row[k])
