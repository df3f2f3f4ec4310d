"""Benchmark: the cube at 1M accounts and ~5M orders, against a PostGIS spatial join.

Prints, in one run on a scratch database ``gcrm_bench`` (dropped at the end):

- region assignment of all accounts (state/county by vectorised spatial join, H3 r5/r7/r9),
  in this process and through dask-geopandas on a two-worker ``LocalCluster``;
- the cube facts load (COPY to Arrow);
- one cube query per level (all measures, one year), cold (first) and warm (repeated);
- the same accounts-and-revenue-per-county aggregate done by PostGIS with a spatial join
  (``ST_Intersects`` of accounts with county polygons), and by SQL ``GROUP BY`` on the stored
  key, side by side with the in-memory cube.

Usage::

    .venv/bin/python benchmarks/cube.py [--accounts 1000000] [--order-scale 1.6] [--seed 7]
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import geopandas as gpd
import shapely
from distributed import Client, LocalCluster

from geo import clock
from geo.analysis.cube import CUBE_MEASURES, Facts, cube, parse_period
from geo.config import load_settings
from geo.field.accounts import load_facts
from geo.ingest.whole_book import load_demo_book
from geo.places.distributed_keys import distributed_region_keys
from geo.places.regions import region_keys
from geo.store.bootstrap import owner_url, prepare_database
from geo.store.db import create_database, drop_database
from geo.store.shipped_data import read_counties

BENCH_DB = "gcrm_bench"
LEVELS = ["state", "county", "zip", "h3_5", "h3_6", "h3_7", "h3_8", "h3_9", "trade_area", "rep", "segment"]


def _last_full_year() -> str:
    """The last calendar year the demo book (three years up to today) holds in full."""
    return str(clock.today().year - 1)


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--order-scale", type=float, default=1.6)
    parser.add_argument("--seed", type=int, default=7)
    return parser


def main() -> None:
    """Run the benchmark and print its figures."""
    args = build_parser().parse_args()
    settings = load_settings()
    server = owner_url(settings)
    bench = replace(settings, database_url=create_database(server, BENCH_DB))
    try:
        connections = prepare_database(bench, operator="benchmark")
        started = time.perf_counter()
        loaded = load_demo_book(
            connections.owner,
            settings.data_dir,
            accounts=args.accounts,
            seed=args.seed,
            order_scale=args.order_scale,
        )
        print(
            f"demo book: {loaded['accounts']:,} accounts, {loaded['orders']:,} orders "
            f"loaded in {time.perf_counter() - started:.1f} s"
        )
        _region_assignment(connections, settings.data_dir)
        facts = _cube_levels(connections)
        _spatial_join(connections, facts)
        connections.close()
    finally:
        drop_database(server, BENCH_DB)


def _region_assignment(connections, data_dir) -> None:
    with connections.owner.transaction(user="benchmark") as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM accounts")
        rows = cur.fetchall()
    points = gpd.GeoSeries(shapely.points(rows), crs="EPSG:4326")
    counties = read_counties(data_dir)
    started = time.perf_counter()
    region_keys(points, counties)
    in_process = time.perf_counter() - started
    print(f"region assignment of {len(points):,} accounts (state, county, H3 r5/r7/r9): {in_process:.2f} s")
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        distributed_region_keys(points, counties, client=client)
        on_dask = time.perf_counter() - started
    print(
        f"  the same through dask-geopandas on a 2-worker LocalCluster: {on_dask:.2f} s "
        f"(x{on_dask / in_process:.1f}; pays off with more machines, not on one)"
    )


def _cube_levels(connections) -> Facts:
    started = time.perf_counter()
    facts = load_facts(connections.app, user="benchmark")
    print(f"facts load (COPY → Arrow): {time.perf_counter() - started:.2f} s")
    period = parse_period(_last_full_year())
    print(f"{'level':<10} {'members':>8} {'cold s':>8} {'warm s':>8}")
    for level in LEVELS:
        timings = []
        for _ in range(2):
            started = time.perf_counter()
            result = cube(facts, by=level, measures=list(CUBE_MEASURES), period=period)
            timings.append(time.perf_counter() - started)
        print(f"{level:<10} {len(result):>8,} {timings[0]:>8.3f} {timings[1]:>8.3f}")
    return facts


def _spatial_join(connections, facts: Facts) -> None:
    queries = {
        "PostGIS spatial join (ST_Intersects accounts × counties)": (
            "SELECT r.code, count(DISTINCT a.account_id), coalesce(sum(o.amount), 0)"
            " FROM regions r JOIN accounts a ON ST_Intersects(r.geom, a.geom)"
            " LEFT JOIN orders o ON o.account_id = a.account_id AND o.stage = 'won'"
            " AND o.order_date >= %(start)s AND o.order_date < %(end)s"
            " WHERE r.level = 'county' GROUP BY r.code"
        ),
        "PostgreSQL GROUP BY on the stored county key": (
            "SELECT a.county_fips, count(DISTINCT a.account_id), coalesce(sum(o.amount), 0)"
            " FROM accounts a LEFT JOIN orders o ON o.account_id = a.account_id AND o.stage = 'won'"
            " AND o.order_date >= %(start)s AND o.order_date < %(end)s"
            " GROUP BY a.county_fips"
        ),
    }
    period = parse_period(_last_full_year())
    started = time.perf_counter()
    cube(facts, by="county", measures=["accounts", "revenue"], period=period)
    in_memory = time.perf_counter() - started
    print(f"same aggregate (accounts and {period.label} revenue per county):")
    print(f"  in-memory cube (facts loaded, county codes cached): {in_memory:.3f} s")
    for label, query in queries.items():
        with connections.owner.transaction(user="benchmark") as cur:
            started = time.perf_counter()
            cur.execute(query, {"start": period.start, "end": period.end})
            cur.fetchall()
            elapsed = time.perf_counter() - started
        print(f"  {label}: {elapsed:.3f} s (x{elapsed / in_memory:.0f} the cube)")


if __name__ == "__main__":
    main()
