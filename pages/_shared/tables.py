"""How tables show numbers: the column formats of each kind of figure, and the reader's time zone."""

from __future__ import annotations

import streamlit as st

COLUMN_FORMATS = {
    "count": "localized",
    "money": "dollar",
    "percent": "%.1f%%",
    "rate": "localized",
    "number": "localized",
}
"""Kind of figure (:data:`geo.analysis.cube.MEASURE_KINDS`) → Streamlit number format: counts and
rates with thousands separators, money with its currency sign, percentages (values already in
percent) with a percent sign."""


def number_columns(kinds: dict[str, str]) -> dict[str, st.column_config.NumberColumn]:
    """Column settings that format each labelled column by the kind of figure it holds.

    Parameters
    ----------
    kinds
        Column label → kind (``count``, ``money``, ``percent``, ``rate`` or ``number``).

    Returns
    -------
    dict
        Column label → ``st.column_config.NumberColumn``, for ``st.dataframe(column_config=…)``.
    """
    return {
        label: st.column_config.NumberColumn(format=COLUMN_FORMATS.get(kind, "localized"))
        for label, kind in kinds.items()
    }


def reader_time_zone() -> str:
    """The IANA time zone of the reader's browser (UTC when the browser does not say).

    Returns
    -------
    str
        E.g. ``America/Chicago``.
    """
    return st.context.timezone or "UTC"
