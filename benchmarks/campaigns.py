"""Benchmark: field-rep and campaign queries on the stored book (load 1M accounts first).

Prints, on the configured database (``gcrm demo --accounts 1000000 --replace``):

- nearest 25 accounts through ``geo.field.nearby.nearest_accounts`` from 200 random account
  positions, each searched twice: p50 and p95 in milliseconds of the second pass (pages in
  memory, as a rep's area is on a server in use) and of the first, and the same search done without the index
  (exact distance to every account, ``ORDER BY ST_Distance``) once, as the baseline;
- in the same run, the raw KNN query of the engine (``ORDER BY geom <-> point LIMIT 25`` with the
  geography distance, as the owner, no row-level security) from the same positions, and the
  ratio of nearest 25 to it;
- nearest 25 as the demo rep (``rep``, row-level security scoped to their territories) and as an
  admin from 200 positions of the rep's own accounts: p50 and p95 of each and their ratio;
- the waterfall count of a county-sized drawn polygon (the bounding box of Cook County, IL,
  and of 20 other counties) with two filters (segment and status): p50 and p95; then the same
  for the demo manager (``manager``, scoped to a region) and an admin on the counties of that
  region, and their ratio;
- a route through 25 stops (nearest neighbour + 2-opt): time for 20 random sets.

Usage::

    .venv/bin/python benchmarks/campaigns.py
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import shapely

from geo.campaigns.audience import waterfall
from geo.campaigns.filters import Filters
from geo.campaigns.target import polygon_part
from geo.config import load_settings
from geo.field.nearby import nearest_accounts
from geo.field.routes import plan_route
from geo.store.bootstrap import prepare_database

USER = "benchmark"
REP = "rep"
"""The demo book's rep (see :data:`geo.store.users.DEMO_USERS`), timed against an admin."""
MANAGER = "manager"
"""The demo book's manager, whose audiences are timed against an admin's."""
SEED = 5
BUSY_COUNTIES = [
    "17031", "06073", "48201", "04013", "12086", "36047", "53033", "26163", "13121", "42101",
    "25017", "27053", "08031", "41051", "47157", "29189", "39035", "55079", "37119", "24031",
]  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (no options: the module docstring lists none)."""
    return argparse.ArgumentParser(description=__doc__.splitlines()[0])


def main() -> None:
    """Run the three measurements and print them."""
    build_parser().parse_args()
    connections = prepare_database(load_settings(), operator="benchmark")
    db = connections.app
    rng = np.random.default_rng(SEED)
    with db.transaction(user=USER) as cur:
        cur.execute("SELECT count(*) FROM accounts")
        total = cur.fetchone()[0]
        cur.execute(
            "SELECT ST_X(geom), ST_Y(geom) FROM accounts WHERE geom IS NOT NULL ORDER BY random() LIMIT 2000"
        )
        points = np.array(cur.fetchall())
        cur.execute(
            "SELECT code, ST_AsText(ST_Envelope(geom)) FROM regions"
            " WHERE level = 'county' AND code = ANY(%s)",
            (BUSY_COUNTIES,),
        )
        counties = {code: shapely.from_wkt(wkt) for code, wkt in cur.fetchall()}
    print(f"book: {total:,} accounts")
    positions = points[rng.choice(len(points), 200, replace=False)]
    nearest = _nearest(db, positions)
    _raw_knn(connections.owner, positions, nearest)
    _rep_against_admin(db, rng)
    _audience(db, counties)
    _routes(points, rng)
    connections.close()


def _nearest(db, positions: np.ndarray) -> list[float]:
    for lon, lat in positions[:5]:
        nearest_accounts(db, lon, lat, k=25, user=USER)
    first = _nearest_timings(db, positions)
    timings = _nearest_timings(db, positions)
    lon, lat = positions[0]
    with db.transaction(user=USER) as cur:
        started = time.perf_counter()
        cur.execute(
            "SELECT account_id FROM accounts WHERE geom IS NOT NULL ORDER BY"
            " ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, false)"
            " LIMIT 25",
            (float(lon), float(lat)),
        )
        cur.fetchall()
        baseline = 1000 * (time.perf_counter() - started)
    p50, p95 = np.percentile(timings, [50, 95])
    cold50, cold95 = np.percentile(first, [50, 95])
    print(
        f"nearest 25 (KNN on the sphere, with the figures of the list), {len(timings)} positions:"
        f" p50 {p50:.2f} ms, p95 {p95:.2f} ms with the pages in memory"
        f" (first visit of each position, pages maybe on disk: p50 {cold50:.2f} ms, p95 {cold95:.2f} ms)"
        f"  |  without the index (distance to every account): {baseline:.0f} ms (x{baseline / p95:.0f})"
    )
    return timings


def _nearest_timings(db, positions: np.ndarray, *, user: str = USER) -> list[float]:
    timings = []
    for lon, lat in positions:
        started = time.perf_counter()
        nearest_accounts(db, float(lon), float(lat), k=25, user=user)
        timings.append(1000 * (time.perf_counter() - started))
    return timings


def _raw_knn(owner, positions: np.ndarray, nearest: list[float]) -> None:
    """Time the engine's own KNN (as the owner) from the positions ``nearest`` was timed from."""
    query = (
        "WITH here AS (SELECT ST_SetSRID(ST_MakePoint(%s, %s), 4326) AS p)"
        " SELECT a.account_id, ST_Distance(a.geom::geography, here.p::geography, false)"
        " FROM accounts a, here WHERE a.geom IS NOT NULL ORDER BY a.geom <-> here.p LIMIT 25"
    )
    raw = []
    for _ in range(2):
        raw = []
        for lon, lat in positions:
            started = time.perf_counter()
            with owner.transaction(user=USER) as cur:
                cur.execute(query, (float(lon), float(lat)))
                cur.fetchall()
            raw.append(1000 * (time.perf_counter() - started))
    n50, n95 = np.percentile(nearest, [50, 95])
    r50, r95 = np.percentile(raw, [50, 95])
    print(
        f"raw KNN (ORDER BY geom <-> point LIMIT 25 + geography distance, as the owner),"
        f" same {len(positions)} positions: p50 {r50:.2f} ms, p95 {r95:.2f} ms"
        f"  |  nearest 25 of this run: p50 {n50:.2f} ms, p95 {n95:.2f} ms"
        f"  |  ratio nearest / raw: p50 x{n50 / r50:.1f}, p95 x{n95 / r95:.1f}"
    )


def _rep_against_admin(db, rng: np.random.Generator) -> None:
    """Time nearest 25 as the rep and as an admin from positions of the rep's own accounts."""
    with db.transaction(user=REP) as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM accounts WHERE geom IS NOT NULL ORDER BY account_id")
        own = np.array(cur.fetchall())
    if len(own) == 0:
        print(
            f"nearest 25 as a rep: skipped, {REP!r} sees no accounts"
            " (load the demo book and its territories: gcrm demo, gcrm territories seed)"
        )
        return
    positions = own[rng.choice(len(own), min(200, len(own)), replace=False)]
    timings = {}
    for user in (REP, USER):
        _nearest_timings(db, positions, user=user)
        timings[user] = np.percentile(_nearest_timings(db, positions, user=user), [50, 95])
    (rep50, rep95), (admin50, admin95) = timings[REP], timings[USER]
    print(
        f"nearest 25 from {len(positions)} positions of the rep's {len(own):,} accounts:"
        f" rep p50 {rep50:.2f} ms, p95 {rep95:.2f} ms  |  admin p50 {admin50:.2f} ms, p95 {admin95:.2f} ms"
        f"  |  ratio rep / admin: p50 x{rep50 / admin50:.2f}, p95 x{rep95 / admin95:.2f}"
    )


def _audience(db, counties: dict) -> None:
    shapes = list(counties.values())
    p50, p95, sizes = _waterfall_timings(db, shapes, user=USER)
    print(
        f"audience waterfall, county-sized polygon + segment and status filters ({len(shapes)} counties,"
        f" {min(sizes):,}–{max(sizes):,} accounts matched): p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )
    with db.transaction(user=MANAGER) as cur:
        cur.execute(
            "SELECT DISTINCT county_fips FROM accounts WHERE county_fips = ANY(%s) ORDER BY 1",
            (list(counties),),
        )
        own = [counties[code] for (code,) in cur.fetchall()]
    if not own:
        print(f"audience waterfall as a manager: skipped, {MANAGER!r} sees none of the counties")
        return
    timings = {user: _waterfall_timings(db, own, user=user) for user in (MANAGER, USER)}
    (man50, man95, man_sizes), (admin50, admin95, _sizes) = timings[MANAGER], timings[USER]
    print(
        f"audience waterfall on the {len(own)} counties of the manager's region"
        f" ({min(man_sizes):,}–{max(man_sizes):,} of the manager's accounts matched):"
        f" manager p50 {man50:.1f} ms, p95 {man95:.1f} ms"
        f"  |  admin p50 {admin50:.1f} ms, p95 {admin95:.1f} ms"
        f"  |  ratio manager / admin: p50 x{man50 / admin50:.2f}, p95 x{man95 / admin95:.2f}"
    )


def _waterfall_timings(db, shapes: list, *, user: str) -> tuple[float, float, list[int]]:
    """p50 and p95 in ms of the waterfall of each of ``shapes`` (three passes after a warm-up), and sizes."""
    filters = Filters(segments=("SMB", "Mid-Market"), statuses=("customer", "prospect"))
    for shape in shapes[:3]:
        waterfall(db, [polygon_part(shape)], filters, user=user)
    timings, sizes = [], []
    for _ in range(3):
        for shape in shapes:
            started = time.perf_counter()
            counts = waterfall(db, [polygon_part(shape)], filters, user=user)
            timings.append(1000 * (time.perf_counter() - started))
            sizes.append(int(counts["count"].iloc[0]))
    p50, p95 = np.percentile(timings, [50, 95])
    return float(p50), float(p95), sizes


def _routes(points: np.ndarray, rng: np.random.Generator) -> None:
    timings = []
    for _ in range(20):
        centre = points[rng.integers(len(points))]
        stops = pd.DataFrame(
            {
                "name": [f"stop {i}" for i in range(25)],
                "lon": centre[0] + rng.uniform(-0.3, 0.3, 25),
                "lat": centre[1] + rng.uniform(-0.2, 0.2, 25),
            }
        )
        started = time.perf_counter()
        plan_route((float(centre[0]), float(centre[1])), stops)
        timings.append(time.perf_counter() - started)
    print(f"route of 25 stops (nearest neighbour + 2-opt), 20 sets: max {max(timings) * 1000:.1f} ms")


if __name__ == "__main__":
    main()
