"""People who use gcrm, their roles, and signing in.

Passwords are hashed in PostgreSQL with pgcrypto's salted bcrypt (``crypt`` with
``gen_salt('bf')``); the app role cannot read the hashes and checks a password
only through ``gcrm_authenticate`` (see :mod:`geo.privacy.sessions`, which signs people in).
What a user sees is decided by the row-level security policies of migration 007
from the role and territories stored here.

Roles
-----
admin
    Everything, including users and the audit log.
manager
    The accounts of one region or district of the territory hierarchy (``territory_code``);
    reads territory plans but does not change them (plans are made on the whole book).
marketer
    Every account; contact details only of people who consented.
rep
    The accounts of the territories whose primary rep they are (``rep_id``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import pandas as pd
import psycopg2.errorcodes
import psycopg2.extensions

from geo.errors import UserError
from geo.store.audit import record
from geo.store.db import SYSTEM_USER, Database, fetch_frame

ROLES = ("admin", "manager", "marketer", "rep")
SCOPED_ROLES = ("manager", "rep")
"""Roles that see only their territories' accounts (``gcrm_territories``, migration 007)."""
BCRYPT_COST = 10
"""Work factor of the password hashes (2^10 rounds: ~70 ms per check)."""
USER_REFUSED = "GU001"
"""SQLSTATE of gcrm_add_user's and gcrm_set_password's refusals (migration 018)."""
MIN_PASSWORD_LENGTH = 8
DEMO_USERS = (
    ("admin", "admin", "admin-demo", "Ada Admin"),
    ("manager", "manager", "manager-demo", "Manny Manager (West region)"),
    ("marketer", "marketer", "marketer-demo", "Mira Marketer"),
    ("rep", "rep", "rep-demo", "Rico Rep (first rep's territories)"),
)
"""(user name, role, password, display name) of the users every demo book gets; see the README."""
ALL_ROWS = ("all",)
"""Scope of the roles that see every account (see :func:`user_scope`)."""
DEMO_MANAGER_TERRITORY = "R-West"
"""Region the demo manager manages (a code of the starter plan)."""


@dataclass(frozen=True)
class SignedIn:
    """A person signed in to the app.

    Attributes
    ----------
    username
        The name recorded with every transaction and audit entry.
    role
        One of :data:`ROLES`.
    display_name
        How to greet them.
    scope
        :data:`ALL_ROWS` for roles that see every account, otherwise the ids of the
        territories whose accounts they see: users with equal scopes see the same rows.
    session_id
        Their sign-in session (:mod:`geo.privacy.sessions`), or None for work that signs in
        no one (the cache warm-up, page tests).
    """

    username: str
    role: str
    display_name: str
    scope: tuple
    session_id: int | None = None


def add_user(
    db: Database,
    username: str,
    *,
    role: str,
    password: str | None,
    actor: str,
    rep: str | None = None,
    territory: str | None = None,
    email: str | None = None,
    display_name: str | None = None,
) -> None:
    """Create a user with a salted password hash.

    Parameters
    ----------
    db
        The database as its owner (``gcrm users add``), or as the app role for an admin
        (``gcrm_add_user`` writes the hash, which the app role cannot).
    username
        Unique sign-in name.
    role
        One of :data:`ROLES`.
    password
        At least :data:`MIN_PASSWORD_LENGTH` characters; None for a user who signs in
        only through the identity provider (matched on ``email``).
    actor
        Who creates the user (audit log); an admin when ``db`` is the app role.
    rep
        External id of the rep a ``rep`` user is.
    territory
        Code of the region or district a ``manager`` manages.
    email
        E-mail address the identity provider reports for this user.
    display_name
        Full name.

    Raises
    ------
    UserError
        A bad name, role, password, rep or territory, a name taken, or an actor who is not an admin.
    """
    _check_new_user(username, role, password, rep, territory)
    with db.transaction(user=actor) as cur:
        if territory is not None:
            cur.execute("SELECT 1 FROM territories WHERE code = %s", (territory,))
            if cur.fetchone() is None:
                msg = f"No territory, district or region with code {territory!r}."
                raise UserError(msg)
        _insert_user(cur, username, role, password, rep, territory, email, display_name)


def reset_password(db: Database, username: str, password: str, *, actor: str) -> None:
    """Give a user a new password: their sessions end and their failed sign-ins are forgotten.

    Parameters
    ----------
    db
        The database as its owner, or as the app role for an admin.
    username
        The user.
    password
        At least :data:`MIN_PASSWORD_LENGTH` characters.
    actor
        Who does it (audit log, ``user.password``).

    Raises
    ------
    UserError
        A short password, an unknown user, or an actor who is not an admin.
    """
    _check_password(password)
    with _refusals_as_user_errors(), db.transaction(user=actor) as cur:
        cur.execute("SELECT gcrm_set_password(%s, %s, %s)", (username, password, BCRYPT_COST))


def _insert_user(
    cur,
    username: str,
    role: str,
    password: str | None,
    rep: str | None,
    territory: str | None,
    email: str | None,
    display_name: str | None,
) -> None:
    with _refusals_as_user_errors():
        cur.execute(
            "SELECT gcrm_add_user(%s, %s, %s, %s, %s, %s, %s, %s)",
            (username, role, password, rep, territory, email, display_name, BCRYPT_COST),
        )


@contextmanager
def _refusals_as_user_errors() -> Iterator[None]:
    """Turn the user functions' refusals (:data:`USER_REFUSED`, not an admin) into :class:`UserError`."""
    try:
        yield
    except psycopg2.Error as exc:
        if exc.pgcode not in (USER_REFUSED, psycopg2.errorcodes.INSUFFICIENT_PRIVILEGE):
            raise
        raise UserError(exc.diag.message_primary) from exc


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        msg = f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
        raise UserError(msg)


def _check_new_user(
    username: str, role: str, password: str | None, rep: str | None, territory: str | None
) -> None:
    if not username.strip():
        msg = "A user name cannot be empty."
        raise UserError(msg)
    if role not in ROLES:
        msg = f"Unknown role {role!r}; choose one of {', '.join(ROLES)}."
        raise UserError(msg)
    if password is not None:
        _check_password(password)
    if role == "rep" and rep is None:
        msg = "A rep user needs --rep, the external id of the rep they are."
        raise UserError(msg)
    if role == "manager" and territory is None:
        msg = "A manager needs --territory, the code of the region or district they manage."
        raise UserError(msg)


def register_operator(owner: Database, name: str) -> None:
    """Make the person running ``gcrm`` commands an admin who cannot sign in to the app.

    Whoever runs the CLI holds the owner's credentials (the state directory or
    ``DATABASE_URL``), so they are the operator of this install; registering them
    lets the audit log name them while policies treat them as an admin.

    Parameters
    ----------
    owner
        The database as its owner.
    name
        The operator's user name (``cli:<login>``).
    """
    with owner.transaction(user=name) as cur:
        cur.execute(
            "INSERT INTO app_users (username, display_name, role) VALUES (%s, %s, 'admin')"
            " ON CONFLICT (username) DO NOTHING",
            (name, "Command-line operator"),
        )


def set_disabled(db: Database, username: str, *, disabled: bool, actor: str) -> None:
    """Disable a user (they can no longer sign in nor see anything) or enable them again.

    Disabling ends every session of the user at once (a trigger of migration 010).

    Parameters
    ----------
    db
        The database as its owner, or as the app role for an admin.
    username
        The user.
    disabled
        True to disable.
    actor
        Who does it (audit log).
    """
    with db.transaction(user=actor) as cur:
        cur.execute("UPDATE app_users SET disabled = %s WHERE username = %s", (disabled, username))
        if cur.rowcount == 0:
            msg = f"No user named {username!r}."
            raise UserError(msg)
        record(cur, "user.disable" if disabled else "user.enable", username, {})


def list_users(db: Database, *, user: str) -> pd.DataFrame:
    """List the users the acting user may see (admins: all; others: themselves).

    Parameters
    ----------
    db
        The database (app role or owner).
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``username, display_name, email, role, rep, territory, disabled, last_login_at``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT u.username, u.display_name, u.email, u.role, r.external_id AS rep,"
            " u.territory_code AS territory, u.disabled, u.last_login_at"
            " FROM app_users u LEFT JOIN reps r USING (rep_id) ORDER BY u.username"
        )
        return fetch_frame(cur)


@dataclass(frozen=True)
class UserChoices:
    """What a new user may be attached to, read from the book.

    Attributes
    ----------
    reps
        External id → name of each active rep (what a ``rep`` user is).
    territories
        Code → "name (kind)" of each region and district (what a ``manager`` manages).
    """

    reps: dict[str, str]
    territories: dict[str, str]


def user_choices(db: Database, *, user: str) -> UserChoices:
    """The reps and the regions and districts a new user may be attached to.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    UserChoices
        Both lists, sorted by id and code.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT external_id, name FROM reps WHERE active ORDER BY external_id")
        reps = dict(cur.fetchall())
        cur.execute(
            "SELECT code, name || ' (' || kind || ')' FROM territories"
            " WHERE kind IN ('region', 'district') ORDER BY code"
        )
        territories = dict(cur.fetchall())
    return UserChoices(reps=reps, territories=territories)


def recent_scoped_users(db: Database, since: datetime, *, limit: int) -> list[str]:
    """The enabled reps and managers who signed in since a moment, the latest first.

    Parameters
    ----------
    db
        The app-role database (read as :data:`geo.store.db.SYSTEM_USER`, who sees every user).
    since
        The earliest sign-in that counts.
    limit
        At most this many users.

    Returns
    -------
    list of str
        User names.
    """
    with db.transaction(user=SYSTEM_USER) as cur:
        cur.execute(
            "SELECT username FROM app_users WHERE NOT disabled AND role = ANY(%s) AND last_login_at >= %s"
            " ORDER BY last_login_at DESC, username LIMIT %s",
            (list(SCOPED_ROLES), since, int(limit)),
        )
        return [name for (name,) in cur.fetchall()]


def user_scope(db: Database, *, user: str) -> tuple:
    """Name the rows a user sees: :data:`ALL_ROWS` or their territory ids.

    Parameters
    ----------
    db
        The app-role database.
    user
        The user.

    Returns
    -------
    tuple
        A key for caches shared by users who see the same rows.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT gcrm_sees_all(), gcrm_territories()")
        sees_all, territories = cur.fetchone()
    return ALL_ROWS if sees_all else tuple(territories)


def create_demo_users(cur: psycopg2.extensions.cursor) -> None:
    """Create :data:`DEMO_USERS` inside the caller's transaction (the rep is the first active rep).

    The manager's region comes with the starter plan (``gcrm territories seed``), so
    its code is not checked here.

    Parameters
    ----------
    cur
        A cursor of the owner's transaction that stores the demo book.
    """
    cur.execute("SELECT external_id FROM reps WHERE active ORDER BY rep_id LIMIT 1")
    first_rep = cur.fetchone()[0]
    for username, role, password, display_name in DEMO_USERS:
        _insert_user(
            cur,
            username,
            role,
            password,
            first_rep if role == "rep" else None,
            DEMO_MANAGER_TERRITORY if role == "manager" else None,
            f"{username}@demo.gcrm.invalid",
            display_name,
        )
