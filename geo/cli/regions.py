"""``gcrm regions``: the region keys of the accounts, and the facts about each region's market."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.analysis.market import DEFAULT_DENOMINATOR, DENOMINATORS
from geo.analysis.market_answers import RECENT_VISIT_DAYS, WHITE_SPACE_LIMIT, white_space_regions
from geo.cli.command import dask_client, report_errors, with_app_database
from geo.cli.ingest import REJECTS_SHOWN
from geo.config import cli_user, load_settings
from geo.ingest.files import read_table
from geo.ingest.region_facts import FACT_LEVELS, import_facts
from geo.ingest.rekeying import reassign_region_keys
from geo.privacy.exports import csv_text
from geo.store.db import Database
from geo.store.region_facts import fact_catalogue, read_facts

regions_app = typer.Typer(
    help="Region keys of the accounts, and facts about the regions.", no_args_is_help=True
)
facts_app = typer.Typer(help="Facts about each region's market: people, households, jobs, businesses.")


@regions_app.command("assign")
def regions_assign() -> None:
    """Assign state, county and H3 keys again to every placed account (on Dask if GCRM_DASK_SCHEDULER)."""
    settings = load_settings()

    def run(db: Database) -> int:
        with dask_client(settings) as client:
            return reassign_region_keys(db, settings.data_dir, user=cli_user(), client=client)

    changed = with_app_database(run)
    typer.echo(f"region keys assigned; {changed} account(s) changed")


@facts_app.command("import")
def facts_import(
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV or XLSX keyed by region code.")
    ],
    level: Annotated[str, typer.Option(help=f"Level of the codes: {', '.join(FACT_LEVELS)}.")] = "county",
    rejects: Annotated[
        Path | None, typer.Option(help="Write the rejected rows (line, reason, row) here as CSV.")
    ] = None,
) -> None:
    """Load a table of facts keyed by region code; ends with `read=N loaded=L rejected=R values=V`."""
    settings = load_settings()

    def run() -> str:
        table = read_table(file, max_mb=settings.max_upload_mb)
        summary = with_app_database(
            lambda db: import_facts(db, table, level=level.lower(), source=file.name, user=cli_user())
        )
        named = ", ".join(
            f"{fact} ({vintage})" if vintage else fact for fact, vintage in summary.facts.items()
        )
        typer.echo(f"facts: {named}", err=True)
        for row in summary.rejects.head(REJECTS_SHOWN).itertuples():
            typer.echo(f"line {row.line}: {row.reason}", err=True)
        if len(summary.rejects) > REJECTS_SHOWN:
            typer.echo(f"… and {len(summary.rejects) - REJECTS_SHOWN} more rejected rows", err=True)
        if rejects is not None:
            rejects.write_text(csv_text(summary.rejects), encoding="utf-8")
        return summary.line()

    typer.echo(report_errors(run))


@facts_app.command("list")
def facts_list() -> None:
    """List the facts: name, label, how a state's value follows from its counties, counties known."""

    def run(db: Database) -> str:
        catalogue = fact_catalogue(db, user=cli_user())
        counties = read_facts(db, "county", user=cli_user()).notna().sum()
        catalogue["counties"] = catalogue["fact"].map(counties).fillna(0).astype(int)
        return csv_text(catalogue).rstrip("\n")

    typer.echo(with_app_database(run))


@regions_app.command("white-space")
def regions_white_space(
    level: Annotated[str, typer.Option(help="state or county.")] = "county",
    per: Annotated[
        str, typer.Option(help=f"Penetration measured per: {', '.join(DENOMINATORS)}.")
    ] = DEFAULT_DENOMINATOR,
    days: Annotated[int, typer.Option(min=1, help="A visit in this many days makes a region worked.")] = (
        RECENT_VISIT_DAYS
    ),
    limit: Annotated[int, typer.Option(min=1, help="Regions to list.")] = WHITE_SPACE_LIMIT,
) -> None:
    """Rank regions by opportunity (expected minus actual customers) with no recent visit, as CSV."""

    def run(db: Database) -> str:
        ranked = white_space_regions(
            db, level=level.lower(), denominator=per, user=cli_user(), days=days, limit=limit
        )
        return csv_text(ranked.round({"expected": 1, "opportunity": 1})).rstrip("\n")

    typer.echo(with_app_database(run))
