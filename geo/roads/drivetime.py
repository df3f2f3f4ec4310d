"""Drive-time areas as polygons: what a car reaches from a place within N minutes.

pgRouting's ``pgr_drivingDistance`` gives the road nodes reached and their times; the area
of a limit is the concave hull of the nodes reached within it (``shapely.concave_hull``,
ratio :data:`HULL_RATIO`: 0 hugs the nodes, 1 is the convex hull), united with the roads
driven within it buffered by :data:`ROAD_BUFFER_M` (so a lone road out of town is kept as a
corridor), drawn in a projection centred on the start so metres are true there. Each road is
buffered on its own before the union: buffering the merged network at once is two orders of
magnitude slower in GEOS and gives the same area; roads inside the hull are left out, as
their buffer lies inside the hull's.
"""

from __future__ import annotations

from collections.abc import Callable

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from geo.errors import RoadNetworkError
from geo.places.geodesy import local_metric_crs

HULL_RATIO = 0.3
ROAD_BUFFER_M = 150.0
MAX_MINUTES = 120.0
"""The longest drive time an area may be asked for."""


def parse_minutes(text: str) -> list[float]:
    """Read drive-time limits typed as minutes, separated by commas or semicolons.

    Parameters
    ----------
    text
        As typed, e.g. ``"10, 20; 30"``.

    Returns
    -------
    list of float
        Distinct limits, smallest first.

    Raises
    ------
    RoadNetworkError
        An entry is not a number of minutes between 1 and :data:`MAX_MINUTES`, or none is given.
    """
    entries = [entry.strip() for entry in text.replace(";", ",").split(",") if entry.strip()]
    limits = set()
    for entry in entries:
        try:
            value = float(entry)
        except ValueError:
            value = float("nan")
        if not 1 <= value <= MAX_MINUTES:
            msg = f"{entry!r} is not a drive time: give minutes from 1 to {MAX_MINUTES:.0f}, e.g. 10, 20, 30."
            raise RoadNetworkError(msg)
        limits.add(value)
    if not limits:
        msg = "Give at least one drive time in minutes, e.g. 10, 20, 30."
        raise RoadNetworkError(msg)
    return sorted(limits)


def reach_area(
    nodes: pd.DataFrame, edges: gpd.GeoDataFrame, limit_seconds: float, *, centre: tuple[float, float]
) -> shapely.Geometry:
    """The area reached within ``limit_seconds``.

    Parameters
    ----------
    nodes
        ``seconds, lon, lat`` of the nodes reached (as :func:`geo.roads.storage.reach` gives).
    edges
        Edges between reached nodes with ``source_seconds, target_seconds``, EPSG:4326.
    limit_seconds
        The limit.
    centre
        (lon, lat) of the start, for the projection.

    Returns
    -------
    Geometry
        A valid (Multi)Polygon in EPSG:4326, empty when nothing is reached.
    """
    local = local_metric_crs(*centre)
    forward = Transformer.from_crs("EPSG:4326", local, always_xy=True)
    within = nodes.loc[nodes["seconds"] <= limit_seconds]
    x, y = forward.transform(within["lon"].to_numpy(), within["lat"].to_numpy())
    points = shapely.multipoints(shapely.points(x, y)) if len(within) else shapely.Polygon()
    hull = shapely.concave_hull(points, ratio=HULL_RATIO) if len(within) >= 3 else points
    driven = edges.loc[
        (edges["source_seconds"] <= limit_seconds) & (edges["target_seconds"] <= limit_seconds)
    ]
    lines = shapely.transform(driven.geometry.to_numpy(), _projector(forward))
    shapely.prepare(hull)
    beyond = lines[~shapely.covered_by(lines, hull)]
    area = shapely.union_all([shapely.buffer(hull, ROAD_BUFFER_M), *shapely.buffer(beyond, ROAD_BUFFER_M)])
    back = Transformer.from_crs(local, "EPSG:4326", always_xy=True)
    return shapely.make_valid(shapely.transform(area, _projector(back)))


def _projector(transformer: Transformer) -> Callable[[np.ndarray], np.ndarray]:
    """A function of coordinate arrays for :func:`shapely.transform`."""

    def project(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(coords[:, 0], coords[:, 1]))

    return project
