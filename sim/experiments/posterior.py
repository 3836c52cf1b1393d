"""A calibration's posterior as a file: its particles and weights, read back and drawn from.

``blowback calibrate`` writes ``posterior.csv`` (and, with ``--scenario-out``, a copy beside the
fitted scenario): one row a particle, its ``weight`` and its fitted quantities, the scenario's
parameters by name and the sources' detection rates as ``detection.<rate>``.  Drawing particles
by weight carries the calibration's uncertainty into any other experiment:
``blowback compare --posterior FILE`` runs seed k of every scenario with the k-th draw.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from sim.core.inputs import ScenarioError, read_text, unknown
from sim.core.paths import CSV_LIMIT

WEIGHT = "weight"
DETECTION = "detection."


def split(draw: Mapping[str, float]) -> tuple[dict[str, float], dict[str, float]]:
    """A draw's scenario parameters and its detection rates (keys without ``detection.``)."""
    params = {k: float(v) for k, v in draw.items() if not k.startswith(DETECTION)}
    rates = {k.removeprefix(DETECTION): float(v) for k, v in draw.items()
             if k.startswith(DETECTION)}
    return params, rates


def load_posterior(path: str | Path) -> pd.DataFrame:
    """A posterior file: one row a particle, its ``weight`` and fitted quantities, checked (a
    scenario parameter must be the model's and inside its range); each mistake is one line
    naming the file and the column."""
    from sim.core.parameters import BY_NAME

    file = str(path)
    text = read_text(file, CSV_LIMIT)
    try:
        table = pd.read_csv(io.StringIO(text))
    except (ValueError, pd.errors.ParserError) as err:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ScenarioError(file, None, f"not a table ({reason}); allowed: the posterior.csv "
                            "of blowback calibrate") from None
    if WEIGHT not in table or len(table) == 0:
        raise ScenarioError(file, WEIGHT, "missing, or no particles; allowed: the posterior.csv "
                            "of blowback calibrate")
    for column in table.columns:
        column = str(column)
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=float)
        if not np.isfinite(values).all():
            raise ScenarioError(file, column, "holds a value that is not a finite number; "
                                "allowed: numbers")
        table[column] = values
        if column == WEIGHT or column.startswith(DETECTION):
            continue
        param = BY_NAME.get(column)
        if param is None:
            problem = unknown("unknown parameter", column, BY_NAME)
            raise ScenarioError(file, column, f"{problem}; allowed: the model's parameters, "
                                f"{DETECTION}<rate> or {WEIGHT}")
        if param.type is not float:
            raise ScenarioError(file, column, f"a parameter of {param.type.__name__} values, "
                                "which a posterior does not draw; allowed: the model's "
                                "real-valued parameters")
        if not (param.low <= values.min() and values.max() <= param.high):
            raise ScenarioError(file, column, f"a value outside the parameter; allowed: "
                                f"{param.allowed()}")
    weights = table[WEIGHT].to_numpy()
    with np.errstate(over="ignore"):  # a sum past the largest float is refused just below
        total = weights.sum()
    if (weights < 0).any() or not 0 < total < np.inf:
        raise ScenarioError(file, WEIGHT, "negative, all zero, or too large to add up; allowed: "
                            "weights >= 0 whose sum is above 0 and finite")
    return table


def draws(table: pd.DataFrame, n: int, seed: int, rates: bool = False
          ) -> list[dict[str, float]]:
    """``n`` particles drawn by weight from a seeded stream, each as its scenario parameters;
    with ``rates``, also its detection rates (``detection.<rate>``), which belong to the
    sources, not to the model."""
    rng = np.random.default_rng([seed, 2])
    weights = table[WEIGHT].to_numpy(dtype=float)
    picks = rng.choice(len(table), size=n, p=weights / weights.sum())
    columns = [c for c in table.columns
               if c != WEIGHT and (rates or not c.startswith(DETECTION))]
    return [{c: float(table.at[i, c]) for c in columns} for i in picks]


def fingerprint(table: pd.DataFrame) -> str:
    """A short hash of a posterior's particles, to name the results drawn from it."""
    return hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()[:10]
