"""The suppression list: hashed identifiers of people who objected to marketing or were erased.

An identifier is an account's or contact's external id, or a contact's e-mail
address; its hash is ``sha256`` of the trimmed, lower-cased text (the SQL function
``gcrm_identifier_hash`` computes the same), so the list names nobody in clear.
Every audience and every export leaves suppressed accounts and contacts out, and
every import clears their marketing consent again.
"""

from __future__ import annotations

import hashlib

import psycopg2.extensions

from geo.db import Database

SUPPRESSION_REASONS = ("objected", "erased")


def identifier_hash(identifier: str) -> str:
    """Hash an identifier the way the suppression list stores it.

    Parameters
    ----------
    identifier
        An external id or an e-mail address.

    Returns
    -------
    str
        Hex sha256 of the trimmed, lower-cased identifier.
    """
    return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


def suppress(db: Database, identifiers: list[str], *, reason: str, user: str) -> int:
    """Add identifiers to the suppression list (idempotent).

    Parameters
    ----------
    db
        The database.
    identifiers
        External ids or e-mail addresses.
    reason
        One of :data:`SUPPRESSION_REASONS`.
    user
        The acting user (admins and marketers may suppress).

    Returns
    -------
    int
        Identifiers that were not suppressed before.
    """
    with db.transaction(user=user) as cur:
        return add_hashes(cur, [identifier_hash(i) for i in identifiers if i and i.strip()], reason=reason)


def add_hashes(cur: psycopg2.extensions.cursor, hashes: list[str], *, reason: str) -> int:
    """Insert hashes into the suppression list inside the caller's transaction.

    Parameters
    ----------
    cur
        A cursor inside a transaction.
    hashes
        Values of :func:`identifier_hash`.
    reason
        One of :data:`SUPPRESSION_REASONS`.

    Returns
    -------
    int
        Hashes that were new.
    """
    if reason not in SUPPRESSION_REASONS:
        msg = f"Unknown suppression reason {reason!r}"
        raise ValueError(msg)
    cur.execute(
        "INSERT INTO suppression_list (identifier_hash, reason)"
        " SELECT DISTINCT h, %s FROM unnest(%s::text[]) h"
        " ON CONFLICT (identifier_hash) DO NOTHING",
        (reason, hashes),
    )
    return cur.rowcount


def keep_imported_suppressed(cur: psycopg2.extensions.cursor, kind: str) -> int:
    """Clear the marketing consent of just-imported rows whose identifiers are suppressed.

    Parameters
    ----------
    cur
        A cursor in the import's transaction, with the rows in ``import_stage``.
    kind
        ``accounts`` or ``contacts`` (other kinds hold no consent).

    Returns
    -------
    int
        Imported rows that are suppressed.
    """
    if kind == "accounts":
        cur.execute(
            "UPDATE accounts a SET marketing_consent = false FROM import_stage s"
            " WHERE a.external_id = s.external_id AND EXISTS (SELECT 1 FROM suppression_list x"
            " WHERE x.identifier_hash = gcrm_identifier_hash(a.external_id))"
        )
        return cur.rowcount
    if kind == "contacts":
        cur.execute(
            "UPDATE contacts c SET marketing_consent = false FROM import_stage s"
            " WHERE c.external_id = s.external_id AND EXISTS (SELECT 1 FROM suppression_list x"
            " WHERE x.identifier_hash IN"
            " (gcrm_identifier_hash(c.email), gcrm_identifier_hash(c.external_id)))"
        )
        return cur.rowcount
    return 0
