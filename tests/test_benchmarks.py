"""Benchmarks run from the set-up: documented options are the parser's, imports are declared."""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import importlib.util
import re
import sys
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from geo.config import PROJECT_DIR

BENCHMARKS = sorted((PROJECT_DIR / "benchmarks").glob("*.py"))
LOCAL_PACKAGES = {"geo", "territories"}
OPTION = re.compile(r"(--[a-z][a-z0-9-]*)(?:[ =]([^\s\[\]]+))?")


def _module(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"benchmark_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _documented(path: Path, docstring: str) -> dict[str, str | None]:
    """Option → the value the usage line shows, from the docstring lines that run the script."""
    usage = [line for line in docstring.splitlines() if f"benchmarks/{path.name}" in line]
    assert usage, f"{path.name}: the docstring shows no usage line naming benchmarks/{path.name}"
    return {name: value for line in usage for name, value in OPTION.findall(line)}


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {
        option: action
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction)
        for option in action.option_strings
        if option.startswith("--")
    }


def _normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> set[str]:
    project = tomllib.loads((PROJECT_DIR / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["bench"]]
    return {_normalised(re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", r).group(0)) for r in requirements}


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - LOCAL_PACKAGES


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_the_docstring_lists_exactly_the_parser_options_with_their_defaults(path: Path) -> None:
    module = _module(path)
    documented = _documented(path, module.__doc__)
    options = _options(module.build_parser())
    assert set(documented) == set(options), path.name
    for name, shown in documented.items():
        action = options[name]
        if action.choices is not None:
            assert shown is not None and set(shown.split("|")) == set(action.choices), name
        elif shown is not None and re.fullmatch(r"-?\d+(\.\d+)?", shown):
            assert float(shown) == float(action.default), name


@pytest.mark.parametrize("path", BENCHMARKS, ids=[p.stem for p in BENCHMARKS])
def test_every_module_a_benchmark_imports_is_declared(path: Path) -> None:
    providers = importlib.metadata.packages_distributions()
    declared = _declared()
    for module in sorted(_imported(path)):
        distributions = providers.get(module, [module])
        assert any(_normalised(d) in declared for d in distributions), (
            f"{path.name} imports {module} (from {', '.join(distributions)}), which is neither a"
            " dependency nor in the bench extra of pyproject.toml"
        )


def test_the_checks_see_the_benchmarks_and_what_they_import() -> None:
    assert {p.stem for p in BENCHMARKS} >= {"align", "campaigns", "cube", "import_accounts", "manager_page"}
    assert "spopt" in _imported(PROJECT_DIR / "benchmarks" / "align.py")
    assert "playwright" in _imported(PROJECT_DIR / "benchmarks" / "manager_page.py")
    page = PROJECT_DIR / "benchmarks" / "manager_page.py"
    assert _documented(page, _module(page).__doc__) == {
        "--visits": "3",
        "--settle": "0",
        "--user": "U",
        "--password": "P",
        "--measure": "LABEL",
    }
