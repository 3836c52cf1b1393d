"""Every notebook of ``notebooks/`` runs from top to bottom with small settings, in a kernel of
this very interpreter, and leaves its key outputs behind.

Each notebook reads its size from one cell tagged ``parameters`` (papermill's convention); the
test inserts a cell after it that shrinks the names it defines, as papermill would.  A new
notebook is picked up by the glob; its specific checks go in ``KEY_OUTPUTS``.
"""

from __future__ import annotations

import ast

import nbformat
import pytest
from conftest import ROOT
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from sim.core.scenario import load_scenario

NOTEBOOKS = ROOT / "notebooks"
PATHS = sorted(NOTEBOOKS.glob("*.ipynb"))

# Two seeds is the fewest an interval over seeds can be drawn from.
SMALL = {"SEEDS": 2, "COMMUNITIES": 600, "STEPS": 52, "JOBS": 1}

# Checked in the notebook's kernel after its last cell, with the small settings in force.
KEY_OUTPUTS: dict[str, list[str]] = {
    "01_quick_start.ipynb": [
        "len(s.results) == STEPS",
        "len(twin.results) == STEPS // 2 + 8",
        "len(communities_table) == COMMUNITIES",
        "set(by_group.index) <= set(sim.world.geography.GROUPS)",
        "not no_news.model.news_state.any() and s.model.news_state.any()",
        "no_news.model.changed_by_hand == [(0, \"step 'M04 harm and news: news spreads' "
        "replaced by without_news\")]",
    ],
    "02_mechanisms.ipynb": [
        "set(all_findings['mechanism']) == {f'M{k}' for k in range(1, 15)}",
        "(all_findings['seeds'] == SEEDS).all()",
    ],
    "03_regimes.ipynb": [
        "table['scenario'].nunique() == len(REGIMES) == 6",
        "set(differences['scenario']) == set(table['scenario']) - {'Partner-led'}",
        "len(comparison.runs) == len(REGIMES) * SEEDS",
        "bar.n == bar.total == len(REGIMES) * SEEDS",
        "(table['low'] <= table['mean']).all() and (table['mean'] <= table['high']).all()",
    ],
    "04_seminar_exercise.ipynb": [
        "list(answers.index) == list(prediction)",
        "set(comparison.table['scenario']) == set(NAMES.values())",
        "len(lever_difference) == len(SHOWN)",
    ],
    "05_mali_timeline.ipynb": [
        "set(years['year']) == set(range(2013, 2025))",
        "set(figures['use']) == {'fitted', 'not fitted', 'retrodicted'}",
        "figures[['low', 'median', 'high']].notna().all().all()",
        "len(series) == len(before) == SEEDS",
        "list(killed.index) == list(range(2013, 2025))",
        "set(retro.columns) == {2022, 2023, 2024}",
    ],
}

# Figures each notebook must draw (the quick start and every comparison draw several).
MIN_FIGURES = {"01_quick_start.ipynb": 2, "02_mechanisms.ipynb": 4, "03_regimes.ipynb": 3,
               "04_seminar_exercise.ipynb": 2, "05_mali_timeline.ipynb": 3}


def parameter_names(nb: nbformat.NotebookNode) -> list[str]:
    """The names assigned in the notebook's one cell tagged ``parameters``."""
    tagged = [k for k, cell in enumerate(nb.cells)
              if "parameters" in cell.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, "a notebook needs exactly one cell tagged 'parameters'"
    tree = ast.parse(nb.cells[tagged[0]].source)
    return [target.id for node in tree.body if isinstance(node, ast.Assign)
            for target in node.targets if isinstance(target, ast.Name)]


def shrink(nb: nbformat.NotebookNode) -> None:
    """Insert the small settings right after the parameters cell."""
    names = parameter_names(nb)
    small = {name: SMALL[name] for name in names if name in SMALL}
    assert small, f"the parameters cell sets none of {sorted(SMALL)}: it cannot be made small"
    at = next(k for k, cell in enumerate(nb.cells)
              if "parameters" in cell.get("metadata", {}).get("tags", []))
    source = "\n".join(f"{name} = {value!r}" for name, value in small.items())
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(at + 1, cell)


def figures(nb: nbformat.NotebookNode) -> int:
    """PNG images among the outputs of an executed notebook."""
    return sum("image/png" in output.get("data", {})
               for cell in nb.cells if cell.cell_type == "code" for output in cell.outputs)


def test_there_are_notebooks_and_every_one_has_checks():
    assert {p.name for p in PATHS} == set(KEY_OUTPUTS) == set(MIN_FIGURES)


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:60]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_notebook_runs_with_small_settings(path, monkeypatch):
    nb = nbformat.read(path, as_version=4)
    shrink(nb)
    import sys

    checks = [f"assert sys.executable == {sys.executable!r}, 'not this interpreter'"]
    checks += [f"assert {check}, {check!r}" for check in KEY_OUTPUTS.get(path.name, [])]
    nb.cells.append(nbformat.v4.new_code_cell("import sys\n" + "\n".join(checks)))
    # The inline backend renders with Agg (no display needed) and hands the figures to the
    # notebook as PNG outputs, which the test counts; plain Agg would draw them nowhere.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    execute(nb)
    assert figures(nb) >= MIN_FIGURES[path.name]


# Settings that leave every result as it is: the guard of the statements about results ignores them.
NOT_RESULTS = {"JOBS"}


def guard(nb: nbformat.NotebookNode) -> str | None:
    """The expression of the notebook's ``FULL`` or ``DEFAULTS`` flag, under which the
    statements its prose makes about results are asserted; None where it has none."""
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.parse(cell.source).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and getattr(node.targets[0], "id", None) in ("FULL", "DEFAULTS")):
                return ast.unparse(node.value)
    return None


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_the_statements_about_results_are_asserted_at_the_defaults_only(path):
    """The prose's statements about results are measured at the defaults: the flag that
    asserts them holds there and at no neighbouring setting (in 05, with 10 or 11 draws the
    median of armed group A is under the five times JNIM's 800 that its check asserts)."""
    nb = nbformat.read(path, as_version=4)
    flag = guard(nb)
    if flag is None:
        return
    cell = next(c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", []))
    defaults: dict = {}
    exec(cell.source, {}, defaults)  # the notebook's own parameters cell: literals only
    assert eval(flag, {}, dict(defaults)), flag
    for name in sorted(set(parameter_names(nb)) - NOT_RESULTS):
        for other in (defaults[name] - 1, defaults[name] + 1):
            assert not eval(flag, {}, {**defaults, name: other}), f"{flag} at {name} = {other}"


def test_the_quick_start_holds_at_its_defaults(monkeypatch):
    """The quick start's sentences that hold only at its default size and seed are checked
    there too (its ``DEFAULTS`` branches), a run of 4,000 communities for ten years: the small
    settings skip them."""
    nb = nbformat.read(NOTEBOOKS / "01_quick_start.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("assert DEFAULTS, 'not run at the defaults'"))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    execute(nb)


def execute(nb: nbformat.NotebookNode) -> None:
    """Run every cell in a fresh kernel of this interpreter, from ``notebooks/``; a cell that
    raises (a failed assertion included) raises here."""
    # No kernel directories: always ipykernel's own spec, which runs this interpreter, never a
    # "python3" kernel that a user or system installed for another Python.
    km = AsyncKernelManager(kernel_name="python3",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))
    client = NotebookClient(nb, km=km, timeout=600,
                            resources={"metadata": {"path": str(NOTEBOOKS)}})
    # A client given its kernel manager leaves the kernel running unless told to clean up.
    client.execute(cleanup_kc=True)


def test_a_failed_assertion_in_a_cell_fails_the_run():
    # The notebooks check their own statements with assertions: one that fails must fail the
    # test, not just print a traceback into the cell's output.
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell('assert x == 2, "the sentence above is false"'),
        nbformat.v4.new_code_cell("reached = True")])
    with pytest.raises(CellExecutionError, match="the sentence above is false"):
        execute(nb)
    assert nb.cells[2].execution_count is None, "the cells after a failed one do not run"


def markdown_lines(nb: nbformat.NotebookNode) -> list[str]:
    """The lines of a notebook's markdown cells."""
    return [line for cell in nb.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines()]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: p.name)
def test_the_prose_wraps_at_100_columns(path):
    # Table rows cannot be wrapped; every other line of prose can.
    long = [line[:60] for line in markdown_lines(nbformat.read(path, as_version=4))
            if len(line) > 100 and not line.startswith("|")]
    assert not long, long


def test_partner_led_is_described_by_what_its_file_sets():
    """partner_led.toml sets independent monitoring, investigation and punishment (0.3, 0.6,
    0.6, the accountable contractor's); the model has no "integrated command" to set."""
    scenario = load_scenario(ROOT / "scenarios" / "partner_led.toml")
    assert scenario.params["oversight.investigation"] > 0.4  # above the base world's
    assert scenario.params["oversight.punishment"] > 0.4
    for name, start in (("03_regimes.ipynb", "| Partner-led |"), ("04_seminar_exercise.ipynb",
                                                                   "- **A — Partner-led.**")):
        text = "\n".join(markdown_lines(nbformat.read(NOTEBOOKS / name, as_version=4)))
        described = text[text.index(start):].split("No contractor")[0].split("no contractor")[0]
        assert "integrated command" not in described, name
        assert "investigat" in described and "punish" in described, name


def test_an_experiment_run_twice_leaves_one_row_in_the_mechanisms_table(monkeypatch):
    """Running a cell of ``02_mechanisms`` again, as a student does, replaces its row of the
    table of all the experiments; it used to add a second one."""
    nb = nbformat.read(NOTEBOOKS / "02_mechanisms.ipynb", as_version=4)
    shrink(nb)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    m8 = next(source for source in code if 'experiment("M8"' in source)
    monkeypatch.chdir(NOTEBOOKS)
    namespace = {"display": lambda *_: None}
    for source in [*code[:3], m8, m8]:  # the parameters, the small settings, the helpers
        exec(source, namespace)  # noqa: S102 - the notebook's own cells
    assert len(namespace["findings"]) == 1


def test_an_empty_pair_of_braces_for_no_partner_is_told_to_write_set(monkeypatch):
    """A student who predicts that the partner stays nowhere writes ``{}``, an empty dict: the
    check refused it with an example of a set of letters, which says nothing of ``set()``."""
    nb = nbformat.read(NOTEBOOKS / "04_seminar_exercise.ipynb", as_version=4)
    code = [cell.source for cell in nb.cells if cell.cell_type == "code"]
    check = next(source for source in code if "def check_prediction" in source)
    namespace: dict = {"OPTIONS": {"A": "", "B": "", "C": ""}, "prediction": {}}
    exec(check, namespace)  # noqa: S102 - the notebook's own cell
    with pytest.raises(ValueError, match=r"set\(\) for none \(\{\} is an empty dict\)"):
        namespace["check_prediction"]({"partner_stays": {}})
    namespace["check_prediction"]({"partner_stays": set()})
