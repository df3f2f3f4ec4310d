"""Benchmark: what the market costs the cube, the trade areas and the map page.

Prints, in one run on a scratch database ``gcrm_bench_market`` (dropped at the end), on a
demo book of ``--accounts`` (or, with ``--existing``, on the configured database's book):

- one cube query per level with the book's measures, and the same query with the market
  measures added, warm (median of ``--repeats``), and their ratio;
- the market of every branch's rings (5, 10 and 25 km) estimated from the counties, first
  (building the places' discs) and warm;
- the white-space ranking of all counties, reading the book and with the book held (as the page does).

Usage::

    .venv/bin/python benchmarks/market.py [--accounts 1000000] [--seed 7] [--repeats 5]
    .venv/bin/python benchmarks/market.py --existing [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace

import geopandas as gpd

from geo.analysis.cube_answers import answer_cube
from geo.analysis.market_answers import area_market, white_space_regions
from geo.analysis.tradeareas import rings
from geo.config import load_settings
from geo.field.accounts import branches, load_facts
from geo.ingest.whole_book import load_demo_book
from geo.store.bootstrap import owner_url, prepare_database
from geo.store.db import create_database, drop_database

BENCH_DB = "gcrm_bench_market"
USER = "benchmark"
BOOK = ["accounts", "customers", "revenue", "account_share"]
MARKET = ["population", "households", "penetration", "penetration_households", "market_index"]
LEVELS = ["state", "county", "zip"]
RING_RADII_M = [5_000.0, 10_000.0, 25_000.0]


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--existing",
        action="store_true",
        help="Time the configured database's book instead of a scratch one.",
    )
    return parser


def main() -> None:
    """Run the benchmark and print its figures."""
    args = build_parser().parse_args()
    settings = load_settings()
    if args.existing:
        connections = prepare_database(settings, operator=USER)
        _measure(connections, settings, args.repeats)
        return
    server = owner_url(settings)
    bench = replace(settings, database_url=create_database(server, BENCH_DB))
    try:
        connections = prepare_database(bench, operator=USER)
        started = time.perf_counter()
        load_demo_book(connections.owner, settings.data_dir, accounts=args.accounts, seed=args.seed)
        print(f"demo book: {args.accounts:,} accounts loaded in {time.perf_counter() - started:.1f} s")
        _measure(connections, settings, args.repeats)
    finally:
        drop_database(server, BENCH_DB)


def _measure(connections, settings, repeats: int) -> None:
    facts = load_facts(connections.app, user=USER)
    print(f"book: {len(facts.accounts):,} accounts")
    for level in LEVELS:
        _compare(connections.app, settings, facts, level, repeats)
    areas = rings(branches(connections.app, user=USER), RING_RADII_M)
    first = _seconds(lambda: area_market(connections.app, settings.data_dir, areas.geometry, user=USER))
    warm = _median(
        repeats, lambda: area_market(connections.app, settings.data_dir, areas.geometry, user=USER)
    )
    print(f"market of {len(areas)} rings of all branches: first {first:.2f} s, warm {warm:.2f} s")
    ranked = _seconds(
        lambda: white_space_regions(connections.app, level="county", denominator="households", user=USER)
    )
    held = _seconds(
        lambda: white_space_regions(
            connections.app, level="county", denominator="households", user=USER, facts=facts
        )
    )
    print(f"white space of all counties: {ranked:.2f} s reading the book, {held:.2f} s held (the page)")
    connections.close()


def _compare(db, settings, facts, level: str, repeats: int) -> None:
    book = _median(repeats, lambda: _cube(db, settings, facts, level, BOOK))
    both = _median(repeats, lambda: _cube(db, settings, facts, level, BOOK + MARKET))
    print(
        f"cube by {level}: book {book * 1000:.0f} ms, with the market {both * 1000:.0f} ms"
        f" ({both / book:.2f}x)"
    )


def _cube(db, settings, facts, level: str, measures: list[str]) -> gpd.GeoDataFrame:
    return answer_cube(db, settings.data_dir, by=level, measures=measures, user=USER, facts=facts)


def _seconds(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _median(repeats: int, action) -> float:
    action()
    return statistics.median(_seconds(action) for _ in range(repeats))


if __name__ == "__main__":
    main()
