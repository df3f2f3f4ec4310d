"""Travel times by road where a network is loaded, estimates elsewhere, each saying which it is.

Every point is snapped to its nearest road node; the way from the point to that node is
counted as an estimate (:mod:`geo.roads.estimate`). A point farther than
:data:`MAX_SNAP_M` from every road is outside the network: the whole answer is then an
estimate, labelled :data:`geo.roads.estimate.OUTSIDE_NETWORK`; with no network at all (or
no pgRouting), :data:`geo.roads.estimate.NO_NETWORK`.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2.extensions
import shapely

from geo.places.geodesy import geodesic_circle, haversine_m
from geo.roads import storage
from geo.roads.drivetime import reach_area
from geo.roads.estimate import (
    ASSUMPTION,
    NO_NETWORK,
    OUTSIDE_NETWORK,
    estimated_metres,
    estimated_reach_m,
    estimated_seconds,
)
from geo.store.db import Database

MAX_SNAP_M = 2_000.0
"""A point farther than this from every road node is outside the network."""


@dataclass(frozen=True)
class Basis:
    """How travel times were found.

    Attributes
    ----------
    by_road
        True when on the loaded road network.
    label
        What to show beside the figures: ``by road (EXTRACT)`` or the estimate's label.
    """

    by_road: bool
    label: str

    @property
    def described(self) -> str:
        """The label, with how an estimate is made (:data:`geo.roads.estimate.ASSUMPTION`) after it."""
        return self.label if self.by_road else f"{self.label}: {ASSUMPTION}"


@dataclass(frozen=True)
class Trip:
    """One trip from a point to another.

    Attributes
    ----------
    seconds, metres
        Driving time and road length (estimated without a network).
    geometry
        The path along the roads (EPSG:4326), or the straight line for an estimate.
    basis
        How it was found.
    """

    seconds: float
    metres: float
    geometry: shapely.Geometry
    basis: Basis


@dataclass(frozen=True)
class _Snap:
    vertex_id: list[int]
    access_s: np.ndarray
    status: storage.NetworkStatus


def network_basis(cur: psycopg2.extensions.cursor) -> storage.NetworkStatus | None:
    """The loaded network, or None when times can only be estimated.

    Parameters
    ----------
    cur
        A cursor.

    Returns
    -------
    NetworkStatus or None
        None without pgRouting or before the first import.
    """
    if not storage.pgrouting_installed(cur):
        return None
    return storage.read_status(cur)


def travel_matrix(db: Database, lon: np.ndarray, lat: np.ndarray, *, user: str) -> tuple[np.ndarray, Basis]:
    """Seconds of driving between every pair of points.

    Parameters
    ----------
    db
        The database.
    lon, lat
        Degrees.
    user
        The acting user.

    Returns
    -------
    tuple
        The square matrix (row: from, column: to; not symmetric on one-way streets) and its basis.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    direct = haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    with db.transaction(user=user) as cur:
        snap, basis = _snap(cur, lon, lat)
        if snap is None:
            return estimated_seconds(direct), basis
        road = storage.cost_matrix(cur, snap.vertex_id, lon, lat)
    seconds = snap.access_s[:, None] + road + snap.access_s[None, :]
    same_node = np.equal.outer(snap.vertex_id, snap.vertex_id)
    estimate = same_node | ~np.isfinite(road)
    seconds[estimate] = estimated_seconds(direct[estimate])
    return seconds, basis


def travel_from(
    db: Database, origin: tuple[float, float], lon: np.ndarray, lat: np.ndarray, *, user: str
) -> tuple[np.ndarray, Basis]:
    """Seconds of driving from one point to each of many (one search on the network).

    Parameters
    ----------
    db
        The database.
    origin
        (lon, lat) of the start.
    lon, lat
        Degrees of the destinations.
    user
        The acting user.

    Returns
    -------
    tuple
        One time per destination and the basis.
    """
    all_lon = np.concatenate([[origin[0]], np.asarray(lon, dtype=float)])
    all_lat = np.concatenate([[origin[1]], np.asarray(lat, dtype=float)])
    direct = haversine_m(all_lon[0], all_lat[0], all_lon[1:], all_lat[1:])
    with db.transaction(user=user) as cur:
        snap, basis = _snap(cur, all_lon, all_lat)
        if snap is None:
            return estimated_seconds(direct), basis
        road = storage.costs_from(cur, snap.vertex_id[0], snap.vertex_id[1:], all_lon, all_lat)
    seconds = snap.access_s[0] + road + snap.access_s[1:]
    estimate = (np.asarray(snap.vertex_id[1:]) == snap.vertex_id[0]) | ~np.isfinite(road)
    seconds[estimate] = estimated_seconds(direct[estimate])
    return seconds, basis


def trips(db: Database, lon: np.ndarray, lat: np.ndarray, *, user: str) -> tuple[list[Trip], Basis]:
    """The legs of a tour through the points in order, along the roads.

    Parameters
    ----------
    db
        The database.
    lon, lat
        Degrees, in visiting order.
    user
        The acting user.

    Returns
    -------
    tuple
        One :class:`Trip` per leg (``len(lon) - 1``) and the basis.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    with db.transaction(user=user) as cur:
        snap, basis = _snap(cur, lon, lat)
        found = storage.legs(cur, snap.vertex_id, lon, lat) if snap is not None else None
    result = []
    for i in range(len(lon) - 1):
        straight = shapely.LineString([(lon[i], lat[i]), (lon[i + 1], lat[i + 1])])
        direct = float(haversine_m(lon[i], lat[i], lon[i + 1], lat[i + 1]))
        leg = None if found is None else found.iloc[i]
        if leg is None or leg["geometry"] is None or not np.isfinite(leg["seconds"]):
            result.append(
                Trip(float(estimated_seconds(direct)), float(estimated_metres(direct)), straight, basis)
            )
            continue
        access_s = float(snap.access_s[i] + snap.access_s[i + 1])
        path = shapely.LineString([(lon[i], lat[i]), *leg["geometry"].coords, (lon[i + 1], lat[i + 1])])
        result.append(Trip(float(leg["seconds"]) + access_s, float(leg["metres"]), path, basis))
    return result, basis


def drive_time_areas(
    db: Database, centres: pd.DataFrame, minutes: list[float], *, user: str
) -> tuple[gpd.GeoDataFrame, Basis]:
    """Areas reachable from each centre within each number of minutes.

    Parameters
    ----------
    db
        The database.
    centres
        ``key, lon, lat``, one row per centre (a branch).
    minutes
        Limits, e.g. ``[10, 20, 30]``.
    user
        The acting user.

    Returns
    -------
    tuple
        GeoDataFrame ``key, minutes, geometry`` (EPSG:4326; largest limit first within a
        centre, so smaller areas draw on top) and the basis. Without a network each area is
        the circle an estimate reaches.
    """
    limits = sorted({float(m) for m in minutes}, reverse=True)
    lon, lat = centres["lon"].to_numpy(dtype=float), centres["lat"].to_numpy(dtype=float)
    rows = []
    with db.transaction(user=user) as cur:
        snap, basis = _snap(cur, lon, lat)
        for i, key in enumerate(centres["key"]):
            if snap is None:
                rows += [(key, m, geodesic_circle(lon[i], lat[i], estimated_reach_m(m * 60))) for m in limits]
                continue
            budget = limits[0] * 60 - float(snap.access_s[i])
            nodes, edges = storage.reach(
                cur,
                snap.vertex_id[i],
                lon[i],
                lat[i],
                max_seconds=max(budget, 0.0),
                max_speed_kmh=snap.status.max_speed_kmh,
            )
            rows += [
                (key, m, reach_area(nodes, edges, m * 60 - float(snap.access_s[i]), centre=(lon[i], lat[i])))
                for m in limits
            ]
    frame = pd.DataFrame(rows, columns=["key", "minutes", "geometry"])
    return gpd.GeoDataFrame(frame, geometry="geometry", crs="EPSG:4326"), basis


def _snap(cur: psycopg2.extensions.cursor, lon: np.ndarray, lat: np.ndarray) -> tuple[_Snap | None, Basis]:
    """Snap the points to the network, or say why times must be estimated."""
    status = network_basis(cur)
    if status is None:
        return None, Basis(by_road=False, label=NO_NETWORK)
    nearest = storage.nearest_vertices(cur, lon, lat)
    if len(nearest) != len(lon) or (nearest["snap_m"] > MAX_SNAP_M).any():
        return None, Basis(by_road=False, label=OUTSIDE_NETWORK)
    snap = _Snap(
        vertex_id=nearest["vertex_id"].astype(int).tolist(),
        access_s=estimated_seconds(nearest["snap_m"].to_numpy()),
        status=status,
    )
    return snap, Basis(by_road=True, label=f"by road ({status.source_name})")


def trip_seconds(
    db: Database, origins: pd.DataFrame, destinations: list[pd.DataFrame], *, user: str
) -> tuple[np.ndarray, np.ndarray]:
    """Seconds of driving from each origin to its own destinations, by road where the network covers them.

    For many small trips at once (a unit's typical trip between its accounts): the network
    is looked up once, the points of every origin inside it are snapped in one query, each
    origin whose points all lie on the network is answered by one search, and the others
    are estimated.

    Parameters
    ----------
    db
        The database.
    origins
        ``lon, lat``, one row per origin.
    destinations
        Frames of ``lon, lat``, each with one row per origin (the first destination of every
        origin, then the second …).

    Returns
    -------
    tuple
        Seconds (origins × destinations) and, per origin, whether it was measured by road.
    """
    lon0, lat0 = origins["lon"].to_numpy(dtype=float), origins["lat"].to_numpy(dtype=float)
    lon1 = np.column_stack([d["lon"].to_numpy(dtype=float) for d in destinations])
    lat1 = np.column_stack([d["lat"].to_numpy(dtype=float) for d in destinations])
    seconds = estimated_seconds(haversine_m(lon0[:, None], lat0[:, None], lon1, lat1))
    by_road = np.zeros(len(origins), dtype=bool)
    with db.transaction(user=user) as cur:
        status = network_basis(cur)
        if status is None or not len(origins):
            return seconds, by_road
        minx, miny, maxx, maxy = status.extent
        inside = np.flatnonzero((lon0 >= minx) & (lon0 <= maxx) & (lat0 >= miny) & (lat0 <= maxy))
        if not len(inside):
            return seconds, by_road
        trip_lon = np.column_stack([lon0[inside], lon1[inside]])
        trip_lat = np.column_stack([lat0[inside], lat1[inside]])
        nearest = storage.nearest_vertices(cur, trip_lon.ravel(), trip_lat.ravel())
        vertices = nearest["vertex_id"].to_numpy().reshape(trip_lon.shape)
        snap_m = nearest["snap_m"].to_numpy().reshape(trip_lon.shape)
        for row, i in enumerate(inside):
            if (snap_m[row] > MAX_SNAP_M).any():
                continue
            road = storage.costs_from(
                cur, int(vertices[row, 0]), vertices[row, 1:].tolist(), trip_lon[row], trip_lat[row]
            )
            if not np.isfinite(road).all():
                continue
            access = estimated_seconds(snap_m[row])
            seconds[i] = access[0] + road + access[1:]
            by_road[i] = True
    return seconds, by_road
