"""Hot and cold spots of a regional measure: Getis-Ord Gi* with a false-discovery-rate cut.

Method: the local Gi* statistic (Getis & Ord 1992; Ord & Getis 1995) over queen
contiguity of the regions, its pseudo p-values from conditional permutations
(esda), and the Benjamini-Hochberg false-discovery-rate threshold (esda.fdr) so that
testing thousands of regions at once does not flag chance clusters.
"""

from __future__ import annotations

import warnings

import esda
import geopandas as gpd
import numpy as np
from libpysal.weights import Queen

ALPHA = 0.05
PERMUTATIONS = 999
DEFAULT_SEED = 42
LABELS = ("hot", "cold", "not significant")


def hot_spots(
    regions: gpd.GeoDataFrame,
    column: str,
    *,
    alpha: float = ALPHA,
    permutations: int = PERMUTATIONS,
    seed: int = DEFAULT_SEED,
) -> gpd.GeoDataFrame:
    """Label each region a significant hot spot, cold spot, or neither.

    Parameters
    ----------
    regions
        Polygons with the measure in ``column`` (regions with NaN are left out).
    column
        The measure (churn rate, revenue …).
    alpha
        False-discovery rate.
    permutations
        Conditional permutations for the pseudo p-values.
    seed
        Seed of the permutations (the same seed gives the same labels).

    Returns
    -------
    GeoDataFrame
        The regions with a value, plus ``gi_z`` (standardised Gi*), ``gi_p`` (pseudo p-value)
        and ``spot`` (one of :data:`LABELS`).
    """
    frame = regions[regions[column].notna()].reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # libpysal warns about islands and disconnected components
        weights = Queen.from_dataframe(frame, use_index=False)
    values = frame[column].to_numpy(dtype=float)
    statistic = esda.G_Local(
        values, weights, transform="B", star=True, permutations=permutations, seed=seed, n_jobs=1
    )
    p_values = np.asarray(statistic.p_sim, dtype=float)
    threshold = esda.fdr(p_values, alpha)
    significant = p_values <= threshold
    z = np.asarray(statistic.Zs, dtype=float)
    frame["gi_z"] = z
    frame["gi_p"] = p_values
    frame["spot"] = np.where(
        significant & (z > 0), "hot", np.where(significant & (z < 0), "cold", "not significant")
    )
    return frame
