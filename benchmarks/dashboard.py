"""A year on the dashboard: the page's "+1 year" against the same 52 weeks advanced alone.

    python benchmarks/dashboard.py --scenario scenarios/base.toml --repeats 3

Each repeat opens a fresh page (``solara.render``, in this process, with no browser: what the
page sends to a browser is not counted, so a served page takes longer), clicks "+1 year" and
waits until the page has drawn the year; then it builds the same session again and advances it
52 weeks by itself.  The two alternate, so that both see the same load.  Prints the seconds of
each (best and median) and their ratio: what the page adds to a year's weeks.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
YEAR = 52
WAIT = 600.0  # seconds; a page that has not drawn its year by then has failed


def _page_year(scenario) -> float:
    """Seconds from the click on "+1 year" until the page has drawn the year."""
    import ipyvuetify as v
    import solara

    from sim.interfaces.dashboard.app import Dashboard

    _, rc = solara.render(Dashboard(scenario), handle_error=False)
    try:
        button = rc.find(v.Btn, children=["+1 year"]).widget
        before = set(threading.enumerate())
        start = time.perf_counter()
        button.click()
        # Solara's task threads are not daemons; each has drawn the page's last state when it
        # ends.
        for worker in set(threading.enumerate()) - before:
            if not worker.daemon:
                worker.join(WAIT)
        seconds = time.perf_counter() - start
        drawn = next(w.attributes["data-step"] for w in rc.find(solara.widgets.HTML).widgets
                     if w.attributes.get("class") == "bb-status")
        if drawn != str(YEAR):
            raise RuntimeError(f"the page drew week {drawn}, not {YEAR}")
        return seconds
    finally:
        rc.close()


def _weeks_alone(scenario) -> float:
    """Seconds the dashboard's session takes to advance 52 weeks, with no page."""
    from sim.interfaces.dashboard.session import Session

    session = Session(scenario)
    start = time.perf_counter()
    session.step(YEAR)
    return time.perf_counter() - start


def year(scenario_path: str | Path, repeats: int) -> dict:
    """Seconds of a year on the page and alone, ``repeats`` of each, alternated, after one of
    each that is not counted (it compiles the kernels where nothing has)."""
    from sim.core.scenario import load_scenario
    from sim.interfaces.dashboard import server

    scenario = load_scenario(scenario_path)
    server.prepare(scenario)
    page, alone = [], []
    _page_year(scenario)
    _weeks_alone(scenario)
    for _ in range(repeats):
        page.append(_page_year(scenario))
        alone.append(_weeks_alone(scenario))
    return {"scenario": scenario.name, "communities": scenario.params["map.communities"],
            "page_s": page, "alone_s": alone}


def main(argv: list[str] | None = None) -> int:
    """Print a year on the page against its weeks alone."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "base.toml"),
                        help="the scenario the page shows (default: scenarios/base.toml)")
    parser.add_argument("--repeats", type=int, default=3, help="years timed each way")
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error(f"--repeats: {args.repeats} is not a number of years; allowed: 1 or more")
    got = year(args.scenario, args.repeats)
    page, alone = got["page_s"], got["alone_s"]
    print(f"{got['scenario']} ({got['communities']:,} communities), a year of {YEAR} weeks, "
          f"{args.repeats} each way:")
    print(f"  on the page  best {min(page):.3f} s, median {statistics.median(page):.3f} s")
    print(f"  alone        best {min(alone):.3f} s, median {statistics.median(alone):.3f} s")
    print(f"  page / alone {statistics.median(page) / statistics.median(alone):.2f} "
          "(medians)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
