"""The territory key of accounts: the one rule by which a plan routes them, applied at write time.

An account follows a plan version through its unit (its county, ZIP or H3 cell at the version's
unit level); a drawn territory shape that covers the account's point wins over its unit, except
for accounts placed at state level only (their point is the state's centre, not where they
are); a manual override (``accounts.territory_override``) is never touched. Publishing a
version applies the rule to the whole book; imports, geocoding and new region keys apply the
active version's rule to the accounts they wrote, like the region keys themselves.
"""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo.ingest.placement import STATE_LEVEL
from geo.places.regions import level_keys
from geo.store.db import allow_long_statements, copy_frame, copy_out

UNIT_KEY_TYPES = {
    "account_id": "int64",
    "county_fips": "string",
    "zip": "string",
    "h3_r5": "string",
    "h3_r7": "string",
    "h3_r9": "string",
}


def assign_territories(
    cur: psycopg2.extensions.cursor, *, version: int | None = None, accounts: sql.Composable | None = None
) -> int:
    """Give accounts (but manual overrides) the territory a plan version routes them to.

    Parameters
    ----------
    cur
        A cursor inside the caller's transaction.
    version
        The version whose rule applies; None for the active one (nothing changes before the
        first publication).
    accounts
        A query yielding the ``account_id`` of the accounts to route; None for every account.

    Returns
    -------
    int
        Accounts whose territory changed.
    """
    if accounts is None:
        allow_long_statements(cur)  # every account is rewritten: about 2 min at 1M accounts
    if version is None:
        cur.execute("SELECT version_id FROM territory_versions WHERE status = 'active'")
        row = cur.fetchone()
        if row is None:
            return 0
        version = row[0]
    cur.execute("SELECT unit_level FROM territory_versions WHERE version_id = %s", (version,))
    level = cur.fetchone()[0]
    cur.execute("SELECT unit_code, territory_id FROM territory_units WHERE version_id = %s", (version,))
    assignment = pd.Series(dict(cur.fetchall()), dtype="Int64")
    query = sql.SQL(
        "SELECT account_id, county_fips, zip, h3_r5, h3_r7, h3_r9 FROM accounts"
        " WHERE NOT territory_override{}"
    ).format(sql.SQL("") if accounts is None else sql.SQL(" AND account_id IN ({})").format(accounts))
    book = copy_out(cur, query, types=UNIT_KEY_TYPES)
    units = level_keys(book, level).astype(object)
    routed = pd.DataFrame(
        {"account_id": book["account_id"], "territory_id": units.map(assignment).astype("Int64")}
    )
    cur.execute(
        "DROP TABLE IF EXISTS pg_temp.routed_territory;"
        " CREATE TEMP TABLE routed_territory (account_id bigint PRIMARY KEY, territory_id integer)"
        " ON COMMIT DROP"
    )
    copy_frame(cur, "routed_territory", routed)
    cur.execute(
        "UPDATE routed_territory p SET territory_id = s.territory_id"
        " FROM accounts a, territory_shapes s WHERE a.account_id = p.account_id"
        " AND a.geocode_precision <> %s"
        " AND s.version_id = %s AND s.geom && a.geom AND ST_Covers(s.geom, a.geom)",
        (STATE_LEVEL, version),
    )
    cur.execute(
        "UPDATE accounts a SET territory_id = p.territory_id, updated_at = now()"
        " FROM routed_territory p WHERE a.account_id = p.account_id"
        " AND NOT a.territory_override AND a.territory_id IS DISTINCT FROM p.territory_id"
    )
    return cur.rowcount
