"""How tables read: human column names, the column formats of each kind of figure, moments in the
reader's time zone and a dash for what is missing."""

from __future__ import annotations

import re
from datetime import date

import pandas as pd
import streamlit as st

from geo import formatting

COLUMN_FORMATS = {
    "count": "localized",
    "money": "dollar",
    "percent": "%.1f%%",
    "rate": "localized",
    "number": "localized",
    "tenths": "%.1f",
}
"""Kind of figure (:data:`geo.analysis.cube.MEASURE_KINDS`) → Streamlit number format: counts and
rates with thousands separators, money with its currency sign, percentages (values already in
percent) with a percent sign, distances and minutes to one decimal (a column of "801.5", "859.33"
and "871" reads as noise)."""


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


def readable(table: pd.DataFrame, *, labels: dict[str, str] | None = None) -> pd.DataFrame:
    """A table as a reader expects it: moments in their time zone, a dash for missing text, words as headers.

    Parameters
    ----------
    table
        The table as queried.
    labels
        Column → header; other ``snake_case`` columns are labelled with
        :func:`geo.formatting.column_label`, headers already in words stay.

    Returns
    -------
    DataFrame
        A copy: columns ending in ``_at`` or holding dates and times written with
        :func:`geo.formatting.moment`, text columns with :data:`geo.formatting.MISSING` for
        what is missing (never "None").
    """
    zone = reader_time_zone()
    shown = table.copy()
    for column in shown.columns:
        values = shown[column]
        if str(column).endswith("_at") or _holds_moments(values):
            shown[column] = [formatting.moment(value, zone) for value in values]
        elif values.dtype == object or pd.api.types.is_string_dtype(values):
            shown[column] = [formatting.MISSING if formatting.missing(value) else value for value in values]
    return shown.rename(columns=lambda column: header(column, labels))


def header(column: object, labels: dict[str, str] | None = None) -> str:
    """The header of one column: its label, words for a ``snake_case`` name, else the name as it is.

    Parameters
    ----------
    column
        The column's name.
    labels
        Column → header.

    Returns
    -------
    str
        The header.
    """
    if labels and column in labels:
        return labels[column]
    name = str(column)
    return formatting.column_label(name) if re.fullmatch(r"[a-z0-9_]+", name) else name


def show_table(
    table: pd.DataFrame,
    *,
    labels: dict[str, str] | None = None,
    kinds: dict[str, str] | None = None,
    container=st,
    **options,
) -> None:
    """Draw a table with :func:`readable` headers and cells and each figure formatted by its kind.

    Parameters
    ----------
    table
        The table as queried (``snake_case`` columns).
    labels
        Column → header (see :func:`header`).
    kinds
        Column → kind of figure (see :data:`COLUMN_FORMATS`). A figure column holding a missing
        value is written as text (:func:`geo.formatting.figure`), so it shows a dash, not "None".
    container
        Where to draw (``st``, a column, a tab …).
    **options
        Passed to ``st.dataframe`` (``height``, ``hide_index`` …).
    """
    kinds = kinds or {}
    shown = readable(table, labels=labels)
    numeric = {}
    for column, kind in kinds.items():
        if column not in table.columns:
            continue
        label = header(column, labels)
        if table[column].isna().any():
            shown[label] = [formatting.figure(value, kind) for value in table[column]]
        else:
            numeric[label] = kind
    options.setdefault("hide_index", True)
    options.setdefault("width", "stretch")
    container.dataframe(shown, column_config=number_columns(numeric), **options)


def figure_rows(table: pd.DataFrame, labels: dict[str, str], kinds: dict[str, str]) -> pd.DataFrame:
    """A table on its side: one row per figure, one column per row of ``table``, cells written by kind.

    Parameters
    ----------
    table
        One row per thing measured (a trade area …), one column per figure.
    labels
        Figure column → row label, in the order the rows are shown.
    kinds
        Figure column → kind (see :func:`geo.formatting.figure`).

    Returns
    -------
    DataFrame
        Text cells (a missing figure reads :data:`geo.formatting.MISSING`), indexed by the labels,
        columns in the order of ``table``'s rows.
    """
    rows = {
        labels[column]: [formatting.figure(value, kinds[column]) for value in table[column]]
        for column in labels
    }
    return pd.DataFrame(rows, index=table.index).T


def _holds_moments(values: pd.Series) -> bool:
    if pd.api.types.is_datetime64_any_dtype(values):
        return True
    if values.dtype != object:
        return False
    present = [value for value in values if not formatting.missing(value)]
    return bool(present) and all(isinstance(value, date) for value in present)
