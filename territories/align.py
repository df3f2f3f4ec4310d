"""Automatic territory alignment: balanced, contiguous, compact.

Method (a seeded region-growing heuristic refined by local search, in the family of
Openshaw's AZP and of the balanced-growth districting heuristics):

1. **Oversized units.** A unit whose measure alone exceeds the target by more than the
   tolerance becomes a territory of its own; the target of the others is recomputed.
2. **Recursive bisection.** The other units are cut, along the longer side of their
   extent (rotated by an angle drawn from the seed), into groups of equal measure (Berger &
   Bokhari's recursive coordinate bisection); groups become the territories whose locked
   units or rep home bases they hold most of.
3. **Contiguity repair.** A piece of a territory cut off from its main part (by a bay, a
   mountain-free gap between cells) goes to the lightest territory it touches.
4. **Balancing.** A boundary unit moves from a territory to a lighter neighbouring one when
   the difference between them exceeds the unit's measure (this strictly lowers the sum of
   squared deviations, so the search ends) and its territory stays connected without it;
   a unit that is a bridge takes along the pieces that hang on it.
5. **Compaction.** A boundary unit nearer the centre of the neighbouring territory than of
   its own moves there when both stay within the tolerance and connected; then step 4
   runs again to win back the balance compaction spent.
6. **Swaps.** Where a territory is still off by more than half the tolerance and its
   border units are too large to move alone, a unit goes each way across the border when
   the net transfer lowers the pair's squared deviations and both stay connected.

Contiguity is in the unit graph (:mod:`territories.graph`), where islands hang on their
nearest neighbour. Locked units never move; locked territories neither give nor take.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from geo.errors import GcrmError
from territories.graph import neighbours

REPAIR_ROUNDS = 20
"""Rounds of handing detached pieces to neighbours after the bisection."""
BALANCE_PASSES = 400
"""Upper bound on balancing passes (each moves every profitable boundary unit once)."""
COMPACTION_PASSES = 6
SWAP_PASSES = 200
"""Upper bound on swap passes, each followed by balancing."""
COMPACTION_MARGIN = 0.8
"""Compaction keeps each territory within this share of the tolerance."""


class AlignmentError(GcrmError, ValueError):
    """The alignment cannot be built as asked (too few units, bad locks, bad home bases)."""


@dataclass(frozen=True)
class Alignment:
    """An alignment of units into territories.

    Attributes
    ----------
    labels
        Territory index (0 … k-1) per unit.
    oversized
        Per territory: made of a single unit larger than the target.
    target
        The measure each territory not oversized aims at.
    """

    labels: np.ndarray
    oversized: np.ndarray
    target: float


def align_territories(
    weights: np.ndarray,
    graph: sparse.csr_matrix,
    centroids: np.ndarray,
    *,
    k: int,
    tolerance: float = 0.05,
    seed: int = 0,
    locks: dict[int, int] | None = None,
    locked_territories: frozenset[int] = frozenset(),
    home_bases: list[int] | None = None,
) -> Alignment:
    """Split units into ``k`` contiguous territories of balanced measure.

    Parameters
    ----------
    weights
        Measure per unit (non-negative).
    graph
        Connected unit adjacency (:func:`territories.graph.unit_graph`).
    centroids
        Unit positions in metres, shape ``(n, 2)``.
    k
        Number of territories.
    tolerance
        Allowed deviation from the target, as a share (0.05 = ±5%).
    seed
        Seed of the angle the bisection cuts along (another seed, another alignment).
    locks
        Unit index → territory index: units that must stay where they are.
    locked_territories
        Territory indices that keep exactly their locked units.
    home_bases
        Unit indices that must fall in the free territories (reps' home bases), in
        territory order after those anchored by locks.

    Returns
    -------
    Alignment
        Labels, oversized territories and the target.
    """
    weights = np.asarray(weights, dtype=float)
    locks = dict(locks or {})
    _check(weights, k, locks, home_bases)
    state = _State(weights, graph, centroids, k, locks, locked_territories)
    state.split_oversized(tolerance)
    state.partition(home_bases or [], seed)
    state.balance()
    state.compact(tolerance)
    state.balance()
    state.swap(tolerance)
    return Alignment(labels=state.labels.copy(), oversized=state.oversized.copy(), target=state.target)


def _check(weights: np.ndarray, k: int, locks: dict[int, int], home_bases: list[int] | None) -> None:
    if k < 1 or k > len(weights):
        msg = f"Cannot make {k} territories out of {len(weights)} units."
        raise AlignmentError(msg)
    if (weights < 0).any() or not np.isfinite(weights).all():
        msg = "Measures must be finite and non-negative."
        raise AlignmentError(msg)
    bad = [t for t in locks.values() if not 0 <= t < k]
    if bad:
        msg = f"Locked units name territories {sorted(set(bad))} outside 0…{k - 1}."
        raise AlignmentError(msg)
    if home_bases and len(set(home_bases)) != len(home_bases):
        msg = "Two reps share a home-base unit."
        raise AlignmentError(msg)


class _State:
    """The mutable working state of one alignment."""

    def __init__(
        self,
        weights: np.ndarray,
        graph: sparse.csr_matrix,
        centroids: np.ndarray,
        k: int,
        locks: dict[int, int],
        locked_territories: frozenset[int],
    ) -> None:
        self.weights = weights
        self.graph = graph
        self.adjacent = neighbours(graph)
        self.centroids = np.asarray(centroids, dtype=float)
        self.k = k
        self.labels = np.full(len(weights), -1, dtype=np.int64)
        self.pinned = np.zeros(len(weights), dtype=bool)
        for unit, territory in locks.items():
            self.labels[unit] = territory
            self.pinned[unit] = True
        self.frozen = np.zeros(k, dtype=bool)
        self.frozen[list(locked_territories)] = True
        self.oversized = np.zeros(k, dtype=bool)
        self.locks = locks
        self.anchored = self.pinned.copy()
        self.target = float(weights.sum() / k)

    def sums(self) -> np.ndarray:
        """Measure per territory of the units placed so far."""
        placed = self.labels >= 0
        return np.bincount(self.labels[placed], weights=self.weights[placed], minlength=self.k)

    def split_oversized(self, tolerance: float) -> None:
        """Give each unit heavier than the target (plus tolerance) a territory of its own."""
        anchored = set(self.locks.values())
        free_territories = [t for t in range(self.k) if t not in anchored and not self.frozen[t]]
        while True:
            movable = self.free_balanced()
            total = self.weights[self.labels < 0].sum() + self.sums()[movable].sum()
            target = total / max(int(movable.sum()), 1)
            big = np.flatnonzero((self.labels < 0) & (self.weights > target * (1 + tolerance)))
            if not len(big) or not free_territories or len(free_territories) <= 1:
                self.target = float(target)
                return
            unit = big[np.argmax(self.weights[big])]
            territory = free_territories.pop()
            self.labels[unit] = territory
            self.oversized[territory] = True
            self.frozen[territory] = True

    def free_balanced(self) -> np.ndarray:
        """Territories the balancing may change (not oversized, not locked)."""
        return ~self.oversized & ~self.frozen

    def partition(self, home_bases: list[int], seed: int) -> None:
        """Split the units of the territories still free by recursive bisection, then anchor them."""
        fixed = np.flatnonzero(self.oversized | self.frozen)
        free = np.flatnonzero(~(self.oversized | self.frozen))
        pool = np.flatnonzero(~np.isin(self.labels, fixed))
        angle = np.random.default_rng(seed).uniform(0, np.pi)
        rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
        parts = _bisect(self.weights[pool], self.centroids[pool] @ rotation, len(free))
        anchors = dict(self.locks)
        unanchored = [t for t in free if t not in set(anchors.values())]
        for territory, unit in zip(unanchored, home_bases, strict=False):
            if unit in anchors and anchors[unit] != territory:
                msg = f"Home base unit {unit} is already locked in territory {anchors[unit]}."
                raise AlignmentError(msg)
            anchors[unit] = int(territory)
        position = pd.Series(np.arange(len(pool)), index=pool)
        column = {int(t): i for i, t in enumerate(free)}
        votes = np.zeros((len(free), len(free)))
        for unit, territory in anchors.items():
            if unit in position.index and territory in column:
                votes[parts[position[unit]], column[territory]] += 1
        rows, cols = linear_sum_assignment(-votes)
        territory_of_part = np.empty(len(free), dtype=np.int64)
        territory_of_part[rows] = free[cols]
        self.labels[pool] = territory_of_part[parts]
        for unit, territory in anchors.items():
            self.labels[unit] = territory
        self.anchored[list(anchors)] = True
        self._repair_contiguity()

    def _repair_contiguity(self) -> None:
        """Hand every detached piece of a territory to the lightest territory it touches."""
        fixed = self.oversized | self.frozen
        for _ in range(REPAIR_ROUNDS):
            sums = self.sums()
            changed = False
            for territory in np.flatnonzero(~fixed):
                members = np.flatnonzero(self.labels == territory)
                if len(members) < 2:
                    continue
                count, piece = connected_components(self.graph[members][:, members], directed=False)
                if count < 2:
                    continue
                anchored = np.bincount(piece, weights=self.anchored[members], minlength=count)
                heft = np.bincount(piece, weights=self.weights[members], minlength=count)
                keep = int(np.lexsort((heft, anchored))[-1])
                for other in range(count):
                    units = members[piece == other]
                    if other == keep or self.anchored[units].any():
                        continue
                    touching = {int(self.labels[o]) for u in units for o in self.adjacent[u]}
                    touching.discard(int(territory))
                    options = [t for t in touching if not fixed[t]]
                    if not options:
                        continue
                    taker = min(options, key=lambda t: (sums[t], t))
                    self.labels[units] = taker
                    sums[taker] += self.weights[units].sum()
                    sums[territory] -= self.weights[units].sum()
                    changed = True
            if not changed:
                return

    def balance(self) -> None:
        """Move boundary units from heavier to lighter neighbours until no move helps."""
        movable = self.free_balanced()
        for _ in range(BALANCE_PASSES):
            if not self._balance_pass(movable):
                return

    def _balance_pass(self, movable: np.ndarray) -> bool:
        sums = self.sums()
        units, donors, takers = self._boundary()
        keep = movable[donors] & movable[takers] & ~self.pinned[units]
        units, donors, takers = units[keep], donors[keep], takers[keep]
        gap = sums[donors] - sums[takers]
        keep = (gap > self.weights[units]) & (self.weights[units] > 0)
        units, donors, takers, gap = units[keep], donors[keep], takers[keep], gap[keep]
        if not len(units):
            return False
        centres = self._centres()
        score = _distance(self.centroids[units], centres[takers]) - _distance(
            self.centroids[units], centres[donors]
        )
        moved = False
        for i in np.lexsort((score, -gap)):
            unit, donor, taker = int(units[i]), int(donors[i]), int(takers[i])
            if self.labels[unit] != donor or sums[donor] - sums[taker] <= self.weights[unit]:
                continue
            if not self._touches(unit, taker):
                continue
            group = [unit] if self._stays_connected(unit, donor) else self._cut_off(unit, donor)
            weight = self.weights[group].sum() if group else np.inf
            if sums[donor] - sums[taker] <= weight:
                continue
            self.labels[group] = taker
            sums[donor] -= weight
            sums[taker] += weight
            moved = True
        return moved

    def _cut_off(self, unit: int, territory: int) -> list[int]:
        """``unit`` and the pieces of its territory that hang on it (all but the heaviest piece).

        Moving them together keeps both territories whole where ``unit`` alone is a
        bridge. Empty when a piece holds a locked unit or the territory would empty.
        """
        pieces: list[list[int]] = []
        seen = {unit}
        for start in (int(o) for o in self.adjacent[unit] if self.labels[o] == territory):
            if start in seen:
                continue
            piece, stack = [start], [start]
            seen.add(start)
            while stack:
                current = stack.pop()
                for other in self.adjacent[current]:
                    other = int(other)
                    if other not in seen and self.labels[other] == territory:
                        seen.add(other)
                        piece.append(other)
                        stack.append(other)
            pieces.append(piece)
        if len(pieces) < 2:
            return []
        pieces.sort(key=lambda piece: self.weights[piece].sum())
        group = [unit, *(u for piece in pieces[:-1] for u in piece)]
        return [] if self.pinned[group].any() else group

    def compact(self, tolerance: float) -> None:
        """Move boundary units to the neighbour whose centre is nearer, within the tolerance."""
        movable = self.free_balanced()
        band = self.target * tolerance * COMPACTION_MARGIN
        for _ in range(COMPACTION_PASSES):
            sums = self.sums()
            centres = self._centres()
            units, donors, takers = self._boundary()
            keep = movable[donors] & movable[takers] & ~self.pinned[units]
            units, donors, takers = units[keep], donors[keep], takers[keep]
            gain = _distance(self.centroids[units], centres[donors]) - _distance(
                self.centroids[units], centres[takers]
            )
            moved = False
            for i in np.argsort(-gain):
                if gain[i] <= 0:
                    break
                unit, donor, taker = int(units[i]), int(donors[i]), int(takers[i])
                w = self.weights[unit]
                if self.labels[unit] != donor:
                    continue
                if abs(sums[donor] - w - self.target) > band or abs(sums[taker] + w - self.target) > band:
                    continue
                if not self._touches(unit, taker) or not self._stays_connected(unit, donor):
                    continue
                self.labels[unit] = taker
                sums[donor] -= w
                sums[taker] += w
                moved = True
            if not moved:
                return

    def _boundary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        units = np.repeat(np.arange(len(self.adjacent)), [len(a) for a in self.adjacent])
        others = np.concatenate(self.adjacent) if self.adjacent else np.empty(0, dtype=np.int64)
        differ = self.labels[units] != self.labels[others]
        units, others = units[differ], others[differ]
        return units, self.labels[units], self.labels[others]

    def _centres(self) -> np.ndarray:
        counts = np.bincount(self.labels, minlength=self.k).astype(float)
        x = np.bincount(self.labels, weights=self.centroids[:, 0], minlength=self.k)
        y = np.bincount(self.labels, weights=self.centroids[:, 1], minlength=self.k)
        return np.column_stack([x, y]) / np.maximum(counts, 1)[:, None]

    def _touches(self, unit: int, territory: int) -> bool:
        return bool((self.labels[self.adjacent[unit]] == territory).any())

    def swap(self, tolerance: float) -> None:
        """Trade a unit each way across a border where single moves cannot balance (large units)."""
        movable = self.free_balanced()
        for _ in range(SWAP_PASSES):
            if not self._swap_pass(movable, tolerance):
                return
            self.balance()

    def _swap_pass(self, movable: np.ndarray, tolerance: float) -> bool:
        sums = self.sums()
        units, donors, takers = self._boundary()
        keep = movable[donors] & movable[takers] & ~self.pinned[units]
        units, donors, takers = units[keep], donors[keep], takers[keep]
        outside = np.abs(sums / self.target - 1) > tolerance / 2
        swapped = False
        pairs = sorted({(int(d), int(t)) for d, t in zip(donors, takers, strict=True) if sums[d] > sums[t]})
        pairs = [(d, t) for d, t in pairs if outside[d] or outside[t]]
        for donor, taker in sorted(pairs, key=lambda p: sums[p[1]] - sums[p[0]]):
            gap = sums[donor] - sums[taker]
            if gap <= 0:
                continue
            give = np.unique(units[(donors == donor) & (takers == taker)])
            take = np.unique(units[(donors == taker) & (takers == donor)])
            give = give[self.labels[give] == donor]
            take = take[self.labels[take] == taker]
            if not len(give) or not len(take):
                continue
            net = self.weights[give][:, None] - self.weights[take][None, :]
            improving = (net > 0) & (net < gap)
            if not improving.any():
                continue
            order = np.argsort(np.where(improving, np.abs(net - gap / 2), np.inf), axis=None)
            for flat in order[: int(improving.sum())]:
                i, j = np.unravel_index(flat, net.shape)
                unit_out, unit_in = int(give[i]), int(take[j])
                if self._swap_keeps_contiguity(unit_out, unit_in, donor, taker):
                    self.labels[unit_out], self.labels[unit_in] = taker, donor
                    sums[donor] -= net[i, j]
                    sums[taker] += net[i, j]
                    swapped = True
                    break
        return swapped

    def _swap_keeps_contiguity(self, unit_out: int, unit_in: int, donor: int, taker: int) -> bool:
        labels = self.labels
        labels[unit_out], labels[unit_in] = taker, donor
        try:
            return self._whole(donor) and self._whole(taker)
        finally:
            labels[unit_out], labels[unit_in] = donor, taker

    def _whole(self, territory: int) -> bool:
        members = np.flatnonzero(self.labels == territory)
        if not len(members):
            return False
        seen = {int(members[0])}
        stack = [int(members[0])]
        while stack:
            current = stack.pop()
            for other in self.adjacent[current]:
                other = int(other)
                if other not in seen and self.labels[other] == territory:
                    seen.add(other)
                    stack.append(other)
        return len(seen) == len(members)

    def _stays_connected(self, unit: int, territory: int) -> bool:
        """Whether ``territory`` stays one connected piece (and non-empty) without ``unit``."""
        inside = [int(o) for o in self.adjacent[unit] if self.labels[o] == territory]
        if not inside:
            return False
        if len(inside) == 1:
            return True
        wanted = set(inside[1:])
        seen = {unit, inside[0]}
        stack = [inside[0]]
        while stack:
            current = stack.pop()
            for other in self.adjacent[current]:
                other = int(other)
                if other in seen or self.labels[other] != territory:
                    continue
                wanted.discard(other)
                if not wanted:
                    return True
                seen.add(other)
                stack.append(other)
        return False


def _distance(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    return np.sqrt(((points - centres) ** 2).sum(axis=1))


def _bisect(weights: np.ndarray, points: np.ndarray, parts: int) -> np.ndarray:
    """Recursive coordinate bisection: ``parts`` groups of equal weight, cut across the longer side.

    Parameters
    ----------
    weights
        Per point.
    points
        Coordinates, shape ``(n, 2)``.
    parts
        Groups wanted.

    Returns
    -------
    ndarray
        Group (0 … parts-1) per point.
    """
    labels = np.zeros(len(weights), dtype=np.int64)
    stack = [(np.arange(len(weights)), parts, 0)]
    while stack:
        members, count, first = stack.pop()
        if count == 1 or len(members) <= 1:
            labels[members] = first
            continue
        left = count // 2
        spread = points[members].max(axis=0) - points[members].min(axis=0)
        order = members[np.argsort(points[members, int(np.argmax(spread))], kind="stable")]
        cumulative = np.cumsum(weights[order])
        cut = int(np.searchsorted(cumulative, cumulative[-1] * left / count)) + 1
        cut = min(max(cut, left), len(order) - (count - left))
        stack.append((order[:cut], left, first))
        stack.append((order[cut:], count - left, first + left))
    return labels
