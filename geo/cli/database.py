"""``gcrm db start|stop|status|url`` and ``gcrm migrate``: the database every other command uses."""

from __future__ import annotations

from typing import Annotated

import typer

from geo.cli.command import report_errors
from geo.config import APP_ROLE, cli_user, load_settings
from geo.store import server
from geo.store.bootstrap import app_password, owner_url, prepare_database
from geo.store.db import role_dsn

db_app = typer.Typer(help="The embedded PostGIS database.", no_args_is_help=True)


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


def migrate_command() -> None:
    """Apply pending migrations and load the shipped boundaries if they are missing."""
    report_errors(lambda: prepare_database(load_settings()).close())
    typer.echo("schema up to date, boundaries loaded")


def _redacted(url: str) -> str:
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
