"""What each source records of the model's civilian deaths: the observation model.

ACLED, UCDP and the UN mission count the same war differently (2015: ACLED 74 civilian deaths,
UCDP 2 one-sided), so a model level is never compared with a source's level directly.  Each
source sees a share of the deaths the model's perpetrators cause, its *detection rate*, one per
source and kind of perpetrator the source tells apart; the rates are fitted with the model's
parameters (:mod:`sim.experiments.calibration`), and a figure is compared with what its source
would have recorded of the run.  A rate is a share of the model's deaths, so it may exceed 1
where a source counts more than the model kills.

The model's five perpetrators fall into four kinds: the state's side (its forces and the
contractor it hires, whom ACLED codes beside them), the foreign partner, the armed groups
(jihadist bands) and the community militias.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from sim.core.registry import Param

# Kinds of perpetrator and the model's weekly death counts that make each.
KINDS: dict[str, tuple[str, ...]] = {
    "state": ("civilian_deaths_state", "civilian_deaths_contractor"),
    "partner": ("civilian_deaths_partner",),
    "armed_groups": ("civilian_deaths_insurgent",),
    "militias": ("civilian_deaths_militia",),
}
# What each source tells apart, and the kinds each of its groups covers: ACLED names the actor
# of an event; UCDP splits one-sided violence into government and non-state; the UN mission's
# yearly totals are one count.
SOURCES: dict[str, dict[str, tuple[str, ...]]] = {
    "acled": {kind: (kind,) for kind in KINDS},
    "ucdp": {"government": ("state", "partner"), "nonstate": ("armed_groups", "militias")},
    "un": {"all": tuple(KINDS)},
}
RATES: tuple[str, ...] = tuple(f"{source}.{group}" for source, groups in SOURCES.items()
                               for group in groups)
# ACLED's count of Burkina Faso's fatalities a week at full instability (M11): the scale that
# reads the neighbour's instability, an index, as deaths.
BURKINA_SCALE = "acled.burkina_full"
SCALES: tuple[str, ...] = (BURKINA_SCALE,)
# The truth: every source records every death (and the neighbour's scale is 1).
TRUTH: Mapping[str, float] = {}
# Each rate and scale declared as a parameter is, with its unit, by the name a calibration
# and its posterior give it.
DECLARED: Mapping[str, Param] = {
    **{f"detection.{rate}": Param(f"detection.{rate}", 1.0, 0.0, None,
                                  "recorded per model death",
                                  f"civilian deaths {rate} records per death in the model")
       for rate in RATES},
    f"detection.{BURKINA_SCALE}": Param(
        f"detection.{BURKINA_SCALE}", 1.0, 0.0, None, "deaths/week",
        "Burkina Faso's fatalities a week that ACLED records at full instability"),
}


def kind_of(source: str, kind: str) -> str:
    """The rate of ``source`` that applies to a perpetrator of ``kind``."""
    for group, kinds in SOURCES[source].items():
        if kind in kinds:
            return f"{source}.{group}"
    raise KeyError(f"{source} has no group for {kind}")


def weekly(series: pd.DataFrame, source: str, kinds: tuple[str, ...] = tuple(KINDS),
           rates: Mapping[str, float] = TRUTH) -> np.ndarray:
    """The civilian deaths by perpetrators of ``kinds`` that ``source`` would record each week
    at the detection ``rates`` (a missing rate is 1), one value a row of ``series``."""
    total = np.zeros(len(series))
    for kind in kinds:
        rate = rates.get(kind_of(source, kind), 1.0)
        for column in KINDS[kind]:
            total += rate * series[column].to_numpy(dtype=float)
    return total
