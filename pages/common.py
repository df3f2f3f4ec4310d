"""What every page shares: the database pools, the acting user, and how errors are shown."""

from __future__ import annotations

import streamlit as st

from geo.bootstrap import Connections, prepare_database
from geo.config import load_settings
from geo.errors import DatabaseUnavailable, GcrmError

LOCAL_USER = "local"
"""Acting user until logins exist: the person at this self-hosted install."""


@st.cache_resource(show_spinner="Starting the database …")
def connections() -> Connections:
    """Bring the database up once per server process and keep its pools.

    Returns
    -------
    Connections
        Owner and app-role pools.
    """
    return prepare_database(load_settings())


def current_user() -> str:
    """Return the name of the person using this session.

    Returns
    -------
    str
        The acting user recorded with every transaction.
    """
    return LOCAL_USER


def show_error(exc: GcrmError) -> None:
    """Tell the user what went wrong and what to do, without a traceback.

    Parameters
    ----------
    exc
        The domain error raised by the core.
    """
    if isinstance(exc, DatabaseUnavailable):
        connections.clear()
        st.error(f"The database is not reachable. {exc}", icon=":material/cloud_off:")
    else:
        st.error(str(exc), icon=":material/error:")
