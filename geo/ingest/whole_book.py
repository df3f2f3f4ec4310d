"""Bulk writes of a whole book of business (reps, branches, accounts and their history).

Rows arrive with explicit ids that reference each other; the load is one
transaction of ``COPY`` statements into empty tables, then the id sequences
move past the loaded ids.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo import clock
from geo.ingest.demo import DemoBook, generate_demo
from geo.places.regions import region_keys
from geo.store.db import SYSTEM_USER, Database, copy_frame, ewkb_hex
from geo.store.shipped_data import read_cities, read_counties, read_zips
from geo.store.users import DEMO_USERS, create_demo_users

_SEQUENCES = {
    "reps": "rep_id",
    "branches": "branch_id",
    "accounts": "account_id",
    "contacts": "contact_id",
    "orders": "order_id",
    "interactions": "interaction_id",
}


def account_total(db: Database) -> int:
    """Count the accounts stored, whoever owns them.

    Parameters
    ----------
    db
        The database as its owner.

    Returns
    -------
    int
        Number of accounts.
    """
    with db.transaction(user=SYSTEM_USER) as cur:
        cur.execute("SELECT count(*) FROM accounts")
        return cur.fetchone()[0]


def _wipe_book(cur: psycopg2.extensions.cursor) -> None:
    """Delete every account, its history, every rep and branch, the demo users and users who were reps."""
    cur.execute(
        "DELETE FROM app_users WHERE rep_id IS NOT NULL OR username = ANY(%s)",
        ([username for username, *_ in DEMO_USERS],),
    )
    cur.execute(
        "TRUNCATE interactions, orders, contacts, campaign_members, campaign_responses,"
        " accounts, branches, trade_areas, territory_shapes, territory_units, territory_versions,"
        " territories RESTART IDENTITY CASCADE"
    )
    cur.execute("DELETE FROM reps")
    cur.execute("SELECT setval(pg_get_serial_sequence('reps', 'rep_id'), 1, false)")


def store_book(cur: psycopg2.extensions.cursor, book: DemoBook, region_keys: pd.DataFrame) -> dict[str, int]:
    """Load a book into empty tables inside the caller's transaction.

    Accounts are written in spatial order (county, then H3 cell at resolution 9, whose ids
    sort parent before child), so that the accounts of an area share table pages: a drawn
    county then reads a few thousand pages instead of one per account.

    Parameters
    ----------
    cur
        A cursor of the owner's transaction.
    book
        The tables to load, with explicit ids.
    region_keys
        Region keys of ``book.accounts`` (same index), as :func:`geo.places.regions.region_keys`.

    Returns
    -------
    dict
        Rows loaded per table.
    """
    frames = {
        "reps": _reps_rows(book.reps),
        "branches": _point_rows(book.branches, "geom"),
        "accounts": _point_rows(
            book.accounts.join(region_keys).sort_values(
                ["county_fips", "h3_r9", "account_id"], na_position="last", kind="stable"
            ),
            "geom",
        ),
        "contacts": book.contacts,
        "orders": book.orders,
        "interactions": _interaction_rows(book.interactions),
    }
    for table, frame in frames.items():
        copy_frame(cur, table, frame)
        statement = sql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, %s), GREATEST(max({column}), 1)) FROM {table}"
        ).format(column=sql.Identifier(_SEQUENCES[table]), table=sql.Identifier(table))
        cur.execute(statement, (table, _SEQUENCES[table]))
    return {table: len(frame) for table, frame in frames.items()}


def _point_rows(frame: gpd.GeoDataFrame, column: str) -> pd.DataFrame:
    rows = pd.DataFrame(frame.drop(columns=frame.geometry.name))
    rows[column] = ewkb_hex(frame.geometry)
    return rows


def _reps_rows(reps: pd.DataFrame) -> pd.DataFrame:
    rows = reps.drop(columns="home")
    rows["home_geom"] = ewkb_hex(reps["home"])
    return rows


def _interaction_rows(interactions: pd.DataFrame) -> pd.DataFrame:
    rows = interactions.drop(columns="checkin")
    rows["checkin_geom"] = ewkb_hex(interactions["checkin"])
    return rows


def load_demo_book(
    db: Database,
    data_dir: Path,
    *,
    accounts: int,
    seed: int,
    as_of: date | None = None,
    order_scale: float = 1.0,
    replace: bool = False,
) -> dict[str, int]:
    """Generate a demo book from the shipped gazetteers, assign region keys, and store it.

    The book, its demo users (:data:`geo.store.users.DEMO_USERS`) and, with ``replace``, the
    removal of the current book are one transaction: a load that fails keeps the old book.

    Parameters
    ----------
    db
        The database as its owner; the book tables must be empty unless ``replace``.
    data_dir
        The shipped data directory.
    accounts
        Number of accounts.
    seed
        Seed of the generator.
    as_of
        The book ends the day before this date; default :func:`geo.clock.today`.
    order_scale
        Multiplies the order rates (see :func:`geo.ingest.demo.generate_demo`).
    replace
        First delete the current book: every account and its history, the reps, branches,
        territories and plans, the demo users and the users who were reps.

    Returns
    -------
    dict
        Rows loaded per table.
    """
    book = generate_demo(
        read_zips(data_dir),
        read_cities(data_dir),
        accounts=accounts,
        seed=seed,
        as_of=as_of or clock.today(),
        order_scale=order_scale,
    )
    keys = region_keys(book.accounts.geometry, read_counties(data_dir))
    with db.transaction(user=SYSTEM_USER) as cur:
        if replace:
            _wipe_book(cur)
        loaded = store_book(cur, book, keys)
        create_demo_users(cur)
    return loaded
