"""Travel times without a road network: great-circle distance times a circuity factor, at a stated speed.

Roads are longer than the straight line between two places: across US regions the ratio
("circuity") is about 1.2–1.4 (Ballou, Rahardja and Sakai, "Selected country circuity
factors for road travel distance estimation", 2002). gcrm takes 1.3 and an average speed
of 50 km/h, and every answer made this way says so.
"""

from __future__ import annotations

import numpy as np

CIRCUITY = 1.3
"""Road metres per great-circle metre."""
ESTIMATE_SPEED_KMH = 50.0
"""Average driving speed of an estimate."""
NO_NETWORK = "estimate (no road network loaded)"
OUTSIDE_NETWORK = "estimate (outside the road network)"
ASSUMPTION = f"great-circle distance × {CIRCUITY} at {ESTIMATE_SPEED_KMH:.0f} km/h"
"""How an estimate is made, to show beside it."""


def estimated_seconds(great_circle_m: np.ndarray | float) -> np.ndarray:
    """Seconds of driving estimated from great-circle metres.

    Parameters
    ----------
    great_circle_m
        Metres on the sphere.

    Returns
    -------
    ndarray
        Seconds.
    """
    return np.asarray(great_circle_m, dtype=float) * CIRCUITY / (ESTIMATE_SPEED_KMH / 3.6)


def estimated_metres(great_circle_m: np.ndarray | float) -> np.ndarray:
    """Road metres estimated from great-circle metres.

    Parameters
    ----------
    great_circle_m
        Metres on the sphere.

    Returns
    -------
    ndarray
        Metres.
    """
    return np.asarray(great_circle_m, dtype=float) * CIRCUITY


def estimated_reach_m(seconds: float) -> float:
    """Great-circle radius an estimate reaches within ``seconds`` of driving.

    Parameters
    ----------
    seconds
        The limit.

    Returns
    -------
    float
        Metres.
    """
    return float(seconds) * (ESTIMATE_SPEED_KMH / 3.6) / CIRCUITY
