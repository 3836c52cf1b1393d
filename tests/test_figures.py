"""Figures a seminar can read and tables that fit a terminal.

Every module that draws uses the one style (sim.interfaces.figure_style): Okabe-Ito colours, a
distinct look per regime even past eight, every axis labelled with its unit, legends outside the
data, deaths per calendar year, shares on 0-1 axes.  Every table a command prints fits 100
columns, and ``--wide`` prints the wide form."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, blowback
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num

from sim.core.outcomes import BY_NAME, OUTCOMES, shown
from sim.core.parameters import BY_NAME as PARAMETERS
from sim.experiments import calibration_report, claims_report, discovery, reference
from sim.experiments.analysis import plot_distributions, plot_tradeoff
from sim.experiments.calibration import Fit
from sim.experiments.design import Range
from sim.experiments.output import DPI, save_figure
from sim.experiments.posterior import WEIGHT
from sim.experiments.sensitivity import Sensitivity, plot_indices, plot_worse
from sim.interfaces.figure_style import OKABE_ITO, axis_label, looks
from sim.interfaces.plotting import plot_comparison, plot_run, yearly

RNG = np.random.default_rng(7)
DEATHS = BY_NAME["civilian_deaths"]


def _weeks(n: int = 120) -> pd.DataFrame:
    frame = pd.DataFrame({o.name: RNG.random(n) * (1 if o.share else 50) for o in OUTCOMES})
    return frame.assign(date=pd.date_range("2022-01-03", periods=n, freq="7D"))


def _runs(groups: int) -> pd.DataFrame:
    rows = [{"group": f"regime {g}", "scenario": f"regime {g}", "seed": s,
             **{o.column: RNG.random() for o in OUTCOMES if o.column}}
            for g in range(groups) for s in range(3)]
    return pd.DataFrame(rows)


def _figures() -> dict[str, plt.Figure]:
    """One of each kind of figure, drawn from made-up results."""
    indices = pd.DataFrame([{"scenario": sc, "outcome": out, "parameter": p, "S1": 0.2,
                             "S1_conf": 0.05, "ST": 0.3, "ST_conf": 0.05}
                            for sc in ("a", "b") for out in ("deaths", "insurgents")
                            for p in ("x", "y")])
    worse = pd.DataFrame({"scenario": "a", "other": "b", "outcome": ["deaths", "insurgents"],
                          "share_worse": [0.2, 0.7], "share_worse_runs": [0.3, 0.6]})
    share = next(k for k in reference.READERS if "share" in k)
    years = pd.DataFrame([{"series": s, "year": y, "prior_low": 1.0, "prior_high": 90.0,
                           "low": 5.0, "high": 40.0, "median": 20.0, "reference": 15.0}
                          for s in ("un_civilians_killed", share)
                          for y in (2019, 2020)])
    years.loc[years["series"] == share, ["prior_high", "high", "median",
                                                      "reference"]] = [0.9, 0.5, 0.3, 0.4]
    figures = pd.DataFrame({"key": ["a:2019", "b:2020"], "bound": ["about", "at_least"],
                            "reference": [10.0, 20.0], "median": [12.0, 15.0],
                            "low": [8.0, 9.0], "high": [16.0, 30.0],
                            "use": ["fitted", "retrodicted"]})
    priors = {name: Range(0.1, 10.0) for name in FITTED}
    posterior = pd.DataFrame({name: RNG.uniform(0.5, 5, 50) for name in FITTED}
                             | {WEIGHT: np.full(50, 1 / 50)})
    return {"comparison": plot_comparison({"a": [_weeks(), _weeks()], "b": [_weeks()]}),
            "run": plot_run(_weeks(), [("2022-06-01", "event")]),
            "distributions": plot_distributions(_runs(3)), "tradeoff": plot_tradeoff(_runs(18)),
            "indices": plot_indices(indices), "worse": plot_worse(worse),
            "calibration figures": calibration_report.plot_figures(figures),
            "years": calibration_report.plot_years(years),
            "posterior": calibration_report.plot_posterior(priors, posterior),
            "discovery": discovery.plot([_discovered()])}


# A fitted parameter of the model, a source's detection rate and its Burkina scale.
FITTED = ("insurgents.recruitment", "detection.acled.state", "detection.acled.burkina_full")
# A design over two parameters (in 1/week and 0-1) and a switch, not worse in one corner.
DESIGNED = ("insurgents.recruitment", "oversight.punishment", "contractor.transparent")


def _discovered() -> discovery.Discovery:
    x = pd.DataFrame(np.random.default_rng(7).uniform(size=(400, 3)), columns=list(DESIGNED))
    corner = (x[DESIGNED[0]] < 0.3) & (x[DESIGNED[1]] > 0.6)
    return discovery.discover(x, "one", "two", pd.DataFrame({"deaths": np.where(corner, -1, 1)}))


@pytest.fixture(scope="module")
def drawn():
    figures = _figures()
    for fig in figures.values():
        fig.canvas.draw()
    yield figures
    for fig in figures.values():
        plt.close(fig)


def test_the_palette_is_okabe_ito_and_eighteen_regimes_each_look_different():
    assert len(set(OKABE_ITO)) == 8 and "#E69F00" in OKABE_ITO and "#0072B2" in OKABE_ITO
    names = [f"regime {k}" for k in range(18)]
    style = looks(names)
    assert len({(s.colour, s.marker, s.line) for s in style.values()}) == 18
    assert looks(names[:5]) == {n: style[n] for n in names[:5]}  # the same look in every figure


def test_every_module_that_draws_uses_the_style():
    drawing = [p for p in (ROOT / "sim").rglob("*.py")
               if "dashboard" not in p.parts and "plt.subplots(" in p.read_text()]
    assert len(drawing) >= 5
    for path in drawing:
        text = path.read_text()
        assert "figure_style import" in text, path
        assert text.count("@styled") == text.count("plt.subplots("), path
        assert "tab:" not in text and "tight_layout" not in text, path


def test_every_axis_states_what_it_shows_and_legends_stay_off_the_data(drawn):
    for name, fig in drawn.items():
        axes = [ax for ax in fig.axes if ax.get_visible()]
        # Stacked panels sharing x name it once, under the lowest; panels side by side sharing
        # y name it at the left of each row.
        for ax in axes:
            shared = ax.get_shared_x_axes().get_siblings(ax)
            assert any(a.get_xlabel() for a in shared), (name, ax.get_title())
            shared = ax.get_shared_y_axes().get_siblings(ax)
            assert any(a.get_ylabel() for a in shared), (name, ax.get_title())
        boxes = [ax.get_window_extent() for ax in axes]
        legends = fig.legends + [ax.get_legend() for ax in axes if ax.get_legend()]
        for legend in legends:
            frame = legend.get_window_extent()
            assert not any(frame.overlaps(box) for box in boxes), name


def test_parameter_axes_name_the_parameter_and_its_unit(drawn):
    assert [ax.get_xlabel() for ax in drawn["posterior"].axes if ax.get_visible()] == [
        "insurgents.recruitment\n(1/week), log scale",
        "detection.acled.state\n(recorded per model death), log scale",
        "detection.acled.burkina_full\n(deaths/week), log scale"]
    box = drawn["discovery"].axes[0]
    assert (box.get_xlabel(), box.get_ylabel()) == ("insurgents.recruitment (1/week)",
                                                    "oversight.punishment (probability)")
    switch = PARAMETERS["contractor.transparent"]
    assert axis_label(switch) == "contractor.transparent (0 = no, 1 = yes)"
    for param in PARAMETERS.values():  # every parameter an axis may show states a unit
        label = axis_label(param)
        assert re.fullmatch(rf"{re.escape(param.name)} \([^()]+\)", label), label
        assert not label.endswith("(-)"), label


def test_the_comparison_draws_deaths_per_calendar_year_and_shares_on_0_to_1(drawn):
    fig = drawn["comparison"]
    panels = dict(zip([o.name for o in shown("plot")], fig.axes, strict=False))
    deaths = panels[DEATHS.name]
    assert deaths.get_ylabel() == "civilian deaths per year"
    assert "per calendar year" in deaths.get_title()
    heights = sorted(round(bar.get_height(), 6) for bar in deaths.patches)
    assert len(yearly(_weeks(), DEATHS)) == len(heights) / 2  # one bar a year and scenario
    for o in shown("plot"):  # and the band's label names what it is
        if o.share:
            assert panels[o.name].get_ylim() == (0, 1), o.name
    assert "middle 80% of seeds" in " ".join(t.get_text() for t in fig.legends[0].get_texts())


@pytest.mark.parametrize("weeks", [26, 60, 520])
def test_the_comparisons_yearly_bars_are_labelled_by_their_years(weeks):
    """A year's bars stood over month ticks ("Mar", "May", ...) in a run of a year or two, as
    if each bar were a month: their axis is labelled by year, under the year's bars."""
    fig = plot_comparison({"a": [_weeks(weeks)], "b": [_weeks(weeks)]})
    fig.canvas.draw()
    ax = next(ax for ax in fig.axes if ax.get_title().startswith(f"{DEATHS.label} per calendar"))
    ticks = [(t.get_text(), x) for t, x in zip(ax.get_xticklabels(), ax.get_xticks(),
                                               strict=True) if t.get_text()]
    plt.close(fig)
    assert ticks and all(re.fullmatch(r"\d{4}", text) for text, _ in ticks)
    for text, x in ticks:  # in the middle of its year
        assert abs(x - date2num(pd.Timestamp(int(text), 7, 2))) < 1


def test_counts_of_millions_read_as_plain_numbers_not_as_a_multiple_written_above():
    """Two million displaced read "2,000,000" on the axis, not "2.0" under a "1e6" that a
    reader of a report misses; the box plots' count axes too."""
    def millions() -> pd.DataFrame:
        weeks = _weeks()
        return weeks.assign(displaced=weeks["displaced"] * 1e5)

    runs = _runs(3)
    runs["civilian_deaths_total"] = runs["civilian_deaths_total"] * 2e6
    figures = [plot_comparison({"a": [millions()], "b": [millions()]}),
               plot_run(millions(), []), plot_distributions(runs)]
    for fig in figures:
        fig.canvas.draw()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                assert axis.get_offset_text().get_text() == "", (ax.get_title(), ax.get_ylabel())
        labels = [t.get_text() for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)
                  for t in axis.get_ticklabels()]
        assert any(re.fullmatch(r"\d{1,3}(,\d{3}){2}", label) for label in labels), labels
        plt.close(fig)


def test_yearly_sums_each_calendar_years_days():
    """A week across the new year is shared by its days: every whole year holds its 365 or 366
    days' worth, none 53 weeks, and nothing is lost."""
    frame = _weeks(520)
    per_year = yearly(frame.assign(**{DEATHS.name: 7.0}), DEATHS)
    assert per_year.to_dict() == pytest.approx(
        {2022: 363, 2023: 365, 2024: 366, 2025: 365, 2026: 365, 2027: 365, 2028: 366,
         2029: 365, 2030: 365, 2031: 355})
    assert yearly(frame, DEATHS).sum() == pytest.approx(frame[DEATHS.name].sum())


def _widest(text: str) -> int:
    return max(len(line) for line in text.splitlines())


def test_reports_fit_100_columns_unless_wide():
    long = "x" * 30
    table = pd.DataFrame([{"key": f"claim_{k}", "holds": k % 2 == 0, "estimate": 0.5,
                           "low": 0.1, "high": 0.9, "seeds": 20,
                           "statistic": f"a long statistic {long}",
                           "threshold": f"a long threshold {long} {long}", "failed": "",
                           "detail": f"many = 1; details = 2; {long} {long} {long}"}
                          for k in range(2)])
    assert _widest(claims_report.text(table)) <= 100 < _widest(claims_report.text(table, wide=True))
    sens = Sensitivity(pd.DataFrame(columns=["scenario", "outcome"]),
                       pd.DataFrame({"outcome": ["deaths"], "share_differs": [0.1],
                                     "modal_ranking": [" > ".join([long] * 4)]}),
                       pd.DataFrame(), [])
    assert _widest(sens.text()) <= 100 < _widest(sens.text(wide=True))
    fit = _fit()
    assert _widest(fit.text()) <= 100 < _widest(fit.text(wide=True))


def _fit() -> Fit:
    cal = SimpleNamespace(name="mali", population=20, targets=[1, 2], predictive_draws=10,
                          ranges={}, path=Path("scenarios/calibration/mali.toml"), seed=1)
    parameters = pd.DataFrame({"name": ["conduct.penalty"], "median": [0.5], "low": [0.1],
                               "high": [0.9], "prior_low": [0.01], "prior_high": [1.0]})
    figures = pd.DataFrame({"key": ["un_civilians_killed:2019"], "use": ["fitted"],
                            "bound": ["about"], "median": [1200.0], "low": [800.0],
                            "high": [1500.0], "prior_low": [10.0], "prior_high": [90000.0],
                            "reference": [1100.0], "verdict": ["matches"],
                            "prior_verdict": ["matches"]})
    generations = pd.DataFrame({"generation": [0, 1], "simulations": [40, 40],
                                "epsilon": [2.0, 1.0]})
    return Fit(cal, pd.DataFrame(), generations, parameters, figures, pd.DataFrame(),
               Path("history.db"))


def _tables(stdout: str) -> str:
    """What a command printed before the line that names its files."""
    return stdout[: stdout.index("\nFigure")]


def test_compare_and_analyse_print_tables_that_fit_and_wide_on_request(tmp_path, capsys):
    files = []
    for name in ("base", "contractor_unchecked"):
        files.append(tmp_path / f"{name}.toml")
        files[-1].write_text(f'extends = "{ROOT / "scenarios" / name}.toml"\n'
                             "[map]\ncommunities = 200\n")
    # One worker: starting more takes seconds, and the tables do not depend on their number.
    status, out, err = blowback(capsys, "compare", *map(str, files), "--seeds", "2", "--steps",
                                "3", "--jobs", "1", "--out", str(tmp_path / "c"))
    assert status == 0, err
    assert _widest(_tables(out)) <= 100 and "mean [95% interval] over the seeds" in out
    assert "totals over the run (3 weeks): civilian deaths" in out
    status, out, err = blowback(capsys, "analyse", str(tmp_path / "c"))
    assert status == 0, err
    assert _widest(_tables(out)) <= 100
    # A compare's folder keeps no run's weeks: the heading does not guess them.
    assert "totals over the run: civilian deaths" in out
    status, out, err = blowback(capsys, "analyse", str(tmp_path / "c"), "--wide", "--out",
                                str(tmp_path / "wide"))
    assert status == 0, err
    assert re.search(r"^scenario .* state territory$", out, re.MULTILINE)
    assert _widest(_tables(out)) > 100
    # A command saves its figures and closes them: a sweep's many reports keep none in memory.
    assert not plt.get_fignums()


def test_the_boxes_run_down_in_the_order_of_the_tables_rows(drawn):
    """The first group's box is on top, as its row is first in the table; the panels share
    their groups, named once, left of each row."""
    named = [ax for ax in drawn["distributions"].axes if ax.get_yticklabels()]
    assert [ax.get_subplotspec().colspan.start for ax in named] == [0, 0]
    for ax in named:
        ticks = sorted(ax.get_yticklabels(), key=lambda t: -ax.transData.transform(
            (0, t.get_position()[1]))[1])
        assert [t.get_text() for t in ticks] == ["regime 0", "regime 1", "regime 2"]


def test_the_boxes_say_whether_each_is_a_regime_or_a_regime_at_a_design_point(drawn):
    assert "one box per regime (" in drawn["distributions"].get_suptitle()
    runs = _runs(2).assign(group=lambda df: df["scenario"] + ", punishment=0.2")
    fig = plot_distributions(runs)
    assert "one box per regime and design point" in fig.get_suptitle()
    assert fig.axes[0].get_ylabel() == "regime and design point"
    plt.close(fig)


def test_the_comparison_says_how_many_seeds_each_mean_is_over(drawn):
    """Regime a has two seeds and b one: the title says 1–2, not the first regime's 2."""
    assert "mean over 1–2 seeds" in drawn["comparison"].get_suptitle()


# A sweep's groups: a scenario and its design point, the longest names a figure is given.
LONG = [f"Contractor, {kind}, punishment={p}, discrimination={d}"
        for kind in ("unchecked", "accountable") for p in (0.2, 0.8) for d in (0.3, 0.6)]


def _long_named() -> dict[str, plt.Figure]:
    """The figures that name groups, each given the long names of a sweep's groups."""
    runs = pd.DataFrame([{"group": g, "scenario": g, "seed": s,
                          **{o.column: RNG.random() for o in OUTCOMES if o.column}}
                         for g in LONG for s in range(3)])
    indices = pd.DataFrame([{"scenario": sc, "outcome": out, "parameter": p, "ST": 0.3,
                             "ST_conf": 0.05} for sc in LONG[:4]
                            for out in ("deaths", "insurgents") for p in ("x", "y")])
    worse = pd.DataFrame({"scenario": LONG[0], "other": LONG[1:3], "outcome": "deaths",
                          "share_worse": [0.2, 0.7], "share_worse_runs": [0.3, 0.6]})
    x = pd.DataFrame(np.random.default_rng(7).uniform(size=(200, 3)), columns=list(DESIGNED))
    found = discovery.discover(x, LONG[0], LONG[1],
                               pd.DataFrame({"deaths": np.where(x[DESIGNED[0]] < 0.3, -1, 1)}))
    # As `blowback sensitivity` gives them: its three outcomes, each panel's bars the shipped
    # design's parameters, an index's whisker past 1.
    design = ("insurgents.recruitment", "community.harm_sensitivity", "conduct.penalty",
              "relations.casualty_penalty")
    real = pd.DataFrame([{"scenario": sc, "outcome": o.label, "parameter": p, "ST": 0.4 * k,
                          "ST_conf": 0.3 * k} for sc in (LONG[0], LONG[1], f"{LONG[0]} - x")
                         for o in shown("ranking") for k, p in enumerate(design)])
    return {"distributions": plot_distributions(runs), "tradeoff": plot_tradeoff(runs),
            "comparison": plot_comparison({g: [_weeks(60)] for g in LONG}),
            "indices": plot_indices(indices), "worse": plot_worse(worse),
            "discovery": discovery.plot([found]), "indices of a design": plot_indices(real)}


def _drawn_texts(fig: plt.Figure):
    """Every text the figure draws: titles, labels, legends, and the tick labels in view."""
    yield from fig.texts
    for legend in fig.legends + [ax.get_legend() for ax in fig.axes if ax.get_legend()]:
        yield from [*legend.get_texts(), legend.get_title()]
    for ax in (a for a in fig.axes if a.get_visible()):
        yield from [ax.title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        for axis in (ax.xaxis, ax.yaxis):
            low, high = sorted(axis.get_view_interval())
            for locs, ticks in ((axis.get_majorticklocs(), axis.get_major_ticks),
                                (axis.get_minorticklocs(), axis.get_minor_ticks)):
                axis.get_ticklabels(minor=ticks == axis.get_minor_ticks)  # brings them up to date
                for tick in ticks(len(locs)):
                    if low <= tick.get_loc() <= high:
                        yield from (t for t in (tick.label1, tick.label2) if t.get_visible())


@pytest.mark.parametrize("figures", [_figures, _long_named], ids=["short names", "long names"])
def test_every_text_lies_within_the_saved_image_and_the_data_keep_their_room(figures,
                                                                              tmp_path):
    """A sweep's long group names neither push a label, a title or a legend off the image nor
    squeeze a panel's data to a sliver."""
    off, squeezed = [], []
    for name, fig in figures().items():
        save_figure(fig, tmp_path, name.replace(" ", "_"), ("png",))
        fig.set_dpi(DPI)  # as saved, in the layout saving fixed
        renderer = FigureCanvasAgg(fig).get_renderer()  # saving closed the figure's own
        fig.draw(renderer)
        image = fig.bbox.padded(1)  # a pixel's rounding
        for text in _drawn_texts(fig):
            if text.get_visible() and text.get_text():
                box = text.get_window_extent(renderer)
                if not all(image.containsx(x) for x in (box.x0, box.x1)) or not all(
                        image.containsy(y) for y in (box.y0, box.y1)):
                    off.append((name, text.get_text()))
        for ax in (a for a in fig.axes if a.get_visible()):
            width, height = ax.get_position().size * fig.get_size_inches()
            if width < 2.5 or height < 1.5:
                squeezed.append((name, ax.get_title(), round(width, 1), round(height, 1)))
    assert not off and not squeezed


def _discovered_on_small_ranges() -> dict[str, plt.Figure]:
    """Scenario discovery over parameters of small values, as the shipped design's per-abuse
    legitimacy terms (0 to 0.002), whose tick labels are long."""
    names = ("oversight.justice_gain", "oversight.impunity_cost", "conduct.penalty")
    x = pd.DataFrame(np.random.default_rng(7).uniform(size=(300, 3)) * [0.002, 0.001, 12],
                     columns=list(names))
    corner = (x[names[0]] < 0.0007) & (x[names[1]] > 0.0006)
    found = discovery.discover(x, "one", "two",
                               pd.DataFrame({"deaths": np.where(corner, -1, 1)}))
    return {"discovery on small ranges": discovery.plot([found])}


@pytest.mark.parametrize("figures", [_figures, _long_named, _discovered_on_small_ranges],
                         ids=["short names", "long names", "small ranges"])
def test_no_two_tick_labels_of_an_axis_overlap(figures, tmp_path):
    """Crowded ticks ran together as saved: 0.00000.00025.00050 under a discovery panel."""
    crowded = []
    for name, fig in figures().items():
        save_figure(fig, tmp_path, name.replace(" ", "_"), ("png",))
        fig.set_dpi(DPI)
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        for ax in (a for a in fig.axes if a.get_visible()):
            for axis in (ax.xaxis, ax.yaxis):
                low, high = sorted(axis.get_view_interval())
                boxes = [t.label1.get_window_extent(renderer) for t in axis.get_major_ticks()
                         if low <= t.get_loc() <= high and t.label1.get_visible()
                         and t.label1.get_text()]
                if any(a.overlaps(b) for a, b in itertools.pairwise(boxes)):
                    crowded.append((name, ax.get_title()[:40], axis.axis_name))
    assert not crowded


def test_the_discovery_legend_tells_its_two_kinds_of_cases_apart():
    """Panels whose cases are the points not worse and panels whose cases are the weakest tenth
    share one legend: the two kinds had the same orange dot."""
    x = pd.DataFrame(np.random.default_rng(7).uniform(size=(300, 3)), columns=list(DESIGNED))
    corner = (x[DESIGNED[0]] < 0.3) & (x[DESIGNED[1]] > 0.6)
    gaps = pd.DataFrame({"deaths": np.where(corner, -1.0, 1.0),
                         "insurgents": np.where(x.index < 3, -1.0, 1.0 + x[DESIGNED[0]])})
    fig = discovery.plot([discovery.discover(x, "one", "two", gaps)])
    markers = {text.get_text(): handle.get_paths()[0].vertices.round(3).tobytes()
               for text, handle in zip(fig.legends[0].get_texts(),
                                       fig.legends[0].legend_handles, strict=True)}
    assert {discovery.NOT_WORSE, discovery.WEAKEST_CASES} <= set(markers)
    assert markers[discovery.NOT_WORSE] != markers[discovery.WEAKEST_CASES]
    plt.close(fig)


def test_the_trade_off_plane_names_its_groups_as_the_box_plots_do():
    """A sweep's groups are a regime at one design point: the plane's legend and title call
    them so, as the distributions' do, and a comparison's are regimes."""
    sweep = _runs(2).assign(scenario="regime")
    for runs, kind in ((sweep, "regime and design point"), (_runs(2), "regime")):
        fig = plot_tradeoff(runs)
        legend = fig.axes[0].get_legend() or fig.legends[0]
        assert legend.get_title().get_text() == kind
        assert "regime" not in fig.axes[0].get_title()
        plt.close(fig)
