"""Scenario discovery (sim.experiments.discovery): PRIM finds the box it was given."""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.experiments import discovery


def _design(n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    return pd.DataFrame(rng.uniform(size=(n, 3)), columns=["a", "b", "c"])


def test_prim_names_the_corner_where_the_first_is_not_worse():
    """Not worse exactly where a < 0.3 and b > 0.6: the box restricts a and b near there,
    significantly, and leaves c alone."""
    x = _design()
    corner = (x["a"] < 0.3) & (x["b"] > 0.6)
    gaps = pd.DataFrame({"deaths": np.where(corner, -0.2, 0.5)})
    found = discovery.discover(x, "one", "two", gaps)
    box = found.boxes.iloc[0]
    assert box["cases"] == discovery.NOT_WORSE and box["n_cases"] == corner.sum()
    assert box["density"] >= discovery.DENSITY and box["coverage"] > 0.7
    limits = found.limits.set_index("parameter")
    # a box is bounded by the design's own range where it does not restrict
    assert limits.loc["a", "high"] < 0.4 and limits.loc["a", "low"] == x["a"].min()
    assert limits.loc["b", "low"] > 0.5 and limits.loc["b", "high"] == x["b"].max()
    assert (limits.loc[["a", "b"], "qp"] < discovery.SIGNIFICANT).all()
    assert "c" not in limits.index, "a restriction that could be chance is dropped"
    text = found.text()
    assert "one is not worse than two" in text and "b" in text and "<= " in text


def test_a_design_of_counts_gets_its_boxes():
    """A design that varies counts (communities, units) holds integers, and PRIM, pasting a box
    back out, puts its limits half-way between two of them (here 21.5 units, which an integer
    column refused)."""
    rng = np.random.default_rng(0)
    x = pd.DataFrame({"communities": rng.integers(200, 601, 48), "units": rng.integers(10, 61, 48),
                      "rate": rng.uniform(size=48)})
    gaps = pd.DataFrame({"deaths": rng.normal(size=48) + 0.01 * x["units"]})
    found = discovery.discover(x, "one", "two", gaps)
    assert found.boxes.iloc[0]["points"] == 48
    for r in found.limits.itertuples():
        assert r.range_low <= r.low <= r.high <= r.range_high, r.parameter


def test_a_design_of_one_point_is_its_own_box():
    """PRIM needs cases and non-cases; one point is all cases (the weakest tenth of one)."""
    found = discovery.discover(_design(1), "one", "two", pd.DataFrame({"deaths": [0.3]}))
    box = found.boxes.iloc[0]
    assert (box["n_cases"], box["coverage"], box["density"], box["mass"]) == (1, 1.0, 1.0, 1.0)
    assert found.limits.empty and "no restriction" in found.text()


def test_where_the_first_is_never_worse_its_cases_are_where_it_does_best():
    x = _design()
    found = discovery.discover(x, "one", "two", pd.DataFrame({"deaths": -0.1 - x["c"]}))
    assert found.boxes.iloc[0]["not_worse"] == len(x)
    assert "points where its advantage is largest" in found.text()
    assert "(too many for a box, which needs at least 10 points where it is worse)" \
        in found.text()
    assert found.limits.set_index("parameter").loc["c", "low"] > 0.75


def test_a_scenario_against_itself_has_nothing_to_discover():
    """Equal at every point: no point ranks above another, so every point is a case, the box
    is the whole space and the text says so, rather than naming an advantage by design order."""
    x = _design()
    found = discovery.discover(x, "one", "one", pd.DataFrame({"deaths": np.zeros(len(x))}))
    box = found.boxes.iloc[0]
    assert box["cases"] == discovery.EQUAL and box["n_cases"] == len(x)
    assert found.limits.empty and box["mass"] == 1.0
    assert "the same as one at all 400 points" in found.text()
    assert "advantage" not in found.text()


def test_when_it_is_worse_everywhere_the_box_names_where_the_gap_is_smallest():
    """Worse at every point, least where c is small: the cases are the weakest tenth, and the
    box bounds c from above."""
    x = _design()
    gaps = pd.DataFrame({"deaths": 0.1 + x["c"] + 0.01 * x["a"]})
    found = discovery.discover(x, "one", "two", gaps)
    box = found.boxes.iloc[0]
    assert box["cases"] == discovery.WEAKEST_CASES and box["not_worse"] == 0
    assert box["n_cases"] == round(discovery.WEAKEST * len(x))
    limits = found.limits.set_index("parameter")
    assert limits.loc["c", "high"] < 0.25 and limits.loc["c", "qp"] < discovery.SIGNIFICANT
    assert "not worse at 0 of 400 points (too few for a box, which needs at least 10)" \
        in found.text()


def test_a_design_too_small_for_a_box_is_said_to_be():
    """Twelve points cannot hold ten cases and ten others: the text says the design is too
    small, not that the cases are too few or too many."""
    x = _design(12)
    found = discovery.discover(x, "one", "two", pd.DataFrame({"deaths": x["c"] - 0.5}))
    not_worse = int(found.boxes.iloc[0]["not_worse"])
    assert 0 < not_worse < 12
    assert (f"not worse at {not_worse} of 12 points (a design of 12 points is too small for a "
            "box, which needs at least 10 points where it is and 10 where it is not)") \
        in " ".join(found.text().split())


def test_scattered_flips_give_way_to_the_weakest_tenth():
    """Not worse at a random 4% of the points (noise, in no box): the cases become the tenth
    of the points where the gap is smallest, and the text says why."""
    x = _design()
    noise = np.random.default_rng(3).uniform(size=len(x)) < 0.04
    gaps = pd.DataFrame({"deaths": np.where(noise, -0.01, 0.1 + x["b"])})
    found = discovery.discover(x, "one", "two", gaps)
    box = found.boxes.iloc[0]
    assert box["cases"] == discovery.WEAKEST_CASES and box["not_worse"] == noise.sum()
    assert found.cases["deaths"].sum() == round(discovery.WEAKEST * len(x))
    assert "scattered, in no box" in found.text()


def test_the_figure_has_a_panel_per_outcome():
    # Its axes are labelled from the registry: the design varies registered parameters.
    names = ["insurgents.recruitment", "oversight.punishment", "oversight.press"]
    x = _design(120).set_axis(names, axis=1)
    gaps = pd.DataFrame({"deaths": x[names[0]] - 0.5, "cooperation": x[names[1]] - 0.3})
    fig = discovery.plot([discovery.discover(x, "one", "two", gaps)])
    assert len(fig.axes) == 2
    assert fig.axes[0].patches, "the box is drawn"


def test_scattered_points_where_the_first_does_better_are_not_called_its_disadvantage():
    """Not worse at a random half of the points (in no box): the weakest tenth are all points
    where it does better, so the text names its advantage, not its disadvantage."""
    x = _design()
    gaps = pd.DataFrame({"deaths": np.random.default_rng(1).normal(size=len(x))})
    found = discovery.discover(x, "one", "two", gaps)
    box = found.boxes.iloc[0]
    assert box["cases"] == discovery.WEAKEST_CASES and box["not_worse"] >= box["n_cases"]
    assert (gaps["deaths"][found.cases["deaths"]] < 0).all()
    assert "scattered, in no box" in found.text()
    assert "points where its advantage is largest" in found.text()
    assert "disadvantage" not in found.text()


def test_where_most_points_are_cases_the_box_is_their_region_not_the_whole_space():
    """Not worse wherever a > 0.15: the whole space is dense already (85% cases), but a box
    with the same coverage is denser, so that box is reported, not "scattered, in no box"."""
    x = _design()
    gaps = pd.DataFrame({"deaths": np.where(x["a"] > 0.15, -0.1, 0.2 + x["b"])})
    found = discovery.discover(x, "one", "two", gaps)
    box = found.boxes.iloc[0]
    assert box["cases"] == discovery.NOT_WORSE and box["n_cases"] == (x["a"] > 0.15).sum()
    assert box["coverage"] == 1.0 and box["density"] > 0.95
    limits = found.limits.set_index("parameter")
    assert list(limits.index) == ["a"] and 0.1 < limits.loc["a", "low"] <= 0.15
    assert "scattered" not in found.text()


def test_the_text_states_its_thresholds_and_claims_no_spread_it_did_not_test():
    """The reader is told how the box was chosen (density 80%) and which restrictions are kept
    (quasi-p-value 0.05); one case in eight points, where no test can pass, is not said to be
    "spread over the whole space", and one point is not "1 points"."""
    x = _design(8)
    found = discovery.discover(x, "one", "two", pd.DataFrame({"deaths": 1.0 + x["a"]}))
    text = found.text()
    assert found.boxes.iloc[0]["n_cases"] == 1 and found.limits.empty
    assert "density reaches 80%" in text and "quasi-p-value is at most 0.05" in text
    assert "spread" not in text and "1 points" not in text
    assert "no region of the space is shown to hold them" in text
