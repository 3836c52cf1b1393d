"""The `series` figure of `blowback analyse`: read a file of the sweep's series at a time, only
the columns it draws, and drawing what the whole series of the runs give."""

from __future__ import annotations

import os
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from conftest import shrunk

from sim.core.outcomes import shown
from sim.experiments import store
from sim.experiments.analysis import analyse, load, series_seeds
from sim.experiments.sweep import SHARD_SECONDS_ENV, load_series
from sim.interfaces.cli import main
from sim.interfaces.plotting import plot_comparison, seeds_of


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """Two regimes at two design points, three seeds, each run's series in a shard of its own
    (so that the figure is read from many files)."""
    tmp = tmp_path_factory.mktemp("series")
    for name in ("contractor_unchecked", "contractor_accountable"):
        shrunk(tmp, name, communities=50)
    (tmp / "exp.toml").write_text(
        'name = "tiny"\nscenarios = ["contractor_unchecked.toml", "contractor_accountable.toml"]\n'
        'seeds = 3\nsteps = 60\nkeep = "series"\n[vary]\nsampler = "factorial"\n'
        '"oversight.punishment" = [0.2, 0.8]\n')
    with mock.patch.dict(os.environ, {SHARD_SECONDS_ENV: "0"}):
        assert main(["sweep", str(tmp / "exp.toml"), "--out", str(tmp / "sw"), "--jobs", "1"]) == 0
    assert len(list((tmp / "sw" / "series").glob("*.parquet"))) > 1
    return tmp / "sw"


def _whole(runs: pd.DataFrame, series: pd.DataFrame) -> dict[str, list[pd.DataFrame]]:
    """Each group's runs' whole series, one frame a run, as the figure was drawn from the
    folder's series loaded at once: in the order of their ids, cut to the shortest run."""
    group_of = runs.set_index("run_id")["group"]
    frames: dict[str, list[pd.DataFrame]] = {}
    for run_id, frame in series.groupby("run_id", sort=False):
        if run_id in group_of.index:
            frames.setdefault(group_of[run_id], []).append(frame.reset_index(drop=True))
    frames = {g: frames[g] for g in dict.fromkeys(runs["group"]) if g in frames}
    shortest = min(len(f) for fs in frames.values() for f in fs)
    return {g: [f.iloc[:shortest] for f in fs] for g, fs in frames.items()}


def _plotted(fig) -> list[np.ndarray]:
    """The numbers a figure draws: its lines, bands and bars."""
    drawn = []
    for ax in fig.axes:
        drawn += [np.asarray(line.get_xydata()) for line in ax.lines]
        drawn += [np.asarray(path.vertices) for c in ax.collections for path in c.get_paths()]
        drawn += [np.asarray(bar.get_bbox().get_points()) for bar in ax.patches]
    return drawn


@pytest.mark.parametrize("cut", [False, True])
def test_series_figure_draws_what_the_whole_series_give(sweep, tmp_path, cut):
    """Per group, the same numbers as from every run's series loaded at once, in the same order;
    with ``cut``, one run's series shorter than the others', so every run is cut to it."""
    runs = analyse(load(sweep)).runs
    series = load_series(sweep)
    drawn = series_seeds(sweep, runs)
    if cut:
        # One run's series 41 weeks long, as a run that ended early would leave it.
        short = runs["run_id"].iloc[0]
        end = series.loc[series["run_id"] == short, "step"].min() + 41
        series = series[(series["run_id"] != short) | (series["step"] < end)]
        with mock.patch.object(store, "series_by_file", _cut_files(short, end)):
            drawn = series_seeds(sweep, runs)
    whole = _whole(runs, series)
    assert list(drawn) == list(whole) and len(whole) == 4
    for group, frames in whole.items():
        expected, got = seeds_of(frames), drawn[group]
        assert got.count == expected.count == len(frames)
        pd.testing.assert_series_equal(got.dates, expected.dates, check_exact=True)
        assert got.levels.keys() == expected.levels.keys()
        for name, stack in expected.levels.items():
            assert np.array_equal(got.levels[name], stack)
        for name, per_year in expected.per_year.items():
            pd.testing.assert_frame_equal(got.per_year[name], per_year, check_exact=True)
    before, after = _plotted(plot_comparison(whole)), _plotted(plot_comparison(drawn))
    assert len(before) == len(after) > 0
    assert all(np.array_equal(a, b, equal_nan=True) for a, b in zip(before, after, strict=True))


def _cut_files(short: str, end: int):
    """``series_by_file`` with run ``short``'s series cut before week ``end``."""
    read = store.series_by_file

    def cut(path, columns=None):
        for frame in read(path, columns):
            yield frame[(frame["run_id"] != short) | (frame["step"] < end)]
    return cut


def test_analyse_reads_a_file_of_series_at_a_time_and_only_the_columns_drawn(sweep, tmp_path):
    """``blowback analyse`` of a sweep that kept its series never holds more than one file's
    series, nor a column of them the figure does not draw."""
    drawn = {"run_id", "step", "date", *(o.name for o in shown("plot"))}
    reads = []
    scan = store._scan

    def recorded(path, chosen, folder, columns):
        reads.append((folder, len(chosen.files), columns))
        return scan(path, chosen, folder, columns)

    with mock.patch.object(store, "_scan", recorded):
        assert main(["analyse", str(sweep), "--out", str(tmp_path / "analysis")]) == 0
    series = [(files, columns) for folder, files, columns in reads if folder == "series"]
    assert series, "the series figure read no series"
    assert all(files == 1 for files, _ in series)
    assert all(columns is not None and set(columns) <= drawn for _, columns in series)
    assert (tmp_path / "analysis" / "series.png").stat().st_size > 5_000


def test_series_read_a_file_at_a_time_beside_a_compaction_give_every_run_once(sweep, tmp_path):
    """A --compact beside the reader removes the shards it merged: the files not yet read are
    read from the merged file, the runs already given are not given again."""
    import shutil

    from sim.experiments import compaction

    copy = tmp_path / "sw"
    shutil.copytree(sweep, copy)
    whole = load_series(copy)
    frames = []
    for frame in store.series_by_file(copy, ["civilian_deaths"]):
        if not frames:
            assert compaction.compact(copy).into is not None
        frames.append(frame)
    read = pd.concat(frames).sort_values(["run_id", "step"], kind="stable")
    pd.testing.assert_frame_equal(read.reset_index(drop=True),
                                  whole[["run_id", "step", "civilian_deaths"]], check_exact=True)
