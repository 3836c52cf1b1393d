"""The report of a benchmark run: the figures (JSON), the plot, and the table of
docs/PERFORMANCE.md, each row against its target, all from the one run's figures."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = "<!-- blowback bench --report: table -->"
END = "<!-- end of table -->"


def _verdict(ok: bool, text: str) -> str:
    return f"**{text}**" if ok else f"**{text}: target not met**"


def table(figures: dict) -> str:
    """The markdown table of one run's figures, each row with its target."""
    rows = ["| what | measured | target |", "| --- | --- | --- |"]
    for r in figures.get("epstein", []):
        ratio = _verdict(r["ratio"] >= 300, f"{r['ratio']:,.0f}×")
        grid = r["grid"].replace("x", "×")
        rows.append(
            f"| Epstein classic vs Mesa {r['mesa']}'s example (Python {r['python']}), {grid} "
            f"({r['agents']:,} agents) | {r['ours_agent_steps_per_s'] / 1e6:.1f} M vs "
            f"{r['mesa_agent_steps_per_s'] / 1e3:.1f} k agent-steps/s: {ratio} (median of "
            f"batches {r['median_ratio']:,.0f}×) | ≥ 300× |")
    if "kernels" in figures:
        ks = figures["kernels"]
        low = min(ks, key=lambda r: r["speedup"])
        high = max(r["speedup"] for r in ks)
        above = sum(r["speedup"] >= 100 for r in ks)
        span = _verdict(above == len(ks), f"{low['speedup']:,.0f}× to {high:,.0f}×")
        rows.append(
            f"| kernels compiled vs plain Python ({len(ks)} kernels, same inputs) | {span}; "
            f"{above} of the {len(ks)} at or above 100×, the lowest `{low['kernel']}` | "
            f"≥ 100× each |")
    if "scale" in figures:
        sc = figures["scale"]
        for r in sc:
            fast = r["community_steps_per_s"]
            text = f"{r['ms_per_step']:.1f} ms a step, {fast / 1e6:.1f} M community-steps/s"
            target = ""
            if r["communities"] >= 1_000_000:
                text, target = _verdict(fast >= 10e6, text), "≥ 10 M/s"
            rows.append(f"| whole model, {r['communities']:,} communities | {text} | {target} |")
        ratio = sc[-1]["ns_per_community_step"] / sc[0]["ns_per_community_step"]
        rows.append(f"| time per community at {sc[-1]['communities']:,} / at "
                    f"{sc[0]['communities']:,} | {_verdict(ratio <= 2, f'{ratio:.2f}')} | ≤ 2 |")
    if "build" in figures:
        b = figures["build"]
        # Each figure against its own target, so that a miss names the figure that missed.
        seconds = _verdict(b["seconds"] <= 10, f"{b['seconds']:.2f} s")
        peak = _verdict(b["peak_mb"] <= 1024, f"{b['peak_mb']:,.0f} MB")
        rows.append(
            f"| building {b['communities']:,} communities | {seconds}; the process peaks at "
            f"{peak}, {b['peak_mb'] - b['before_mb']:,.0f} MB above its "
            f"{b['before_mb']:,.0f} MB before building | ≤ 10 s, ≤ 1 GB |")
    if "startup" in figures:
        s = figures["startup"]
        cold = _verdict(s["cold"] < 30, f"cold {s['cold']:.1f} s")
        warm = _verdict(s["warm"] < 5, f"warm {s['warm']:.1f} s")
        rows.append(f"| `blowback run scenarios/base.toml`, whole process | {cold} (empty numba "
                    f"cache), {warm} | cold < 30 s, warm < 5 s |")
    if "sweep" in figures:
        w = figures["sweep"]
        sweep = _verdict(w["sweep_s"] < 600, f"{w['sweep_s']:.0f} s")
        overhead = _verdict(w["overhead"] < 0.05, f"{w['overhead']:+.1%}")
        rows += [
            f"| {w['runs']:,} runs of the default scenario, `blowback sweep --jobs "
            f"{w['jobs']}` | {sweep}, {w['sweep_runs_per_min']:.0f} runs/min | < 10 min |",
            f"| the same runs, one plain loop in one process | {w['loop_s']:.0f} s, "
            f"{w['loop_runs_per_min']:.0f} runs/min | |",
            f"| the same runs, {w['jobs']} plain loops side by side | {w['loops_s']:.0f} s | |",
            f"| peak memory of one process of the sweep (its own or a worker) | "
            f"{w['peak_mb']:,.0f} MB | |",
            f"| overhead of the sweep machinery (sweep against the loops side by side) | "
            f"{overhead} | < 5% |"]
        rows += _ensemble_rows(w)
    return "\n".join(rows)


def _ensemble_rows(w: dict) -> list[str]:
    """The sweep with runs advanced together, against one run a task in the same benchmark run,
    and the time 10,000 runs would take at the best rate measured."""
    rows = []
    for e in w.get("ensembles", []):
        ratio = _verdict(e["ratio"] >= 3, f"{e['ratio']:.2f}×")
        rows.append(f"| the same runs, `--ensemble {e['ensemble']}`: runs per second against "
                    f"one run a task | {ratio} ({e['sweep_s']:.0f} s, {e['runs_per_min']:.0f} "
                    f"runs/min; peak {e['peak_mb']:,.0f} MB a process) | ≥ 3× |")
    best = min([w["sweep_s"]] + [e["sweep_s"] for e in w.get("ensembles", [])])
    minutes = best * 10_000 / w["runs"] / 60
    rows.append(f"| 10,000 such runs at the best of these rates (scaled from {w['runs']:,}) | "
                f"{_verdict(minutes < 20, f'{minutes:.0f} min')} | < 20 min |")
    return rows


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` as the sweep writes its files: never half a file."""
    from sim.experiments.output import write_atomic

    write_atomic(path, lambda tmp: tmp.write_text(text))


def write(figures: dict, root: Path = ROOT) -> list[Path]:
    """Write docs/performance.json, docs/img/performance.png (when the run has the scale
    figures) and the table between the markers of docs/PERFORMANCE.md, under ``root``; return
    what was written.  The rest of PERFORMANCE.md (the notes on the rows) is left as it is."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    written = [root / "docs" / "performance.json"]
    written[0].parent.mkdir(parents=True, exist_ok=True)
    _replace(written[0], json.dumps(figures, indent=2) + "\n")
    if "scale" in figures:
        out = root / "docs" / "img" / "performance.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        n = [r["communities"] for r in figures["scale"]]
        ms = [r["ms_per_step"] for r in figures["scale"]]
        fig, ax = plt.subplots(figsize=(5.5, 4))
        ax.loglog(n, ms, "o-", color="#8c2d04", label="measured")
        ax.loglog(n, [ms[0] * k / n[0] for k in n], ":", color="0.5", label="linear in size")
        ax.set_xlabel("communities")
        ax.set_ylabel("ms per weekly step")
        ax.set_title("Blowback: time per step against size")
        ax.legend()
        fig.tight_layout()
        fig.savefig(out, dpi=120)
        plt.close(fig)
        written.append(out)
    doc = root / "docs" / "PERFORMANCE.md"
    text = doc.read_text() if doc.exists() else ""
    if BEGIN in text and END in text.split(BEGIN, 1)[1]:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        _replace(doc, f"{head}{BEGIN}\n{table(figures)}\n{END}{tail}")
        written.append(doc)
    return written
