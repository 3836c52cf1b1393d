"""What calling the week's kernels costs: numba types every argument at every call, and a
table passed as a named tuple costs more to type than the same arrays as a plain tuple."""

from __future__ import annotations

import time


def week_calls(communities: int, first: int | None = None) -> tuple:
    """The model (of the profile's scenario, after four weeks) and the arguments of each kernel
    call of its fifth week, in order: all of them, or with ``first`` only the first ones."""
    from benchmarks.conflict import _scenario, _spies
    from sim.core.model import BlowbackModel

    model = BlowbackModel(_scenario(communities), agents=False)
    model.run(4)
    calls: list[tuple] = []

    def spy(_name, kernel):
        def call(*args):
            calls.append(args)
            return kernel(*args)
        return call

    with _spies(spy):
        model.step()
    return model, calls[:first]


def calling(communities: int, repeats: int, first: int | None = None) -> dict:
    """Microseconds a week spent calling the kernels, kernel work aside, at ``communities``.

    The arguments of every kernel call of one week (of the profile's scenario) are handed to a
    compiled function that does nothing, once as the week passes them (each table a plain tuple
    of its arrays) and once with each table as its named tuple; each way is timed ``repeats``
    times over the whole week's calls, alternately, and the best of each is kept.  With
    ``first``, only the week's first calls are (for the tiny run, since the function that does
    nothing is compiled again for each kernel's arguments, about a third of a second each).
    """
    from numba import njit

    model, calls = week_calls(communities, first)
    tables = {id(t.view()): t.View for t in (model.communities, model.cells, model.forces,
                                              model.bands, model.world)}

    def named(arg):
        return tables[id(arg)](*arg) if id(arg) in tables else arg

    as_named = [tuple(map(named, args)) for args in calls]

    @njit
    def nothing(*args):
        return 0

    def week(arguments) -> float:
        start = time.perf_counter()
        for args in arguments:
            nothing(*args)
        return time.perf_counter() - start

    week(calls)
    week(as_named)
    plain, names = float("inf"), float("inf")
    for _ in range(repeats):
        plain = min(plain, week(calls))
        names = min(names, week(as_named))
    arrays = sum(len(a) for args in calls for a in args if id(a) in tables)
    return {"communities": communities, "calls": len(calls), "table_arrays": arrays,
            "plain_us": plain * 1e6, "named_us": names * 1e6}
