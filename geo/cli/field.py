"""``gcrm nearest``: the accounts nearest a position, for field reps."""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from geo.cli.command import check_format, report_errors, with_app_database
from geo.config import cli_user, load_settings
from geo.field.nearby import nearest_accounts, position_from_text
from geo.formatting import text_table
from geo.ingest.geocode import load_gazetteer
from geo.privacy.exports import csv_text, record_export
from geo.store.db import Database


def nearest_command(
    place: Annotated[
        str | None,
        typer.Option("--place", help='Where: a ZIP (60601), a city and state ("Chicago, IL") or "lat, lon".'),
    ] = None,
    lat: Annotated[float | None, typer.Option("--lat", help="Latitude of the position (with --lon).")] = None,
    lon: Annotated[
        float | None, typer.Option("--lon", help="Longitude of the position (with --lat).")
    ] = None,
    k: Annotated[int, typer.Option("-k", help="How many accounts.")] = 25,
    radius_km: Annotated[float | None, typer.Option("--radius-km", help="Only within this distance.")] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="csv or table (distances in km, revenue in $, for people).")
    ] = "csv",
) -> None:
    """Print the nearest accounts, nearest first: external_id,name,distance_m,…"""
    check_format(output_format, ("csv", "table"))
    radius_m = radius_km * 1000 if radius_km is not None else None
    if (place is None) == (lat is None or lon is None) or (lat is None) != (lon is None):
        typer.echo(
            'error: give --place ("Chicago, IL", a ZIP or "lat, lon") or both --lat and --lon', err=True
        )
        raise typer.Exit(2)

    def position() -> tuple[float, float]:
        if place is None:
            return float(lon), float(lat)
        found_lon, found_lat, how = position_from_text(place, load_gazetteer(load_settings().data_dir))
        typer.echo(f"note: {place} placed at {found_lat:.5f}, {found_lon:.5f} by {how}", err=True)
        return found_lon, found_lat

    here_lon, here_lat = report_errors(position)

    def run(db: Database) -> pd.DataFrame:
        found = nearest_accounts(db, here_lon, here_lat, k=k, radius_m=radius_m, user=cli_user())
        target = f"{here_lat},{here_lon}"
        record_export(db, "nearest", target, rows=len(found), output_format=output_format, user=cli_user())
        return found

    found = with_app_database(run)
    columns = [
        "external_id",
        "name",
        "distance_m",
        "status",
        "value",
        "last_visit",
        "street",
        "city",
        "lat",
        "lon",
    ]
    if output_format == "table":
        sys.stdout.write(nearest_text_table(found))
    else:
        sys.stdout.write(csv_text(found[columns].round({"distance_m": 1, "value": 2})))


NEAREST_TABLE_LABELS = {
    "external_id": "Account ID",
    "name": "Name",
    "distance_km": "Distance (km)",
    "status": "Status",
    "value": "Revenue, 12 months",
    "last_visit": "Last visit",
    "street": "Street",
    "city": "City",
}
"""The columns of ``gcrm nearest --format table``, with their headers."""


def nearest_text_table(found: pd.DataFrame) -> str:
    """The nearest accounts as a table for people: distances in km, revenue in dollars, dates.

    Parameters
    ----------
    found
        What :func:`geo.field.nearby.nearest_accounts` returns.

    Returns
    -------
    str
        The table (see :func:`geo.formatting.text_table`).
    """
    shown = found.assign(distance_km=found["distance_m"] / 1000)[list(NEAREST_TABLE_LABELS)]
    return text_table(shown, kinds={"distance_km": "number", "value": "money"}, labels=NEAREST_TABLE_LABELS)
