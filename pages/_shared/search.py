"""Finding an account by what the user types: one search box, shared by the pages that jump to accounts."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.errors import GcrmError
from geo.field.accounts import find_accounts
from pages._shared.caches import connections
from pages._shared.errors import show_error
from pages._shared.user import current_user

APPLIED_KEY = "find_applied"


def picked_account(label: str) -> pd.Series | None:
    """A search box (name, ID, city or ZIP) and its matches; the account picked, once.

    Parameters
    ----------
    label
        The search box's label.

    Returns
    -------
    Series or None
        The account just picked (the columns of :func:`geo.field.accounts.find_accounts`),
        or None when nothing new was picked (the same pick comes back only once).
    """
    text = st.text_input(label, key="find")
    if len(text.strip()) < 2:
        return None
    try:
        matches = find_accounts(connections().app, text, user=current_user())
    except GcrmError as exc:
        show_error(exc)
        return None
    if matches.empty:
        st.info("No account you can see has that name, ID, city or ZIP.")
        return None
    labels = {
        row.external_id: f"{row.name} ({row.external_id}, {row.city or '—'}, {row.state or '—'})"
        for row in matches.itertuples(index=False)
    }
    picked = st.selectbox(
        "Go to the account",
        list(labels),
        index=None,
        format_func=labels.get,
        placeholder=f"{len(matches)} found: pick one",
        key="find_pick",
    )
    if picked is None or picked == st.session_state.get(APPLIED_KEY):
        return None
    st.session_state[APPLIED_KEY] = picked
    return matches[matches["external_id"] == picked].iloc[0]
