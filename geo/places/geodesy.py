"""Geodesy in one place: the metric CRS, distances on the sphere, circles on the ground, search boxes, bounds.

Distances are measured on the sphere of the mean Earth radius (haversine) or in the
equal-area metric CRS, never in degrees.
"""

from __future__ import annotations

import itertools

import geopandas as gpd
import numpy as np
import pyproj
import shapely
from pyproj import Transformer

EARTH_RADIUS_M = 6_371_008.8
"""The mean Earth radius (IUGG), metres."""
METRIC_CRS = "EPSG:5070"
"""NAD83 / Conus Albers: an equal-area CRS in metres for areas, buffers and nearest-feature searches."""
_GEOD = pyproj.Geod(ellps="WGS84")
CIRCLE_QUAD_SEGMENTS = 64
"""Segments per quarter of a circle drawn on the ground."""
SEARCH_BOX_MARGIN = 1e-6
"""Relative widening of a search box's angular radius, so that rounding never leaves a point out."""
LOWER_48_BOUNDS = (-124.8, 24.5, -66.9, 49.4)
"""Default view (minx, miny, maxx, maxy): the contiguous US, and the widest view of a territory map.

The smallest box of tenths of a degree holding the shipped lower-48 states (-124.73 … -66.98,
24.51 … 49.38)."""


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


def search_boxes(lon: float, lat: float, radius_m: float) -> list[tuple[float, float, float, float]]:
    """Boxes (minx, miny, maxx, maxy) in degrees that together hold every point within ``radius_m``.

    The bounds of the spherical cap, exact (Matuschek, "Finding points within a distance of
    a latitude/longitude using bounding coordinates", 2011): latitude ±δ, longitude
    ±asin(sin δ / cos φ) for an angular radius δ around latitude φ; every longitude when
    the cap holds a pole. A cap crossing the antimeridian gives one box on each side.

    Parameters
    ----------
    lon, lat
        Centre in degrees (longitude in [-180, 180]).
    radius_m
        Radius in metres on the sphere of :data:`EARTH_RADIUS_M`.

    Returns
    -------
    list of tuple
        One box, or two when the cap crosses the antimeridian.
    """
    delta = max(float(radius_m), 0.0) / EARTH_RADIUS_M * (1 + SEARCH_BOX_MARGIN)
    phi = np.radians(float(lat))
    south = float(np.degrees(max(phi - delta, -np.pi / 2)))
    north = float(np.degrees(min(phi + delta, np.pi / 2)))
    if phi + delta >= np.pi / 2 or phi - delta <= -np.pi / 2:
        return [(-180.0, south, 180.0, north)]
    reach = float(np.degrees(np.arcsin(min(np.sin(delta) / np.cos(phi), 1.0))))
    west, east = float(lon) - reach, float(lon) + reach
    if west < -180:
        return [(-180.0, south, east, north), (west + 360, south, 180.0, north)]
    if east > 180:
        return [(west, south, 180.0, north), (-180.0, south, east - 360, north)]
    return [(west, south, east, north)]


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


def destinations(
    lon: np.ndarray, lat: np.ndarray, bearing_deg: float, distance_m: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Where one arrives going ``distance_m`` from each point on the bearing (on the WGS84 ellipsoid).

    Parameters
    ----------
    lon, lat
        Start points in degrees.
    bearing_deg
        Clockwise from north.
    distance_m
        Metres, one per point.

    Returns
    -------
    tuple
        lon, lat of the arrivals.
    """
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    end_lon, end_lat, _back = _GEOD.fwd(
        lon, lat, np.full(len(lon), float(bearing_deg)), np.asarray(distance_m)
    )
    return np.asarray(end_lon), np.asarray(end_lat)


def local_metric_crs(lon: float, lat: float) -> pyproj.CRS:
    """An azimuthal equidistant projection centred on (lon, lat): metres true from the centre, anywhere.

    For shapes of a few tens of kilometres around a place (drive-time areas, circles) outside
    the contiguous states too, where :data:`METRIC_CRS` distorts.

    Parameters
    ----------
    lon, lat
        Centre in degrees.

    Returns
    -------
    pyproj.CRS
        Units of metres.
    """
    return pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat} +lon_0={lon} +datum=WGS84 +units=m")


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
    back = Transformer.from_crs(local_metric_crs(lon, lat), "EPSG:4326", always_xy=True)
    circle = shapely.Point(0, 0).buffer(radius_m, quad_segs=CIRCLE_QUAD_SEGMENTS)
    x, y = back.transform(*np.asarray(circle.exterior.coords).T)
    return shapely.Polygon(np.column_stack([x, y]))


def geodesic_segmentize(shape: shapely.Geometry, step_m: float) -> shapely.Geometry:
    """Follow every edge of a polygon along the geodesic, a vertex at least every ``step_m`` metres.

    Edges between two vertices are great-circle arcs on the ground (as
    ``ST_Segmentize(geography)`` treats them); a straight line in degrees strays from the
    arc by up to ~16 km over a 1,000 km edge. The densified polygon's straight pieces stay
    within centimetres of it.

    Parameters
    ----------
    shape
        A Polygon or MultiPolygon in EPSG:4326.
    step_m
        Longest piece, metres.

    Returns
    -------
    shapely.Geometry
        The same kind of geometry, densified.
    """

    def follow(ring: shapely.LinearRing) -> list[tuple[float, float]]:
        coords = list(ring.coords)
        points: list[tuple[float, float]] = []
        for (x1, y1), (x2, y2) in itertools.pairwise(coords):
            points.append((x1, y1))
            between = int(_GEOD.inv(x1, y1, x2, y2)[2] // step_m)
            if between:
                points.extend(_GEOD.npts(x1, y1, x2, y2, between))
        points.append(coords[-1])
        return points

    polygons = [
        shapely.Polygon(follow(part.exterior), [follow(hole) for hole in part.interiors])
        for part in shapely.get_parts(shape)
    ]
    return polygons[0] if shape.geom_type == "Polygon" else shapely.MultiPolygon(polygons)


def within_radius_sql(column: str, lon: float, lat: float, radius_m: float) -> tuple[str, list]:
    """The one radius search: an SQL condition true for points within ``radius_m`` metres on the sphere.

    The boxes of :func:`search_boxes` (``column && ST_MakeEnvelope(…)``) let the GiST index
    pick the candidates, inside a KNN ``<->`` scan too; the exact distance is then measured on
    ``geography`` over the sphere, like :func:`haversine_m`. A bare
    ``ST_DWithin(column::geography, …)`` cannot use the index.

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
    boxes = search_boxes(lon, lat, radius_m)
    prefilter = " OR ".join(f"{column} && ST_MakeEnvelope(%s, %s, %s, %s, 4326)" for _box in boxes)
    condition = (
        f"({prefilter}) AND ST_DWithin({column}::geography,"
        " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, false)"
    )
    return condition, [*itertools.chain.from_iterable(boxes), float(lon), float(lat), float(radius_m)]


def within_lower_48(bounds: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Clip a view (minx, miny, maxx, maxy) to :data:`LOWER_48_BOUNDS`.

    Parameters
    ----------
    bounds
        Degrees.

    Returns
    -------
    tuple
        The view, no wider than the lower 48.
    """
    minx, miny, maxx, maxy = bounds
    west, south, east, north = LOWER_48_BOUNDS
    return (max(minx, west), max(miny, south), min(maxx, east), min(maxy, north))
