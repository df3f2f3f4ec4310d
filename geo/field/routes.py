"""The rep's route for the day: visit the chosen accounts from a start point with little travel.

Nearest neighbour builds a first tour, then 2-opt reverses segments while that shortens it
(Croes 1958), so the result is never longer than the nearest-neighbour tour. :func:`plan_route`
orders on great-circle metres; :func:`drive_route` on the road travel-time matrix where a
network is loaded (an estimate, labelled, elsewhere) and draws the legs along the roads.
The route is open (it ends at the last stop) unless asked to return.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
import shapely

from geo.places.geodesy import haversine_m
from geo.roads.travel import Basis, travel_matrix, trips
from geo.store.db import Database

MAX_STOPS = 200


def distance_table(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Great-circle metres between every pair of points.

    Parameters
    ----------
    lon, lat
        Degrees; the start point first.

    Returns
    -------
    ndarray
        Square, symmetric.
    """
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    return haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :])


def route_length(order: list[int], distances: np.ndarray, *, round_trip: bool = False) -> float:
    """Length of visiting ``order`` (indices into ``distances``, start first).

    Parameters
    ----------
    order
        Point indices, starting with the start point 0.
    distances
        As :func:`distance_table` returns.
    round_trip
        Add the way back to the start.

    Returns
    -------
    float
        Metres.
    """
    path = [*order, order[0]] if round_trip else list(order)
    return float(sum(distances[a, b] for a, b in itertools.pairwise(path)))


def nearest_neighbour_tour(distances: np.ndarray) -> list[int]:
    """Visit the nearest unvisited point each time, from point 0.

    Parameters
    ----------
    distances
        As :func:`distance_table` returns.

    Returns
    -------
    list of int
        Every index once, starting with 0.
    """
    left = set(range(1, len(distances)))
    order = [0]
    while left:
        here = order[-1]
        nearest = min(left, key=lambda j: (distances[here, j], j))
        order.append(nearest)
        left.remove(nearest)
    return order


def two_opt(order: list[int], distances: np.ndarray, *, round_trip: bool = False) -> list[int]:
    """Reverse segments of a tour while that shortens it (the start stays first).

    Each reversal is judged on the tour's real length, the reversed stretch included, so it
    holds for travel times that differ by direction (one-way streets): every accepted move
    shortens the tour, so the search ends and never returns a longer tour than it was given.

    Parameters
    ----------
    order
        A tour starting with 0.
    distances
        As :func:`distance_table` returns, or any square matrix of costs (row: from).
    round_trip
        Whether the tour returns to the start.

    Returns
    -------
    list of int
        A tour no longer than ``order``.
    """
    best = list(order)
    improved = True
    while improved:
        improved = False
        forward, backward = _stretch_costs(best, distances)
        for i in range(1, len(best) - 1):
            for j in range(i + 1, len(best)):
                before, first, last = best[i - 1], best[i], best[j]
                after = best[j + 1] if j + 1 < len(best) else (best[0] if round_trip else None)
                change = (
                    distances[before, last]
                    - distances[before, first]
                    + (backward[j] - backward[i])
                    - (forward[j] - forward[i])
                )
                if after is not None:
                    change += distances[first, after] - distances[last, after]
                if change < -1e-6:
                    best[i : j + 1] = best[i : j + 1][::-1]
                    forward, backward = _stretch_costs(best, distances)
                    improved = True
    return best


def _stretch_costs(tour: list[int], distances: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Costs from the tour's first stop to each stop, driven forward and driven in reverse.

    ``forward[k]`` sums ``tour[t] → tour[t + 1]`` and ``backward[k]`` sums ``tour[t + 1] → tour[t]``
    for ``t < k``, so a stretch ``i … j`` costs ``forward[j] - forward[i]`` one way and
    ``backward[j] - backward[i]`` reversed.
    """
    stops = np.asarray(tour)
    forward = np.concatenate([[0.0], np.cumsum(distances[stops[:-1], stops[1:]])])
    backward = np.concatenate([[0.0], np.cumsum(distances[stops[1:], stops[:-1]])])
    return forward, backward


@dataclass(frozen=True)
class DriveRoute:
    """The day's route ordered on driving times.

    Attributes
    ----------
    stops
        The stops in visiting order with ``sequence`` (1 …), ``leg_min``, ``cumulative_min``,
        ``leg_m`` and ``cumulative_m`` (road metres).
    total_s, total_m
        Driving time and road length of the whole route.
    nearest_neighbour_s
        The time of the nearest-neighbour tour on the same matrix (the route is never longer).
    path
        The legs along the roads (straight lines where estimated), EPSG:4326.
    basis
        How the times were found: by road or an estimate.
    """

    stops: pd.DataFrame
    total_s: float
    total_m: float
    nearest_neighbour_s: float
    path: shapely.MultiLineString
    basis: Basis


def check_stop_count(count: int) -> None:
    """Refuse more stops than a day holds.

    Parameters
    ----------
    count
        Stops asked for.

    Raises
    ------
    ValueError
        More than :data:`MAX_STOPS`.
    """
    if count > MAX_STOPS:
        msg = f"{count} stops: plan at most {MAX_STOPS} in a day."
        raise ValueError(msg)


def drive_route(
    db: Database, start: tuple[float, float], stops: pd.DataFrame, *, user: str, round_trip: bool = False
) -> DriveRoute:
    """Order the stops on driving times and draw the route along the roads.

    Parameters
    ----------
    db
        The database.
    start
        (lon, lat) in degrees.
    stops
        ``lon, lat`` and any other columns, one row per account.
    user
        The acting user.
    round_trip
        Come back to the start at the end.

    Returns
    -------
    DriveRoute
        The ordered stops, totals, the path and its basis.
    """
    check_stop_count(len(stops))
    lon = np.concatenate([[start[0]], stops["lon"].to_numpy(dtype=float)])
    lat = np.concatenate([[start[1]], stops["lat"].to_numpy(dtype=float)])
    seconds, basis = travel_matrix(db, lon, lat, user=user)
    first = nearest_neighbour_tour(seconds)
    order = two_opt(first, seconds, round_trip=round_trip)
    visit = [*order, order[0]] if round_trip else order
    legs, _basis = trips(db, lon[visit], lat[visit], user=user)
    ordered = stops.iloc[[i - 1 for i in order[1:]]].reset_index(drop=True)
    ordered.insert(0, "sequence", range(1, len(ordered) + 1))
    stop_legs = legs[: len(ordered)]
    ordered["leg_min"] = [seconds[a, b] / 60 for a, b in itertools.pairwise(order)]
    ordered["cumulative_min"] = np.cumsum(ordered["leg_min"])
    ordered["leg_m"] = [leg.metres for leg in stop_legs]
    ordered["cumulative_m"] = np.cumsum(ordered["leg_m"])
    return DriveRoute(
        stops=ordered,
        total_s=route_length(order, seconds, round_trip=round_trip),
        total_m=float(sum(leg.metres for leg in legs)),
        nearest_neighbour_s=route_length(first, seconds, round_trip=round_trip),
        path=shapely.MultiLineString([leg.geometry for leg in legs]),
        basis=basis,
    )


def plan_route(
    start: tuple[float, float], stops: pd.DataFrame, *, round_trip: bool = False
) -> tuple[pd.DataFrame, float]:
    """Order the stops from a start point to keep the travel short.

    Parameters
    ----------
    start
        (lon, lat) in degrees.
    stops
        ``lon, lat`` and any other columns (names, ids), one row per account.
    round_trip
        Come back to the start at the end.

    Returns
    -------
    tuple
        The stops in visiting order with ``sequence`` (1 …), ``leg_m`` and ``cumulative_m``;
        and the total in metres.
    """
    check_stop_count(len(stops))
    lon = np.concatenate([[start[0]], stops["lon"].to_numpy(dtype=float)])
    lat = np.concatenate([[start[1]], stops["lat"].to_numpy(dtype=float)])
    distances = distance_table(lon, lat)
    order = two_opt(nearest_neighbour_tour(distances), distances, round_trip=round_trip)
    legs = [distances[a, b] for a, b in itertools.pairwise(order)]
    ordered = stops.iloc[[i - 1 for i in order[1:]]].reset_index(drop=True)
    ordered.insert(0, "sequence", range(1, len(ordered) + 1))
    ordered["leg_m"] = legs
    ordered["cumulative_m"] = np.cumsum(legs)
    return ordered, route_length(order, distances, round_trip=round_trip)


def route_gpx(
    start: tuple[float, float],
    ordered: pd.DataFrame,
    *,
    name: str = "Visits",
    path: shapely.MultiLineString | None = None,
) -> str:
    """Write a route as GPX 1.1 (waypoints, a route through them and, with ``path``, the road track).

    Parameters
    ----------
    start
        (lon, lat) of the start.
    ordered
        Stops in order with ``lon, lat`` and ``name``.
    name
        Route name.
    path
        The legs along the roads (:attr:`DriveRoute.path`), written as a track of one segment per leg.

    Returns
    -------
    str
        The GPX document.
    """
    points = [("Start", start[0], start[1])] + [
        (str(row.name), float(row.lon), float(row.lat)) for row in ordered.itertuples(index=False)
    ]
    waypoints = "".join(
        f'  <wpt lat="{lat:.6f}" lon="{lon:.6f}"><name>{escape(label)}</name></wpt>\n'
        for label, lon, lat in points
    )
    route = "".join(
        f'    <rtept lat="{lat:.6f}" lon="{lon:.6f}"><name>{escape(label)}</name></rtept>\n'
        for label, lon, lat in points
    )
    track = ""
    if path is not None and not path.is_empty:
        segments = "".join(
            "    <trkseg>\n"
            + "".join(f'      <trkpt lat="{lat:.6f}" lon="{lon:.6f}"/>\n' for lon, lat in leg.coords)
            + "    </trkseg>\n"
            for leg in path.geoms
        )
        track = f"  <trk><name>{escape(name)}</name>\n{segments}  </trk>\n"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<gpx version="1.1" creator="gcrm" xmlns="http://www.topografix.com/GPX/1/1">\n'
        f"{waypoints}  <rte><name>{escape(name)}</name>\n{route}  </rte>\n{track}</gpx>\n"
    )
