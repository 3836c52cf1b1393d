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
one-line :class:`~sim.core.scenario.ScenarioError` naming the experiment file and the dotted key.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import numbers
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.core.parameters import BY_NAME, SECTIONS, Param

# The scenario loader's message helpers: one vocabulary of errors for both kinds of file.
from sim.core.scenario import (
    Scenario,
    ScenarioError,
    _expect,
    _kind_of,
    _show,
    _unknown,
    load_scenario,
    parse_toml,
    usable_path,
)

KEEP = ("summary", "series")
SAMPLERS = ("factorial", "latin", "sobol")
TOP_KEYS = ("name", "description", "scenarios", "seeds", "first_seed", "steps", "keep", "vary")
VARY_OPTIONS = ("sampler", "samples", "second_order")
RANGE_KEYS = ("low", "high", "levels")
# A fixed seed makes a file's latin and sobol designs the same on every load, so the run ids
# (and with them --resume) hold; changing the design means changing the file.
DESIGN_SEED = 20_221_103
# The seed and the length are the experiment's own keys; the clock would move events.
LOCKED_SECTION = "run"
MAX_RUNS = 10_000_000
MAX_POINTS = 1_000_000


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
    text, raw, name, description = read_document(file, TOP_KEYS)
    if "seeds" not in raw:
        raise ScenarioError(file, "seeds", "missing; allowed: an integer, how many seeds")
    seeds = _integer(file, "seeds", raw["seeds"], 1, 1_000_000)
    first_seed = _integer(file, "first_seed", raw.get("first_seed", 1), 0,
                          BY_NAME["run.seed"].high - seeds)
    steps = raw.get("steps")
    if steps is not None:
        steps = _check_value(file, "steps", BY_NAME["run.steps"], steps)
    keep = raw.get("keep", "summary")
    if keep not in KEEP:
        problem = _unknown(f"{_show(keep)} is not known", str(keep), KEEP)
        raise ScenarioError(file, "keep", f"{problem}; allowed: one of {', '.join(KEEP)}")
    scenarios, files = _scenarios(file, raw.get("scenarios"), steps)
    sampler, varied, points = _design(file, raw.get("vary", {}))
    if len(scenarios) * len(points) * seeds > MAX_RUNS:
        raise ScenarioError(file, "seeds", f"{len(scenarios)} scenarios x {len(points)} points x "
                            f"{seeds} seeds is too many runs; allowed: at most {MAX_RUNS:,}")
    seed_list = [first_seed + k for k in range(seeds)]
    # What the runs are, not what they are called: a new description keeps --resume working.
    settings = {k: v for k, v in raw.items() if k not in ("scenarios", "name", "description")}
    content_hash = _hash({"settings": settings, "points": points,
                          "scenarios": [[n, s.content_hash] for n, s in scenarios.items()]})
    runs = [Run(_run_id(content_hash, name_, point, seed), name_, seed, point, values, scenario)
            for name_, scenario in scenarios.items()
            for point, values in enumerate(points)
            for seed in seed_list]
    return Experiment(name, description, Path(path), text, scenarios, files, seed_list, steps,
                      keep, sampler, varied, points, content_hash, runs)


def read_document(file: str, top_keys: tuple[str, ...]) -> tuple[str, dict[str, Any], str, str]:
    """Read a TOML file of the project's (experiment, calibration): its text, its table, and
    its ``name`` (default: the file's stem) and ``description``, refusing keys outside
    ``top_keys``; each mistake is one line naming file and key."""
    text = _read_text(file)
    raw = parse_toml(file, text)
    for key in raw:
        if key not in top_keys:
            raise ScenarioError(file, str(key), _unknown("unknown key", str(key), top_keys))
    name = _expect(file, "name", raw.get("name", Path(file).stem), str, "a string")
    description = _expect(file, "description", raw.get("description", ""), str, "a string")
    return text, raw, name, description


def _run_id(content_hash: str, scenario: str, point: int, seed: int) -> str:
    key = json.dumps([content_hash, scenario, point, seed], ensure_ascii=False)
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _hash(doc: Any) -> str:
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_text(file: str) -> str:
    try:
        data = Path(file).read_bytes()
    except OSError as err:
        raise ScenarioError(file, None, f"cannot read: {err.strerror or err}") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(
            file, None, f"not UTF-8 ({err.reason} at byte {err.start}); allowed: UTF-8 text"
        ) from None


def _scenarios(file: str, listed: Any, steps: int | None
               ) -> tuple[dict[str, Scenario], dict[str, str]]:
    allowed = "a non-empty array of scenario files, relative to the experiment file"
    if listed is None:
        raise ScenarioError(file, "scenarios", f"missing; allowed: {allowed}")
    _expect(file, "scenarios", listed, list, allowed)
    if not listed:
        raise ScenarioError(file, "scenarios", f"empty; allowed: {allowed}")
    scenarios: dict[str, Scenario] = {}
    files: dict[str, str] = {}
    folder = os.path.dirname(file)
    for i, entry in enumerate(listed):
        key = f"scenarios[{i}]"
        _expect(file, key, entry, str, allowed)
        target = os.path.normpath(os.path.join(folder, entry))
        if not usable_path(file, key, entry, target).is_file():
            raise ScenarioError(file, key, f"no such file: {target}")
        scenario = load_scenario(target)
        if steps is not None:
            try:
                scenario = scenario.with_overrides(**{"run.steps": steps})
            except ScenarioError as err:
                raise ScenarioError(file, "steps", f"{target}: {err.key}: {err.problem}") from None
        name = scenario.name
        k = 2
        while name in scenarios:
            name = f"{scenario.name} ({k})"
            k += 1
        scenarios[name] = scenario
        files[name] = entry
    return scenarios, files


# --- the design ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Range:
    low: float
    high: float


def _design(file: str, vary: Any) -> tuple[str, list[str], list[dict[str, Any]]]:
    _expect(file, "vary", vary, dict, "a table [vary]")
    sampler = vary.get("sampler", "factorial")
    if sampler not in SAMPLERS:
        problem = _unknown(f"{_show(sampler)} is not known", str(sampler), SAMPLERS)
        raise ScenarioError(file, "vary.sampler",
                            f"{problem}; allowed: one of {', '.join(SAMPLERS)}")
    specs: dict[str, list[Any] | _Range] = {}
    for name, value in _flatten(vary).items():
        if name in VARY_OPTIONS:
            continue
        specs[name] = _check_spec(file, f"vary.{name}", name, value, sampler)
    if sampler == "factorial":
        for option in ("samples", "second_order"):
            if option in vary:
                raise ScenarioError(file, f"vary.{option}",
                                    "only for sampler latin or sobol; allowed: leave it out")
        size = math.prod(len(levels) for levels in specs.values())
        if size > MAX_POINTS:
            raise ScenarioError(file, "vary", f"the factorial has {size:,} points; allowed: at "
                                f"most {MAX_POINTS:,}")
        return sampler, list(specs), _factorial(specs)
    if not specs:
        raise ScenarioError(file, "vary", f"sampler {sampler} needs at least one range; "
                            "allowed: \"section.key\" = { low = ..., high = ... }")
    if "second_order" in vary and sampler != "sobol":
        raise ScenarioError(file, "vary.second_order", "only for sampler sobol; allowed: leave "
                            "it out")
    if "samples" not in vary:
        raise ScenarioError(file, "vary.samples", f"missing; sampler {sampler} needs it; "
                            "allowed: an integer, how many samples")
    samples = _integer(file, "vary.samples", vary["samples"], 1, MAX_POINTS // (2 * len(specs) + 2))
    if sampler == "latin":
        unit = _latin(samples, len(specs))
    else:
        second = _expect(file, "vary.second_order", vary.get("second_order", True), bool,
                         "true or false")
        unit = _sobol(file, samples, len(specs), second)
    points = [{name: _scale(BY_NAME[name], r, u) for (name, r), u in zip(specs.items(), row,
                                                                         strict=True)}
              for row in unit]
    return sampler, list(specs), points


def _flatten(vary: dict[str, Any]) -> dict[str, Any]:
    # TOML reads an unquoted `oversight.punishment = [...]` as a table [vary.oversight].
    flat: dict[str, Any] = {}
    for key, value in vary.items():
        if key in SECTIONS and key not in BY_NAME and isinstance(value, dict):
            for sub, v in value.items():
                flat[f"{key}.{sub}"] = v
        else:
            flat[key] = value
    return flat


def _check_spec(file: str, where: str, name: str, value: Any, sampler: str
                ) -> list[Any] | _Range:
    param = BY_NAME.get(name)
    if param is None:
        candidates = (*VARY_OPTIONS, *BY_NAME)
        raise ScenarioError(file, where, _unknown("unknown key", name, candidates))
    if name.split(".", 1)[0] == LOCKED_SECTION:
        raise ScenarioError(file, where, "cannot be varied (the experiment's seeds, first_seed "
                            "and steps set the run); allowed: parameters outside run.*")
    numeric = param.kind in (int, float)
    if isinstance(value, list):
        if sampler != "factorial":
            raise ScenarioError(file, where, f"levels are for sampler factorial; allowed with "
                                f"{sampler}: a range {{ low = ..., high = ... }}")
        if not value:
            raise ScenarioError(file, where, "empty; allowed: at least one level")
        levels = [_check_value(file, f"{where}[{i}]", param, v) for i, v in enumerate(value)]
        for i, level in enumerate(levels):
            if level in levels[:i]:
                raise ScenarioError(file, f"{where}[{i}]",
                                    f"{_show(level)} is repeated; allowed: distinct levels")
        return levels
    if not isinstance(value, dict) or not numeric:
        if not numeric:
            allowed = "an array of levels, with sampler factorial"
        elif sampler == "factorial":
            allowed = "an array of levels, or a range { low = ..., high = ..., levels = N }"
        else:
            allowed = "a range { low = ..., high = ... }"
        raise ScenarioError(file, where, f"{_kind_of(value)}; allowed: {allowed}")
    keys = RANGE_KEYS if sampler == "factorial" else RANGE_KEYS[:2]
    for key in value:
        if key not in keys:
            problem = _unknown("unknown key", str(key), keys)
            raise ScenarioError(file, f"{where}.{key}", f"{problem}; allowed: "
                                + ", ".join(keys))
    for key in keys[:2]:
        if key not in value:
            raise ScenarioError(file, f"{where}.{key}", f"missing; allowed: {param.allowed()}")
    low = _check_value(file, f"{where}.low", param, value["low"])
    high = _check_value(file, f"{where}.high", param, value["high"])
    if not low < high:
        raise ScenarioError(file, f"{where}.high", f"{_show(high)} is not above low "
                            f"{_show(low)}; allowed: high > low")
    if sampler == "factorial":
        if "levels" not in value:
            raise ScenarioError(file, f"{where}.levels", "missing; a factorial range needs it; "
                                "allowed: an integer of 2 or more")
        levels = _integer(file, f"{where}.levels", value["levels"], 2, 10_000)
        return _spread(param, low, high, levels)
    return _Range(low, high)


def _spread(param: Param, low: float, high: float, levels: int) -> list[Any]:
    values = np.linspace(low, high, levels)
    if param.kind is int:
        return list(dict.fromkeys(int(round(v)) for v in values))
    # 12 significant digits: linspace's 0.6000000000000001 is the 0.6 the user meant.
    return [float(f"{v:.12g}") for v in values]


def _factorial(specs: dict[str, list[Any] | _Range]) -> list[dict[str, Any]]:
    points: list[dict[str, Any]] = [{}]
    for name, levels in specs.items():
        points = [{**point, name: level} for point in points for level in levels]
    return points


def _latin(samples: int, dims: int, seed: int = DESIGN_SEED) -> np.ndarray:
    """A Latin hypercube on [0, 1): each of ``samples`` strata of every axis holds one point."""
    rng = np.random.default_rng(seed)
    strata = np.stack([rng.permutation(samples) for _ in range(dims)], axis=1)
    return (strata + rng.random((samples, dims))) / samples


def _sobol(file: str, samples: int, dims: int, second_order: bool) -> np.ndarray:
    """Saltelli's design for Sobol indices, on [0, 1]: ``samples`` x (2 dims + 2) points, or
    x (dims + 2) without second-order indices."""
    if samples & (samples - 1):
        raise ScenarioError(file, "vary.samples", f"{samples} is not a power of 2; allowed with "
                            "sampler sobol: 1, 2, 4, 8, ... (Sobol' sequences need it)")
    try:
        from SALib.sample import sobol
    except ImportError:
        raise ScenarioError(file, "vary.sampler", "sobol needs SALib, which is not installed; "
                            "allowed: pip install SALib, or sampler latin") from None
    problem = {"num_vars": dims, "names": [f"x{i}" for i in range(dims)],
               "bounds": [[0.0, 1.0]] * dims}
    return sobol.sample(problem, samples, calc_second_order=second_order, seed=DESIGN_SEED)


def _scale(param: Param, r: _Range, u: float) -> Any:
    if param.kind is int:
        # Equal-width bins over low..high, so each integer gets its share of the strata.
        return int(min(r.high, math.floor(r.low + u * (r.high - r.low + 1))))
    return float(r.low + u * (r.high - r.low))


# --- checking values ----------------------------------------------------------------------


def _check_value(file: str, where: str, param: Param, value: Any) -> Any:
    if param.kind is bool:
        return _expect(file, where, value, bool, param.allowed())
    if param.kind is str:
        return _expect(file, where, value, str, param.allowed())
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ScenarioError(file, where, f"{_kind_of(value)}; allowed: {param.allowed()}")
    if param.kind is int:
        if not isinstance(value, numbers.Integral):
            raise ScenarioError(file, where,
                                f"{_show(value)} is not an integer; allowed: {param.allowed()}")
        value = int(value)
    else:
        value = float(value)
    # Written so that NaN fails too.
    if not param.low <= value <= param.high:
        raise ScenarioError(file, where,
                            f"{_show(value)} is out of range; allowed: {param.allowed()}")
    return value


def _integer(file: str, where: str, value: Any, low: int, high: int) -> int:
    allowed = f"an integer in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScenarioError(file, where, f"{_kind_of(value)}; allowed: {allowed}")
    if not low <= value <= high:
        raise ScenarioError(file, where, f"{value} is out of range; allowed: {allowed}")
    return value
