"""A calibration's posterior as a file: its particles and weights, read back and drawn from.

``blowback calibrate`` writes ``posterior.csv`` (and, with ``--scenario-out``, a copy beside the
fitted scenario): one row a particle, its ``weight`` and its fitted quantities, the scenario's
parameters by name and the sources' detection rates as ``detection.<rate>``.  Drawing particles
by weight carries the calibration's uncertainty into any other experiment:
``blowback compare --posterior FILE`` runs seed k of every scenario with the k-th draw.
"""

from __future__ import annotations

import csv
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
    scenario parameter must be the model's and inside its range, a detection rate one of the
    sources', and at least one parameter drawn); each mistake is one line naming the file and
    the column."""
    file = str(path)
    text = read_text(file, CSV_LIMIT)
    header = next(csv.reader(io.StringIO(text)), [])
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        raise ScenarioError(file, twice[0], "a column given twice; allowed: each parameter, "
                            f"{DETECTION}<rate> and {WEIGHT} once")
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
        table[column] = _checked(file, str(column), table[column])
    if all(c == WEIGHT or str(c).startswith(DETECTION) for c in table.columns):
        raise ScenarioError(file, None, "draws no parameter of the model, so every draw would "
                            "run the scenario as it is; allowed: the posterior.csv of blowback "
                            "calibrate, a column for each fitted parameter")
    weights = table[WEIGHT].to_numpy()
    with np.errstate(over="ignore"):  # a sum past the largest float is refused just below
        total = weights.sum()
    if (weights < 0).any() or not 0 < total < np.inf:
        raise ScenarioError(file, WEIGHT, "negative, all zero, or too large to add up; allowed: "
                            "weights >= 0 whose sum is above 0 and finite")
    return table


def _checked(file: str, column: str, raw: pd.Series) -> np.ndarray:
    """A column's values as numbers, once the column is known and its values allowed."""
    from sim.core.parameters import BY_NAME
    from sim.experiments.detection import DECLARED

    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ScenarioError(file, column, "holds a value that is not a finite number; "
                            "allowed: numbers")
    if column == WEIGHT:
        return values
    param = DECLARED.get(column) if column.startswith(DETECTION) else BY_NAME.get(column)
    if param is None:
        known = DECLARED if column.startswith(DETECTION) else BY_NAME
        problem = unknown("unknown parameter or rate", column, known)
        raise ScenarioError(file, column, f"{problem}; allowed: the model's parameters, "
                            f"the rates {', '.join(DECLARED)}, or {WEIGHT}")
    if param.type is not float:
        raise ScenarioError(file, column, f"a parameter of {param.type.__name__} values, "
                            "which a posterior does not draw; allowed: the model's "
                            "real-valued parameters")
    if values.min() < param.low or (param.high is not None and values.max() > param.high):
        allowed = param.allowed() if param.high is not None else f"a number >= {param.low:g}"
        raise ScenarioError(file, column, f"a value outside the parameter; allowed: {allowed}")
    return values


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
