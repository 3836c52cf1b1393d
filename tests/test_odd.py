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


def _institution_labels() -> dict[str, str]:
    """Section 3.2's table: the label of each model-level step (``18e``) by the module file its
    row names (``m10_sanctions.py``)."""
    labels = {}
    for line in TEXT.splitlines():
        row = re.match(r"\| (18[a-g]) \|.*?`(?:sim/\w+/)?(\w+\.py):", line)
        if row:
            labels.setdefault(row.group(2), row.group(1))
    return labels


def test_section_3_2_says_which_levers_act_at_this_weeks_funding():
    """The week's settlement (M7) sets the levers' funding (``model.lever_funding``); a step
    after it that reads a lever (``m07_rent.lever``) acts at this week's funding, one before it
    at the previous week's.  Section 3.2 names each later step as using this week's."""
    import inspect
    import sys

    from sim.core.week import WEEK
    from sim.mechanisms import m07_rent

    after = WEEK[WEEK.index(m07_rent.RENT) + 1:]
    readers = {inspect.getsourcefile(step.run).rsplit("/", 1)[-1] for step in after
               if "lever(" in inspect.getsource(sys.modules[step.run.__module__])}
    assert readers, "no step after the settlement reads a lever"
    labels = _institution_labels()
    paragraph = " ".join(TEXT.split("Consequences of this order:")[1].split("\n\n")[0].split())
    later = paragraph.split("use this week's")[0].split("previous week's settlement")[-1]
    unnamed = [f"{labels[f]} ({f})" for f in sorted(readers) if labels[f] not in later]
    assert not unnamed, f"section 3.2 does not say these use this week's funding: {unnamed}"


def test_the_scenario_table_has_a_row_for_every_scenario_file():
    """Section 1.1's table is where a reader learns what each file of ``scenarios/`` sets, and
    which set more than institutions; a file left out of it (the calibrated timeline, which sets
    behaviour) is one the reader cannot place."""
    rows = " ".join(line for line in TEXT.splitlines() if re.match(r"\| [\d–-]+ \|", line))
    missing = [path.name for path in sorted((ROOT / "scenarios").glob("*.toml"))
               if f"`{path.name}`" not in rows]
    assert not missing, f"not in ODD 1.1's table of scenario files: {missing}"
