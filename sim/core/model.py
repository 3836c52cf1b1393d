"""The Blowback model: communities, state forces, contractors, armed groups and partners.

The state lives in the typed arrays of :mod:`sim.core.state`; each week runs the steps of
:mod:`sim.core.week` in order, each owned by one mechanism of :mod:`sim.mechanisms`.
Communities, units, bands, partners, the government and the neighbours are also Mesa agents
(:mod:`sim.world.agents`), the readable face of that state.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import numbers
import time
from collections.abc import Callable

import mesa
import numpy as np

from sim.core.compiled import quiet, threads_for
from sim.core.inputs import check_value
from sim.core.outcomes import NAMES, totals
from sim.core.parameters import BY_NAME
from sim.core.registry import Step
from sim.core.scenario import Scenario, default_scenario
from sim.core.schedule import RunParameters
from sim.core.state import COLUMNS, Cells, Communities, Forces, Week
from sim.core.week import AT_BUILD, MECHANISMS, WEEK
from sim.mechanisms import territorial_control
from sim.world import deployment, geography
from sim.world.agents import create_agents


class LastRecord:
    """A reporter of the week's value of one series, picklable where a lambda is not."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, model: BlowbackModel) -> object:
        """The value the model recorded for this series in its last week."""
        return model.records[self.name][-1]


class SeriesCollector(mesa.DataCollector):
    """Mesa's DataCollector of the model's weekly series: its columns are the model's records.

    Mesa's ``collect`` deep-copies what each reporter returns into lists of its own, a cost
    paid 40-odd times a week for values that are plain floats; here each column is the very
    list of the model's records that each week's close appends to, so there is nothing left
    to collect.
    """

    def __init__(self, records: dict[str, list], names: tuple[str, ...]) -> None:
        # The reporters declare the columns and say what each holds, as Mesa's users read them.
        super().__init__(model_reporters={k: LastRecord(k) for k in names})
        for name in names:
            self.model_vars[name] = records[name]

    def collect(self, model) -> None:
        """Nothing to do: the columns are the model's records, already up to date."""


# What a built model's attributes fixed by its scenario say when assigned.
_FIXED_AT_BUILD = {
    "seed": "the run's seed, fixed when it is built: its map and its actors' places are drawn "
            "from it, and every week's draws are keyed by it; allowed: a new model, "
            "Sim(seed=N) or the scenario's run.seed",
    "steps_total": "the run's length, fixed when it is built (the scenario's run.steps, over "
                   "whose weeks its events are placed); allowed: a new model, Sim(steps=N) or "
                   "the scenario's run.steps",
}


# The model's own state, which the week's steps set: a value that differs at the start of a week
# from what the week before left was set by hand.
_HELD = ("legitimacy", "budget", "sanctions", "lever_funding", "contractor_arrears",
         "contractor_stake", "mines_total")


class BlowbackModel(mesa.Model):
    """A state facing insurgency, with the partners or the contractor it chooses.

    ``BlowbackModel(scenario)`` builds the world of the scenario's seed; ``step()`` advances one
    week; ``run()`` runs to the scenario's end.  ``agents=False`` skips the Mesa agents (for
    sweeps and very large maps: the arrays are the state either way).  ``clock``, if set to a
    dict, adds up the seconds each step of the week takes, by the step's label.
    ``week_steps`` are the steps a week runs, :data:`sim.core.week.WEEK` unless one was
    replaced (:meth:`replace_step`).
    """

    clock: dict[str, float] | None = None
    # A class attribute until a step is replaced, so that a copy or a pickle of a model whose
    # week is the package's carries no copy of the week's steps.
    week_steps: tuple[Step, ...] = WEEK

    def __init__(self, scenario: Scenario | None = None, *, agents: bool = True) -> None:
        # Not ``self.scenario``: Mesa 3.5 owns that name for its own experimental Scenario.
        self.scenario_spec = scenario if scenario is not None else default_scenario()
        # What was changed by hand, week by week: the scenario and seed no longer redo it.
        self.changed_by_hand: list[tuple[int, str]] = []
        p = self.p = RunParameters(self.scenario_spec.params, self.note_by_hand)
        self.seed = int(p["run.seed"])
        super().__init__(rng=self.seed)
        self.t = 0
        self.steps_total = int(p["run.steps"])
        self.world = w = geography.build_world(p, self.seed)
        self.communities = Communities.create(
            w.community_cell, w.community_group, w.community_population,
            p["community.cooperation"], p["community.grievance"])
        self.cells = Cells.create(w.cells, np.zeros(w.cells))
        self.forces = Forces.empty()
        self.event_log: list[tuple[str, str]] = []
        for mechanism in MECHANISMS:
            if mechanism.setup is not None:
                mechanism.setup(self)
        self.records: dict[str, list] = {"step": [], "date": []} | {k: [] for k in NAMES}
        self.datacollector = SeriesCollector(self.records, NAMES)
        self.agent_views = create_agents(self) if agents else None
        self.cell_totals = np.zeros((w.cells, COLUMNS))
        for step in AT_BUILD:
            step.run(self, Week())
        self._left = _held(self)

    def __setattr__(self, name: str, value: object) -> None:
        # The seed and the length are the scenario's: a change by hand would run weeks that
        # neither the scenario nor the saved provenance describes.
        if name in _FIXED_AT_BUILD and name in self.__dict__:
            raise AttributeError(f"{name}: {_FIXED_AT_BUILD[name]}")
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        return (f"<BlowbackModel {self.scenario_spec.name!r}, seed {self.seed}: week {self.t} of "
                f"{self.steps_total}, {self.date:%d %b %Y}>")

    def note_by_hand(self, change: str) -> None:
        """Note a change made by hand (``model.p``, an agent's attribute) in the week to come;
        a saved run lists them in its provenance (``changed_by_hand``)."""
        self.changed_by_hand.append((self.t, change))

    def replace_step(self, name: str, run: Callable[[BlowbackModel, Week], None]) -> None:
        """Run ``run(model, week)`` in place of the week's step ``name`` from the next week on,
        wherever the week runs that step: a mechanism changed in a notebook, without editing
        :mod:`sim.core.week`.  ``name`` is the step's name or label as ``blowback scenario
        --steps`` prints them (``"news spreads"``).  To change a step rather than drop it, call
        its own function from ``run`` (``sim.mechanisms.m04_harm_and_news.spread`` for the
        news).  The run notes the change by hand, so that its saved provenance does not claim
        that the scenario and seed redo it."""
        if not callable(run):
            raise TypeError(f"run: {run!r} cannot replace a step; allowed: a function of the "
                            "model and the week's record, run(model, week)")
        found = [step for step in self.week_steps if name in (step.name, step.label)]
        if not found:
            names = list(dict.fromkeys(step.name for step in self.week_steps))
            close = difflib.get_close_matches(name, names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ValueError(f"{name!r}: no step of the week has that name{hint}; allowed: "
                             f"{', '.join(map(repr, names))}")
        old = found[0]
        new = dataclasses.replace(old, run=run, together=None)
        self.week_steps = tuple(new if step == old else step for step in self.week_steps)
        self.note_by_hand(f"step {old.label!r} replaced by "
                          f"{getattr(run, '__qualname__', repr(run))}")

    # --- changes of actors by hand (a scenario's events and M9 call sim.world.deployment) ----
    # Each is noted as a change by hand: the scenario and seed no longer redo the run.
    def deploy_contractor(self, units: int, strength: float) -> None:
        """A contractor arrives at the capital with ``units`` teams of ``strength`` personnel
        (M1), each checked as a scenario's ``contractor.units`` and ``.strength`` are; refused
        while a contractor is deployed."""
        if self.contractor_present:
            raise ValueError("deploy_contractor: a contractor is already deployed, and a second "
                             "would change nothing; allowed: withdraw_contractor() first")
        units = check_value("deploy_contractor", "units", BY_NAME["contractor.units"], units)
        strength = check_value("deploy_contractor", "strength", BY_NAME["contractor.strength"],
                               strength)
        deployment.deploy_contractor(self, units, strength)
        self.note_by_hand(f"deploy_contractor({units!r}, {strength!r})")

    def withdraw_contractor(self) -> None:
        """The contractor leaves: its units stop operating."""
        deployment.withdraw(self, "contractor")
        self.note_by_hand("withdraw_contractor()")

    def deploy_partner(self) -> None:
        """The foreign military partner deploys in the north and centre; refused while it is
        deployed."""
        if self.partner_present:
            raise ValueError("deploy_partner: the partner is already deployed, and a second "
                             "would change nothing; allowed: withdraw('partner') first")
        deployment.deploy_partner(self)
        self.note_by_hand("deploy_partner()")

    def withdraw(self, partner: str) -> None:
        """A partner ("partner" or "un") leaves, with its intelligence, training and monitors."""
        if partner not in ("partner", "un"):
            raise ValueError(f"partner: {partner!r} is not a partner; allowed: 'partner' or "
                             "'un' (withdraw_contractor() for the contractor)")
        deployment.withdraw(self, partner)
        self.note_by_hand(f"withdraw({partner!r})")

    # --- the week -----------------------------------------------------------------------------
    @property
    def date(self) -> dt.date:
        """The first day of the week the next ``step()`` runs; once the run has ended, the
        first day of its last week (``Scenario.end_date()``, the last ``records["date"]``):
        the model's date never passes the run's end."""
        return self.scenario_spec.date_of(min(self.t, self.steps_total - 1))

    def step(self) -> None:
        """Advance the model one week: every step of ``week_steps``, in order."""
        if self.t >= self.steps_total:
            raise RuntimeError(f"the run has ended after {self.steps_total} steps")
        _note_held(self)
        week = Week()
        clock = self.clock
        with quiet(), threads_for(len(self.communities)):
            for step in self.week_steps:
                start = time.perf_counter() if clock is not None else 0.0
                step.run(self, week)
                if clock is not None:
                    # Stopped before the label is looked up, which is no part of the step.
                    seconds = time.perf_counter() - start
                    clock[step.label] = clock.get(step.label, 0.0) + seconds
        start = time.perf_counter() if clock is not None else 0.0
        self.close_week(week)
        if clock is not None:
            clock["record"] = clock.get("record", 0.0) + time.perf_counter() - start

    def close_week(self, week: Week) -> None:
        """Record the week that the steps have run and move the model's clock on."""
        self._record(week)
        self._left = _held(self)
        self.t += 1
        # Mesa's run_model() steps while the model is running.
        self.running = self.t < self.steps_total

    def run(self, steps: int | None = None,
            progress: Callable[[int], object] | None = None) -> BlowbackModel:
        """Run ``steps`` weeks (default: to the scenario's end); ``progress(n)`` after each."""
        if steps is not None and (not isinstance(steps, numbers.Integral) or steps < 0
                                  or isinstance(steps, bool)):
            raise ValueError(f"steps: {steps!r} is not a number of weeks; allowed: an integer "
                             "of at least 0, or None for the rest of the run")
        end = self.steps_total if steps is None else min(self.steps_total, self.t + steps)
        while self.t < end:
            self.step()
            if progress is not None:
                progress(1)
        return self

    def _record(self, week: Week) -> None:
        for mechanism in MECHANISMS:
            if mechanism.record is not None:
                mechanism.record(self, week)
        self.records["step"].append(self.t)
        self.records["date"].append(self.date)
        for name in NAMES:
            self.records[name].append(week.row[name])

    @property
    def totals(self) -> dict[str, float]:
        """The weekly flows a summary adds up (recruits, combatant deaths, abuses, revenue, ...),
        summed over the weeks run so far."""
        return totals(self.records)

    def territory_state_share(self) -> float:
        """Share of the resident population living in cells the state controls (control > 0.5),
        as of the last tally (the end of the last step)."""
        return territorial_control.territory_share(self)


def _held(model: BlowbackModel) -> dict[str, object]:
    """The model's own state that the week's steps set, by the name a user sets it by."""
    return {**{name: getattr(model, name) for name in _HELD},
            **{f"relationship[{k!r}]": v for k, v in model.relationship.items()}}


def _note_held(model: BlowbackModel) -> None:
    """Note, as changed by hand, each value of :func:`_held` that differs from what the week
    before left."""
    held = _held(model)
    if held != model._left:
        for name, value in held.items():
            left = model._left.get(name)
            if value != left:
                model.note_by_hand(f"{name} = {_plain(value)!r} (the week before left "
                                   f"{_plain(left)!r})")


def _plain(value: object) -> object:
    """A number as Python writes it (``0.5``, not ``np.float64(0.5)``), for a note."""
    return float(value) if isinstance(value, np.floating) else value
