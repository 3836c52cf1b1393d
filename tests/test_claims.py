"""The literature's patterns (sim.experiments.claims) at test size: each condition of each claim is
a test.

The model does not reproduce every published pattern.  A condition it misses is marked
``xfail(strict=True)`` with the numbers measured at this size, so that the miss stays visible in
every test run, and a model change that makes it hold fails the suite until docs/VALIDATION.md
and this file are updated.  ``blowback validate`` measures the same claims over 20 seeds.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from sim.core.scenario import load_scenario
from sim.core.shipped import scenarios_folder
from sim.experiments import claims, claims_report

SEEDS = [1, 2, 3, 4]
# Smaller designs than `blowback validate`'s, so the suite stays short.
SIZES = {
    "condra_shapiro": {},
    "kalyvas": {},
    "lyall": {},
    "kress_szechtman": {},
    "bennett": {"accuracy": (0.3, 0.4, 0.5, 0.6, 0.7, 0.8), "firepower": (2.0, 3.0),
                "seeds": [1, 2]},
}
MISSES = {
    ("condra_shapiro", "state_harm_raises_violence"):
        "the effect of state-side civilian deaths on the attacks of the next 26 weeks in the "
        "area has an interval that spans zero (+0.0082 [-0.0094, 0.0257] at this size, "
        "positive in 3 seeds of 4): a state-side death raises the district's support for the "
        "armed groups by only 3.1e-05 over the window (a death by armed groups lowers it by "
        "1.07e-03), where a rise of 0.1 in support brings 2.1 more attacks",
    ("condra_shapiro", "insurgent_harm_lowers_violence"):
        "the effect of the armed groups' civilian killings on the attacks of the next 26 weeks "
        "is negative in 4 seeds of 4, but at this size its interval reaches just above zero "
        "(-2.1 [-4.24, 0.032])",
    ("kalyvas", "counter_productive_where_contested"):
        "in contested districts indiscriminate force raises recruitment per resident by a ratio "
        "of 1.01 [0, 2.09] at this size, an interval that does not exclude 1",
    ("kalyvas", "more_where_contested_than_held"):
        "the contested ratio is below the held one (1.38 [1.26, 1.51]) at this size: difference "
        "-0.374 [-1.53, 0.78]",
    ("lyall", "force_suppresses_attacks"):
        "at deterrence 0.6 the indiscriminate contractor's districts see as much violence as "
        "the discriminate one's (ratio 1.00 [0.972, 1.04] at this size)",
    ("kress_szechtman", "levels_off"):
        "with poor intelligence the fighters still fall over the last 3 years at firepower 5, "
        "after growing to 11.4 times their start: -0.104 [-0.156, -0.0521] at this size, an "
        "interval not within +-0.15; at firepower 1 they level off at 21.6 times their start "
        "(-0.0461 [-0.136, 0.0435])",
    ("kress_szechtman", "good_intelligence_eradicates"):
        "with good intelligence the armed groups still end at 0.49 of their start on average "
        "at this size, not below 0.05",
    ("bennett", "tipping_point_in_accuracy"):
        "at this size the insurgency is never defeated in 96% of the cases (one case changes "
        "between adjacent accuracies), so the steepest step, a ratio of 2.77, has no interval",
}
CHECKS = {
    "condra_shapiro": ["state_harm_raises_violence", "insurgent_harm_lowers_violence"],
    "kalyvas": ["counter_productive_where_contested", "more_where_contested_than_held"],
    "lyall": ["force_suppresses_attacks", "not_without_fear"],
    "kress_szechtman": ["levels_off", "never_eradicated", "force_lowers_the_level",
                        "good_intelligence_eradicates"],
    "bennett": ["tipping_point_in_accuracy", "accuracy_matters_more"],
}
_measured: dict[str, claims.ClaimResult] = {}


def measured(key: str) -> claims.ClaimResult:
    """Each claim is measured once per test session, whatever the number of its checks."""
    if key not in _measured:
        size = dict(SIZES[key])
        seeds = size.pop("seeds", SEEDS)
        _measured[key] = claims.CLAIMS[key](seeds, jobs=2, **size)
    return _measured[key]


def _cases():
    for key, names in CHECKS.items():
        for name in names:
            reason = MISSES.get((key, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            yield pytest.param(key, name, marks=marks, id=f"{key}-{name}")


@pytest.mark.parametrize(("key", "check"), list(_cases()))
def test_claim(key, check):
    result = measured(key)
    assert set(result.checks) == set(CHECKS[key])
    assert result.checks[check], (f"{result.source}: {check} fails: {result.statistic} = "
                                  f"{result.estimate:.3g} [{result.low:.3g}, {result.high:.3g}]; "
                                  f"{result.row()['detail']}")


def test_claims_table_and_files(tmp_path):
    results = claims.measure(["kalyvas"], seeds=2, jobs=1)
    table = claims_report.table_of(results)
    assert list(table["key"]) == ["kalyvas"] and table.loc[0, "seeds"] == 2
    assert table.loc[0, "low"] <= table.loc[0, "estimate"] <= table.loc[0, "high"]
    out = claims_report.write(results, tmp_path / "validation")
    assert sorted(p.name for p in out.iterdir()) == ["claims.csv", "claims.md", "manifest.json",
                                                     "scenarios.json"]
    assert "Kalyvas 2006" in (out / "claims.md").read_text()
    assert "of 1 claims hold" in claims_report.text(table)


def test_a_validation_folder_holds_each_claims_scenarios_as_they_ran(tmp_path):
    """A validation read later says which scenarios its designs ran, with every parameter's
    value after the design's changes, not only the commit of the code."""
    results = claims.measure(["kalyvas"], seeds=2, jobs=1)
    ran = json.loads((claims_report.write(results, tmp_path / "v") / "scenarios.json").read_text())
    assert list(ran) == ["kalyvas"]
    skills = [spec["parameters"]["state.discrimination"] for spec in ran["kalyvas"]]
    assert skills == [0.3, 0.8]
    base = load_scenario(scenarios_folder() / "base.toml")
    assert all(spec["scenario_file"] == str(base.path) for spec in ran["kalyvas"])
    assert ran["kalyvas"][0]["parameters"]["map.communities"] == base.params["map.communities"]


def test_the_printed_and_written_tables_say_how_many_seeds_and_which_interval():
    """A reader of `blowback validate`'s output or of claims.md learns over how many seeds each
    estimate is a mean, and how its interval was found."""
    table = pd.DataFrame([{"key": "kalyvas", "source": "K", "pattern": "p", "design": "d",
                           "statistic": "ratio", "threshold": "> 1", "estimate": 0.85,
                           "low": 0.0, "high": 2.69, "holds": False, "seeds": 3,
                           "failed": "contested", "detail": ""}])
    printed = claims_report.text(table, wide=True)
    assert "0 of 1 claims hold, over 3 seeds" in printed
    for text in (printed, claims_report.markdown(table)):
        assert "Student's t 95% interval over the seeds" in text


def test_a_seed_without_violence_to_compare_is_left_out_of_lyalls_ratio(monkeypatch):
    """A seed where the contractor struck no district in both arms divided 0 by 1e-9: its
    ratio of 0 read as suppression, and pulled the mean and the interval down."""
    import numpy as np

    weeks, districts = 3 * 52, 4

    def panel(seed: int, violence: float) -> dict:
        struck = np.zeros((weeks, districts))
        if seed != 3:
            struck[:, 0] = 1.0
        return {"contractor": struck, "attacks": np.full((weeks, districts), violence),
                "insurgent_harm": np.zeros((weeks, districts))}

    def panels(specs, seeds, steps, jobs):
        # The arms alternate rough, careful: rough sees twice the careful arm's violence.
        return [[panel(s, 2.0 if k % 2 == 0 else 1.0) for s in seeds] for k in range(len(specs))]

    monkeypatch.setattr(claims, "district_panels", panels)
    result = claims.lyall([1, 2, 3, 4])
    assert result.seeds == 3
    assert result.estimate == pytest.approx(2.0)
    assert result.detail["ratio_without_deterrence"] == pytest.approx(2.0)
