"""What every ``gcrm`` command shares: domain errors as one line and an exit code, the database, Dask."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import typer

from geo.config import Settings, cli_user, load_settings
from geo.errors import GcrmError
from geo.store.bootstrap import Connections, prepare_database
from geo.store.db import Database

if TYPE_CHECKING:
    from distributed import Client

T = TypeVar("T")


def report_errors(action: Callable[[], T]) -> T:
    """Run ``action``; print a gcrm error as one line on stderr and exit 1 instead of a traceback.

    Parameters
    ----------
    action
        What the command does.

    Returns
    -------
    object
        What ``action`` returns.
    """
    try:
        return action()
    except GcrmError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def check_format(output_format: str, allowed: tuple[str, ...] = ("csv", "geojson")) -> None:
    """Stop with exit code 2 and a one-line reason unless ``output_format`` is one of ``allowed``.

    Parameters
    ----------
    output_format
        As typed after ``--format``.
    allowed
        The formats the command writes.
    """
    if output_format not in allowed:
        typer.echo(f"error: unknown format {output_format!r}; choose {' or '.join(allowed)}", err=True)
        raise typer.Exit(2)


def with_connections(action: Callable[[Connections], T]) -> T:
    """Prepare the database as the operator, run ``action`` with both pools, close them, report errors.

    Parameters
    ----------
    action
        Takes the owner and app-role pools.

    Returns
    -------
    object
        What ``action`` returns.
    """
    settings = load_settings()

    def run() -> T:
        connections = prepare_database(settings, operator=cli_user())
        try:
            return action(connections)
        finally:
            connections.close()

    return report_errors(run)


def with_app_database(action: Callable[[Database], T]) -> T:
    """Prepare the database, run ``action`` with the app role's pool, close it, report errors.

    Parameters
    ----------
    action
        Takes the app-role database.

    Returns
    -------
    object
        What ``action`` returns.
    """
    return with_connections(lambda connections: action(connections.app))


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
