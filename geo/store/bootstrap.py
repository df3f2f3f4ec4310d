"""Bring a database to a usable state: server up, schema current, boundaries and app role ready."""

from __future__ import annotations

import os
import secrets
import tempfile
from dataclasses import dataclass

from geo.config import APP_ROLE, Settings
from geo.errors import UnsafeAppRole
from geo.store import server
from geo.store.boundaries import boundaries_loaded, read_boundaries, store_regions
from geo.store.db import (
    SYSTEM_USER,
    Database,
    advisory_lock,
    can_log_in,
    migrate,
    role_dsn,
    set_app_password,
)
from geo.store.region_facts import SHIPPED_SOURCE, facts_loaded, store_county_facts
from geo.store.shipped_data import read_county_facts
from geo.store.users import register_operator

OWNER_POOL_CONNECTIONS = 2
PREPARATION_LOCK_KEY = 7_346_212
"""Advisory lock that makes processes preparing one database at once take turns."""


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


def prepare_database(settings: Settings, *, operator: str | None = None) -> Connections:
    """Start what is needed, apply pending migrations, load missing boundaries and facts, enable the app role.

    Refuses (:class:`geo.errors.UnsafeAppRole`) when the app role could see past
    row-level security. Processes preparing one database at once take turns, so several
    app processes may start together.

    Parameters
    ----------
    settings
        The settings in force.
    operator
        The person running a ``gcrm`` command, registered as an admin
        (:func:`geo.store.users.register_operator`); None for the app.

    Returns
    -------
    Connections
        Pools for the owner and for the app role.
    """
    url = owner_url(settings)
    password = app_password(settings)
    app_dsn = role_dsn(url, role=APP_ROLE, password=password)
    owner = Database(url, max_connections=OWNER_POOL_CONNECTIONS)
    # Several app processes may start at once: one prepares, the others then find it done.
    with advisory_lock(url, PREPARATION_LOCK_KEY):
        migrate(owner)
        # The role belongs to the server, shared by its databases: altered only when needed,
        # as concurrent ALTER ROLEs fail ("tuple concurrently updated").
        if not can_log_in(app_dsn):
            set_app_password(owner, password)
        if not boundaries_loaded(owner):
            store_regions(owner, read_boundaries(settings.data_dir))
        if not facts_loaded(owner):
            facts = read_county_facts(settings.data_dir)
            store_county_facts(owner, facts, source=SHIPPED_SOURCE, user=SYSTEM_USER)
        if operator is not None:
            register_operator(owner, operator)
    app = Database(app_dsn, role_per_user=True)
    check_app_role(app)
    return Connections(owner=owner, app=app)


def check_app_role(app: Database) -> None:
    """Refuse a role that is a superuser, can bypass row-level security, or owns anything.

    The roles the app role may switch to (``SET ROLE``) are checked with it.

    Parameters
    ----------
    app
        The database as the app role.
    """
    with app.transaction(user=SYSTEM_USER) as cur:
        cur.execute(
            "SELECT session_user, bool_or(r.rolsuper), bool_or(r.rolbypassrls),"
            " (SELECT count(*) FROM pg_class c WHERE c.relowner = ANY(array_agg(r.oid))"
            "  AND c.relkind IN ('r', 'p', 'v', 'm', 'f'))"
            " FROM pg_roles r WHERE pg_has_role(session_user, r.oid, 'MEMBER')"
        )
        name, superuser, bypass, owned = cur.fetchone()
    problems = [
        reason
        for reason, present in (
            ("is a superuser", superuser),
            ("can bypass row-level security", bypass),
            (f"owns {owned} tables or views", owned),
        )
        if present
    ]
    if problems:
        msg = (
            f"The app's database role {name!r} (or a role it can become) {' and '.join(problems)},"
            " so row-level security would not protect the data; gcrm will not start."
            " Make it an ordinary role that owns nothing."
        )
        raise UnsafeAppRole(msg)


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
    # Written whole, then linked into place: of processes starting at once, the first link
    # wins and the others read its password (never a file still being written).
    fd, written = tempfile.mkstemp(dir=settings.home, prefix=".app_password.")
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(password)
        os.link(written, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        os.unlink(written)
    return password
