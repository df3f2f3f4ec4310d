"""What pages cache: the database pools, boundaries, facts, cube answers, units and filter choices.

Shared caches are keyed by the user's scope of visible rows and the data version, so
users who see the same rows share one copy. Caches of large frames are resources (one
object shared read-only, never mutated): a data cache unpickles a copy on every hit, which
cost a county map 0.1 s of geometry parsing per rerun.
"""

from __future__ import annotations

import importlib
import logging
import threading
from datetime import timedelta

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo import clock
from geo.analysis.cube import CUBE_MEASURES, Facts, cube, parse_period
from geo.analysis.cube_answers import answer_cube
from geo.campaigns.audience import filter_choices
from geo.config import load_settings
from geo.errors import GcrmError
from geo.field.accounts import FACT_TABLES, data_version, load_facts
from geo.ingest.geocode import load_gazetteer
from geo.store.bootstrap import Connections, prepare_database
from geo.store.boundaries import load_regions
from geo.store.db import SYSTEM_USER
from geo.store.region_facts import fact_catalogue, read_facts
from geo.store.shipped_data import read_cities
from geo.store.users import ALL_ROWS, recent_scoped_users, user_scope
from pages._shared.user import current_scope, current_user
from territories.book_alignment import county_units, unit_shapes
from territories.model import load_book

_log = logging.getLogger(__name__)
WARM_MODULES = (
    "geo.analysis.cube_answers",
    "geo.analysis.hotspots",
    "geo.maps.region_maps",
    "geo.maps.point_maps",
    "territories.plan",
)
"""Slow first imports of the pages (esda, libpysal, folium …), done at start instead of on a first visit.

Not ``streamlit_folium``: importing it declares its component, which must happen in a script run.
"""
FACT_SCOPES_KEPT = 4
"""Scopes whose facts :func:`cached_facts` keeps (the whole book and three of reps and managers)."""
WARM_SIGNED_IN_WITHIN = timedelta(days=7)
"""The reps and managers who signed in this recently get their facts loaded when the server starts."""


@st.cache_resource(show_spinner="Starting the database …")
def connections() -> Connections:
    """Bring the database up once per server process and keep its pools.

    Returns
    -------
    Connections
        Owner and app-role pools.
    """
    return prepare_database(load_settings())


@st.cache_resource(show_spinner="Loading boundaries …")
def cached_regions(level: str) -> gpd.GeoDataFrame:
    """Region polygons of one level: the same for every user, so shared by all sessions; read only.

    Parameters
    ----------
    level
        ``state`` or ``county``.

    Returns
    -------
    GeoDataFrame
        As :func:`geo.store.boundaries.load_regions` returns.
    """
    return load_regions(connections().app, level, user=SYSTEM_USER)


@st.cache_resource(show_spinner=False)
def cached_places() -> gpd.GeoDataFrame:
    """The shipped populated places (what H3 cells are named by), the same for every user; read only.

    Returns
    -------
    GeoDataFrame
        As :func:`geo.store.shipped_data.read_cities` returns.
    """
    return read_cities(load_settings().data_dir)


@st.cache_data(max_entries=2, show_spinner=False)
def cached_county_facts(version: tuple) -> pd.DataFrame:
    """The counties' market facts, the same for every user: one column per fact, by county code.

    Parameters
    ----------
    version
        The ``region_facts`` change counter (the cache key), from :func:`county_facts_version`.

    Returns
    -------
    DataFrame
        As :func:`geo.store.region_facts.read_facts` returns for the county level.
    """
    return read_facts(connections().app, "county", user=SYSTEM_USER)


def county_facts_version() -> tuple:
    """The change counter of ``region_facts``, to key :func:`cached_county_facts` on."""
    return data_version(connections().app, user=SYSTEM_USER, tables=("region_facts",))


@st.cache_data(show_spinner=False)
def cached_fact_labels() -> dict[str, str]:
    """Fact → its label, from the fact catalogue (migrations define it)."""
    catalogue = fact_catalogue(connections().app, user=SYSTEM_USER)
    return dict(zip(catalogue["fact"], catalogue["label"], strict=True))


ANSWER_TABLES = (*FACT_TABLES, "region_facts", "territory_units")
"""Tables a cube answer on the map is built from (its cache key): facts, market figures, units."""


def answer_version() -> tuple:
    """The change counters of :data:`ANSWER_TABLES`, to key :func:`cached_answer` on."""
    return data_version(connections().app, user=current_user(), tables=ANSWER_TABLES)


@st.cache_resource(max_entries=64, show_spinner="Adding up …")
def cached_answer(
    scope: tuple,
    version: tuple,
    level: str,
    measures: tuple[str, ...],
    where: tuple[tuple[str, tuple[str, ...]], ...],
    period: str | None,
    _user: str,
    _facts: Facts,
) -> gpd.GeoDataFrame:
    """One cube answer with its members' names and shapes, shared by every session of a scope; read only.

    What Sales by region draws for a (scope, level, measures, filters, period, data version) is
    computed once: the managers of one region, or every admin, share it.

    Parameters
    ----------
    scope
        The acting user's scope of visible rows (a cache key).
    version
        :func:`answer_version` (a cache key).
    level
        The dimension to group by.
    measures
        The measures.
    where
        Dimension → allowed keys, as sorted pairs (a cache key).
    period
        The period as the user picked it (``2025``, ``2025Q1``, ``2025-03``), or None for all time.
    _user
        The acting user, who reads what the answer needs (not part of the key).
    _facts
        The facts of ``scope`` at ``version`` (not part of the key: the key already fixes them).

    Returns
    -------
    GeoDataFrame
        As :func:`geo.analysis.cube_answers.answer_cube` returns.
    """
    return answer_cube(
        connections().app,
        load_settings().data_dir,
        by=level,
        measures=list(measures),
        user=_user,
        where={field: list(keys) for field, keys in where} or None,
        period=parse_period(period) if period else None,
        facts=_facts,
        regions=cached_regions(level) if level in ("state", "county") else None,
    )


BOOK_TABLES = ("accounts", "orders", "interactions")
"""Tables the territory pages' per-account figures are built from (their cache key)."""


@st.cache_resource(max_entries=4, show_spinner="Loading accounts and their units …")
def cached_book(scope: tuple, level: str, version: tuple, _user: str) -> pd.DataFrame:
    """Per-account units and figures per scope of visible rows, unit level and data version; read only."""
    return load_book(connections().app, level, user=_user)


@st.cache_resource(max_entries=4, show_spinner="Drawing units …")
def cached_units(user: str, level: str, codes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Unit polygons of a level (counties from the shared boundaries); read only."""
    if level == "county":
        return county_units(cached_regions("county"))
    return unit_shapes(connections().app, load_settings().data_dir, level, pd.Index(codes), user=user)


@st.cache_resource(max_entries=FACT_SCOPES_KEPT, show_spinner="Loading accounts and orders …")
def cached_facts(scope: tuple, version: tuple, _user: str) -> Facts:
    """Facts per scope of visible rows and data version; shared read-only, never mutated.

    Users whose row-level security shows them the same rows (the same
    :attr:`geo.store.users.SignedIn.scope`) share one copy.

    Parameters
    ----------
    scope
        The acting user's scope (a cache key).
    version
        :func:`geo.field.accounts.data_version` of the facts' tables (a cache key).
    _user
        The acting user, who loads the facts (not part of the key).

    Returns
    -------
    Facts
        Accounts and won orders.
    """
    return load_facts(connections().app, user=_user)


@st.cache_data(max_entries=16, show_spinner=False)
def cached_choices(scope: tuple, version: tuple, _user: str) -> dict[str, list[str]]:
    """Segments, industries and statuses the accounts of a scope hold, per data version (filter options).

    Parameters
    ----------
    scope
        The acting user's scope (a cache key).
    version
        :func:`geo.field.accounts.data_version` of ``accounts`` (a cache key).
    _user
        The acting user, who reads them (not part of the key).

    Returns
    -------
    dict
        As :func:`geo.campaigns.audience.filter_choices` returns.
    """
    return filter_choices(connections().app, user=_user)


def book_choices() -> dict[str, list[str]]:
    """What the signed-in user's filters offer: the segments, industries and statuses of their accounts.

    Returns
    -------
    dict
        ``segment``, ``industry``, ``status`` → sorted values read from the book.
    """
    user = current_user()
    version = data_version(connections().app, user=user, tables=("accounts",))
    return cached_choices(current_scope(), version, user)


def warm_caches() -> None:
    """Load what the first visitors would wait for: pool, boundaries, gazetteer, facts.

    Run once in a background thread when the server starts (``serve.py``); a database that
    is down only leaves the caches cold, with a warning in the server log. Besides the whole
    book (every admin's and marketer's), the facts of the scopes of the reps and managers who
    signed in within :data:`WARM_SIGNED_IN_WITHIN` are loaded, as each of them, up to the
    scopes :func:`cached_facts` keeps: on Monday morning the team's first maps need no load.
    """
    for module in WARM_MODULES:
        importlib.import_module(module)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _NotThisThread(threading.get_ident())
    )
    try:
        db = connections().app
        cached_regions("state")
        load_gazetteer(load_settings().data_dir)
        version = data_version(db, user=SYSTEM_USER)
        _warm_facts(ALL_ROWS, version, SYSTEM_USER)
        warmed = {ALL_ROWS}
        since = clock.now() - WARM_SIGNED_IN_WITHIN
        for user in recent_scoped_users(db, since, limit=4 * FACT_SCOPES_KEPT):
            scope = user_scope(db, user=user)
            if len(warmed) < FACT_SCOPES_KEPT and scope not in warmed:
                _warm_facts(scope, version, user)
                warmed.add(scope)
    except GcrmError as exc:
        _log.warning("caches not warmed: %s", exc)


def _warm_facts(scope: tuple, version: tuple, user: str) -> None:
    """Load a scope's facts as one of its users, with what its first Sales by region map reads of them."""
    facts = cached_facts(scope, version, user)
    cube(facts, by="state", measures=list(CUBE_MEASURES))
    facts.periods  # noqa: B018 — computed once and kept by the facts
    for column in ("segment", "industry", "status"):
        facts.values(column)


class _NotThisThread(logging.Filter):
    """Drop the records of one thread: the warm-up's "missing ScriptRunContext" (it has none by design)."""

    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread
