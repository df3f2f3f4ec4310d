"""The cube on a Dask LocalCluster gives exactly the in-memory results."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from distributed import Client, LocalCluster
from typer.testing import CliRunner

from geo.accounts import load_facts
from geo.bootstrap import prepare_database
from geo.cli import app
from geo.config import Settings
from geo.cube import CUBE_MEASURES, cube, parse_period


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
    distributed = cube(facts, by=by, measures=list(CUBE_MEASURES), where=where, period=chosen, client=client)
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
