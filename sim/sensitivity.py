"""Global sensitivity of the outcomes, and how often the ranking of the regimes flips."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.experiment import Experiment

# Outcomes whose indices are reported, and whether less is better (for the ranking).
OUTCOMES: tuple[tuple[str, str, bool], ...] = (
    ("civilian_deaths_total", "civilian deaths", True),
    ("insurgent_strength_final", "insurgents at end", True),
    ("cooperation_mean_final", "cooperation", False),
)
FILES = frozenset({"indices.csv", "ranking.csv", "sensitivity.txt", "indices.png",
                   "indices.svg"})


class SensitivityError(ValueError):
    """An experiment that cannot give Sobol indices (one line, for the CLI)."""


@dataclass
class Sensitivity:
    """Sobol indices per scenario and outcome, and the share of design points where the
    regimes rank differently from their most common order."""

    indices: pd.DataFrame  # scenario, outcome, parameter, S1, S1_conf, ST, ST_conf
    ranking: pd.DataFrame  # outcome, modal ranking, share of points that differ

    def text(self) -> str:
        """Both tables as text."""
        lines = ["Sobol indices (first order S1 and total ST, with 95% confidence):"]
        for (scenario, outcome), sub in self.indices.groupby(["scenario", "outcome"],
                                                             sort=False):
            lines.append(f"  {scenario} / {outcome}")
            for r in sub.itertuples():
                lines.append(f"    {r.parameter:<32} S1 {r.S1:6.2f} ± {r.S1_conf:4.2f}   "
                             f"ST {r.ST:6.2f} ± {r.ST_conf:4.2f}")
        lines.append("\nRanking of the regimes (best first) and where it changes:")
        for r in self.ranking.itertuples():
            lines.append(f"  {r.outcome}: {r.modal_ranking}; differs at {r.share_differs:.0%} "
                         "of the design points")
        return "\n".join(lines)


def check(experiment: Experiment) -> None:
    """Refuse experiments whose design cannot give Sobol indices."""
    if experiment.sampler != "sobol":
        raise SensitivityError(f"{experiment.path}: vary.sampler: {experiment.sampler!r} gives "
                               "no Sobol indices; allowed: \"sobol\"")


def analyse(experiment: Experiment, runs: pd.DataFrame) -> Sensitivity:
    """Sobol indices of each outcome (mean over seeds at each design point), per scenario."""
    from SALib.analyze import sobol

    check(experiment)
    vary = tomllib.loads(experiment.text).get("vary", {})
    second_order = bool(vary.get("second_order", True))
    names = experiment.varied
    values = pd.DataFrame(experiment.points)[names]
    problem = {"num_vars": len(names), "names": names,
               "bounds": [[float(values[n].min()), float(values[n].max())] for n in names]}
    means = runs.groupby(["scenario", "point"], sort=False)[[c for c, _, _ in OUTCOMES]].mean()
    n_points = len(experiment.points)
    rows = []
    for scenario in experiment.scenarios:
        if scenario not in means.index.get_level_values(0):
            continue
        table = means.loc[scenario].reindex(range(n_points))
        if table.isna().any().any():
            raise SensitivityError(f"{experiment.path}: the sweep of {scenario!r} is not "
                                   "finished; rerun to complete it")
        for col, label, _ in OUTCOMES:
            result = sobol.analyze(problem, table[col].to_numpy(dtype=float),
                                   calc_second_order=second_order, seed=12345)
            for k, name in enumerate(names):
                rows.append({"scenario": scenario, "outcome": label, "parameter": name,
                             "S1": result["S1"][k], "S1_conf": result["S1_conf"][k],
                             "ST": result["ST"][k], "ST_conf": result["ST_conf"][k]})
    return Sensitivity(pd.DataFrame(rows), _ranking(means, list(experiment.scenarios)))


def _ranking(means: pd.DataFrame, scenarios: list[str]) -> pd.DataFrame:
    rows = []
    for col, label, lower_is_better in OUTCOMES:
        wide = means[col].unstack(0)[scenarios]
        order = np.argsort(wide.to_numpy() * (1 if lower_is_better else -1), axis=1,
                           kind="stable")
        rankings = [" > ".join(scenarios[i] for i in row) for row in order]
        modal = pd.Series(rankings).mode().iloc[0]
        rows.append({"outcome": label, "modal_ranking": modal,
                     "share_differs": float(np.mean([r != modal for r in rankings]))})
    return pd.DataFrame(rows)


def plot_indices(indices: pd.DataFrame):
    """Bar chart of total-order indices, one panel per outcome, bars per parameter and
    scenario."""
    import matplotlib.pyplot as plt

    outcomes = list(dict.fromkeys(indices["outcome"]))
    fig, axes = plt.subplots(1, len(outcomes), figsize=(5 * len(outcomes), 4.2), squeeze=False)
    for ax, outcome in zip(axes[0], outcomes, strict=True):
        sub = indices[indices["outcome"] == outcome]
        wide = sub.pivot(index="parameter", columns="scenario", values="ST")
        err = sub.pivot(index="parameter", columns="scenario", values="ST_conf")
        wide.plot.barh(ax=ax, xerr=err, legend=ax is axes[0][0])
        ax.set_title(f"{outcome}: total-order Sobol index")
        ax.set_xlabel("ST")
    fig.tight_layout()
    return fig


def write(result: Sensitivity, out: Path) -> Path:
    """Write the tables and the chart (PNG, SVG) into ``out`` atomically."""
    import matplotlib.pyplot as plt

    from sim.results import atomic_folder

    with atomic_folder(out, FILES) as tmp:
        result.indices.to_csv(tmp / "indices.csv", index=False)
        result.ranking.to_csv(tmp / "ranking.csv", index=False)
        (tmp / "sensitivity.txt").write_text(result.text() + "\n")
        fig = plot_indices(result.indices)
        for ext in ("png", "svg"):
            fig.savefig(tmp / f"indices.{ext}", dpi=120)
        plt.close(fig)
    return Path(out)
