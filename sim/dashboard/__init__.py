"""The seminar dashboard: ``blowback dashboard``, or ``Dashboard(...)`` in a notebook.

Needs the ``dashboard`` extra (``pip install -e '.[dashboard]'``): Solara and its widgets.
:mod:`sim.dashboard.session` (the runs, levers and events), :mod:`sim.dashboard.map` and
:mod:`sim.dashboard.charts` (the drawings) work without it.
"""
