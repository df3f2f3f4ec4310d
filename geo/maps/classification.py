"""Colours for maps: classes of a measure (mapclassify), their legend rows, and distinct category colours."""

from __future__ import annotations

import geopandas as gpd
import mapclassify
import numpy as np
import pandas as pd
import shapely
from libpysal.weights import W

from geo import formatting

PALETTE = ("#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494", "#081d58")
"""ColorBrewer YlGnBu, light (low) to dark (high)."""
NO_DATA_COLOR = "#d9d9d9"
NO_ACCOUNTS_COLOR = "#f7f7f7"
"""A region with none of the user's accounts: paler than "no data", apart from the classes."""
SCHEMES = {
    "quantiles": "Quantiles",
    "natural_breaks": "Natural breaks",
    "equal_interval": "Equal interval",
}
CATEGORY_PALETTE = (
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
    "#1f78b4",
    "#b2df8a",
    "#fb9a99",
    "#cab2d6",
    "#fdbf6f",
)
"""Qualitative colours (ColorBrewer Dark2 and Paired) for categories such as territories."""
LEGEND_TEXT = {
    "count": formatting.count,
    "money": formatting.money,
    "percent": lambda value: f"{formatting.number(value)}%",
}
"""Legend bound writers by measure kind (other kinds: :func:`geo.formatting.number`)."""


def classify(
    values: pd.Series, *, scheme: str, classes: int, whole: bool | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Split values into classes with mapclassify.

    Parameters
    ----------
    values
        Values to classify; NaN stays unclassified.
    scheme
        ``quantiles``, ``natural_breaks`` or ``equal_interval``.
    classes
        Wanted number of classes; fewer when there are fewer distinct values.
    whole
        The values read as whole numbers (counts, money): they are classified rounded, and
        the class bounds are whole numbers too (a class that would hold no whole number
        goes). Default: whether every value is a whole number.

    Returns
    -------
    tuple of ndarray
        The upper bound of each class, and each value's class (-1 for NaN).
    """
    if scheme not in SCHEMES:
        msg = f"Unknown classification {scheme!r}; choose one of {', '.join(SCHEMES)}."
        raise ValueError(msg)
    present = values.notna().to_numpy()
    data = values[present].to_numpy(dtype=float)
    if whole is None:
        whole = bool(np.all(data == np.round(data)))
    if whole:
        data = np.round(data)
    labels = np.full(len(values), -1)
    distinct = len(np.unique(data))
    if distinct == 0:
        return np.array([]), labels
    if distinct <= classes:
        bins = np.unique(data)
    else:
        classifier = {
            "quantiles": mapclassify.Quantiles,
            "natural_breaks": mapclassify.NaturalBreaks,
            "equal_interval": mapclassify.EqualInterval,
        }[scheme](data, k=classes)
        bins = np.asarray(classifier.bins, dtype=float)
        if whole:
            bins = np.unique(np.floor(bins))
    labels[present] = np.searchsorted(bins, data, side="left")
    return bins, labels


def class_colors(count: int) -> list[str]:
    """Pick ``count`` colours spread over the palette, light to dark.

    Parameters
    ----------
    count
        Number of classes.

    Returns
    -------
    list of str
        Hex colours.
    """
    if count <= 0:
        return []
    positions = np.linspace(0, len(PALETTE) - 1, count).round().astype(int)
    return [PALETTE[i] for i in positions]


def legend_entries(
    bins: np.ndarray, colors: list[str], values: pd.Series, *, kind: str = "number"
) -> list[tuple[str, str]]:
    """Label each class as a value range, plus a 'no data' entry when some are missing.

    Parameters
    ----------
    bins
        Upper bound of each class, ascending (as :func:`classify` gives them).
    colors
        One colour per class.
    values
        The classified values (for the lowest bound and missing values).
    kind
        How the values read: ``count``, ``money`` (whole ranges that never overlap:
        ``2 – 10``, ``11 – 19``), ``percent``, ``rate`` or ``number`` (see
        :data:`geo.analysis.cube.MEASURE_KINDS`); a ``number`` of whole values reads as a count.

    Returns
    -------
    list of (colour, label)
        Legend rows, low to high.
    """
    present = values.dropna().to_numpy(dtype=float)
    entries: list[tuple[str, str]] = []
    if len(present):
        whole = kind in ("count", "money") or (
            kind == "number" and bool(np.all(present == np.round(present)))
        )
        lowest = float(np.round(present.min()) if whole else present.min())
        text = LEGEND_TEXT.get(kind, formatting.count if whole else formatting.number)
        labels = formatting.legend_ranges(bins, lowest, whole=whole, text=text)
        entries = list(zip(colors, labels, strict=True))
    if values.isna().any():
        entries.append((NO_DATA_COLOR, "no data"))
    return entries


def distinct_colors(areas: gpd.GeoSeries) -> list[str]:
    """Colour areas so that touching ones differ: mapclassify's greedy colouring, largest first.

    Areas are neighbours when they intersect (share an edge or a corner, or overlap);
    ``mapclassify.greedy`` with networkx's ``largest_first`` strategy colours the most
    connected areas first, each with the lowest colour no neighbour has. Deterministic:
    ties are taken in the order of ``areas``. Neighbours come from an STRtree rather than
    greedy's own ``sw="queen"``, which needs shared vertices (a T-junction would not count).

    Parameters
    ----------
    areas
        One polygon per category (e.g. a territory's outline).

    Returns
    -------
    list of str
        A colour of :data:`CATEGORY_PALETTE` per area, in the order of ``areas``.
    """
    geometry = areas.to_numpy()
    if not len(geometry):
        return []
    left, right = shapely.STRtree(geometry).query(geometry, predicate="intersects")
    neighbours: dict[int, list[int]] = {i: [] for i in range(len(geometry))}
    for a, b in zip(left.tolist(), right.tolist(), strict=True):
        if a != b:
            neighbours[a].append(b)
    codes = mapclassify.greedy(
        gpd.GeoDataFrame(geometry=geometry),
        strategy="largest_first",
        sw=W(neighbours, silence_warnings=True),
    )
    return [CATEGORY_PALETTE[code % len(CATEGORY_PALETTE)] for code in codes]
