"""Read the drivable ways of an OpenStreetMap extract (``.osm.pbf``) with pyrosm.

Nothing is downloaded: the administrator supplies the extract (a regional file from an
OSM mirror, downloaded once). pyrosm splits every way into segments between its nodes,
keeping the tags that set travel times.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.errors import RoadNetworkError
from geo.roads.network import WAY_COLUMNS


def read_ways(path: Path) -> gpd.GeoDataFrame:
    """The drivable way segments of an extract.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file.

    Returns
    -------
    GeoDataFrame
        :data:`geo.roads.network.WAY_COLUMNS`, EPSG:4326.

    Raises
    ------
    RoadNetworkError
        The file is missing, is no OSM extract, or holds no drivable road.
    """
    from pyrosm import OSM

    source = Path(path)
    if not source.is_file():
        msg = f"No such extract: {source}. Give the path of an .osm.pbf file."
        raise RoadNetworkError(msg)
    try:
        _nodes, ways = OSM(str(source)).get_network(
            network_type="driving", nodes=True, extra_attributes=["junction"]
        )
    except Exception as exc:  # pyrosm raises bare exceptions of many kinds for a bad file
        msg = f"Cannot read {source.name} as an OpenStreetMap extract (.osm.pbf): {exc}"
        raise RoadNetworkError(msg) from exc
    if ways is None or len(ways) == 0:
        msg = f"{source.name} holds no drivable road."
        raise RoadNetworkError(msg)
    frame = ways.rename(columns={"length": "length_m", "id": "osm_way_id"})
    for column in ("maxspeed", "oneway", "junction"):
        if column not in frame:
            frame[column] = pd.NA
    return gpd.GeoDataFrame(frame[list(WAY_COLUMNS)], geometry="geometry", crs="EPSG:4326")
