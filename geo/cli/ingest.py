"""``gcrm import`` and ``gcrm geocode``: bring a file into the book, place what is not on the map."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from geo.cli.command import report_errors, with_app_database
from geo.config import cli_user, load_settings
from geo.field.accounts import store_placements, unplaced_addresses
from geo.ingest.files import read_table
from geo.ingest.importer import KINDS, apply_overrides, detect_mapping, run_import
from geo.ingest.placement import place_accounts
from geo.ingest.street_geocoder import street_geocoder
from geo.privacy.exports import csv_text
from geo.store.db import Database

REJECTS_SHOWN = 20


def import_command(
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
