"""The layers of the code hold: no module imports a higher layer, and pages hold no SQL.

Layers, low to high (see docs/architecture.md): the foundation modules at the top of
``geo/`` → ``geo/store`` → ``geo/places`` → ``geo/privacy`` → ``geo/ingest`` → ``geo/roads``
→ the analysis layer (``geo/analysis``, ``geo/field``, ``geo/campaigns``, ``geo/maps``) →
``geo/cli`` → ``territories`` → the entry points and ``pages``. A module may import its own
layer and the layers below it, and no modules import each other in a circle.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from geo.config import PROJECT_DIR

ROOT = "geo"
"""The core's own package: only ``geo`` itself (its ``__init__``) is foundation, not what lies under it."""
LAYERS = (
    ("foundation", (ROOT, "geo.config", "geo.errors", "geo.clock", "geo.choices", "geo.formatting")),
    ("store", ("geo.store",)),
    ("places", ("geo.places",)),
    ("privacy", ("geo.privacy",)),
    ("ingest", ("geo.ingest",)),
    ("roads", ("geo.roads",)),
    ("analysis", ("geo.analysis", "geo.field", "geo.campaigns", "geo.maps")),
    ("cli", ("geo.cli",)),
    ("territories", ("territories",)),
    ("entries", ("pages", "app", "serve", "gcrm")),
)
"""Layer name → the modules (and packages) it holds, low to high."""
PRODUCT = ("geo", "territories", "pages", "app", "serve", "gcrm")
"""The top-level names of gcrm's own code; an import of anything else is a library's."""
SQL = re.compile(r"\b(SELECT\b.+\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b", re.I | re.S)
"""A string literal that is SQL."""
CURSOR_METHODS = ("execute", "executemany", "copy_expert", "copy_from", "copy_to", "mogrify")
"""The psycopg2 cursor methods that send SQL: pages call none of them."""


def layer_of(module: str) -> int | None:
    """Return the layer index of a gcrm module (the longest matching prefix), None for others."""
    best = None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or (prefix != ROOT and module.startswith(prefix + ".")):
                length = len(prefix)
                if best is None or length > best[0]:
                    best = (length, index)
    return None if best is None else best[1]


def module_name(path: Path) -> str:
    """Return the dotted module name of a source file under the project."""
    parts = path.relative_to(PROJECT_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(tree: ast.AST, module: str) -> list[tuple[int, str]]:
    """Return (line, module) for every import in a file, at any depth, relative ones resolved."""
    found = []
    package = module if module.count(".") == 0 else module.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base]) if base else ".".join(anchor)
            found += [(node.lineno, f"{base}.{alias.name}" if base else alias.name) for alias in node.names]
    return found


def source_files() -> list[Path]:
    """Every Python file of the product (not tests, benchmarks or data scripts)."""
    roots = [PROJECT_DIR / "geo", PROJECT_DIR / "territories", PROJECT_DIR / "pages"]
    files = [path for root in roots for path in sorted(root.rglob("*.py"))]
    return files + [
        PROJECT_DIR / name for name in ("app.py", "serve.py", "gcrm.py") if (PROJECT_DIR / name).exists()
    ]


def product_imports(path: Path, modules: set[str]) -> set[str]:
    """Return the product modules one file imports (``from package import module`` names the module)."""
    module = module_name(path)
    found = set()
    for _, imported in imported_modules(ast.parse(path.read_text(encoding="utf-8")), module):
        while imported and imported not in modules:
            imported = imported.rpartition(".")[0]
        if imported and imported != module:
            found.add(imported)
    return found


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the groups of modules that import each other in a circle (Tarjan: strongly connected)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def upward_imports(module: str, source: str) -> list[str]:
    """List the imports in one module's source that point to a higher layer (``line: a imports b``)."""
    own = layer_of(module)
    problems = []
    for line, imported in imported_modules(ast.parse(source), module):
        target = layer_of(imported)
        if own is not None and target is not None and target > own:
            problems.append(f"{line}: {module} ({LAYERS[own][0]}) imports {imported} ({LAYERS[target][0]})")
    return problems


def test_no_module_imports_a_higher_layer() -> None:
    problems = [
        f"{path.relative_to(PROJECT_DIR)}:{problem}"
        for path in source_files()
        for problem in upward_imports(module_name(path), path.read_text(encoding="utf-8"))
    ]
    assert not problems, "imports that point up a layer:\n" + "\n".join(problems)


def test_every_module_has_a_layer() -> None:
    """A new package under ``geo/`` (``geo/roads``, say) needs its row in LAYERS and the architecture."""
    names = {module_name(path) for path in source_files()}
    for path in source_files():
        names |= {
            imported
            for _, imported in imported_modules(
                ast.parse(path.read_text(encoding="utf-8")), module_name(path)
            )
        }
    missing = sorted(n for n in names if n.split(".")[0] in PRODUCT and layer_of(n) is None)
    assert not missing, f"modules in no layer (add them to LAYERS): {missing}"


def test_no_modules_import_each_other_in_a_circle() -> None:
    modules = {module_name(path) for path in source_files()}
    graph = {module_name(path): product_imports(path, modules) for path in source_files()}
    cycles = import_cycles(graph)
    assert not cycles, "modules that import each other in a circle (one group a line):\n" + "\n".join(
        ", ".join(group) for group in cycles
    )


def test_the_cycle_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert import_cycles(graph) == [["a", "b", "c"]]


def test_the_store_imports_only_the_foundation_of_geo() -> None:
    store = sorted((PROJECT_DIR / "geo" / "store").rglob("*.py"))
    problems = []
    for path in store:
        module = module_name(path)
        for line, imported in imported_modules(ast.parse(path.read_text(encoding="utf-8")), module):
            if imported.startswith("geo.") and layer_of(imported) not in (0, 1):
                problems.append(f"{path.relative_to(PROJECT_DIR)}:{line}: {imported}")
    assert not problems, problems


def test_nothing_in_geo_imports_territories_or_pages() -> None:
    problems = []
    for path in sorted((PROJECT_DIR / "geo").rglob("*.py")):
        module = module_name(path)
        for line, imported in imported_modules(ast.parse(path.read_text(encoding="utf-8")), module):
            if imported.split(".")[0] in ("territories", "pages"):
                problems.append(f"{path.relative_to(PROJECT_DIR)}:{line}: {imported}")
    assert not problems, problems


def test_pages_hold_no_sql() -> None:
    problems = []
    for path in [*sorted((PROJECT_DIR / "pages").rglob("*.py")), PROJECT_DIR / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and SQL.search(node.value):
                problems.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: SQL text")
            if isinstance(node, ast.Attribute) and node.attr in CURSOR_METHODS:
                problems.append(f"{path.relative_to(PROJECT_DIR)}:{node.lineno}: .{node.attr}")
    assert not problems, problems


@pytest.mark.parametrize(
    ("module", "forbidden", "expected"),
    [
        ("geo.store.db", "from geo.cli import command", "geo.store.db (store) imports geo.cli.command (cli)"),
        ("geo.places.regions", "import territories.plan", "imports territories.plan (territories)"),
        (
            "geo.ingest.demo",
            "def later():\n    from geo.maps import region_maps",
            "imports geo.maps.region_maps (analysis)",
        ),
        ("geo.field.nearby", "from ..cli import command", "imports geo.cli.command (cli)"),
        ("territories.plan", "from pages._shared import caches", "imports pages._shared.caches (entries)"),
        ("geo.store.users", "from geo.roads import network", "imports geo.roads.network (roads)"),
    ],
)
def test_the_layer_check_fails_on_an_upward_import(module: str, forbidden: str, expected: str) -> None:
    path = PROJECT_DIR.joinpath(*module.split(".")).with_suffix(".py")
    source = path.read_text(encoding="utf-8")
    assert not any(expected in problem for problem in upward_imports(module, source))
    problems = upward_imports(module, source + "\n" + forbidden + "\n")
    assert any(expected in problem for problem in problems), problems
