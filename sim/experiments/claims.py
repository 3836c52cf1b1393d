"""The literature's patterns, measured on the model over many seeds (pattern-oriented modelling).

Each claim is a published finding turned into a measurement: the scenario that exercises it, the
statistic read off the runs, the threshold it must pass and the interval over seeds.  A claim
that the model does not reproduce is reported as not holding; nothing here is tuned to pass.
``blowback validate`` runs them all and writes the table of ``docs/VALIDATION.md``; the tests run
them with fewer seeds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.core.scenario import Scenario, load_scenario
from sim.core.shipped import scenarios_folder
from sim.experiments.districts import DISTRICT, district_panels, fixed_effects
from sim.experiments.intervals import mean_interval
from sim.experiments.runs import run_many, run_one

# An insurgency counts as defeated once its fighters fall below this share of their start.
DEFEATED = 0.2


@dataclass
class ClaimResult:
    """One claim measured: what was run, what was read off, and whether it holds."""

    key: str
    source: str
    pattern: str
    design: str
    statistic: str
    threshold: str
    estimate: float
    low: float
    high: float
    checks: dict[str, bool]  # the claim's conditions, each measured; it holds if all do
    seeds: int
    detail: dict[str, Any] = field(default_factory=dict)
    # The design's scenarios as they ran, overrides applied: what `scenarios.json` records.
    scenarios: list[Scenario] = field(default_factory=list, repr=False)

    @property
    def holds(self) -> bool:
        """Whether every condition of the claim holds."""
        return all(self.checks.values())

    def row(self) -> dict[str, Any]:
        """The claim as a flat table row (detail as text)."""
        row = {k: getattr(self, k) for k in ("key", "source", "pattern", "design", "statistic",
                                              "threshold", "estimate", "low", "high", "holds",
                                              "seeds")}
        row["failed"] = ", ".join(k for k, ok in self.checks.items() if not ok)
        row["detail"] = "; ".join(f"{k} = {short_number(v)}" for k, v in self.detail.items())
        return row


def short_number(value: Any) -> str:
    """A float to three significant digits; anything else as ``str`` gives it."""
    return f"{value:.3g}" if isinstance(value, float | np.floating) else str(value)


def scenario(name: str, **changes: Any) -> Scenario:
    """A shipped scenario with dotted-name overrides."""
    spec = load_scenario(scenarios_folder() / f"{name}.toml")
    return spec.with_overrides(**changes) if changes else spec


# What a ratio's and a relative change's means can be: t intervals of skewed seeds cross them.
RATIO, CHANGE = (0.0, math.inf), (-1.0, math.inf)


def _interval(values: np.ndarray, within: tuple[float, float] = (-math.inf, math.inf)
              ) -> tuple[float, float, float]:
    """The mean over seeds and its Student's t 95% interval, cut to ``within``."""
    low, high = mean_interval(values, within=within)
    return float(np.mean(values)), low, high


def _ratio(rough: float, careful: float) -> float:
    """One seed's ratio of the two arms, NaN where the careful arm has nothing to divide by."""
    return rough / careful if careful > 0 else math.nan


def condra_shapiro(seeds: Sequence[int], jobs: int = 1, steps: int = 520,
                   lead: int = 26, lag: int = 4) -> ClaimResult:
    """Condra & Shapiro (2012): state-side civilian casualties are followed by more insurgent
    violence in the area, casualties caused by insurgents by less.

    Per seed, as they did, a two-way fixed-effects regression over districts and weeks of the
    attacks on forces of the next ``lead`` weeks on this week's civilian deaths by each side,
    controlling for the attacks of the last ``lag`` weeks and the armed groups' strength in the
    district.  The model's chain from state-side harm to attacks runs through attitudes: harm
    lowers cooperation and raises support for the armed groups (M4, M5), and a band locates the
    forces of its cell through the residents who support it (armed violence).  Attitudes move
    towards their targets at ``community.adaptation`` (0.04 a week, a time constant of 25
    weeks), so the window is half a year.  The two links of the chain are measured too, with the
    same regression: the change in the district's support over the window per civilian killed by
    each side, and the attacks of the window per unit of support.  The first controls for the
    district's support, cooperation and armed groups at the start of the window: forces strike
    where support is high, bands where cooperation is, and attitudes revert towards their means,
    so without them the change would measure where each side strikes.
    """
    coefs, per_death, per_support = [], [], []
    specs = [scenario("contractor_unchecked")]
    for p in district_panels(specs, seeds, steps, jobs)[0]:
        rows = np.arange(lag, len(p["attacks"]) - lead)
        y = np.array([p["attacks"][t + 1:t + 1 + lead].sum(axis=0) for t in rows])
        past = np.array([p["attacks"][t - lag:t].sum(axis=0) for t in rows])
        state, insurgent, fighters, support, cooperation = (p[k][rows] for k in (
            "state_harm", "insurgent_harm", "insurgents", "support", "cooperation"))
        coefs.append(fixed_effects(y, state, insurgent, past, fighters)[:2])
        per_death.append(fixed_effects(p["support"][rows + lead] - support, state, insurgent,
                                       support, cooperation, fighters)[:2])
        per_support.append(fixed_effects(y, support, past, fighters)[0])
    coefs, per_death = np.array(coefs), np.array(per_death)
    state, s_low, s_high = _interval(coefs[:, 0])
    insurgent, i_low, i_high = _interval(coefs[:, 1])
    return ClaimResult(
        "condra_shapiro", "Condra & Shapiro 2012, AJPS 56(1)",
        "civilian casualties by the state side are followed by more insurgent violence in the "
        "area; casualties by insurgents by less",
        f"unchecked contractor, {steps} weeks; districts of {DISTRICT}x{DISTRICT} cells",
        f"attacks in the next {lead} weeks per civilian killed this week by the state side "
        "(two-way fixed effects, per seed)",
        "state-side effect > 0 and insurgent effect < 0, 95% intervals excluding 0",
        state, s_low, s_high,
        {"state_harm_raises_violence": bool(s_low > 0),
         "insurgent_harm_lowers_violence": bool(i_high < 0)}, len(seeds),
        {"insurgent_effect": insurgent, "insurgent_low": i_low, "insurgent_high": i_high,
         "state_effect_positive_seeds": int((coefs[:, 0] > 0).sum()),
         "insurgent_effect_negative_seeds": int((coefs[:, 1] < 0).sum()),
         "support_change_per_state_death": float(per_death[:, 0].mean()),
         "support_change_per_insurgent_death": float(per_death[:, 1].mean()),
         "attacks_per_unit_of_support": float(np.mean(per_support))}, specs)


def kalyvas(seeds: Sequence[int], jobs: int = 1, steps: int = 260,
            low: float = 0.3, high: float = 0.8) -> ClaimResult:
    """Kalyvas (2006): indiscriminate violence is counter-productive where control is contested,
    where the actor lacks the information to select its targets; less so where it holds control.

    Paired runs on the same seeds with the state's skill (``state.discrimination``) at ``low``
    and ``high``.  Districts are classed by their mean state control in the discriminate run:
    contested (0.25-0.75) or held by the state (0.75 and above).  The statistic is the ratio of
    recruits per resident, indiscriminate over discriminate, in each class.  Two checks: the
    contested ratio exceeds 1, and it exceeds the held ratio (their difference, paired by seed,
    has a 95% interval above 0).  Seeds without a district of either class are left out.
    """
    specs = [scenario("base", **{"state.discrimination": d}) for d in (low, high)]
    rough_runs, careful_runs = district_panels(specs, seeds, steps, jobs)
    contested, held = [], []
    for rough, careful in zip(rough_runs, careful_runs, strict=True):
        control = careful["control"].mean(axis=0)
        people = careful["population"].mean(axis=0) + 1e-9
        rate_rough = rough["recruits"].sum(axis=0) / people
        rate_careful = careful["recruits"].sum(axis=0) / people
        for mask, into in (((control > 0.25) & (control < 0.75), contested),
                           (control >= 0.75, held)):
            base = rate_careful[mask].sum()
            into.append(rate_rough[mask].sum() / base if base > 0 else np.nan)
    both = ~(np.isnan(contested) | np.isnan(held))
    contested, held = np.array(contested)[both], np.array(held)[both]
    ratio, r_low, r_high = _interval(contested, RATIO)
    held_ratio, h_low, h_high = _interval(held, RATIO)
    gap, g_low, g_high = _interval(contested - held)
    return ClaimResult(
        "kalyvas", "Kalyvas 2006, The Logic of Violence in Civil War",
        "indiscriminate violence is counter-productive where control is contested, more than "
        "where it is held",
        f"state skill {low} vs {high}, same seeds, {steps} weeks",
        "recruits per resident in contested districts, indiscriminate / discriminate",
        "ratio > 1 with its 95% interval; contested ratio - held ratio > 0 with its 95% "
        "interval (paired by seed)",
        ratio, r_low, r_high,
        {"counter_productive_where_contested": bool(r_low > 1.0),
         "more_where_contested_than_held": bool(g_low > 0.0)}, int(both.sum()),
        {"held_ratio": held_ratio, "held_low": h_low, "held_high": h_high,
         "contested_minus_held": gap, "difference_low": g_low, "difference_high": g_high},
        specs)


def lyall(seeds: Sequence[int], jobs: int = 1, deterrence: float = 0.6, rough: float = 0.2,
          careful: float = 0.8, window: int = 13) -> ClaimResult:
    """Lyall (2009): heavy, indiscriminate force can suppress insurgent attacks for a while.

    Lyall compared Chechen villages shelled by Russian artillery with matched villages that were
    not shelled: the same war and the same army, only whether its fire fell indiscriminately on
    the village differed.  Here the forces are held fixed and only how indiscriminate they are
    differs: the unchecked contractor (heavy firepower from week 0) with skill
    (``contractor.discrimination``) ``rough`` against ``careful`` on the same seeds, so both arms
    have the same troops, firepower, reach, institutions and starting deployment.  Under M2 the
    rough arm also kills fewer fighters, which is part of what indiscriminate fire is.  Armed
    groups fear force (``insurgents.deterrence`` at ``deterrence``, inside its plausible range)
    or do not (0).  The statistic is insurgent violence (attacks on forces plus civilians killed
    by armed groups) in the first ``window`` weeks in the districts the contractor operated in
    during those weeks in both arms, rough over careful; the same ratio in the last half of
    year 3 tells whether the suppression lasts.  A seed whose discriminate arm saw no such
    violence has no ratio, and is left out.
    """
    steps = 3 * 52
    first, last = slice(0, window), slice(steps - 26, steps)
    ratios: dict[float, np.ndarray] = {}
    later: dict[float, np.ndarray] = {}
    fears = (deterrence, 0.0)
    specs = [scenario("contractor_unchecked", **{"insurgents.deterrence": fear,
                                                 "contractor.discrimination": skill})
             for fear in fears for skill in (rough, careful)]
    panels = district_panels(specs, seeds, steps, jobs)
    for k, fear in enumerate(fears):
        now, after = [], []
        for shelled, spared in zip(panels[2 * k], panels[2 * k + 1], strict=True):
            struck = ((shelled["contractor"][first].sum(axis=0) > 0)
                      & (spared["contractor"][first].sum(axis=0) > 0))
            violence = [p["attacks"][:, struck] + p["insurgent_harm"][:, struck]
                        for p in (shelled, spared)]
            now.append(_ratio(violence[0][first].sum(), violence[1][first].sum()))
            after.append(_ratio(violence[0][last].sum(), violence[1][last].sum()))
        # A seed with nothing to divide by has no ratio: as 0, it would read as suppression.
        ratios[fear], later[fear] = (r[np.isfinite(r)] for r in (np.array(now), np.array(after)))
    ratio, low, high = _interval(ratios[deterrence], RATIO)
    without, w_low, w_high = _interval(ratios[0.0], RATIO)
    after_ratio, a_low, a_high = _interval(later[deterrence], RATIO)
    return ClaimResult(
        "lyall", "Lyall 2009, JCR 53(3)",
        "a regime exists where heavy, indiscriminate force suppresses insurgent attacks for a "
        "while",
        f"unchecked contractor with skill {rough} vs {careful} (same troops), same seeds; "
        f"insurgents.deterrence {deterrence} and 0",
        f"insurgent violence in the contractor's districts in the first {window} weeks, "
        f"indiscriminate / discriminate contractor (deterrence {deterrence})",
        f"ratio < 1 with its 95% interval at deterrence {deterrence}; not below 1 at deterrence "
        "0 (the sign is not hard-wired)",
        ratio, low, high,
        {"force_suppresses_attacks": bool(high < 1.0),
         "not_without_fear": bool(without >= 1.0)}, len(ratios[deterrence]),
        {"ratio_without_deterrence": without, "without_low": w_low, "without_high": w_high,
         "ratio_in_year_3": after_ratio, "year_3_low": a_low, "year_3_high": a_high}, specs)


def _strength(seeds: Sequence[int], jobs: int, steps: int,
              specs: Sequence[Scenario]) -> np.ndarray:
    """Weekly insurgent strength of runs of ``specs``, (specs, seeds, weeks)."""
    tasks = [(spec, seed, steps) for spec in specs for seed in seeds]
    runs = run_many(tasks, jobs=jobs, work=run_one)
    series = np.array([r[1]["insurgent_strength"].to_numpy() for r in runs])
    return series.reshape(len(specs), len(seeds), -1)


def kress_szechtman(seeds: Sequence[int], jobs: int = 1, steps: int = 1040,
                    firepower: Sequence[float] = (1.0, 5.0), level: float = 0.15) -> ClaimResult:
    """Kress & Szechtman (2009): with poor intelligence, force alone contains an insurgency at a
    level but does not eradicate it.

    Poor intelligence: armed groups hide well (``insurgents.concealment`` 0.8); good: the
    default 0.4.  The state's firepower runs over ``firepower``, 20 years.  The central check is
    that with poor intelligence the insurgency levels off: at every firepower, the change in
    fighters over the last three years (their mean over the last year against their mean over
    the year three years earlier, minus 1) has its 95% interval within ±``level`` (±0.15: under
    5% a year).  Besides: no firepower brings the fighters below 25% of their start in any seed,
    more firepower lowers the level they end at, and with good intelligence the strongest force
    does eradicate them (below 5% of their start) in every seed.
    """
    poor = [{"insurgents.concealment": 0.8, "state.firepower": f} for f in firepower]
    good = [{"insurgents.concealment": 0.4, "state.firepower": max(firepower)}]
    specs = [scenario("base", **s) for s in poor + good]
    strength = _strength(seeds, jobs, steps, specs)
    share = strength / strength[:, :, 0:1]
    poor_share, good_share = share[:len(poor)], share[len(poor)]
    floor = poor_share.min(axis=2)
    year = 52
    change = (strength[:len(poor), :, -year:].mean(axis=2)
              / strength[:len(poor), :, -4 * year:-3 * year].mean(axis=2) - 1)
    changes = [_interval(c, CHANGE) for c in change]  # (estimate, low, high) per firepower
    furthest = max(range(len(poor)), key=lambda i: max(abs(changes[i][1]), abs(changes[i][2])))
    est, low, high = changes[furthest]
    end = poor_share[:, :, -1]
    checks = {"levels_off": all(-level < lo and hi < level for _, lo, hi in changes),
              "never_eradicated": bool(floor.min() > 0.25),
              "force_lowers_the_level": bool(end[-1].mean() < end[0].mean()),
              "good_intelligence_eradicates": bool((good_share[:, -1] < 0.05).all())}
    detail: dict[str, Any] = {}
    for f, (c, lo, hi), ends in zip(firepower, changes, end, strict=True):
        detail[f"change_firepower_{f}"] = c
        detail[f"change_low_firepower_{f}"] = lo
        detail[f"change_high_firepower_{f}"] = hi
        detail[f"end_share_firepower_{f}"] = float(ends.mean())
    detail["lowest_share_poor_intelligence"] = float(floor.min())
    detail["end_share_good_intelligence"] = float(good_share[:, -1].mean())
    return ClaimResult(
        "kress_szechtman", "Kress & Szechtman 2009, Operations Research 57(3)",
        "with poor intelligence, force alone contains an insurgency at a level but does not "
        "eradicate it",
        f"insurgents.concealment 0.8 vs 0.4, state firepower {list(firepower)}, {steps} weeks",
        "change in fighters over the last 3 years (last year's mean / the mean 3 years before, "
        f"- 1), poor intelligence, the firepower of {list(firepower)} furthest from level",
        f"poor intelligence: that change within ±{level} with its 95% interval at every "
        "firepower (levels off), never below 0.25 of the start, lower at the end with more "
        "firepower; good intelligence: below 0.05 of the start at the end in every seed",
        est, low, high, checks, len(seeds), detail, specs)


def _weeks_to_defeat(series: np.ndarray) -> np.ndarray:
    """Weeks until the fighters fall below DEFEATED of their start; the run length if never."""
    below = series < DEFEATED * series[..., :1]
    return np.where(below.any(axis=-1), below.argmax(axis=-1), series.shape[-1]).astype(float)


def bennett(seeds: Sequence[int], jobs: int = 1, steps: int = 1040,
            accuracy: Sequence[float] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
            firepower: Sequence[float] = (1.0, 2.0, 3.0)) -> ClaimResult:
    """Bennett (2008): the accuracy of force matters more than its effectiveness for defeating
    an insurgency, with a tipping point in accuracy below which insurgencies last much longer.

    A full factorial of the state's discrimination (accuracy) and firepower (effectiveness) on
    the base scenario, 20 years.  The insurgency's duration is the weeks until its fighters fall
    below 20% of their start (the run's length if never).  Tipping point: per seed and
    firepower at which the most accurate force does defeat the insurgency (elsewhere there is no
    transition to measure), the largest ratio of durations between adjacent accuracy levels.
    Accuracy against effectiveness: the spread of mean log duration across accuracy levels
    against its spread across firepower levels, over the same grid.
    """
    specs = [scenario("base", **{"state.discrimination": a, "state.firepower": f})
             for a in accuracy for f in firepower]
    strength = _strength(seeds, jobs, steps, specs)
    duration = _weeks_to_defeat(strength).reshape(len(accuracy), len(firepower), len(seeds))
    jump = (duration[:-1] / duration[1:]).max(axis=0)  # (firepower, seeds)
    ends = duration[-1] < strength.shape[-1]
    tip, low, high = _interval(jump[ends], RATIO) if ends.any() else (float("nan"),) * 3
    log_d = np.log(duration).mean(axis=2)
    by_accuracy = float(np.ptp(log_d.mean(axis=1)))
    by_firepower = float(np.ptp(log_d.mean(axis=0)))
    return ClaimResult(
        "bennett", "Bennett 2008, JASSS 11(4) 7",
        "accuracy (discrimination) matters more than effectiveness (firepower) for defeating an "
        "insurgency, with a tipping point in accuracy",
        f"state discrimination {list(accuracy)} x firepower {list(firepower)}, {steps} weeks",
        "largest ratio of insurgency durations between adjacent accuracy levels (0.1 apart)",
        "ratio >= 2 with its 95% interval, and the spread of log duration across the accuracy "
        "range larger than across the firepower range",
        tip, low, high,
        {"tipping_point_in_accuracy": bool(low >= 2.0),
         "accuracy_matters_more": by_accuracy > by_firepower}, len(seeds),
        {"log_duration_spread_accuracy": by_accuracy,
         "log_duration_spread_firepower": by_firepower,
         "never_defeated_share": float((duration >= strength.shape[-1]).mean()),
         "cases_with_a_transition": int(ends.sum())}, specs)


CLAIMS: dict[str, Callable[..., ClaimResult]] = {
    claim.__name__: claim for claim in (bennett, condra_shapiro, kalyvas, lyall, kress_szechtman)}


def measure(names: Sequence[str] | None = None, seeds: int = 20, first_seed: int = 1,
            jobs: int = 1) -> list[ClaimResult]:
    """Measure the named claims (all by default) over ``seeds`` seeds."""
    chosen = list(CLAIMS) if names is None else list(names)
    seed_list = list(range(first_seed, first_seed + seeds))
    return [CLAIMS[n](seed_list, jobs=jobs) for n in chosen]
