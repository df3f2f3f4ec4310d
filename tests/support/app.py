"""The real app under Streamlit's ``AppTest``: signed in as a user, or through the sign-in form."""

from __future__ import annotations

import streamlit as st
from streamlit.testing.v1 import AppTest

from geo.config import PROJECT_DIR
from geo.store.users import SignedIn

APP = str(PROJECT_DIR / "app.py")
"""The app's entry script."""
SESSION_USER_KEY = "gcrm_user"
"""Session-state key of the signed-in user (as ``pages._shared.user`` keeps it)."""


def app_as(
    user: SignedIn,
    page: str | None = None,
    *,
    state: dict | None = None,
    query: dict | None = None,
    timeout: float = 120,
) -> AppTest:
    """Run the app with fresh caches for a signed-in user, then open a page.

    Parameters
    ----------
    user
        Who is signed in to the session.
    page
        A page file (``pages/….py``) to switch to after the first run, or None.
    state
        Session-state entries set before switching to the page.
    query
        The address's query parameters (a reload, or a link someone shared): name → a value or
        a list of values.
    timeout
        Seconds each run may take.

    Returns
    -------
    AppTest
        The app after its last run.
    """
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.session_state[SESSION_USER_KEY] = user
    at.query_params.update(query or {})
    at.run()
    for key, value in (state or {}).items():
        at.session_state[key] = value
    if page is not None:
        at.switch_page(page).run()
    return at


def address(at: AppTest) -> dict[str, list[str]]:
    """The app's query parameters as its page wrote them, each as a list of its values.

    Parameters
    ----------
    at
        The app after a run.

    Returns
    -------
    dict
        Parameter → its values.
    """
    return {key: value if isinstance(value, list) else [value] for key, value in at.query_params.items()}


def signed_in_through_form(username: str, password: str, *, timeout: float = 120) -> AppTest:
    """Run the app and sign in with the sign-in form.

    Parameters
    ----------
    username, password
        What is typed into the form.
    timeout
        Seconds each run may take.

    Returns
    -------
    AppTest
        The app after the sign-in's run.
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()
    at.text_input(key="sign_in_user").input(username)
    at.text_input(key="sign_in_password").input(password)
    at.button[0].click()
    at.run()
    return at
