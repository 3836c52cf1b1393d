"""The seminar's mass-atrocity question (docs/SEMINAR.md) against the model: what one atrocity
costs the partner relationship, and how far it moves the partner's exit, on the seeds the
document names."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import ROOT

from sim.interfaces.dashboard.session import Session

# One line per paragraph: the questions are wrapped as a list item's lines.
SEMINAR = (ROOT / "docs" / "SEMINAR.md").read_text().replace("\n  ", " ")
SCENARIO = ROOT / "scenarios" / "contractor_unchecked.toml"
PRESSED_AT = 52  # the week the document has the class press the button


def _exit(seed: int, atrocity: bool) -> tuple[int, list[float]]:
    """The week the partner leaves, and its relationship in each week after PRESSED_AT."""
    session = Session(SCENARIO, seed=seed)
    session.step(PRESSED_AT)
    if atrocity:
        session.inject_button("mass-atrocity operation")
    relationship = []
    while session.model.partner_present:
        assert session.step() == 1, "the partner stays to the end"
        relationship.append(session.model.relationship["partner"])
    return session.model.t, relationship


@pytest.fixture(scope="module")
def exits() -> dict[int, tuple[tuple[int, list[float]], tuple[int, list[float]]]]:
    return {seed: (_exit(seed, False), _exit(seed, True)) for seed in range(1, 11)}


def test_the_atrocity_costs_what_any_hidden_contractor_abuse_costs(exits):
    p = Session(SCENARIO).model.p
    cost = p["relations.abuse_penalty"] * (1 + p["relations.opacity_weight"])
    assert f"drops by only {cost:g}" in SEMINAR
    drops = [without[0] - pressed[0] for (_, without), (_, pressed) in exits.values()]
    # Documented, it costs that much whatever its toll; a monitor may miss it.
    assert all(d == pytest.approx(cost, rel=1e-9) or d == 0.0 for d in drops)
    missed = sum(d == 0.0 for d in drops)
    assert f"by nothing where no monitor documents it (on {missed} of seeds 1 to 10)" in SEMINAR


def test_the_exit_moves_as_the_seminar_says(exits):
    shifts = np.array([pressed[0] - without[0] for without, pressed in exits.values()])
    said = re.search(r"moves between (\d+) weeks earlier and (\d+) weeks later, (\d+) weeks "
                     r"earlier on average \(([0-9.]+) at the median\)", SEMINAR)
    assert said, "the seminar no longer gives the shift"
    earliest, latest, mean, median = (float(g) for g in said.groups())
    assert (-shifts.min(), shifts.max()) == (earliest, latest)
    assert (round(-shifts.mean()), -np.median(shifts)) == (mean, median)
    weeks = [w for pair in exits.values() for w, _ in pair]
    years = [w / 52 for w in weeks]
    assert f"after {min(years):.1f} to {max(years):.1f} years either way" in SEMINAR
    without = [pair[0][0] for pair in exits.values()]
    assert f"(weeks {min(without)} to {max(without)}, about half a minute of play)" in SEMINAR
    assert 20 <= max(without) / 5 <= 40  # weeks at normal speed, 5 a second: half a minute
