"""The design of an experiment: the points of parameter space its ``[vary]`` table asks for.

``sampler = "factorial"`` crosses levels (listed, or spread over a range); ``"latin"`` draws a
Latin hypercube over ranges and ``"sobol"`` Saltelli's design for Sobol indices (needs SALib).
The random designs are fixed by ``DESIGN_SEED``, so a file gives the same points on every load.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.core.inputs import (
    ScenarioError,
    check_value,
    dotted,
    expect,
    integer,
    kind_of,
    show,
    unknown,
)
from sim.core.parameters import BY_NAME, SECTIONS
from sim.core.registry import Param

SAMPLERS = ("factorial", "latin", "sobol")
VARY_OPTIONS = ("sampler", "samples", "second_order")
RANGE_KEYS = ("low", "high", "levels")
# A fixed seed makes a file's latin and sobol designs the same on every load, so the run ids
# (and with them --resume) hold; changing the design means changing the file.
DESIGN_SEED = 20_221_103
# The seed and the length are the experiment's own keys; the clock would move events.
LOCKED_SECTION = "run"
MAX_POINTS = 1_000_000


@dataclass(frozen=True)
class Range:
    """A parameter's range, for the random designs."""

    low: float
    high: float


def design(file: str, vary: Any) -> tuple[str, list[str], list[dict[str, Any]]]:
    """The sampler, the varied parameters and the points of a ``[vary]`` table."""
    expect(file, "vary", vary, dict, "a table [vary]")
    sampler = vary.get("sampler", "factorial")
    if sampler not in SAMPLERS:
        problem = unknown(f"{show(sampler)} is not known", str(sampler), SAMPLERS)
        raise ScenarioError(file, "vary.sampler",
                            f"{problem}; allowed: one of {', '.join(SAMPLERS)}")
    specs: dict[str, list[Any] | Range] = {}
    for name, value in dotted(file, "vary", vary, _section).items():
        if name in VARY_OPTIONS:
            continue
        specs[name] = check_axis(file, f"vary.{name}", name, value, sampler)
    if sampler == "factorial":
        return sampler, list(specs), _factorial_points(file, vary, specs)
    return sampler, list(specs), _random_points(file, vary, sampler, specs)


def _factorial_points(file: str, vary: dict[str, Any], specs: dict[str, Any]
                      ) -> list[dict[str, Any]]:
    for option in ("samples", "second_order"):
        if option in vary:
            raise ScenarioError(file, f"vary.{option}",
                                "only for sampler latin or sobol; allowed: leave it out")
    size = math.prod(len(levels) for levels in specs.values())
    if size > MAX_POINTS:
        raise ScenarioError(file, "vary", f"the factorial has {size:,} points; allowed: at "
                            f"most {MAX_POINTS:,}")
    points: list[dict[str, Any]] = [{}]
    for name, levels in specs.items():
        points = [{**point, name: level} for point in points for level in levels]
    return points


def _random_points(file: str, vary: dict[str, Any], sampler: str, specs: dict[str, Range]
                   ) -> list[dict[str, Any]]:
    if not specs:
        raise ScenarioError(file, "vary", f"sampler {sampler} needs at least one range; "
                            "allowed: \"section.key\" = { low = ..., high = ... }")
    if "second_order" in vary and sampler != "sobol":
        raise ScenarioError(file, "vary.second_order", "only for sampler sobol; allowed: leave "
                            "it out")
    if "samples" not in vary:
        raise ScenarioError(file, "vary.samples", f"missing; sampler {sampler} needs it; "
                            "allowed: an integer, how many samples")
    samples = integer(file, "vary.samples", vary["samples"], 1, MAX_POINTS // (2 * len(specs) + 2))
    if sampler == "latin":
        unit = latin(samples, len(specs))
    else:
        second = expect(file, "vary.second_order", vary.get("second_order", True), bool,
                        "true or false")
        unit = _sobol(file, samples, len(specs), second)
    return [{name: _scale(BY_NAME[name], r, u) for (name, r), u in zip(specs.items(), row,
                                                                       strict=True)}
            for row in unit]


def _section(name: str, value: Any) -> bool:
    # TOML reads an unquoted `oversight.punishment = [...]` as a table [vary.oversight].
    return name in SECTIONS and name not in BY_NAME and isinstance(value, dict)


def check_axis(file: str, where: str, name: str, value: Any, sampler: str
               ) -> list[Any] | Range:
    """One varied parameter (``name`` = ``value`` at ``where``): its levels for a factorial,
    or its range for a random design."""
    param = BY_NAME.get(name)
    if param is None:
        candidates = (*VARY_OPTIONS, *BY_NAME)
        raise ScenarioError(file, where, unknown("unknown key", name, candidates))
    if name.split(".", 1)[0] == LOCKED_SECTION:
        raise ScenarioError(file, where, "cannot be varied (the experiment's seeds, first_seed "
                            "and steps set the run); allowed: parameters outside run.*")
    if isinstance(value, list):
        return _levels(file, where, param, value, sampler)
    numeric = param.type in (int, float)
    if not isinstance(value, dict) or not numeric:
        if not numeric:
            allowed = "an array of levels, with sampler factorial"
        elif sampler == "factorial":
            allowed = "an array of levels, or a range { low = ..., high = ..., levels = N }"
        else:
            allowed = "a range { low = ..., high = ... }"
        raise ScenarioError(file, where, f"{kind_of(value)}; allowed: {allowed}")
    return _range(file, where, param, value, sampler)


def _levels(file: str, where: str, param: Param, value: list[Any], sampler: str) -> list[Any]:
    if sampler != "factorial":
        raise ScenarioError(file, where, f"levels are for sampler factorial; allowed with "
                            f"{sampler}: a range {{ low = ..., high = ... }}")
    if not value:
        raise ScenarioError(file, where, "empty; allowed: at least one level")
    levels = [check_value(file, f"{where}[{i}]", param, v) for i, v in enumerate(value)]
    for i, level in enumerate(levels):
        if level in levels[:i]:
            raise ScenarioError(file, f"{where}[{i}]",
                                f"{show(level)} is repeated; allowed: distinct levels")
    return levels


def _range(file: str, where: str, param: Param, value: dict[str, Any], sampler: str
           ) -> list[Any] | Range:
    keys = RANGE_KEYS if sampler == "factorial" else RANGE_KEYS[:2]
    for key in value:
        if key not in keys:
            problem = unknown("unknown key", str(key), keys)
            raise ScenarioError(file, f"{where}.{key}", f"{problem}; allowed: "
                                + ", ".join(keys))
    for key in keys[:2]:
        if key not in value:
            raise ScenarioError(file, f"{where}.{key}", f"missing; allowed: {param.allowed()}")
    low = check_value(file, f"{where}.low", param, value["low"])
    high = check_value(file, f"{where}.high", param, value["high"])
    if not low < high:
        raise ScenarioError(file, f"{where}.high", f"{show(high)} is not above low "
                            f"{show(low)}; allowed: high > low")
    if sampler == "factorial":
        if "levels" not in value:
            raise ScenarioError(file, f"{where}.levels", "missing; a factorial range needs it; "
                                "allowed: an integer of 2 or more")
        levels = integer(file, f"{where}.levels", value["levels"], 2, 10_000)
        return _spread(param, low, high, levels)
    return Range(low, high)


def _spread(param: Param, low: float, high: float, levels: int) -> list[Any]:
    values = np.linspace(low, high, levels)
    if param.type is int:
        return list(dict.fromkeys(int(round(v)) for v in values))
    # 12 significant digits: linspace's 0.6000000000000001 is the 0.6 the user meant.
    return [float(f"{v:.12g}") for v in values]


def latin(samples: int, dims: int, seed: int = DESIGN_SEED) -> np.ndarray:
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


def _scale(param: Param, r: Range, u: float) -> Any:
    if param.type is int:
        # Equal-width bins over low..high, so each integer gets its share of the strata.
        return int(min(r.high, math.floor(r.low + u * (r.high - r.low + 1))))
    return float(r.low + u * (r.high - r.low))
