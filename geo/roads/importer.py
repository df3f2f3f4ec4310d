"""``gcrm roads import``: read an extract, build the routing graph, replace the stored network at once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from geo.errors import AccessDenied
from geo.roads.extract import read_ways
from geo.roads.network import RoadGraph, road_edges, routing_graph
from geo.roads.speeds import load_speeds
from geo.roads.storage import replace_network, require_pgrouting
from geo.store.db import Database, allow_long_statements

Progress = Callable[[str, float], None]
"""Told what the import is doing and the share done (0 … 1)."""

STEPS = ("reading the extract", "building the routing graph", "storing the network")


@dataclass(frozen=True)
class ImportSummary:
    """What an import loaded.

    Attributes
    ----------
    ways
        Drivable way segments read.
    edges, vertices
        The routing graph stored.
    dropped_edges, dropped_components
        Left out: outside the largest strongly connected component.
    """

    ways: int
    edges: int
    vertices: int
    dropped_edges: int
    dropped_components: int


def import_network(
    db: Database,
    extract: Path,
    *,
    user: str,
    speeds_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Replace the road network with the drivable roads of an OSM extract.

    Parameters
    ----------
    db
        The app database.
    extract
        An ``.osm.pbf`` file.
    user
        The acting user (an admin).
    speeds_path
        A TOML file of speeds per road class (:mod:`geo.roads.speeds`), or None.
    progress
        Told each step as it starts.

    Returns
    -------
    ImportSummary
        What was loaded and left out.

    Raises
    ------
    AccessDenied
        ``user`` is not an admin.
    RoadNetworkError
        No pgRouting, or an unreadable extract or speed file; nothing is changed.
    """
    report = progress or (lambda _step, _done: None)
    speeds = load_speeds(speeds_path)
    with db.transaction(user=user) as cur:
        cur.execute("SELECT gcrm_role()")
        role = cur.fetchone()[0]
        if role != "admin":
            msg = f"Only an admin may import a road network; {user!r} is signed in as {role or 'nobody'}."
            raise AccessDenied(msg)
        require_pgrouting(cur)
    report(STEPS[0], 0.0)
    ways = read_ways(extract)
    report(STEPS[1], 1 / 3)
    graph = routing_graph(road_edges(ways, speeds))
    report(STEPS[2], 2 / 3)
    store_graph(db, graph, source_name=Path(extract).name, speeds_kmh=speeds, user=user)
    report("done", 1.0)
    return ImportSummary(
        ways=len(ways),
        edges=len(graph.edges),
        vertices=len(graph.vertices),
        dropped_edges=graph.dropped_edges,
        dropped_components=graph.dropped_components,
    )


def store_graph(
    db: Database, graph: RoadGraph, *, source_name: str, speeds_kmh: dict[str, float], user: str
) -> None:
    """Replace the stored network with ``graph`` in one transaction.

    Parameters
    ----------
    db
        The app database.
    graph
        The routing graph.
    source_name
        Where it came from (the extract's file name).
    speeds_kmh
        The speeds per road class it was built with.
    user
        The acting user (an admin: other roles may not write the road tables).
    """
    with db.transaction(user=user) as cur:
        allow_long_statements(cur)
        replace_network(cur, graph, source_name=source_name, speeds_kmh=speeds_kmh, user=user)
