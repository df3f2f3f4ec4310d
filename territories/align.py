"""Automatic territory alignment: balanced, contiguous, compact.

Method (a seeded region-growing heuristic refined by local search, in the family of
Openshaw's AZP and of the balanced-growth districting heuristics):

1. **Oversized units.** A unit whose measure alone exceeds the target by more than the
   tolerance becomes a territory of its own; the target of the others is recomputed.
2. **Seeds.** Locked units seed their territories; rep home bases seed the next ones; the
   rest are the units nearest to the centres of a measure-weighted k-means of the unit
   centroids (deterministic for a seed).
3. **Balanced growth.** The territory with the smallest measure absorbs its unassigned
   neighbour nearest to its seed, until every unit belongs to one: each territory grows
   as one connected piece.
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

import heapq
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from sklearn.cluster import KMeans

from geo.errors import GcrmError
from territories.graph import neighbours

BALANCE_PASSES = 400
"""Upper bound on balancing passes (each moves every profitable boundary unit once)."""
COMPACTION_PASSES = 6
SWAP_PASSES = 200
"""Upper bound on swap passes, each followed by balancing."""
COMPACTION_MARGIN = 0.8
"""Compaction keeps each territory within this share of the tolerance."""


class AlignmentError(GcrmError, ValueError):
    """The alignment cannot be built as asked (too few units, bad locks, bad seeds)."""


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
        Seed of the k-means that places free seeds.
    locks
        Unit index → territory index: units that must stay where they are.
    locked_territories
        Territory indices that keep exactly their locked units.
    home_bases
        Unit indices where the free territories start (reps' home bases), in territory order
        after those seeded by locks.

    Returns
    -------
    Alignment
        Labels, oversized territories and the target.
    """
    weights = np.asarray(weights, dtype=float)
    locks = dict(locks or {})
    _check(weights, k, locks, home_bases)
    state = _State(weights, neighbours(graph), centroids, k, locks, locked_territories)
    state.split_oversized(tolerance)
    state.place_seeds(home_bases or [], seed)
    state.grow()
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
        adjacent: list[np.ndarray],
        centroids: np.ndarray,
        k: int,
        locks: dict[int, int],
        locked_territories: frozenset[int],
    ) -> None:
        self.weights = weights
        self.adjacent = adjacent
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
        self.seeds = np.full(k, -1, dtype=np.int64)
        for unit, territory in locks.items():
            if self.seeds[territory] < 0:
                self.seeds[territory] = unit
        self.target = float(weights.sum() / k)

    def sums(self) -> np.ndarray:
        placed = self.labels >= 0
        return np.bincount(self.labels[placed], weights=self.weights[placed], minlength=self.k)

    def split_oversized(self, tolerance: float) -> None:
        free_territories = [t for t in range(self.k) if self.seeds[t] < 0]
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
            self.seeds[territory] = unit
            self.oversized[territory] = True
            self.frozen[territory] = True

    def free_balanced(self) -> np.ndarray:
        return ~self.oversized & ~self.frozen

    def place_seeds(self, home_bases: list[int], seed: int) -> None:
        free_territories = [t for t in range(self.k) if self.seeds[t] < 0]
        for territory, unit in zip(free_territories, home_bases, strict=False):
            if self.labels[unit] >= 0 and self.labels[unit] != territory:
                msg = f"Home base unit {unit} is already in territory {self.labels[unit]}."
                raise AlignmentError(msg)
            self.labels[unit] = territory
            self.seeds[territory] = unit
        free_territories = [t for t in range(self.k) if self.seeds[t] < 0]
        if not free_territories:
            return
        candidates = np.flatnonzero(self.labels < 0)
        if len(candidates) < len(free_territories):
            msg = "Fewer free units than territories left to seed."
            raise AlignmentError(msg)
        model = KMeans(n_clusters=len(free_territories), random_state=seed, n_init=1)
        model.fit(self.centroids[candidates], sample_weight=self.weights[candidates] + 1e-9)
        taken: set[int] = set()
        for territory, centre in zip(free_territories, model.cluster_centers_, strict=True):
            order = np.argsort(((self.centroids[candidates] - centre) ** 2).sum(axis=1))
            unit = next(int(candidates[i]) for i in order if int(candidates[i]) not in taken)
            taken.add(unit)
            self.labels[unit] = territory
            self.seeds[territory] = unit

    def grow(self) -> None:
        sums = self.sums()
        frontier: list[list[tuple[float, int]]] = [[] for _ in range(self.k)]
        for unit in np.flatnonzero(self.labels >= 0):
            self._push_neighbours(frontier, int(unit), int(self.labels[unit]))
        queue = [(sums[t], t) for t in range(self.k) if not self.frozen[t]]
        heapq.heapify(queue)
        while queue:
            total, territory = heapq.heappop(queue)
            while frontier[territory] and self.labels[frontier[territory][0][1]] >= 0:
                heapq.heappop(frontier[territory])
            if not frontier[territory]:
                continue
            _distance, unit = heapq.heappop(frontier[territory])
            self.labels[unit] = territory
            self._push_neighbours(frontier, unit, territory)
            heapq.heappush(queue, (total + self.weights[unit], territory))
        self._adopt_orphans()

    def _push_neighbours(self, frontier: list, unit: int, territory: int) -> None:
        origin = self.centroids[self.seeds[territory]]
        for other in self.adjacent[unit]:
            if self.labels[other] < 0:
                distance = float(((self.centroids[other] - origin) ** 2).sum())
                heapq.heappush(frontier[territory], (distance, int(other)))

    def _adopt_orphans(self) -> None:
        """Give units no growing territory reached (walled in by fixed ones) to a neighbour."""
        while (self.labels < 0).any():
            sums = self.sums()
            for unit in np.flatnonzero(self.labels < 0):
                labelled = [int(self.labels[o]) for o in self.adjacent[unit] if self.labels[o] >= 0]
                growing = [t for t in labelled if not self.oversized[t]] or labelled
                if growing:
                    self.labels[unit] = min(growing, key=lambda t: (sums[t], t))

    def balance(self) -> None:
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
        keep = gap > self.weights[units]
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
