"""``gcrm territories …``: align, plan, publish and override."""

from __future__ import annotations

import sys
from typing import Annotated

import pandas as pd
import typer

from geo.choices import match_choices, state_spellings
from geo.cli.command import check_format, report_errors, with_app_database
from geo.config import cli_user, load_settings
from geo.errors import TerritoryError
from geo.privacy.exports import csv_text
from geo.store.boundaries import load_regions
from geo.store.db import Database
from territories.book_alignment import (
    AlignmentResult,
    labelled_plan,
    lower_48_states,
    parse_units,
    plan_labels,
    propose_alignment,
)
from territories.model import (
    active_version,
    create_version,
    lock_territory,
    lock_units,
    move_units,
    publish,
    save_draft,
    set_override,
    territory_table,
    version_plan,
    versions,
)
from territories.starter import starter_plan

territories_app = typer.Typer(help="Sales territories: align, plan, publish.", no_args_is_help=True)
REPORT_DECIMALS = 3


@territories_app.command("align")
def align_command(
    units: Annotated[str, typer.Option("--units", help="county, zip or h3:R (R 5–9).")],
    k: Annotated[
        int | None, typer.Option("--k", min=1, help="Number of territories; default: as many as exist.")
    ] = None,
    balance: Annotated[
        str,
        typer.Option(
            "--balance",
            help="accounts, revenue, workload, population, households, jobs and/or establishments"
            " (the market of each unit: county facts, ZIP and H3 estimates).",
        ),
    ] = "accounts",
    tolerance: Annotated[float, typer.Option("--tolerance", min=0.0, max=1.0)] = 0.05,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    states: Annotated[
        str | None,
        typer.Option(
            "--states", help="Study area: states by postal code, name or FIPS (IL,WI,06), or lower48."
        ),
    ] = None,
    output_format: Annotated[str, typer.Option("--format", help="csv or geojson.")] = "csv",
    save: Annotated[str | None, typer.Option("--save", help="Save as a draft version of this name.")] = None,
) -> None:
    """Print every unit with its territory (stdout) and a report per territory (stderr)."""
    check_format(output_format)
    settings = load_settings()
    level = report_errors(lambda: parse_units(units))

    def run(db: Database) -> tuple[AlignmentResult, int | None]:
        current, ids = _active_labels(db, level)
        count = k if k is not None else len(ids)
        if not count:
            msg = "No territories exist yet: give --k, or create a first plan with `gcrm territories seed`."
            raise TerritoryError(msg)
        result = propose_alignment(
            db,
            settings.data_dir,
            level=level,
            k=count,
            measures=[m.strip() for m in balance.split(",") if m.strip()],
            user=cli_user(),
            tolerance=tolerance,
            seed=seed,
            states=_study_area(db, states),
            current=current if len(ids) == count else None,
            progress=lambda what, done: typer.echo(f"{100 * done:3.0f}% {what}", err=True),
        )
        version = None
        if save:
            if len(ids) != count:
                msg = (
                    f"--save keeps the {len(ids)} existing territories: give --k {len(ids)} or leave --k out."
                )
                raise TerritoryError(msg)
            plan = labelled_plan(result.units["code"], result.units["territory"], ids)
            version = save_draft(db, save, level, plan, user=cli_user())
        return result, version

    result, version = with_app_database(run)
    table = result.units.drop(columns="geometry")
    if output_format == "csv":
        sys.stdout.write(csv_text(pd.DataFrame(table)))
    else:
        sys.stdout.write(result.units.to_json(drop_id=True) + "\n")
    typer.echo(result.report.round(REPORT_DECIMALS).to_string(), err=True)
    if version is not None:
        typer.echo(f"saved as draft version {version}", err=True)


@territories_app.command("seed")
def seed_command() -> None:
    """Create a first plan (one territory per rep, counties balanced on accounts) when none exists."""
    data_dir = load_settings().data_dir
    version = with_app_database(lambda db: starter_plan(db, data_dir, user=cli_user()))
    typer.echo("territories exist already" if version is None else f"published starter plan {version}")


@territories_app.command("versions")
def versions_command() -> None:
    """List the plan versions, newest first."""
    table = with_app_database(lambda db: versions(db, user=cli_user()))
    sys.stdout.write(csv_text(table))


@territories_app.command("publish")
def publish_command(version: Annotated[int, typer.Argument(help="A draft version.")]) -> None:
    """Make a draft the active plan; accounts (but manual overrides) follow it."""
    moved = with_app_database(lambda db: publish(db, version, user=cli_user()))
    typer.echo(f"version {version} is active; {moved} account(s) changed territory")


@territories_app.command("draft")
def draft_command(name: Annotated[str, typer.Argument(help="Name of the new plan.")]) -> None:
    """Start a draft as a copy of the active plan."""

    def run(db: Database) -> int:
        active = active_version(db, user=cli_user())
        if active is None:
            msg = "No active plan to copy: run `gcrm territories seed` or `align --save`."
            raise TerritoryError(msg)
        level, _plan, _locked = version_plan(db, active, user=cli_user())
        return create_version(db, name, level, user=cli_user(), copy_from=active)

    typer.echo(f"draft version {with_app_database(run)}")


@territories_app.command("move")
def move_command(
    version: Annotated[int, typer.Argument(help="A draft version.")],
    unit: Annotated[str, typer.Argument(help="Unit code (county FIPS, ZIP or H3 cell).")],
    territory: Annotated[str, typer.Argument(help="Territory code.")],
) -> None:
    """Move one unit to another territory of a draft."""

    def run(db: Database) -> None:
        move_units(db, version, {unit: _territory_id(db, territory)}, user=cli_user())

    with_app_database(run)
    typer.echo(f"{unit} → {territory} in version {version}")


@territories_app.command("lock")
def lock_command(
    version: Annotated[int, typer.Argument(help="A draft version.")],
    units: Annotated[list[str], typer.Argument(help="Unit codes.")],
    unlock: Annotated[bool, typer.Option("--unlock")] = False,
) -> None:
    """Lock units of a draft in their territory (or unlock them)."""
    changed = with_app_database(lambda db: lock_units(db, version, units, not unlock, user=cli_user()))
    typer.echo(f"{changed} unit(s) {'unlocked' if unlock else 'locked'}")


@territories_app.command("lock-territory")
def lock_territory_command(
    territory: Annotated[str, typer.Argument(help="Territory code.")],
    unlock: Annotated[bool, typer.Option("--unlock")] = False,
) -> None:
    """Lock a whole territory: no unit enters or leaves it (or unlock it)."""
    with_app_database(
        lambda db: lock_territory(db, _territory_id(db, territory), not unlock, user=cli_user())
    )
    typer.echo(f"{territory} {'unlocked' if unlock else 'locked'}")


@territories_app.command("override")
def override_command(
    account: Annotated[str, typer.Argument(help="Account external id.")],
    territory: Annotated[str | None, typer.Argument(help="Territory code; omit with --clear.")] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Hand the account back to its unit.")] = False,
) -> None:
    """Pin an account to a territory by hand, apart from the geographic rule."""
    if (territory is None) != clear:
        typer.echo("error: name a territory, or pass --clear", err=True)
        raise typer.Exit(2)
    with_app_database(
        lambda db: set_override(db, account, None if clear else _territory_id(db, territory), user=cli_user())
    )
    typer.echo(f"{account}: {'back to its unit' if clear else f'pinned to {territory}'}")


def _territory_id(db: Database, code: str) -> int:
    table = territory_table(db, user=cli_user())
    spellings = dict(zip(table["code"], table.index.astype(str), strict=True))
    return int(match_choices("territory", [code], spellings)[0])


def _active_labels(db: Database, level: str) -> tuple[pd.Series | None, pd.Index]:
    """The active plan as unit → label (0 … n-1 over its territories), and the territory ids."""
    table = territory_table(db, user=cli_user())
    ids = table.index[table["kind"] == "territory"]
    active = active_version(db, user=cli_user())
    if active is None:
        return None, ids
    active_level, plan, _locked = version_plan(db, active, user=cli_user())
    if active_level != level:
        return None, ids
    return plan_labels(plan, ids), ids


def _study_area(db: Database, states: str | None) -> list[str] | None:
    if states is None:
        return None
    if states.strip().lower() == "lower48":
        return lower_48_states(db, user=cli_user())
    spellings = state_spellings(load_regions(db, "state", user=cli_user()))
    return match_choices("state", [s.strip() for s in states.split(",") if s.strip()], spellings)
