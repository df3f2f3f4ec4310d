"""Bring a database to a usable state: server up, schema current, boundaries and app role ready."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from geo import server
from geo.config import APP_ROLE, Settings
from geo.db import Database, migrate, role_dsn, set_app_password
from geo.regions import boundaries_loaded, read_boundaries, store_regions

OWNER_POOL_CONNECTIONS = 2


@dataclass(frozen=True)
class Connections:
    """The two ways in: the owner (migrations, bulk loads) and the app role (everything else).

    Attributes
    ----------
    owner
        The database as the role that owns the schema.
    app
        The database as the app role, which owns nothing.
    """

    owner: Database
    app: Database

    def close(self) -> None:
        """Close both pools."""
        self.owner.close()
        self.app.close()


def owner_url(settings: Settings) -> str:
    """Return the owner URL: ``DATABASE_URL``, or the embedded cluster's, starting it if needed.

    Parameters
    ----------
    settings
        The settings in force.

    Returns
    -------
    str
        A libpq URL.
    """
    return settings.database_url or server.start(settings.home)


def prepare_database(settings: Settings) -> Connections:
    """Start what is needed, apply pending migrations, load missing boundaries, enable the app role.

    Parameters
    ----------
    settings
        The settings in force.

    Returns
    -------
    Connections
        Pools for the owner and for the app role.
    """
    url = owner_url(settings)
    owner = Database(url, max_connections=OWNER_POOL_CONNECTIONS)
    migrate(owner)
    password = app_password(settings)
    set_app_password(owner, password)
    if not boundaries_loaded(owner):
        store_regions(owner, read_boundaries(settings.data_dir))
    return Connections(owner=owner, app=Database(role_dsn(url, role=APP_ROLE, password=password)))


def app_password(settings: Settings) -> str:
    """Return the app role's password: ``GCRM_APP_PASSWORD``, or one generated once and kept.

    Parameters
    ----------
    settings
        The settings in force.

    Returns
    -------
    str
        The password.
    """
    if settings.app_password:
        return settings.app_password
    path = settings.home / "app_password"
    if path.exists():
        return path.read_text().strip()
    settings.home.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password)
    return password
