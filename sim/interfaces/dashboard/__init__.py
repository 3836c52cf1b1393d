"""The seminar dashboard: ``blowback dashboard``, or ``Dashboard(...)`` in a notebook.

Needs the ``dashboard`` extra (``pip install -e '.[dashboard]'``): Solara and its widgets.
:mod:`sim.interfaces.dashboard.session` (the runs, levers and events),
:mod:`sim.interfaces.dashboard.page_values` (the checks of every value the page sends),
:mod:`sim.interfaces.dashboard.map` and :mod:`sim.interfaces.dashboard.charts` (the drawings)
work without it.
"""

from sim.lazy import submodules

__getattr__ = submodules(__name__)
