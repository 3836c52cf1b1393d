"""Epstein's civil-violence classic: ours against Mesa's own example, same settings."""

from __future__ import annotations


def compare(size: int, mesa_steps: int, our_steps: int, seed: int = 1) -> dict:
    """Both models on a size x size torus with the example's defaults (vision 7, citizen
    density 0.7, cops 0.074), timed in alternating batches by
    :func:`sim.classics.epstein.benchmark`, under this interpreter and its Mesa."""
    import platform

    import mesa

    from sim.classics.epstein import benchmark

    r = benchmark(size, mesa_steps=mesa_steps, steps=our_steps, seed=seed)
    return {"mesa": mesa.__version__, "python": platform.python_version(),
            "grid": f"{size}x{size}", "agents": r["agents"],
            "mesa_agent_steps_per_s": r["mesa_agent_steps_per_s"],
            "ours_agent_steps_per_s": r["numba_agent_steps_per_s"], "ratio": r["ratio"],
            "median_ratio": r["median_ratio"]}
