"""The app's one error boundary: domain errors become readable messages, never tracebacks."""

from __future__ import annotations

import functools
from collections.abc import Callable

import streamlit as st

from geo.errors import DatabaseUnavailable, GcrmError
from geo.maps.escaping import markdown_text
from pages._shared.navigation import navigating

CALLBACK_ERROR_KEY = "gcrm_callback_error"
"""Session-state key of the error a widget callback raised, for the error boundary to show."""


def show_error(exc: GcrmError) -> None:
    """Tell the user what went wrong and what to do, without a traceback.

    Parameters
    ----------
    exc
        The domain error raised by the core.
    """
    if isinstance(exc, DatabaseUnavailable):
        st.error(
            "The database is not reachable; the app reconnects by itself once it is back. "
            + markdown_text(exc),
            icon=":material/cloud_off:",
        )
    else:
        st.error(markdown_text(exc), icon=":material/error:")


def run_page(page: st.Page) -> None:
    """Run the page the navigation chose, inside the app's one error boundary.

    Any :class:`geo.errors.GcrmError` a page raises, however deep, ends the page with a
    readable message (:func:`show_error`) instead of a traceback; so does one raised by a
    widget callback of the page (see :func:`guarded`). Streamlit's own control flow (rerun,
    stop, switch page) passes through.

    Parameters
    ----------
    page
        What ``st.navigation`` returned.
    """
    failed = st.session_state.pop(CALLBACK_ERROR_KEY, None)
    if failed is not None:
        show_error(failed)
    with navigating():
        try:
            page.run()
        except GcrmError as exc:
            show_error(exc)


def guarded(callback: Callable[..., None]) -> Callable[..., None]:
    """Let the error boundary report what a widget callback raises.

    Streamlit runs callbacks (``on_click`` …) before the script, outside :func:`run_page`:
    a :class:`geo.errors.GcrmError` raised there is kept for the boundary to show.

    Parameters
    ----------
    callback
        The callback.

    Returns
    -------
    callable
        The callback, guarded.
    """

    @functools.wraps(callback)
    def run(*args, **kwargs) -> None:
        try:
            callback(*args, **kwargs)
        except GcrmError as exc:
            st.session_state[CALLBACK_ERROR_KEY] = exc

    return run
