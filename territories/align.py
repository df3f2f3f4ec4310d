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
   mountain-free gap between cells) goes to the lightest territory it touches (an
   oversized one only when it touches nothing else).
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
7. **Kicks.** Where a territory is still outside the band, one unit is forced across one
   of its borders (either way) and step 4 runs again; the best kick is kept when it
   leaves fewer territories outside the band or them less far outside (an iterated local
   search, Lourenço, Martin & Stützle, 2003) — this lets the imbalance travel across
   several territories, which moves between two cannot.
8. **Regrowth.** A territory still outside the band is dissolved with its neighbours
   and the group regrown by sequential region growing (:mod:`territories.regrow`), one
   territory step wider at a time. Steps 5 and 4 then run once more, so the map wins back
   the compactness the repairs spent.
9. **Restarts.** When a territory that could be balanced is still outside the band, the
   whole method runs again from another bisection angle drawn from the seed (up to
   :data:`START_ATTEMPTS`), and the best run is kept.

A territory holding a unit that no contiguous territory within the band can hold is
proved so (:mod:`territories.reach`) and left to steps 1–6.

Contiguity is in the unit graph (:mod:`territories.graph`), where islands hang on their
nearest neighbour. Locked units never move; locked territories neither give nor take.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import connected_components

from geo.errors import AlignmentError
from territories.graph import neighbours
from territories.reach import unit_out_of_reach
from territories.regrow import regrow_partition

REPAIR_ROUNDS = 20
"""Rounds of handing detached pieces to neighbours after the bisection."""
BALANCE_PASSES = 400
"""Upper bound on balancing passes (each moves every profitable boundary unit once)."""
COMPACTION_PASSES = 6
SWAP_PASSES = 200
"""Upper bound on swap passes, each followed by balancing."""
COMPACTION_MARGIN = 0.8
"""Compaction keeps each territory within this share of the tolerance."""
START_ATTEMPTS = 4
STEP_NAMES = (
    "cutting the map into equal parts",
    "balancing neighbours",
    "making territories compact",
    "swapping units across borders",
    "forcing units across borders",
    "regrowing territories outside the band",
    "compacting and balancing again",
)
"""What a run of the method is doing, step by step, as :func:`align_territories` reports it."""
Progress = Callable[[str, float], None]
"""Told what an alignment is doing and the share done (0 … 1)."""
"""Bisection angles tried, drawn from the seed, until every territory that can be balanced is."""
HOPELESS_BUDGET = 2_000
"""Connected sets enumerated per unit when proving a territory cannot reach the band."""
KICK_CANDIDATES = 40
"""Most kicks tried per round (each forces one unit across a border and rebalances)."""
KICK_WORK = 200_000
"""Kicks tried in one run of the method times the units: each kick rebalances the whole
map, so a map of 3,000 counties gets 66 kicks and one of 36,000 cells 5."""
REGROW_RADIUS = 3
"""Most steps (territory to neighbouring territory) a regrown neighbourhood reaches."""
REGROW_INSIDE = 1e-9
"""Regrown territories aim this share of the tolerance inside the band, so rounding never
puts one a hair outside."""
REGROW_MAX_UNITS = 2_000
"""Largest neighbourhood (in units) dissolved and regrown."""


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
    unbalanceable
        Per territory: outside the tolerance and holding a unit that no contiguous
        territory within it can hold (:mod:`territories.reach`).
    """

    labels: np.ndarray
    oversized: np.ndarray
    target: float
    unbalanceable: np.ndarray


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
    progress: Progress | None = None,
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
    progress
        Told each step as it starts: what it is, and the share of the work done (0 … 1,
        counting every possible restart, so it jumps to the end when a run balances).

    Returns
    -------
    Alignment
        Labels, oversized and unbalanceable territories, and the target.
    """
    weights = np.asarray(weights, dtype=float)
    locks = dict(locks or {})
    _check(weights, k, locks, home_bases)
    angles = np.random.default_rng(seed).uniform(0, np.pi, START_ATTEMPTS)
    best: _State | None = None
    for attempt, angle in enumerate(angles):
        state = _State(weights, graph, centroids, k, locks, locked_territories)

        def step(number: int, name: str, attempt: int = attempt) -> None:
            if progress is not None:
                done = (attempt * len(STEP_NAMES) + number) / (START_ATTEMPTS * len(STEP_NAMES))
                progress(f"Run {attempt + 1} of at most {START_ATTEMPTS}: {name}", done)

        state.run(tolerance, home_bases or [], float(angle), np.random.default_rng([seed, attempt]), step)
        if best is None or state.shortfall(tolerance) < best.shortfall(tolerance):
            best = state
        if best.shortfall(tolerance)[0] == 0:
            break
    return Alignment(
        labels=best.labels.copy(),
        oversized=best.oversized.copy(),
        target=best.target,
        unbalanceable=best.hopeless(tolerance),
    )


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
        self.certified: dict[int, bool] = {}

    def run(
        self,
        tolerance: float,
        home_bases: list[int],
        angle: float,
        rng: np.random.Generator,
        step: Callable[[int, str], None],
    ) -> None:
        """Steps 1–8 of the method, the bisection cutting along ``angle``, then compaction again.

        ``step`` is told each step as it starts (its number in :data:`STEP_NAMES` and name).
        """
        names = iter(enumerate(STEP_NAMES))
        step(*next(names))
        self.split_oversized(tolerance)
        self.partition(home_bases, angle)
        step(*next(names))
        self.balance()
        step(*next(names))
        self.compact(tolerance)
        self.balance()
        step(*next(names))
        self.swap(tolerance)
        step(*next(names))
        self.kick(tolerance)
        step(*next(names))
        self.regrow(tolerance, rng)
        step(*next(names))
        self.compact(tolerance)
        self.balance()

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

    def partition(self, home_bases: list[int], angle: float) -> None:
        """Split the units of the territories still free by recursive bisection, then anchor them."""
        fixed = np.flatnonzero(self.oversized | self.frozen)
        free = np.flatnonzero(~(self.oversized | self.frozen))
        pool = np.flatnonzero(~np.isin(self.labels, fixed))
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
        free_now = self.free_balanced()
        self.target = float(self.sums()[free_now].sum() / max(int(free_now.sum()), 1))

    def _repair_contiguity(self) -> None:
        """Hand every detached piece of a territory to the lightest territory it touches.

        A piece that touches only oversized territories (hemmed in by a unit larger than
        the target) joins one of them: contiguity comes before the single-unit rule.
        """
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
                    options = [t for t in touching if not fixed[t]] or [
                        t for t in touching if self.oversized[t]
                    ]
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

    def regrow(self, tolerance: float, rng: np.random.Generator) -> None:
        """Dissolve and regrow the neighbourhood of each territory still outside the band.

        The neighbourhood is the territory and the territories within the band at most
        :data:`REGROW_RADIUS` steps away, none oversized, locked or holding a locked unit
        (home bases seed the bisection only, as in balancing); it grows one step at a
        time until a regrowth puts all of it in the band
        (:func:`territories.regrow.regrow_partition`). Territories proved unable to reach
        the band (:meth:`hopeless`) are left as they are.
        """
        inside = tolerance * (1 - REGROW_INSIDE)
        low, high = self.target * (1 - inside), self.target * (1 + inside)
        holding_locks = np.bincount(self.labels[self.pinned], minlength=self.k) > 0
        open_ = self.free_balanced() & ~holding_locks & ~self.hopeless(tolerance)
        sums = self.sums()
        for territory in np.argsort(-np.abs(sums / self.target - 1), kind="stable"):
            sums = self.sums()
            if not open_[territory] or low <= sums[territory] <= high:
                continue
            in_band = open_ & (sums >= low) & (sums <= high)
            for radius in range(1, REGROW_RADIUS + 1):
                group = self._territories_near(int(territory), radius, in_band)
                members = np.flatnonzero(np.isin(self.labels, group))
                if len(members) > REGROW_MAX_UNITS:
                    break
                parts = regrow_partition(
                    members,
                    len(group),
                    self.adjacent,
                    self.weights,
                    self.centroids,
                    low=low,
                    high=high,
                    rng=rng,
                )
                if parts is not None:
                    self._relabel(members, parts, group)
                    break

    def hopeless(self, tolerance: float) -> np.ndarray:
        """Per territory: outside the band and holding a unit no balanced territory can hold.

        Units are tried heaviest first, each with a budget of :data:`HOPELESS_BUDGET`
        connected sets (:func:`territories.reach.unit_out_of_reach`); the answers are kept, so a
        territory is only examined again for units it did not hold before.
        """
        sums = self.sums()
        low, high = self.target * (1 - tolerance), self.target * (1 + tolerance)
        fixed = ~self.free_balanced()[self.labels]
        found = np.zeros(self.k, dtype=bool)
        for territory in np.flatnonzero(self.free_balanced() & ((sums < low) | (sums > high))):
            members = np.flatnonzero(self.labels == territory)
            for unit in members[np.argsort(-self.weights[members], kind="stable")]:
                if int(unit) not in self.certified:
                    self.certified[int(unit)] = unit_out_of_reach(
                        int(unit),
                        self.weights,
                        self.graph,
                        low=low,
                        high=high,
                        fixed=fixed,
                        budget=HOPELESS_BUDGET,
                    )
                if self.certified[int(unit)]:
                    found[territory] = True
                    break
        return found

    def kick(self, tolerance: float) -> None:
        """Iterated local search for territories still outside the band.

        A kick forces one unit across a border of such a territory (out of it or into
        it, whichever way, never with a :meth:`hopeless` territory), then balancing runs
        again. Of the kicks of a round, the best by :meth:`shortfall` is kept when it
        leaves fewer territories outside the band or the same number less far outside;
        the search ends at the first round without such a kick or when the budget
        (:data:`KICK_WORK`) is spent.
        """
        budget = max(1, KICK_WORK // len(self.weights))
        trials = 0
        while trials < budget:
            current = self.shortfall(tolerance)
            if current[0] == 0:
                return
            start = self.labels.copy()
            best, kept = current, None
            kicks = self._kicks(tolerance)[: budget - trials]
            trials += len(kicks)
            for unit, taker in kicks:
                self.labels[unit] = taker
                self.balance()
                trial = self.shortfall(tolerance)
                if trial[:2] < current[:2] and trial < best:
                    best, kept = trial, self.labels.copy()
                self.labels = start.copy()
            if kept is None:
                return
            self.labels = kept

    def shortfall(self, tolerance: float) -> tuple[int, float, float]:
        """How far the alignment is from balanced, to compare alignments (lower is better).

        Returns
        -------
        tuple
            Territories outside the band, the sum of their deviations beyond it (both
            leaving out :meth:`hopeless` ones), and the sum of squared deviations.
        """
        hopeless = self.hopeless(tolerance)
        sums = self.sums()
        movable = self.free_balanced()
        deviation = np.abs(sums / self.target - 1)
        counted = movable & ~hopeless
        outside = int((counted & (deviation > tolerance)).sum())
        excess = float(np.clip(deviation[counted] - tolerance, 0, None).sum())
        return outside, excess, float(((sums[movable] - self.target) ** 2).sum())

    def _kicks(self, tolerance: float) -> list[tuple[int, int]]:
        """Moves (unit, new territory) across the borders of the territories outside the band."""
        hopeless = self.hopeless(tolerance)
        sums = self.sums()
        movable = self.free_balanced()
        outside = movable & ~hopeless & (np.abs(sums / self.target - 1) > tolerance)
        units, donors, takers = self._boundary()
        open_ = movable & ~hopeless
        keep = open_[donors] & open_[takers] & ~self.pinned[units] & (outside[donors] | outside[takers])
        moves = sorted(
            {(int(u), int(t)) for u, t in zip(units[keep], takers[keep], strict=True)},
            key=lambda move: (-self.weights[move[0]], move),
        )
        chosen = []
        for unit, taker in moves:
            if self._stays_connected(unit, int(self.labels[unit])):
                chosen.append((unit, taker))
            if len(chosen) == KICK_CANDIDATES:
                break
        return chosen

    def _territories_near(self, territory: int, radius: int, allowed: np.ndarray) -> np.ndarray:
        """``territory`` and the ``allowed`` territories it reaches in ``radius`` steps through them."""
        _, donors, takers = self._boundary()
        reached = {territory}
        frontier = {territory}
        for _ in range(radius):
            touching = {int(t) for t in takers[np.isin(donors, list(frontier))] if allowed[t]}
            frontier = touching - reached
            reached |= frontier
        return np.array(sorted(reached), dtype=np.int64)

    def _relabel(self, members: np.ndarray, parts: np.ndarray, group: np.ndarray) -> None:
        """Give each regrown part the territory of the group it shares most measure with."""
        overlap = np.zeros((len(group), len(group)))
        column = {int(t): i for i, t in enumerate(group)}
        old = np.array([column[int(t)] for t in self.labels[members]])
        np.add.at(overlap, (parts, old), self.weights[members] + 1e-9)
        rows, cols = linear_sum_assignment(-overlap)
        territory_of_part = np.empty(len(group), dtype=np.int64)
        territory_of_part[rows] = group[cols]
        self.labels[members] = territory_of_part[parts]


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
