"""The adjacency graph of territory units: shared borders, islands bridged.

Units (counties, or the land nearest a ZIP or an H3 cell) are neighbours when they share
a stretch of border (rook contiguity; touching at a corner is not enough). Units with no
neighbour (islands, or land cut off by water) are attached to the nearest unit of another
component, so every alignment can keep its territories contiguous in the graph.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo.places.geodesy import METRIC_CRS

BRIDGE_CANDIDATES = 16
"""Nearest units looked at when searching a unit outside a component."""


def unit_graph(units: gpd.GeoDataFrame) -> sparse.csr_matrix:
    """Build the symmetric adjacency of units, bridging islands to their nearest neighbour.

    Parameters
    ----------
    units
        One row per unit with polygon geometry (EPSG:4326).

    Returns
    -------
    scipy.sparse.csr_matrix
        Boolean, ``n × n``, connected (a single component).
    """
    pairs = _border_pairs(units.geometry.to_numpy())
    graph = _symmetric(pairs, len(units))
    return bridge_components(graph, unit_centroids(units))


def unit_centroids(units: gpd.GeoDataFrame) -> np.ndarray:
    """Centroids of the units in metres (Conus Albers), shape ``(n, 2)``.

    Parameters
    ----------
    units
        Polygons in EPSG:4326.

    Returns
    -------
    ndarray
        x, y per unit.
    """
    centres = units.geometry.to_crs(METRIC_CRS).centroid
    return np.column_stack([centres.x.to_numpy(), centres.y.to_numpy()])


def bridge_components(graph: sparse.csr_matrix, centroids: np.ndarray) -> sparse.csr_matrix:
    """Join every component of ``graph`` to the nearest unit outside it until one component is left.

    Parameters
    ----------
    graph
        Symmetric adjacency.
    centroids
        Unit positions in metres.

    Returns
    -------
    scipy.sparse.csr_matrix
        The graph plus the bridging edges.
    """
    tree = cKDTree(centroids)
    while True:
        count, labels = connected_components(graph, directed=False)
        if count <= 1:
            return graph
        bridges = []
        for component in range(count):
            members = np.flatnonzero(labels == component)
            bridges.append(_nearest_outside(tree, centroids, labels, members, component))
        rows = [a for a, _b in bridges]
        cols = [b for _a, b in bridges]
        graph = (graph + _symmetric(np.array([rows, cols]).T, graph.shape[0])).astype(bool).tocsr()


def neighbours(graph: sparse.csr_matrix) -> list[np.ndarray]:
    """Neighbour indices of each unit.

    Parameters
    ----------
    graph
        Symmetric adjacency.

    Returns
    -------
    list of ndarray
        One array per unit.
    """
    return [graph.indices[graph.indptr[i] : graph.indptr[i + 1]] for i in range(graph.shape[0])]


def _nearest_outside(
    tree: cKDTree, centroids: np.ndarray, labels: np.ndarray, members: np.ndarray, component: int
) -> tuple[int, int]:
    k = min(BRIDGE_CANDIDATES, len(centroids))
    while True:
        distances, found = tree.query(centroids[members], k=k)
        distances, found = distances.reshape(len(members), -1), found.reshape(len(members), -1)
        masked = np.where(labels[found] != component, distances, np.inf)
        if np.isfinite(masked).any():
            row, column = np.unravel_index(np.argmin(masked), masked.shape)
            return int(members[row]), int(found[row, column])
        k = min(k * 4, len(centroids))


def _border_pairs(geometry: np.ndarray) -> np.ndarray:
    tree = shapely.STRtree(geometry)
    left, right = tree.query(geometry, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.intersection(shapely.boundary(geometry[left]), shapely.boundary(geometry[right]))
    touching = shapely.length(shared) > 0
    return np.column_stack([left[touching], right[touching]])


def _symmetric(pairs: np.ndarray, size: int) -> sparse.csr_matrix:
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    rows = np.concatenate([pairs[:, 0], pairs[:, 1]])
    cols = np.concatenate([pairs[:, 1], pairs[:, 0]])
    data = np.ones(len(rows), dtype=bool)
    return sparse.csr_matrix((data, (rows, cols)), shape=(size, size), dtype=bool)
