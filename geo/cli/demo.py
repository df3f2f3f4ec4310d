"""``gcrm demo``: load the deterministic demo book."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated

import typer

from geo import clock
from geo.cli.command import report_errors
from geo.config import DEFAULT_DEMO_SEED, cli_user, load_settings
from geo.ingest.whole_book import account_total, load_demo_book
from geo.store.bootstrap import prepare_database
from geo.store.users import DEMO_USERS

DEFAULT_DEMO_ACCOUNTS = 20_000


def demo_command(
    accounts: Annotated[int, typer.Option(min=1, help="Number of accounts.")] = DEFAULT_DEMO_ACCOUNTS,
    seed: Annotated[int, typer.Option(help="Seed; the same seed gives the same book.")] = DEFAULT_DEMO_SEED,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing when accounts exist.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Delete the current book first.")] = False,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            "--as-of",
            formats=["%Y-%m-%d"],
            help="The book ends the day before this date (YYYY-MM-DD); default today.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Load a deterministic demo book: accounts, reps, branches, orders, pipeline, visits."""
    settings = load_settings()
    connections = report_errors(lambda: prepare_database(settings, operator=cli_user()))
    try:
        existing = account_total(connections.owner)
        if existing and if_empty:
            typer.echo(f"demo data not loaded: the database already holds {existing:,} accounts")
            return
        if existing and not replace:
            typer.echo(
                f"error: the database already holds {existing:,} accounts; "
                "pass --replace to delete them, or --if-empty to keep them",
                err=True,
            )
            raise typer.Exit(1)
        book_date = as_of.date() if as_of else clock.today()
        typer.echo(f"generating {accounts:,} demo accounts (seed {seed}, as of {book_date:%Y-%m-%d}) …")
        started = time.perf_counter()
        loaded = report_errors(
            lambda: load_demo_book(
                connections.owner,
                settings.data_dir,
                accounts=accounts,
                seed=seed,
                as_of=book_date,
                replace=existing > 0,
            )
        )
        elapsed = time.perf_counter() - started
        summary = " ".join(f"{table}={count}" for table, count in loaded.items())
        typer.echo(f"loaded {summary} in {elapsed:.1f} s")
        users = ", ".join(f"{name} / {password}" for name, _role, password, _full in DEMO_USERS)
        typer.echo(f"demo users (user / password): {users}")
    finally:
        connections.close()
