"""Boundary layers (state → county), their storage in ``regions``, and point → region keys."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import h3
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import vector as h3_vector

from geo.store.db import SYSTEM_USER, Database, copy_frame, ewkb_hex
from geo.store.shipped_data import read_counties, read_states

CRS = "EPSG:4326"
METRIC_CRS = "EPSG:5070"
"""NAD83 / Conus Albers: equal-area metres, used for nearest-county fallbacks."""
NEAREST_COUNTY_MAX_M = 25_000
"""A point just off a simplified coastline joins the nearest county within this distance."""
H3_RESOLUTIONS = (5, 7, 9)
REGION_KEY_COLUMNS = ("state_fips", "county_fips", *(f"h3_r{r}" for r in H3_RESOLUTIONS))
"""The stored region keys of an account, as :func:`region_keys` returns them."""
LEVELS = ("state", "county")


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
    return gpd.GeoDataFrame(frame, geometry="geometry", crs=CRS)


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
        by code; ``population`` is the stored population, else the user's potential, else NaN.
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT r.code, r.name, r.abbrev, r.parent_code, p.name,"
            " coalesce(r.population, r.potential), ST_AsBinary(r.geom)"
            " FROM regions r LEFT JOIN regions p"
            " ON p.level = r.parent_level AND p.code = r.parent_code"
            " WHERE r.level = %s ORDER BY r.code",
            (level,),
        )
        rows = cur.fetchall()
    frame = pd.DataFrame(
        rows, columns=["code", "name", "abbrev", "parent_code", "parent_name", "population", "wkb"]
    ).astype({"population": "float64"})
    geometry = shapely.from_wkb([bytes(b) for b in frame.pop("wkb")])
    return gpd.GeoDataFrame(frame, geometry=geometry, crs=CRS)


def region_keys(points: gpd.GeoSeries, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    """Assign state and county FIPS and H3 cells to points, vectorised.

    A point inside no county polygon (a ZIP centroid just off a simplified
    coastline) takes the nearest county within ``NEAREST_COUNTY_MAX_M``;
    beyond that its county and state stay empty.

    Parameters
    ----------
    points
        Points in EPSG:4326; missing or empty geometries get empty keys.
    counties
        County polygons with ``code`` and ``state_code``, as :func:`read_counties`.

    Returns
    -------
    DataFrame
        Indexed like ``points``, columns ``state_fips, county_fips, h3_r5, h3_r7, h3_r9``.
    """
    county = _county_of_points(points, counties)
    keys = pd.DataFrame({"state_fips": county.str[:2], "county_fips": county}, index=points.index)
    for resolution in H3_RESOLUTIONS:
        keys[f"h3_r{resolution}"] = h3_cells(points, resolution)
    return keys


def h3_cells(points: gpd.GeoSeries, resolution: int) -> pd.Series:
    """Return the H3 cell (hex string) of each point at ``resolution``.

    Parameters
    ----------
    points
        Points in EPSG:4326.
    resolution
        H3 resolution, 0–15.

    Returns
    -------
    Series
        Cell ids, None where the point is missing.
    """
    present = (~(points.isna() | points.is_empty)).to_numpy()
    cells = np.full(len(points), None, dtype=object)
    if present.any():
        located = points[present]
        codes = h3_vector.coordinates_to_cells(located.y.to_numpy(), located.x.to_numpy(), resolution)
        cells[present] = pa.array(h3ronpy.cells_to_string(codes)).to_numpy(zero_copy_only=False)
    return pd.Series(cells, index=points.index, dtype=object)


def h3_hexagon(cell: str) -> shapely.Polygon:
    """Return the outline of an H3 cell as a (lon, lat) polygon.

    Parameters
    ----------
    cell
        H3 cell id.

    Returns
    -------
    shapely.Polygon
        The hexagon (or pentagon).
    """
    return shapely.Polygon([(lng, lat) for lat, lng in h3.cell_to_boundary(cell)])


def _county_of_points(points: gpd.GeoSeries, counties: gpd.GeoDataFrame) -> pd.Series:
    frame = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=CRS)
    present = ~(frame.geometry.isna() | frame.geometry.is_empty)
    located = frame[present]
    inside = gpd.sjoin(located, counties[["code", "geometry"]], predicate="within", how="left")
    inside = inside[~inside.index.duplicated(keep="first")]
    codes = pd.Series(np.nan, index=frame.index, dtype=object)
    codes.loc[inside.index] = inside["code"]
    missing = codes.index[present & codes.isna()]
    if len(missing):
        near = gpd.sjoin_nearest(
            frame.loc[missing].to_crs(METRIC_CRS),
            counties[["code", "geometry"]].to_crs(METRIC_CRS),
            how="left",
            max_distance=NEAREST_COUNTY_MAX_M,
        )
        near = near[~near.index.duplicated(keep="first")]
        codes.loc[near.index] = near["code"]
    codes = codes.where(codes.notna(), None)
    codes.index = points.index
    return codes
