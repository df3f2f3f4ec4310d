"""One error boundary around every page, and an app that outlives a database outage."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest
from support.app import app_as
from support.users import ADMIN, APP_PASSWORD

from geo.config import PROJECT_DIR, Settings
from geo.errors import DatabaseUnavailable, MappingError, TerritoryError
from geo.store import server
from geo.store.bootstrap import prepare_database
from geo.store.db import Database
from geo.store.users import register_operator
from pages._shared import caches, downloads, user
from pages._shared.navigation import PAGE_ROLES

APP = str(PROJECT_DIR / "app.py")
PAGES = [f"pages/{name}.py" for name in PAGE_ROLES]
MESSAGE = "The column 'Zip' is mapped twice; map it once."


def _app(page: str | None = None) -> AppTest:
    return app_as(ADMIN, page)


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


@pytest.mark.parametrize("page", PAGES)
def test_a_gcrm_error_raised_under_any_page_is_a_message_not_a_traceback(
    demo_settings: Settings, environment, monkeypatch, page: str
) -> None:
    """Regression: a page that did not catch an error showed a traceback; MappingError was no GcrmError."""
    environment(demo_settings)
    at = _app()

    def refuse() -> str:
        raise MappingError(MESSAGE)

    for module in (user, caches, downloads):
        monkeypatch.setattr(module, "current_user", refuse)
    at.switch_page(page).run()
    assert not at.exception, [e.message for e in at.exception]
    assert MESSAGE in _errors(at)


@pytest.fixture(scope="module")
def outage_server(state_home: Path) -> Iterator[tuple[Path, Settings]]:
    """The outage tests' own PostGIS server (never the session's shared one), migrated, with user ``t``."""
    home = state_home / "outage"
    url = server.start(home)
    settings = Settings(database_url=url, home=home, data_dir=PROJECT_DIR / "data", app_password=APP_PASSWORD)
    conns = prepare_database(settings)
    register_operator(conns.owner, ADMIN.username)
    conns.close()
    yield home, settings
    server.stop(home)


@pytest.fixture
def own_server(outage_server: tuple[Path, Settings]) -> tuple[Path, Settings]:
    """The outage server, running at the start of each test whatever an earlier one left (none writes)."""
    home, _settings = outage_server
    server.start(home)
    return outage_server


def _now(db: Database) -> int:
    with db.transaction(user="t") as cur:
        cur.execute("SELECT 1")
        return cur.fetchone()[0]


def test_the_pool_discards_dropped_connections_and_reconnects(own_server) -> None:
    home, settings = own_server
    db = Database(settings.database_url, max_connections=4)
    try:
        assert _now(db) == 1
        server.stop(home)
        with pytest.raises(DatabaseUnavailable, match=r"Cannot reach the database|Lost the connection"):
            _now(db)
        server.start(home)
        assert _now(db) == 1, "the first transaction after the restart failed on a stale connection"
        assert _now(db) == 1
    finally:
        db.close()


def test_the_app_rides_over_connections_the_server_dropped(settings: Settings, environment) -> None:
    """Regression: each dropped pooled connection was an error on the page, and the pools were rebuilt."""
    environment(settings)
    at = _app()
    assert not at.exception and not at.error, _errors(at)
    conns = prepare_database(settings)
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cur.fetchone()[0] >= 1
    conns.close()
    for page in ("pages/home.py", "pages/admin.py", "pages/home.py"):
        at.switch_page(page).run()
        assert not at.exception and not at.error, (page, _errors(at))
    assert {m.label: m.value for m in at.metric}["Accounts"] == "0"


def test_the_app_says_the_database_is_down_and_recovers_when_it_is_back(own_server, environment) -> None:
    home, settings = own_server
    environment(settings)
    at = _app()
    assert not at.exception and not at.error, _errors(at)
    assert {m.label: m.value for m in at.metric}["Accounts"] == "0"

    server.stop(home)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert any(e.startswith("The database is not reachable;") for e in _errors(at)), (page, _errors(at))

    server.start(home)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, [e.message for e in at.exception])
        assert not at.error, (page, _errors(at))
    assert at.title[0].value == "Users and audit log"


def test_a_gcrm_error_raised_by_a_widget_callback_is_a_message(planned, environment, monkeypatch) -> None:
    """Regression: callbacks run before the page, outside any catch: "New draft" failing was a traceback."""
    import territories.model

    settings, _conns = planned
    environment(settings)
    at = _app("pages/territory_design.py")
    assert not at.exception, [e.message for e in at.exception]

    def refuse(*_args, **_kwargs) -> int:
        raise TerritoryError("A draft named 'Draft of Starter plan' exists; pick another name.")

    monkeypatch.setattr(territories.model, "create_version", refuse)
    at.switch_page("pages/territory_design.py").run()
    next(b for b in at.button if b.label == "New draft").click().run()
    assert not at.exception, [e.message for e in at.exception]
    assert "A draft named 'Draft of Starter plan' exists; pick another name." in _errors(at)
    at.run()
    assert not at.exception and not at.error, _errors(at)
