"""Connections, the one ``transaction(user=…)`` helper, and the migrations runner.

Every query in gcrm runs inside :meth:`Database.transaction`, which sets the
acting user with ``SET LOCAL`` semantics (``set_config(…, true)``) so that
row-level security policies and the audit log can read it as
``current_setting('gcrm.user')``.
"""

from __future__ import annotations

import hashlib
import io
import re
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from urllib.parse import quote, urlsplit, urlunsplit

import numpy as np
import pandas as pd
import psycopg2
import psycopg2.extensions
import psycopg2.sql
import pyarrow as pa
import pyarrow.csv as pa_csv
import shapely
from psycopg2.pool import ThreadedConnectionPool

from geo.config import APP_ROLE
from geo.errors import DatabaseUnavailable, MigrationError

STORAGE_CRS = "EPSG:4326"
"""Every stored geometry is longitude/latitude on WGS 84."""
CONNECT_TIMEOUT_S = 5
POOL_MAX_CONNECTIONS = 8
POOL_IDLE_CONNECTIONS = 2
"""Connections kept open between transactions (psycopg2's pool closes returned ones beyond this)."""
POOL_WAIT_S = 30
"""How long a transaction waits for a free connection before it gives up with a message."""
SYSTEM_USER = "system"
"""User name recorded for work done by gcrm itself (migrations, demo data)."""
BOOK_WRITE_TIMEOUT = "30min"
"""Statement timeout of a verb that rewrites the whole book (the app role's is 60 s, migration 002)."""
CONNECTION_ERRORS = (psycopg2.OperationalError, psycopg2.InterfaceError)
"""What a connection raises when the server is gone; such a connection is discarded, never reused."""
PREPARED_PER_CONNECTION = 64
"""Prepared statements a connection keeps before :func:`execute_prepared` deallocates them all."""
_MIGRATION_LOCK_KEY = 7_346_211
_PLACEHOLDER = re.compile(r"%%|%s")
_prepared: weakref.WeakKeyDictionary[psycopg2.extensions.connection, set[str]] = weakref.WeakKeyDictionary()
_prepared_lock = threading.Lock()
_MIGRATION_FILE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


class Database:
    """A pool of connections to one database as one role.

    Parameters
    ----------
    dsn
        libpq URL or key/value string.
    max_connections
        Upper bound of pooled connections (Streamlit serves sessions on threads).
    role_per_user
        Switch each transaction to the database role of its user (``gcrm_db_role``):
        the app role's pool does, the owner's does not.
    """

    def __init__(
        self, dsn: str, *, max_connections: int = POOL_MAX_CONNECTIONS, role_per_user: bool = False
    ) -> None:
        self.dsn = dsn
        self.role_per_user = role_per_user
        self._max_connections = max_connections
        self._pool: ThreadedConnectionPool | None = None
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_connections)

    @contextmanager
    def transaction(self, *, user: str) -> Iterator[psycopg2.extensions.cursor]:
        """Run the block in one transaction acting as ``user``.

        Parameters
        ----------
        user
            The real user (not the database role) the work is done for.

        Yields
        ------
        cursor
            A cursor inside the transaction; committed when the block ends,
            rolled back when it raises.
        """
        conn = self._begin(user)
        broken = False
        try:
            with conn.cursor() as cur:
                try:
                    yield cur
                except BaseException:
                    _roll_back(cur)
                    raise
                cur.execute("COMMIT")
        except CONNECTION_ERRORS as exc:
            broken = True
            raise DatabaseUnavailable(_lost_message(exc)) from exc
        finally:
            idle = (
                conn.closed == 0
                and conn.info.transaction_status == psycopg2.extensions.TRANSACTION_STATUS_IDLE
            )
            self._release(conn, broken=broken or not idle)

    def close(self) -> None:
        """Close every pooled connection."""
        with self._lock:
            if self._pool is not None:
                self._pool.closeall()
                self._pool = None

    def _begin(self, user: str) -> psycopg2.extensions.connection:
        """Take a pooled connection and open a transaction acting as ``user`` on it.

        The connection is in autocommit mode and the transaction is opened by this one
        statement (``BEGIN`` and the settings in one round trip; psycopg2 would send its
        own ``BEGIN`` first), then ended by :meth:`transaction` with ``COMMIT`` or ``ROLLBACK``.

        An idle connection the server has dropped (it restarted, or was down for a while)
        fails on this first statement, before any work: it is discarded and the next one
        tried, until a new connection is opened, so the pool recovers on its own once the
        database is back.
        """
        failure: Exception | None = None
        for _attempt in range(POOL_IDLE_CONNECTIONS + 1):
            conn = self._get_connection()
            try:
                if not conn.autocommit:
                    conn.autocommit = True
                with conn.cursor() as cur:
                    if self.role_per_user:
                        cur.execute(
                            "BEGIN; SELECT set_config('gcrm.user', %s, true),"
                            " set_config('role', gcrm_db_role(%s), true)",
                            (user, user),
                        )
                    else:
                        cur.execute("BEGIN; SELECT set_config('gcrm.user', %s, true)", (user,))
            except CONNECTION_ERRORS as exc:
                self._release(conn, broken=True)
                failure = exc
                continue
            except BaseException:
                self._release(conn, broken=True)
                raise
            return conn
        raise DatabaseUnavailable(_lost_message(failure)) from failure

    def _get_connection(self) -> psycopg2.extensions.connection:
        """Take a connection, waiting up to :data:`POOL_WAIT_S` while all of them are in use.

        psycopg2's pool raises at once when every connection is out; sixteen people signing
        in together would see a traceback. A semaphore of the pool's size makes them queue.
        """
        if not self._slots.acquire(timeout=POOL_WAIT_S):
            msg = (
                f"All {self._max_connections} database connections of this server were busy for"
                f" {POOL_WAIT_S} s; try again in a moment."
            )
            raise DatabaseUnavailable(msg)
        try:
            return self._connection_from_pool()
        except BaseException:
            self._slots.release()
            raise

    def _connection_from_pool(self) -> psycopg2.extensions.connection:
        try:
            with self._lock:
                if self._pool is None:
                    self._pool = ThreadedConnectionPool(
                        min(POOL_IDLE_CONNECTIONS, self._max_connections),
                        self._max_connections,
                        self.dsn,
                        connect_timeout=CONNECT_TIMEOUT_S,
                    )
                pool = self._pool
            return pool.getconn()
        except psycopg2.OperationalError as exc:
            raise DatabaseUnavailable(_unavailable_message(self.dsn, exc)) from exc

    def _release(self, conn: psycopg2.extensions.connection, *, broken: bool) -> None:
        try:
            with self._lock:
                if self._pool is not None:
                    self._pool.putconn(conn, close=broken)
                else:
                    conn.close()
        finally:
            self._slots.release()


def _roll_back(cur: psycopg2.extensions.cursor) -> None:
    """End the failed block's transaction; a connection that is gone needs no rollback (it is discarded)."""
    if cur.connection.closed:
        return
    try:
        cur.execute("ROLLBACK")
    except CONNECTION_ERRORS:
        return


def connect(dsn: str) -> psycopg2.extensions.connection:
    """Open one connection, turning an unreachable server into :class:`DatabaseUnavailable`.

    Parameters
    ----------
    dsn
        libpq URL or key/value string.

    Returns
    -------
    connection
        An open psycopg2 connection.
    """
    try:
        return psycopg2.connect(dsn, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg2.OperationalError as exc:
        raise DatabaseUnavailable(_unavailable_message(dsn, exc)) from exc


def execute_prepared(cur: psycopg2.extensions.cursor, query: str, params: Sequence) -> None:
    """Run a hot query as a prepared statement of its connection: parsed once, its plan reused.

    A query that runs many times a minute with new values (the nearest accounts of a
    position) spends more time being parsed, rewritten under row-level security and
    planned than running. Its text names a statement (``PREPARE``) on first use per
    connection, and each call only binds the values (``EXECUTE``). PostgreSQL re-plans it
    when the role of the transaction differs from the one the plan was made for, so the
    policies stay those of the acting user. Prepared statements outlive a rolled-back
    transaction, and a connection holds at most :data:`PREPARED_PER_CONNECTION`.

    Parameters
    ----------
    cur
        A cursor inside a transaction.
    query
        SQL with ``%s`` placeholders (``%%`` for a percent sign), the same for every call;
        write values the planner should see (a ``LIMIT``) into the text as integers.
    params
        One value per placeholder.
    """
    name = "gcrm_" + hashlib.blake2b(query.encode(), digest_size=8).hexdigest()
    with _prepared_lock:
        names = _prepared.setdefault(cur.connection, set())
    if name not in names:
        if len(names) >= PREPARED_PER_CONNECTION:
            cur.execute("DEALLOCATE ALL")
            names.clear()
        numbers = iter(range(1, len(params) + 1))
        numbered = _PLACEHOLDER.sub(
            lambda match: "%" if match.group() == "%%" else f"${next(numbers)}", query
        )
        cur.execute(
            psycopg2.sql.SQL("PREPARE {} AS ").format(psycopg2.sql.Identifier(name))
            + psycopg2.sql.SQL(numbered)
        )
        names.add(name)
    values = psycopg2.sql.SQL(" ({})").format(
        psycopg2.sql.SQL(", ").join([psycopg2.sql.Placeholder()] * len(params))
    )
    cur.execute(
        psycopg2.sql.SQL("EXECUTE {}{}").format(
            psycopg2.sql.Identifier(name), values if params else psycopg2.sql.SQL("")
        ),
        list(params),
    )


def allow_long_statements(cur: psycopg2.extensions.cursor, timeout: str = BOOK_WRITE_TIMEOUT) -> None:
    """Lift the app role's statement timeout for the rest of the caller's transaction.

    For the verbs that rewrite the whole book (publishing a plan routes every account), whose
    statements outlast the timeout that guards the app's interactive queries.

    Parameters
    ----------
    cur
        A cursor inside the caller's transaction.
    timeout
        The timeout until the transaction ends, as PostgreSQL reads it (``"30min"``).
    """
    cur.execute("SELECT set_config('statement_timeout', %s, true)", (timeout,))


@contextmanager
def advisory_lock(dsn: str, key: int) -> Iterator[None]:
    """Hold a session-level advisory lock on the database of ``dsn`` while the block runs.

    Processes running such blocks on the same database take turns. The lock belongs to a
    connection of its own, so a process that dies releases it.

    Parameters
    ----------
    dsn
        libpq URL or key/value string.
    key
        The lock's number (``pg_advisory_lock``).

    Yields
    ------
    None
        Once the lock is held.
    """
    conn = connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (key,))
        yield
    finally:
        conn.close()


def can_log_in(dsn: str) -> bool:
    """Tell whether ``dsn`` opens a connection (its role may log in with its password).

    Parameters
    ----------
    dsn
        libpq URL or key/value string.

    Returns
    -------
    bool
        False when the server refuses the connection or cannot be reached.
    """
    try:
        connect(dsn).close()
    except DatabaseUnavailable:
        return False
    return True


def copy_frame(cur: psycopg2.extensions.cursor, table: str, frame: pd.DataFrame) -> None:
    """Bulk-load ``frame`` into ``table`` with ``COPY … FROM STDIN`` (CSV).

    Missing values (None, NaN, NA) become NULL; columns map by name. A table under
    row-level security (PostgreSQL refuses COPY into it) is loaded through a
    temporary staging table and one ``INSERT … SELECT``, which the policies check.

    Parameters
    ----------
    cur
        A cursor inside the caller's transaction.
    table
        Target table (often a temporary staging table).
    frame
        Rows to load; integer columns that may be missing should use ``Int64``.
    """
    cur.execute("SELECT relrowsecurity FROM pg_class WHERE oid = %s::regclass", (table,))
    guarded = cur.fetchone()[0]
    columns = psycopg2.sql.SQL(", ").join(psycopg2.sql.Identifier(c) for c in frame.columns)
    target = psycopg2.sql.Identifier(table)
    if guarded:
        cur.execute(
            psycopg2.sql.SQL(
                "DROP TABLE IF EXISTS pg_temp.copy_stage;"
                " CREATE TEMP TABLE copy_stage ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA"
            ).format(columns, target)
        )
    buffer = io.StringIO()
    frame.to_csv(buffer, index=False, header=False, na_rep="")
    buffer.seek(0)
    statement = psycopg2.sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        psycopg2.sql.Identifier("copy_stage") if guarded else target, columns
    )
    cur.copy_expert(statement, buffer)
    if guarded:
        cur.execute(
            psycopg2.sql.SQL("INSERT INTO {} ({}) SELECT {} FROM copy_stage").format(target, columns, columns)
        )


def fetch_frame(cur: psycopg2.extensions.cursor) -> pd.DataFrame:
    """The rows of the query ``cur`` last ran, named as the query names its columns.

    Parameters
    ----------
    cur
        A cursor that has just executed a SELECT.

    Returns
    -------
    DataFrame
        One row per fetched row; no rows still has the query's columns.
    """
    return pd.DataFrame(cur.fetchall(), columns=[column.name for column in cur.description])


def copy_out(
    cur: psycopg2.extensions.cursor, query: psycopg2.sql.Composable | str, *, types: dict
) -> pd.DataFrame:
    """Run ``COPY (query) TO STDOUT`` as CSV and parse it with pyarrow (fast for millions of rows).

    Parameters
    ----------
    cur
        A cursor inside the caller's transaction.
    query
        A SELECT without parameters.
    types
        Column → pyarrow type name (``string``, ``int64``, ``float64``, ``date32``, ``bool``).

    Returns
    -------
    DataFrame
        The rows, columns in query order.
    """
    buffer = io.BytesIO()
    statement = psycopg2.sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
        psycopg2.sql.SQL(query) if isinstance(query, str) else query
    )
    cur.copy_expert(statement, buffer)
    buffer.seek(0)
    options = pa_csv.ConvertOptions(
        column_types={name: pa.type_for_alias(kind) for name, kind in types.items()},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
    )
    return pa_csv.read_csv(buffer, convert_options=options).to_pandas(types_mapper=_pandas_type)


def _pandas_type(arrow_type: pa.DataType):
    if pa.types.is_string(arrow_type):
        return pd.StringDtype("pyarrow")
    return None


def ewkb_hex(geometry: pd.Series | np.ndarray, *, srid: int = 4326) -> np.ndarray:
    """Serialise geometries to hex EWKB (what PostGIS reads from text), vectorised.

    Parameters
    ----------
    geometry
        Shapely geometries; None stays None.
    srid
        SRID written into each value.

    Returns
    -------
    ndarray
        Hex strings.
    """
    with_srid = shapely.set_srid(np.asarray(geometry, dtype=object), srid)
    return shapely.to_wkb(with_srid, hex=True, include_srid=True)


def create_database(server_dsn: str, name: str, *, template: str | None = None) -> str:
    """Create a database on the server of ``server_dsn`` (replacing one of that name).

    Parameters
    ----------
    server_dsn
        A URL of a role allowed to create databases.
    name
        The new database.
    template
        Database to copy (``CREATE DATABASE … TEMPLATE``); None for an empty one.

    Returns
    -------
    str
        ``server_dsn`` pointing at the new database.
    """
    drop_database(server_dsn, name)
    statement = psycopg2.sql.SQL("CREATE DATABASE {}").format(psycopg2.sql.Identifier(name))
    if template is not None:
        statement += psycopg2.sql.SQL(" TEMPLATE {}").format(psycopg2.sql.Identifier(template))
    _autocommit(server_dsn, statement)
    if "://" not in server_dsn:
        return psycopg2.extensions.make_dsn(server_dsn, dbname=name)
    return urlunsplit(urlsplit(server_dsn)._replace(path="/" + name))


def drop_database(server_dsn: str, name: str) -> None:
    """Drop a database if it exists, closing its connections.

    Parameters
    ----------
    server_dsn
        A URL of a role allowed to drop it.
    name
        The database.
    """
    _autocommit(
        server_dsn,
        psycopg2.sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(psycopg2.sql.Identifier(name)),
    )


def _autocommit(dsn: str, statement: psycopg2.sql.Composable) -> None:
    conn = connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def role_dsn(owner_dsn: str, *, role: str, password: str) -> str:
    """Return ``owner_dsn`` with its user and password replaced.

    Parameters
    ----------
    owner_dsn
        The owner's libpq URL or key/value string.
    role
        Login role to use instead.
    password
        That role's password.

    Returns
    -------
    str
        The same server and database as ``role``: a URL when given a URL,
        otherwise a key/value string.
    """
    if "://" not in owner_dsn:
        return psycopg2.extensions.make_dsn(owner_dsn, user=role, password=password)
    parts = urlsplit(owner_dsn)
    host = parts.netloc.rsplit("@", 1)[-1]
    netloc = f"{quote(role, safe='')}:{quote(password, safe='')}@{host}"
    return urlunsplit(parts._replace(netloc=netloc))


def migrate(owner: Database) -> list[str]:
    """Apply the pending migrations of ``geo/store/migrations/`` in order, each in its own transaction.

    Safe to run concurrently and repeatedly: an advisory lock serialises
    runners and the ``schema_migrations`` table records what is applied.

    Parameters
    ----------
    owner
        The database as its owner role.

    Returns
    -------
    list of str
        File names of the migrations applied by this call.
    """
    applied: list[str] = []
    for version, name, text in _migration_files():
        with owner.transaction(user=SYSTEM_USER) as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK_KEY,))
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version integer PRIMARY KEY, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            cur.execute("SELECT 1 FROM schema_migrations WHERE version = %s", (version,))
            if cur.fetchone() is not None:
                continue
            if version == 1:
                _require_postgis(cur)
            try:
                cur.execute(text)
            except psycopg2.Error as exc:
                msg = f"Migration {name} failed: {_first_line(exc)}"
                raise MigrationError(msg) from exc
            cur.execute("INSERT INTO schema_migrations (version, name) VALUES (%s, %s)", (version, name))
            applied.append(name)
    return applied


def set_app_password(owner: Database, password: str) -> None:
    """Give the app role its login password.

    Parameters
    ----------
    owner
        The database as a role allowed to alter the app role.
    password
        The password the app will connect with.
    """
    with owner.transaction(user=SYSTEM_USER) as cur:
        cur.execute(
            psycopg2.sql.SQL("ALTER ROLE {} WITH LOGIN PASSWORD %s").format(
                psycopg2.sql.Identifier(APP_ROLE)
            ),
            (password,),
        )


def _migration_files() -> list[tuple[int, str, str]]:
    folder = resources.files("geo.store") / "migrations"
    found = []
    for entry in folder.iterdir():
        match = _MIGRATION_FILE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    return sorted(found)


def _require_postgis(cur: psycopg2.extensions.cursor) -> None:
    cur.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
    if cur.fetchone() is None:
        msg = (
            "PostGIS is not available on this PostgreSQL server; install the package "
            "postgresql-<major>-postgis-3 (or run `make setup` for the embedded server)."
        )
        raise MigrationError(msg)


def _unavailable_message(dsn: str, exc: Exception) -> str:
    params = psycopg2.extensions.parse_dsn(dsn)
    where = f"{params.get('host', 'local socket')}:{params.get('port', 5432)}"
    return (
        f"Cannot reach the database at {where} ({_first_line(exc)}). "
        "Start it with `gcrm db start`, or check DATABASE_URL."
    )


def _lost_message(exc: Exception | None) -> str:
    return f"Lost the connection to the database: {_first_line(exc)}"


def _first_line(exc: Exception | None) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
