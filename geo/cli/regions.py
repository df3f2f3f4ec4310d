"""``gcrm regions assign``: the region keys of the accounts, assigned again."""

from __future__ import annotations

import typer

from geo.cli.command import dask_client, with_app_database
from geo.config import cli_user, load_settings
from geo.ingest.rekeying import reassign_region_keys
from geo.store.db import Database

regions_app = typer.Typer(help="Region keys of the accounts.", no_args_is_help=True)


@regions_app.command("assign")
def regions_assign() -> None:
    """Assign state, county and H3 keys again to every placed account (on Dask if GCRM_DASK_SCHEDULER)."""
    settings = load_settings()

    def run(db: Database) -> int:
        with dask_client(settings) as client:
            return reassign_region_keys(db, settings.data_dir, user=cli_user(), client=client)

    changed = with_app_database(run)
    typer.echo(f"region keys assigned; {changed} account(s) changed")
