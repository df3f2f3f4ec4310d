"""Region keys of many points on a Dask cluster, partition by partition through dask-geopandas.

Each partition runs the same :func:`geo.places.regions.region_keys` as one process does, so
the keys are identical. Imported only when a cluster is configured (dask is slow to import).
"""

from __future__ import annotations

import dask_geopandas
import geopandas as gpd
import pandas as pd
from distributed import Client

from geo.places.regions import REGION_KEY_COLUMNS, region_keys

POINT_PARTITION_ROWS = 100_000
"""Points per partition."""


def distributed_region_keys(
    points: gpd.GeoSeries, counties: gpd.GeoDataFrame, *, client: Client
) -> pd.DataFrame:
    """Assign region keys to points on a Dask cluster, through dask-geopandas.

    Parameters
    ----------
    points
        Points in EPSG:4326 (missing ones get empty keys).
    counties
        County polygons, as :func:`geo.store.shipped_data.read_counties` returns.
    client
        The cluster to run on.

    Returns
    -------
    DataFrame
        Exactly what :func:`geo.places.regions.region_keys` returns for the same points.
    """
    frame = gpd.GeoDataFrame(geometry=points, crs=points.crs)
    partitions = max(1, -(-len(frame) // POINT_PARTITION_ROWS))
    spread = dask_geopandas.from_geopandas(frame, npartitions=partitions)
    meta = pd.DataFrame({column: pd.Series(dtype=object) for column in REGION_KEY_COLUMNS})
    keys = spread.map_partitions(_partition_keys, client.scatter(counties, broadcast=True), meta=meta)
    return client.compute(keys, sync=True).reindex(points.index)


def _partition_keys(part: gpd.GeoDataFrame, counties: gpd.GeoDataFrame) -> pd.DataFrame:
    return region_keys(part.geometry, counties)
