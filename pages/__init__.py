"""The app's pages, one module per job, and what they share: pools, the acting user, errors.

``app.py`` registers each page file with ``st.navigation``. Shared code lives
here, in ``__init__``, because Streamlit treats every other ``pages/*.py``
file as a page of its own.
"""

from __future__ import annotations

import importlib
import logging
import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.accounts import data_version, load_facts
from geo.bootstrap import Connections, prepare_database
from geo.config import PROJECT_DIR, load_settings
from geo.cube import CUBE_MEASURES, Facts, cube
from geo.errors import DatabaseUnavailable, GcrmError
from geo.regions import load_regions
from territories.alignio import county_units, unit_shapes
from territories.model import load_book

_log = logging.getLogger(__name__)
WARM_MODULES = ("geo.cubeio", "geo.hotspots", "geo.maps", "territories.plan")
"""Slow first imports of the pages (esda, libpysal, folium …), done at start instead of on a first visit.

Not ``streamlit_folium``: importing it declares its component, which must happen in a script run.
"""
_run_state = threading.local()
"""Per script run (Streamlit runs each session's script on its own thread)."""
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


@st.cache_data(show_spinner="Loading boundaries …")
def cached_regions(level: str) -> gpd.GeoDataFrame:
    """Region polygons of one level: the same for every user, so cached for all sessions.

    Parameters
    ----------
    level
        ``state`` or ``county``.

    Returns
    -------
    GeoDataFrame
        As :func:`geo.regions.load_regions` returns.
    """
    return load_regions(connections().app, level, user=current_user())


KPI_LABELS = {
    "accounts": "Accounts",
    "customers": "Customers",
    "revenue": "Revenue, 12 months",
    "revenue_previous": "Revenue, 12 months before",
    "growth": "Growth (%)",
    "pipeline": "Pipeline",
    "visits": "Visits, 12 months",
    "quota": "Quota",
    "quota_attainment": "Quota attainment (%)",
    "population": "Population",
    "penetration": "Customers per 10,000 people",
}
"""KPI → label, for territory pages."""
BOOK_TABLES = ("accounts", "orders", "interactions")
"""Tables the territory pages' per-account figures are built from (their cache key)."""


@st.cache_resource(max_entries=4, show_spinner="Loading accounts and their units …")
def cached_book(user: str, level: str, version: tuple) -> pd.DataFrame:
    """Per-account units and figures per user, unit level and data version; read only."""
    return load_book(connections().app, level, user=user)


@st.cache_resource(max_entries=4, show_spinner="Drawing units …")
def cached_units(user: str, level: str, codes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Unit polygons of a level (counties from the shared boundaries); read only."""
    if level == "county":
        return county_units(cached_regions("county"))
    return unit_shapes(connections().app, load_settings().data_dir, level, pd.Index(codes), user=user)


@st.cache_resource(max_entries=4, show_spinner="Loading accounts and orders …")
def cached_facts(user: str, version: tuple) -> Facts:
    """Facts per user and data version; shared read-only, never mutated.

    Parameters
    ----------
    user
        The acting user.
    version
        :func:`geo.accounts.data_version` of the facts' tables (the cache key).

    Returns
    -------
    Facts
        Accounts and won orders.
    """
    return load_facts(connections().app, user=user)


def warm_caches() -> None:
    """Load what the first visitor of the sales page would wait for: pool, boundaries, facts.

    Run once in a background thread when the server starts (``serve.py``); a database that
    is down only leaves the caches cold, with a warning in the server log.
    """
    for module in WARM_MODULES:
        importlib.import_module(module)
    try:
        db = connections().app
        cached_regions("state")
        facts = cached_facts(LOCAL_USER, data_version(db, user=LOCAL_USER))
        cube(facts, by="state", measures=list(CUBE_MEASURES))
        facts.periods  # noqa: B018 — computed once and kept by the facts
        for column in ("segment", "industry", "status"):
            facts.values(column)
    except GcrmError as exc:
        _log.warning("caches not warmed: %s", exc)


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


@contextmanager
def navigating() -> Iterator[None]:
    """Mark the current script run as one that went through ``app.py``'s navigation."""
    _run_state.through_app = True
    try:
        yield
    finally:
        _run_state.through_app = False


def opened_through_app() -> bool:
    """Tell whether this page runs inside the app's navigation; if not, run the app instead.

    Streamlit runs ``pages/<name>.py`` on its own when a fresh server's first
    visitor opens ``/<name>``, before ``app.py`` has declared its navigation.
    Such a run hands over to ``app.py``, which gives that visitor the real app
    and then runs this page through the navigation.

    Returns
    -------
    bool
        True when the page should render; False when the app ran in its place.
    """
    if getattr(_run_state, "through_app", False):
        return True
    runpy.run_path(str(PROJECT_DIR / "app.py"), run_name="__main__")
    return False
