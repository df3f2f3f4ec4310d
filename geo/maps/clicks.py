"""Interpret what ``st_folium`` returns: pure functions, tested with recorded dicts.

Under ``AppTest``, ``st_folium`` returns only its defaults, so pages hand its returned dict
to these functions rather than reading it themselves.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.places.geodesy import METRIC_CRS, haversine_m

CLICK_RADIUS_M = 3_000
"""How far from a circle (a ZIP) a click still selects it."""


def clicked_point(returned: dict | None, *, kind: str = "last_clicked") -> shapely.Point | None:
    """Read the clicked position from what ``st_folium`` returned.

    Parameters
    ----------
    returned
        The dict ``st_folium(..., returned_objects=[kind])`` gives back.
    kind
        ``last_clicked`` (anywhere on the map, or a located position) or
        ``last_object_clicked`` (a drawn shape); either is ``{"lat": …, "lng": …}``.

    Returns
    -------
    shapely.Point or None
        The position (lon, lat), None before the first click.
    """
    point = (returned or {}).get(kind) or {}
    if point.get("lat") is None or point.get("lng") is None:
        return None
    return shapely.Point(float(point["lng"]), float(point["lat"]))


def clicked_key(returned: dict | None, regions: gpd.GeoDataFrame, *, field: str = "key") -> str | None:
    """Find which drawn region a user clicked, from what ``st_folium`` returned.

    Parameters
    ----------
    returned
        The dict ``st_folium(..., returned_objects=["last_object_clicked"])`` gives back;
        its ``last_object_clicked`` is the clicked point as ``{"lat": …, "lng": …}``.
    regions
        The regions drawn (EPSG:4326) with the ``field`` column; polygons are hit
        when they contain the point, circles (points) when within ``CLICK_RADIUS_M``.
    field
        The column holding the region key.

    Returns
    -------
    str or None
        The clicked region's key, None when the click hit no region.
    """
    clicked = clicked_point(returned, kind="last_object_clicked")
    if clicked is None or regions.empty:
        return None
    polygons = regions[regions.geom_type != "Point"]
    hit = polygons[polygons.contains(clicked)]
    if len(hit):
        return str(hit.iloc[0][field])
    circles = regions[regions.geom_type == "Point"]
    if circles.empty:
        return None
    metric = circles.to_crs(METRIC_CRS)
    where = gpd.GeoSeries([clicked], crs=regions.crs).to_crs(METRIC_CRS).iloc[0]
    distances = metric.distance(where)
    nearest = distances.idxmin()
    return str(circles.loc[nearest, field]) if distances[nearest] <= CLICK_RADIUS_M else None


def tapped_key(
    returned: dict | None, points: pd.DataFrame, position: tuple[float, float] | None = None
) -> str | None:
    """Which point marker a click hit, from what ``st_folium`` returned (``None`` for a click elsewhere).

    A click on a marker sets both ``last_clicked`` and ``last_object_clicked`` to the same
    place; a click on the map sets ``last_clicked`` alone (``last_object_clicked`` keeps an
    older marker's). The hit marker is the point nearest the click, unless the ``position``
    marker ("you are here") is nearer.

    Parameters
    ----------
    returned
        The dict of ``st_folium(..., returned_objects=["last_clicked", "last_object_clicked"])``.
    points
        ``key, lon, lat`` of the markers.
    position
        (lon, lat) of a marker that is no point (the user's position), or None.

    Returns
    -------
    str or None
        The key of the tapped point.
    """
    clicked = clicked_point(returned)
    on_object = clicked_point(returned, kind="last_object_clicked")
    if clicked is None or on_object is None or not clicked.equals(on_object) or points.empty:
        return None
    distances = haversine_m(
        points["lon"].to_numpy(dtype=float), points["lat"].to_numpy(dtype=float), clicked.x, clicked.y
    )
    nearest = int(np.argmin(distances))
    if (
        position is not None
        and haversine_m(position[0], position[1], clicked.x, clicked.y) < distances[nearest]
    ):
        return None
    return str(points["key"].iloc[nearest])


POINT_HIT_M = 1.0
"""How far from a point the position of a clicked object may be for the object to be that point."""


def clicked_point_key(
    returned: dict | None, points: pd.DataFrame, *, within_m: float = POINT_HIT_M
) -> str | None:
    """Which point marker was clicked, when other objects (regions) share the map.

    Leaflet reports a click on a small circle marker (radius up to 10 px) at the marker's
    own position, so the clicked object is a point when one lies at that position; a click
    on a region lands anywhere inside it.

    Parameters
    ----------
    returned
        The dict ``st_folium(..., returned_objects=["last_object_clicked"])`` gives back.
    points
        ``key, lon, lat`` of the point markers.
    within_m
        The largest distance between the click and the point, in metres.

    Returns
    -------
    str or None
        The key of the clicked point, None when the clicked object is no point.
    """
    clicked = clicked_point(returned, kind="last_object_clicked")
    if clicked is None or points.empty:
        return None
    distances = haversine_m(
        points["lon"].to_numpy(dtype=float), points["lat"].to_numpy(dtype=float), clicked.x, clicked.y
    )
    nearest = int(np.argmin(distances))
    return str(points["key"].iloc[nearest]) if distances[nearest] <= within_m else None
