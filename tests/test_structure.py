"""The shape of the package ``sim/``, checked statically so that a newcomer finds their way in.

A contributor should be able to open one module, one function, one mechanism and read it whole.
These rules keep that true; their numbers come from the project's own issue on the layout:

1. No import cycles among the package's modules: the layers read in one direction.
2. No module over 400 lines.
3. The model class ``BlowbackModel`` at most 200 lines: the week is a list of mechanisms, not
   their bodies.
4. No function over 60 lines, except a fused kernel (a comment in its body says "fused"): those
   are listed in a printed note.
5. No numba kernel with more than 12 parameters: pass a state or a table, not every array.
6. No hand-numbered random purposes in ``sim/core/rng.py``.
7. Every module of ``sim/mechanisms/`` is ``mNN_subject.py`` (or allow-listed below) and declares
   a module-level ``MECHANISM``.

Pure ``ast`` over the source files: nothing of the package is imported.  Each rule is one test
whose failure lists every offender (``path:line  name  measured``), so one run shows them all.
"""

from __future__ import annotations

import ast
import re
import tokenize
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sim"

MAX_MODULE_LINES = 400
MAX_MODEL_LINES = 200
MAX_FUNCTION_LINES = 60
MAX_KERNEL_PARAMS = 12
MAX_NUMBERED_PURPOSES = 4  # a run of 5 consecutive integer constants fails
MODEL_CLASS = "BlowbackModel"
RNG_MODULE = PACKAGE / "core" / "rng.py"
MECHANISMS = PACKAGE / "mechanisms"
# Modules of sim/mechanisms/ for what the design takes as given, or the fused attitude loop
# (paths relative to it).
MECHANISM_ALLOW: tuple[str, ...] = ("armed_violence.py", "attitudes.py", "conduct.py",
                                    "territorial_control.py")
MECHANISM_NAME = re.compile(r"m\d{2}_[a-z]+(?:_[a-z]+)*\.py")
KERNEL_DECORATORS = {"njit", "jit"}
FUSED = re.compile(r"\bfused\b", re.IGNORECASE)


@cache
def sources() -> dict[Path, ast.Module]:
    """Every ``.py`` file under ``sim/``, parsed, by path relative to the repository root."""
    return {
        path.relative_to(ROOT): ast.parse(path.read_text(encoding="utf-8"), str(path))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def module_file(name: str) -> Path | None:
    """The file of module ``name`` (a package's ``__init__.py``), or None if it is not ours."""
    if name.split(".")[0] != PACKAGE.name:
        return None
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path.relative_to(ROOT)
    return None


def imported(path: Path, node: ast.Import | ast.ImportFrom) -> list[str]:
    """The package's modules that one import statement of ``path`` loads."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module_name(path).split(".")
            if path.name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - node.level + 1]
            base = ".".join(package + ([node.module] if node.module else []))
        # `from sim.core import rng` imports the module sim.core.rng when there is one.
        names = [f"{base}.{alias.name}" if module_file(f"{base}.{alias.name}") else base
                 for alias in node.names]
    return [name for name in names if module_file(name)]


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: line of its first import}, over every import in every file."""
    graph: dict[str, dict[str, int]] = {}
    for path, tree in sources().items():
        edges = graph.setdefault(module_name(path), {})
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                for target in imported(path, node):
                    edges.setdefault(target, node.lineno)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components of ``graph``."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, {}):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return components


def functions():
    """(path, node) of every function and method of the package, nested ones included."""
    for path, tree in sources().items():
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                yield path, node


def length(node: ast.AST) -> int:
    """Lines from the ``def``/``class`` line to the last, decorators excluded."""
    return node.end_lineno - node.lineno + 1


@cache
def comment_lines(path: Path) -> dict[int, str]:
    with tokenize.open(ROOT / path) as file:
        tokens = tokenize.generate_tokens(file.readline)
        return {tok.start[0]: tok.string for tok in tokens if tok.type == tokenize.COMMENT}


def is_fused(path: Path, node: ast.AST) -> bool:
    """Whether a comment in the function's lines has the word "fused"."""
    return any(FUSED.search(text) for line, text in comment_lines(path).items()
               if node.lineno <= line <= node.end_lineno)


def is_kernel(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Decorated with ``njit``/``jit``, bare or called, plain or as ``numba.njit``."""
    for decorator in node.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
        if name in KERNEL_DECORATORS:
            return True
    return False


def report(rule: str, offenders: list[str]) -> str:
    return f"{rule}: {len(offenders)} offender(s)\n  " + "\n  ".join(offenders)


def test_no_import_cycles():
    """No two modules import each other, directly or around a loop, nor a module itself.

    Every import counts, including those inside functions; a package is its ``__init__.py``;
    ``import sim.a.b`` is an edge to ``sim.a.b`` only (not to the packages above it).
    """
    graph = import_graph()
    offenders = []
    for component in strongly_connected(graph):
        if len(component) == 1 and component[0] not in graph[component[0]]:
            continue
        members = set(component)
        edges = [f"{module_file(a)}:{line}  {a} -> {b}" for a in component
                 for line, b in sorted((line, b) for b, line in graph[a].items() if b in members)]
        offenders.append(f"cycle of {len(component)}: {', '.join(component)}\n    "
                         + "\n    ".join(edges))
    assert not offenders, report("import cycles", offenders)


def test_module_length():
    """No module over 400 physical lines."""
    offenders = []
    for path in sources():
        lines = len((ROOT / path).read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{path}:1  {module_name(path)}  {lines} lines")
    assert not offenders, report(f"modules over {MAX_MODULE_LINES} lines", offenders)


def test_model_class_length():
    """The class ``BlowbackModel``, wherever it is defined, at most 200 lines."""
    found = [(path, node) for path, tree in sources().items() for node in ast.walk(tree)
             if isinstance(node, ast.ClassDef) and node.name == MODEL_CLASS]
    assert found, f"class {MODEL_CLASS} not found under sim/"
    offenders = [f"{path}:{node.lineno}  {MODEL_CLASS}  {length(node)} lines"
                 for path, node in found if length(node) > MAX_MODEL_LINES]
    assert not offenders, report(f"{MODEL_CLASS} over {MAX_MODEL_LINES} lines", offenders)


def test_function_length():
    """No function or method over 60 lines, except fused kernels (printed, not failed)."""
    offenders, fused = [], []
    for path, node in functions():
        if length(node) > MAX_FUNCTION_LINES:
            entry = f"{path}:{node.lineno}  {node.name}  {length(node)} lines"
            (fused if is_fused(path, node) else offenders).append(entry)
    if fused:
        print(report("note: fused kernels allowed over the limit", fused))
    assert not offenders, report(f"functions over {MAX_FUNCTION_LINES} lines", offenders)


def test_kernel_parameters():
    """No numba kernel with more than 12 parameters (positional and keyword-only)."""
    offenders = []
    for path, node in functions():
        args = node.args
        count = len(args.posonlyargs) + len(args.args) + len(args.kwonlyargs)
        if is_kernel(node) and count > MAX_KERNEL_PARAMS:
            offenders.append(f"{path}:{node.lineno}  {node.name}  {count} parameters")
    assert not offenders, report(f"kernels over {MAX_KERNEL_PARAMS} parameters", offenders)


def test_no_numbered_random_purposes():
    """``sim/core/rng.py`` does not number the purposes of its draws by hand.

    Kept simple: a run of 5 or more consecutive module-level assignments of an integer literal
    to an upper-case name (``ENGAGE_KILLS = 1``, ``ENGAGE_HARM = 2``, ...) fails.  Each such
    constant must be kept unique by hand; purposes should be declared where they are used.
    """
    if not RNG_MODULE.is_file():
        return
    path = RNG_MODULE.relative_to(ROOT)
    runs: list[list[ast.Assign]] = [[]]
    for node in sources()[path].body:
        numbered = (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()
                    and isinstance(node.value, ast.Constant) and type(node.value.value) is int)
        if numbered:
            runs[-1].append(node)
        elif runs[-1]:
            runs.append([])
    offenders = [f"{path}:{run[0].lineno}  {run[0].targets[0].id} .. {run[-1].targets[0].id}"
                 f"  {len(run)} numbered constants"
                 for run in runs if len(run) > MAX_NUMBERED_PURPOSES]
    assert not offenders, report("hand-numbered random purposes", offenders)


def test_mechanism_modules():
    """Each module of ``sim/mechanisms/`` is ``mNN_subject.py`` and defines ``MECHANISM``."""
    assert MECHANISMS.is_dir(), "sim/mechanisms/ does not exist yet: one module per mechanism"
    offenders = []
    for file in sorted(MECHANISMS.rglob("*.py")):
        name = file.relative_to(MECHANISMS).as_posix()
        if file.name == "__init__.py" or name in MECHANISM_ALLOW:
            continue
        path = file.relative_to(ROOT)
        if not MECHANISM_NAME.fullmatch(name):
            offenders.append(f"{path}:1  {name}  not named mNN_subject.py")
        declared = {target.id for node in sources()[path].body
                    if isinstance(node, ast.Assign | ast.AnnAssign)
                    for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
                    if isinstance(target, ast.Name)}
        if "MECHANISM" not in declared:
            offenders.append(f"{path}:1  {name}  no module-level MECHANISM")
    assert not offenders, report("mechanism modules", offenders)


def test_no_half_saturation_is_a_bare_number():
    """A ratio ``x / (x + K)`` of a mechanism names its ``K`` (CONTRIBUTING: every number that
    shapes behaviour is a declared parameter or a named constant with its source).  Ratios of a
    bare number over a sum (the logistic's ``1 / (1 + e)``) are shapes, not constants."""
    def literals(node: ast.AST) -> list[ast.Constant]:
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
            return literals(node.left) + literals(node.right)
        numeric = isinstance(node, ast.Constant) and type(node.value) in (int, float)
        return [node] if numeric else []

    offenders = []
    for path, tree in sources().items():
        if MECHANISMS.relative_to(ROOT) not in path.parents:
            continue
        for node in ast.walk(tree):
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
                    and not isinstance(node.left, ast.Constant)
                    and isinstance(node.right, ast.BinOp) and literals(node.right)):
                offenders.append(f"{path}:{node.lineno}  {ast.unparse(node)}")
    assert not offenders, report("half-saturations written as a bare number", offenders)
