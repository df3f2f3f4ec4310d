"""Benchmark: ZIP and H3 estimates of county figures for every shipped county (no database).

Apportions four seeded count columns (``population``, ``households``, ``jobs_at_workplace``,
``business_establishments``; the timings do not depend on the values) for the counties of the
states and DC in ``data/counties.parquet`` (FIPS below 60: 3,141 of the 3,142, the boundaries
lack Falls Church, 51610) to the shipped ZIPs and to H3 cells at ``--resolution``, with
:mod:`geo.places.estimates`, weighted by the shipped places. Prints the time of each (the best
of ``--repeat`` runs), the zones made, and the largest relative error of the county totals
summed back over the zones.

Usage::

    .venv/bin/python benchmarks/estimates.py [--resolution 7] [--repeat 1] [--seed 16]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from geo.config import load_settings
from geo.places.estimates import h3_estimates, zip_estimates
from geo.store.shipped_data import read_cities, read_counties, read_zips

STATES_END = "60"
"""State FIPS codes of the states and DC lie below this; the territories' above."""
COLUMNS = ("population", "households", "jobs_at_workplace", "business_establishments")


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=int, default=7, help="H3 resolution, 5 to 9.")
    parser.add_argument("--repeat", type=int, default=1, help="Runs of each; the best is shown.")
    parser.add_argument("--seed", type=int, default=16)
    return parser


def main() -> None:
    """Build the ZIP and H3 estimates and print their times, sizes and sum-back errors."""
    args = build_parser().parse_args()
    data_dir = load_settings().data_dir
    counties, zips, places = read_counties(data_dir), read_zips(data_dir), read_cities(data_dir)
    counties = counties[counties["state_code"] < STATES_END]
    rng = np.random.default_rng(args.seed)
    figures = pd.DataFrame(
        rng.integers(1_000, 1_000_000, size=(len(counties), len(COLUMNS))).astype(float),
        index=pd.Index(counties["code"], name="code"),
        columns=list(COLUMNS),
    )
    print(f"{len(counties):,} counties, {len(zips):,} ZIPs, {len(places):,} places")
    runs = {
        "ZIP": lambda: zip_estimates(figures, counties, zips, places),
        f"H3 r{args.resolution}": lambda: h3_estimates(figures, counties, places, resolution=args.resolution),
    }
    for label, run in runs.items():
        seconds, estimates = _best(run, args.repeat)
        error = (estimates.sum() / figures.sum() - 1).abs().max()
        print(f"{label:>6}: {seconds:6.2f} s, {len(estimates):>9,} zones, sum-back error {error:.1e}")


def _best(run: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, pd.DataFrame]:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - start)
    return best, result


if __name__ == "__main__":
    main()
