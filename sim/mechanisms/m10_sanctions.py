"""M10 Sanctions: documented abuses and illicit financing bring targeted sanctions, which cut
contractor revenue (pressure) and the host's budget (blowback, in M7)."""

from __future__ import annotations

from sim.core import rng
from sim.core.registry import Mechanism, Outcome, Param, Step
from sim.core.state import CONTRACTOR
from sim.mechanisms.m07_rent import lever

PARAMETERS = (
    # Kind institution: sanctions in force and the propensity to raise them are policy.
    Param("sanctions.level", 0.0, 0.0, 1.0, "0-1", "targeted sanctions in force at the start",
          kind="institution"),
    Param("sanctions.propensity", 0.0, 0.0, 1.0, "per abuse",
          "chance a documented abuse by a contractor raises sanctions a step", kind="institution"),
    # Kind behaviour: how much sanctions bite is the networks' response, not a choice.
    Param("sanctions.pressure", 0.5, 0.0, 1.0, "share",
          "share of contractor revenue cut at full sanctions", kind="behaviour"),
    Param("sanctions.blowback", 0.15, 0.0, 1.0, "share",
          "share of host revenue cut at full sanctions", kind="behaviour"),
    Param("contractor.transparent", False, None, None, "-",
          "contract terms published and audited (no illicit financing)", kind="institution"),
)

# The model's assumptions (docs/ODD.md 7.10, "M10 Sanctions").
ILLICIT_FACTOR = 2.0  # opaque contracts paid in concessions double the chance
STEP = 0.25  # rise of the sanctions level per decision
SANCTION = rng.purpose("m10.sanction")


def escalate(model, documented_contractor: float) -> float:
    """The sanctions level after this week's documented contractor abuses.

    Each documented abuse is a chance that sanctions go up a step; opaque contracts paid in
    concessions (illicit financing) double that chance, financial enforcement raises it.
    """
    p = model.p
    level = model.sanctions
    chance = p["sanctions.propensity"] * (1.0 + lever(model, "financial_enforcement"))
    if not p["contractor.transparent"] and p["contractor.concessions"] > 0:
        chance *= ILLICIT_FACTOR
    for k in range(int(documented_contractor)):
        if rng.uniform(model.seed, model.t, k, SANCTION, 0) < min(1.0, chance):
            level = min(1.0, level + STEP)
    return level


def setup(model) -> None:
    """Sanctions in force at the start."""
    model.sanctions = float(model.p["sanctions.level"])


def update(model, week) -> None:
    """Sanctions after the week's documented contractor abuses."""
    model.sanctions = escalate(model, week.review.documented[CONTRACTOR])


def record(model, week) -> None:
    """The sanctions level at the end of the week."""
    week.row["sanctions_level"] = model.sanctions


OUTCOMES = (
    Outcome("sanctions_level", "sanctions", "0-1", summary="sanctions_level_final", share=True,
            title="sanctions in force"),
)
MECHANISM = Mechanism("M10", "sanctions", PARAMETERS, OUTCOMES, setup=setup, record=record)
SANCTIONS = Step(MECHANISM, "sanctions", update)
