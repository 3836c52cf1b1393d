"""What the dashboard holds between clicks: one or two runs, the levers, the injected events.

Nothing here imports Solara: a :class:`Session` is a plain object that a page, a notebook or a
test drives the same way (``step``, ``reset``, ``set_lever``, ``inject``).  Every change goes
through a lock, because the page's play loop steps the runs on its own thread while the
buttons act on the server's.

Levers take effect at once, through the same ``set`` event a scenario file uses mid-run (unit
properties reach the units already deployed).  Injected events are queued for the current
week and applied at the start of the next step, exactly where scheduled events are applied:
so a mass atrocity injected from a button spreads as news, is reviewed by oversight and weighs
on the partners like one written in the scenario file.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.core.model import BlowbackModel
from sim.core.scenario import Event, Scenario, ScenarioError, default_scenario, load_scenario
from sim.core.schedule import check_event
from sim.core.state import FORCE_KINDS
from sim.interfaces.dashboard import lever_log, page_values
from sim.interfaces.dashboard.levers import INJECTIONS, LEVER_BY_NAME
from sim.mechanisms import m07_rent
from sim.world import events

DEFAULT_NAME = "Defaults (no file)"
# Sides a lever or an event acts on, in side-by-side mode.
BOTH, LEFT, RIGHT = "both", "left", "right"
SIDES = (BOTH, LEFT, RIGHT)


# The regime the right-hand side opens on, by the left one's file: the pairs the seminar
# compares (docs/SEMINAR.md); any other file is paired with the next one in the picker.
COUNTERPARTS = {"contractor_unchecked.toml": "contractor_accountable.toml",
                "contractor_accountable.toml": "contractor_unchecked.toml",
                "partner_led.toml": "contractor_unchecked.toml"}


def counterpart(choices: dict[str, Path | None], scenario: Scenario) -> Path | None:
    """The scenario the right-hand side opens on when side-by-side is switched on: one of
    ``choices`` other than ``scenario`` (the same regime on both sides shows nothing)."""
    wanted = COUNTERPARTS.get(scenario.path.name if scenario.path else "")
    paired = [path for path in choices.values() if path is not None and path.name == wanted]
    if paired:
        return paired[0]
    labels, own = list(choices), choice_of(choices, scenario)
    start = labels.index(own) + 1 if own in labels else 0
    return next((choices[label] for label in labels[start:] + labels[:start] if label != own),
                None)


def log_line(date: str | dt.date, text: str) -> str:
    """An event-log entry as the page shows it: ``15 Jun 2026 — Mass atrocity near ...``."""
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(str(date))
    return f"{day:%d %b %Y} \u2014 {text[:1].upper()}{text[1:]}"


def planned(event: Event, there: bool | None = None, in_force: float | None = None) -> str:
    """What a queued event will do, in the words of the event log (its toll is not known;
    ``there``: whether the actor an arrival or a departure names will be deployed when it
    applies, :func:`events.deployed`, None if not known; ``in_force``: the level of sanctions
    in force when it applies, None if not known)."""
    if event.type == "mass_atrocity":
        who = events.ACTOR_NAMES[event.fields.get("perpetrator", "contractor")]
        return f"mass atrocity near {event.fields['near']} by {who}"
    return events.describe(event.type, event.fields, there=there, in_force=in_force)


def scenario_choices(folder: str | Path | None) -> dict[str, Path | None]:
    """The scenarios the picker offers: the defaults, then each valid file of ``folder``
    (not its sub-folders, which hold experiments and Epstein's classic).

    Each is labelled by its file, with the scenario's name beside it (``pressure.toml —
    Pressure``): two files may carry the same name, and neither must hide the other.
    """
    choices: dict[str, Path | None] = {DEFAULT_NAME: None}
    if folder is None or not Path(folder).is_dir():
        return choices
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            choices[f"{path.name} — {load_scenario(path).name}"] = path
        except ScenarioError:
            continue  # a broken file in the folder is the file's problem, not the picker's
    return choices


def choice_of(choices: dict[str, Path | None], scenario: Scenario) -> str | None:
    """The picker label of ``scenario``'s file (or of the defaults), None when not offered."""
    where = scenario.path.resolve() if scenario.path else None
    return next((label for label, path in choices.items()
                 if (path.resolve() if path else None) == where), None)


def _load(source: str | Path | Scenario | None) -> Scenario:
    if source is None:
        return default_scenario()
    if isinstance(source, Scenario):
        return source
    return load_scenario(source)


@dataclass
class Run:
    """One side of the dashboard: a scenario and the model built from it, and the notes the
    page adds to its event log (a lever moved or an event injected once the run had ended):
    (date, text) as in the model's log, but kept apart from it, which records the run alone."""

    scenario: Scenario
    model: BlowbackModel
    notes: list[tuple[str, str]] = field(default_factory=list)
    moves: dict[str, lever_log.Moved] = field(default_factory=dict)  # levers moved, by name

    @classmethod
    def build(cls, scenario: Scenario, seed: int) -> Run:
        """A fresh model of ``scenario`` on ``seed``, with a private copy of its events, so
        that events injected from the page never reach the scenario object itself."""
        seeded = scenario.with_overrides(**{"run.seed": seed})
        own = dataclasses.replace(seeded, events=list(seeded.events))
        return cls(own, BlowbackModel(own, agents=False))

    @property
    def ended(self) -> bool:
        """True when the run has reached its last week."""
        return self.model.t >= self.model.steps_total

    def refuse(self, what: str, head: str | None = None) -> None:
        """Note in the run's log that ``what`` was not done, since the run has ended; a note
        starting with ``head`` just before it is replaced (a slider dragged after the end
        leaves one note, as it leaves one line while the run goes on)."""
        if head is not None and self.notes and self.notes[-1][1].startswith(head):
            self.notes.pop()
        self.notes.append((self.model.date.isoformat(),
                           f"{what}: not applied, the run has ended"))

    def lever_value(self, name: str) -> Any:
        """The value of a lever as last set (the model's, not the slider's).  A force's skill
        is the value its units were last given: training raises a unit's own skill from it
        afterwards, and moving the lever gives every unit the new value (its help says so; what
        is in force is :meth:`in_force`'s)."""
        if name == "sanctions.level":
            return self.model.sanctions
        return self.model.p[name]

    def in_force(self) -> dict[str, str]:
        """What the page says beside each lever whose value in force differs, as shown, from
        the value last set: an engagement lever acts at its level times the share of the
        levers' bill the budget pays (:func:`m07_rent.lever`), and training raises a force's
        skill past the value its units were given."""
        model, f = self.model, self.model.forces
        out = {}
        for name in LEVER_BY_NAME:
            # The engagement levers are levers.*; a force's skill is <its kind>.discrimination.
            section, _, key = name.partition(".")
            if section == "levers":
                value = m07_rent.lever(model, key)
                text = f"acts at {value:.3g}: level \u00d7 {model.lever_funding:.3g}, the share " \
                       "of the levers' bill paid"
            elif key == "discrimination" and section in FORCE_KINDS:
                deployed = f.active & (f.kind == FORCE_KINDS.index(section))
                if not deployed.any():
                    continue
                value = float(f.skill[deployed].mean())
                text = f"in force: {value:.3g}, the units' mean skill, training included"
            else:
                continue
            if f"{value:.3g}" != f"{self.lever_value(name):.3g}":
                out[name] = text
        return out

    def present(self, partner: str) -> bool:
        """Whether the partner, the UN mission or the contractor is deployed, counting the
        arrivals and departures queued for next week."""
        _, after = self._queued()
        return after.get(partner, getattr(self.model, f"{partner}_present"))

    def pending(self) -> list[Event]:
        """Events injected this week, applied at the start of the next step."""
        return [e for e in self.scenario.events
                if e.step == self.model.t and e.source == events.INJECTED]

    def previews(self) -> list[str]:
        """The events injected this week in the words of the event log, each judged on who
        will be deployed, and what sanctions are in force, when it applies."""
        due = [e for e in self.scenario.events if e.step == self.model.t]
        level = iter(lv for e, lv in zip(due, events.sanctions_in_force(self.model, due),
                                         strict=True) if e.source == events.INJECTED)
        return [planned(e, there, next(level)) for e, there in self._queued()[0]]

    def _queued(self) -> tuple[list[tuple[Event, bool | None]], dict[str, bool]]:
        """The events injected this week, each with whether the actor it moves will be
        deployed when it applies (None: it moves no one); and who is deployed after them all,
        of the actors they move."""
        here: dict[str, bool] = {}
        queued = []
        for event in self.pending():
            actor = events.mover(event.type, event.fields)
            there = None
            if actor is not None:
                there = here.get(actor, events.deployed(self.model, event.type, event.fields))
                here[actor] = event.type.endswith("_arrives")
            queued.append((event, there))
        return queued, here


class Session:
    """The runs the page shows, the seed they share, and the actions of the page.

    ``Session("scenarios/contractor_unchecked.toml")`` holds one run;
    ``compare_with(...)`` adds a second regime on the same seed, advancing with the first.
    """

    def __init__(self, scenario: str | Path | Scenario | None = None, *,
                 seed: int | None = None) -> None:
        self.lock = threading.RLock()
        first = _load(scenario)
        self.seed = page_values.seed(first.params["run.seed"] if seed is None else seed)
        self.runs: list[Run] = [Run.build(first, self.seed)]
        self._injected = 0

    # --- reading -----------------------------------------------------------------------------
    @property
    def model(self) -> BlowbackModel:
        """The model of the first (left) run."""
        return self.runs[0].model

    @property
    def side_by_side(self) -> bool:
        """True when two regimes run together."""
        return len(self.runs) == 2

    @property
    def finished(self) -> bool:
        """True when every run has reached its last week: side by side, the longer run goes
        on after the shorter has ended."""
        return all(r.ended for r in self.runs)

    @property
    def clock(self) -> BlowbackModel:
        """The model of the run that goes on longest (the left one of two as long): its week
        is the session's, the week every run not yet ended is at."""
        return max(self.runs, key=lambda r: r.model.steps_total).model

    def lever_value(self, name: str, side: int = 0) -> Any:
        """The value of a lever in force in one run (the model's, not the slider's)."""
        return self.runs[side].lever_value(name)

    def present(self, partner: str, side: int = 0) -> bool:
        """Whether the partner ("partner"), the UN mission ("un") or the contractor
        ("contractor") is deployed in one run, counting the arrivals and departures queued
        for next week (so a switch shows what was asked)."""
        return self.runs[side].present(partner)

    def perpetrator(self, side: int = 0) -> str:
        """Who commits an atrocity injected from the page in one run: the contractor when it is
        deployed (or arriving), else the state's forces; never a force that is not there."""
        return "contractor" if self.present("contractor", side) else "state"

    def pending(self, side: int = 0) -> list[Event]:
        """Events injected this week, applied at the start of the next step."""
        return self.runs[side].pending()

    # --- acting -----------------------------------------------------------------------------
    def step(self, n: int = 1, wanted: Callable[[], bool] | None = None) -> int:
        """Advance every run not yet ended ``n`` weeks together (fewer at the end of the
        longest); return weeks run.  A run that has ended stays at its last week.

        ``wanted``, if given, is asked under the session's lock before each week: a week no
        longer wanted (the page paused, reset or chose another scenario meanwhile) is not run,
        so that it never lands on runs that a reset has just rebuilt."""
        done = 0
        with self.lock:
            for _ in range(n):
                if self.finished or (wanted is not None and not wanted()):
                    break
                for run in self.runs:
                    if not run.ended:
                        run.model.step()
                done += 1
        return done

    def reset(self, seed: int | None = None) -> None:
        """Rebuild every run from its scenario, on ``seed`` (or the same seed): the levers go
        back to the scenario's values and the injected events are dropped."""
        with self.lock:
            if seed is not None:
                self.seed = page_values.seed(seed)
            self.runs = [Run.build(self._original(r.scenario), self.seed) for r in self.runs]

    def choose(self, scenario: str | Path | Scenario | None, side: int = 0) -> None:
        """Put another scenario on one side, rebuilt from week 0 on the session's seed (the
        other side restarts too, so that both stay on the same week)."""
        new = _load(scenario)
        with self.lock:
            scenarios = [self._original(r.scenario) for r in self.runs]
            scenarios[side] = new
            self.runs = [Run.build(s, self.seed) for s in scenarios]

    def compare_with(self, scenario: str | Path | Scenario | None) -> None:
        """Run a second regime beside the first on the same seed, both from week 0."""
        with self.lock:
            scenarios = [self._original(self.runs[0].scenario), _load(scenario)]
            self.runs = [Run.build(s, self.seed) for s in scenarios]

    def single(self) -> None:
        """Leave side-by-side mode: keep the left run as it is."""
        with self.lock:
            self.runs = self.runs[:1]

    def set_lever(self, name: str, value: Any, side: str = BOTH) -> None:
        """Move a lever now in the runs of ``side``; logged in each run's event log.  A run
        that has ended is left as it is, as an injection into it is (no week is left for the
        move to act on), and its notes say so (:meth:`Run.refuse`)."""
        lever = LEVER_BY_NAME.get(name)
        if lever is None:
            raise KeyError(f"{name} is not a dashboard lever")
        value = page_values.switch(name, value) if lever.is_switch \
            else page_values.number(name, value, lever.low, lever.top)
        with self.lock:
            for run in self._runs_of(side):
                shown = value if lever.is_switch else f"{value:g}"
                if run.ended:
                    run.refuse(f"set {name} = {shown}", head=f"set {name} = ")
                    continue
                if run.lever_value(name) == value:
                    continue
                model = run.model
                before = lever_log.written(model, name)
                events.apply(model, "set", {"params": {name: value}}, 0)
                if name == "sanctions.level":
                    # The slider is the level in force: lifting sanctions is a choice too.
                    model.sanctions = float(value)
                lever_log.record(model, run.moves, name, shown, before)

    def set_presence(self, partner: str, present: bool, side: str = BOTH) -> None:
        """Queue the partner's or the UN's arrival or departure; a switch put back undoes it."""
        wanted = page_values.switch(partner, present)
        kind = "partner_arrives" if wanted else "partner_leaves"
        with self.lock:
            for run in self._runs_of(side):
                moves = [e for e in run.pending() if events.mover(e.type, e.fields) == partner]
                if moves and wanted == getattr(run.model, f"{partner}_present"):
                    run.scenario.events[:] = [e for e in run.scenario.events if e not in moves]
                else:
                    self._queue(run, kind, {"partner": partner})

    def inject(self, kind: str, fields: dict[str, Any], side: str = BOTH) -> None:
        """Queue an event for this week in the runs of ``side``: it is applied at the start
        of the next step, where the scenario's own events are, and logged then.  A run that
        has ended takes none, and its notes say so (:meth:`Run.refuse`)."""
        with self.lock:
            for run in self._runs_of(side):
                self._queue(run, kind, fields)

    def inject_button(self, label: str, side: str = BOTH) -> None:
        """Queue the event of one of the page's buttons (a key of ``INJECTIONS``); an atrocity
        is booked in each run to a force deployed there (:meth:`perpetrator`)."""
        kind, fields = INJECTIONS[label]
        with self.lock:
            for run in self._runs_of(side):
                own = dict(fields)
                if kind == "mass_atrocity":
                    own["perpetrator"] = self.perpetrator(self.runs.index(run))
                self._queue(run, kind, own)

    # --- internals ----------------------------------------------------------------------------
    def _queue(self, run: Run, kind: str, fields: dict[str, Any]) -> None:
        model = run.model
        # Checked as a scenario file's event is: one that would fail when applied would stop
        # every later step, after the events queued before it had been applied again.
        written = check_event("the page", self._injected,
                              {"date": model.date.isoformat(), "type": kind, **fields})
        event = Event(date=model.date.isoformat(), step=model.t, type=kind,
                      fields=written.fields, source=events.INJECTED, index=self._injected + 1)
        if run.ended:
            run.refuse(planned(event))
            return
        self._injected += 1
        run.scenario.events.append(event)

    def _runs_of(self, side: str) -> list[Run]:
        if side not in SIDES:
            raise ValueError(f"side {side!r}; allowed: {', '.join(SIDES)}")
        if side == BOTH or not self.side_by_side:
            return self.runs
        return [self.runs[0 if side == LEFT else 1]]

    @staticmethod
    def _original(scenario: Scenario) -> Scenario:
        """A run's scenario without the events injected from the page."""
        return dataclasses.replace(scenario, events=[e for e in scenario.events
                                                     if e.source != events.INJECTED])

