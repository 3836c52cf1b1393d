"""Epstein's Model I (:class:`EpsteinCivilViolence`) and Model II (:class:`EpsteinEthnicViolence`).

Model I is a drop-in replacement of Mesa's example
``mesa.examples.advanced.epstein_civil_violence``: the same constructor arguments and defaults
(Mesa 3.3's, or Mesa 3.4+'s ``EpsteinScenario``), ``step()``, ``running``, the counts
``ACTIVE``, ``QUIET``, ``ARRESTED`` and a Mesa ``DataCollector`` with the columns ``active``,
``quiet``, ``arrested``.  Model II adds two ethnic groups that kill each other, peacekeepers,
births and deaths.  docs/EPSTEIN.md gives the rules, the switches and where they depart from
the paper.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from sim.classics.epstein.base import EpsteinBase
from sim.classics.epstein.schedule import MODEL_II_SCHEDULED
from sim.classics.epstein.settings import number
from sim.classics.epstein.settings import seed as check_seed


class EpsteinCivilViolence(EpsteinBase):
    """Epstein's Model I (citizens and cops), a drop-in replacement of Mesa's example.

    The first thirteen arguments are those of ``mesa.examples.advanced.epstein_civil_violence``
    with the same defaults; see that class for their meaning.  Visions are radii (integers for
    the von Neumann and Moore shapes; Euclidean radii may be fractional, e.g. 1.7).  A
    ``max_jail_term`` of ``math.inf`` jails for good.

    Keyword-only:
        scenario: Mesa 3.4+'s way of giving the settings, an ``EpsteinScenario`` (or any object
            with its attribute names: the settings above, ``activation_order``, ``grid_type``
            "Von Neumann" or "Moore", ``rng``).  It may also come third, where Mesa 3.4+ puts
            it, so that ``EpsteinCivilViolence(width, height, scenario)`` builds the model as
            the example of Mesa 3.4+ does, and the first thirteen arguments as Mesa 3.3's.
        rng: the seed as Mesa 3.4+ names it (an integer, or a numpy generator that gives one
            draw); ``seed`` or ``rng``, not both.
        activation_order: "Random" (Mesa's ``shuffle_do``, the default) or "Sequential"
            (Mesa's ``do``: the agents in the order they were created, cell by cell).
        ratio: how C/A enters P = 1 - exp(-k * ratio(C/A)): "round" (Python's ``round``, as
            Mesa's example), "floor" (NetLogo's Rebellion and the Ascape code's integer
            division) or "continuous" (the formula as printed in the paper).
        neighbourhood: "von_neumann" (Mesa's example), "moore" or "euclidean" (Ascape, NetLogo).
        jail: "stay" (Mesa's example: a jailed citizen keeps blocking its cell) or "leave" (the
            paper and Ascape: jailed citizens leave the lattice and come back to a free cell at
            or near where they were taken).
        cop_movement: whether cops move; None (the default) follows ``movement``.  The paper's
            run 1 keeps citizens still while cops patrol.
        schedule: changes during the run, each a mapping with ``parameter`` ("legitimacy" or
            "cop_density"), ``at`` (first step it applies to) and either ``value`` (a jump) or
            ``every``, ``change`` and ``until`` (a ramp: add ``change`` at steps at, at+every,
            ..., never past ``until``).
    """

    _reporters = {"active": "ACTIVE", "quiet": "QUIET", "arrested": "ARRESTED"}

    def __init__(self, width: int = 40, height: int = 40, citizen_density: float = 0.7,
                 cop_density: float = 0.074, citizen_vision: float = 7, cop_vision: float = 7,
                 legitimacy: float = 0.8, max_jail_term: float = 1000,
                 active_threshold: float = 0.1, arrest_prob_constant: float = 2.3,
                 movement: bool = True, max_iters: int = 1000, seed: int | None = None, *,
                 scenario: Any = None, rng: int | np.random.Generator | None = None,
                 ratio: str = "round", neighbourhood: str = "von_neumann", jail: str = "stay",
                 cop_movement: bool | None = None, activation_order: str = "Random",
                 schedule: Sequence[Mapping[str, Any]] | None = None) -> None:
        if scenario is None and _is_scenario(citizen_density):
            # Mesa 3.4+'s example takes (width, height, scenario): its third argument.
            scenario = citizen_density
            citizen_density = inspect.signature(EpsteinCivilViolence).parameters[
                "citizen_density"].default
        settings = dict(citizen_density=citizen_density, cop_density=cop_density,
                        citizen_vision=citizen_vision, cop_vision=cop_vision,
                        legitimacy=legitimacy, max_jail_term=max_jail_term,
                        active_threshold=active_threshold,
                        arrest_prob_constant=arrest_prob_constant, movement=movement,
                        max_iters=max_iters, neighbourhood=neighbourhood,
                        activation_order=activation_order)
        if scenario is not None:
            settings, rng = _from_mesa_scenario(scenario, settings, rng)
        legitimacy = number("legitimacy", settings.pop("legitimacy"), 0.0, 1.0)
        self._build(width=width, height=height, **settings, cop_movement=cop_movement,
                    seed=_seed_of(seed, rng), ratio=ratio, jail=jail, schedule=schedule,
                    legitimacies=(legitimacy, legitimacy))
        if scenario is not None:
            # Mesa 3.4+ keeps it as model.scenario (a property that ties it to the model).
            self.scenario = scenario


class EpsteinEthnicViolence(EpsteinBase):
    """Epstein's Model II: two ethnic groups (blue, green), inter-group killing, peacekeepers.

    A citizen's grievance is H(1 - L) with L the legitimacy its group grants the other group;
    it turns active when G - R P > T and someone of the other group is in sight, and an active
    citizen kills one of them at random and takes the victim's cell.  Cops are peacekeepers:
    they arrest actives of either group.  Citizens age one step per step, die past
    ``death_age`` and, with ``fission_probability`` a step, put a child with their group,
    hardship and risk aversion on a free adjacent cell.

    Defaults are Model II runs 2 and 3 as set in the Brookings Ascape code (legitimacy 0.8, no
    peacekeepers, vision 1.7 on the Euclidean neighbourhood, jail terms up to 15, lifetimes of
    200 steps, fission probability 0.05).  ``blue_legitimacy`` / ``green_legitimacy`` set one
    group's view apart from ``legitimacy``.  Other arguments and switches are those of
    :class:`EpsteinCivilViolence`; the schedule also takes "blue_legitimacy" and
    "green_legitimacy".
    """

    _reporters = {"active": "ACTIVE", "quiet": "QUIET", "arrested": "ARRESTED", "blue": "BLUE",
                  "green": "GREEN", "blue_active": "BLUE_ACTIVE",
                  "green_active": "GREEN_ACTIVE", "blue_killed": "BLUE_KILLED",
                  "green_killed": "GREEN_KILLED"}
    _ethnic = True
    _scheduled = MODEL_II_SCHEDULED

    def __init__(self, width: int = 40, height: int = 40, citizen_density: float = 0.7,
                 cop_density: float = 0.0, citizen_vision: float = 1.7,
                 cop_vision: float = 1.7, legitimacy: float = 0.8, max_jail_term: float = 15,
                 active_threshold: float = 0.1, arrest_prob_constant: float = 2.3,
                 movement: bool = True, max_iters: int = 1000, seed: int | None = None, *,
                 blue_legitimacy: float | None = None, green_legitimacy: float | None = None,
                 death_age: int = 200, fission_probability: float = 0.05,
                 ratio: str = "round", neighbourhood: str = "euclidean", jail: str = "leave",
                 cop_movement: bool | None = None,
                 schedule: Sequence[Mapping[str, Any]] | None = None) -> None:
        # The shared legitimacy first: a group's own, left out, is that one.
        legitimacy = number("legitimacy", legitimacy, 0.0, 1.0)
        blue, green = (legitimacy if value is None else number(name, value, 0.0, 1.0)
                       for name, value in (("blue_legitimacy", blue_legitimacy),
                                           ("green_legitimacy", green_legitimacy)))
        self._build(width=width, height=height, citizen_density=citizen_density,
                    cop_density=cop_density, citizen_vision=citizen_vision,
                    cop_vision=cop_vision, max_jail_term=max_jail_term,
                    active_threshold=active_threshold, arrest_prob_constant=arrest_prob_constant,
                    movement=movement, cop_movement=cop_movement, max_iters=max_iters,
                    seed=seed, ratio=ratio,
                    neighbourhood=neighbourhood, jail=jail, schedule=schedule,
                    legitimacies=(blue, green), fission_probability=fission_probability,
                    death_age=death_age)


# Mesa's EpsteinScenario (Mesa 3.4 and later) names its settings as the arguments here, but
# for the neighbourhood, which it gives as a grid type.
_GRID_TYPES = {"Von Neumann": "von_neumann", "Moore": "moore"}
# What an EpsteinScenario has that a number, a string or None has not.
_SCENARIO_FIELDS = ("citizen_density", "cop_density", "citizen_vision", "cop_vision",
                    "legitimacy", "max_jail_term", "active_threshold", "arrest_prob_constant",
                    "movement", "max_iters", "activation_order", "grid_type", "rng")


def _is_scenario(value: Any) -> bool:
    """Whether a third argument is Mesa 3.4+'s scenario rather than Mesa 3.3's citizen density
    (a wrong density, a string or None, is then refused as a density)."""
    return (not isinstance(value, (numbers.Real, str)) and value is not None
            and any(hasattr(value, name) for name in _SCENARIO_FIELDS))


def _from_mesa_scenario(scenario: Any, settings: dict[str, Any],
                        rng: int | np.random.Generator | None
                        ) -> tuple[dict[str, Any], int | np.random.Generator | None]:
    """The settings and the seed that a Mesa ``EpsteinScenario`` carries, read by attribute.

    Settings given as arguments as well must keep their defaults: two sources of one value
    would leave the reader guessing which one won.
    """
    defaults = inspect.signature(EpsteinCivilViolence).parameters
    changed = [k for k, v in settings.items() if v != defaults[k].default]
    if changed:
        raise ValueError(f"{', '.join(changed)}: given as arguments and as scenario; give the "
                         "settings one way")
    out = dict(settings)
    for name in settings:
        if name != "neighbourhood" and hasattr(scenario, name):
            out[name] = getattr(scenario, name)
    grid_type = getattr(scenario, "grid_type", "Von Neumann")
    if grid_type not in _GRID_TYPES:
        raise ValueError(f"scenario.grid_type {grid_type!r}: expected one of "
                         f"{', '.join(_GRID_TYPES)}")
    out["neighbourhood"] = _GRID_TYPES[grid_type]
    theirs = getattr(scenario, "rng", None)
    if rng is not None and theirs is not None and theirs != rng:
        raise ValueError("rng and scenario.rng must be the same")  # Mesa's Model says so too
    return out, theirs if rng is None else rng


def _seed_of(seed: int | None, rng: int | np.random.Generator | None) -> int | None:
    """The one integer key of every draw, from Mesa's ``seed`` or ``rng`` (a generator gives
    one draw, so the same generator state gives the same run)."""
    if seed is not None and rng is not None:
        raise ValueError("seed and rng: give one of them")
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**62))
    # The seed itself is checked with the other settings (check_settings), where it arrives.
    check_seed("rng", rng, also="a numpy Generator")
    return seed if rng is None else int(rng)
