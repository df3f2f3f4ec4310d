"""``gcrm accounts export``: every account with its place and region keys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import geopandas as gpd
import pandas as pd
import typer

from geo.cli.command import with_app_database
from geo.config import cli_user
from geo.field.accounts import accounts_for_export
from geo.privacy.exports import EXPORT_FORMATS, csv_text, record_export
from geo.store.db import Database

accounts_app = typer.Typer(help="Accounts: export.", no_args_is_help=True)


@accounts_app.command("export")
def accounts_export(
    output_format: Annotated[str, typer.Option("--format", help="csv, geojson or gpkg.")] = "csv",
    output: Annotated[
        Path | None, typer.Option(help="File to write (needed for gpkg); default stdout.")
    ] = None,
) -> None:
    """Export every account: external id, name, longitude, latitude, geocode precision, region keys."""
    if output_format not in EXPORT_FORMATS:
        typer.echo(
            f"error: unknown format {output_format!r}; choose one of {', '.join(EXPORT_FORMATS)}", err=True
        )
        raise typer.Exit(2)
    if output_format == "gpkg" and output is None:
        typer.echo("error: --format gpkg needs --output FILE", err=True)
        raise typer.Exit(2)

    def run(db: Database) -> gpd.GeoDataFrame:
        frame = accounts_for_export(db, user=cli_user())
        record_export(
            db, "accounts", "accounts", rows=len(frame), output_format=output_format, user=cli_user()
        )
        return frame

    frame = with_app_database(run)
    if output_format == "csv":
        text = csv_text(pd.DataFrame(frame.drop(columns="geometry")))
    elif output_format == "geojson":
        text = frame.to_json(drop_id=True)
    else:
        frame.to_file(output, driver="GPKG", layer="accounts")
        typer.echo(f"wrote {len(frame)} accounts to {output}", err=True)
        return
    if output is None:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(frame)} accounts to {output}", err=True)
