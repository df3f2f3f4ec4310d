"""Synthetic unit grids: square boxes sharing their edges, numbered row by row from the south-west."""

from __future__ import annotations

import geopandas as gpd
import shapely

CELL_DEG = 0.125
"""Side of a unit box in degrees (about 14 km by 11 km at the grids' latitude)."""


def box_grid(
    columns: int,
    rows: int = 1,
    *,
    cell_size: float = CELL_DEG,
    origin: tuple[float, float] = (-100.0, 35.0),
    crs: str = "EPSG:4326",
) -> gpd.GeoDataFrame:
    """Build a grid of square units, codes ``u0``, ``u1`` … row by row from the south-west corner.

    Parameters
    ----------
    columns, rows
        Units across and up.
    cell_size
        Side of a unit, in the units of ``crs``.
    origin
        South-west corner of the grid.
    crs
        The grid's coordinate reference system.

    Returns
    -------
    GeoDataFrame
        One row per unit: ``code`` and the box.
    """
    x0, y0 = origin
    boxes = [
        shapely.box(
            x0 + x * cell_size, y0 + y * cell_size, x0 + (x + 1) * cell_size, y0 + (y + 1) * cell_size
        )
        for y in range(rows)
        for x in range(columns)
    ]
    return gpd.GeoDataFrame({"code": [f"u{i}" for i in range(len(boxes))]}, geometry=boxes, crs=crs)
