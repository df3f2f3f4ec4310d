"""Validate drawn and uploaded target geometry, and build circles on the ground.

Geometry a user draws or uploads is repaired when it self-intersects, and refused with a
reason when it is empty, not polygonal, out of range or too detailed. Shapes crossing the
antimeridian (longitudes beyond ±180, as map widgets produce after panning) are split into
the parts on each side. Circles arrive as a centre and a radius and are built here, as a
geodesic buffer in metres.
"""

from __future__ import annotations

import json

import numpy as np
import shapely
from shapely.geometry import shape

from geo.errors import InvalidGeometry
from geo.places.geodesy import geodesic_circle

MAX_VERTICES = 20_000
"""Vertex cap of one target geometry (a detailed county outline has a few thousand)."""
MAX_GEOJSON_BYTES = 5_000_000
"""Largest GeoJSON text read as a target (a few MB hold far more than :data:`MAX_VERTICES`)."""
MAX_RADIUS_M = 1_000_000.0
WORLD = shapely.box(-180.0, -90.0, 180.0, 90.0)


def target_geometry(geojson: dict | str) -> shapely.MultiPolygon:
    """Turn GeoJSON (a Feature, FeatureCollection or bare geometry) into a valid MultiPolygon.

    Parameters
    ----------
    geojson
        GeoJSON as a dict or text (at most :data:`MAX_GEOJSON_BYTES`), coordinates in degrees (lon, lat).

    Returns
    -------
    shapely.MultiPolygon
        Valid, non-empty, within ±180/±90, at most :data:`MAX_VERTICES` vertices.
    """
    if isinstance(geojson, str):
        if len(geojson) > MAX_GEOJSON_BYTES:
            msg = f"The GeoJSON is {len(geojson):,} bytes; simplify it below {MAX_GEOJSON_BYTES:,}."
            raise InvalidGeometry(msg)
        try:
            geojson = json.loads(geojson)
        except json.JSONDecodeError as exc:
            msg = f"Not GeoJSON: {exc.msg} at line {exc.lineno}, column {exc.colno}."
            raise InvalidGeometry(msg) from exc
    geometries = _geometries(geojson)
    if not geometries:
        msg = "The shape is empty: draw or upload at least one polygon."
        raise InvalidGeometry(msg)
    vertices = int(shapely.get_num_coordinates(geometries).sum())
    if vertices > MAX_VERTICES:
        msg = f"The shape has {vertices:,} vertices; simplify it below {MAX_VERTICES:,}."
        raise InvalidGeometry(msg)
    return validate_polygons(shapely.union_all(geometries))


def validate_polygons(geometry: shapely.Geometry) -> shapely.MultiPolygon:
    """Repair and check one geometry for use as a target area.

    Parameters
    ----------
    geometry
        Any shapely geometry in degrees.

    Returns
    -------
    shapely.MultiPolygon
        The polygonal parts, repaired, split at the antimeridian.
    """
    if geometry is None or geometry.is_empty:
        msg = "The shape is empty: draw or upload at least one polygon."
        raise InvalidGeometry(msg)
    vertices = shapely.get_num_coordinates(geometry)
    if vertices > MAX_VERTICES:
        msg = f"The shape has {vertices:,} vertices; simplify it below {MAX_VERTICES:,}."
        raise InvalidGeometry(msg)
    minx, miny, maxx, maxy = geometry.bounds
    if miny < -90 or maxy > 90 or minx < -540 or maxx > 540:
        msg = f"Coordinates out of range (longitude {minx:.1f}…{maxx:.1f}, latitude {miny:.1f}…{maxy:.1f})."
        raise InvalidGeometry(msg)
    polygonal = _polygonal(shapely.make_valid(geometry))
    if polygonal.is_empty:
        msg = "The shape encloses no area: draw a polygon, a rectangle or a circle, not a line or point."
        raise InvalidGeometry(msg)
    return _multi(_wrap_antimeridian(polygonal))


def circle(lon: float, lat: float, radius_m: float) -> shapely.MultiPolygon:
    """Build a circle of ``radius_m`` metres on the ground around a centre.

    Parameters
    ----------
    lon, lat
        Centre in degrees.
    radius_m
        Radius in metres (up to :data:`MAX_RADIUS_M`).

    Returns
    -------
    shapely.MultiPolygon
        The geodesic circle as a validated target.
    """
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        msg = f"Centre ({lat}, {lon}) is not a latitude/longitude."
        raise InvalidGeometry(msg)
    if not 0 < radius_m <= MAX_RADIUS_M:
        msg = f"Radius {radius_m:,.0f} m: use more than 0 and at most {MAX_RADIUS_M / 1000:,.0f} km."
        raise InvalidGeometry(msg)
    return validate_polygons(geodesic_circle(lon, lat, radius_m))


def _geometries(data: dict) -> list[shapely.Geometry]:
    kind = data.get("type") if isinstance(data, dict) else None
    if kind == "FeatureCollection":
        return [g for feature in data.get("features") or [] for g in _geometries(feature)]
    if kind == "Feature":
        return _geometries(data.get("geometry") or {}) if data.get("geometry") else []
    if kind in ("Polygon", "MultiPolygon", "GeometryCollection", "Point", "LineString", "MultiPoint"):
        try:
            return [shape(data)]
        except (ValueError, TypeError, IndexError, AttributeError) as exc:
            msg = f"The {kind} is malformed: {exc}."
            raise InvalidGeometry(msg) from exc
    msg = f"Not GeoJSON geometry: type {kind!r}."
    raise InvalidGeometry(msg)


def _polygonal(geometry: shapely.Geometry) -> shapely.Geometry:
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type in ("Polygon", "MultiPolygon")]
    nested = [q for p in parts for q in shapely.get_parts(p)]
    return shapely.union_all(nested) if nested else shapely.Polygon()


def _wrap_antimeridian(geometry: shapely.Geometry) -> shapely.Geometry:
    """Bring longitudes beyond ±180 back into range, splitting shapes that cross the antimeridian."""
    pieces = []
    for shift in (-360.0, 0.0, 360.0):
        window = shapely.box(-180.0 - shift, -90.0, 180.0 - shift, 90.0)
        part = shapely.intersection(geometry, window)
        if not part.is_empty:
            pieces.append(shapely.transform(part, lambda xy, s=shift: xy + np.array([s, 0.0])))
    return _polygonal(shapely.union_all(pieces))


def _multi(geometry: shapely.Geometry) -> shapely.MultiPolygon:
    parts = [p for p in shapely.get_parts(geometry) if p.geom_type == "Polygon" and not p.is_empty]
    return shapely.MultiPolygon(parts)
