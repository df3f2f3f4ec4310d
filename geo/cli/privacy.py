"""``gcrm erase``, ``gcrm suppress`` and ``gcrm export locations``: privacy on the command line."""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from geo.cli.command import check_format, with_app_database, with_connections
from geo.config import cli_user, load_settings
from geo.privacy.erasure import erase_account, erase_contact
from geo.privacy.exports import csv_text, record_export
from geo.privacy.safe_locations import SHARE_LEVELS, account_counts, cell_shapes, suppress_small_cells
from geo.privacy.suppression import suppress
from geo.store.boundaries import LEVELS, load_regions
from geo.store.db import Database


def erase_command(
    account: Annotated[str | None, typer.Option("--account", help="External id of the account.")] = None,
    contact: Annotated[str | None, typer.Option("--contact", help="External id of the contact.")] = None,
) -> None:
    """Erase an account or a contact everywhere, keep them suppressed, print what was removed and kept."""
    if (account is None) == (contact is None):
        typer.echo("error: give exactly one of --account ID or --contact ID", err=True)
        raise typer.Exit(2)
    if account is not None:
        erasure = with_connections(
            lambda connections: erase_account(connections.owner, account, user=cli_user())
        )
    else:
        erasure = with_connections(
            lambda connections: erase_contact(connections.owner, contact, user=cli_user())
        )
    typer.echo(f"erased {'account' if account is not None else 'contact'} {account or contact}")
    for place, count in erasure.removed.items():
        typer.echo(f"{place}={count}")
    typer.echo(f"kept as hashes only: {', '.join(erasure.kept_as_hashes)}")


def suppress_command(
    identifiers: Annotated[list[str], typer.Argument(help="External ids or e-mail addresses.")],
) -> None:
    """Record that people objected to marketing: they leave every audience and export.

    The hashes of the named accounts' and contacts' other identities (name and postal
    code, e-mail, phone) are kept too, so they stay out when they come back without ids.
    """
    added = with_app_database(lambda db: suppress(db, identifiers, reason="objected", user=cli_user()))
    typer.echo(f"suppressed {added} new identifier hash(es)")


export_app = typer.Typer(help="Exports safe to share.", no_args_is_help=True)


@export_app.command("locations")
def export_locations(
    by: Annotated[str, typer.Option("--by", help=f"One of {', '.join(SHARE_LEVELS)}.")] = "county",
    k: Annotated[
        int | None,
        typer.Option("--k", help="Leave out cells under k accounts (default GCRM_EXPORT_MIN_CELL)."),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or geojson.")] = "csv",
) -> None:
    """Print accounts per region or H3 cell, cells under k accounts left out (k-anonymous)."""
    check_format(output_format)
    minimum = k if k is not None else load_settings().export_min_cell

    def run(db: Database) -> tuple[pd.DataFrame, int]:
        kept, suppressed = suppress_small_cells(account_counts(db, by, user=cli_user()), k=minimum)
        if output_format == "geojson":
            regions = load_regions(db, by, user=cli_user()) if by in LEVELS else None
            kept = cell_shapes(kept, by, regions)
        record_export(
            db, "locations", f"{by} k={minimum}", rows=len(kept), output_format=output_format, user=cli_user()
        )
        return kept, suppressed

    kept, suppressed = with_app_database(run)
    if output_format == "csv":
        sys.stdout.write(csv_text(kept))
    else:
        sys.stdout.write(kept.to_json(drop_id=True) + "\n")
    typer.echo(f"{len(kept)} cells, {suppressed} cells under {minimum} accounts left out", err=True)
