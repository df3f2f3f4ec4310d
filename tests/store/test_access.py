"""Row-level security as the real app role: each role sees only what it may, and nothing leaks.

Every table and view is read through the app role with a non-leakproof function in the
predicate that reports each row it is shown (``RAISE NOTICE``): PostgreSQL must apply the
policies before it, so the notices name only permitted rows. Expected rows are computed
independently, as the owner, from the territory hierarchy.
"""

from __future__ import annotations

import re
from collections import deque

import psycopg2
import psycopg2.errors
import pytest
from psycopg2 import sql

from geo import clock
from geo.config import APP_ROLE, Settings
from geo.errors import NearbyError, UnsafeAppRole
from geo.field.nearby import _nearest_query, account_history, log_visit, nearest_accounts
from geo.places.geodesy import haversine_m
from geo.store.bootstrap import Connections, check_app_role, prepare_database
from geo.store.db import Database, role_dsn
from geo.store.users import add_user, set_disabled

LEAK_FUNCTION = """
CREATE FUNCTION leak(tbl text, r text) RETURNS boolean LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    RAISE NOTICE 'leak|%|%', tbl, r;
    RETURN true;
END
$$;
GRANT EXECUTE ON FUNCTION leak(text, text) TO gcrm_app;
"""
SHARED = (
    "reps",
    "regions",
    "territories",
    "territory_versions",
    "territory_units",
    "territory_shapes",
    "branches",
    "trade_areas",
    "geocode_cache",
    "suppression_list",
    "region_facts",
)
"""Reference tables every signed-in user reads whole."""
BOOK = ("interactions", "orders", "campaign_members", "campaign_responses", "account_last_visits")
"""Tables whose rows belong to an account."""
PUBLIC = ("regions", "data_versions", "fact_catalogue", "road_vertices", "road_edges", "road_network")
"""Readable without a user (boundaries, change counters, what each region fact means, OpenStreetMap roads)."""
DENIED = ("app_users", "schema_migrations", "app_sessions", "sign_in_failures")
"""Whole rows the app role may not read at all (password hashes; migration bookkeeping; sessions)."""
USERS = ("admin", "manager", "marketer", "rep", "disabled_rep", "nobody")


def _owner_rows(cur, table: str, where: str, params: dict) -> set[str]:
    cur.execute(
        sql.SQL("SELECT t::text FROM {} t WHERE " + where).format(sql.Identifier(table)),
        params,
    )
    return {row[0] for row in cur.fetchall()}


def _scopes(cur) -> dict[str, list[int]]:
    """Territories each user's accounts may carry, from the hierarchy (not the policy functions)."""
    cur.execute("SELECT territory_id, parent_id, code, rep_id FROM territories")
    rows = cur.fetchall()
    children: dict[int | None, list[int]] = {}
    for territory_id, parent_id, _code, _rep in rows:
        children.setdefault(parent_id, []).append(territory_id)
    west = next(t for t, _p, code, _r in rows if code == "R-West")
    below, stack = [], [west]
    while stack:
        node = stack.pop()
        below.append(node)
        stack.extend(children.get(node, []))
    cur.execute("SELECT rep_id FROM app_users WHERE username = 'rep'")
    rep_id = cur.fetchone()[0]
    return {"manager": below, "rep": [t for t, _p, _c, r in rows if r == rep_id]}


def _expected(cur, table: str, user: str) -> set[str] | str:
    """Rows ``user`` may read from ``table``, or ``"denied"``."""
    if table in DENIED:
        return "denied"
    everything = _owner_rows(cur, table, "true", {})
    nothing: set[str] = set()
    if user in ("disabled_rep", "nobody"):
        return everything if table in PUBLIC else nothing
    if table in SHARED or table in PUBLIC:
        return everything
    if table in ("import_batches", "import_rejects", "audit_log"):
        return everything if user == "admin" else nothing
    if table == "campaigns":
        return nothing if user == "rep" else everything
    scope = _scopes(cur).get(user)
    in_scope = "account_id IN (SELECT account_id FROM accounts WHERE territory_id = ANY(%(scope)s))"
    if table == "accounts":
        return (
            everything
            if scope is None
            else _owner_rows(cur, table, "territory_id = ANY(%(scope)s)", {"scope": scope})
        )
    if table in BOOK:
        return everything if scope is None else _owner_rows(cur, table, in_scope, {"scope": scope})
    consent = "marketing_consent" if user == "marketer" else "true"
    if table == "contacts":
        where = consent if scope is None else f"{consent} AND {in_scope}"
        return _owner_rows(cur, table, where, {"scope": scope})
    if table == "contactable_contacts":
        where = "true" if scope is None else in_scope
        return _owner_rows(cur, table, where, {"scope": scope})
    msg = f"no expectation for {table}"
    raise AssertionError(msg)


@pytest.fixture
def secured(planned: tuple[Settings, Connections]) -> Connections:
    """The planned book with one row in every table, a disabled rep, and the leak function."""
    _settings, conns = planned
    with conns.owner.transaction(user="t") as cur:
        cur.execute(LEAK_FUNCTION)
        cur.execute(
            "SELECT rep_id, external_id FROM reps"
            " WHERE rep_id <> (SELECT rep_id FROM app_users WHERE username = 'rep') ORDER BY rep_id LIMIT 1"
        )
        other_rep = cur.fetchone()[1]
        cur.execute("INSERT INTO campaigns (name, created_by) VALUES ('Spring', 't') RETURNING campaign_id")
        campaign = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO campaign_members (campaign_id, account_id)"
            " SELECT %s, account_id FROM accounts WHERE account_id %% 3 = 0",
            (campaign,),
        )
        cur.execute(
            "INSERT INTO campaign_responses (campaign_id, account_id, kind, revenue)"
            " SELECT %s, account_id, 'conversion', 100 FROM accounts WHERE account_id %% 9 = 0",
            (campaign,),
        )
        cur.execute(
            "INSERT INTO import_batches (kind, filename, created_by)"
            " VALUES ('accounts', 'a.csv', 't') RETURNING batch_id"
        )
        batch = cur.fetchone()[0]
        cur.execute("INSERT INTO import_rejects (batch_id, line, reason) VALUES (%s, 3, 'no name')", (batch,))
        cur.execute(
            "INSERT INTO geocode_cache (query_key, provider, lon, lat, precision)"
            " VALUES ('60601', 'zip', -87.6, 41.9, 'postal')"
        )
        cur.execute(
            "INSERT INTO suppression_list (identifier_hash, reason)"
            " VALUES (gcrm_identifier_hash('gone@example.com'), 'objected')"
        )
        cur.execute(
            "INSERT INTO trade_areas (branch_id, method, geom)"
            " SELECT branch_id, 'ring', ST_Multi(ST_Buffer(geom, 0.1)) FROM branches LIMIT 2"
        )
        cur.execute("UPDATE contacts SET marketing_consent = (contact_id % 2 = 0)")
    add_user(conns.owner, "disabled_rep", role="rep", password="disabled-pass", actor="t", rep=other_rep)
    set_disabled(conns.owner, "disabled_rep", disabled=True, actor="t")
    return conns


def _tables(cur) -> list[str]:
    cur.execute(
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind IN ('r', 'v') AND c.relname NOT IN"
        " ('spatial_ref_sys', 'geometry_columns', 'geography_columns') ORDER BY 1"
    )
    return [row[0] for row in cur.fetchall()]


def _read_as(app: Database, table: str, user: str) -> tuple[set[str] | str, set[str]]:
    """Rows the app role returns to ``user`` and rows the leak function was shown."""
    try:
        with app.transaction(user=user) as cur:
            notices: deque[str] = deque()
            cur.connection.notices = notices
            cur.execute(
                sql.SQL("SELECT t::text FROM {} t WHERE leak(%s, t::text)").format(sql.Identifier(table)),
                (table,),
            )
            returned = {row[0] for row in cur.fetchall()}
    except psycopg2.errors.InsufficientPrivilege:
        return "denied", set()
    prefix = f"NOTICE:  leak|{table}|"
    seen = {n.strip()[len(prefix) :] for n in notices if n.startswith(prefix)}
    return returned, seen


def test_every_role_reads_only_permitted_rows_of_every_table_and_view(secured: Connections) -> None:
    with secured.owner.transaction(user="t") as cur:
        tables = _tables(cur)
        expected = {(table, user): _expected(cur, table, user) for table in tables for user in USERS}
    assert {"accounts", "contacts", "app_users", "audit_log", "contactable_contacts"} <= set(tables)
    for table in tables:
        for user in USERS:
            returned, seen = _read_as(secured.app, table, user)
            want = expected[(table, user)]
            assert returned == want, f"{user} reading {table}"
            if want != "denied":
                # The leak function saw exactly the returned rows: nothing the policies hide.
                assert seen == returned, f"{len(seen - want)} rows of {table} leaked to {user}"
    # The cases are not vacuous: each role sees some rows of the book and not all of them.
    for user in ("manager", "rep"):
        accounts = expected[("accounts", user)]
        assert 0 < len(accounts) < len(expected[("accounts", "admin")])
    assert 0 < len(expected[("contacts", "marketer")]) < len(expected[("contacts", "admin")])
    assert expected[("audit_log", "admin")] and not expected[("audit_log", "rep")]


def test_app_users_columns_without_hashes_are_readable_by_admins_only(secured: Connections) -> None:
    for user, visible in (("admin", None), ("rep", {"rep"}), ("nobody", set())):
        with secured.app.transaction(user=user) as cur:
            cur.execute("SELECT username FROM app_users")
            names = {row[0] for row in cur.fetchall()}
        assert names == visible if visible is not None else {"admin", "rep", "manager", "marketer"} <= names
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), secured.app.transaction(user="admin") as cur:
        cur.execute("SELECT password_hash FROM app_users")


def test_reps_edit_only_their_accounts(secured: Connections) -> None:
    with secured.owner.transaction(user="t") as cur:
        rep_territories = _scopes(cur)["rep"]
        cur.execute(
            "SELECT account_id FROM accounts WHERE territory_id = ANY(%s) LIMIT 1", (rep_territories,)
        )
        mine = cur.fetchone()[0]
        cur.execute(
            "SELECT account_id FROM accounts WHERE NOT territory_id = ANY(%s) LIMIT 1", (rep_territories,)
        )
        theirs = cur.fetchone()[0]
    with secured.app.transaction(user="rep") as cur:
        cur.execute("UPDATE accounts SET name = 'renamed' WHERE account_id IN (%s, %s)", (mine, theirs))
        assert cur.rowcount == 1
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), secured.app.transaction(user="rep") as cur:
        cur.execute("UPDATE accounts SET territory_id = NULL WHERE account_id = %s", (mine,))
    with pytest.raises(psycopg2.errors.InsufficientPrivilege), secured.app.transaction(user="rep") as cur:
        cur.execute(
            "INSERT INTO interactions (account_id, kind, occurred_at) VALUES (%s, 'visit', now())", (theirs,)
        )


def test_one_connection_used_by_two_users_in_turn_leaks_nothing(
    secured: Connections,
) -> None:
    with secured.owner.transaction(user="t") as cur:
        scopes = _scopes(cur)
        cur.execute("SELECT count(*) FROM accounts WHERE territory_id = ANY(%s)", (scopes["rep"],))
        rep_count = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM accounts WHERE territory_id = ANY(%s)", (scopes["manager"],))
        manager_count = cur.fetchone()[0]
    single = Database(secured.app.dsn, max_connections=1, role_per_user=True)
    seen = []
    for user in ("manager", "rep", "manager", "nobody", "rep"):
        with single.transaction(user=user) as cur:
            cur.execute("SELECT pg_backend_pid(), count(*) FROM accounts")
            seen.append(cur.fetchone())
    single.close()
    assert len({pid for pid, _count in seen}) == 1
    assert [count for _pid, count in seen] == [manager_count, rep_count, manager_count, 0, rep_count]
    # Outside a transaction that names a user, the same connection is nobody.
    connection = psycopg2.connect(secured.app.dsn)
    with connection, connection.cursor() as cur:
        cur.execute(
            "SELECT set_config('gcrm.user', 'admin', true), set_config('role', gcrm_db_role('admin'), true)"
        )
        cur.execute("SELECT current_user, (SELECT count(*) FROM accounts)")
        assert cur.fetchone() == ("gcrm_admin", 1_500)
    with connection, connection.cursor() as cur:
        cur.execute(
            "SELECT coalesce(current_setting('gcrm.user', true), ''), current_user,"
            " (SELECT count(*) FROM accounts)"
        )
        assert cur.fetchone() == ("", "gcrm_app", 0)
    connection.close()


def test_the_app_refuses_a_role_that_owns_tables_or_bypasses_security(
    planned: tuple[Settings, Connections],
) -> None:
    settings, conns = planned
    check_app_role(conns.app)
    with conns.owner.transaction(user="t") as cur:
        cur.execute("ALTER TABLE branches OWNER TO gcrm_app")
    with pytest.raises(UnsafeAppRole, match="owns 1 tables"):
        prepare_database(settings)
    with conns.owner.transaction(user="t") as cur:
        cur.execute("ALTER TABLE branches OWNER TO CURRENT_USER")
    for attribute in ("BYPASSRLS", "SUPERUSER"):
        with conns.owner.transaction(user="t") as cur:
            cur.execute(sql.SQL("ALTER ROLE {} " + attribute).format(sql.Identifier(APP_ROLE)))
        try:
            with pytest.raises(UnsafeAppRole, match="superuser" if attribute == "SUPERUSER" else "bypass"):
                check_app_role(
                    Database(
                        role_dsn(conns.app.dsn, role=APP_ROLE, password=settings.app_password),
                        role_per_user=True,
                    )
                )
        finally:
            with conns.owner.transaction(user="t") as cur:
                cur.execute(sql.SQL("ALTER ROLE {} NO" + attribute).format(sql.Identifier(APP_ROLE)))
    check_app_role(conns.app)


def test_every_table_forces_row_level_security_and_views_run_as_the_invoker(secured: Connections) -> None:
    with secured.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'"
            " AND relname <> 'spatial_ref_sys' AND NOT (relrowsecurity AND relforcerowsecurity)"
        )
        assert cur.fetchall() == []
        cur.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind = 'v' AND relname NOT IN ('geometry_columns', 'geography_columns')"
        )
        views = cur.fetchall()
    assert views and all("security_invoker=true" in (options or []) for _name, options in views), views


def test_policies_compare_stored_keys_not_geometry(secured: Connections) -> None:
    with secured.owner.transaction(user="t") as cur:
        cur.execute("SELECT tablename, coalesce(qual, '') || coalesce(with_check, '') FROM pg_policies")
        policies = cur.fetchall()
    assert len(policies) > 30
    assert not [name for name, text in policies if "st_" in text.lower() or "geom" in text.lower()]


def test_users_who_see_everything_keep_the_spatial_index(secured: Connections) -> None:
    """Regression: under a non-constant policy PostGIS's leaky && could not use the index.

    Every audience of an admin scanned all accounts (33 → 238 ms at 1M).
    """
    box = "ST_MakeEnvelope(-88, 41.6, -87.5, 42.1, 4326)"
    plans = {}
    roles = {"admin": "gcrm_admin", "marketer": "gcrm_marketer", "rep": "gcrm_scoped", "nobody": "gcrm_app"}
    for user, role in roles.items():
        with secured.app.transaction(user=user) as cur:
            cur.execute(f"EXPLAIN SELECT count(*) FROM accounts a WHERE a.geom && {box}")
            plans[user] = "\n".join(row[0] for row in cur.fetchall())
            cur.execute("SELECT current_user")
            assert cur.fetchone()[0] == role
    # Either GiST index over the geometry serves the box (the planner may take (territory_id, geom)).
    spatial = re.compile(r"Index Scan (using|on) accounts_(territory_)?geom_idx")
    assert spatial.search(plans["admin"]) and spatial.search(plans["marketer"]), plans
    assert "Seq Scan" not in plans["admin"] + plans["marketer"], plans
    # A rep's qual is the territory test alone, which the territory index can serve.
    assert "territory_id = ANY" in plans["rep"] and " OR " not in plans["rep"], plans["rep"]


def test_every_role_reads_the_roads_through_their_spatial_index(secured: Connections) -> None:
    """The road tables' policies are constant, so the box tests of pgRouting's edge queries use the index."""
    box = "ST_MakeEnvelope(24.9, 60.1, 25.0, 60.2, 4326)"
    for user in ("admin", "marketer", "rep", "nobody"):
        with secured.app.transaction(user=user) as cur:
            cur.execute("SET LOCAL enable_seqscan = off")
            cur.execute(
                f"EXPLAIN SELECT id, source, target, cost, reverse_cost FROM road_edges WHERE geom && {box}"
            )
            plan = "\n".join(row[0] for row in cur.fetchall())
            assert "road_edges_geom_idx" in plan, (user, plan)


def _nearest_plan(app: Database, user: str, lon: float, lat: float) -> str:
    query, params = _nearest_query(lon, lat, ["a.geom IS NOT NULL"], [], fetch=50, k=25, today=clock.today())
    with app.transaction(user=user) as cur:
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + query, params)
        return "\n".join(row[0] for row in cur.fetchall())


def _candidate_scans(plan: str) -> list[str]:
    """The scans of accounts that ran in the plan's KNN candidates (``never executed`` ones left out)."""
    lines = plan.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "CTE candidates")
    block = []
    for line in lines[start + 1 :]:
        if len(line) - len(line.lstrip()) <= 2:
            break
        block.append(line.strip())
    scans = [line for line in block if re.search(r"Scan (using|on) accounts", line) and "never" not in line]
    return scans + [line for line in block if line.startswith(("Index Cond", "Rows Removed"))]


def test_a_scoped_users_nearest_search_walks_only_their_territories(secured: Connections) -> None:
    """Regression: a rep's KNN scan of accounts_geom_idx walked and discarded every other territory's rows.

    GiST cannot order a scan under ``territory_id = ANY (…)``; the search runs one
    (territory_id, geography) scan per territory of the user (a rep's nearest 25: 20x an admin's).
    """
    lon, lat = -87.63, 41.88
    for user in ("rep", "manager"):
        plan = _nearest_plan(secured.app, user, lon, lat)
        scans = _candidate_scans(plan)
        index_scans = [line for line in scans if "Index Scan" in line]
        assert index_scans and all("accounts_territory_geog_idx" in line for line in index_scans), plan
        assert "Index Cond: (territory_id = t.territory_id)" in scans, plan
        assert not [line for line in scans if line.startswith("Rows Removed")], plan
    admin = _candidate_scans(_nearest_plan(secured.app, "admin", lon, lat))
    assert re.match(r"->  Index Scan using accounts_(territory_)?geog_idx on accounts", admin[0]), admin
    assert "Order By: ((geom)::geography <->" in _nearest_plan(secured.app, "admin", lon, lat)


@pytest.mark.parametrize("user", ["rep", "manager"])
@pytest.mark.parametrize(("lon", "lat", "k"), [(-87.63, 41.88, 25), (-118.24, 34.05, 25), (-60.0, 70.0, 200)])
def test_a_scoped_users_nearest_equal_a_brute_force_ranking_of_their_accounts(
    secured: Connections, user: str, lon: float, lat: float, k: int
) -> None:
    with secured.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT account_id, ST_X(geom), ST_Y(geom) FROM accounts"
            " WHERE geom IS NOT NULL AND territory_id = ANY(%s)",
            (_scopes(cur)[user],),
        )
        own = cur.fetchall()
    assert len(own) > k // 4
    ids, lons, lats = (list(column) for column in zip(*own, strict=True))
    distances = haversine_m(lons, lats, lon, lat)
    expected = sorted(zip(distances, ids, strict=True))[:k]
    found = nearest_accounts(secured.app, lon, lat, k=k, user=user)
    assert found["account_id"].tolist() == [account for _d, account in expected]
    assert found["distance_m"].tolist() == pytest.approx([d for d, _a in expected], rel=1e-6)


@pytest.mark.parametrize("user", USERS)
def test_the_account_figures_function_gives_each_user_only_the_figures_of_accounts_they_see(
    secured: Connections, user: str
) -> None:
    """``gcrm_account_figures`` bypasses the child tables' policies, so it must apply the accounts' own.

    Asked for every account id, it returns the won revenue of the last 12 months and the last
    visit of exactly the accounts the user may read, with the values the owner computes.
    """
    today = clock.today()
    with secured.owner.transaction(user="t") as cur:
        cur.execute("UPDATE orders SET stage = 'won', order_date = %s - 30 WHERE order_id %% 2 = 0", (today,))
        cur.execute(
            "SELECT a.account_id, coalesce((SELECT sum(o.amount) FROM orders o"
            " WHERE o.account_id = a.account_id AND o.stage = 'won'"
            " AND o.order_date > %s - interval '12 months' AND o.order_date <= %s), 0)::float,"
            " (SELECT v.last_visit_at FROM account_last_visits v WHERE v.account_id = a.account_id)"
            " FROM accounts a",
            (today, today),
        )
        figures = {row[0]: (pytest.approx(row[1]), row[2]) for row in cur.fetchall()}
        visible = {int(row.split(",")[0].lstrip("(")) for row in _expected(cur, "accounts", user)}
    with secured.app.transaction(user=user) as cur:
        cur.execute("SELECT * FROM gcrm_account_figures(%s, %s)", (sorted(figures), today))
        found = {row[0]: (row[1], row[2]) for row in cur.fetchall()}
    assert set(found) == visible
    assert found == {account: figures[account] for account in visible}
    if user in ("admin", "rep"):
        assert any(won > 0 for won, _visit in found.values())
        assert any(visit is not None for _won, visit in found.values())


def test_one_connection_switching_users_keeps_each_users_policies_in_its_prepared_nearest_search(
    secured: Connections,
) -> None:
    """The nearest search is a prepared statement reused across the transactions of a pooled
    connection; PostgreSQL must re-plan it for each role, so a rep never gets an admin's plan."""
    lon, lat = -87.63, 41.88
    with secured.owner.transaction(user="t") as cur:
        visible = {user: _expected(cur, "accounts", user) for user in ("admin", "manager", "rep")}
    ids = {user: {int(row.split(",")[0].lstrip("(")) for row in rows} for user, rows in visible.items()}
    single = Database(secured.app.dsn, max_connections=1, role_per_user=True)
    try:
        for _round in range(7):
            for user in ("admin", "rep", "manager", "rep"):
                found = nearest_accounts(single, lon, lat, k=60, user=user)
                assert set(found["account_id"]) <= ids[user], user
                assert len(found) == min(60, len(ids[user]))
    finally:
        single.close()


def test_the_app_role_has_a_statement_timeout(secured: Connections) -> None:
    with secured.app.transaction(user="admin") as cur:
        cur.execute("SHOW statement_timeout")
        assert cur.fetchone()[0] == "1min"
        with pytest.raises(psycopg2.errors.QueryCanceled):
            cur.execute("SET LOCAL statement_timeout = '50ms'; SELECT pg_sleep(1)")


def test_a_rep_logs_visits_on_their_accounts_only(secured: Connections) -> None:
    with secured.owner.transaction(user="t") as cur:
        rep_territories = _scopes(cur)["rep"]
        cur.execute(
            "SELECT external_id FROM accounts WHERE territory_id = ANY(%s) ORDER BY account_id LIMIT 1",
            (rep_territories,),
        )
        mine = cur.fetchone()[0]
        cur.execute(
            "SELECT external_id FROM accounts WHERE NOT territory_id = ANY(%s) ORDER BY account_id LIMIT 1",
            (rep_territories,),
        )
        theirs = cur.fetchone()[0]
    visit = log_visit(secured.app, mine, outcome="Met the buyer", notes="", user="rep")
    with secured.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT i.rep_id = u.rep_id FROM interactions i, app_users u"
            " WHERE i.interaction_id = %s AND u.username = 'rep'",
            (visit,),
        )
        assert cur.fetchone() == (True,)
    history = account_history(secured.app, mine, user="rep")
    assert history.iloc[0]["detail"] == "Met the buyer"
    with pytest.raises(NearbyError, match="No account"):
        log_visit(secured.app, theirs, outcome="Met the buyer", notes="", user="rep")


def test_the_won_orders_of_a_list_of_accounts_are_read_from_an_index_alone(secured: Connections) -> None:
    """Migration 023: the figures' won revenue by account and date needs no heap page (orders_won_idx).

    Vacuumed and analysed, with sequential and bitmap scans turned off, the small test book
    shows the plan a large book gets: an index-only scan serves the figures' query.
    """
    today = clock.today()
    vacuum = psycopg2.connect(secured.owner.dsn)
    vacuum.autocommit = True
    with vacuum.cursor() as cur:
        cur.execute("VACUUM ANALYZE orders")
    vacuum.close()
    with secured.owner.transaction(user="t") as cur:
        cur.execute("SELECT array_agg(account_id) FROM (SELECT account_id FROM accounts LIMIT 25) a")
        ids = cur.fetchone()[0]
        cur.execute("SELECT set_config('enable_seqscan', 'off', true)")
        cur.execute("SELECT set_config('enable_bitmapscan', 'off', true)")
        cur.execute(
            "EXPLAIN (COSTS OFF) SELECT o.account_id, sum(o.amount) FROM orders o"
            " WHERE o.account_id = ANY (%s::bigint[]) AND o.stage = 'won'"
            " AND o.order_date > %s - interval '12 months' AND o.order_date <= %s GROUP BY o.account_id",
            (ids, today, today),
        )
        plan = "\n".join(row[0] for row in cur.fetchall())
    assert "Index Only Scan using orders_won_idx on orders" in plan, plan
