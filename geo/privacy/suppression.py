"""The suppression list: hashed identifiers of people who objected to marketing or were erased.

An identifier is an account's or contact's external id, or a contact's e-mail
address; its hash is ``sha256`` of the trimmed, lower-cased text (the SQL function
``gcrm_identifier_hash`` computes the same), so the list names nobody in clear.
Because a person may come back from a file without ids, under a new external id,
the list also keeps the hashes of what identifies them in any file: name and
postal code, e-mail, phone, each normalised first (migration 011 defines them in
SQL; :data:`ACCOUNT_HASH_KINDS` and :data:`CONTACT_HASH_KINDS` name them).
Every audience and every export leaves suppressed accounts and contacts out, and
every import clears their marketing consent again.
"""

from __future__ import annotations

import hashlib

import psycopg2.extensions

from geo.store.db import Database

SUPPRESSION_REASONS = ("objected", "erased")
ACCOUNT_HASH_KINDS = ("account id", "account name + postal code")
"""What each element of :data:`ACCOUNT_HASHES` hashes."""
CONTACT_HASH_KINDS = ("contact id", "e-mail", "phone", "contact name + postal code")
"""What each element of ``gcrm_contact_hashes(external_id, email, phone, first, last, postal)`` hashes."""
ACCOUNT_HASHES = "ARRAY[gcrm_identifier_hash(a.external_id), a.name_postal_hash]"
"""SQL (on alias ``a``): the identity hashes of an account (its name and postal code's is stored)."""
CONTACT_HASHES = (
    "gcrm_contact_hashes(c.external_id, c.email, c.phone, c.first_name, c.last_name, a.postal_code)"
)
"""SQL (on alias ``c`` and its account ``a``): the identity hashes of a contact."""


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
        Hashes that were not on the list before: each identifier's, and the identity
        hashes (:data:`ACCOUNT_HASH_KINDS`, :data:`CONTACT_HASH_KINDS`) of the stored
        accounts and contacts it names.
    """
    hashes = [identifier_hash(i) for i in identifiers if i and i.strip()]
    with db.transaction(user=user) as cur:
        named = stored_identities(
            cur,
            accounts="gcrm_identifier_hash(a.external_id) = ANY(%(h)s)",
            contacts="gcrm_identifier_hash(c.external_id) = ANY(%(h)s)"
            " OR gcrm_email_hash(c.email) = ANY(%(h)s)",
            params={"h": hashes},
        )
        return add_hashes(cur, hashes + [h for _kind, h in named], reason=reason)


def stored_identities(
    cur: psycopg2.extensions.cursor, *, accounts: str | None, contacts: str | None, params: dict
) -> list[tuple[str, str]]:
    """The identity hashes of the stored accounts and contacts a condition picks.

    Parameters
    ----------
    cur
        A cursor inside a transaction.
    accounts
        SQL condition on accounts ``a``, or None for no account.
    contacts
        SQL condition on contacts ``c`` (and their account ``a``), or None for no contact.
    params
        Named parameters of both conditions.

    Returns
    -------
    list of (str, str)
        ``(kind, hash)`` pairs, kinds from :data:`ACCOUNT_HASH_KINDS` and
        :data:`CONTACT_HASH_KINDS`, identities the rows lack left out.
    """
    found: list[tuple[str, str]] = []
    for condition, kinds, query in (
        (accounts, ACCOUNT_HASH_KINDS, f"SELECT {ACCOUNT_HASHES} FROM accounts a WHERE "),
        (
            contacts,
            CONTACT_HASH_KINDS,
            f"SELECT {CONTACT_HASHES} FROM contacts c JOIN accounts a USING (account_id) WHERE ",
        ),
    ):
        if condition is None:
            continue
        cur.execute(query + condition, params)
        found += [
            (kind, h) for (hashes,) in cur.fetchall() for kind, h in zip(kinds, hashes, strict=True) if h
        ]
    return found


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
    """Clear the marketing consent of just-imported rows suppressed by any of their identities.

    An account matches by its external id or its name and postal code; a contact by its
    external id, e-mail, phone, or its name and its account's postal code — so a person
    erased by id and re-imported from a file without ids stays suppressed.

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
            f" WHERE x.identifier_hash = ANY({ACCOUNT_HASHES}))"
        )
        return cur.rowcount
    if kind == "contacts":
        cur.execute(
            "UPDATE contacts c SET marketing_consent = false FROM import_stage s, accounts a"
            " WHERE c.external_id = s.external_id AND a.account_id = c.account_id"
            " AND EXISTS (SELECT 1 FROM suppression_list x"
            f" WHERE x.identifier_hash = ANY({CONTACT_HASHES}))"
        )
        return cur.rowcount
    return 0
