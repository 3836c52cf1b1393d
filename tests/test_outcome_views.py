"""Every view of a run's outcomes reads them from the one registry (sim.core.outcomes): the
figures of a run and of a comparison show its ``plot`` outcomes, in its order and with its titles.
(The comparison's table is checked in test_cli.py, the dashboard's charts in test_dashboard.py.)"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.core.outcomes import OUTCOMES, shown
from sim.interfaces.plotting import plot_comparison, plot_run


@pytest.fixture
def weeks() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({o.name: rng.random(30) for o in OUTCOMES})
    return frame.assign(date=pd.date_range("2022-01-03", periods=30, freq="7D"))


def test_a_runs_figure_shows_the_plotted_outcomes_in_registry_order(weeks):
    fig = plot_run(weeks)
    assert [ax.get_ylabel() for ax in fig.axes] == [o.title for o in shown("plot")]
    plt.close(fig)


def test_a_comparison_figure_shows_the_plotted_outcomes_and_nothing_else(weeks):
    fig = plot_comparison({"a": [weeks, weeks], "b": [weeks]})
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles == [o.title for o in shown("plot")]
    plt.close(fig)


def test_flows_are_shown_per_quarter(weeks):
    flow = next(o for o in shown("plot") if o.flow)
    fig = plot_run(weeks, columns=[flow.name])
    drawn = fig.axes[0].lines[0].get_ydata()
    assert drawn[20] == pytest.approx(weeks[flow.name].to_numpy()[8:21].sum())
    plt.close(fig)
