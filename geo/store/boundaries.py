"""The ``regions`` table: the shipped boundaries (state → county) loaded once, and regions fetched."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.store.db import STORAGE_CRS, SYSTEM_USER, Database, copy_frame, ewkb_hex
from geo.store.shipped_data import read_counties, read_states

LEVELS = ("state", "county")
"""The boundary levels the regions table holds."""


def read_boundaries(data_dir: Path) -> gpd.GeoDataFrame:
    """Read the shipped states and counties as one frame shaped like the ``regions`` table.

    Parameters
    ----------
    data_dir
        Directory holding ``states.parquet`` and ``counties.parquet``.

    Returns
    -------
    GeoDataFrame
        Columns ``level, code, name, abbrev, parent_level, parent_code, geometry``;
        states first, so every parent precedes its children.
    """
    states = read_states(data_dir)
    counties = read_counties(data_dir)
    states = states.assign(level="state", parent_level=None, parent_code=None)
    counties = counties.assign(
        level="county", abbrev=None, parent_level="state", parent_code=counties["state_code"]
    )
    columns = ["level", "code", "name", "abbrev", "parent_level", "parent_code", "geometry"]
    frame = pd.concat([states[columns], counties[columns]], ignore_index=True)
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=STORAGE_CRS)


def boundaries_loaded(db: Database) -> bool:
    """Tell whether the ``regions`` table holds the state and county levels.

    Parameters
    ----------
    db
        The database.

    Returns
    -------
    bool
        True when both levels are present.
    """
    with db.transaction(user=SYSTEM_USER) as cur:
        cur.execute("SELECT count(DISTINCT level) FROM regions WHERE level = ANY(%s)", (list(LEVELS),))
        return cur.fetchone()[0] == len(LEVELS)


def store_regions(db: Database, regions: gpd.GeoDataFrame) -> int:
    """Upsert region rows (level, code) into ``regions``.

    Parameters
    ----------
    db
        The database as its owner.
    regions
        Frame shaped like :func:`read_boundaries` returns, parents before children.

    Returns
    -------
    int
        Number of rows written.
    """
    payload = pd.DataFrame(regions.drop(columns="geometry"))
    payload["geom"] = ewkb_hex(regions.geometry)
    with db.transaction(user=SYSTEM_USER) as cur:
        cur.execute("CREATE TEMP TABLE regions_stage (LIKE regions) ON COMMIT DROP")
        copy_frame(cur, "regions_stage", payload)
        cur.execute(
            "INSERT INTO regions (level, code, name, abbrev, parent_level, parent_code, geom)"
            " SELECT level, code, name, abbrev, parent_level, parent_code, geom FROM regions_stage"
            " ORDER BY (parent_level IS NOT NULL), level, code"
            " ON CONFLICT (level, code) DO UPDATE SET name = EXCLUDED.name,"
            " abbrev = EXCLUDED.abbrev, parent_level = EXCLUDED.parent_level,"
            " parent_code = EXCLUDED.parent_code, geom = EXCLUDED.geom"
        )
        return cur.rowcount


def load_regions(db: Database, level: str, *, user: str) -> gpd.GeoDataFrame:
    """Fetch the regions of one level with their geometry.

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
    GeoDataFrame
        Columns ``code, name, abbrev, parent_code, parent_name, population, geometry`` ordered
        by code; ``population`` is the population fact (``region_facts``), else the stored
        population, else the user's potential, else NaN.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT r.code, r.name, r.abbrev, r.parent_code, p.name,"
            " coalesce(f.value, r.population, r.potential), ST_AsBinary(r.geom)"
            " FROM regions r LEFT JOIN regions p"
            " ON p.level = r.parent_level AND p.code = r.parent_code"
            " LEFT JOIN region_facts f ON f.level = r.level AND f.code = r.code AND f.fact = 'population'"
            " WHERE r.level = %s ORDER BY r.code",
            (level,),
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(
        rows, columns=["code", "name", "abbrev", "parent_code", "parent_name", "population", "wkb"]
    ).astype({"population": "float64"})
    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("wkb")])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=STORAGE_CRS)
