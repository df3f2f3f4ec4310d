"""The audit log: who exported, erased, published or signed in, when, and what it touched.

Entries name the real user of the transaction (``current_setting('gcrm.user')``),
never the database role; the app role may append but not change them, and only
admins read them (migration 007).
"""

from __future__ import annotations

import json

import pandas as pd
import psycopg2.extensions

from geo.store.db import Database, fetch_frame

AUDITED_ACTIONS = (
    "login",
    "login.failed",
    "login.throttled",
    "logout",
    "export",
    "erase",
    "territory.publish",
    "merge_accounts",
    "user.add",
    "user.disable",
    "user.enable",
    "user.password",
)
"""Actions gcrm records (the audit page offers them as a filter)."""
AUDIT_PAGE_ROWS = 1_000


def record(cur: psycopg2.extensions.cursor, action: str, target: str, details: dict | None = None) -> None:
    """Append an entry for the transaction's user inside the caller's transaction.

    Parameters
    ----------
    cur
        A cursor of :meth:`geo.store.db.Database.transaction`.
    action
        One of :data:`AUDITED_ACTIONS`.
    target
        What was touched (a campaign, a version, a hashed identifier …).
    details
        Counts and parameters; never personal data.
    """
    cur.execute(
        "INSERT INTO audit_log (actor, action, target, details)"
        " VALUES (current_setting('gcrm.user'), %s, %s, %s::jsonb)",
        (action, target, json.dumps(details or {}, default=str)),
    )


def audit_entries(
    db: Database, *, user: str, action: str | None = None, limit: int = AUDIT_PAGE_ROWS
) -> pd.DataFrame:
    """Return the latest entries, newest first (admins see them; others get none).

    Parameters
    ----------
    db
        The database.
    user
        The acting user.
    action
        Only this action, or every action.
    limit
        At most this many entries.

    Returns
    -------
    DataFrame
        ``occurred_at, actor, action, target, details``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT occurred_at, actor, action, target, details::text AS details FROM audit_log"
            " WHERE %(action)s::text IS NULL OR action = %(action)s"
            " ORDER BY occurred_at DESC, audit_id DESC LIMIT %(limit)s",
            {"action": action, "limit": limit},
        )
        return fetch_frame(cur)
