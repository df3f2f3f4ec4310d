"""Account queries: headline counts, counts per region key, export, placements and merges."""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo import clock
from geo.analysis.cube import Facts
from geo.analysis.tradeareas import nearest_branch_keys
from geo.errors import AccountNotFound
from geo.ingest.geocode import PRECISION_RANK
from geo.ingest.placement import PLACEMENT_COLUMNS, points_where
from geo.ingest.territory_keys import assign_territories
from geo.places.geodesy import within_radius_sql
from geo.store.audit import record
from geo.store.db import Database, copy_frame, copy_out


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
        revenue_12m`` (revenue of won orders in the 12 months up to :func:`geo.clock.today`).
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
            " AND order_date > %s::date - interval '12 months' AND order_date <= %s",
            (clock.today(), clock.today()),
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


EXPORT_COLUMNS = [
    "external_id",
    "name",
    "longitude",
    "latitude",
    "geocode_precision",
    "geocode_source",
    "state_fips",
    "county_fips",
    "zip",
    "h3_r5",
    "h3_r7",
    "h3_r9",
    "territory_id",
]
ADDRESS_COLUMNS = ["account_id", "street", "city", "state", "postal_code", "country"]


def accounts_for_export(db: Database, *, user: str) -> gpd.GeoDataFrame:
    """Fetch every account with its location, geocode precision and region keys.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    GeoDataFrame
        :data:`EXPORT_COLUMNS` and point geometry (None where unplaced), by external id.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT external_id, name, ST_X(geom), ST_Y(geom), geocode_precision, geocode_source,"
            " state_fips, county_fips, zip, h3_r5, h3_r7, h3_r9, territory_id"
            " FROM accounts ORDER BY external_id"
        )
        frame = pd.DataFrame(cur.fetchall(), columns=EXPORT_COLUMNS)
    frame["territory_id"] = frame["territory_id"].astype("Int64")
    located = frame["longitude"].notna().to_numpy()
    points = points_where(frame["longitude"], frame["latitude"], located)
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(points, crs="EPSG:4326"))


def accounts_for_review(db: Database, *, user: str) -> pd.DataFrame:
    """Fetch what duplicate review compares: names, street addresses and locations.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``external_id, name, street, postal_code, lon, lat``.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT external_id, name, street, postal_code, ST_X(geom), ST_Y(geom) FROM accounts")
        rows = cur.fetchall()
    return pd.DataFrame(rows, columns=["external_id", "name", "street", "postal_code", "lon", "lat"]).astype(
        {"lon": float, "lat": float}
    )


def unplaced_addresses(db: Database, *, user: str) -> pd.DataFrame:
    """Fetch the address fields of accounts not yet on the map (precision ``none``).

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        :data:`ADDRESS_COLUMNS`, text ('' where empty).
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT account_id, street, city, state, postal_code, country FROM accounts"
            " WHERE geocode_precision = 'none' ORDER BY account_id"
        )
        frame = pd.DataFrame(cur.fetchall(), columns=ADDRESS_COLUMNS)
    return frame.fillna("")


def store_placements(db: Database, placed: pd.DataFrame, *, user: str) -> int:
    """Write new locations, precision and region keys of accounts, by ``account_id``.

    The accounts then take the territory the active plan gives them.

    Parameters
    ----------
    db
        The database.
    placed
        ``account_id`` and :data:`geo.ingest.placement.PLACEMENT_COLUMNS`.
    user
        The acting user.

    Returns
    -------
    int
        Accounts whose placement changed.
    """
    columns = ["account_id", *PLACEMENT_COLUMNS]
    with db.transaction(user=user) as cur:
        cur.execute(
            sql.SQL("CREATE TEMP TABLE placement_stage ({}) ON COMMIT DROP").format(
                sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c)) for c in columns)
            )
        )
        copy_frame(cur, "placement_stage", placed[columns])
        cur.execute(
            "UPDATE accounts a SET geom = s.geom::geometry, geocode_precision = s.geocode_precision,"
            " geocode_source = s.geocode_source, geocode_note = s.geocode_note, zip = s.zip,"
            " state_fips = s.state_fips, county_fips = s.county_fips, h3_r5 = s.h3_r5, h3_r7 = s.h3_r7,"
            " h3_r9 = s.h3_r9, updated_at = now()"
            " FROM placement_stage s WHERE a.account_id = s.account_id::bigint"
            " AND (a.geom, a.geocode_precision, a.geocode_note)"
            " IS DISTINCT FROM (s.geom::geometry, s.geocode_precision, s.geocode_note)"
        )
        changed = cur.rowcount
        assign_territories(cur, accounts=sql.SQL("SELECT account_id::bigint FROM placement_stage"))
        return changed


def merge_accounts(db: Database, keep: str, drop: str, *, user: str) -> dict[str, int]:
    """Merge account ``drop`` into ``keep``: its history moves over, then it is deleted (audited).

    Parameters
    ----------
    db
        The database.
    keep, drop
        External ids of the account that stays and the duplicate that goes.
    user
        The acting user.

    Returns
    -------
    dict
        Rows moved per table.
    """
    if keep == drop:
        msg = f"Cannot merge account {keep!r} into itself."
        raise AccountNotFound(msg)
    with db.transaction(user=user) as cur:
        ids = _lock_accounts(cur, [keep, drop])
        moved = _move_history(cur, ids[keep], ids[drop])
        cur.execute("DELETE FROM accounts WHERE account_id = %s", (ids[drop],))
        record(cur, "merge_accounts", keep, {"merged": drop, "moved": moved})
    return moved


def _lock_accounts(cur: psycopg2.extensions.cursor, external_ids: list[str]) -> dict[str, int]:
    """Lock accounts by external id for the rest of the transaction; external id → account id."""
    cur.execute(
        "SELECT external_id, account_id FROM accounts WHERE external_id = ANY(%s) FOR UPDATE",
        (external_ids,),
    )
    ids = dict(cur.fetchall())
    for external_id in external_ids:
        if external_id not in ids:
            msg = f"No account with ID {external_id!r}."
            raise AccountNotFound(msg)
    return ids


def _move_history(cur: psycopg2.extensions.cursor, keep: int, drop: int) -> dict[str, int]:
    """Hand the contacts, orders, interactions, responses and campaign places of ``drop`` to ``keep``."""
    moved = {}
    for table in ("contacts", "orders", "interactions", "campaign_responses"):
        cur.execute(
            sql.SQL("UPDATE {} SET account_id = %s WHERE account_id = %s").format(sql.Identifier(table)),
            (keep, drop),
        )
        moved[table] = cur.rowcount
    cur.execute(
        "INSERT INTO campaign_members (campaign_id, account_id, snapshot_at)"
        " SELECT campaign_id, %s, snapshot_at FROM campaign_members WHERE account_id = %s"
        " ON CONFLICT DO NOTHING",
        (keep, drop),
    )
    return moved


def precision_counts(db: Database, *, user: str) -> pd.DataFrame:
    """Count accounts by geocode precision.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``precision, accounts``, best precision first.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT geocode_precision, count(*) FROM accounts GROUP BY 1")
        frame = pd.DataFrame(cur.fetchall(), columns=["precision", "accounts"])
    rank = frame["precision"].map(PRECISION_RANK).fillna(-1)
    return (
        frame.assign(rank=rank)
        .sort_values("rank", ascending=False)
        .drop(columns="rank")
        .reset_index(drop=True)
    )


def low_precision_by_stated_state(db: Database, *, user: str) -> pd.DataFrame:
    """Count unplaced and low-precision accounts (region, none) by the state their address names.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``state`` (as typed), ``geocode_precision``, ``accounts``.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT coalesce(state, ''), geocode_precision, count(*) FROM accounts"
            " WHERE geocode_precision IN ('none', 'region') GROUP BY 1, 2"
        )
        return pd.DataFrame(cur.fetchall(), columns=["state", "geocode_precision", "accounts"])


FACT_ACCOUNT_TYPES = {
    "account_id": "int64",
    "status": "string",
    "segment": "string",
    "industry": "string",
    "owner_rep_id": "int64",
    "territory_id": "int64",
    "state_fips": "string",
    "county_fips": "string",
    "zip": "string",
    "h3_r5": "string",
    "h3_r7": "string",
    "h3_r9": "string",
    "lon": "float64",
    "lat": "float64",
}
FACT_ORDER_TYPES = {"account_id": "int64", "order_date": "date32", "amount": "float64"}


def load_facts(db: Database, *, user: str) -> Facts:
    """Fetch what the cube aggregates: every account's dimensions and every won order.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    Facts
        Accounts (with ``trade_area``, the nearest branch) and won orders
        (``order_date`` as datetime64).
    """
    with db.transaction(user=user) as cur:
        accounts = copy_out(
            cur,
            "SELECT account_id, status, segment, industry, owner_rep_id, territory_id, state_fips,"
            " county_fips, zip, h3_r5, h3_r7, h3_r9, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM accounts",
            types=FACT_ACCOUNT_TYPES,
        )
        orders = copy_out(
            cur,
            "SELECT account_id, order_date, amount FROM orders WHERE stage = 'won'",
            types=FACT_ORDER_TYPES,
        )
    orders["order_date"] = pd.to_datetime(orders["order_date"])
    lon, lat = (accounts.pop(c).to_numpy(dtype=float, na_value=np.nan) for c in ("lon", "lat"))
    accounts["trade_area"] = nearest_branch_keys(lon, lat, branches(db, user=user)).to_numpy()
    return Facts(accounts=accounts, orders=orders)


FACT_TABLES = ("accounts", "orders", "branches")
"""Tables the cube's facts are built from."""


def data_version(db: Database, *, user: str, tables: tuple[str, ...] = FACT_TABLES) -> tuple:
    """A fingerprint of tables, to key cached data on: their change counters.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.
    tables
        Tables the cached data is built from (see ``geo/store/migrations/006_data_versions.sql``).

    Returns
    -------
    tuple
        ``(table, version)`` pairs; changes whenever a statement writes one of the tables.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT table_name, version FROM data_versions WHERE table_name = ANY(%s) ORDER BY table_name",
            (list(tables),),
        )
        return tuple(cur.fetchall())


def visited_since(db: Database, since: date, *, user: str) -> set[int]:
    """The accounts the user sees that had a visit on or after ``since``.

    Parameters
    ----------
    db
        The database.
    since
        First day that counts.
    user
        The acting user.

    Returns
    -------
    set of int
        Account ids.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT v.account_id FROM account_last_visits v JOIN accounts a USING (account_id)"
            " WHERE v.last_visit_at >= %s",
            (since,),
        )
        return {account_id for (account_id,) in cur.fetchall()}


def rep_names(db: Database, *, user: str) -> pd.Series:
    """Name every rep.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    Series
        Rep id (as text) → name.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT rep_id::text, name FROM reps")
        return pd.Series(dict(cur.fetchall()), dtype=object)


REGION_ACCOUNT_COLUMNS = [
    "external_id",
    "name",
    "status",
    "segment",
    "industry",
    "street",
    "city",
    "geocode_precision",
    "revenue",
    "lon",
    "lat",
]
"""What a region's list of accounts shows (:func:`accounts_in_zip`, :func:`accounts_in_county`)."""


def accounts_in_zip(db: Database, zip_code: str, *, user: str) -> pd.DataFrame:
    """List the accounts of one ZIP (the last step of a drill-down).

    Parameters
    ----------
    db
        The database.
    zip_code
        5-digit ZIP key.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``external_id, name, status, segment, industry, street, city, geocode_precision``,
        ``revenue`` (won in the last 12 months) and ``lon, lat`` (None where not placed), by
        name (then external id, so the order is the same on every run).
    """
    return _accounts_in(db, "zip", zip_code, user=user, limit=None).drop(columns="zip")


LISTED_FILTERS = ("segment", "industry", "status")
"""The account columns a region's list may be filtered by (the filters of Sales by region)."""


def accounts_in_county(
    db: Database,
    county_fips: str,
    *,
    user: str,
    limit: int,
    where: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """List the placed accounts of one county, at most ``limit`` of them.

    Parameters
    ----------
    db
        The database.
    county_fips
        5-digit county key.
    user
        The acting user.
    limit
        The most rows fetched: a page asks for one more than it draws to tell a county too big.
    where
        Column of :data:`LISTED_FILTERS` → the values kept (the page's filters); the limit
        counts the accounts kept. Default: every account.

    Returns
    -------
    DataFrame
        The columns of :func:`accounts_in_zip` and the account's ``zip``, by name.

    Raises
    ------
    ValueError
        A filter on a column that is not one of :data:`LISTED_FILTERS` (the message lists them).
    """
    return _accounts_in(db, "county_fips", county_fips, user=user, limit=limit, where=where)


def _accounts_in(
    db: Database,
    column: str,
    key: str,
    *,
    user: str,
    limit: int | None,
    where: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """The accounts whose key ``column`` (``zip``, ``county_fips``) is ``key``; placed only with a limit."""
    placed = sql.SQL(" AND geom IS NOT NULL") if limit is not None else sql.SQL("")
    unknown = sorted(set(where or {}) - set(LISTED_FILTERS))
    if unknown:
        valid = ", ".join(LISTED_FILTERS)
        msg = f"Cannot filter a region's accounts by {', '.join(unknown)}; choose from {valid}."
        raise ValueError(msg)
    kept = [(field, [str(value) for value in values]) for field, values in (where or {}).items()]
    filters = sql.SQL("").join(
        sql.SQL(" AND {field} = ANY(%s)").format(field=sql.Identifier(field)) for field, _values in kept
    )
    with db.transaction(user=user) as cur:
        cur.execute(
            sql.SQL(
                "WITH listed AS (SELECT * FROM accounts WHERE {column} = %s{placed}{filters}"
                " ORDER BY name, external_id LIMIT %s)"
                " SELECT l.external_id, l.name, l.status, l.segment, l.industry, l.street, l.city,"
                " l.geocode_precision, coalesce(f.won_last_12_months, 0), ST_X(l.geom), ST_Y(l.geom), l.zip"
                " FROM listed l LEFT JOIN gcrm_account_figures(ARRAY(SELECT account_id FROM listed), %s) f"
                " USING (account_id) ORDER BY l.name, l.external_id"
            ).format(column=sql.Identifier(column), placed=placed, filters=filters),
            (key, *(values for _field, values in kept), limit, clock.today()),
        )
        return pd.DataFrame(cur.fetchall(), columns=[*REGION_ACCOUNT_COLUMNS, "zip"])


def branches(db: Database, *, user: str) -> gpd.GeoDataFrame:
    """Fetch every branch.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    GeoDataFrame
        ``branch_id, external_id, name, kind, city, state`` and point geometry, by name.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT branch_id, external_id, name, kind, city, state, ST_X(geom), ST_Y(geom)"
            " FROM branches ORDER BY name"
        )
        frame = pd.DataFrame(
            cur.fetchall(),
            columns=["branch_id", "external_id", "name", "kind", "city", "state", "lon", "lat"],
        )
    return gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )


def accounts_near(db: Database, lon: float, lat: float, radius_m: float, *, user: str) -> gpd.GeoDataFrame:
    """Fetch the accounts within ``radius_m`` metres (on the sphere) of a point, with last-12-month revenue.

    The radius search is :func:`geo.places.geodesy.within_radius_sql` (index prefilter, then the
    exact distance on the sphere).

    Parameters
    ----------
    db
        The database.
    lon, lat
        Centre in degrees.
    radius_m
        Radius in metres.
    user
        The acting user.

    Returns
    -------
    GeoDataFrame
        Indexed by ``account_id``: ``external_id, name, status, revenue`` and point geometry.
    """
    within, within_params = within_radius_sql("a.geom", lon, lat, radius_m)
    with db.transaction(user=user) as cur:
        cur.execute(
            "WITH near AS (SELECT a.account_id, a.external_id, a.name, a.status, a.geom"
            f" FROM accounts a WHERE {within})"
            " SELECT n.account_id, n.external_id, n.name, n.status, coalesce(sum(o.amount), 0)::float,"
            " ST_X(n.geom), ST_Y(n.geom) FROM near n LEFT JOIN orders o ON o.account_id = n.account_id"
            " AND o.stage = 'won'"
            " AND o.order_date > %s::date - interval '12 months' AND o.order_date <= %s"
            " GROUP BY n.account_id, n.external_id, n.name, n.status, n.geom",
            (*within_params, clock.today(), clock.today()),
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(
        rows, columns=["account_id", "external_id", "name", "status", "revenue", "lon", "lat"]
    )
    frame = frame.set_index("account_id")
    return gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]),
        geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
        crs="EPSG:4326",
    )


def accounts_by_external_id(db: Database, external_ids: list[str], *, user: str) -> pd.DataFrame:
    """The placed accounts named by their external ids, in the order given (matched regardless of case).

    Parameters
    ----------
    db
        The database.
    external_ids
        As typed.
    user
        The acting user (sees only their own accounts).

    Returns
    -------
    DataFrame
        ``account_id, external_id, name, status, lon, lat``, one row per id given.

    Raises
    ------
    AccountNotFound
        An id matches no account the user may see, or one without a position.
    """
    wanted = [text.strip() for text in external_ids if text.strip()]
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT lower(external_id), account_id, external_id, name, status, ST_X(geom), ST_Y(geom)"
            " FROM accounts WHERE lower(external_id) = ANY(%s) AND geom IS NOT NULL",
            ([text.lower() for text in wanted],),
        )
        found = {row[0]: row[1:] for row in cur.fetchall()}
    missing = [text for text in wanted if text.lower() not in found]
    if missing:
        msg = f"No placed account you may see has the id {', '.join(missing)}."
        raise AccountNotFound(msg)
    return pd.DataFrame(
        [found[text.lower()] for text in wanted],
        columns=["account_id", "external_id", "name", "status", "lon", "lat"],
    )


SEARCH_LIMIT = 20
"""At most this many accounts answer a search."""
SEARCH_TEXT = (
    "lower(name || ' ' || external_id || ' ' || coalesce(city, '') || ' ' || coalesce(postal_code, ''))"
)
"""What a search matches: the expression of the trigram index ``accounts_search_idx`` (migration 020)."""


def find_accounts(db: Database, text: str, *, user: str, limit: int = SEARCH_LIMIT) -> pd.DataFrame:
    """The placed accounts whose name, external id, city or ZIP holds ``text``, regardless of case.

    Exact matches of the external id or ZIP come first, then names that start with the text,
    then the rest, by name.

    Parameters
    ----------
    db
        The database.
    text
        As typed (at least two characters).
    user
        The acting user (finds only their own accounts).
    limit
        At most this many.

    Returns
    -------
    DataFrame
        ``account_id, external_id, name, status, city, state, postal_code, lon, lat`` and the
        stored region keys ``state_fips, county_fips, zip``.
    """
    wanted = text.strip()
    columns = ["account_id", "external_id", "name", "status", "city", "state", "postal_code", "lon", "lat"]
    columns += ["state_fips", "county_fips", "zip"]
    if len(wanted) < 2:
        return pd.DataFrame(columns=columns)
    pattern = "%" + wanted.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT account_id, external_id, name, status, city, state, postal_code, ST_X(geom), ST_Y(geom),"
            " state_fips, county_fips, zip FROM accounts WHERE geom IS NOT NULL"
            f" AND {SEARCH_TEXT} LIKE %(p)s"
            " ORDER BY (lower(external_id) = lower(%(t)s) OR postal_code = %(t)s) DESC,"
            " (lower(name) LIKE %(start)s) DESC, name, external_id LIMIT %(n)s",
            {"p": pattern, "t": wanted, "start": pattern[1:], "n": int(limit)},
        )
        return pd.DataFrame(cur.fetchall(), columns=columns)
