"""Account queries: headline counts and counts per region key."""

from __future__ import annotations

import pandas as pd
from psycopg2 import sql

from geo.db import Database

REGION_KEY_COLUMNS = {"state": "state_fips", "county": "county_fips"}
"""Region level → the account column that stores its key (assigned at write time)."""
COUNT_COLUMNS = ["code", "accounts", "customers", "prospects", "churned"]


def headline_counts(db: Database, *, user: str) -> dict[str, int | float]:
    """Count the book: accounts by status, reps, branches, and won revenue of the last 12 months.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    dict
        Keys ``accounts, customers, prospects, churned, unplaced, reps, branches,
        revenue_12m`` (revenue of won orders in the 12 months up to the latest order).
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT count(*),"
            " count(*) FILTER (WHERE status = 'customer'),"
            " count(*) FILTER (WHERE status = 'prospect'),"
            " count(*) FILTER (WHERE status = 'churned'),"
            " count(*) FILTER (WHERE geom IS NULL)"
            " FROM accounts"
        )
        accounts, customers, prospects, churned, unplaced = cur.fetchone()
        cur.execute("SELECT (SELECT count(*) FROM reps), (SELECT count(*) FROM branches)")
        reps, branches = cur.fetchone()
        cur.execute(
            "SELECT coalesce(sum(amount), 0) FROM orders WHERE stage = 'won'"
            " AND order_date > (SELECT max(order_date) FROM orders) - interval '12 months'"
        )
        revenue = float(cur.fetchone()[0])
    return {
        "accounts": accounts,
        "customers": customers,
        "prospects": prospects,
        "churned": churned,
        "unplaced": unplaced,
        "reps": reps,
        "branches": branches,
        "revenue_12m": revenue,
    }


def account_counts_by_region(db: Database, level: str, *, user: str) -> pd.DataFrame:
    """Count accounts by status for each region of ``level``, from the stored region keys.

    Parameters
    ----------
    db
        The database.
    level
        ``state`` or ``county``.
    user
        The acting user.

    Returns
    -------
    DataFrame
        Columns ``code, accounts, customers, prospects, churned``; regions without
        accounts are absent, accounts without a key are left out.
    """
    if level not in REGION_KEY_COLUMNS:
        msg = f"Unknown region level {level!r}; choose one of {', '.join(REGION_KEY_COLUMNS)}."
        raise ValueError(msg)
    statement = sql.SQL(
        "SELECT {key}::text, count(*),"
        " count(*) FILTER (WHERE status = 'customer'),"
        " count(*) FILTER (WHERE status = 'prospect'),"
        " count(*) FILTER (WHERE status = 'churned')"
        " FROM accounts WHERE {key} IS NOT NULL GROUP BY {key} ORDER BY {key}"
    ).format(key=sql.Identifier(REGION_KEY_COLUMNS[level]))
    with db.transaction(user=user) as cur:
        cur.execute(statement)
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=COUNT_COLUMNS)
