"""The area panel of a run: what the area-level claims read off it, week by week and district
by district.

A district is a block of ``DISTRICT`` x ``DISTRICT`` cells, about 180 km a side on the default
map, near the size of a Malian cercle: the "area" of Condra and Shapiro's, Kalyvas's and Lyall's
findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario
from sim.core.state import CONTRACTOR
from sim.experiments.runs import run_many

DISTRICT = 4
PANEL = ("state_harm", "insurgent_harm", "attacks", "insurgents", "recruits", "control",
         "population", "support", "cooperation", "contractor")


def district_panel(spec: Scenario, seed: int, steps: int | None) -> dict[str, np.ndarray]:
    """Run one scenario and keep, per week and district, what the area-level claims need.

    ``state_harm``: civilians killed by state, contractor and partner forces; ``insurgent_harm``:
    by armed groups; ``attacks``: force personnel killed by armed groups (the attacks Condra and
    Shapiro count); ``insurgents``, ``recruits``; ``control``: mean state control of the cells;
    ``population``: residents at home; ``support``, ``cooperation``: their mean support for the
    armed groups and cooperation with the state (weighted by residents); ``contractor``:
    contractor personnel deployed there.
    Arrays are (weeks, districts).
    """
    changes: dict[str, Any] = {"run.seed": seed}
    if steps is not None:
        changes["run.steps"] = steps
    model = BlowbackModel(spec.with_overrides(**changes), agents=False)
    w = model.world
    cell = np.arange(w.width * w.height)
    per_row = -(-w.width // DISTRICT)
    district = (cell // w.width // DISTRICT) * per_row + (cell % w.width) // DISTRICT
    n = int(district.max()) + 1
    cells_per_district = np.bincount(district, minlength=n)
    home = district[model.communities.cell]
    out = {key: np.zeros((model.steps_total, n), dtype=np.float32) for key in PANEL}
    for t in range(model.steps_total):
        model.step()
        dead = model.communities.dead_step
        b = model.bands
        out["state_harm"][t] = np.bincount(home, dead[:, :3].sum(axis=1), n)
        out["insurgent_harm"][t] = np.bincount(home, dead[:, 3], n)
        out["attacks"][t] = np.bincount(district, model.cells.force_losses, n)
        out["insurgents"][t] = np.bincount(district, model.cells.insurgents.sum(axis=1), n)
        out["recruits"][t] = np.bincount(district[b.cell[b.active]], b.recruits[b.active], n)
        out["control"][t] = np.bincount(district, model.cells.control, n) / cells_per_district
        people = model.communities.population
        out["population"][t] = np.bincount(home, people, n)
        residents = np.maximum(out["population"][t], 1e-9)
        out["support"][t] = np.bincount(home, people * model.communities.support, n) / residents
        out["cooperation"][t] = (np.bincount(home, people * model.communities.cooperation, n)
                                 / residents)
        f = model.forces
        hired = f.active & (f.kind == CONTRACTOR)
        out["contractor"][t] = np.bincount(district[f.cell[hired]], f.strength[hired], n)
    return out


def district_panels(specs: Sequence[Scenario], seeds: Sequence[int], steps: int | None,
                    jobs: int) -> list[list[dict]]:
    """District panels of every scenario on every seed, in one pool: [scenario][seed]."""
    tasks = [(spec, s, steps) for spec in specs for s in seeds]
    panels = run_many(tasks, jobs=jobs, work=district_panel)
    return [panels[i * len(seeds):(i + 1) * len(seeds)] for i in range(len(specs))]


def two_way(a: np.ndarray) -> np.ndarray:
    """Remove district and week means (two-way fixed effects on a balanced panel)."""
    return a - a.mean(axis=0, keepdims=True) - a.mean(axis=1, keepdims=True) + a.mean()


def fixed_effects(y: np.ndarray, *xs: np.ndarray) -> np.ndarray:
    """Coefficients of a two-way fixed-effects regression of ``y`` on ``xs`` (district, week)."""
    design = np.stack([two_way(x).ravel() for x in xs], axis=1)
    return np.linalg.lstsq(design, two_way(y).ravel(), rcond=None)[0]
