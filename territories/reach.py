"""A certificate that no balanced territory can hold a unit.

Measures are not negative, so a connected set heavier than the band's top never becomes
lighter by growing: enumerating the connected sets of free units that hold a light unit,
up to the band's top, either finds one within the band or proves that none exists. The
alignment skips territories so proved when it repairs balance, and the report names them.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

CERTIFICATE_BUDGET = 20_000
"""Connected sets :func:`unit_out_of_reach` enumerates before leaving a unit uncertified."""


def unit_out_of_reach(
    unit: int,
    weights: np.ndarray,
    graph: sparse.csr_matrix,
    *,
    low: float,
    high: float,
    fixed: np.ndarray,
    budget: int = CERTIFICATE_BUDGET,
) -> bool:
    """Whether no contiguous territory within ``[low, high]`` can hold ``unit`` (a certificate).

    For a unit lighter than ``low``, every connected set of free units that holds it and
    weighs at most ``high`` is enumerated (measures are not negative, so heavier sets need
    not be grown); when none reaches ``low``, no balanced territory can hold the unit.

    Parameters
    ----------
    unit
        The unit examined.
    weights
        Measure per unit (not negative).
    graph
        Unit adjacency.
    low, high
        The band a territory's measure must fall in.
    fixed
        Units that belong to fixed territories (oversized units): they are nobody's neighbour.
    budget
        Most connected sets enumerated before giving up (then False: not proved).

    Returns
    -------
    bool
        True when proved out of reach; False for a unit not lighter than ``low`` (heavy
        units are the alignment's oversized ones) and when the budget ran out.
    """
    if weights[unit] >= low:
        return False
    return _band_reachable(unit, weights, graph, low=low, high=high, fixed=fixed, budget=budget) is False


def _band_reachable(
    unit: int,
    weights: np.ndarray,
    graph: sparse.csr_matrix,
    *,
    low: float,
    high: float,
    fixed: np.ndarray,
    budget: int,
) -> bool | None:
    """Whether a connected set holding ``unit`` weighs within the band (None: budget spent)."""
    start = frozenset([int(unit)])
    seen = {start}
    stack = [(start, float(weights[unit]))]
    while stack:
        members, total = stack.pop()
        if low <= total <= high:
            return True
        if len(seen) > budget:
            return None
        frontier = {
            int(v)
            for m in members
            for v in graph.indices[graph.indptr[m] : graph.indptr[m + 1]]
            if not fixed[v] and v not in members
        }
        for v in sorted(frontier, key=lambda n: weights[n]):
            grown = members | {v}
            if total + weights[v] <= high and grown not in seen:
                seen.add(grown)
                stack.append((grown, total + weights[v]))
    return False
