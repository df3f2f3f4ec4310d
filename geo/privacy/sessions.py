"""Signing in, and the sessions that keep a person signed in across reloads, tabs and links.

A sign-in is checked by the database (``gcrm_authenticate``, migration 010), which writes the
audit entry, counts failures per user name (after :data:`MAX_FAILURES` the name is locked for
:data:`LOCK_MINUTES`, even for the right password) and opens a session. The session's token
never reaches the page: the sign-in returns a one-time hand-off code, valid for a minute, that
the browser posts to the ASGI layer (``serve.py``, :data:`SESSION_PATH`); that layer exchanges
it (:func:`claim_handoff`) for the token and sets the token as an HttpOnly cookie
(:data:`SESSION_COOKIE`). A reload, a new tab or a pasted link finds the session from that
cookie (:func:`resume_session`), and every run of the app checks that its session is still alive
(:func:`session_alive`). A session ends after ``GCRM_SESSION_IDLE_HOURS`` without an action,
``GCRM_SESSION_LIFETIME_DAYS`` after the sign-in, when its user signs out (every session of
that user, :func:`end_sessions`) or is disabled. Tokens and codes are stored as sha256 only,
and the app role reads them only through security-definer functions, so every app server
shares the sessions and the failure counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import timedelta

from geo.config import DEFAULT_SESSION_IDLE_HOURS, DEFAULT_SESSION_LIFETIME_DAYS, Settings
from geo.errors import SignInThrottled
from geo.store.db import Database
from geo.store.users import SignedIn, user_scope

SESSION_COOKIE = "gcrm_session"
"""Name of the cookie that carries the session token (HttpOnly, SameSite=Lax)."""
SESSION_PATH = "/auth/session"
"""Where the browser posts a hand-off code (form field ``code``) to get the session cookie."""
SIGN_OUT_PATH = "/auth/sign-out"
"""Where the browser posts to have the session cookie removed after signing out."""
MAX_FAILURES = 5
LOCK_MINUTES = 15
"""Failed sign-ins in a row for one user name, and how long the name is locked after them (in SQL)."""
NOBODY = ""
"""Acting user of a look-up made before anyone is known: no user, so the app role's least rights."""


@dataclass(frozen=True)
class SessionLimits:
    """How long a session lasts.

    Attributes
    ----------
    idle
        Without any action, the session ends after this.
    lifetime
        The session ends this long after signing in, however active.
    """

    idle: timedelta = field(default_factory=lambda: timedelta(hours=DEFAULT_SESSION_IDLE_HOURS))
    lifetime: timedelta = field(default_factory=lambda: timedelta(days=DEFAULT_SESSION_LIFETIME_DAYS))

    @classmethod
    def from_settings(cls, settings: Settings) -> SessionLimits:
        """Read the limits from the settings in force.

        Parameters
        ----------
        settings
            ``session_idle_hours`` and ``session_lifetime_days`` are used.

        Returns
        -------
        SessionLimits
            The limits.
        """
        return cls(
            idle=timedelta(hours=settings.session_idle_hours),
            lifetime=timedelta(days=settings.session_lifetime_days),
        )


@dataclass(frozen=True)
class NewSession:
    """A sign-in that just succeeded.

    Attributes
    ----------
    user
        Who signed in, with the id of their new session.
    handoff
        One-time code the browser exchanges at :data:`SESSION_PATH` for the session cookie.
    """

    user: SignedIn
    handoff: str


@dataclass(frozen=True)
class SessionCookie:
    """What the ASGI layer sets as the session cookie.

    Attributes
    ----------
    token
        The session token (secret: only ever in an HttpOnly cookie).
    max_age
        Seconds until the session's absolute expiry.
    """

    token: str
    max_age: int


def authenticate(
    db: Database, username: str, password: str, *, limits: SessionLimits | None = None
) -> NewSession | None:
    """Check a user name and password and open a session; None when wrong or the user is disabled.

    Every outcome is written to the audit log by the database (``login``, ``login.failed``,
    ``login.throttled``).

    Parameters
    ----------
    db
        The app-role database.
    username
        As typed.
    password
        As typed.
    limits
        How long the session lasts (default: :class:`SessionLimits`).

    Returns
    -------
    NewSession or None
        The signed-in user and the hand-off code of their session.

    Raises
    ------
    SignInThrottled
        When this attempt failed the :data:`MAX_FAILURES`-th time or came while the name is locked.
    """
    limits = limits or SessionLimits()
    with db.transaction(user=username) as cur:
        cur.execute(
            "SELECT username, role, display_name, session_id, handoff, retry_after"
            " FROM gcrm_authenticate(%s, %s, %s, %s)",
            (username, password, limits.idle, limits.lifetime),
        )
        row = cur.fetchone()
    if row is None:
        return None
    name, role, display_name, session_id, handoff, retry_after = row
    if retry_after is not None:
        raise SignInThrottled(throttled_message(retry_after))
    if name is None:
        return None
    return NewSession(_signed_in(db, name, role, display_name, session_id), handoff)


def sign_in_by_email(db: Database, email: str, *, limits: SessionLimits | None = None) -> NewSession | None:
    """Open a session for the enabled user whose e-mail an identity provider vouched for.

    Parameters
    ----------
    db
        The app-role database.
    email
        The address from the provider's ID token.
    limits
        How long the session lasts (default: :class:`SessionLimits`).

    Returns
    -------
    NewSession or None
        The user and the hand-off code, or None when no enabled user has that address.
    """
    limits = limits or SessionLimits()
    with db.transaction(user=email) as cur:
        cur.execute(
            "SELECT username, role, display_name, session_id, handoff FROM gcrm_sign_in_by_email(%s, %s, %s)",
            (email, limits.idle, limits.lifetime),
        )
        row = cur.fetchone()
    if row is None:
        return None
    name, role, display_name, session_id, handoff = row
    return NewSession(_signed_in(db, name, role, display_name, session_id), handoff)


def throttled_message(retry_after: timedelta) -> str:
    """Say in plain words how long a locked user name waits.

    Parameters
    ----------
    retry_after
        Time left on the lock.

    Returns
    -------
    str
        The sentence the sign-in form shows.
    """
    minutes = max(1, math.ceil(retry_after.total_seconds() / 60))
    unit = "minute" if minutes == 1 else "minutes"
    return f"Too many failed sign-ins for this user; try again in {minutes} {unit}."


def claim_handoff(db: Database, code: str) -> SessionCookie | None:
    """Exchange a session's hand-off code, once and within its minute, for the session's token.

    Parameters
    ----------
    db
        The app-role database.
    code
        As the browser posted it.

    Returns
    -------
    SessionCookie or None
        The token to set as cookie, or None for an unknown, used or expired code.
    """
    with db.transaction(user=NOBODY) as cur:
        cur.execute("SELECT token, max_age FROM gcrm_session_claim(%s)", (code,))
        row = cur.fetchone()
    return None if row is None else SessionCookie(*row)


def resume_session(db: Database, token: str) -> SignedIn | None:
    """Find the live session a cookie's token names (a reload, a new tab, a pasted link).

    Parameters
    ----------
    db
        The app-role database.
    token
        The session cookie's value.

    Returns
    -------
    SignedIn or None
        Its enabled user, or None when the session ended or never existed.
    """
    with db.transaction(user=NOBODY) as cur:
        cur.execute("SELECT session_id, username, role, display_name FROM gcrm_session_resume(%s)", (token,))
        row = cur.fetchone()
    if row is None:
        return None
    session_id, name, role, display_name = row
    return _signed_in(db, name, role, display_name, session_id)


def session_alive(db: Database, user: SignedIn) -> bool:
    """Tell whether the user's session still holds (and mark it used).

    Parameters
    ----------
    db
        The app-role database.
    user
        A user signed in with a session (``session_id`` set).

    Returns
    -------
    bool
        False once the session timed out, expired, was signed out or its user disabled.
    """
    with db.transaction(user=user.username) as cur:
        cur.execute("SELECT gcrm_session_touch(%s)", (user.session_id,))
        return bool(cur.fetchone()[0])


def end_sessions(db: Database, *, user: str) -> int:
    """Sign a user out everywhere: every session of theirs ends (audited as ``logout``).

    Parameters
    ----------
    db
        The app-role database.
    user
        The user signing out.

    Returns
    -------
    int
        Sessions ended.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT gcrm_end_sessions()")
        return cur.fetchone()[0]


def _signed_in(db: Database, username: str, role: str, display_name: str | None, session_id: int) -> SignedIn:
    scope = user_scope(db, user=username)
    return SignedIn(username, role, display_name or username, scope, session_id)
