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


def test_the_scenario_table_names_every_key_a_file_sets_beyond_institutions():
    """Section 1.1's table says what each scenario file changes; a key that is not an
    institution (the regimes may differ only in institutions) must be named in its row, so that
    a reader sees where a file sets the world or behaviour."""
    import tomllib

    kinds = {p.name: p.kind for p in PARAMETERS}
    rows = [line for line in TEXT.splitlines() if re.match(r"\| [\d–-]+ \|", line)]
    assert rows, "section 1.1 has no table of scenario files"
    unnamed = []
    for row in rows:
        for file in re.findall(r"`(\w+\.toml)`", row)[:1]:
            data = tomllib.loads((ROOT / "scenarios" / file).read_text(encoding="utf-8"))
            for section, table in data.items():
                if not isinstance(table, dict):
                    continue
                for key in table:
                    name = f"{section}.{key}"
                    if kinds.get(name) in ("world", "behaviour") and name not in row:
                        unnamed.append(f"{file}: {name} ({kinds[name]})")
    assert not unnamed, f"set but not named in ODD 1.1's table: {unnamed}"


def test_the_initial_support_is_the_named_share_of_grievance_that_section_5_2_states():
    """A community starts supporting the armed groups at ``INITIAL_SUPPORT`` times its grievance,
    a named constant (CONTRIBUTING), and section 5.2 states that number."""
    import numpy as np

    from sim.core.state import INITIAL_SUPPORT, Communities

    made = Communities.create(np.zeros(2, np.int64), np.zeros(2, np.int8), np.ones(2), 0.5, 0.3)
    assert np.all(made.support == INITIAL_SUPPORT * 0.3)
    assert f"support = {INITIAL_SUPPORT:g} × grievance" in " ".join(TEXT.split())
