"""Where the shipped scenarios are, in a source checkout and in an installed package alike.

A checkout keeps them in its top-level ``scenarios/`` (base.toml, the regimes, experiments/,
calibration/, epstein/ and the posterior beside mali_calibrated.toml); a wheel carries the same
tree inside the package as ``sim/scenarios`` (pyproject.toml maps the package ``sim.scenarios``
onto that folder).  An editable install and a session started in the checkout import ``sim``
from the checkout itself, and read the folder beside it.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def scenarios_folder() -> Path:
    """The folder of the shipped scenarios: inside the installed package (a regular install),
    else the checkout's ``scenarios/`` beside the package."""
    package = Path(str(files("sim")))
    installed = package / "scenarios"
    return installed if installed.is_dir() else package.parent / "scenarios"
