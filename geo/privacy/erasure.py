"""Erasure: remove a person's data everywhere gcrm keeps it, and keep them suppressed.

``gcrm erase --account ID`` removes the account with its contacts, visits, orders
and campaign snapshots and responses; ``--contact ID`` removes one contact. Both
also remove the geocode-cache entries of the account's address, import rejects
whose raw row names them, and scrub audit entries that name them, then add the
hashes of their ids and of every identity that survives a file without ids (name
and postal code, e-mail, phone: see :mod:`geo.privacy.suppression`) to the suppression
list, so a re-import by any of them stays out of every audience, and write an
``erase`` audit entry that names only the hash. The report says which kinds of
identifier were kept as hashes.

Erasure runs as the database owner: the app role may append to the audit log but
never rewrite it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo.errors import ErasureError
from geo.privacy.suppression import add_hashes, identifier_hash, stored_identities
from geo.store.audit import record
from geo.store.db import Database
from geo.store.geocode_cache import address_queries, forget_query

ACCOUNT_CHILDREN = ("contacts", "interactions", "orders", "campaign_members", "campaign_responses")
"""Tables whose rows of an erased account go with it (their foreign keys cascade)."""


@dataclass(frozen=True)
class Erasure:
    """What an erasure removed and kept.

    Attributes
    ----------
    removed
        Place → rows removed or scrubbed, and ``suppressed`` (hashes new to the list).
    kept_as_hashes
        Kinds of identifier kept on the suppression list as hashes, of
        :data:`~geo.privacy.suppression.ACCOUNT_HASH_KINDS` then
        :data:`~geo.privacy.suppression.CONTACT_HASH_KINDS`.
    """

    removed: dict[str, int]
    kept_as_hashes: tuple[str, ...]


def erase_account(owner: Database, external_id: str, *, user: str) -> Erasure:
    """Erase an account and everything that names it.

    Parameters
    ----------
    owner
        The database as its owner.
    external_id
        The account's external id.
    user
        Who erases (audit log).

    Returns
    -------
    Erasure
        Rows removed or scrubbed (``accounts``, each of :data:`ACCOUNT_CHILDREN`,
        ``geocode_cache``, ``import_rejects``, ``audit_log``), ``suppressed``, and the
        kinds of identifier kept as hashes.
    """
    with owner.transaction(user=user) as cur:
        cur.execute(
            "SELECT account_id, name, street, city, state, postal_code FROM accounts WHERE external_id = %s",
            (external_id,),
        )
        row = cur.fetchone()
        if row is None:
            msg = f"No account with external id {external_id!r}."
            raise ErasureError(msg)
        account_id, name, *address = row
        cur.execute("SELECT external_id, email FROM contacts WHERE account_id = %s", (account_id,))
        contact_identifiers = [value for contact in cur.fetchall() for value in contact if value]
        identities = stored_identities(
            cur, accounts="a.account_id = %(id)s", contacts="c.account_id = %(id)s", params={"id": account_id}
        )
        removed = {}
        for table in ACCOUNT_CHILDREN:
            cur.execute(
                sql.SQL("SELECT count(*) FROM {} WHERE account_id = %s").format(sql.Identifier(table)),
                (account_id,),
            )
            removed[table] = cur.fetchone()[0]
        cur.execute("DELETE FROM accounts WHERE account_id = %s", (account_id,))
        removed["accounts"] = cur.rowcount
        removed["geocode_cache"] = _forget_address(cur, address)
        removed.update(_scrub_mentions(cur, [external_id, name, *contact_identifiers]))
        removed["suppressed"] = add_hashes(cur, [h for _kind, h in identities], reason="erased")
        kept = _kinds(identities)
        record(cur, "erase", f"account:{identifier_hash(external_id)}", {**removed, "kept_as_hashes": kept})
    return Erasure(removed, kept)


def erase_contact(owner: Database, external_id: str, *, user: str) -> Erasure:
    """Erase a contact and everything that names them.

    Parameters
    ----------
    owner
        The database as its owner.
    external_id
        The contact's external id.
    user
        Who erases (audit log).

    Returns
    -------
    Erasure
        Rows removed or scrubbed (``contacts``, ``import_rejects``, ``audit_log``),
        ``interactions_unlinked``, ``suppressed``, and the kinds of identifier kept as hashes.
    """
    with owner.transaction(user=user) as cur:
        cur.execute(
            "SELECT contact_id, email, phone, first_name, last_name FROM contacts WHERE external_id = %s",
            (external_id,),
        )
        row = cur.fetchone()
        if row is None:
            msg = f"No contact with external id {external_id!r}."
            raise ErasureError(msg)
        contact_id, email, phone, first, last = row
        identities = stored_identities(
            cur, accounts=None, contacts="c.contact_id = %(id)s", params={"id": contact_id}
        )
        cur.execute("UPDATE interactions SET contact_id = NULL WHERE contact_id = %s", (contact_id,))
        removed = {"interactions_unlinked": cur.rowcount}
        cur.execute("DELETE FROM contacts WHERE contact_id = %s", (contact_id,))
        removed["contacts"] = cur.rowcount
        full_name = " ".join(part for part in (first, last) if part) or None
        removed.update(_scrub_mentions(cur, [v for v in (external_id, email, phone, full_name) if v]))
        removed["suppressed"] = add_hashes(cur, [h for _kind, h in identities], reason="erased")
        kept = _kinds(identities)
        record(cur, "erase", f"contact:{identifier_hash(external_id)}", {**removed, "kept_as_hashes": kept})
    return Erasure(removed, kept)


def _kinds(identities: list[tuple[str, str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(kind for kind, _hash in identities))


def _forget_address(cur: psycopg2.extensions.cursor, address: list[str | None]) -> int:
    street, city, state, postal_code = address
    if not street:
        return 0
    query = address_queries(
        pd.DataFrame({"street": [street], "city": [city], "state": [state], "postal_code": [postal_code]})
    ).iloc[0]
    return forget_query(cur, query)


def _scrub_mentions(cur: psycopg2.extensions.cursor, identifiers: list[str]) -> dict[str, int]:
    """Delete import rejects and blank audit details whose values equal one of ``identifiers``."""
    values = sorted({i for i in identifiers if i})
    cur.execute(
        "DELETE FROM import_rejects r WHERE EXISTS"
        " (SELECT 1 FROM jsonb_each_text(r.raw) e WHERE e.value = ANY(%s))",
        (values,),
    )
    rejects = cur.rowcount
    cur.execute(
        "WITH named AS (SELECT a.audit_id FROM audit_log a WHERE a.target = ANY(%(v)s) OR EXISTS"
        "  (SELECT 1 FROM jsonb_path_query(a.details, 'strict $.**') j WHERE j #>> '{}' = ANY(%(v)s)))"
        " UPDATE audit_log a SET details = jsonb_build_object('erased', true),"
        " target = CASE WHEN a.target = ANY(%(v)s) THEN 'erased' ELSE a.target END"
        " FROM named WHERE a.audit_id = named.audit_id",
        {"v": values},
    )
    return {"import_rejects": rejects, "audit_log": cur.rowcount}
