"""Geodesy in one place: the metric CRS, distances on the sphere, circles on the ground, search boxes.

Distances are measured on the sphere of the mean Earth radius (haversine) or in the
equal-area metric CRS, never in degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj import Transformer

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), metres."""
METRIC_CRS = "EPSG:5070"
"""NAD83 / Conus Albers: an equal-area CRS in metres for areas, buffers and nearest-feature searches."""
CIRCLE_QUAD_SEGMENTS = 64
"""Segments per quarter of a circle drawn on the ground."""
LOWER_48_BOUNDS = (-124.8, 24.5, -66.9, 49.4)
"""Default view (minx, miny, maxx, maxy): the contiguous US."""


def haversine_m(lon1: np.ndarray, lat1: np.ndarray, lon2: np.ndarray, lat2: np.ndarray) -> np.ndarray:
    """Great-circle distance in metres (broadcasting).

    Parameters
    ----------
    lon1, lat1, lon2, lat2
        Degrees.

    Returns
    -------
    ndarray
        Metres on a sphere of the mean Earth radius.
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0, 1)))


def search_box_degrees(radius_m: float, lat: float) -> float:
    """Half-width in degrees of a box certain to hold every point within ``radius_m`` of latitude ``lat``.

    Used as the ``geom && ST_Expand(point, degrees)`` prefilter that lets the GiST index work
    before an exact distance on the sphere.

    Parameters
    ----------
    radius_m
        Search radius in metres.
    lat
        Latitude of the centre in degrees.

    Returns
    -------
    float
        Degrees (longitude degrees shrink towards the poles, so the box widens with latitude).
    """
    return float(radius_m / 111_000.0 / max(np.cos(np.radians(min(abs(lat), 85.0))), 0.05))


def distance_matrix(accounts: gpd.GeoDataFrame, branches: gpd.GeoDataFrame) -> np.ndarray:
    """Distances in metres from every account (rows) to every branch (columns).

    Parameters
    ----------
    accounts, branches
        Points in EPSG:4326.

    Returns
    -------
    ndarray
        Shape (accounts, branches).
    """
    return haversine_m(
        accounts.geometry.x.to_numpy()[:, None],
        accounts.geometry.y.to_numpy()[:, None],
        branches.geometry.x.to_numpy()[None, :],
        branches.geometry.y.to_numpy()[None, :],
    )


def geodesic_circle(lon: float, lat: float, radius_m: float) -> shapely.Polygon:
    """A circle of ``radius_m`` metres on the ground around (lon, lat), as a lon/lat polygon.

    Parameters
    ----------
    lon, lat
        Centre in degrees.
    radius_m
        Radius in metres.

    Returns
    -------
    Polygon
        EPSG:4326.
    """
    local = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    circle = shapely.Point(0, 0).buffer(radius_m, quad_segs=CIRCLE_QUAD_SEGMENTS)
    x, y = back.transform(*np.asarray(circle.exterior.coords).T)
    return shapely.Polygon(np.column_stack([x, y]))


def within_radius_sql(column: str, lon: float, lat: float, radius_m: float) -> tuple[str, list]:
    """The one radius search: an SQL condition true for points within ``radius_m`` metres on the sphere.

    A bounding box (``column && ST_Expand(centre, degrees)``, from :func:`search_box_degrees`
    with a 1 % margin) lets the GiST index pick the candidates; the exact distance is then
    measured on ``geography`` over the sphere, like :func:`haversine_m`.

    Parameters
    ----------
    column
        The geometry column, as trusted SQL text (e.g. ``a.geom``).
    lon, lat
        Centre in degrees.
    radius_m
        Radius in metres.

    Returns
    -------
    tuple
        The condition with ``%s`` placeholders, and its parameters in order.
    """
    centre = "ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
    condition = (
        f"{column} && ST_Expand({centre}, %s)"
        f" AND ST_DWithin({column}::geography, {centre}::geography, %s, false)"
    )
    degrees = search_box_degrees(radius_m, lat) * 1.01
    return condition, [lon, lat, degrees, lon, lat, float(radius_m)]
