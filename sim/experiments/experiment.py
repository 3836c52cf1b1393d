"""Experiment files: which scenarios, which parameter points and which seeds a sweep runs.

An experiment is TOML beside the scenarios it names::

    name = "Oversight regimes"
    scenarios = ["../partner_led.toml", "../contractor_unchecked.toml"]
    seeds = 20          # seed first_seed + k is the same world in every scenario and point
    first_seed = 1      # optional
    steps = 520         # optional: overrides run.steps
    keep = "summary"    # or "series": also keep the weekly series of every run
    [vary]
    sampler = "factorial"                               # or "latin", or "sobol" (needs SALib)
    samples = 16                                        # latin and sobol only
    "oversight.punishment" = [0.1, 0.5, 0.9]            # levels (factorial only)
    "state.discrimination" = { low = 0.3, high = 0.9 }  # a range (factorial: add levels = 3)

The runs are every scenario x every point of the design x every seed.  Each mistake raises a
one-line :class:`~sim.core.inputs.ScenarioError` naming the experiment file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.core.inputs import (
    EXPERIMENT_FILE,
    ScenarioError,
    check_value,
    content_hash,
    expect,
    integer,
    read_document,
    show,
    unknown,
)
from sim.core.parameters import BY_NAME
from sim.core.paths import input_file
from sim.core.scenario import Scenario, load_scenario, unique_names
from sim.experiments.design import design

KEEP = ("summary", "series")
TOP_KEYS = ("name", "description", "scenarios", "seeds", "first_seed", "steps", "keep", "vary")
# A run is held in memory as a Run (about 225 bytes, measured with tracemalloc over 100,000),
# so this bounds the parent at a few hundred MB before it starts; at the cost estimate of
# sim.experiments.workload a million runs of the base scenario would keep one core busy for weeks.
MAX_RUNS = 1_000_000


@dataclass(frozen=True)
class Run:
    """One run of a sweep: a scenario at one point of the design, on one seed.

    ``base`` is the scenario as the experiment resolved it (``steps`` applied), shared by every
    run of that scenario; ``spec`` is the run's own scenario with the point's values and the
    seed set.
    """

    run_id: str
    scenario: str
    seed: int
    point: int
    values: dict[str, Any]
    base: Scenario = dataclasses.field(repr=False, compare=False)

    @property
    def spec(self) -> Scenario:
        """The scenario this run simulates: ``base`` with the point's values and the seed."""
        return self.base.with_overrides(**self.values, **{"run.seed": self.seed})


@dataclass
class Experiment:
    """A checked experiment: its scenarios, design points, seeds and the resolved runs.

    ``content_hash`` covers the file's settings, the content of every scenario (through
    ``Scenario.content_hash``, so editing a scenario file changes it) and the design points;
    run ids derive from it.
    """

    name: str
    description: str
    path: Path
    text: str
    scenarios: dict[str, Scenario]  # unique name -> scenario with ``steps`` applied
    scenario_files: dict[str, str]  # unique name -> path as the experiment wrote it
    seeds: list[int]
    steps: int | None
    keep: str
    sampler: str
    varied: list[str]
    points: list[dict[str, Any]]
    content_hash: str
    runs: list[Run]


def load_experiment(path: str | Path) -> Experiment:
    """Read and check an experiment file, load its scenarios and resolve every run."""
    file = str(path)
    text, raw, name, description = read_document(file, TOP_KEYS, EXPERIMENT_FILE)
    if "seeds" not in raw:
        raise ScenarioError(file, "seeds", "missing; allowed: an integer, how many seeds")
    seeds = integer(file, "seeds", raw["seeds"], 1, 1_000_000)
    first_seed = integer(file, "first_seed", raw.get("first_seed", 1), 0,
                         BY_NAME["run.seed"].high - seeds)
    steps = raw.get("steps")
    if steps is not None:
        steps = check_value(file, "steps", BY_NAME["run.steps"], steps)
    keep = raw.get("keep", "summary")
    if keep not in KEEP:
        problem = unknown(f"{show(keep)} is not known", str(keep), KEEP)
        raise ScenarioError(file, "keep", f"{problem}; allowed: one of {', '.join(KEEP)}")
    scenarios, files = _scenarios(file, raw.get("scenarios"), steps)
    sampler, varied, points = design(file, raw.get("vary", {}))
    if len(scenarios) * len(points) * seeds > MAX_RUNS:
        raise ScenarioError(file, "seeds", f"{len(scenarios)} scenarios x {len(points)} points x "
                            f"{seeds} seeds is too many runs; allowed: at most {MAX_RUNS:,}")
    seed_list = [first_seed + k for k in range(seeds)]
    # What the runs are, not what they are called: a new description keeps --resume working.
    settings = {k: v for k, v in raw.items() if k not in ("scenarios", "name", "description")}
    digest = content_hash({"settings": settings, "points": points,
                           "scenarios": [[n, s.content_hash] for n, s in scenarios.items()]})
    runs = [Run(run_id_of(digest, name_, point, seed), name_, seed, point, values, scenario)
            for name_, scenario in scenarios.items()
            for point, values in enumerate(points)
            for seed in seed_list]
    return Experiment(name, description, Path(path), text, scenarios, files, seed_list, steps,
                      keep, sampler, varied, points, digest, runs)


def run_id_of(experiment_hash: str, scenario: str, point: int, seed: int) -> str:
    """The id of the run of ``scenario`` at design point ``point`` with ``seed`` in the
    experiment of that hash: no run of another experiment has it."""
    key = json.dumps([experiment_hash, scenario, point, seed], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _scenarios(file: str, listed: Any, steps: int | None
               ) -> tuple[dict[str, Scenario], dict[str, str]]:
    allowed = "a non-empty array of scenario files, relative to the experiment file"
    if listed is None:
        raise ScenarioError(file, "scenarios", f"missing; allowed: {allowed}")
    expect(file, "scenarios", listed, list, allowed)
    if not listed:
        raise ScenarioError(file, "scenarios", f"empty; allowed: {allowed}")
    loaded: list[Scenario] = []
    folder = os.path.dirname(file)
    for i, entry in enumerate(listed):
        key = f"scenarios[{i}]"
        expect(file, key, entry, str, allowed)
        target = os.path.normpath(os.path.join(folder, entry))
        input_file(target, where=(file, key))
        scenario = load_scenario(target)
        if steps is not None:
            try:
                scenario = scenario.with_overrides(**{"run.steps": steps})
            except ScenarioError as err:
                raise ScenarioError(file, "steps", f"{target}: {err.key}: {err.problem}") from None
        loaded.append(scenario)
    names = unique_names(loaded)
    return dict(zip(names, loaded, strict=True)), dict(zip(names, listed, strict=True))
