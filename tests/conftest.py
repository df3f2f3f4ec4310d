"""Test fixtures: one private PostGIS per run, a fresh database per test.

The suite starts its own cluster with :mod:`geo.store.server` (or uses
``TEST_DATABASE_URL``, an owner URL whose role may create databases). A
template database holds the migrated schema and the shipped boundaries; each
test gets a copy of it, so tests never see each other's rows. A second template
holds a small demo book, built once per process; each module that asks for it
gets a copy of its own.
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date
from pathlib import Path

import pytest
from support.users import APP_PASSWORD, TEST_ADMINS, TEST_TODAY

from geo.config import PROJECT_DIR, Settings
from geo.store import server
from geo.store.bootstrap import Connections, prepare_database
from geo.store.db import create_database, drop_database
from geo.store.users import register_operator

TEMPLATE_DB = f"gcrm_test_template_{os.getpid()}"
"""Per process: the suite runs on two workers (pytest-xdist), which may share one server."""
DEMO_ACCOUNTS = 3_000
DEMO_SEED = 7
_database_numbers = itertools.count(1)


@pytest.fixture(scope="session", autouse=True)
def pinned_today() -> Iterator[date]:
    """Pin :mod:`geo.clock` for the run and for the processes it starts (the app a browser test serves)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GCRM_TODAY", TEST_TODAY.isoformat())
        yield TEST_TODAY


@pytest.fixture(scope="session")
def state_home() -> Iterator[Path]:
    """A state directory for the run, reachable by the ``postgres`` user when run as root."""
    home = Path(tempfile.mkdtemp(prefix="gcrm-test-"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def server_url(state_home: Path) -> Iterator[str]:
    """Owner URL of the run's PostGIS server (its ``gcrm`` database)."""
    external = os.environ.get("TEST_DATABASE_URL")
    if external:
        yield external
        return
    home = state_home / "server"
    url = server.start(home)
    yield url
    server.stop(home)


@pytest.fixture(scope="session")
def template_url(server_url: str, state_home: Path) -> Iterator[str]:
    """A database migrated and loaded with boundaries, copied for each test."""
    url = create_database(server_url, TEMPLATE_DB)
    connections = prepare_database(_settings(url, state_home))
    for name in TEST_ADMINS:
        register_operator(connections.owner, name)
    connections.close()
    yield url
    drop_database(server_url, TEMPLATE_DB)


def _settings(url: str, home: Path) -> Settings:
    return Settings(database_url=url, home=home, data_dir=PROJECT_DIR / "data", app_password=APP_PASSWORD)


def _fresh_database(server_url: str, template_url: str) -> tuple[str, str]:
    name = f"gcrm_test_{os.getpid()}_{next(_database_numbers)}"
    return name, create_database(server_url, name, template=TEMPLATE_DB)


@pytest.fixture(scope="session")
def database_copy(
    server_url: str, template_url: str, state_home: Path
) -> Callable[..., AbstractContextManager[tuple[str, Settings]]]:
    """Copy a template database for as long as a ``with`` block lasts: its name and settings.

    The copy is made from the migrated template unless another is named; a module that builds
    a costly book once makes it a template of its own, and gives each test a copy of it.
    """

    @contextmanager
    def copy(template: str = TEMPLATE_DB) -> Iterator[tuple[str, Settings]]:
        name = f"{template}_{next(_database_numbers)}"
        url = create_database(server_url, name, template=template)
        try:
            yield name, _settings(url, state_home)
        finally:
            drop_database(server_url, name)

    return copy


@pytest.fixture
def settings(server_url: str, template_url: str, state_home: Path) -> Iterator[Settings]:
    """Settings pointing at a fresh database for this test only."""
    name, url = _fresh_database(server_url, template_url)
    yield _settings(url, state_home)
    drop_database(server_url, name)


@pytest.fixture
def connections(settings: Settings) -> Iterator[Connections]:
    """Owner and app pools on this test's fresh database."""
    conns = prepare_database(settings)
    yield conns
    conns.close()


@pytest.fixture(scope="session")
def demo_template(database_copy) -> Iterator[str]:
    """A database holding a small demo book, built once per process and copied for each module."""
    from geo.ingest.whole_book import load_demo_book

    with database_copy() as (name, settings):
        conns = prepare_database(settings)
        load_demo_book(conns.owner, settings.data_dir, accounts=DEMO_ACCOUNTS, seed=DEMO_SEED)
        conns.close()
        yield name


@pytest.fixture(scope="module")
def demo_settings(database_copy, demo_template: str) -> Iterator[Settings]:
    """Settings of a copy of the demo book, shared by one test module (read only, or changed by it alone)."""
    with database_copy(demo_template) as (_name, settings):
        yield settings


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch):
    """Point the process environment (what ``load_settings`` reads) at given settings."""

    def apply(settings: Settings) -> None:
        monkeypatch.setenv("DATABASE_URL", settings.database_url or "")
        monkeypatch.setenv("GCRM_HOME", str(settings.home))
        monkeypatch.setenv("GCRM_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("GCRM_APP_PASSWORD", settings.app_password or "")

    return apply


PLANNED_ACCOUNTS = 1_500
PLANNED_SEED = 3
PLANNER = "manager@test"


@pytest.fixture(scope="session")
def planned_template(server_url: str, template_url: str, state_home: Path) -> Iterator[str]:
    """A database with a small demo book and its published starter territory plan (a template)."""
    from geo.ingest.whole_book import load_demo_book
    from territories.starter import starter_plan

    name = f"gcrm_test_planned_{os.getpid()}"
    url = create_database(server_url, name, template=TEMPLATE_DB)
    settings = _settings(url, state_home)
    conns = prepare_database(settings)
    load_demo_book(conns.owner, settings.data_dir, accounts=PLANNED_ACCOUNTS, seed=PLANNED_SEED)
    assert starter_plan(conns.app, settings.data_dir, user=PLANNER) is not None
    conns.close()
    yield name
    drop_database(server_url, name)


@pytest.fixture
def planned(
    server_url: str, planned_template: str, state_home: Path
) -> Iterator[tuple[Settings, Connections]]:
    """A fresh copy of the planned database for this test: its settings and pools."""
    name = f"{planned_template}_{next(_database_numbers)}"
    settings = _settings(create_database(server_url, name, template=planned_template), state_home)
    conns = prepare_database(settings)
    yield settings, conns
    conns.close()
    drop_database(server_url, name)
