"""Accounts listed beside their map, kept in step: a row picked in the table is the account the map
shows apart, and a click on an account's point picks its row.

The table's selection (``st.dataframe(..., on_select="rerun")``) is the one state: the map reads
it before it is drawn, and a click writes it (Streamlit lets a page set a table's selection through
``st.session_state`` before the table is drawn in the run).
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.maps.clicks import clicked_point_key

PENDING_KEY = "pending_picks"
"""Session-state key of the accounts to pick in tables not drawn yet (table key → external id)."""


def pick_later(table_key: str, external_id: str) -> None:
    """Pick an account in a table the next run draws (a drill to the account's ZIP, say).

    Parameters
    ----------
    table_key
        The key the table will be drawn with.
    external_id
        The account to pick.
    """
    st.session_state.setdefault(PENDING_KEY, {})[table_key] = external_id


def picked_row(table_key: str, accounts: pd.DataFrame) -> str | None:
    """The external id of the account whose row is selected in the table under ``table_key``.

    An account :func:`pick_later` asked for is selected first. Call it before the table is drawn.

    Parameters
    ----------
    table_key
        The key the table is drawn with (:func:`accounts_table`).
    accounts
        The accounts in the table's order, with ``external_id``.

    Returns
    -------
    str or None
        None while no row is selected (or the selected row is gone).
    """
    pending = st.session_state.get(PENDING_KEY, {}).pop(table_key, None)
    row = list(accounts["external_id"]).index(pending) if pending in set(accounts["external_id"]) else None
    if row is not None:
        _select(table_key, row)
    selected = selected_position(table_key)
    if selected is None or selected >= len(accounts):
        return None
    return str(accounts["external_id"].iloc[selected])


def selected_position(table_key: str) -> int | None:
    """The position of the row selected in a single-row table, as of this run (before it is drawn).

    Parameters
    ----------
    table_key
        The table's key.

    Returns
    -------
    int or None
        The row's position in the data the table was given, None while none is selected.
    """
    state = st.session_state.get(table_key)
    rows = list(state["selection"]["rows"]) if state else []
    return int(rows[0]) if rows and rows[0] >= 0 else None


def _select(table_key: str, row: int) -> None:
    """Select the table's row at position ``row`` (before the table is drawn in this run)."""
    st.session_state[table_key] = {"selection": {"rows": [row], "columns": [], "cells": []}}


def pick_clicked(returned: dict | None, accounts: pd.DataFrame, table_key: str, picked: str | None) -> None:
    """Select the row of the account whose point was clicked, and run the page again to show it.

    Call it after the map and before the table is drawn. A click on a cluster's bubble (which
    zooms in) or on the picked account's own larger point picks nothing
    (:func:`geo.maps.clicks.clicked_point_key`).

    Parameters
    ----------
    returned
        What ``st_folium(..., returned_objects=["last_object_clicked"])`` gave back.
    accounts
        The accounts in the table's order, with ``external_id, lon, lat`` (unplaced ones too).
    table_key
        The key the table is drawn with.
    picked
        The account picked now (:func:`picked_row`): clicking it again changes nothing.
    """
    placed = accounts.reset_index(drop=True).dropna(subset=["lon", "lat"])
    clicked = clicked_point_key(returned, placed.rename(columns={"external_id": "key"}))
    if clicked is None or clicked == picked:
        return
    _select(table_key, int(placed.index[placed["external_id"] == clicked][0]))
    st.rerun()


def accounts_table(shown: pd.DataFrame, table_key: str, **options) -> None:
    """The accounts' table, one row selectable: picking a row shows the account apart on the map.

    Parameters
    ----------
    shown
        The table as shown (its rows in the order :func:`picked_row` reads).
    table_key
        The table's key.
    **options
        More ``st.dataframe`` arguments (``column_config`` …).
    """
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        key=table_key,
        on_select="rerun",
        selection_mode="single-row",
        **options,
    )
    st.caption("Pick a row to show the account on the map; click a point to pick its row.")
