"""``gcrm duplicates list|merge``: probable duplicate accounts, merged only when asked."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from geo.cli.command import with_app_database
from geo.config import cli_user
from geo.field.accounts import accounts_for_review, merge_accounts
from geo.ingest.duplicates import probable_duplicates
from geo.privacy.exports import csv_text

duplicates_app = typer.Typer(
    help="Probable duplicate accounts: list for review, merge.", no_args_is_help=True
)


@duplicates_app.command("list")
def duplicates_list() -> None:
    """List probable duplicate accounts as CSV (never merged automatically)."""
    pairs = with_app_database(lambda db: probable_duplicates(accounts_for_review(db, user=cli_user())))
    sys.stdout.write(csv_text(pairs))


@duplicates_app.command("merge")
def duplicates_merge(
    keep: Annotated[str, typer.Argument(help="External id of the account that stays.")],
    drop: Annotated[str, typer.Argument(help="External id of the duplicate; its history moves to KEEP.")],
) -> None:
    """Merge a duplicate into the account that stays, keeping both histories."""
    moved = with_app_database(lambda db: merge_accounts(db, keep, drop, user=cli_user()))
    typer.echo(f"merged {drop} into {keep}: " + " ".join(f"{t}={n}" for t, n in moved.items()))
