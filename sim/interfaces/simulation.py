"""The three-line start: ``s = sim.Sim(); s.run(); s.plot()``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm import tqdm

from sim.core.model import BlowbackModel
from sim.core.scenario import Scenario, default_scenario, load_scenario
from sim.experiments import results

if TYPE_CHECKING:
    from matplotlib.figure import Figure

_SHORT = {"seed": "run.seed", "steps": "run.steps", "communities": "map.communities"}


class Sim:
    """A scenario, a model built from it, and its results.

    ``Sim("scenarios/contractor_unchecked.toml", seed=3, steps=104)`` loads a scenario (or takes
    the defaults) and applies overrides: ``seed``, ``steps``, ``communities`` or any dotted
    parameter name given as a dict, e.g. ``Sim(params={"oversight.punishment": 0.9})``.
    """

    def __init__(self, scenario: str | Path | Scenario | None = None, *,
                 params: dict[str, Any] | None = None, agents: bool = True,
                 **overrides: Any) -> None:
        if scenario is None:
            scenario = default_scenario()
        elif not isinstance(scenario, Scenario):
            scenario = load_scenario(scenario)
        changes = dict(params or {})
        for key, value in overrides.items():
            if key not in _SHORT:
                raise TypeError(f"unknown override {key!r}; use one of {sorted(_SHORT)} "
                                "or params={'section.key': value}")
            changes[_SHORT[key]] = value
        if changes:
            scenario = scenario.with_overrides(**changes)
        self.scenario = scenario
        self.model = BlowbackModel(scenario, agents=agents)

    def run(self, steps: int | None = None, progress: bool = False) -> Sim:
        """Run to the end of the scenario (or ``steps`` more weeks); a progress bar if asked."""
        if not progress:
            self.model.run(steps)
            return self
        total = self.model.steps_total - self.model.t if steps is None else steps
        with tqdm(total=total, unit="week", desc=self.scenario.name) as bar:
            self.model.run(steps, progress=bar.update)
        return self

    @property
    def results(self) -> pd.DataFrame:
        """The weekly time series as a pandas DataFrame (one row a step, with its date)."""
        return results.series(self.model)

    def summary(self) -> dict[str, Any]:
        """Headline outcomes (civilian deaths by perpetrator, final cooperation, ...)."""
        return results.summary(self.model)

    def plot(self, columns: tuple[str, ...] | None = None) -> Figure:
        """Plot the main series against the calendar, events marked; returns the figure."""
        from sim.interfaces.plotting import plot_run

        return plot_run(self.results, self.model.event_log, columns)

    def save(self, out: str | Path) -> Path:
        """Write the series (Parquet) and summary with provenance (JSON) into ``out``."""
        return results.write_run(self.model, Path(out))
