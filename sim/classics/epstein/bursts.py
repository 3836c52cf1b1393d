"""Outbursts: maximal runs of steps with many actives, their waiting times and sizes.

``python -m sim.classics.epstein outbursts RUN.toml`` pools them over seeds of a run file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd


def outbursts(active: Sequence[int], threshold: int = 50) -> list[tuple[int, int]]:
    """The outbursts of a series of active counts: maximal runs of steps with more than
    ``threshold`` actives, as (first step, last step) index pairs."""
    out: list[tuple[int, int]] = []
    start = None
    for t, a in enumerate(active):
        if a > threshold and start is None:
            start = t
        elif a <= threshold and start is not None:
            out.append((start, t - 1))
            start = None
    if start is not None:
        out.append((start, len(active) - 1))
    return out


def outburst_stats(frames: Sequence[pd.DataFrame], threshold: int = 50,
                   skip: int = 0) -> dict[str, float]:
    """Waiting times and sizes of outbursts pooled over runs (``series_frame()`` outputs).

    Waiting time: steps from the end of one outburst to the start of the next (only between
    outbursts of one run).  Size: active agent-steps summed over the outburst's steps, and the
    citizens who turned active during it.  ``skip`` leaves out each run's first steps (the
    transient from the all-quiet start).
    """
    waits, sizes, turned, peaks = [], [], [], []
    for frame in frames:
        active = frame["active"].to_numpy()[skip:]
        activations = frame["activations"].to_numpy()[skip:]
        found = outbursts(active, threshold)
        waits += [b[0] - a[1] - 1 for a, b in zip(found, found[1:], strict=False)]
        for a, b in found:
            sizes.append(int(active[a:b + 1].sum()))
            turned.append(int(activations[a:b + 1].sum()))
            peaks.append(int(active[a:b + 1].max()))

    stats = {"outbursts": float(len(sizes)), "waits": float(len(waits))}
    for name, xs in (("wait", waits), ("size", sizes), ("activations", turned),
                     ("peak", peaks)):
        stats[f"{name}_mean"], stats[f"{name}_sd"] = _mean_sd(xs)
    return stats


def _mean_sd(xs: list[int]) -> tuple[float, float]:
    """Mean and sample standard deviation; NaN where too few values define them."""
    if not xs:
        return math.nan, math.nan
    return float(np.mean(xs)), float(np.std(xs, ddof=1)) if len(xs) > 1 else math.nan
