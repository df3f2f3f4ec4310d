"""Who is signed in to this session: the user, their name and their scope of visible rows."""

from __future__ import annotations

import streamlit as st

from geo.errors import AccessDenied
from geo.store.users import SignedIn

SESSION_USER_KEY = "gcrm_user"
"""Session-state key of the signed-in :class:`geo.store.users.SignedIn`."""


def signed_in() -> SignedIn | None:
    """Return who is signed in to this session, if anyone.

    Returns
    -------
    SignedIn or None
        The user, or None before signing in.
    """
    return st.session_state.get(SESSION_USER_KEY)


def current_user() -> str:
    """Return the name of the person using this session.

    Returns
    -------
    str
        The acting user recorded with every transaction.
    """
    user = signed_in()
    if user is None:
        msg = "Sign in first."
        raise AccessDenied(msg)
    return user.username


def current_scope() -> tuple:
    """Return the signed-in user's scope of visible rows (a cache key).

    Returns
    -------
    tuple
        See :attr:`geo.store.users.SignedIn.scope`.
    """
    user = signed_in()
    return () if user is None else user.scope
