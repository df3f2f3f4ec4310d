"""The root ``gcrm`` command: assembled in ``gcrm.py`` alone, from one module per command group."""

from __future__ import annotations

import ast

import typer.main
from typer.testing import CliRunner

from gcrm import app
from geo.config import PROJECT_DIR

COMMANDS = ["erase", "suppress", "nearest", "route", "migrate", "demo", "import", "geocode", "cube"]
GROUPS = {
    "db": ["start", "stop", "status", "url"],
    "accounts": ["export"],
    "duplicates": ["list", "merge"],
    "regions": ["assign", "white-space", "facts"],
    "roads": ["import", "status", "time"],
    "tradeareas": ["drivetime"],
    "campaign": ["audience", "save", "export", "list"],
    "users": ["add", "list", "disable", "enable"],
    "export": ["locations"],
    "territories": [
        "align",
        "seed",
        "versions",
        "publish",
        "draft",
        "move",
        "lock",
        "lock-territory",
        "override",
    ],
}


PANELS = {
    "Set up and bring data in": [
        "db",
        "migrate",
        "demo",
        "import",
        "geocode",
        "accounts",
        "duplicates",
        "regions",
        "roads",
    ],
    "Sales, territories and the field": ["cube", "nearest", "route", "tradeareas", "territories"],
    "Campaigns": ["campaign"],
    "Users, privacy and exports": ["users", "erase", "suppress", "export"],
}
"""``gcrm --help`` lists the commands by job."""


def test_gcrm_lists_every_command_and_group_by_job() -> None:
    root = typer.main.get_command(app)
    assert sorted(root.commands) == sorted([*COMMANDS, *GROUPS])
    panels: dict[str, list[str]] = {}
    for name, command in root.commands.items():
        panels.setdefault(command.rich_help_panel, []).append(name)
    assert {panel: sorted(names) for panel, names in panels.items()} == {
        panel: sorted(names) for panel, names in PANELS.items()
    }
    shown = CliRunner().invoke(app, ["--help"], terminal_width=120).output
    assert all(panel in shown for panel in PANELS), shown
    assert {name: list(root.commands[name].commands) for name in GROUPS} == GROUPS
    assert list(root.commands["regions"].commands["facts"].commands) == ["import", "list"]


def test_only_gcrm_py_adds_groups_to_the_root_command() -> None:
    sources = [*sorted((PROJECT_DIR / "geo" / "cli").glob("*.py")), PROJECT_DIR / "territories" / "cli.py"]
    adding = [
        f"{path.relative_to(PROJECT_DIR)}:{node.lineno}"
        for path in sources
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Attribute) and node.attr == "add_typer"
    ]
    assert adding == []
    imported = [
        node.module
        for path in sources
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module == "gcrm"
    ]
    assert imported == []
