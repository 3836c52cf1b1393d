"""Every view of a run's outcomes reads them from the one registry (sim.core.outcomes): the
figures of a run and of a comparison show its ``plot`` outcomes, in its order and with its labels.
(The comparison's table is checked in test_cli.py, the dashboard's charts in test_dashboard.py.)"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from sim.core.outcomes import OUTCOMES, shown
from sim.interfaces.figure_style import axis_label
from sim.interfaces.plotting import plot_comparison, plot_run, yearly


@pytest.fixture
def weeks() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({o.name: rng.random(30) for o in OUTCOMES})
    return frame.assign(date=pd.date_range("2022-01-03", periods=30, freq="7D"))


def test_a_runs_figure_shows_the_plotted_outcomes_in_registry_order(weeks):
    fig = plot_run(weeks)
    # A label is broken into lines that fit its panel: the same words.
    assert [" ".join(ax.get_ylabel().split()) for ax in fig.axes] == [
        axis_label(o, per_year=o.flow) for o in shown("plot")]
    plt.close(fig)


def test_a_comparison_figure_shows_the_plotted_outcomes_and_nothing_else(weeks):
    fig = plot_comparison({"a": [weeks, weeks], "b": [weeks]})
    labels = [ax.get_ylabel() for ax in fig.axes if ax.get_visible()]
    assert labels == [axis_label(o, per_year=o.flow) for o in shown("plot")]
    plt.close(fig)


def test_flows_are_shown_per_calendar_year(weeks):
    flow = next(o for o in shown("plot") if o.flow)
    fig = plot_run(weeks, columns=[flow.name])
    drawn = [bar.get_height() for bar in fig.axes[0].patches]
    assert drawn == pytest.approx(yearly(weeks, flow).to_list())
    plt.close(fig)
