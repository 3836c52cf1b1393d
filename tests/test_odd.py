"""docs/ODD.md against the code it describes: what its text names and lists is what the code
declares (the generated appendix of defaults is checked in ``tests/test_scenario.py``)."""

from __future__ import annotations

import re

from conftest import ROOT

from sim.core.parameters import PARAMETERS

ODD = (ROOT / "docs" / "ODD.md").read_text(encoding="utf-8")
# The text a reader reads, without the appendix generated from the registry.
TEXT = ODD.split("<!-- BEGIN GENERATED DEFAULTS -->")[0]


def test_every_parameter_is_named_in_the_text():
    """Each declared parameter is named where the text describes what it does, not only in the
    generated appendix: a reader of a formula can find the parameter behind each symbol."""
    missing = [p.name for p in PARAMETERS
               if not re.search(r"(?<![\w.])" + re.escape(p.name) + r"(?![\w])", TEXT)]
    assert not missing, f"named only in the appendix: {missing}"
