"""Repair of unbalanced territories by dissolving and regrowing a neighbourhood.

Where moving or swapping single units cannot bring a territory into the band (large units:
a county of a million people beside counties of a thousand), the territory and its
neighbours within a few steps are dissolved and regrown together — a large-neighbourhood
search (Shaw, 1998) whose repair step is the sequential region growing of districting
(Vickrey, 1961), randomised and restarted: territories are grown one after another from
the edge of the area, each a connected set of units whose measure falls within the band
and whose removal leaves a remainder that can still be split into the territories left
(every connected piece of it weighs a whole number of territories within the band). Of the
growths that succeed, the one cutting the fewest borders between units (the most compact)
is kept.

The functions are pure: they take the unit graph as adjacency lists and return labels.
"""

from __future__ import annotations

import heapq
import math

import numpy as np

REGROW_TRIES = 160
"""Randomised growths attempted per neighbourhood."""
REGROW_KEEP = 8
"""Successful growths collected before the most compact is chosen."""
REGROW_NOISE = 0.35
"""Randomness of the growth order: a unit's distance is scaled by up to 1 + this."""


def regrow_partition(
    members: np.ndarray,
    parts: int,
    adjacent: list[np.ndarray],
    weights: np.ndarray,
    centroids: np.ndarray,
    *,
    low: float,
    high: float,
    rng: np.random.Generator,
) -> np.ndarray | None:
    """Split connected units into ``parts`` connected sets, each weighing within ``[low, high]``.

    Parameters
    ----------
    members
        Unit indices of the neighbourhood (connected in the graph).
    parts
        Territories to grow.
    adjacent
        Neighbours per unit of the whole graph.
    weights
        Measure per unit of the whole graph.
    centroids
        Unit positions in metres of the whole graph.
    low, high
        The band every territory must fall in.
    rng
        Source of the growth directions and order.

    Returns
    -------
    ndarray or None
        Part (0 … parts-1) per member, or None when no attempt succeeded.
    """
    graph = _LocalGraph(members, adjacent, weights, centroids)
    best: np.ndarray | None = None
    best_cut = math.inf
    found = 0
    for _ in range(REGROW_TRIES):
        labels = _grow_all(graph, parts, low, high, rng)
        if labels is None:
            continue
        cut = graph.cut_edges(labels)
        if cut < best_cut:
            best, best_cut = labels, cut
        found += 1
        if found >= REGROW_KEEP:
            break
    return best


class _LocalGraph:
    """The neighbourhood's units renumbered 0 … n-1, with their own adjacency."""

    def __init__(
        self, members: np.ndarray, adjacent: list[np.ndarray], weights: np.ndarray, centroids: np.ndarray
    ) -> None:
        local = {int(unit): i for i, unit in enumerate(members)}
        self.neighbours = [[local[int(o)] for o in adjacent[unit] if int(o) in local] for unit in members]
        self.weights = np.asarray(weights, dtype=float)[members]
        self.points = np.asarray(centroids, dtype=float)[members]

    def cut_edges(self, labels: np.ndarray) -> int:
        """Edges joining units of different parts."""
        return sum(int(labels[u] != labels[v]) for u, others in enumerate(self.neighbours) for v in others)

    def pieces(self, free: np.ndarray) -> list[tuple[float, list[int]]]:
        """Measure and units of each connected piece of the free units."""
        seen = ~free
        found = []
        for start in np.flatnonzero(free):
            if seen[start]:
                continue
            seen[start] = True
            stack, piece = [int(start)], []
            while stack:
                unit = stack.pop()
                piece.append(unit)
                for other in self.neighbours[unit]:
                    if not seen[other]:
                        seen[other] = True
                        stack.append(other)
            found.append((float(self.weights[piece].sum()), piece))
        return found


def _grow_all(
    graph: _LocalGraph, parts: int, low: float, high: float, rng: np.random.Generator
) -> np.ndarray | None:
    labels = np.full(len(graph.weights), -1, dtype=np.int64)
    angle = rng.uniform(0, 2 * np.pi)
    projection = graph.points @ np.array([np.cos(angle), np.sin(angle)])
    sweep = rng.uniform()
    for part in range(parts - 1):
        start = int(np.argmax(np.where(labels < 0, projection, -np.inf)))
        behind = projection[start] - projection
        order = sweep * behind + (1 - sweep) * np.hypot(*(graph.points - graph.points[start]).T)
        if not _grow_one(graph, labels, start, order, part, parts - part - 1, low, high, rng):
            return None
    rest = labels < 0
    if not low <= graph.weights[rest].sum() <= high or len(graph.pieces(rest)) != 1:
        return None
    labels[rest] = parts - 1
    return labels


def _grow_one(
    graph: _LocalGraph,
    labels: np.ndarray,
    start: int,
    order: np.ndarray,
    part: int,
    left: int,
    low: float,
    high: float,
    rng: np.random.Generator,
) -> bool:
    """Grow ``part`` from ``start``, lowest ``order`` first, into the band with a splittable remainder."""
    queue = [(0.0, start)]
    queued = {start}
    grown: list[int] = []
    total = 0.0
    while queue:
        _, unit = heapq.heappop(queue)
        if total + graph.weights[unit] > high:
            continue
        labels[unit] = part
        grown.append(unit)
        total += graph.weights[unit]
        for other in graph.neighbours[unit]:
            if labels[other] < 0 and other not in queued:
                queued.add(other)
                heapq.heappush(queue, (order[other] * rng.uniform(1, 1 + REGROW_NOISE), other))
        if total >= low and _close(graph, labels, part, total, left, low, high):
            return True
    labels[grown] = -1
    return False


def _close(
    graph: _LocalGraph, labels: np.ndarray, part: int, total: float, left: int, low: float, high: float
) -> bool:
    """Close ``part`` if the remainder splits into ``left`` territories, absorbing the scraps it cut off.

    Pieces lighter than the band can only have been cut off by this part (every piece
    left by the parts before could hold a territory), so they border it and join it when
    it stays within the band.
    """
    pieces = graph.pieces(labels < 0)
    scraps = [units for measure, units in pieces if measure < low]
    extra = sum(measure for measure, _ in pieces if measure < low)
    if total + extra > high or not _splittable([m for m, _ in pieces if m >= low], left, low, high):
        return False
    for units in scraps:
        labels[units] = part
    return True


def _splittable(pieces: list[float], territories: int, low: float, high: float) -> bool:
    """Whether pieces of these measures can form exactly ``territories`` territories within the band.

    A piece of measure ``m`` can hold any whole number ``c ≥ 1`` of territories with
    ``c·low ≤ m ≤ c·high``; those numbers are consecutive, so the pieces can hold any total
    between the sums of their least and greatest.
    """
    fewest = most = 0
    for measure in pieces:
        least = max(1, math.ceil(measure / high))
        greatest = math.floor(measure / low)
        if least > greatest:
            return False
        fewest += least
        most += greatest
    return fewest <= territories <= most
