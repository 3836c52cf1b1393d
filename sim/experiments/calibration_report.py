"""What ``blowback calibrate`` writes: the results folder (posterior, tables, charts, pyabc's
database) and the fitted scenario with its posterior beside it."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.core.paths import check_output_file, read_input
from sim.experiments import reference
from sim.experiments.calibration import HISTORY, Calibration, Fit
from sim.experiments.design import Range
from sim.experiments.output import (
    OutputError,
    atomic_folder,
    check_writable,
    results_held,
    save_figure,
    write_atomic,
)
from sim.experiments.posterior import WEIGHT
from sim.experiments.predictive import CHECKED, FITTED, RETRODICTED, SCRIPTED, fitted
from sim.experiments.results import resolved
from sim.experiments.stopping import stops_held
from sim.interfaces.figure_style import NEUTRAL, axis_label, legend_outside, share_axis, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

CHARTS = ("figures", "years", "posterior")
FILES = frozenset({"posterior.csv", "generations.csv", "parameters.csv", "figures.csv",
                   "years.csv", "calibrated.toml", "calibration.txt", "scenario.json", HISTORY,
                   *(f"{n}.{e}" for n in CHARTS for e in ("png", "svg"))})
# What the command's last lines and docs/VALIDATION.md name of the folder, in order.
TABLES = ("posterior.csv", "parameters.csv", "figures.csv", "years.csv", "generations.csv")


def written_text(out: Path, scenario_out: Path | None = None) -> str:
    """The lines that say what the command wrote, every file of the folder named."""
    text = (f"In {out}/: {', '.join(TABLES)}, calibration.txt (as printed), charts "
            f"{', '.join(CHARTS)} (PNG, SVG), {HISTORY} (pyabc), calibrated.toml, scenario.json "
            "(the scenario the fit ran, as it ran), manifest.json")
    if scenario_out is not None:
        text += (f"\nScenario written to {scenario_out}, its posterior to "
                 f"{posterior_path(scenario_out)}")
    return text


# The first line of a scenario file this command wrote: only such a file may be overwritten.
MARK = "# Written by `blowback calibrate"
# The posterior's file beside a scenario written with --scenario-out.
POSTERIOR_SUFFIX = ".posterior.csv"


def scenario_text(result: Fit, beside: Path, posterior: str | None = None) -> str:
    """The fitted scenario as TOML: extends the calibrated scenario (path relative to the folder
    ``beside``, where the file will live) with the posterior medians; names the posterior file
    written beside it, if any."""
    cal = result.calibration
    extends = Path(os.path.relpath(cal.scenario_path, beside.resolve())).as_posix()
    lines = [f"{MARK} {cal.path.as_posix()}`: ABC-SMC on {len(cal.targets)} figures up to "
             f"{reference.FIT_UNTIL}; the values are the posterior medians.",
             "# Rerun that command to regenerate it; do not edit by hand."]
    if posterior:
        lines.append(f"# The posterior: {posterior} (blowback compare --posterior).")
    lines += [f"name = {json.dumps(cal.scenario.name + ', calibrated')}",
              "description = " + json.dumps(f"{cal.scenario.name} with the posterior medians "
                                            f"of {cal.path.name}."),
              f"extends = {json.dumps(extends)}"]
    sections: dict[str, list[str]] = {}
    for name, value in result.best.items():
        section, key = name.split(".", 1)
        sections.setdefault(section, []).append(f"{key} = {value!r}")
    for section, entries in sections.items():
        lines += ["", f"[{section}]", *entries]
    return "\n".join(lines) + "\n"


def check_scenario_out(path: Path, force: bool = True, out: Path | None = None) -> None:
    """Refuse to overwrite a file this command did not write (nor the posterior beside it),
    and one it did unless ``force``; refuse a path in the folder ``out`` the results go to,
    which is written whole and would then hold a file not its own."""
    check_output_file(path)
    check_output_file(posterior_path(path))
    check_writable(Path(path), "--scenario-out")  # written once the fit is done
    if out is not None:
        folder = Path(out).resolve()
        if any(p == folder or folder in p.parents
               for p in (Path(path).resolve(), posterior_path(Path(path)).resolve())):
            raise OutputError(f"--scenario-out: {path} is in the results' folder {out}; choose "
                              "a path outside it, e.g. scenarios/NAME.toml")
    for folder in Path(path).resolve().parents:
        held = results_held(folder)
        if held:
            raise OutputError(f"--scenario-out: {path} is inside a results folder of Blowback's "
                              f"({folder}: {held}), whose files are checked against its "
                              "manifest; choose a path outside it, e.g. scenarios/NAME.toml")
    if path.exists() and not read_input(path).startswith(MARK.encode()):
        raise OutputError(f"{path}: exists and was not written by blowback calibrate; choose "
                          "another --scenario-out")
    if path.exists() and not force:
        raise OutputError(f"{path}: already holds a result (a scenario written by blowback "
                          "calibrate); choose another --scenario-out, or add --force to "
                          "replace it")
    posterior = posterior_path(path)
    if posterior.exists() and not (path.is_file() and posterior.is_file()):
        raise OutputError(f"{posterior}: exists beside a scenario blowback calibrate did not "
                          "write; choose another --scenario-out")


def default_out(cal: Calibration) -> Path:
    """The folder of a calibration named by its file and a short hash of that file's content
    and of the scenario it calibrates: a different calibration never lands in it."""
    key = hashlib.sha256(cal.path.read_bytes() + cal.scenario.content_hash.encode())
    return Path("results") / f"calibrate-{cal.path.stem}-{key.hexdigest()[:8]}"


def posterior_path(scenario_out: Path) -> Path:
    """Where the posterior is written beside a scenario of ``--scenario-out``."""
    return scenario_out.with_name(scenario_out.stem + POSTERIOR_SUFFIX)


USE_COLOURS = {FITTED: "#0072B2", CHECKED: NEUTRAL, RETRODICTED: "#E69F00",
               "predicted": "#CC79A7", SCRIPTED: "#D55E00"}  # Okabe-Ito, one a use


@styled
def plot_figures(figures: pd.DataFrame) -> Figure:
    """Each figure's posterior predictive interval against the reference, as a ratio (log
    scale)."""
    import matplotlib.pyplot as plt

    counts = figures[figures["reference"] > 0].reset_index(drop=True)
    fig, ax = plt.subplots(figsize=(11, 0.25 * len(counts) + 2), layout="constrained")
    y = np.arange(len(counts))[::-1]
    ref = counts["reference"].to_numpy()
    ratios = np.stack([counts[k].to_numpy() / ref for k in ("low", "median", "high")])
    # A ratio of 0 has no place on a log axis: it is drawn at a floor below every other ratio,
    # with a marker of its own, so that it never reads as a small positive ratio.
    floor = 0.5 * min(ratios[ratios > 0].min(initial=1.0), 1.0)
    low, mid, high = np.maximum(ratios, floor)
    err = np.stack([mid - low, high - mid])
    zero = ratios[1] <= 0
    for use, colour in USE_COLOURS.items():
        label = use
        for marker, size, rows in (("o", 3, ~zero), ("<", 5, zero)):
            rows = rows & (counts["use"] == use).to_numpy()
            if rows.any():
                ax.errorbar(mid[rows], y[rows], xerr=err[:, rows], fmt=marker, ms=size,
                            color=colour, capsize=2, label=label)
                label = None
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xscale("log")
    ax.set_yticks(y, [f"{k}{' (at least)' if b == 'at_least' else ''}"
                      for k, b in zip(counts["key"], counts["bound"], strict=True)], fontsize=8)
    ax.set_xlabel("model / reference (ratio, 1 = the public figure): the posterior's runs' "
                  "median and central 90%; figures of 0 left out"
                  + ("; \u25c1 a median of 0, drawn at the left edge" if zero.any() else ""))
    ax.set_ylabel("public figure")
    legend_outside(ax, title="use")
    return fig


@styled
def plot_years(years: pd.DataFrame) -> Figure:
    """Each yearly series: prior and posterior 90% predictive bands and the record's points;
    the years after the fitting window shaded."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    names = list(dict.fromkeys(years["series"]))
    cols = 3
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(15, 3.4 * rows + 1), squeeze=False,
                             layout="constrained")
    for ax, name in zip(axes.flat, names, strict=False):
        s = years[years["series"] == name]
        ax.fill_between(s["year"], s["prior_low"], s["prior_high"], color="0.85",
                        label="prior, 90%")
        ax.fill_between(s["year"], s["low"], s["high"], color="#0072B2", alpha=0.35,
                        label="posterior, 90% predictive")
        ax.plot(s["year"], s["median"], color="#0072B2", lw=1)
        ax.plot(s["year"], s["reference"], "ko", ms=3, label="record")
        ax.axvspan(reference.FIT_UNTIL.year + 0.5, s["year"].max() + 0.5, color="#E69F00",
                   alpha=0.12, label="retrodicted years")
        ax.set_title(reference.READERS[name][0], fontsize=10)
        unit = reference.series_unit(name)
        ax.set_ylabel("share (0–1)" if unit == "share" else f"{unit}, 31 December"
                      if name in reference.STOCKS else f"{unit} per year")
        ax.set_xlabel("year")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if unit == "share":
            share_axis(ax)
        elif not name.startswith("un_victims"):
            ax.set_yscale("symlog", linthresh=10)
    return _finish(fig, axes, len(names))


@styled
def plot_posterior(priors: Mapping[str, Range], post: pd.DataFrame) -> Figure:
    """Each fitted quantity's posterior (weighted histogram of the particles ``post``) within
    its prior range."""
    import matplotlib.pyplot as plt

    cols = 4
    rows = math.ceil(len(priors) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(15, 3 * rows + 1), squeeze=False,
                             layout="constrained")
    for ax, (name, r) in zip(axes.flat, priors.items(), strict=False):
        bins = np.geomspace(r.low, r.high, 21)
        ax.hist(post[name], bins=bins, weights=post[WEIGHT], color="#0072B2", alpha=0.7,
                density=True, label="posterior")
        # Uniform on the log scale: each of the 20 bins holds a twentieth of the prior.
        middles = np.sqrt(bins[:-1] * bins[1:])
        ax.hist(middles, bins=bins, weights=np.full(len(middles), 1.0 / len(middles)),
                color="black", histtype="step", density=True, label="prior")
        ax.set_xscale("log")
        # The unit on a line of its own: a source's rate has a long name and a long unit.
        ax.set_xlabel(axis_label(fitted(name)).replace(" (", "\n(", 1) + ", log scale",
                      fontsize=10)
        ax.set_ylabel("density (per unit)")
    return _finish(fig, axes, len(priors))


def _finish(fig: Figure, axes: np.ndarray, used: int) -> Figure:
    """Blank the panels of a grid beyond the first ``used``; one legend, below the grid."""
    for ax in axes.flat[used:]:
        ax.set_visible(False)
    legend_outside(fig)
    return fig


def write(result: Fit, out: Path) -> Path:
    """Write the posterior, the tables and charts, pyabc's database and the fitted scenario,
    atomically."""
    with atomic_folder(out, FILES, f"a calibration of {result.calibration.path.name}") as tmp:
        for name, table in (("posterior.csv", result.posterior),
                            ("generations.csv", result.generations),
                            ("parameters.csv", result.parameters),
                            ("figures.csv", result.figures), ("years.csv", result.years)):
            table.to_csv(tmp / name, index=False)
        (tmp / "calibration.txt").write_text(result.text() + "\n")
        (tmp / "calibrated.toml").write_text(scenario_text(result, out, "posterior.csv"))
        # calibrated.toml extends the scenario by its path: this pins what that file held.
        (tmp / "scenario.json").write_text(
            json.dumps(resolved(result.calibration.scenario), indent=2) + "\n")
        shutil.copyfile(result.history, tmp / HISTORY)
        save_figure(plot_figures(result.figures), tmp, "figures")
        save_figure(plot_years(result.years), tmp, "years")
        save_figure(plot_posterior(result.calibration.priors, result.posterior), tmp,
                    "posterior")
    return Path(out)


def write_scenario(result: Fit, path: Path, written: list[Path] | None = None) -> None:
    """Write the fitted scenario to ``path`` and its posterior beside it, each replaced whole,
    never half-written, and named in ``written`` once both are.  A stop (Ctrl-C, SIGTERM) that
    comes meanwhile waits for both (milliseconds): a scenario left beside a posterior it was not
    fitted with would draw from one fit and run the medians of another, and a posterior left
    alone makes the same command refuse the path."""
    check_scenario_out(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    posterior = posterior_path(path)
    text = scenario_text(result, path.parent, posterior.name)
    with stops_held():
        try:
            # The scenario is written whole while the posterior waits, whole, beside its place,
            # and the posterior is renamed into place after it: a write that fails (a full disk)
            # leaves the earlier pair as it was, not one of them new.
            write_atomic(posterior, lambda tmp: result.posterior.to_csv(tmp, index=False),
                         seal=lambda _: write_atomic(path, lambda tmp: tmp.write_text(text)))
        except OSError as err:
            raise OutputError(f"--scenario-out: {err.filename or path}: cannot write "
                              f"({err.strerror or err}); {path.name} and {posterior.name} are "
                              "left as they were") from None
        if written is not None:
            written += [path, posterior]
