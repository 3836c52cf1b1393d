"""The comparisons' intervals over seeds (sim.experiments.intervals): what they are, and that
they cover what they say at the seed counts a comparison uses."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.experiments.intervals import (
    mean_interval,
    paired_share_interval,
    share_interval,
)


def test_the_mean_gets_students_t_interval():
    values = np.array([2_626.0, 2_781.0, 2_952.0, 2_700.0])
    expected = stats.t.interval(0.95, 3, loc=values.mean(), scale=stats.sem(values))
    assert mean_interval(values) == pytest.approx(expected)
    assert np.isnan(mean_interval(np.array([1.0]))).all()


@pytest.mark.parametrize("seeds", [3, 5, 10])
def test_the_mean_interval_covers_95_percent_at_few_seeds(seeds):
    rng = np.random.default_rng(7)
    covered = [low <= 0.0 <= high for low, high in
               (mean_interval(rng.normal(size=seeds)) for _ in range(4_000))]
    assert 0.94 <= np.mean(covered) <= 0.96


def test_a_share_of_seeds_gets_wilsons_interval_which_never_collapses():
    nine = np.array([1.0] * 9 + [0.0])
    expected = stats.binomtest(9, 10).proportion_ci(method="wilson")
    assert share_interval(nine) == pytest.approx((expected.low, expected.high))
    low, high = share_interval(np.ones(10))
    assert low == pytest.approx(0.7225, abs=1e-4) and high == pytest.approx(1.0)
    low, high = share_interval(np.zeros(3))
    assert low == pytest.approx(0.0) and high == pytest.approx(0.5615, abs=1e-4)


def test_the_paired_difference_of_shares_is_bonett_and_prices():
    same = paired_share_interval(np.ones(10), np.ones(10))
    assert same == pytest.approx((-0.2310, 0.2310), abs=1e-4)  # 1.96 * sqrt(2 / 12 / 12)
    assert paired_share_interval(np.ones(10), np.zeros(10))[0] > 0.5
    # Many pairs: it meets the Wald interval of paired proportions.
    both, first_only, second_only, neither = 794, 150, 86, 570
    first = np.repeat([1.0, 1.0, 0.0, 0.0], [both, first_only, second_only, neither])
    second = np.repeat([1.0, 0.0, 1.0, 0.0], [both, first_only, second_only, neither])
    n = len(first)
    d = (first_only - second_only) / n
    half = 1.96 * np.sqrt(first_only + second_only - (first_only - second_only) ** 2 / n) / n
    assert paired_share_interval(first, second) == pytest.approx((d - half, d + half), abs=1e-3)


@pytest.mark.parametrize("cells", [(0.516, 0.024, 0.084, 0.376), (0.36, 0.24, 0.24, 0.16),
                                   (0.25, 0.25, 0.25, 0.25), (0.9, 0.05, 0.03, 0.02)])
def test_the_paired_interval_covers_95_percent_at_ten_seeds(cells):
    """Exact coverage over every outcome of 10 seeds, for seeds where both regimes give 1,
    only the first, only the second, or neither with the probabilities ``cells``."""
    n, covered = 10, 0.0
    truth = cells[1] - cells[2]
    for counts in ((a, b, c, n - a - b - c) for a in range(n + 1) for b in range(n + 1 - a)
                   for c in range(n + 1 - a - b)):
        chance = stats.multinomial.pmf(counts, n, cells)
        first = np.repeat([1.0, 1.0, 0.0, 0.0], counts)
        second = np.repeat([1.0, 0.0, 1.0, 0.0], counts)
        low, high = paired_share_interval(first, second)
        covered += chance * (low - 1e-12 <= truth <= high + 1e-12)
    assert covered >= 0.95


def test_a_mean_interval_stays_within_what_the_mean_can_take():
    skewed = np.array([0.0, 0.0, 3_000.0])
    low, high = mean_interval(skewed, within=(0.0, np.inf))
    assert low == 0.0 and high == pytest.approx(mean_interval(skewed)[1])
    assert mean_interval(np.array([0.9, 0.99, 1.0]), within=(0.0, 1.0))[1] == 1.0


def test_a_paired_difference_of_a_0_to_1_quantity_stays_within_one_either_way():
    import pandas as pd

    from sim.core.outcomes import shown
    from sim.experiments.compare import summarise_paired

    share = next(o for o in shown("comparison") if o.share)
    count = next(o for o in shown("comparison") if not o.share and o.kind is float)
    other = pd.DataFrame({share.column: [1.0, 1.0, 0.0], count.column: [1.0, 1.0, 0.0]})
    base = pd.DataFrame({share.column: [0.0, 0.0, 0.0], count.column: [0.0, 0.0, 0.0]})
    rows = summarise_paired([("other", other, base)], [share, count]).set_index("outcome")
    assert rows.loc[share.column, "high"] == 1.0 and rows.loc[share.column, "low"] < 0
    assert rows.loc[count.column, "high"] > 1.0  # a count's difference is not bounded


def test_a_mean_with_a_value_missing_has_no_interval():
    """max and min drop a NaN: the interval of a mean that is not known was (-inf, inf)."""
    assert all(math.isnan(v) for v in mean_interval(np.array([3.0, np.nan, 4.0])))
    assert all(math.isnan(v) for v in mean_interval(np.array([3.0, np.inf]), within=(0, 9)))


@pytest.mark.parametrize(("kwargs", "said"), [
    ({"seeds": 0}, "seeds: 0"), ({"seeds": 2.5}, "seeds: 2.5"), ({"seeds": True}, "seeds"),
    ({"scenarios": []}, "Scenario objects"), ({"scenarios": ["base.toml"]}, "load_scenario"),
])
def test_compare_in_python_refuses_what_it_cannot_run(kwargs, said):
    from sim.core.scenario import default_scenario
    from sim.experiments.compare import compare

    with pytest.raises(ValueError, match=said):
        compare(**({"scenarios": [default_scenario()], "seeds": 2} | kwargs))


def test_scenarios_of_different_lengths_are_not_compared(tmp_path, capsys):
    """Totals over 10 weeks against totals over 30 are no paired difference: compare refuses
    them, before any run, and compares them given one --steps."""
    from conftest import ROOT, blowback

    from sim.core.scenario import default_scenario
    from sim.experiments.compare import compare

    short, long = (default_scenario().with_overrides(**{"run.steps": n}) for n in (10, 30))
    with pytest.raises(ValueError, match="different numbers of weeks"):
        compare([short, long], seeds=2)
    files = []
    for name, steps in (("short", 10), ("long", 30)):
        files.append(str(tmp_path / f"{name}.toml"))
        (tmp_path / f"{name}.toml").write_text(
            f'name = "{name}"\nextends = "{ROOT / "scenarios" / "base.toml"}"\n'
            f"[map]\ncommunities = 200\n[run]\nsteps = {steps}\n")
    status, _, err = blowback(capsys, "compare", *files, "--seeds", "2", "--out",
                              str(tmp_path / "c"))
    assert status == 2 and "(short 10, long 30)" in err
    status, _, err = blowback(capsys, "compare", *files, "--seeds", "2", "--steps", "2",
                              "--out", str(tmp_path / "c"))
    assert status == 0, err


@pytest.mark.parametrize("n", range(1, 41))
def test_a_share_every_seed_agrees_on_lies_inside_its_interval(n):
    """Where no seed (or every seed) has the outcome, the share is 0 (or 1) and Wilson's bound
    there is exactly 0 (or 1): rounding must not put the written bound above (below) the mean,
    as it did at 3 and 6 seeds (a low of 5.6e-17) and at 10 and 13 (a high of 1 - 1e-16)."""
    for values in (np.zeros(n), np.ones(n)):
        low, high = share_interval(values)
        assert low <= values.mean() <= high
        assert (low == 0.0) if values.mean() == 0 else (high == 1.0)
