"""Region keys of points: state and county FIPS (with a nearest-county fallback) and H3 cells."""

from __future__ import annotations

import itertools

import geopandas as gpd
import h3
import h3ronpy
import numpy as np
import pandas as pd
import pyarrow as pa
import shapely
from h3ronpy import vector as h3_vector

from geo.places.geodesy import METRIC_CRS
from geo.store.db import STORAGE_CRS

NEAREST_COUNTY_MAX_M = 25_000
"""A point just off a simplified coastline joins the nearest county within this distance."""
H3_RESOLUTIONS = (5, 7, 9)
INTERIOR_MARGIN_DEG = 1e-3
"""Room a cell must leave inside an area to count as interior (see :func:`h3_interior`)."""
CELL_PLACE_REACH_M = 8_000
"""A cell is named by the most populous place within this distance, plus its edge length, of its centre."""
REGION_KEY_COLUMNS = ("state_fips", "county_fips", *(f"h3_r{r}" for r in H3_RESOLUTIONS))
"""The stored region keys of an account, as :func:`region_keys` returns them."""
LEVEL_COLUMNS = {
    "state": "state_fips",
    "county": "county_fips",
    "zip": "zip",
    "h3_5": "h3_r5",
    "h3_6": "h3_r7",
    "h3_7": "h3_r7",
    "h3_8": "h3_r9",
    "h3_9": "h3_r9",
}
"""Geographic level → the account column its key derives from (H3 6 and 8 from the stored 7 and 9)."""


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


def h3_cover(shape: shapely.Geometry, resolution: int, *, max_cells: int) -> list[str] | None:
    """The H3 cells that may hold points of an area: those it touches, and their neighbours.

    A superset of the cells of the points inside ``shape`` (whose straight edges are taken
    in degrees: densify geodesic ones first, :func:`geo.places.geodesy.geodesic_segmentize`):
    the cells whose outline intersects it, and around each its ring of neighbours, which
    absorbs the difference between the cells' own great-circle edges and straight ones.

    Parameters
    ----------
    shape
        A Polygon or MultiPolygon in EPSG:4326.
    resolution
        H3 resolution.
    max_cells
        Give up (None) beyond this many cells: a key list that long filters nothing.

    Returns
    -------
    list of str or None
        Cell ids, sorted; None when there would be more than ``max_cells``.
    """
    touched = h3_vector.wkb_to_cells(
        pa.array([shapely.to_wkb(shape)]),
        resolution,
        containment_mode=h3ronpy.ContainmentMode.IntersectsBoundary,
    )
    codes = pa.array(touched).flatten()
    inside = shapely.get_coordinates(shapely.point_on_surface(shape))
    seeds = set(pa.array(h3ronpy.cells_to_string(codes)).to_pylist())
    seeds.add(h3.latlng_to_cell(float(inside[0, 1]), float(inside[0, 0]), resolution))
    if len(seeds) > max_cells:
        return None
    cells = set(itertools.chain.from_iterable(h3.grid_disk(cell, 1) for cell in seeds))
    return sorted(cells) if len(cells) <= max_cells else None


def h3_interior(shape: shapely.Geometry, resolution: int) -> list[str]:
    """The H3 cells that lie wholly inside an area, with room to spare: their points need no test.

    The cells whose outline is inside ``shape`` shrunk by :data:`INTERIOR_MARGIN_DEG` (34 m
    or more up to 72°N): a cell's own edges are great-circle arcs, within centimetres of its
    straight outline at resolution 7.

    Parameters
    ----------
    shape
        A Polygon or MultiPolygon in EPSG:4326 with straight edges (densify geodesic ones first).
    resolution
        H3 resolution.

    Returns
    -------
    list of str
        Cell ids, sorted.
    """
    inner = shape.buffer(-INTERIOR_MARGIN_DEG)
    if inner.is_empty:
        return []
    codes = pa.array(
        h3_vector.wkb_to_cells(
            pa.array([shapely.to_wkb(inner)]),
            resolution,
            containment_mode=h3ronpy.ContainmentMode.ContainsBoundary,
        )
    ).flatten()
    return sorted(pa.array(h3ronpy.cells_to_string(codes)).to_pylist())


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


def h3_cell_labels(cells: pd.Series | list[str], places: gpd.GeoDataFrame) -> pd.Series:
    """Name H3 cells by their centre's place: ``Near Springfield, IL``.

    The place is the most populous one within :data:`CELL_PLACE_REACH_M` and an edge length of
    the centre (so a cell in a city is named by the city, not by one of its neighbourhoods), else
    the nearest one.

    Parameters
    ----------
    cells
        H3 cell ids.
    places
        Populated places with ``name``, ``state``, optionally ``population``, and Point
        geometry in EPSG:4326 (the shipped cities, :func:`geo.store.shipped_data.read_cities`).

    Returns
    -------
    Series
        One label per cell, in its order (and index when ``cells`` is a Series); a value that is
        no valid cell is kept as it is.
    """
    ids = pd.Series(cells, dtype=object)
    valid = ids.map(lambda cell: isinstance(cell, str) and h3.is_valid_cell(cell)).astype(bool)
    labels = ids.copy()
    if not valid.any() or places.empty:
        return labels
    chosen = _place_of_cells(list(ids[valid]), places)
    labels[valid] = ("Near " + chosen["name"].astype(str) + ", " + chosen["state"].astype(str)).to_numpy()
    return labels


def _place_of_cells(cells: list[str], places: gpd.GeoDataFrame) -> pd.DataFrame:
    centres = [h3.cell_to_latlng(cell) for cell in cells]
    points = gpd.GeoSeries(shapely.points([(lng, lat) for lat, lng in centres]), crs=STORAGE_CRS)
    points = points.to_crs(METRIC_CRS).to_numpy()
    tree = shapely.STRtree(places.geometry.to_crs(METRIC_CRS).to_numpy())
    choice = tree.nearest(points)
    if "population" in places:
        edges = [h3.average_hexagon_edge_length(h3.get_resolution(cell), unit="m") for cell in cells]
        reach = CELL_PLACE_REACH_M + np.array(edges)
        cell_index, place_index = tree.query(shapely.buffer(points, reach), predicate="contains")
        near = pd.DataFrame(
            {"cell": cell_index, "place": place_index, "people": places["population"].to_numpy()[place_index]}
        )
        biggest = near.sort_values(["cell", "people"], ascending=[True, False]).drop_duplicates("cell")
        choice[biggest["cell"].to_numpy()] = biggest["place"].to_numpy()
    return places.iloc[choice]


def _county_of_points(points: gpd.GeoSeries, counties: gpd.GeoDataFrame) -> pd.Series:
    frame = gpd.GeoDataFrame(geometry=points.reset_index(drop=True), crs=STORAGE_CRS)
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


def level_keys(accounts: pd.DataFrame, level: str) -> pd.Series:
    """Each account's region at a geographic level, from its stored keys.

    Parameters
    ----------
    accounts
        Accounts with the column :data:`LEVEL_COLUMNS` names for ``level``.
    level
        A key of :data:`LEVEL_COLUMNS`.

    Returns
    -------
    Series
        Keys as text, NA where the account has none.
    """
    keys = accounts[LEVEL_COLUMNS[level]]
    if level in ("h3_6", "h3_8"):
        resolution = int(level[-1])
        parents = {cell: h3.cell_to_parent(cell, resolution) for cell in keys.dropna().unique()}
        keys = keys.map(parents)
    return keys.astype("string")
