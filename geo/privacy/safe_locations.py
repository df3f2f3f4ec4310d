"""Location exports safe to share: counts per region or H3 cell, small cells suppressed.

A shared map of where customers are must not single anyone out: accounts are
counted per state, county, ZIP or H3 cell, and every cell holding fewer than
``k`` accounts (default :data:`DEFAULT_MIN_CELL`, setting ``GCRM_EXPORT_MIN_CELL``)
is left out, as k-anonymity asks. What was left out is reported, never listed.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
from psycopg2 import sql

from geo.errors import ExportError
from geo.places.regions import H3_RESOLUTIONS, h3_hexagon
from geo.store.db import Database

DEFAULT_MIN_CELL = 10
"""Smallest number of accounts a shared cell may hold."""
SHARE_LEVELS = {
    "state": "state_fips",
    "county": "county_fips",
    "zip": "zip",
    **{f"h3:{r}": f"h3_r{r}" for r in H3_RESOLUTIONS},
}
"""``--by`` value → stored region key of the accounts."""


def suppress_small_cells(
    counts: pd.DataFrame, *, k: int, column: str = "accounts"
) -> tuple[pd.DataFrame, int]:
    """Drop the cells holding fewer than ``k`` people.

    Parameters
    ----------
    counts
        One row per cell with a count ``column``.
    k
        Smallest count kept (at least 1).
    column
        The count of people.

    Returns
    -------
    tuple
        The kept rows (index reset) and how many cells were suppressed.
    """
    if k < 1:
        msg = f"k must be at least 1, not {k}."
        raise ExportError(msg)
    kept = counts[counts[column] >= k]
    return kept.reset_index(drop=True), len(counts) - len(kept)


def account_counts(db: Database, by: str, *, user: str) -> pd.DataFrame:
    """Count the accounts the user sees per cell of a level.

    Parameters
    ----------
    db
        The database.
    by
        A key of :data:`SHARE_LEVELS`.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``cell, accounts`` for every cell holding an account, by cell.
    """
    if by not in SHARE_LEVELS:
        msg = f"Unknown level {by!r}; choose one of {', '.join(SHARE_LEVELS)}."
        raise ExportError(msg)
    column = sql.Identifier(SHARE_LEVELS[by])
    query = sql.SQL(
        "SELECT {c} AS cell, count(*) AS accounts FROM accounts"
        " WHERE {c} IS NOT NULL GROUP BY {c} ORDER BY {c}"
    ).format(c=column)
    with db.transaction(user=user) as cur:
        cur.execute(query)
        return pd.DataFrame(cur.fetchall(), columns=["cell", "accounts"]).astype({"accounts": "int64"})


def cell_shapes(cells: pd.DataFrame, by: str, regions: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """Give each cell its outline: the region's polygon, or the H3 hexagon.

    Parameters
    ----------
    cells
        ``cell, accounts``.
    by
        A key of :data:`SHARE_LEVELS`.
    regions
        Regions of the level with ``code``, ``name`` and geometry (states or counties); None for H3.

    Returns
    -------
    GeoDataFrame
        The cells with a ``name`` for regions, in EPSG:4326.
    """
    if by == "zip":
        msg = "ZIP outlines are not shipped: share ZIP counts as CSV, or choose county or an H3 level."
        raise ExportError(msg)
    if by.startswith("h3:"):
        return gpd.GeoDataFrame(cells, geometry=[h3_hexagon(c) for c in cells["cell"]], crs="EPSG:4326")
    shapes = regions[["code", "name", "geometry"]].rename(columns={"code": "cell"})
    return gpd.GeoDataFrame(cells.merge(shapes, on="cell", how="left"), geometry="geometry", crs="EPSG:4326")
