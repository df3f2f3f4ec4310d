"""Migrations, the app role, the transaction helper, and an unreachable database."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest

import geo.store.db as db_module
from geo.config import APP_ROLE, Settings
from geo.errors import DatabaseUnavailable
from geo.store.bootstrap import Connections, app_password, prepare_database
from geo.store.db import PREPARED_PER_CONNECTION, Database, advisory_lock, execute_prepared, migrate, role_dsn

PROCESSES = 4
"""App processes started at once in the tests of concurrent preparation."""


@contextmanager
def closed_port() -> Iterator[int]:
    """A localhost port with nothing listening on it (bound, never listening)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def test_migrations_applied_twice_change_nothing(connections: Connections) -> None:
    assert migrate(connections.owner) == []
    with connections.owner.transaction(user="t") as cur:
        cur.execute("SELECT version, name FROM schema_migrations ORDER BY version")
        versions = cur.fetchall()
    assert [v for v, _ in versions] == list(range(1, len(versions) + 1))
    assert versions[0][1] == "001_schema.sql"


def test_prepare_database_twice_is_idempotent(settings: Settings) -> None:
    for _ in range(2):
        conns = prepare_database(settings)
        with conns.app.transaction(user="t") as cur:
            cur.execute("SELECT count(*) FROM regions")
            assert cur.fetchone()[0] == 56 + 3230
        conns.close()


def test_processes_preparing_one_database_at_once_all_succeed(settings: Settings) -> None:
    def prepare(_: int) -> int:
        conns = prepare_database(settings)
        try:
            with conns.app.transaction(user="t") as cur:
                cur.execute("SELECT count(*) FROM regions WHERE level = 'state'")
                return cur.fetchone()[0]
        finally:
            conns.close()

    with ThreadPoolExecutor(PROCESSES) as pool:
        assert list(pool.map(prepare, range(PROCESSES))) == [56] * PROCESSES


def test_an_advisory_lock_makes_its_holders_take_turns(settings: Settings) -> None:
    order: list[str] = []

    def second() -> None:
        with advisory_lock(settings.database_url, 1):
            order.append("second")

    with advisory_lock(settings.database_url, 1):
        waiting = threading.Thread(target=second)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive(), "the second holder did not wait"
        order.append("first")
    waiting.join(timeout=10)
    assert order == ["first", "second"]


def test_processes_generating_the_app_password_at_once_agree(settings: Settings, tmp_path: Path) -> None:
    generated = replace(settings, home=tmp_path / "home", app_password=None)
    start = threading.Barrier(PROCESSES)

    def generate(_: int) -> str:
        start.wait()
        return app_password(generated)

    with ThreadPoolExecutor(PROCESSES) as pool:
        passwords = set(pool.map(generate, range(PROCESSES)))
    assert len(passwords) == 1
    assert [p.name for p in generated.home.iterdir()] == ["app_password"]
    assert (generated.home / "app_password").read_text() == passwords.pop()


def test_accounts_geometry_is_indexed_point_4326(connections: Connections) -> None:
    with connections.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT type, srid FROM geometry_columns"
            " WHERE f_table_name = 'accounts' AND f_geometry_column = 'geom'"
        )
        assert cur.fetchone() == ("POINT", 4326)
        cur.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'accounts_geom_idx'")
        assert "USING gist" in cur.fetchone()[0]


def test_app_role_owns_nothing_and_cannot_bypass_rls(connections: Connections) -> None:
    with connections.app.transaction(user="alice") as cur:
        cur.execute(
            "SELECT session_user, rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb"
            " FROM pg_roles WHERE pg_has_role(session_user, oid, 'MEMBER') ORDER BY rolname"
        )
        assert cur.fetchall() == [
            (APP_ROLE, role, False, False, False, False)
            for role in ("gcrm_admin", APP_ROLE, "gcrm_marketer", "gcrm_scoped")
        ]
        cur.execute(
            "SELECT count(*) FROM pg_class"
            " WHERE relowner IN (SELECT oid FROM pg_roles WHERE pg_has_role(session_user, oid, 'MEMBER'))"
        )
        assert cur.fetchone()[0] == 0


def test_app_role_cannot_change_schema_or_boundaries(connections: Connections) -> None:
    with (
        pytest.raises(psycopg2.errors.InsufficientPrivilege),
        connections.app.transaction(user="t") as cur,
    ):
        cur.execute("DELETE FROM regions")
    with (
        pytest.raises(psycopg2.errors.InsufficientPrivilege),
        connections.app.transaction(user="t") as cur,
    ):
        cur.execute("CREATE TABLE sneaky (x int)")


def test_transaction_sets_the_user_for_that_transaction_only(connections: Connections) -> None:
    with connections.app.transaction(user="alice") as cur:
        cur.execute("SELECT current_setting('gcrm.user')")
        assert cur.fetchone() == ("alice",)
    with connections.app.transaction(user="bob") as cur:
        cur.execute("SELECT current_setting('gcrm.user')")
        assert cur.fetchone() == ("bob",)
        cur.execute("SELECT pg_backend_pid()")
    raw = psycopg2.connect(connections.app.dsn)
    with raw, raw.cursor() as cur:
        cur.execute("SELECT current_setting('gcrm.user', true)")
        assert cur.fetchone()[0] in (None, "")
    raw.close()


def test_transactions_reuse_pooled_connections(connections: Connections) -> None:
    backends = set()
    for _ in range(5):
        with connections.app.transaction(user="t") as cur:
            cur.execute("SELECT pg_backend_pid()")
            backends.add(cur.fetchone()[0])
    assert len(backends) == 1, "every transaction opened a new connection"


def test_a_prepared_statement_is_made_once_per_connection_and_outlives_a_rollback(
    connections: Connections,
) -> None:
    single = Database(connections.owner.dsn, max_connections=1)
    query = "SELECT %s::int * 2, '100%%' || %s::text"
    try:
        for value in (1, 2, 3):
            with single.transaction(user="t") as cur:
                execute_prepared(cur, query, [value, "x"])
                assert cur.fetchone() == (2 * value, "100%x")
        with pytest.raises(psycopg2.errors.DivisionByZero), single.transaction(user="t") as cur:
            execute_prepared(cur, query, [4, "y"])
            cur.execute("SELECT 1 / 0")
        with single.transaction(user="t") as cur:
            execute_prepared(cur, query, [5, "z"])
            assert cur.fetchone() == (10, "100%z")
            cur.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cur.fetchone()[0] == 1
            for number in range(PREPARED_PER_CONNECTION + 1):
                execute_prepared(cur, f"SELECT {number} + %s", [1])
            cur.execute("SELECT count(*) FROM pg_prepared_statements")
            assert 1 <= cur.fetchone()[0] <= PREPARED_PER_CONNECTION
    finally:
        single.close()


def test_more_transactions_than_connections_wait_for_one_instead_of_failing(connections: Connections) -> None:
    """Regression: 16 people signing in at once met psycopg2's "connection pool exhausted" traceback."""
    small = Database(connections.owner.dsn, max_connections=2)

    def work(number: int) -> int:
        with small.transaction(user="t") as cur:
            cur.execute("SELECT pg_sleep(0.1), %s", (number,))
            return cur.fetchone()[1]

    try:
        with ThreadPoolExecutor(8) as pool:
            assert list(pool.map(work, range(8))) == list(range(8))
    finally:
        small.close()


def test_a_transaction_that_gets_no_connection_in_time_gets_a_message(
    connections: Connections, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db_module, "POOL_WAIT_S", 0.2)
    single = Database(connections.owner.dsn, max_connections=1)
    try:
        busy = "All 1 database connections of this server were busy"
        with (
            single.transaction(user="t"),
            pytest.raises(DatabaseUnavailable, match=busy),
            single.transaction(user="t"),
        ):
            pass
        with single.transaction(user="t") as cur:
            cur.execute("SELECT 1")
            assert cur.fetchone() == (1,)
    finally:
        single.close()


def test_transaction_rolls_back_on_error(connections: Connections) -> None:
    with pytest.raises(RuntimeError), connections.app.transaction(user="t") as cur:
        cur.execute("INSERT INTO reps (external_id, name) VALUES ('R1', 'Rep One')")
        raise RuntimeError("abort")
    with connections.app.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM reps")
        assert cur.fetchone()[0] == 0


def test_a_statement_that_fails_undoes_the_whole_transaction_and_leaves_the_connection_clean(
    connections: Connections,
) -> None:
    """The pool's connections are in autocommit mode and the block ends with its own COMMIT or
    ROLLBACK: a failed statement must undo what came before it, and the next transaction on the
    same connection must start outside any transaction, with no setting of the failed one."""
    with pytest.raises(psycopg2.errors.UniqueViolation), connections.app.transaction(user="alice") as cur:
        cur.execute("SELECT pg_backend_pid()")
        failed_on = cur.fetchone()[0]
        cur.execute("INSERT INTO reps (external_id, name) VALUES ('R1', 'Rep One')")
        cur.execute("INSERT INTO reps (external_id, name) VALUES ('R1', 'Rep One again')")
    with connections.app.transaction(user="bob") as cur:
        cur.execute("SELECT pg_backend_pid(), current_setting('gcrm.user'), count(*) FROM reps")
        assert cur.fetchone() == (failed_on, "bob", 0)
    with connections.owner.transaction(user="t") as cur:
        cur.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'idle'", (failed_on,))
        assert cur.fetchone() == (1,)


def test_unreachable_database_gives_a_message() -> None:
    with closed_port() as port:
        db = Database(f"postgresql://nobody:secret@127.0.0.1:{port}/gcrm")
        with (
            pytest.raises(DatabaseUnavailable, match=r"Cannot reach the database at 127\.0\.0\.1:\d+"),
            db.transaction(user="t"),
        ):
            pass


def test_role_dsn_swaps_credentials() -> None:
    url = role_dsn("postgresql://owner:pw@db.example:6543/crm", role="gcrm_app", password="p@ss/word")
    assert url == "postgresql://gcrm_app:p%40ss%2Fword@db.example:6543/crm"
    params = psycopg2.extensions.parse_dsn(url)
    assert params["password"] == "p@ss/word" and params["host"] == "db.example"
    keyvalue = role_dsn("host=h dbname=d user=o", role="a", password="b")
    assert psycopg2.extensions.parse_dsn(keyvalue) == {
        "host": "h",
        "dbname": "d",
        "user": "a",
        "password": "b",
    }


def test_data_version_moves_with_writes_to_its_tables_only(connections: Connections) -> None:
    from geo.field.accounts import data_version

    before = data_version(connections.app, user="t")
    assert data_version(connections.app, user="t") == before
    with connections.app.transaction(user="t") as cur:
        cur.execute("INSERT INTO accounts (external_id, name) VALUES ('A-1', 'Acme')")
        cur.execute(
            "INSERT INTO interactions (account_id, kind, occurred_at)"
            " SELECT account_id, 'visit', now() FROM accounts WHERE external_id = 'A-1'"
        )
    after_account = data_version(connections.app, user="t")
    assert after_account != before
    visits = data_version(connections.app, user="t", tables=("interactions",))
    with connections.app.transaction(user="t") as cur:
        cur.execute("UPDATE interactions SET notes = 'x'")
    assert data_version(connections.app, user="t") == after_account
    assert data_version(connections.app, user="t", tables=("interactions",)) != visits
