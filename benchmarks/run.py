"""Run the benchmarks, print one table of figures measured together, optionally a report."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FULL = dict(epstein=((40, 20, 2000), (200, 5, 200)), kernels=(10_000, 20, 2_000),
            scale=((10_000, 100_000, 1_000_000), 10), build=1_000_000,
            profile=(1_000_000, 5), profile_default=(4_000, 200), calling=(4_000, 2_000),
            bandwidth=(800,), ensemble_profile=(4, 200, 3), sweep=(1_000, 2, None, (4, 8)))
TINY = dict(epstein=((12, 2, 5),), kernels=(300, 2, 20), scale=((1_000, 3_000), 2), build=5_000,
            profile=(3_000, 2), profile_default=(1_000, 2), calling=(1_000, 5, 6), bandwidth=(16,),
            ensemble_profile=(2, 2, 2), sweep=(4, 2, 26, (2,)))


def machine() -> str:
    """The machine, in words."""
    import mesa
    import numba

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        names = [line.split(":", 1)[1].strip() for line in
                 Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")]
        cpu = f"{names[0]} ({cpu})" if names else cpu
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, Mesa "
            f"{mesa.__version__}, numba {numba.__version__}")


class BenchmarkError(RuntimeError):
    """A benchmark section failed in its process (under this or another interpreter)."""


def _isolated(module: str, function: str, *args, python: str = sys.executable) -> object:
    """Call ``benchmarks.<module>.<function>(*args)`` in a fresh process of ``python``.

    Each section gets its own interpreter: Mesa 3.3 keeps finished models alive, and a heap of
    its agents makes the garbage collector slow down whatever is timed after it.  Another
    interpreter (another Python and Mesa) finds this checkout on ``PYTHONPATH``.
    """
    code = (f"import json, sys; from benchmarks.{module} import {function}; "
            f"print(json.dumps({function}(*json.loads(sys.argv[1]))))")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(
        [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p])}
    try:
        done = subprocess.run([python, "-c", code, json.dumps(args)], cwd=ROOT, env=env,
                              capture_output=True, text=True, check=False)
    except OSError as err:
        raise BenchmarkError(f"{python}: cannot run it ({err.strerror})") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise BenchmarkError(f"{python}: {module}.{function} failed: {lines[-1]}")
    printed = done.stdout.strip().splitlines()
    try:
        return json.loads(printed[-1])
    except (IndexError, ValueError):
        raise BenchmarkError(f"{python}: {module}.{function} printed no result") from None


def _print_split(prof: dict) -> None:
    print(f"at {prof['communities']:,} communities, {prof['step_ms']:.3f} ms a step: the "
          f"kernels {prof['in_kernels_ms']:.3f} ms "
          f"({100 * prof['in_kernels_ms'] / prof['step_ms']:.0f}%, calling them included), "
          f"Python and numpy between them {prof['between_kernels_ms']:.3f} ms")


def _print_ensemble(prof: dict) -> None:
    alone, together = prof["alone_us"], prof["ensemble_us"]
    print(f"where a run-week goes at {prof['communities']:,} communities, {prof['runs']} runs "
          f"one by one against one ensemble of {prof['runs']} ({prof['weeks']} weeks, µs a "
          f"run-week, the median of {prof['repeats']} alternating repeats; above 1: the "
          "ensemble is faster):")
    rows = sorted(alone, key=lambda name: -alone[name])
    for name, a, e in [(n, alone[n], together[n]) for n in rows] + [
            ("all", sum(alone.values()), sum(together.values()))]:
        print(f"{name:>60} {a:>8.1f} {e:>8.1f} {a / e:>6.2f}")
    each = ", ".join(f"{a:.0f} against {e:.0f} ({a / e:.2f})" for a, e in prof["repeat_totals"])
    print(f"{'the whole run-week in each repeat':>60}: {each}")


def run(tiny: bool = False, only: set[str] | None = None, report: bool = False,
        mesa_pythons: Sequence[str] = ()) -> dict:
    """Run the chosen benchmarks and print their table; return the figures.

    ``mesa_pythons``: further interpreters (each with its own Mesa, e.g. Python 3.12 with Mesa
    3.5) under which the Epstein comparison runs too, after this one's.
    """
    plan = TINY if tiny else FULL
    want = only or {"epstein", "kernels", "scale", "build", "startup", "profile", "sweep"}
    figures: dict = {"machine": machine()}
    print(f"Blowback benchmarks on {figures['machine']}")
    if "epstein" in want:
        figures["epstein"] = [_isolated("epstein", "compare", *args, python=python)
                              for python in (sys.executable, *mesa_pythons)
                              for args in plan["epstein"]]
        print("\nEpstein's civil violence: ours vs Mesa's example (vision 7, density 0.7, "
              "cops 0.074), both under the same interpreter")
        print(f"{'Mesa':>6} {'Python':>7} {'grid':>9} {'agents':>7} {'Mesa agent-steps/s':>19} "
              f"{'ours':>14} {'ratio':>8}")
        for r in figures["epstein"]:
            print(f"{r['mesa']:>6} {r['python']:>7} {r['grid']:>9} {r['agents']:>7} "
                  f"{r['mesa_agent_steps_per_s']:>19,.0f} {r['ours_agent_steps_per_s']:>14,.0f} "
                  f"{r['ratio']:>7,.0f}x")
    if "kernels" in want:
        figures["kernels"] = _isolated("conflict", "kernels", *plan["kernels"])
        n, _, bands = plan["kernels"]
        print(f"\nKernels, compiled vs plain Python, same inputs ({n:,} communities, {bands:,} "
              f"bands, {bands // 4:,} state units)")
        print(f"{'kernel':>20} {'compiled ms':>12} {'plain ms':>10} {'speed-up':>9}")
        for r in figures["kernels"]:
            print(f"{r['kernel']:>20} {r['compiled_s'] * 1e3:>12.3f} {r['plain_s'] * 1e3:>10.1f} "
                  f"{r['speedup']:>8,.0f}x")
    if "scale" in want:
        figures["scale"] = _isolated("conflict", "scale", *plan["scale"])
        print("\nWhole model, one weekly step")
        print(f"{'communities':>12} {'ms/step':>9} {'community-steps/s':>18} {'ns/community':>13}")
        for r in figures["scale"]:
            print(f"{r['communities']:>12,} {r['ms_per_step']:>9.1f} "
                  f"{r['community_steps_per_s']:>18,.0f} {r['ns_per_community_step']:>13.1f}")
        first, last = figures["scale"][0], figures["scale"][-1]
        print(f"time per community at {last['communities']:,} / at {first['communities']:,}: "
              f"{last['ns_per_community_step'] / first['ns_per_community_step']:.2f}")
    if "build" in want:
        figures["build"] = _isolated("conflict", "build", plan["build"])
        b = figures["build"]
        print(f"\nBuilding {b['communities']:,} communities: {b['seconds']:.2f} s, peak memory "
              f"{b['peak_mb']:,.0f} MB (process; {b['before_mb']:,.0f} MB before building)")
    if "startup" in want and tiny:
        print("\n`blowback run scenarios/base.toml`, whole process: not timed with --tiny (a "
              "start from an empty numba cache takes its full time at any size)")
    elif "startup" in want:
        figures["startup"] = _isolated("conflict", "startup")
        s = figures["startup"]
        print(f"\n`blowback run scenarios/base.toml`, whole process: cold {s['cold']:.1f} s, "
              f"warm {s['warm']:.1f} s")
    if "profile" in want:
        prof = figures["profile"] = _isolated("conflict", "profile", *plan["profile"])
        gbs = figures["bandwidth_gb_s"] = _isolated("conflict", "bandwidth", *plan["bandwidth"])
        print(f"\nWhere a step's time goes at {prof['communities']:,} communities "
              f"({prof['step_ms']:.1f} ms a step; memory bandwidth {gbs:.1f} GB/s)")
        print("each step of the week, in its order (sim.core.week):")
        for name, ms in list(prof["steps_ms"].items()) + [("(the model's own loop)",
                                                           prof["rest_ms"])]:
            print(f"{name:>60} {ms:>8.2f} ms {100 * ms / prof['step_ms']:>5.1f}%")
        print("by mechanism:")
        for name, ms in sorted(prof["mechanisms_ms"].items(), key=lambda kv: -kv[1]):
            print(f"{name:>60} {ms:>8.2f} ms {100 * ms / prof['step_ms']:>5.1f}%")
        print("each kernel alone, on the inputs of one step:")
        for name, ms in sorted(prof["kernels_ms"].items(), key=lambda kv: -kv[1]):
            print(f"{name:>60} {ms:>8.2f} ms {100 * ms / prof['step_ms']:>5.1f}%")
        small = figures["profile_default"] = _isolated("conflict", "profile",
                                                       *plan["profile_default"])
        _print_split(prof)
        _print_split(small)
        print(f"by mechanism at {small['communities']:,} communities, and of that its kernels "
              "(calling them included) and its Python and numpy between them:")
        kernels_ms = small["mechanisms_in_kernels_ms"]
        for name, ms in sorted(small["mechanisms_ms"].items(), key=lambda kv: -kv[1]):
            k = kernels_ms.get(name, 0.0)
            print(f"{name:>60} {ms:>8.3f} ms {100 * ms / small['step_ms']:>5.1f}%   kernels "
                  f"{k:.3f}, Python {ms - k:.3f}")
        loop = "(the model's own loop, and the clock that times each step)"
        print(f"{loop:>60} {small['rest_ms']:>8.3f} ms "
              f"{100 * small['rest_ms'] / small['step_ms']:>5.1f}%")
        calls = figures["calling"] = _isolated("calling", "calling", *plan["calling"])
        print(f"calling {calls['calls']} kernel calls of a week at {calls['communities']:,} "
              f"communities (tables of {calls['table_arrays']} arrays in all), kernel work "
              f"aside: {calls['plain_us']:.0f} µs with each table a plain tuple, as the model "
              f"passes them; {calls['named_us']:.0f} µs as named tuples")
        figures["ensemble_profile"] = _isolated("ensemble", "by_mechanism",
                                                *plan["ensemble_profile"])
        _print_ensemble(figures["ensemble_profile"])
    if "sweep" in want:
        sw = figures["sweep"] = _isolated("sweep", "throughput", *plan["sweep"])
        weeks = f" ({sw['steps']} weeks each)" if sw.get("steps") else ""
        print(f"\n{sw['runs']:,} runs of the default scenario{weeks}: `blowback sweep --jobs "
              f"{sw['jobs']}` {sw['sweep_s']:.0f} s ({sw['sweep_runs_per_min']:.0f} runs/min); "
              f"one plain loop {sw['loop_s']:.0f} s ({sw['loop_runs_per_min']:.0f} runs/min); "
              f"{sw['jobs']} plain loops side by side {sw['loops_s']:.0f} s; overhead of the "
              f"sweep against them {sw['overhead']:+.1%}; peak memory of one process of the sweep "
              f"{sw['peak_mb']:,.0f} MB")
        for e in sw["ensembles"]:
            print(f"  `--ensemble {e['ensemble']}` (runs advanced together in each task): "
                  f"{e['sweep_s']:.0f} s ({e['runs_per_min']:.0f} runs/min), "
                  f"{e['ratio']:.2f} times the runs per second of one run a task, measured in "
                  f"this run; peak memory {e['peak_mb']:,.0f} MB")
    if report:
        from benchmarks.report import write

        print("\nReport written: " + ", ".join(str(p) for p in write(figures)))
    return figures
