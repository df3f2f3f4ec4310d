"""What every export shares: formats, and CSV cells that spreadsheets must not execute."""

from __future__ import annotations

import pandas as pd

EXPORT_FORMATS = ("csv", "geojson", "gpkg")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe.

    Only text columns change; numbers (negative longitudes included) stay numbers.

    Parameters
    ----------
    frame
        Rows about to be written as CSV.

    Returns
    -------
    DataFrame
        A copy with risky text cells neutralised.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False) & values.map(
                lambda v: isinstance(v, str)
            )
            out[column] = values.where(~risky, "'" + text)
    return out
