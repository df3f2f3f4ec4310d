"""Benchmark: territory alignment on the stored book against a spopt regionalisation baseline.

Load the dataset first (``gcrm demo --accounts 1000000 --replace``). Two cases, lower 48:

(a) the H3 resolution-6 cells holding accounts, into 50 territories balanced on accounts;
(b) the counties, into 50 territories balanced on accounts (a county larger than the target
    is its own territory, reported as oversized and left out of the mean).

For each it prints max deviation from the mean, contiguity, mean Polsby–Popper compactness
and time, for gcrm's alignment and — on the same units and graph, in the same run — for
spopt's regionalisation heuristics with a fixed number of regions: ``WardSpatial``
(contiguity-constrained Ward clustering of the unit centroids weighted by accounts) and,
where it finishes in reasonable time (up to ``REGION_KMEANS_MAX_UNITS`` units),
``RegionKMeansHeuristic``. spopt has no heuristic that balances a measure across a fixed
number of regions, so these are the closest baselines it offers.

Usage::

    .venv/bin/python benchmarks/align.py [--k 50] [--seed 0] [--case a|b]

spopt is not a dependency of gcrm: install the benchmark extra first
(``pip install -e '.[dev,bench]'``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
from libpysal.weights import WSP

from geo.config import load_settings
from geo.store.bootstrap import prepare_database
from territories.align import align_territories
from territories.book_alignment import load_units, lower_48_states
from territories.graph import unit_centroids, unit_graph
from territories.metrics import alignment_report
from territories.reach import unit_out_of_reach

REGION_KMEANS_MAX_UNITS = 5_000


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case", choices=["a", "b"], help="Only (a) H3 r6 or (b) counties; default both.")
    return parser


def main() -> None:
    """Run both cases and print the figures."""
    args = build_parser().parse_args()
    settings = load_settings()
    connections = prepare_database(settings, operator="benchmark")
    db = connections.app
    states = lower_48_states(db, user="benchmark")
    with db.transaction(user="benchmark") as cur:
        cur.execute("SELECT count(*) FROM accounts")
        total = cur.fetchone()[0]
    print(f"book: {total:,} accounts; {args.k} territories; lower 48")
    cases = (("a", "(a) H3 r6 cells", "h3_6"), ("b", "(b) counties", "county"))
    for key, case, level in cases:
        if args.case not in (None, key):
            continue
        started = time.perf_counter()
        units = load_units(db, settings.data_dir, level, user="benchmark", states=states)
        loading = time.perf_counter() - started
        started = time.perf_counter()
        graph = unit_graph(units)
        centroids = unit_centroids(units)
        graph_s = time.perf_counter() - started
        print(f"\n{case}: {len(units):,} units, {int(units['accounts'].sum()):,} accounts")
        print(f"  data {loading:.1f} s, unit graph {graph_s:.1f} s (shared by both methods)")
        weights = units["accounts"].to_numpy(dtype=float)
        started = time.perf_counter()
        alignment = align_territories(weights, graph, centroids, k=args.k, tolerance=0.05, seed=args.seed)
        elapsed = time.perf_counter() - started
        _print("gcrm align", units, alignment.labels, graph, alignment.oversized, elapsed)
        for name, baseline in (("spopt WardSpatial", _ward), ("spopt RegionKMeansHeuristic", _region_kmeans)):
            if baseline is _region_kmeans and len(units) > REGION_KMEANS_MAX_UNITS:
                print(
                    f"  {name:<30} skipped: over {REGION_KMEANS_MAX_UNITS:,} units"
                    " it did not finish within 10 minutes here"
                )
                continue
            started = time.perf_counter()
            labels = baseline(units, graph, centroids, args.k, args.seed)
            _print(name, units, labels, graph, None, time.perf_counter() - started)
    connections.close()


def _ward(units, graph, centroids: np.ndarray, k: int, seed: int) -> np.ndarray:
    from spopt.region import WardSpatial

    frame = units[["geometry"]].assign(
        x=centroids[:, 0], y=centroids[:, 1], weight=np.log1p(units["accounts"].to_numpy(dtype=float))
    )
    model = WardSpatial(frame, WSP(graph.astype(float)).to_W(silence_warnings=True), ["x", "y", "weight"], k)
    model.solve()
    return np.asarray(model.labels_, dtype=np.int64)


def _region_kmeans(units, graph, centroids: np.ndarray, k: int, seed: int) -> np.ndarray:
    from spopt.region import RegionKMeansHeuristic

    weights = WSP(graph.astype(float)).to_W(silence_warnings=True)
    scaled = (centroids - centroids.mean(axis=0)) / centroids.std(axis=0)
    model = RegionKMeansHeuristic(scaled, k, weights, seed=seed)
    model.solve()
    return np.asarray(model.labels_, dtype=np.int64)


def _print(method: str, units, labels: np.ndarray, graph, oversized, elapsed: float) -> None:
    report = alignment_report(units, labels, graph, measures=["accounts"], oversized=oversized)
    regular = report[~report["oversized"]]
    worst = regular["deviation_accounts"].abs().max()
    within = int((regular["deviation_accounts"].abs() <= 5).sum())
    print(
        f"  {method:<30} max deviation {worst:6.2f}%  within ±5%: {within}/{len(regular)}"
        f"  contiguous {int(report['contiguous'].sum())}/{len(report)}"
        f"  mean compactness {report['compactness'].mean():.3f}  time {elapsed:.1f} s"
    )
    if oversized is not None:
        _explain_outside(units, labels, graph, regular)
    big = report[report["oversized"]]
    if len(big):
        names = pd.Series(units["name"].to_numpy())[[int(np.flatnonzero(labels == t)[0]) for t in big.index]]
        print(f"    oversized single-county territories: {', '.join(names)}")


def _explain_outside(units, labels: np.ndarray, graph, regular: pd.DataFrame) -> None:
    """Name each regular territory outside ±5% and whether it is proved unable to balance."""
    outside = regular[regular["deviation_accounts"].abs() > 5]
    target = regular["accounts"].mean()
    fixed = ~np.isin(labels, regular.index.to_numpy())
    weights = units["accounts"].to_numpy(dtype=float)
    proved = []
    for territory, row in outside.iterrows():
        members = [
            int(u)
            for u in np.flatnonzero(labels == territory)
            if unit_out_of_reach(int(u), weights, graph, low=0.95 * target, high=1.05 * target, fixed=fixed)
        ]
        names = ", ".join(units["name"].iloc[members])
        reason = (
            f"no contiguous territory holding {names} can be within ±5% (every connected set of"
            " free counties holding it is lighter than the band or heavier)"
            if members
            else "not proved unable to balance"
        )
        proved += [territory] if members else []
        print(f"    territory {territory}: {row['deviation_accounts']:+.1f}% — {reason}")
    balanced = len(regular) - len(outside)
    others = regular.drop(index=proved)["deviation_accounts"].abs().max()
    print(
        f"    within ±5% or proved unable to be: {balanced + len(proved)}/{len(regular)};"
        f" max deviation of the {len(regular) - len(proved)} that can be: {others:.2f}%"
    )


if __name__ == "__main__":
    main()
