"""The three-line start: ``s = sim.Sim(); s.run(); s.plot()``."""

from __future__ import annotations

import sys
import warnings
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm import tqdm

from sim.core.messages import cut
from sim.core.model import BlowbackModel
from sim.core.paths import check_output_file
from sim.core.scenario import Scenario, default_scenario, load_scenario
from sim.experiments import results
from sim.experiments.output import check_replaceable

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
        if not isinstance(agents, bool):
            raise TypeError(f"agents: {cut(repr(agents))}; allowed: True or False")
        if scenario is None:
            scenario = default_scenario()
        elif isinstance(scenario, dict):
            raise TypeError("scenario: a dict; allowed: a scenario file's path, a Scenario "
                            "(sim.core.scenario.from_dict(d) makes one of a dict) or None")
        elif not isinstance(scenario, Scenario | str | PathLike):
            raise TypeError(f"scenario: {cut(repr(scenario))} is {type(scenario).__name__}; "
                            "allowed: a scenario file's path, a Scenario or None (the defaults)")
        else:
            scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        changes = _changes(params)
        for key, value in overrides.items():
            if key not in _SHORT:
                raise TypeError(f"unknown override {key!r}; use one of {sorted(_SHORT)} "
                                "or params={'section.key': value}")
            changes[_SHORT[key]] = value
        if changes:
            scenario = scenario.with_overrides(**changes)
        self.scenario = scenario
        self.model = BlowbackModel(scenario, agents=agents)

    def __repr__(self) -> str:
        m = self.model
        return (f"<Sim {self.scenario.name!r}, seed {m.seed}: week {m.t} of {m.steps_total}, "
                f"{m.date:%d %b %Y}>")

    def run(self, steps: int | None = None, progress: bool = False) -> Sim:
        """Run to the end of the scenario (or ``steps`` more weeks, as many as are left); a
        progress bar if asked."""
        if not progress:
            self.model.run(steps)
            return self
        left = self.model.steps_total - self.model.t
        total = left if steps is None else min(steps, left)
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

    def plot(self, columns: tuple[str, ...] | None = None, *, show: bool = False,
             path: str | Path | None = None) -> Figure:
        """Plot the main series against the calendar, events marked; returns the figure.

        ``path`` saves it there, PNG or SVG by the suffix, and says where; ``show=True`` opens
        it in a window (``plt.show()``).  A notebook shows it by itself; in a plain Python
        session with neither, the first call says how to see it.  The figure stays open in
        pyplot, as pandas' plots do: a script that plots many runs closes each
        (``plt.close(fig)``).
        """
        from sim.core.outcomes import shown
        from sim.interfaces.plotting import plot_run

        if path is not None and Path(path).suffix.lower() not in _FIGURE_SUFFIXES:
            raise ValueError(f"path: {str(path)!r} has no figure suffix; allowed: a file ending "
                             f"in {' or '.join(_FIGURE_SUFFIXES)}")
        if path is not None:
            check_output_file(path)
        plotted = [o.name for o in shown("plot")]
        if isinstance(columns, str):
            columns = (columns,)
        if columns is not None and (not columns or not set(columns) <= set(plotted)):
            raise ValueError(f"columns: {columns!r} cannot be plotted; allowed: a tuple of "
                             f"one or more of {', '.join(plotted)}")
        if self.model.t == 0:
            raise ValueError("no week has run yet: call run() first")
        fig = plot_run(self.results, self.model.event_log, columns,
                       f"{self.scenario.name}, seed {self.model.seed}")
        if path is not None:
            try:
                # A folder of its own, made as save() makes one.
                Path(path).parent.mkdir(parents=True, exist_ok=True)
                fig.savefig(path)
            except BaseException:
                import matplotlib.pyplot as plt

                plt.close(fig)
                raise
            print(f"Figure saved to {path}")
        if show:
            import matplotlib.pyplot as plt

            plt.show()
        elif path is None:
            _tell_how_to_see()
        return fig

    def save(self, out: str | Path, replace: bool = False) -> Path:
        """Write the series (Parquet) and summary with provenance (JSON) into ``out``.

        A folder that already holds a run is kept unless ``replace`` is true, as the command
        line keeps it without ``--force``; a folder holding other files is never replaced.  A
        run changed by hand (``model.p``, an agent's attribute) is saved with its changes listed
        in the provenance, and a warning: its scenario and seed alone no longer redo it.
        """
        if not isinstance(replace, bool):
            raise ValueError(f"replace: {replace!r}; allowed: True or False")
        m = self.model
        if m.t < m.steps_total:
            raise ValueError(f"the run has gone {m.t} of its {m.steps_total} weeks, and a saved "
                             "run is a whole one (its provenance redoes it): run it to its end "
                             "first (.run()), or build it with steps=N for a shorter run")
        out = Path(out)
        check_replaceable(out, results.RUN_FILES, replace, flag="out",
                          force_flag="replace=True")
        if m.changed_by_hand:
            warnings.warn(f"{len(m.changed_by_hand)} changes made by hand, which summary.json "
                          "lists under provenance.changed_by_hand: the scenario and seed alone "
                          "do not redo this run", stacklevel=2)
        return results.write_run(m, out)


def _changes(params: Any) -> dict[str, Any]:
    """``params`` as a dict of dotted names and values, or a one-line refusal."""
    if params is None:
        return {}
    if not isinstance(params, str | bytes):
        try:
            return dict(params)
        except (TypeError, ValueError):
            pass
    raise TypeError(f"params: {cut(repr(params))} is {type(params).__name__}; allowed: a dict of "
                    "dotted names and values, such as {'oversight.punishment': 0.9}")


_FIGURE_SUFFIXES = (".png", ".svg")
# Whether this session was told how to see a figure: once is enough.
_told: list[bool] = []


def _tell_how_to_see() -> None:
    """Say once, outside Jupyter and matplotlib's interactive mode, how to see a figure."""
    import matplotlib

    if _told or "ipykernel" in sys.modules or matplotlib.is_interactive():
        return
    _told.append(True)
    print("blowback: the figure is returned, not shown: s.plot(show=True) opens it in a "
          "window, s.plot(path=\"run.png\") saves it (PNG or SVG)", file=sys.stderr)
