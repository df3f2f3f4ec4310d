"""SQL of the road network tables (``road_vertices``, ``road_edges``, ``road_network``) and of pgRouting.

pgRouting's functions take the edges as the text of a query; that text is built here with
the driver's quoting (``cursor.mogrify``) and passed as a parameter, so nothing is pasted
into SQL. Each query reads only the edges that can matter: for a drive-time area, those
inside the box of the circle a car at the network's top speed can reach (exact: no road
leaves it within the limit); for a matrix or a path, those within a margin around the
points (:data:`MATRIX_MARGIN_FACTOR`, :data:`MATRIX_MARGIN_M`).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import psycopg2.extensions
import shapely

from geo.errors import RoadNetworkError
from geo.places.geodesy import haversine_m, search_boxes
from geo.roads.network import RoadGraph
from geo.store.db import copy_frame, ewkb_hex

MATRIX_MARGIN_FACTOR = 1.5
MATRIX_MARGIN_M = 10_000.0
"""A matrix or path reads the edges within 1.5 × the points' radius plus 10 km of their centre."""

_EDGES = "SELECT id, source, target, cost, reverse_cost FROM road_edges"


@dataclass(frozen=True)
class NetworkStatus:
    """What road network is loaded.

    Attributes
    ----------
    source_name
        The extract's file name.
    imported_at
        When (timezone-aware).
    imported_by
        Who imported it.
    edges, vertices
        Sizes of the routing graph.
    dropped_edges, dropped_components
        What the import left out (outside the largest strongly connected component).
    max_speed_kmh
        The fastest edge.
    speeds_kmh
        The speed per road class used where a way had no ``maxspeed``.
    extent
        (minx, miny, maxx, maxy) in degrees.
    """

    source_name: str
    imported_at: datetime
    imported_by: str
    edges: int
    vertices: int
    dropped_edges: int
    dropped_components: int
    max_speed_kmh: float
    speeds_kmh: dict[str, float]
    extent: tuple[float, float, float, float]


def pgrouting_installed(cur: psycopg2.extensions.cursor) -> bool:
    """Whether pgRouting is enabled in this database.

    Parameters
    ----------
    cur
        A cursor.

    Returns
    -------
    bool
        True when the extension is created.
    """
    cur.execute("SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pgrouting')")
    return bool(cur.fetchone()[0])


def require_pgrouting(cur: psycopg2.extensions.cursor) -> None:
    """Refuse with the fix when pgRouting is not enabled.

    Parameters
    ----------
    cur
        A cursor.

    Raises
    ------
    RoadNetworkError
        pgRouting is missing.
    """
    if not pgrouting_installed(cur):
        msg = (
            "pgRouting is not enabled in this database: install postgresql-<major>-pgrouting on the "
            "database server (`make setup` does for the embedded one), then run `gcrm migrate`, "
            "or as a superuser: CREATE EXTENSION pgrouting."
        )
        raise RoadNetworkError(msg)


def replace_network(
    cur: psycopg2.extensions.cursor,
    graph: RoadGraph,
    *,
    source_name: str,
    speeds_kmh: dict[str, float],
    user: str,
) -> None:
    """Replace the stored network with ``graph`` (inside the caller's transaction).

    Parameters
    ----------
    cur
        A cursor of an admin's transaction.
    graph
        The graph to store.
    source_name
        The extract's file name.
    speeds_kmh
        The class speeds used.
    user
        Who imports it.
    """
    cur.execute("TRUNCATE road_edges, road_vertices, road_network")
    vertices = pd.DataFrame(
        {
            "id": graph.vertices["id"].to_numpy(),
            "osm_node_id": graph.vertices["osm_node_id"].to_numpy(),
            "geom": ewkb_hex(graph.vertices.geometry.to_numpy()),
        }
    )
    copy_frame(cur, "road_vertices", vertices)
    edges = pd.DataFrame(graph.edges.drop(columns="geometry")).assign(
        geom=ewkb_hex(graph.edges.geometry.to_numpy())
    )
    copy_frame(cur, "road_edges", edges)
    cur.execute(
        "INSERT INTO road_network (source_name, imported_by, edges, vertices, dropped_edges,"
        " dropped_components, max_speed_kmh, speeds_kmh, extent)"
        " SELECT %s, %s, %s, %s, %s, %s, %s, %s, ST_Envelope(ST_Extent(geom))::geometry(Polygon, 4326)"
        " FROM road_vertices",
        (
            source_name,
            user,
            len(graph.edges),
            len(graph.vertices),
            graph.dropped_edges,
            graph.dropped_components,
            float(graph.edges["speed_kmh"].max()),
            json.dumps(speeds_kmh),
        ),
    )
    cur.execute("ANALYZE road_vertices; ANALYZE road_edges")


def read_status(cur: psycopg2.extensions.cursor) -> NetworkStatus | None:
    """What network is loaded.

    Parameters
    ----------
    cur
        A cursor.

    Returns
    -------
    NetworkStatus or None
        None before the first import.
    """
    cur.execute(
        "SELECT source_name, imported_at, imported_by, edges, vertices, dropped_edges, dropped_components,"
        " max_speed_kmh, speeds_kmh, ST_XMin(extent), ST_YMin(extent), ST_XMax(extent), ST_YMax(extent)"
        " FROM road_network"
    )
    row = cur.fetchone()
    if row is None:
        return None
    return NetworkStatus(
        source_name=row[0],
        imported_at=row[1],
        imported_by=row[2],
        edges=int(row[3]),
        vertices=int(row[4]),
        dropped_edges=int(row[5]),
        dropped_components=int(row[6]),
        max_speed_kmh=float(row[7]),
        speeds_kmh={str(k): float(v) for k, v in row[8].items()},
        extent=(float(row[9]), float(row[10]), float(row[11]), float(row[12])),
    )


def nearest_vertices(cur: psycopg2.extensions.cursor, lon: np.ndarray, lat: np.ndarray) -> pd.DataFrame:
    """The road node nearest each point, and how far it is.

    Parameters
    ----------
    cur
        A cursor.
    lon, lat
        Degrees, one per point.

    Returns
    -------
    DataFrame
        ``vertex_id`` and ``snap_m`` (great-circle metres), one row per point in order.
    """
    cur.execute(
        "SELECT n.vertex_id, ST_Distance(n.geom::geography, p.geom::geography, false)"
        " FROM (SELECT ordinality, ST_SetSRID(ST_MakePoint(x, y), 4326) AS geom"
        "       FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS t(x, y, ordinality)) p"
        " CROSS JOIN LATERAL (SELECT v.id AS vertex_id, v.geom FROM road_vertices v"
        "                     ORDER BY v.geom <-> p.geom LIMIT 1) n"
        " ORDER BY p.ordinality",
        ([float(x) for x in lon], [float(y) for y in lat]),
    )
    rows = cur.fetchall()
    return pd.DataFrame(rows, columns=["vertex_id", "snap_m"]).astype({"vertex_id": "int64", "snap_m": float})


def reach(
    cur: psycopg2.extensions.cursor,
    vertex_id: int,
    lon: float,
    lat: float,
    *,
    max_seconds: float,
    max_speed_kmh: float,
) -> tuple[pd.DataFrame, gpd.GeoDataFrame]:
    """Every road node reachable from ``vertex_id`` within ``max_seconds``, and the roads between them.

    Parameters
    ----------
    cur
        A cursor.
    vertex_id
        The start node.
    lon, lat
        The start node's position (to bound the edges read).
    max_seconds
        The limit.
    max_speed_kmh
        The network's top speed (no road beyond that many km per hour of driving is read).

    Returns
    -------
    tuple
        Nodes (``seconds, lon, lat``: the start and both ends of every edge reached) and the
        edges with both ends reached (GeoDataFrame: ``source_seconds, target_seconds``,
        EPSG:4326). One query: the edges are joined to pgRouting's answer in the database.
    """
    radius_m = max_speed_kmh / 3.6 * max_seconds + 1.0
    cur.execute(
        "WITH reached AS MATERIALIZED ("
        "  SELECT node, agg_cost FROM pgr_drivingDistance(%s, ARRAY[%s]::bigint[], %s, true))"
        " SELECT r.agg_cost, t.agg_cost, ST_AsBinary(e.geom) FROM road_edges e"
        " JOIN reached r ON r.node = e.source JOIN reached t ON t.node = e.target"
        " UNION ALL SELECT 0.0, 0.0, ST_AsBinary(v.geom) FROM road_vertices v WHERE v.id = %s",
        (
            _edges_in(cur, search_boxes(lon, lat, radius_m)),
            int(vertex_id),
            float(max_seconds),
            int(vertex_id),
        ),
    )
    rows = cur.fetchall()
    shapes = shapely.from_wkb([bytes(row[2]) for row in rows]) if rows else np.array([], dtype=object)
    source_seconds = np.array([row[0] for row in rows], dtype=float)
    target_seconds = np.array([row[1] for row in rows], dtype=float)
    is_line = shapely.get_type_id(shapes) == 1 if len(shapes) else np.array([], dtype=bool)
    lines = shapes[is_line]
    ends = (
        np.concatenate([shapely.get_point(lines, 0), shapely.get_point(lines, -1), shapes[~is_line]])
        if len(shapes)
        else np.array([], dtype=object)
    )
    seconds = np.concatenate([source_seconds[is_line], target_seconds[is_line], source_seconds[~is_line]])
    nodes = (
        pd.DataFrame({"seconds": seconds, "lon": shapely.get_x(ends), "lat": shapely.get_y(ends)})
        .drop_duplicates(["lon", "lat"])
        .reset_index(drop=True)
    )
    edges = gpd.GeoDataFrame(
        {"source_seconds": source_seconds[is_line], "target_seconds": target_seconds[is_line]},
        geometry=lines,
        crs="EPSG:4326",
    )
    return nodes, edges


def cost_matrix(
    cur: psycopg2.extensions.cursor, vertex_ids: list[int], lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Seconds of driving between every pair of nodes (pgRouting's Dijkstra cost matrix).

    Parameters
    ----------
    cur
        A cursor.
    vertex_ids
        Road nodes, one per point (repeats allowed).
    lon, lat
        The points (to bound the edges read).

    Returns
    -------
    ndarray
        Square, in the order of ``vertex_ids``; 0 on the diagonal and between repeats,
        inf where no road leads (the graph is strongly connected, so only outside the margin).
    """
    ids = [int(v) for v in vertex_ids]
    distinct = sorted(set(ids))
    seconds = {}
    if len(distinct) > 1:
        cur.execute(
            "SELECT start_vid, end_vid, agg_cost FROM pgr_dijkstraCostMatrix(%s, %s::bigint[], true)",
            (_edges_in(cur, _margin_boxes(lon, lat)), distinct),
        )
        seconds = {(a, b): cost for a, b, cost in cur.fetchall()}
    return np.array([[0.0 if a == b else seconds.get((a, b), np.inf) for b in ids] for a in ids], dtype=float)


def costs_from(
    cur: psycopg2.extensions.cursor, vertex_id: int, targets: list[int], lon: np.ndarray, lat: np.ndarray
) -> np.ndarray:
    """Seconds of driving from one node to each of ``targets`` (one Dijkstra search).

    Parameters
    ----------
    cur
        A cursor.
    vertex_id
        The start node.
    targets
        Road nodes (repeats allowed).
    lon, lat
        The start and target points (to bound the edges read).

    Returns
    -------
    ndarray
        One per target in order; 0 for the start node itself, inf where no road leads.
    """
    distinct = sorted({int(t) for t in targets} - {int(vertex_id)})
    seconds: dict[int, float] = {}
    if distinct:
        cur.execute(
            "SELECT end_vid, agg_cost FROM pgr_dijkstraCost(%s, %s::bigint, %s::bigint[], true)",
            (_edges_in(cur, _margin_boxes(lon, lat)), int(vertex_id), distinct),
        )
        seconds = dict(cur.fetchall())
    return np.array([0.0 if int(t) == int(vertex_id) else seconds.get(int(t), np.inf) for t in targets])


def legs(
    cur: psycopg2.extensions.cursor, vertex_ids: list[int], lon: np.ndarray, lat: np.ndarray
) -> pd.DataFrame:
    """The fastest road path of each leg of a tour through the nodes in order.

    Parameters
    ----------
    cur
        A cursor.
    vertex_ids
        Road nodes in visiting order.
    lon, lat
        The points (to bound the edges read).

    Returns
    -------
    DataFrame
        One row per leg (``len(vertex_ids) - 1``): ``seconds``, ``metres`` and ``geometry``
        (a LineString along the roads, None for a leg between points on the same node).
    """
    pairs = list(itertools.pairwise(vertex_ids))
    distinct = sorted({(int(a), int(b)) for a, b in pairs if a != b})
    found: dict[tuple[int, int], tuple[float, float, shapely.Geometry]] = {}
    if distinct:
        combinations = cur.mogrify(
            "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) AS t(source, target)",
            ([a for a, _b in distinct], [b for _a, b in distinct]),
        ).decode()
        cur.execute(
            "SELECT p.start_vid, p.end_vid, sum(p.cost), sum(e.length_m),"
            " ST_AsBinary(ST_MakeLine(CASE WHEN p.node = e.source THEN e.geom ELSE ST_Reverse(e.geom) END"
            "                         ORDER BY p.path_seq))"
            " FROM pgr_dijkstra(%s, %s, true) p JOIN road_edges e ON e.id = p.edge"
            " GROUP BY p.start_vid, p.end_vid",
            (_edges_in(cur, _margin_boxes(lon, lat)), combinations),
        )
        found = {
            (a, b): (cost, metres, shapely.from_wkb(bytes(line)))
            for a, b, cost, metres, line in cur.fetchall()
        }
    rows = [
        (0.0, 0.0, None) if a == b else found.get((int(a), int(b)), (np.inf, np.inf, None)) for a, b in pairs
    ]
    return pd.DataFrame(rows, columns=["seconds", "metres", "geometry"])


def _edges_in(cur: psycopg2.extensions.cursor, boxes: list[tuple[float, float, float, float]]) -> str:
    """The edge query pgRouting reads, limited to the edges touching ``boxes``."""
    condition = " OR ".join("geom && ST_MakeEnvelope(%s, %s, %s, %s, 4326)" for _box in boxes)
    params = [float(value) for box in boxes for value in box]
    return cur.mogrify(f"{_EDGES} WHERE {condition}", params).decode()


def _margin_boxes(lon: np.ndarray, lat: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Boxes around points: :data:`MATRIX_MARGIN_FACTOR` × their radius plus :data:`MATRIX_MARGIN_M`."""
    lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
    centre_lon, centre_lat = float(np.mean(lon)), float(np.mean(lat))
    radius = float(np.max(haversine_m(lon, lat, centre_lon, centre_lat))) if len(lon) else 0.0
    if not np.isfinite(radius):
        msg = "A point to route has no position."
        raise RoadNetworkError(msg)
    return search_boxes(centre_lon, centre_lat, MATRIX_MARGIN_FACTOR * radius + MATRIX_MARGIN_M)
