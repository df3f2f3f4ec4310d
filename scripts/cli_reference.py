"""Write the command table of docs/cli.md from the ``gcrm`` app itself.

Run ``python scripts/cli_reference.py`` after adding or changing a command; the documentation
test fails while the table and the app disagree.
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))

from gcrm import app  # noqa: E402 — the project root is on the path only from here

REFERENCE = PROJECT_DIR / "docs" / "cli.md"
TABLE_HEAD = "| command | arguments and options | what it does |\n|---|---|---|\n"


def command_rows(command: typer.core.TyperCommand, path: str = "gcrm") -> list[str]:
    """One table row per runnable command under ``command``, in the order the app registers them.

    Parameters
    ----------
    command
        The click command or group (``typer.main.get_command(app)`` for the whole app).
    path
        The words that invoke ``command``.

    Returns
    -------
    list of str
        Markdown rows: the command, its arguments and options, the first line of its help.
    """
    if hasattr(command, "commands"):
        return [
            row
            for name, sub in command.commands.items()
            if not sub.hidden
            for row in command_rows(sub, f"{path} {name}")
        ]
    words = [
        f"`{param.name.upper()}`" if param.param_type_name == "argument" else f"`{param.opts[0]}`"
        for param in command.params
        if not getattr(param, "hidden", False) and param.name != "help"
    ]
    summary = (command.help or "").strip().splitlines()[0] if command.help else ""
    return [f"| `{path}` | {' '.join(words)} | {summary} |"]


def reference_table() -> str:
    """The command table as docs/cli.md holds it (head and one row per command)."""
    return TABLE_HEAD + "\n".join(command_rows(typer.main.get_command(app))) + "\n"


def main() -> None:
    """Replace the table in docs/cli.md, keeping the text around it."""
    text = REFERENCE.read_text(encoding="utf-8")
    start = text.index(TABLE_HEAD)
    end = text.find("\n\n", start)
    end = len(text) if end == -1 else end + 1
    REFERENCE.write_text(text[:start] + reference_table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
