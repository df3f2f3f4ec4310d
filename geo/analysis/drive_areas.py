"""Drive-time trade areas of branches: what each reaches within N minutes, by road where a network is loaded.

A branch's areas overlap those of its neighbours; to count shared customers the areas of
every branch that could overlap are drawn too: those closer to the branch than twice the
reach of its own largest area (two areas cannot meet farther apart than the sum of their
reaches, and a neighbour's reach is taken as the branch's own).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.places.geodesy import haversine_m
from geo.roads.travel import Basis, drive_time_areas
from geo.store.db import Database

MAX_NEIGHBOURS = 8
"""At most this many nearest neighbouring branches get areas drawn for the overlap."""


def drive_time_trade_areas(
    db: Database, branches: gpd.GeoDataFrame, branch_id: int, minutes: list[float], *, user: str
) -> tuple[gpd.GeoDataFrame, float, Basis]:
    """The drive-time areas of a branch and of the neighbours that may overlap them.

    Parameters
    ----------
    db
        The database.
    branches
        Every branch: ``branch_id`` and point geometry.
    branch_id
        The branch asked about.
    minutes
        Limits, e.g. ``[10, 20, 30]``.
    user
        The acting user.

    Returns
    -------
    tuple
        GeoDataFrame ``branch_id, minutes, geometry`` (the branch's own areas first, smallest
        first), the reach of its largest area in metres (farthest point from the branch),
        and the basis of the times.
    """
    lon = branches.geometry.x.to_numpy()
    lat = branches.geometry.y.to_numpy()
    own = np.flatnonzero(branches["branch_id"].to_numpy() == branch_id)[0]
    centre = pd.DataFrame({"key": [branch_id], "lon": [lon[own]], "lat": [lat[own]]})
    areas, basis = drive_time_areas(db, centre, minutes, user=user)
    reach_m = _reach_m(areas.geometry.iloc[0], lon[own], lat[own]) if len(areas) else 0.0
    apart = haversine_m(lon[own], lat[own], lon, lat)
    near = [i for i in np.argsort(apart) if i != own and apart[i] <= 2 * reach_m][:MAX_NEIGHBOURS]
    if near:
        others = pd.DataFrame(
            {"key": branches["branch_id"].to_numpy()[near], "lon": lon[near], "lat": lat[near]}
        )
        neighbour_areas, _basis = drive_time_areas(db, others, minutes, user=user)
        areas = pd.concat([areas, neighbour_areas], ignore_index=True)
    ordered = areas.assign(other=areas["key"] != branch_id).sort_values(
        ["other", "key", "minutes"], kind="stable"
    )
    frame = gpd.GeoDataFrame(
        ordered.drop(columns="other").rename(columns={"key": "branch_id"}).reset_index(drop=True),
        geometry="geometry",
        crs="EPSG:4326",
    )
    return frame, reach_m, basis


def _reach_m(area: shapely.Geometry, lon: float, lat: float) -> float:
    """The farthest point of ``area`` from (lon, lat), in metres on the sphere."""
    if area is None or area.is_empty:
        return 0.0
    coords = shapely.get_coordinates(area)
    return float(np.max(haversine_m(lon, lat, coords[:, 0], coords[:, 1])))
