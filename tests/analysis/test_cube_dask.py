"""The cube on a Dask LocalCluster gives exactly the in-memory results."""

from __future__ import annotations

from collections.abc import Iterator

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from gcrm import app
from geo.analysis.cube import CUBE_MEASURES, cube, parse_period
from geo.analysis.cube_dask import distributed_cube
from geo.config import Settings
from geo.field.accounts import load_facts
from geo.places.distributed_keys import distributed_region_keys
from geo.places.regions import region_keys
from geo.store.bootstrap import prepare_database
from geo.store.shipped_data import read_counties


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None) as cluster,
        Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.mark.parametrize(
    ("by", "where", "period"),
    [
        ("state", None, "2025"),
        ("county", {"segment": ["SMB"]}, "2025Q2"),
        ("h3_6", None, None),
        ("rep", {"state": ["06", "48"]}, "2024-07"),
    ],
)
def test_dask_results_equal_in_memory(demo_settings: Settings, client: Client, by, where, period) -> None:
    conns = prepare_database(demo_settings)
    facts = load_facts(conns.app, user="t")
    conns.close()
    chosen = parse_period(period) if period else None
    local = cube(facts, by=by, measures=list(CUBE_MEASURES), where=where, period=chosen)
    distributed = distributed_cube(
        facts, by=by, measures=list(CUBE_MEASURES), where=where, period=chosen, client=client
    )
    assert len(local) > 0
    pd.testing.assert_frame_equal(distributed, local, check_exact=False, rtol=1e-12)


def test_cli_uses_the_scheduler_from_the_environment(
    demo_settings: Settings, environment, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(demo_settings)
    args = ["cube", "--by", "county", "--measure", "accounts,revenue,growth", "--period", "2025"]
    local = CliRunner().invoke(app, args)
    monkeypatch.setenv("GCRM_DASK_SCHEDULER", client.scheduler.address)
    before = client.run_on_scheduler(_transitions)
    distributed = CliRunner().invoke(app, args)
    assert local.exit_code == distributed.exit_code == 0, distributed.output
    assert distributed.output == local.output
    assert client.run_on_scheduler(_transitions) > before, "the CLI did not run tasks on the scheduler"


def _transitions(dask_scheduler) -> int:
    return dask_scheduler.transition_counter


def test_region_keys_through_dask_geopandas_equal_in_process(demo_settings: Settings, client: Client) -> None:
    rng = np.random.default_rng(5)
    lons, lats = rng.uniform(-125, -66, 250_000), rng.uniform(24, 50, 250_000)
    points = shapely.points(lons, lats).astype(object)
    points[::1000] = None
    series = gpd.GeoSeries(points, index=pd.RangeIndex(10, 250_010), crs="EPSG:4326")
    counties = read_counties(demo_settings.data_dir)
    local = region_keys(series, counties)
    before = client.run_on_scheduler(_transitions)
    distributed = distributed_region_keys(series, counties, client=client)
    assert client.run_on_scheduler(_transitions) > before
    assert local["county_fips"].notna().sum() > 100_000 and local["county_fips"].isna().sum() > 250
    pd.testing.assert_frame_equal(distributed, local)


def test_cli_regions_assign_restores_corrupted_keys_on_the_cluster(
    demo_settings: Settings, environment, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    environment(demo_settings)
    conns = prepare_database(demo_settings)
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT account_id, state_fips, county_fips, h3_r9 FROM accounts"
            " WHERE geom IS NOT NULL ORDER BY account_id LIMIT 7"
        )
        original = cur.fetchall()
        cur.execute(
            "UPDATE accounts SET county_fips = '99999', h3_r9 = NULL WHERE account_id = ANY(%s)",
            ([row[0] for row in original],),
        )
    monkeypatch.setenv("GCRM_DASK_SCHEDULER", client.scheduler.address)
    result = CliRunner().invoke(app, ["regions", "assign"])
    assert result.exit_code == 0, result.output
    assert "7 account(s) changed" in result.output
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT account_id, state_fips, county_fips, h3_r9 FROM accounts"
            " WHERE account_id = ANY(%s) ORDER BY account_id",
            ([row[0] for row in original],),
        )
        assert cur.fetchall() == original
    conns.close()
