"""From the ways of an OpenStreetMap extract to a routing graph: travel times, one-way streets, one component.

Every way segment becomes an edge with a travel time each way in seconds (pgRouting's
``cost`` and ``reverse_cost``; a negative cost means the direction is closed). One-way
streets are open forward only (``oneway=yes``; ``oneway=-1`` is open backward only, and
``junction=roundabout`` and ``highway=motorway`` imply one-way unless ``oneway=no``). The
graph keeps its largest strongly connected component, so every kept node can reach every
other by road; the rest (ways cut at the edge of the extract, islands) is reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from geo.roads.speeds import FALLBACK_CLASS, parse_maxspeed

CLOSED = -1.0
"""The cost pgRouting reads as "this direction cannot be driven"."""

_FORWARD_ONLY = frozenset({"yes", "true", "1"})
_BACKWARD_ONLY = frozenset({"-1", "reverse"})
_TWO_WAY = frozenset({"no", "false", "0"})
_ONE_WAY_JUNCTIONS = frozenset({"roundabout", "circular"})
_ONE_WAY_CLASSES = frozenset({"motorway"})

WAY_COLUMNS = ("u", "v", "highway", "maxspeed", "oneway", "junction", "length_m", "osm_way_id", "geometry")
"""What :func:`road_edges` reads from each way segment (``u``, ``v``: OSM node ids at its ends)."""


@dataclass(frozen=True)
class RoadGraph:
    """A routing graph ready to store.

    Attributes
    ----------
    edges
        GeoDataFrame: ``id, source, target, cost, reverse_cost, length_m, speed_kmh, highway,
        osm_way_id, geometry`` (seconds; vertex ids index ``vertices``).
    vertices
        GeoDataFrame: ``id, osm_node_id, geometry``.
    dropped_edges
        Edges outside the largest strongly connected component.
    dropped_components
        How many other components there were.
    """

    edges: gpd.GeoDataFrame
    vertices: gpd.GeoDataFrame
    dropped_edges: int
    dropped_components: int


def road_edges(ways: gpd.GeoDataFrame, speeds: dict[str, float]) -> gpd.GeoDataFrame:
    """Travel times each way for every way segment.

    Parameters
    ----------
    ways
        One row per segment with :data:`WAY_COLUMNS` (``maxspeed``, ``oneway``, ``junction``
        may be missing values), geometry from ``u`` to ``v`` in EPSG:4326.
    speeds
        km/h per road class (:func:`geo.roads.speeds.load_speeds`).

    Returns
    -------
    GeoDataFrame
        ``source_node, target_node, cost, reverse_cost, length_m, speed_kmh, highway,
        osm_way_id, geometry``; a way open backward only is turned round, so that it is
        open forward; segments from a node to itself are left out.
    """
    frame = ways.loc[ways["u"] != ways["v"]].reset_index(drop=True)
    highway = frame["highway"].astype(str).str.strip().str.lower()
    road_class = highway.where(highway.isin(list(speeds)), FALLBACK_CLASS)
    tagged = frame["maxspeed"].map(parse_maxspeed)
    speed = tagged.where(tagged.notna(), road_class.map(speeds)).astype(float)
    oneway = _text(frame["oneway"])
    junction = _text(frame["junction"])
    backward = oneway.isin(_BACKWARD_ONLY)
    forward = oneway.isin(_FORWARD_ONLY) | (
        ~oneway.isin(_TWO_WAY)
        & ~backward
        & (junction.isin(_ONE_WAY_JUNCTIONS) | highway.isin(_ONE_WAY_CLASSES))
    )
    length = frame["length_m"].astype(float).to_numpy()
    seconds = length / (speed.to_numpy() / 3.6)
    geometry = frame.geometry.to_numpy()
    geometry[backward.to_numpy()] = shapely.reverse(geometry[backward.to_numpy()])
    return gpd.GeoDataFrame(
        {
            "source_node": np.where(backward, frame["v"], frame["u"]).astype("int64"),
            "target_node": np.where(backward, frame["u"], frame["v"]).astype("int64"),
            "cost": seconds,
            "reverse_cost": np.where(forward | backward, CLOSED, seconds),
            "length_m": length,
            "speed_kmh": speed.to_numpy(),
            "highway": highway.to_numpy(),
            "osm_way_id": frame["osm_way_id"].astype("int64").to_numpy(),
        },
        geometry=geometry,
        crs=ways.crs,
    )


def routing_graph(edges: gpd.GeoDataFrame) -> RoadGraph:
    """Number the nodes and keep the largest strongly connected component.

    Parameters
    ----------
    edges
        As :func:`road_edges` returns.

    Returns
    -------
    RoadGraph
        Edges and vertices with ids from 1, and what was left out.
    """
    nodes, index = np.unique(
        np.concatenate([edges["source_node"].to_numpy(), edges["target_node"].to_numpy()]),
        return_inverse=True,
    )
    source, target = index[: len(edges)], index[len(edges) :]
    open_back = edges["reverse_cost"].to_numpy() >= 0
    rows = np.concatenate([source, target[open_back]])
    cols = np.concatenate([target, source[open_back]])
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(nodes), len(nodes)))
    count, labels = connected_components(graph, directed=True, connection="strong")
    largest = np.bincount(labels).argmax() if len(nodes) else 0
    kept_edge = (labels[source] == largest) & (labels[target] == largest)
    kept_nodes = np.flatnonzero(labels == largest)
    vertex_id = np.full(len(nodes), -1, dtype="int64")
    vertex_id[kept_nodes] = np.arange(1, len(kept_nodes) + 1)
    kept = edges.loc[kept_edge].reset_index(drop=True)
    kept.insert(0, "id", np.arange(1, len(kept) + 1, dtype="int64"))
    kept.insert(1, "source", vertex_id[source[kept_edge]])
    kept.insert(2, "target", vertex_id[target[kept_edge]])
    kept = kept.drop(columns=["source_node", "target_node"])
    vertices = _vertices(edges, kept_edge, source, target, nodes, vertex_id)
    return RoadGraph(
        edges=kept,
        vertices=vertices,
        dropped_edges=int((~kept_edge).sum()),
        dropped_components=max(int(count) - 1, 0),
    )


def _vertices(
    edges: gpd.GeoDataFrame,
    kept_edge: np.ndarray,
    source: np.ndarray,
    target: np.ndarray,
    nodes: np.ndarray,
    vertex_id: np.ndarray,
) -> gpd.GeoDataFrame:
    """One point per kept node, where its first kept edge starts or ends."""
    geometry = edges.geometry.to_numpy()[kept_edge]
    starts = shapely.get_point(geometry, 0)
    ends = shapely.get_point(geometry, -1)
    at = pd.concat(
        [
            pd.DataFrame({"node": source[kept_edge], "geometry": starts}),
            pd.DataFrame({"node": target[kept_edge], "geometry": ends}),
        ],
        ignore_index=True,
    ).drop_duplicates("node")
    return gpd.GeoDataFrame(
        {"id": vertex_id[at["node"].to_numpy()], "osm_node_id": nodes[at["node"].to_numpy()]},
        geometry=at["geometry"].to_numpy(),
        crs=edges.crs,
    ).sort_values("id", ignore_index=True)


def _text(values: pd.Series) -> pd.Series:
    """Lower-case tag values with missing ones as the empty string."""
    return values.astype(object).where(values.notna(), "").astype(str).str.strip().str.lower()
