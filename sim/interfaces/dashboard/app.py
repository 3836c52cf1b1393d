"""The seminar dashboard: Solara components over a
:class:`~sim.interfaces.dashboard.session.Session`.

``blowback dashboard`` serves :func:`Page`; in a notebook, ``Dashboard("scenarios/x.toml")``
as the last expression of a cell shows the same page.  Controls mirror NetLogo's and Mesa's
SolaraViz (play, pause, step, reset), but a lever moved here changes the running model at
once instead of rebuilding it, and two regimes can run side by side on one seed.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from html import escape
from pathlib import Path

import solara
from solara.alias import rv

from sim.core import outcomes
from sim.core.scenario import Scenario, ScenarioError
from sim.core.shipped import scenarios_folder
from sim.interfaces.dashboard import charts, page_values
from sim.interfaces.dashboard import map as world_map
from sim.interfaces.dashboard.computing import (
    SPEEDS,
    computing_text,
    use_advance,
    use_play,
    use_preparation,
)
from sim.interfaces.dashboard.levers import INJECTIONS, LEVERS, PRESENCE, Lever
from sim.interfaces.dashboard.page_style import PAGE_CSS
from sim.interfaces.dashboard.page_values import offered, switch
from sim.interfaces.dashboard.server import (
    PREPARING,
    SEED_ENV,
    page_title,
    served_scenario,
)
from sim.interfaces.dashboard.session import (
    BOTH,
    RIGHT,
    SIDES,
    Run,
    Session,
    choice_of,
    counterpart,
    log_line,
    scenario_choices,
)

SHIPPED = scenarios_folder()
LOG_LINES = 14
# The buttons that advance the runs, and the weeks each runs: a week, or a year at once.
ADVANCE = {"Step": 1, "+1 year": 52}


@solara.component
def Dashboard(scenario: str | Path | Scenario | None = None, seed: int | None = None,
              folder: str | Path | None = None, titled: bool = False):
    """The whole page for one scenario (a file, a Scenario, or the defaults when None).

    ``folder`` holds the scenarios the picker offers (default: the scenario's own folder, or
    the shipped ``scenarios/``).  ``titled``: the browser tab takes the scenario's name (the
    served page; a notebook keeps its own title).
    """
    session = solara.use_memo(lambda: Session(scenario, seed=seed), [])
    choices = solara.use_memo(lambda: scenario_choices(folder or _folder_of(scenario)), [])
    # The session changes in place; the version, passed to every part, makes them redraw.
    version, set_version = solara.use_state(0)
    playing = solara.use_reactive(False)
    speed = solara.use_reactive("normal")
    layer = solara.use_reactive("cooperation")
    side = solara.use_reactive(BOTH)
    error = solara.use_reactive("")

    def refresh() -> None:
        set_version(lambda v: v + 1)

    looping = use_play(session, playing, speed, version, refresh)
    preparing = use_preparation(session)
    stepping, until, start = use_advance(session, refresh)
    busy = stepping.pending or preparing.pending
    act = _acting(error, refresh)
    # Redrawn every week, but only where a note changes (:func:`_InForce`).
    in_force = solara.use_reactive(_lever_run(session, side.value).in_force())
    if titled:
        solara.Title(page_title(session.runs[0].scenario.name))
    solara.Style(PAGE_CSS)
    with solara.Column(classes=["bb-dashboard"], gap="4px"):
        _Toolbar(session, version, choices, (playing, looping.value), speed, act,
                 (busy, until.value, stepping.progress, preparing.pending), start)
        if error.value:
            solara.Error(error.value, classes=["bb-error"])
        with solara.Row(style={"flex-wrap": "nowrap", "align-items": "flex-start"},
                        classes=["bb-main"]):
            with solara.Column(classes=["bb-levers"]):
                _Levers(session, _lever_state(session, side.value), side.value, act,
                        in_force)
            _Views(session, version, choices, (layer, side, playing), act, busy)


def _acting(error: solara.Reactive, refresh: Callable[[], None]):
    """``act``: wraps an action of the page so that a refused value or an unusable scenario
    shows as one line in ``error`` (cleared by the next action that succeeds)."""
    def act(action: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                action()
                error.set("")
            except (ScenarioError, ValueError) as err:
                error.set(page_message(err))
            refresh()
        return run
    return act


def page_message(err: ValueError) -> str:
    """The one line the page shows for a refused value or an unusable scenario: a scenario
    file is named without its folder, since the page must not show the server's paths."""
    if isinstance(err, ScenarioError):
        where = Path(err.file).name if err.file else ""
        return ": ".join(part for part in (where, err.key, err.problem) if part)
    return str(err)


def chosen(control: str, target: solara.Reactive, offers, act) -> Callable[[object], None]:
    """The handler of a :func:`Choice`: sets ``target`` only to one of the ``offers``."""
    return lambda at: act(lambda: target.set(page_values.index(control, at, list(offers))))()


def _folder_of(scenario: str | Path | Scenario | None) -> Path:
    """Where the picker looks: beside the scenario's file, else the shipped scenarios."""
    path = scenario.path if isinstance(scenario, Scenario) else scenario
    return Path(path).parent if path else SHIPPED


@solara.component
def _Toolbar(session: Session, version: int, choices: dict, play: tuple, speed, act,
             stepping: tuple[bool, int, float | None, bool], start: Callable[[int], None]):
    # Kept as typed: checked when Reset uses it, so a visitor's text never reaches the model.
    seed = solara.use_reactive(str(session.seed))
    playing, looping = play
    model = session.clock

    def choose(label) -> None:
        playing.set(False)
        act(lambda: session.choose(choices[offered("scenario", label, choices)], 0))()

    def reset() -> None:
        playing.set(False)
        act(lambda: session.reset(page_values.seed(seed.value)))()

    busy = stepping[0]  # preparing, or a Step or a year computing: nothing else may move the runs
    with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
        solara.Text("Blowback", style={"font-size": "20px", "font-weight": "bold"})
        solara.Select("scenario", values=list(choices),
                      value=choice_of(choices, session.runs[0].scenario),
                      on_value=choose, style={"min-width": "200px", "max-width": "250px"},
                      dense=True, disabled=busy)
        solara.InputText("seed", value=seed, continuous_update=True,
                         style={"max-width": "70px"})
        solara.Button("Reset", on_click=reset, color="primary", outlined=True, disabled=busy)
        # Paused, Play waits for the loop to land the week it had under way.
        solara.Button("Pause" if playing.value else "Play", color="primary",
                      on_click=lambda: playing.set(not playing.value),
                      disabled=session.finished or busy or (looping and not playing.value))
        for label, weeks in ADVANCE.items():
            solara.Button(label, color="primary", outlined=True,
                          on_click=lambda w=weeks: start(w),
                          disabled=playing.value or looping or session.finished or busy)
        _Choice(list(SPEEDS), speed.value, chosen("speed", speed, SPEEDS, act))
        # While computing, the status says so in its own place: the row keeps its width.
        if busy:
            progress = stepping[2]
            rv.ProgressCircular(indeterminate=not progress, value=progress or 0, size=18,
                                width=3, color="primary", class_="bb-computing")
        computing = PREPARING if stepping[3] else computing_text(session, stepping[1])
        shown = escape(computing) if busy else \
            f"week <b>{model.t}</b> of {model.steps_total} &middot; " \
            f"{model.date:%d %b %Y} &middot; seed {model.seed}"
        solara.HTML(tag="span", classes=["bb-status"], unsafe_innerHTML=shown, attributes={
            "data-step": str(model.t), "data-date": model.date.isoformat(),
            "data-busy": str(busy).lower()})


def _lever_run(session: Session, side: str) -> Run:
    """The run the lever panel shows: the right-hand one only when levers act on it.  The play
    loop redraws from its own thread while a click may switch side-by-side off:
    ``session.runs`` is replaced whole, never changed in place, so one reading of it is
    consistent (and the lock, held for a whole year of weeks, is not waited for)."""
    runs = session.runs
    return runs[1] if side == RIGHT and len(runs) == 2 else runs[0]


def _lever_state(session: Session, side: str) -> tuple:
    """The values the lever panel shows (:func:`_lever_run`); the panel redraws only when one
    of them changes, not every week (it is the largest part of the page)."""
    run = _lever_run(session, side)
    return (tuple(run.lever_value(lv.name) for _, group in LEVERS for lv in group)
            + tuple(run.present(partner) for partner in PRESENCE))


@solara.component
def _Levers(session: Session, state: tuple, side: str, act, in_force: solara.Reactive):
    solara.Text("Levers (they act at once)", style={"font-size": "16px", "font-weight": "bold"})
    values = iter(state)
    for group, levers in LEVERS:
        with solara.Card(group, margin=0, style={"margin-bottom": "6px"}):
            for lever in levers:
                _LeverControl(session, lever, next(values), side, act, in_force)
    with solara.Card("Partners", margin=0):
        for partner, label in PRESENCE.items():
            solara.Switch(label=label, value=next(values),
                          on_value=lambda v, p=partner: act(
                              lambda: session.set_presence(p, v, side))())


@solara.component
def _LeverControl(session: Session, lever: Lever, value, side: str, act,
                  in_force: solara.Reactive):
    if lever.is_switch:
        solara.Switch(label=lever.label, value=bool(value),
                      on_value=lambda v: act(lambda: session.set_lever(lever.name, v, side))())
        return
    # The label shows the value last set in the model, not the slider's own.
    with solara.Column(gap="0px", classes=["bb-lever"]):
        solara.Text(f"{lever.label}: {value:.3g}", classes=["bb-lever-label"])
        _Slider(value, lever.low, lever.top,
               lambda v: act(lambda: session.set_lever(lever.name, v, side))())
        _InForce(lever.name, in_force)
        solara.Text(lever.meaning, style={"font-size": "11px", "color": "#666"})


@solara.component
def _InForce(name: str, in_force: solara.Reactive):
    """What acts in the model where it differs from the value set (:meth:`Run.in_force`).  It
    reads ``in_force`` itself, so that a change redraws this line alone: the panel around it
    keeps its arguments, and is not redrawn every week."""
    solara.Text(in_force.value.get(name, ""), classes=["bb-in-force"],
                style={"font-size": "11px", "color": "#7a4b00"})


def restart_notice(session: Session) -> str:
    """What the page says when side-by-side is switched on: both runs started again."""
    return f"both runs restarted at week 0, seed {session.seed}"


@solara.component
def _Views(session: Session, version: int, choices: dict, shown: tuple, act, busy: bool):
    layer, side, _ = shown
    # One reading of the runs for the whole redraw: the play loop steps them on its own thread.
    with session.lock:
        runs = list(session.runs)
        week = session.model.t
        maps = [world_map.svg(r.model, layer.value, titled(r) if len(runs) == 2 else "")
                for r in runs]
        plots = [charts.svg([r.model for r in runs], o) for o in outcomes.shown("chart")]
        logs = [_log_html(session, k) for k in range(len(runs))]
    # All but the charts in one column, since a narrow screen lays the charts under the levers
    # too (page_style).
    with solara.Column(classes=["bb-views"], gap="12px"):
        with solara.Column(classes=["bb-views-top"], gap="12px"):
            _Pairing(session, choices, runs, week, shown, act, busy)
            with solara.Row(style={"flex-wrap": "nowrap", "align-items": "flex-start"},
                            gap="6px", classes=["bb-maps"] + ["bb-paired"] * (len(maps) - 1)):
                for k, m in enumerate(maps):
                    solara.HTML(unsafe_innerHTML=m, classes=["bb-map-view"],
                                attributes={"data-side": str(k)})
                with solara.Column(classes=["bb-side"], gap="6px"):
                    solara.HTML(unsafe_innerHTML=world_map.key(layer.value),
                                classes=["bb-key-view"])
                    solara.HTML(unsafe_innerHTML="".join(logs), classes=["bb-log"])
            with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}, gap="4px"):
                solara.Text("Inject now:")
                for label in INJECTIONS:
                    solara.Button(label, x_small=True, outlined=True,
                                  on_click=act(lambda lb=label: session.inject_button(
                                      lb, side.value)))
        with solara.Div(classes=["bb-charts"]):
            if len(runs) == 2:
                solara.HTML(unsafe_innerHTML=charts.key([r.scenario.name for r in runs]),
                            classes=["bb-chart-key"])
            for p in plots:
                solara.HTML(unsafe_innerHTML=p, classes=["bb-chart-view"])


@solara.component
def _Pairing(session: Session, choices: dict, runs: list[Run], week: int, shown: tuple, act,
             busy: bool):
    """The map's layer, the side-by-side switch and, side by side, the right-hand regime and
    the side the levers act on."""
    layer, side, playing = shown
    paired = len(runs) == 2
    notice = solara.use_reactive("")

    def pair(on) -> None:
        # As a new scenario does, a new pairing stops the play: the runs are rebuilt.
        playing.set(False)
        if switch("side by side", on):
            session.compare_with(counterpart(choices, session.runs[0].scenario))
            notice.set(restart_notice(session))
        else:
            session.single()
            notice.set("")

    def choose_right(label) -> None:
        playing.set(False)
        session.choose(choices[offered("right-hand regime", label, choices)], 1)

    with solara.Column(classes=["bb-pairing"], gap="12px"):
        with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
            _Choice(list(world_map.LAYERS), layer.value,
                    chosen("map layer", layer, world_map.LAYERS, act))
            solara.Switch(label="side by side", value=paired, disabled=busy,
                          on_value=lambda on: act(lambda: pair(on))())
            if not paired:
                solara.Text("(restarts both runs at week 0)", classes=["bb-notice"])
        if paired:
            with solara.Row(style={"align-items": "center", "flex-wrap": "wrap"}, gap="8px"):
                solara.Select("right-hand regime", values=list(choices),
                              value=choice_of(choices, runs[1].scenario),
                              on_value=lambda label: act(lambda: choose_right(label))(),
                              style={"min-width": "200px", "max-width": "250px"}, dense=True,
                              disabled=busy)
                solara.Text("levers and events act on")
                _Choice(list(SIDES), side.value,
                        chosen("levers and events act on", side, SIDES, act))
                if notice.value and week == 0:
                    solara.Text(notice.value, classes=["bb-notice", "bb-restarted"])


# Solara's ToggleButtonsSingle and SliderFloat convert what the page sends before any handler
# sees it (values[index], float(value)): a forged index or a word in place of a number raised
# inside Solara, and the page showed a traceback.  These two hand the value on as it came, and
# the dashboard's handler checks it (page_values) and shows a short message instead.
@solara.component
def _Choice(values: list[str], value: str, on_index: Callable[[object], None]):
    return rv.BtnToggle(children=[solara.Button(label=str(v)) for v in values],
                        multiple=False, mandatory=True,
                        v_model=values.index(value) if value in values else None,
                        on_v_model=on_index)


@solara.component
def _Slider(value: float, low: float, high: float, on_value: Callable[[object], None]):
    return rv.Slider(v_model=float(value), on_v_model=on_value, label="", min=low, max=high,
                     step=(high - low) / 100.0, thumb_label=False, dense=False,
                     hide_details=True)


def titled(run: Run) -> str:
    """A run's scenario name as its map and its log are titled, with the week it ended at
    once it has (side by side, the other run may go on)."""
    name = run.scenario.name
    return f"{name} (ended at week {run.model.t})" if run.ended else name


def _log_html(session: Session, side: int) -> str:
    """The event log of one run, newest first, with the events still queued on top, or what
    was asked of it once it had ended: each line says when, what, where, by whom and the toll
    (:func:`log_line`)."""
    run = session.runs[side]
    lines = [f"<li><i>next week: {escape(text)}</i></li>" for text in run.previews()]
    lines += [f"<li class='bb-refused'><i>{escape(log_line(date, text))}</i></li>"
              for date, text in reversed(run.notes[-LOG_LINES:])]
    lines += [f"<li>{escape(log_line(date, text))}</li>"
              for date, text in reversed(run.model.event_log[-LOG_LINES:])]
    title = f"Event log, {escape(titled(run))}"
    return (f"<div data-side='{side}'><b>{title}</b><ul style='margin:0; padding-left:16px'>"
            f"{''.join(lines) or '<li>none yet</li>'}</ul></div>")


@solara.component
def Page():
    """The page ``blowback dashboard`` serves: the scenario and seed it was started with."""
    seed = os.environ.get(SEED_ENV)
    Dashboard(served_scenario(), int(seed) if seed else None, titled=True)
