"""Recompute the stored region keys of every placed account (after a boundary update), here or on Dask.

The keys are those the account's precision supports, and the account then follows the
active territory plan through them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import shapely
from psycopg2 import sql

from geo.ingest.placement import supported_keys
from geo.ingest.territory_keys import assign_territories
from geo.places.regions import REGION_KEY_COLUMNS, region_keys
from geo.store.db import Database, copy_frame, copy_out
from geo.store.shipped_data import read_counties

if TYPE_CHECKING:
    from distributed import Client

LOCATION_TYPES = {"account_id": "int64", "geocode_precision": "string", "lon": "float64", "lat": "float64"}


def reassign_region_keys(db: Database, data_dir: Path, *, user: str, client: Client | None = None) -> int:
    """Assign state, county and H3 keys again to every placed account and store those that changed.

    An account placed at state level keeps its state key only; every placed account then
    takes the territory the active plan gives it.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory (county boundaries).
    user
        The acting user.
    client
        A Dask client: assign on that cluster (dask-geopandas) instead of in this process.

    Returns
    -------
    int
        Accounts whose keys changed.
    """
    with db.transaction(user=user) as cur:
        located = copy_out(
            cur,
            "SELECT account_id, geocode_precision, ST_X(geom) AS lon, ST_Y(geom) AS lat FROM accounts"
            " WHERE geom IS NOT NULL",
            types=LOCATION_TYPES,
        )
        points = gpd.GeoSeries(shapely.points(located["lon"], located["lat"]), crs="EPSG:4326")
        counties = read_counties(data_dir)
        if client is None:
            keys = region_keys(points, counties)
        else:
            # Imported here: dask costs half a second to import, and most runs never need it.
            from geo.places.distributed_keys import distributed_region_keys

            keys = distributed_region_keys(points, counties, client=client)
        keys = supported_keys(keys, located["geocode_precision"].set_axis(keys.index))
        keys.insert(0, "account_id", located["account_id"].to_numpy())
        cur.execute(
            "CREATE TEMP TABLE region_keys_stage (account_id bigint, state_fips text, county_fips text,"
            " h3_r5 text, h3_r7 text, h3_r9 text) ON COMMIT DROP"
        )
        copy_frame(cur, "region_keys_stage", keys[["account_id", *REGION_KEY_COLUMNS]])
        cur.execute(
            "UPDATE accounts a SET state_fips = s.state_fips, county_fips = s.county_fips,"
            " h3_r5 = s.h3_r5, h3_r7 = s.h3_r7, h3_r9 = s.h3_r9, updated_at = now()"
            " FROM region_keys_stage s WHERE a.account_id = s.account_id"
            " AND (a.state_fips, a.county_fips, a.h3_r5, a.h3_r7, a.h3_r9)"
            " IS DISTINCT FROM (s.state_fips, s.county_fips, s.h3_r5, s.h3_r7, s.h3_r9)"
        )
        changed = cur.rowcount
        assign_territories(cur, accounts=sql.SQL("SELECT account_id FROM region_keys_stage"))
        return changed
