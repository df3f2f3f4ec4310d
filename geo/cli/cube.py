"""``gcrm cube``: one cube query (measures by a geography, time or segment) as CSV, GeoJSON or a table."""

from __future__ import annotations

import sys
from typing import Annotated

import geopandas as gpd
import pandas as pd
import typer

from geo.analysis.cube import (
    CUBE_MEASURES,
    DIMENSIONS,
    MARKET_MEASURES,
    MEASURE_KINDS,
    parse_period,
    state_level_only,
)
from geo.analysis.cube_answers import answer_cube, match_where
from geo.analysis.market_answers import ESTIMATED_LEVELS, MARKET_LEVELS
from geo.choices import parse_where
from geo.cli.command import check_format, dask_client, report_errors, with_app_database
from geo.config import cli_user, load_settings
from geo.field.accounts import load_facts
from geo.formatting import column_label, numeric_order, text_table
from geo.privacy.exports import csv_text
from geo.store.db import Database

CUBE_DECIMALS = 2
FORMATS = ("csv", "geojson", "table")
"""What ``--format`` writes: CSV (the default, for scripts), GeoJSON, or a table for people."""


def cube_command(
    by: Annotated[
        str,
        typer.Option(
            "--by",
            help=(
                "state, county, zip, h3_5…h3_9, territory, trade_area (nearest branch), rep, segment,"
                " industry, status."
            ),
        ),
    ],
    measure: Annotated[
        str, typer.Option("--measure", help=f"Comma-separated measures: {', '.join(CUBE_MEASURES)}.")
    ] = "accounts",
    where: Annotated[
        list[str] | None,
        typer.Option(
            "--where",
            help="DIMENSION=VALUE[,VALUE…], repeatable; any case, states also by postal code or name.",
        ),
    ] = None,
    period: Annotated[
        str | None, typer.Option(help="2025, 2025Q1 or 2025-03: period of the order measures.")
    ] = None,
    output_format: Annotated[
        str, typer.Option("--format", help="csv, geojson or table (money, counts and names for people).")
    ] = "csv",
) -> None:
    """Print one cube query: the member key and name, then one column per measure.

    At county and finer levels, standard error counts the accounts placed at state level only.
    """
    check_format(output_format, FORMATS)
    settings = load_settings()

    measures = [m.strip() for m in measure.split(",") if m.strip()]
    typed = report_errors(lambda: parse_where(where or [], DIMENSIONS))
    chosen = report_errors(lambda: parse_period(period)) if period else None

    def run(db: Database) -> tuple[gpd.GeoDataFrame, int]:
        facts = load_facts(db, user=cli_user())
        filters = match_where(db, facts, typed, user=cli_user())
        with dask_client(settings) as client:
            table = answer_cube(
                db,
                settings.data_dir,
                by=by,
                measures=measures,
                user=cli_user(),
                where=filters,
                period=chosen,
                facts=facts,
                client=client,
            )
        return table, state_level_only(facts, by=by, where=filters)

    table, left_out = with_app_database(run)
    table = table.round(CUBE_DECIMALS)
    order = pd.Series(range(len(table)), index=table["key"].astype(str).to_numpy())
    table = table.iloc[order.loc[numeric_order(order.index)].to_numpy()].reset_index(drop=True)
    if left_out:
        typer.echo(f"placed at state level only: {left_out} (counted by state, not by {by})", err=True)
    market = [m for m in measures if m in MARKET_MEASURES]
    if market and by in ESTIMATED_LEVELS:
        typer.echo(f"note: {', '.join(market)} by {by} are estimates apportioned from the counties", err=True)
    elif market and by not in MARKET_LEVELS:
        typer.echo(
            f"note: {', '.join(market)} are unknown by {by} (known by {', '.join(MARKET_LEVELS)})", err=True
        )
    if output_format == "csv":
        sys.stdout.write(csv_text(pd.DataFrame(table.drop(columns="geometry"))))
    elif output_format == "table":
        sys.stdout.write(cube_text_table(pd.DataFrame(table.drop(columns="geometry")), by=by))
    else:
        sys.stdout.write(table.to_json(drop_id=True, na="null") + "\n")


def cube_text_table(table: pd.DataFrame, *, by: str) -> str:
    """A cube answer as a table for people: the member's name, its key, then each measure by its kind.

    Parameters
    ----------
    table
        ``key, name`` and one column per measure, in the order to print.
    by
        The dimension (heads the name column: ``State``, ``H3 5`` …).

    Returns
    -------
    str
        The table (see :func:`geo.formatting.text_table`).
    """
    columns = ["name", "key", *[column for column in table.columns if column not in ("key", "name")]]
    labels = {"name": column_label(by), "key": "Key", **CUBE_MEASURES}
    kinds = {column: MEASURE_KINDS.get(column, "number") for column in columns[2:]}
    return text_table(table[columns], kinds=kinds, labels=labels)
