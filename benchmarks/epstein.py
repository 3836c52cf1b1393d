"""Epstein's civil-violence classic: ours against Mesa's own example, same settings."""

from __future__ import annotations

import inspect
import sys
import time


def _build(model_cls, kwargs: dict):
    """Mesa's example takes the settings as arguments up to Mesa 3.3 and as a ``scenario``
    object from Mesa 3.4; ours takes the arguments."""
    if "scenario" not in inspect.signature(model_cls.__init__).parameters:
        return model_cls(**kwargs)
    settings = {k: v for k, v in kwargs.items() if k not in ("width", "height", "seed")}
    scenario_cls = sys.modules[model_cls.__module__].EpsteinScenario
    return model_cls(width=kwargs["width"], height=kwargs["height"],
                     scenario=scenario_cls(rng=kwargs["seed"], **settings))


def _rate(model_cls, kwargs: dict, steps: int) -> tuple[float, int]:
    """Agent-steps per second over ``steps`` steps after one warm-up step, and the agents."""
    model = _build(model_cls, kwargs)
    model.step()
    agents = round((kwargs["citizen_density"] + kwargs["cop_density"])
                   * kwargs["width"] * kwargs["height"])
    start = time.perf_counter()
    for _ in range(steps):
        model.step()
    return agents * steps / (time.perf_counter() - start), agents


def compare(size: int, mesa_steps: int, our_steps: int, seed: int = 1) -> dict:
    """Both models on a size x size torus, vision 7, density 0.7, cops 0.074."""
    from mesa.examples.advanced.epstein_civil_violence.model import (
        EpsteinCivilViolence as MesaEpstein,
    )

    from sim.classics.epstein import EpsteinCivilViolence

    kwargs = dict(width=size, height=size, citizen_density=0.7, cop_density=0.074,
                  citizen_vision=7, cop_vision=7, seed=seed)
    mesa_rate, agents = _rate(MesaEpstein, kwargs, mesa_steps)
    our_rate, _ = _rate(EpsteinCivilViolence, kwargs, our_steps)
    return {"grid": f"{size}x{size}", "agents": agents, "mesa_agent_steps_per_s": mesa_rate,
            "ours_agent_steps_per_s": our_rate, "ratio": our_rate / mesa_rate}
