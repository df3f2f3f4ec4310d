"""The audience of a target and its filters, explained as a waterfall.

The accounts the geography matches, minus those each filter removes, minus those without
marketing consent or on the suppression list, minus those placed too coarsely, gives the
final audience. Only the final audience is ever exported. A trade-area target reads the
branches in the same transaction; the nearest branch of each account is the one the cube's
``trade_area`` dimension uses (:func:`geo.analysis.tradeareas.nearest_branch_keys`).
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import psycopg2.extensions
from psycopg2 import sql

from geo.analysis.tradeareas import nearest_branch_keys
from geo.campaigns.filters import FILTER_LISTS, Filters
from geo.campaigns.queries import (
    MEMBER_SELECT,
    MEMBER_TYPES,
    filter_stages,
    stage_counts,
    staged_query,
    target_condition,
)
from geo.campaigns.target import REGION_KEYS, Part
from geo.store.db import Database, copy_frame, copy_out


def filter_choices(db: Database, *, user: str) -> dict[str, list[str]]:
    """The segments, industries and statuses the accounts a user sees hold: what filters offer.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    dict
        ``segment``, ``industry``, ``status`` → sorted distinct values (missing ones left out).
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT array_agg(DISTINCT segment ORDER BY segment) FILTER (WHERE segment IS NOT NULL),"
            " array_agg(DISTINCT industry ORDER BY industry) FILTER (WHERE industry IS NOT NULL),"
            " array_agg(DISTINCT status ORDER BY status) FILTER (WHERE status IS NOT NULL)"
            " FROM accounts"
        )
        row = cur.fetchone()
    return {field: list(values or []) for field, values in zip(FILTER_LISTS, row, strict=True)}


def audience(
    db: Database, parts: list[Part], filters: Filters, *, user: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count the waterfall of a target and list the final audience.

    Parameters
    ----------
    db
        The database.
    parts
        The target, combined left to right.
    filters
        The filters.
    user
        The acting user.

    Returns
    -------
    tuple of DataFrame
        The waterfall (``stage, count``), and the final members (account, names, keys, lon/lat).
    """
    with db.transaction(user=user) as cur:
        counts = stage_audience(cur, parts, filters)
        members = copy_out(cur, "SELECT * FROM audience_stage ORDER BY account_id", types=MEMBER_TYPES)
    return counts, members


def stage_audience(cur: psycopg2.extensions.cursor, parts: list[Part], filters: Filters) -> pd.DataFrame:
    """Count the waterfall and keep the final audience in ``audience_stage``, in one statement.

    One statement is one snapshot: the final count always equals the members staged, however
    the book changes meanwhile. The temporary table lives until the transaction ends.

    Parameters
    ----------
    cur
        A cursor of the caller's transaction.
    parts
        The target.
    filters
        The filters.

    Returns
    -------
    DataFrame
        The waterfall, as :func:`waterfall` gives it.
    """
    where, params = target_condition(parts, branches=_prepare_trade_areas(cur, parts))
    stages = filter_stages(filters)
    staged, staged_params = staged_query(where, params, stages)
    cur.execute(
        "DROP TABLE IF EXISTS pg_temp.audience_stage;"
        " CREATE TEMP TABLE audience_stage ON COMMIT DROP AS "
        + MEMBER_SELECT
        + " FROM accounts a WITH NO DATA"
    )
    flags = sql.SQL(", ").join(sql.Identifier(f"stage_{number}") for number in range(len(stages) + 1))
    members = sql.SQL(", ").join(sql.Identifier(column) for column in MEMBER_TYPES)
    query = sql.SQL(
        "WITH staged AS MATERIALIZED (" + MEMBER_SELECT + ", {flags} FROM ({staged} OFFSET 0) a),"
        " kept AS (INSERT INTO audience_stage SELECT {members} FROM staged WHERE {final})"
        " SELECT {counts} FROM staged a"
    ).format(
        flags=flags,
        staged=staged,
        members=members,
        final=sql.Identifier(f"stage_{len(stages)}"),
        counts=stage_counts(len(stages)),
    )
    cur.execute(query, staged_params)
    return _waterfall_frame([label for label, _condition, _params in stages], list(cur.fetchone()))


def waterfall(db: Database, parts: list[Part], filters: Filters, *, user: str) -> pd.DataFrame:
    """Count each stage of the audience in one query.

    Parameters
    ----------
    db
        The database.
    parts
        The target.
    filters
        The filters.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``stage, count, removed``: "Matched the geography", one row per filter that is set,
        "No marketing consent or suppressed", "Geocode too coarse", "Final audience".
    """
    stages = filter_stages(filters)
    with db.transaction(user=user) as cur:
        where, params = target_condition(parts, branches=_prepare_trade_areas(cur, parts))
        staged, query_params = staged_query(where, params, stages)
        query = sql.SQL("SELECT {} FROM ({} OFFSET 0) a").format(stage_counts(len(stages)), staged)
        cur.execute(query, query_params)
        counts = list(cur.fetchone())
    return _waterfall_frame([label for label, _condition, _params in stages], counts)


def _prepare_trade_areas(
    cur: psycopg2.extensions.cursor, parts: list[Part]
) -> dict[int, tuple[float, float]]:
    """Read the branches a target's trade areas need, and stage each account's nearest branch.

    For a nearest-branch part, every placed account's nearest branch on the sphere is
    computed by :func:`geo.analysis.tradeareas.nearest_branch_keys` (as for the cube) and
    staged in ``pg_temp.nearest_branches`` until the transaction ends.

    Returns
    -------
    dict
        ``branch_id`` → (lon, lat); empty when the target has no trade area.
    """
    trade_areas = [part for part in parts if part.kind == "trade_area"]
    if not trade_areas:
        return {}
    cur.execute("SELECT branch_id, ST_X(geom), ST_Y(geom) FROM branches ORDER BY branch_id")
    rows = cur.fetchall()
    if any(part.radius_m is None for part in trade_areas):
        _stage_nearest_branches(cur, pd.DataFrame(rows, columns=["branch_id", "lon", "lat"]))
    return {branch: (lon, lat) for branch, lon, lat in rows}


def _stage_nearest_branches(cur: psycopg2.extensions.cursor, branches: pd.DataFrame) -> None:
    """Stage ``pg_temp.nearest_branches``: each placed account and the nearest of ``branches``."""
    accounts = copy_out(
        cur,
        "SELECT account_id, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM accounts WHERE geom IS NOT NULL",
        types={"account_id": "int64", "lon": "float64", "lat": "float64"},
    )
    points = gpd.GeoDataFrame(
        branches[["branch_id"]],
        geometry=gpd.points_from_xy(branches["lon"], branches["lat"]),
        crs="EPSG:4326",
    )
    keys = nearest_branch_keys(accounts["lon"].to_numpy(), accounts["lat"].to_numpy(), points)
    nearest = pd.DataFrame({"account_id": accounts["account_id"].to_numpy(), "branch_id": keys.to_numpy()})
    cur.execute(
        "DROP TABLE IF EXISTS pg_temp.nearest_branches;"
        " CREATE TEMP TABLE nearest_branches (account_id bigint PRIMARY KEY, branch_id integer NOT NULL)"
        " ON COMMIT DROP"
    )
    copy_frame(cur, "nearest_branches", nearest.dropna())
    cur.execute("ANALYZE pg_temp.nearest_branches")


def _waterfall_frame(labels: list[str], counts: list[int]) -> pd.DataFrame:
    frame = pd.DataFrame({"stage": ["Matched the geography", *labels], "count": counts})
    frame["removed"] = (-frame["count"].diff()).fillna(0).astype(int)
    final = pd.DataFrame({"stage": ["Final audience"], "count": [counts[-1]], "removed": [0]})
    return pd.concat([frame, final], ignore_index=True)


def audience_by_region(members: pd.DataFrame, level: str) -> pd.DataFrame:
    """Count audience members per region.

    Parameters
    ----------
    members
        As :func:`audience` lists them.
    level
        ``state``, ``county`` or ``zip``.

    Returns
    -------
    DataFrame
        ``key, audience``, largest first.
    """
    counts = members.groupby(REGION_KEYS[level]).size().rename("audience").rename_axis("key").reset_index()
    return counts.sort_values(["audience", "key"], ascending=[False, True], ignore_index=True)
