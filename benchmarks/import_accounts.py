"""Benchmark: import 1M account rows end to end, and the offline gazetteer's lookup rate.

Prints, for a generated CSV of N accounts (default 1,000,000; 20% with coordinates,
ZIPs with dropped leading zeros and ZIP+4, some city-only and some junk rows):

- end-to-end import time (read, validate, geocode, region keys, COPY, upsert) and the
  time of a second, unchanged re-import;
- vectorised gazetteer lookups per second, against a per-row Python loop over the
  same tables measured in the same process (the baseline), and their ratio.

Runs in a scratch database ``gcrm_bench`` on the configured server (the embedded
one when ``DATABASE_URL`` is unset), dropped at the end. Usage::

    .venv/bin/python benchmarks/import_accounts.py [--rows 1000000] [--seed 1]
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from geo.config import load_settings
from geo.ingest.demo import generate_demo
from geo.ingest.files import read_table
from geo.ingest.geocode import geocode_addresses, load_gazetteer
from geo.ingest.importer import detect_mapping, run_import
from geo.store.bootstrap import owner_url, prepare_database
from geo.store.db import create_database, drop_database
from geo.store.shipped_data import read_cities, read_zips

BENCH_DB = "gcrm_bench"
BASELINE_ROWS = 200_000


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    return parser


def main() -> None:
    """Run the benchmark and print its figures."""
    args = build_parser().parse_args()
    settings = load_settings()
    frame = _accounts_file(settings.data_dir, args.rows, args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "accounts.csv"
        frame.to_csv(path, index=False)
        print(f"file: {args.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB")
        _lookups(frame, settings.data_dir)
        _import_twice(settings, path)


def _accounts_file(data_dir: Path, rows: int, seed: int) -> pd.DataFrame:
    book = generate_demo(read_zips(data_dir), read_cities(data_dir), accounts=rows, seed=seed)
    accounts = book.accounts
    rng = np.random.default_rng(seed)
    kind = rng.random(rows)
    zips = accounts["zip"].to_numpy(dtype=object)
    zips = np.where(kind < 0.05, np.char.lstrip(zips.astype(str), "0"), zips)
    zips = np.where((kind >= 0.05) & (kind < 0.10), np.char.add(zips.astype(str), "-1234"), zips)
    zips = np.where((kind >= 0.10) & (kind < 0.15), "", zips)
    coordinates = kind >= 0.80
    frame = pd.DataFrame(
        {
            "Customer ID": accounts["external_id"],
            "Customer Name": accounts["name"],
            "Industry": accounts["industry"],
            "Segment": accounts["segment"],
            "Status": accounts["status"],
            "Annual Revenue": accounts["annual_revenue"].astype(str),
            "Street": accounts["street"],
            "City": accounts["city"],
            "State": accounts["state"],
            "Zip Code": zips,
            "Latitude": np.where(coordinates, accounts.geometry.y.round(6).astype(str), ""),
            "Longitude": np.where(coordinates, accounts.geometry.x.round(6).astype(str), ""),
        }
    )
    junk = rng.random(rows) < 0.001
    frame.loc[junk, "Annual Revenue"] = "n/a"
    return frame


def _lookups(frame: pd.DataFrame, data_dir: Path) -> None:
    gazetteer = load_gazetteer(data_dir)
    addresses = frame.rename(
        columns={
            "Street": "street",
            "City": "city",
            "State": "state",
            "Zip Code": "postal_code",
            "Latitude": "latitude",
            "Longitude": "longitude",
        }
    )[["street", "city", "state", "postal_code", "latitude", "longitude"]].astype(str)
    started = time.perf_counter()
    placed = geocode_addresses(addresses, gazetteer)
    vectorised = len(addresses) / (time.perf_counter() - started)
    sample = addresses.head(BASELINE_ROWS)
    started = time.perf_counter()
    _per_row_baseline(sample, gazetteer)
    baseline = len(sample) / (time.perf_counter() - started)
    print(
        f"gazetteer lookups: {vectorised:,.0f} rows/s vectorised, {baseline:,.0f} rows/s per-row baseline "
        f"(x{vectorised / baseline:.1f})"
    )
    print("precision: " + ", ".join(f"{k}={v}" for k, v in placed["precision"].value_counts().items()))


def _per_row_baseline(addresses: pd.DataFrame, gazetteer) -> list[tuple[float, float] | None]:
    """The same ZIP → city → state chain, one row at a time over plain dicts (the naive way)."""
    zips = dict(
        zip(gazetteer.zips.index, zip(gazetteer.zips["lon"], gazetteer.zips["lat"], strict=True), strict=True)
    )
    places = dict(
        zip(
            gazetteer.places.index,
            zip(gazetteer.places["lon"], gazetteer.places["lat"], strict=True),
            strict=True,
        )
    )
    out = []
    for row in addresses.itertuples(index=False):
        digits = re.sub(r"[-\s]", "", row.postal_code.strip())
        zip_code = digits[:5] if len(digits) == 9 else digits.zfill(5) if 3 <= len(digits) <= 5 else None
        if zip_code in zips:
            out.append(zips[zip_code])
            continue
        state = gazetteer.state_codes.get(re.sub(r"[^a-z]+", " ", row.state.lower()).strip())
        city = re.sub(r"[^a-z0-9]+", " ", row.city.lower()).strip()
        out.append(places.get(f"{city}|{state}"))
    return out


def _import_twice(settings, path: Path) -> None:
    server = owner_url(settings)
    bench = replace(settings, database_url=create_database(server, BENCH_DB))
    try:
        connections = prepare_database(bench, operator="benchmark")
        for attempt in ("first import", "re-import"):
            started = time.perf_counter()
            table = read_table(path)
            read_s = time.perf_counter() - started
            mapping = detect_mapping(list(table.frame.columns), "accounts")
            summary = run_import(
                connections.app,
                "accounts",
                table,
                mapping=mapping,
                user="benchmark",
                data_dir=settings.data_dir,
                filename=path.name,
            )
            total = time.perf_counter() - started
            print(f"{attempt}: {total:.1f} s end to end (read {read_s:.1f} s) — {summary.line()}")
        connections.close()
    finally:
        drop_database(server, BENCH_DB)


if __name__ == "__main__":
    main()
