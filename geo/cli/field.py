"""``gcrm nearest``: the accounts nearest a position, for field reps."""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from geo.cli.command import check_format, with_app_database
from geo.config import cli_user
from geo.field.nearby import nearest_accounts
from geo.privacy.exports import csv_text, record_export
from geo.store.db import Database


def nearest_command(
    lat: Annotated[float, typer.Option("--lat", help="Latitude of the position.")],
    lon: Annotated[float, typer.Option("--lon", help="Longitude of the position.")],
    k: Annotated[int, typer.Option("-k", help="How many accounts.")] = 25,
    radius_km: Annotated[float | None, typer.Option("--radius-km", help="Only within this distance.")] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv.")] = "csv",
) -> None:
    """Print the nearest accounts, nearest first: external_id,name,distance_m,…"""
    check_format(output_format, ("csv",))
    radius_m = radius_km * 1000 if radius_km is not None else None

    def run(db: Database) -> pd.DataFrame:
        found = nearest_accounts(db, lon, lat, k=k, radius_m=radius_m, user=cli_user())
        record_export(db, "nearest", f"{lat},{lon}", rows=len(found), output_format="csv", user=cli_user())
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
    sys.stdout.write(csv_text(found[columns].round({"distance_m": 1, "value": 2})))
