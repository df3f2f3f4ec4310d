"""``gcrm roads``, ``gcrm tradeareas drivetime`` and ``gcrm route``: the road network and what it answers."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from geo.analysis.drive_areas import drive_time_trade_areas
from geo.cli.command import check_format, report_errors, with_app_database
from geo.config import cli_user
from geo.errors import RoadNetworkError
from geo.field.accounts import accounts_by_external_id, branches
from geo.field.routes import drive_route
from geo.privacy.exports import csv_text
from geo.roads.drivetime import parse_minutes
from geo.roads.estimate import ASSUMPTION
from geo.roads.importer import import_network
from geo.roads.storage import read_status
from geo.roads.travel import Basis, network_basis, trips
from geo.store.db import Database

roads_app = typer.Typer(help="The road network: import an OpenStreetMap extract, status, travel times.")
tradeareas_app = typer.Typer(help="Trade areas of branches.")

_LAT_LON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_lat_lon(text: str, option: str) -> tuple[float, float]:
    """Read ``LAT,LON`` as typed on the command line.

    Parameters
    ----------
    text
        As typed.
    option
        The option's name, for the message.

    Returns
    -------
    tuple
        (lon, lat) in degrees.

    Raises
    ------
    RoadNetworkError
        Not two numbers, or out of range.
    """
    match = _LAT_LON.match(text)
    if match:
        lat, lon = float(match.group(1)), float(match.group(2))
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            return lon, lat
    msg = f"{option} {text!r}: give LAT,LON in degrees, e.g. 41.88,-87.63."
    raise RoadNetworkError(msg)


def _basis_note(basis: Basis) -> None:
    """Say on stderr how the times were found."""
    typer.echo(f"note: times {basis.described}", err=True)


@roads_app.command("import")
def import_command(
    extract: Annotated[Path, typer.Argument(help="A regional OpenStreetMap extract (.osm.pbf).")],
    speeds: Annotated[
        Path | None,
        typer.Option("--speeds", help="TOML file: [speeds_kmh] per road class, over the defaults."),
    ] = None,
) -> None:
    """Replace the road network with the drivable roads of an extract; ends with `ways=W edges=E …`."""

    def run(db: Database):
        return import_network(
            db,
            extract,
            user=cli_user(),
            speeds_path=speeds,
            progress=lambda what, done: typer.echo(f"{100 * done:3.0f}% {what}", err=True),
        )

    summary = with_app_database(run)
    typer.echo(
        f"ways={summary.ways} edges={summary.edges} vertices={summary.vertices} "
        f"dropped={summary.dropped_edges} (in {summary.dropped_components} pieces cut off from the largest)"
    )


@roads_app.command("status")
def status_command() -> None:
    """Say what road network is loaded: source, date, size, extent."""

    def run(db: Database):
        with db.transaction(user=cli_user()) as cur:
            return network_basis(cur) and read_status(cur)

    status = with_app_database(run)
    if status is None:
        typer.echo(
            f"No road network loaded: travel times are {ASSUMPTION} (`gcrm roads import EXTRACT.osm.pbf`)."
        )
        return
    minx, miny, maxx, maxy = status.extent
    typer.echo(f"source: {status.source_name}")
    typer.echo(f"imported: {status.imported_at:%Y-%m-%d %H:%M %Z} by {status.imported_by}")
    typer.echo(
        f"edges: {status.edges:,}  vertices: {status.vertices:,}  dropped edges: {status.dropped_edges:,}"
    )
    typer.echo(f"extent: {miny:.4f},{minx:.4f} to {maxy:.4f},{maxx:.4f} (lat,lon)")
    typer.echo(f"top speed: {status.max_speed_kmh:.0f} km/h")


@roads_app.command("time")
def time_command(
    origin: Annotated[str, typer.Option("--from", help="LAT,LON of the start.")],
    destination: Annotated[str, typer.Option("--to", help="LAT,LON of the end.")],
) -> None:
    """Print the driving time and distance between two points: minutes,km,basis."""
    start = report_errors(lambda: parse_lat_lon(origin, "--from"))
    end = report_errors(lambda: parse_lat_lon(destination, "--to"))
    legs, basis = with_app_database(
        lambda db: trips(db, [start[0], end[0]], [start[1], end[1]], user=cli_user())
    )
    _basis_note(basis)
    sys.stdout.write(
        csv_text(
            pd.DataFrame(
                {
                    "minutes": [round(legs[0].seconds / 60, 1)],
                    "km": [round(legs[0].metres / 1000, 2)],
                    "basis": [basis.label],
                }
            )
        )
    )


@tradeareas_app.command("drivetime")
def drivetime_command(
    branch: Annotated[str, typer.Option("--branch", help="The branch's id (or external id).")],
    minutes: Annotated[str, typer.Option("--minutes", help="Limits in minutes, e.g. 10,20,30.")] = "10,20,30",
    output_format: Annotated[str, typer.Option("--format", help="csv or geojson.")] = "csv",
) -> None:
    """Print a branch's drive-time areas: minutes,area_km2 (csv) or the polygons (geojson)."""
    check_format(output_format)
    limits = report_errors(lambda: parse_minutes(minutes))

    def run(db: Database):
        every = branches(db, user=cli_user())
        chosen = every[
            (every["branch_id"].astype(str) == branch.strip())
            | (every["external_id"].str.lower() == branch.strip().lower())
        ]
        if chosen.empty:
            listed = every.sort_values("branch_id")
            known = ", ".join(
                f"{b} ({e})" for b, e in zip(listed["branch_id"], listed["external_id"], strict=True)
            )
            msg = f"No branch {branch!r}; the branches are: {known or 'none yet'}."
            raise RoadNetworkError(msg)
        branch_id = int(chosen["branch_id"].iloc[0])
        areas, _reach, basis = drive_time_trade_areas(db, every, branch_id, limits, user=cli_user())
        return areas[areas["branch_id"] == branch_id].sort_values("minutes"), basis

    areas, basis = with_app_database(run)
    _basis_note(basis)
    if output_format == "geojson":
        collection = json.loads(areas.assign(basis=basis.label).to_json(drop_id=True))
        sys.stdout.write(json.dumps(collection) + "\n")
        return
    km2 = areas.to_crs(areas.estimate_utm_crs()).area / 1e6
    sys.stdout.write(
        csv_text(
            pd.DataFrame(
                {
                    "minutes": areas["minutes"].to_numpy(),
                    "area_km2": km2.round(2).to_numpy(),
                    "basis": basis.label,
                }
            )
        )
    )


def route_command(
    accounts: Annotated[str, typer.Option("--accounts", help="External ids of the stops, e.g. A1,A2,A3.")],
    start: Annotated[
        str | None, typer.Option("--start", help="LAT,LON to start from (default: the first account).")
    ] = None,
    round_trip: Annotated[bool, typer.Option("--round-trip", help="Come back to the start.")] = False,
) -> None:
    """Print the day's route ordered on driving times: sequence,external_id,name,leg_min,…"""
    ids = [text for text in accounts.split(",") if text.strip()]
    begin = report_errors(lambda: parse_lat_lon(start, "--start")) if start else None

    def run(db: Database):
        stops = accounts_by_external_id(db, ids, user=cli_user())
        origin = begin or (float(stops["lon"].iloc[0]), float(stops["lat"].iloc[0]))
        return drive_route(
            db, origin, stops if begin else stops.iloc[1:], user=cli_user(), round_trip=round_trip
        )

    route = with_app_database(run)
    typer.echo(
        f"note: {len(route.stops)} stops, {route.total_s / 60:,.1f} min, {route.total_m / 1000:,.1f} km; "
        f"times {route.basis.described}",
        err=True,
    )
    table = route.stops.assign(leg_km=route.stops["leg_m"] / 1000)[
        ["sequence", "external_id", "name", "leg_min", "cumulative_min", "leg_km"]
    ]
    sys.stdout.write(csv_text(table.round({"leg_min": 1, "cumulative_min": 1, "leg_km": 2})))
