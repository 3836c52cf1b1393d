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


def _listed_half_saturations() -> set[float]:
    """The numbers of section 8.1's list of half-saturation constants (2·10⁴ is 20000)."""
    listed = re.search(r"all half-saturation constants \(([^)]*)\)", TEXT)
    assert listed, "section 8.1 lists no half-saturation constants"
    superscript = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
    numbers = set()
    for item in re.split(r",\s*", " ".join(listed.group(1).split())):
        if item.startswith("10") and item[2:3] in "⁰¹²³⁴⁵⁶⁷⁸⁹" and item[2:3]:  # 10⁵
            item = "1·" + item
        item = item.translate(superscript)
        factor, _, power = item.partition("·10")
        numbers.add(float(factor) * 10 ** int(power or 0))
    return numbers


def test_the_half_saturation_constants_are_all_listed():
    """Section 8.1 says it lists *all* the half-saturation constants that sit in the code: every
    ``*_HALF`` constant of a mechanism is among them."""
    import importlib
    import pkgutil

    import sim.mechanisms

    listed = _listed_half_saturations()
    missing = []
    for info in pkgutil.iter_modules(sim.mechanisms.__path__):
        module = importlib.import_module(f"sim.mechanisms.{info.name}")
        for name, value in vars(module).items():
            if name.endswith("_HALF") and isinstance(value, float) and value not in listed:
                missing.append(f"{info.name}.{name} = {value:g}")
    assert not missing, f"not in ODD 8.1's list {sorted(listed)}: {missing}"
