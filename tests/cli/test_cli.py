"""The ``gcrm`` commands that load data."""

from __future__ import annotations

import re

from typer.testing import CliRunner

from gcrm import app
from geo.config import Settings
from geo.store.bootstrap import prepare_database

runner = CliRunner()


def _account_count(settings: Settings) -> int:
    conns = prepare_database(settings)
    with conns.app.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM accounts")
        count = cur.fetchone()[0]
    conns.close()
    return count


def test_demo_loads_then_refuses_to_overwrite(settings: Settings, environment) -> None:
    environment(settings)
    result = runner.invoke(app, ["demo", "--accounts", "400", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert re.search(r"loaded reps=\d+ branches=\d+ accounts=400 contacts=\d+ orders=\d+", result.output)
    assert _account_count(settings) == 400

    refused = runner.invoke(app, ["demo", "--accounts", "50"])
    assert refused.exit_code == 1
    assert "already holds 400 accounts" in refused.output
    kept = runner.invoke(app, ["demo", "--accounts", "50", "--if-empty"])
    assert kept.exit_code == 0 and "not loaded" in kept.output
    assert _account_count(settings) == 400

    replaced = runner.invoke(app, ["demo", "--accounts", "50", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert _account_count(settings) == 50


def test_demo_is_deterministic_in_the_database(settings: Settings, environment) -> None:
    environment(settings)
    snapshots = []
    for _ in range(2):
        result = runner.invoke(app, ["demo", "--accounts", "200", "--seed", "11", "--replace"])
        assert result.exit_code == 0, result.output
        conns = prepare_database(settings)
        with conns.app.transaction(user="t") as cur:
            cur.execute(
                "SELECT md5(string_agg(concat_ws('|', external_id, name, status, ST_AsText(geom),"
                " county_fips, owner_rep_id), ',' ORDER BY external_id)) FROM accounts"
            )
            accounts = cur.fetchone()[0]
            cur.execute("SELECT count(*), sum(amount) FROM orders")
            orders = cur.fetchone()
        conns.close()
        snapshots.append((accounts, orders))
    assert snapshots[0] == snapshots[1]


def test_migrate_reports_and_an_unreachable_server_is_a_message(settings: Settings, environment) -> None:
    environment(settings)
    ok = runner.invoke(app, ["migrate"])
    assert ok.exit_code == 0 and "schema up to date" in ok.output
    broken = Settings(
        database_url="postgresql://gcrm:x@127.0.0.1:1/gcrm",
        home=settings.home,
        data_dir=settings.data_dir,
        app_password="x",
    )
    environment(broken)
    failed = runner.invoke(app, ["migrate"])
    assert failed.exit_code == 1
    assert "error: Cannot reach the database at 127.0.0.1:1" in failed.output
    assert "Traceback" not in failed.output


def test_with_database_url_nothing_is_started(settings: Settings, environment, tmp_path) -> None:
    environment(Settings(settings.database_url, tmp_path / "home", settings.data_dir, settings.app_password))
    started = runner.invoke(app, ["db", "start"])
    assert started.exit_code == 0, started.output
    assert "DATABASE_URL is set: using that server, nothing started." in started.output
    assert not (tmp_path / "home" / "pgdata").exists()
    stopped = runner.invoke(app, ["db", "stop"])
    assert "gcrm runs no server of its own" in stopped.output
    assert runner.invoke(app, ["db", "url"]).output.strip() == settings.database_url
