"""The ``gcrm`` command line.

Every command that needs the database brings it up first (embedded cluster
when ``DATABASE_URL`` is unset, pending migrations, shipped boundaries), so a
new user can start with any command.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import geopandas as gpd
import pandas as pd
import typer

from geo import clock
from geo.analysis.cube import DIMENSIONS, parse_period, state_level_only
from geo.analysis.cube_answers import answer_cube, match_where
from geo.choices import parse_where
from geo.cli.command import check_format, report_errors, with_app_database
from geo.cli.field import campaign_app, nearest_command
from geo.cli.privacy import erase_command, export_app, suppress_command
from geo.cli.users import users_app
from geo.config import APP_ROLE, DEFAULT_DEMO_SEED, Settings, cli_user, load_settings
from geo.field.accounts import (
    accounts_for_export,
    accounts_for_review,
    load_facts,
    merge_accounts,
    store_placements,
    unplaced_addresses,
)
from geo.ingest.duplicates import probable_duplicates
from geo.ingest.files import read_table
from geo.ingest.importer import KINDS, apply_overrides, detect_mapping, run_import
from geo.ingest.placement import place_accounts
from geo.ingest.rekeying import reassign_region_keys
from geo.ingest.street_geocoder import street_geocoder
from geo.ingest.whole_book import account_total, load_demo_book
from geo.privacy.exports import EXPORT_FORMATS, csv_text, record_export
from geo.store import server
from geo.store.bootstrap import app_password, owner_url, prepare_database
from geo.store.db import Database, role_dsn
from geo.store.users import DEMO_USERS

if TYPE_CHECKING:
    from distributed import Client

app = typer.Typer(help="gcrm: a self-hostable geographic CRM.", no_args_is_help=True)
db_app = typer.Typer(help="The embedded PostGIS database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
accounts_app = typer.Typer(help="Accounts: export.", no_args_is_help=True)
app.add_typer(accounts_app, name="accounts")
duplicates_app = typer.Typer(
    help="Probable duplicate accounts: list for review, merge.", no_args_is_help=True
)
app.add_typer(duplicates_app, name="duplicates")
regions_app = typer.Typer(help="Region keys of the accounts.", no_args_is_help=True)
app.add_typer(regions_app, name="regions")
app.add_typer(campaign_app, name="campaign")
app.add_typer(users_app, name="users")
app.command("erase")(erase_command)
app.command("suppress")(suppress_command)
app.add_typer(export_app, name="export")
app.command("nearest")(nearest_command)

DEFAULT_DEMO_ACCOUNTS = 20_000
REJECTS_SHOWN = 20
CUBE_DECIMALS = 2


@db_app.command("start")
def db_start() -> None:
    """Start the embedded database (creating it on first use) and apply migrations."""
    settings = load_settings()
    if settings.database_url:
        typer.echo("DATABASE_URL is set: using that server, nothing started.")
    report_errors(lambda: prepare_database(settings, operator=cli_user()).close())
    typer.echo(f"database ready: {_redacted(owner_url(settings))}")


@db_app.command("stop")
def db_stop() -> None:
    """Stop the embedded database and wait until its processes have exited."""
    settings = load_settings()
    if settings.database_url:
        typer.echo("DATABASE_URL is set: gcrm runs no server of its own.")
        return
    stopped = report_errors(lambda: server.stop(settings.home))
    typer.echo("stopped" if stopped else "not running")


@db_app.command("status")
def db_status() -> None:
    """Say whether the embedded database exists and runs."""
    settings = load_settings()
    if settings.database_url:
        typer.echo(f"external server: {_redacted(settings.database_url)}")
        return
    state = server.status(settings.home)
    if not state.initialised:
        typer.echo(f"not initialised ({state.data_dir})")
        raise typer.Exit(3)
    if state.running:
        typer.echo(f"running: pid {state.pid}, port {state.port}, data {state.data_dir}")
    else:
        typer.echo(f"stopped (data {state.data_dir})")
        raise typer.Exit(3)


@db_app.command("url")
def db_url(
    app_role: Annotated[
        bool, typer.Option("--app", help="The app role's URL instead of the owner's.")
    ] = False,
) -> None:
    """Print the database URL every other command uses (starting the database if needed)."""
    settings = load_settings()
    url = report_errors(lambda: owner_url(settings))
    if app_role:
        url = role_dsn(url, role=APP_ROLE, password=app_password(settings))
    typer.echo(url)


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations and load the shipped boundaries if they are missing."""
    report_errors(lambda: prepare_database(load_settings()).close())
    typer.echo("schema up to date, boundaries loaded")


@app.command("demo")
def demo(
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


@app.command("import")
def import_file(
    kind: Annotated[str, typer.Argument(help="accounts, contacts, orders or interactions.")],
    file: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="CSV, XLSX, Parquet, GeoJSON or GPKG.")
    ],
    mapping: Annotated[
        list[str] | None,
        typer.Option("--map", help="SOURCE=FIELD, repeatable; FIELD empty ignores a column."),
    ] = None,
    rejects: Annotated[
        Path | None, typer.Option(help="Write the rejected rows (line, reason, row) here as CSV.")
    ] = None,
) -> None:
    """Import a file; ends with `placed: …` and `read=N inserted=I updated=U unchanged=C rejected=R`.

    The `placed:` line counts the accepted account rows by geocode precision.
    """
    if kind not in KINDS:
        typer.echo(f"error: unknown kind {kind!r}; choose one of {', '.join(KINDS)}", err=True)
        raise typer.Exit(2)
    settings = load_settings()

    def run() -> str:
        table = read_table(file, max_mb=settings.max_upload_mb)
        columns = list(table.frame.columns)
        chosen = apply_overrides(detect_mapping(columns, kind), mapping or [], columns, kind)
        typer.echo("mapping: " + ", ".join(f"{s} -> {f}" for s, f in chosen.items()), err=True)
        summary = with_app_database(
            lambda db: run_import(
                db,
                kind,
                table,
                mapping=chosen,
                user=cli_user(),
                data_dir=settings.data_dir,
                filename=file.name,
                street_geocoder=street_geocoder(settings, db, user=cli_user()),
            )
        )
        for note in summary.notes:
            typer.echo(f"note: {note}", err=True)
        for row in summary.rejects.head(REJECTS_SHOWN).itertuples():
            typer.echo(f"line {row.line}: {row.reason}", err=True)
        if summary.rejected > REJECTS_SHOWN:
            typer.echo(f"… and {summary.rejected - REJECTS_SHOWN} more rejected rows", err=True)
        if rejects is not None:
            rejects.write_text(csv_text(summary.rejects), encoding="utf-8")
        return "\n".join(line for line in (summary.placements(), summary.line()) if line)

    typer.echo(report_errors(run))


@app.command("geocode")
def geocode_command(
    missing: Annotated[
        bool, typer.Option("--missing", help="Re-run the geocoder on unplaced accounts.")
    ] = False,
) -> None:
    """Place accounts that are not on the map yet, with the current gazetteers and provider."""
    if not missing:
        typer.echo("error: say which accounts to geocode: --missing", err=True)
        raise typer.Exit(2)
    settings = load_settings()

    def run(db: Database) -> str:
        addresses = unplaced_addresses(db, user=cli_user())
        provider = street_geocoder(settings, db, user=cli_user())
        placed = place_accounts(addresses, settings.data_dir, street_geocoder=provider)
        store_placements(db, placed, user=cli_user())
        now_placed = int(placed["geocode_precision"].ne("none").sum())
        return f"unplaced={len(addresses)} placed={now_placed} still_unplaced={len(addresses) - now_placed}"

    typer.echo(with_app_database(run))


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


@contextmanager
def dask_client(settings: Settings) -> Iterator[Client | None]:
    """Connect to the Dask scheduler named by ``GCRM_DASK_SCHEDULER`` for a block, or give None.

    Dask is imported only when a scheduler is set.

    Parameters
    ----------
    settings
        The settings in force.

    Yields
    ------
    Client or None
        The client, closed when the block ends.
    """
    if not settings.dask_scheduler:
        yield None
        return
    from geo.analysis.cube_dask import connect

    client = connect(settings.dask_scheduler)
    try:
        yield client
    finally:
        client.close()


@regions_app.command("assign")
def regions_assign() -> None:
    """Assign state, county and H3 keys again to every placed account (on Dask if GCRM_DASK_SCHEDULER)."""
    settings = load_settings()

    def run(db: Database) -> int:
        with dask_client(settings) as client:
            return reassign_region_keys(db, settings.data_dir, user=cli_user(), client=client)

    changed = with_app_database(run)
    typer.echo(f"region keys assigned; {changed} account(s) changed")


@app.command("cube")
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
    measure: Annotated[str, typer.Option("--measure", help="Comma-separated measures.")] = "accounts",
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
    output_format: Annotated[str, typer.Option("--format", help="csv or geojson.")] = "csv",
) -> None:
    """Print one cube query: the member key and name, then one column per measure.

    At county and finer levels, standard error counts the accounts placed at state level only.
    """
    check_format(output_format)
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
    if left_out:
        typer.echo(f"placed at state level only: {left_out} (counted by state, not by {by})", err=True)
    if output_format == "csv":
        sys.stdout.write(csv_text(pd.DataFrame(table.drop(columns="geometry"))))
    else:
        sys.stdout.write(table.to_json(drop_id=True, na="null") + "\n")


def _redacted(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


def main() -> None:
    """Entry point for ``python -m geo.cli.main``."""
    app(prog_name="gcrm")


if __name__ == "__main__":
    sys.exit(main())
