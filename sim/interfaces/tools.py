"""The commands around the model, once :mod:`sim.interfaces.cli` has read their arguments:
``bench`` (the benchmarks of a checkout), ``dashboard`` (the seminar page) and ``scenario``
(check, compare or explain scenario files).  Each returns the exit status, as in
:mod:`sim.interfaces.commands`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.interfaces.commands import BENCHMARKS, EXIT_USAGE, settings, subset

# How long a --mesa-python may take to import Mesa and numba when it is checked (a cold start of
# numba on a slow disk takes seconds).
MESA_PYTHON_CHECK_SECONDS = 60
# What that check has it print once both are imported.
_READY = "mesa and numba imported"

if TYPE_CHECKING:
    from sim.core.scenario import Scenario


def bench(args: argparse.Namespace) -> int:
    """``blowback bench``: the benchmarks of a source checkout (benchmarks/run.py)."""
    only = None if args.only is None else set(subset("--only", args.only, BENCHMARKS))
    if args.report and (args.tiny or only is not None):
        # The report replaces the published figures whole: tiny sizes, or some benchmarks
        # alone, would leave a table of what was not measured together, or not at size.
        print("blowback: error: --report: writes the figures of a whole run at full size; "
              "allowed: without --tiny and --only", file=sys.stderr)
        return EXIT_USAGE
    root = Path(__file__).resolve().parents[2]
    if not (root / "benchmarks" / "run.py").exists():
        print("blowback: error: bench: the benchmarks live in a source checkout "
              f"(benchmarks/ not found beside {root / 'sim'})", file=sys.stderr)
        return EXIT_USAGE
    for python in args.mesa_python:
        problem = _not_a_mesa_python(python)
        if problem:
            print(f"blowback: error: --mesa-python: {python!r} {problem}; allowed: the path of "
                  "a Python with Mesa and numba", file=sys.stderr)
            return EXIT_USAGE
    sys.path.insert(0, str(root))
    from benchmarks.run import BenchmarkError
    from benchmarks.run import run as run_benchmarks

    try:
        run_benchmarks(tiny=args.tiny, only=only, report=args.report, mesa_pythons=args.mesa_python)
    except BenchmarkError as err:
        print(f"blowback: error: bench: {err}", file=sys.stderr)
        return 1
    return 0


def _not_a_mesa_python(python: str) -> str | None:
    """Why ``python`` cannot run the benchmarks' other-interpreter sections, or None: checked
    before any work, so that a wrong path does not stop the benchmarks half-way."""
    found = shutil.which(python) or python
    if Path(found).is_dir():
        return "is a folder"
    if not os.access(found, os.X_OK):
        return "is not an executable file"
    try:
        done = subprocess.run([found, "-c", f"import mesa, numba; print({_READY!r})"],
                              capture_output=True, timeout=MESA_PYTHON_CHECK_SECONDS,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"cannot be run ({getattr(err, 'strerror', None) or type(err).__name__})"
    if done.stdout.decode(errors="replace").strip() != _READY:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        why = said[-1] if said else f"exit status {done.returncode}, nothing printed"
        return f"is not a Python that imports Mesa and numba ({why})"
    return None


def dashboard(args: argparse.Namespace) -> int:
    """``blowback dashboard``: serve the seminar dashboard, on this machine only unless
    ``--allow-remote``."""
    from sim.core.parameters import BY_NAME
    from sim.core.scenario import ScenarioError, default_scenario, load_scenario
    from sim.interfaces.dashboard import server

    if args.port > 65535:
        print(f"blowback: error: --port: {args.port}; allowed: an integer in [0, 65535]",
              file=sys.stderr)
        return EXIT_USAGE
    # Checked here, so that a mistake is one line before any server starts.
    seed = BY_NAME["run.seed"]
    if args.seed is not None and not seed.low <= args.seed <= seed.high:
        raise ScenarioError("--seed", None, f"{args.seed}; allowed: {seed.allowed()}")
    warning = server.check_host(args.host, args.allow_remote)
    names = server.allowed_hosts(args.host, server.check_allowed_hosts(args.allowed_host))
    scenario = load_scenario(args.scenario) if args.scenario else default_scenario()
    scenario.with_values(settings(args), "--set")
    import importlib.util

    if importlib.util.find_spec("solara") is None:
        print("blowback: error: dashboard: solara is missing; install the dashboard extra: "
              "pip install -e '.[dashboard]'", file=sys.stderr)
        return EXIT_USAGE
    sockets = server.listen(args.host, args.port)
    try:
        if warning:
            hosts = "any Host name; --allowed-host NAME limits it to NAME" if names == ["*"] \
                else f"the Host names {', '.join(names)}; --allowed-host NAME adds one"
            print(f"blowback: warning: --host {args.host}: the dashboard is {warning} (it "
                  f"answers {hosts})", file=sys.stderr)
        server.serve(args.scenario, args.host, sockets, args.seed, args.set, names,
                     server.page_title(scenario.name))
    finally:
        for sock in sockets:
            sock.close()
    return 0


def scenario(args: argparse.Namespace) -> int:
    """``blowback scenario``: check a scenario file and print it resolved (or as --json), or the
    --diff of two files, or --explain the parameters, or print the --steps of a week."""
    from sim.core.scenario import (
        default_scenario,
        explain,
        load_scenario,
        parameter_table,
        registry,
    )
    from sim.core.week import describe

    conflict = _scenario_conflict(args)
    if conflict:
        print(f"blowback: error: scenario: {conflict}", file=sys.stderr)
        return EXIT_USAGE
    if args.explain:
        if args.markdown:
            print(parameter_table(), end="")
        else:
            print(json.dumps(registry(), indent=1) if args.json else explain())
        return 0
    if args.steps:
        print("One week, in order (sim/core/week.py):")
        print(describe())
        return 0
    if args.shipped:
        _print_shipped()
        return 0
    scenario = load_scenario(args.file)
    if args.diff is not None:
        other = load_scenario(args.diff)
        for param, mine, theirs in scenario.differences(other):
            print(f"{param.name}  {param.kind}  {_toml(mine)}  {_toml(theirs)}")
        for date, kind, fields, where in _event_differences(scenario, other, args.file,
                                                             args.diff):
            print(f"event  {date}  {kind}  {fields}  only in {where}")
        return 0
    changed = {param.name for param, _, _ in scenario.differences(default_scenario())}
    if args.json:
        print(json.dumps({k: v for k, v in scenario.params.items()
                          if k in changed or not args.changed}, indent=1))
        return 0
    _print_resolved(scenario, changed, args.changed)
    return 0


# The shipped scenarios' folders (sim.core.shipped), and what takes the files of each.
_SHIPPED_USES = {"": "blowback run, compare, dashboard, scenario",
                 "experiments": "blowback sweep, sensitivity",
                 "calibration": "blowback calibrate",
                 "epstein": "python -m sim.classics.epstein, Epstein's civil-violence runs"}


def _print_shipped() -> None:
    """Each shipped file, by folder, with its name and what takes it: a regular install keeps
    them inside the package, where a user would not otherwise find them."""
    from sim.core.shipped import scenarios_folder
    from sim.experiments.output import WIDTH

    folder = scenarios_folder()
    paths = sorted(folder.rglob("*.toml"))
    width = max((len(p.relative_to(folder).as_posix()) for p in paths), default=0) + 2
    print(f"The shipped scenarios, in {folder}:")
    for sub, use in _SHIPPED_USES.items():
        these = [p for p in paths if p.parent == folder / sub]
        if these:
            print(f"\n{sub or '.'}/ — {use}")
        for path in these:
            name = path.relative_to(folder).as_posix()
            line = f"  {name:<{width}}{_title_of(path)}"
            print(line if len(line) <= WIDTH else line[:WIDTH - 1] + "…")
    print(f"\nFor example: blowback run {folder / 'contractor_unchecked.toml'}")


def _title_of(path: Path) -> str:
    """A TOML file's ``name``, else the first line of its opening comment; read without checking
    the rest, which the commands check."""
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
        name = tomllib.loads(text).get("name")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return "(not readable as TOML)"
    comment = text.split("\n", 1)[0]
    return str(name) if name is not None else comment.lstrip("# ") if comment[:1] == "#" else ""


# What each way of calling ``blowback scenario`` takes besides itself, and the options no call
# takes together.
_SCENARIO_MODES = {"--explain": ("--json", "--markdown"), "--steps": (), "--shipped": (),
                   "FILE": ("--diff", "--changed", "--json")}
_SCENARIO_EXCLUSIVE = (("--json", "--markdown"), ("--diff", "--json"), ("--diff", "--changed"))


def _scenario_conflict(args: argparse.Namespace) -> str | None:
    """What is wrong with the options of a ``blowback scenario`` call, in words; None if
    nothing.  An option that the call would not use is refused rather than ignored."""
    given = {flag for flag, on in (("--explain", args.explain), ("--steps", args.steps),
                                   ("--shipped", args.shipped),
                                   ("FILE", args.file is not None),
                                   ("--diff", args.diff is not None), ("--changed", args.changed),
                                   ("--json", args.json), ("--markdown", args.markdown)) if on}
    modes = [mode for mode in _SCENARIO_MODES if mode in given]
    if len(modes) != 1:
        return ("give one of a FILE to check, --explain, --steps or --shipped" if not modes
                else f"{' and '.join(modes)} do not go together; give one of them")
    extra = sorted(given - {modes[0], *_SCENARIO_MODES[modes[0]]})
    if extra:
        allowed = ", ".join(_SCENARIO_MODES[modes[0]]) or "no other option"
        verb = "does" if len(extra) == 1 else "do"
        return (f"{', '.join(extra)} {verb} not go with {modes[0]}; allowed with {modes[0]}: "
                f"{allowed}")
    for pair in _SCENARIO_EXCLUSIVE:
        if set(pair) <= given:
            return f"{pair[0]} and {pair[1]} do not go together; give one of them"
    return None


def _event_differences(scenario: Scenario, other: Scenario, name: str,
                       other_name: str) -> list[tuple[str, str, str, str]]:
    """The events one scenario has and the other has not, as (date, type, fields as JSON, the
    file that has it), in date order; an event written twice in one and once in the other
    is one of the differences."""
    def counted(events) -> Counter:
        return Counter(json.dumps([e.date, e.type, e.fields], sort_keys=True, default=str)
                       for e in events)

    mine, theirs = counted(scenario.events), counted(other.events)
    rows = []
    for difference, where in ((mine - theirs, name), (theirs - mine, other_name)):
        for text in difference.elements():
            date, kind, fields = json.loads(text)
            rows.append((date, kind, json.dumps(fields), where))
    return sorted(rows, key=lambda row: row[0])


def _print_resolved(scenario: Scenario, changed: set[str], only_changed: bool) -> None:
    """The resolved parameters, ``*`` before those that differ from the defaults (only those
    if ``only_changed``), the events, and how many values differ."""
    print(f"{scenario.name} ({scenario.content_hash[:12]}): valid")
    for name, value in scenario.params.items():
        if name in changed or not only_changed:
            print(f"{'*' if name in changed else ' '} {name} = {value!r}")
    for event in scenario.events:
        print(f"  event {event.date} (step {event.step}): {event.type} {event.fields or ''}")
    count = len(changed)
    print(f"{count} value{'s' if count != 1 else ''} differ{'s' if count == 1 else ''} from the "
          "defaults" + (" (marked *)" if count and not only_changed else ""))


def _toml(value: Any) -> str:
    """A parameter's value as a scenario file writes it (``true``, ``0.5``, ``"2014-01-06"``)."""
    return json.dumps(value)
