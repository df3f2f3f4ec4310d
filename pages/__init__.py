"""The app's pages, one module per job, and what they share: pools, the acting user, errors.

``app.py`` registers each page file with ``st.navigation``. Shared code lives
here, in ``__init__``, because Streamlit treats every other ``pages/*.py``
file as a page of its own.
"""

from __future__ import annotations

import functools
import importlib
import logging
import runpy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import geopandas as gpd
import pandas as pd
import streamlit as st

from geo.analysis.cube import CUBE_MEASURES, Facts, cube
from geo.campaigns.audience import filter_choices
from geo.config import PROJECT_DIR, load_settings
from geo.errors import AccessDenied, DatabaseUnavailable, GcrmError
from geo.field.accounts import data_version, load_facts
from geo.maps.escaping import markdown_text
from geo.places.regions import load_regions
from geo.privacy.exports import export_refusal, record_export
from geo.privacy.sessions import (
    SESSION_COOKIE,
    SESSION_PATH,
    SIGN_OUT_PATH,
    NewSession,
    SessionLimits,
    authenticate,
    end_sessions,
    resume_session,
    session_alive,
    sign_in_by_email,
)
from geo.store.bootstrap import Connections, prepare_database
from geo.store.db import SYSTEM_USER
from geo.store.users import ALL_ROWS, ROLES, SignedIn
from territories.book_alignment import county_units, unit_shapes
from territories.model import load_book

_log = logging.getLogger(__name__)
WARM_MODULES = ("geo.analysis.cube_answers", "geo.analysis.hotspots", "geo.maps.builders", "territories.plan")
"""Slow first imports of the pages (esda, libpysal, folium …), done at start instead of on a first visit.

Not ``streamlit_folium``: importing it declares its component, which must happen in a script run.
"""
_run_state = threading.local()
"""Per script run (Streamlit runs each session's script on its own thread)."""
SESSION_USER_KEY = "gcrm_user"
"""Session-state key of the signed-in :class:`geo.store.users.SignedIn`."""
WANTED_PAGE_KEY = "gcrm_wanted_page"
"""Session-state key of the page an address named before signing in."""
POST_KEY = "gcrm_post_to_server"
"""Session-state key of the post the browser is to make to the ASGI layer: (path, form fields)."""
NOTICE_KEY = "gcrm_sign_in_notice"
"""Session-state key of why the sign-in form shows again (the session ended, sign-out failed)."""
POST_JS = """
export default function ({ data }) {
    fetch(data.path, {
        method: "POST",
        body: new URLSearchParams(data.fields),
        credentials: "same-origin",
        cache: "no-store",
    }).catch(() => {});
}
"""
"""Posts form fields from the page to a path of ``serve.py``, whose answer sets or clears the cookie.

The answer never reaches this script: the session token stays in the HttpOnly cookie.
"""
_post_to_server = st.components.v2.component("gcrm_post_to_server", js=POST_JS)
CALLBACK_ERROR_KEY = "gcrm_callback_error"
"""Session-state key of the error a widget callback raised, for the error boundary to show."""
PAGE_ROLES = {
    "home": ROLES,
    "region_map": ROLES,
    "trade_areas": ("admin", "manager", "marketer"),
    "campaigns": ("admin", "manager", "marketer"),
    "nearby": ("admin", "manager", "rep"),
    "territory_performance": ("admin", "manager"),
    "territory_design": ("admin", "manager"),
    "data": ("admin",),
    "admin": ("admin",),
}
"""Page (file name in ``pages/``) → roles that may open it."""


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
        As :func:`geo.places.regions.load_regions` returns.
    """
    return load_regions(connections().app, level, user=SYSTEM_USER)


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
def cached_book(scope: tuple, level: str, version: tuple, _user: str) -> pd.DataFrame:
    """Per-account units and figures per scope of visible rows, unit level and data version; read only."""
    return load_book(connections().app, level, user=_user)


@st.cache_resource(max_entries=4, show_spinner="Drawing units …")
def cached_units(user: str, level: str, codes: tuple[str, ...]) -> gpd.GeoDataFrame:
    """Unit polygons of a level (counties from the shared boundaries); read only."""
    if level == "county":
        return county_units(cached_regions("county"))
    return unit_shapes(connections().app, load_settings().data_dir, level, pd.Index(codes), user=user)


@st.cache_resource(max_entries=4, show_spinner="Loading accounts and orders …")
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
    """Load what the first visitor of the sales page would wait for: pool, boundaries, facts.

    Run once in a background thread when the server starts (``serve.py``); a database that
    is down only leaves the caches cold, with a warning in the server log.
    """
    for module in WARM_MODULES:
        importlib.import_module(module)
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").addFilter(
        _NotThisThread(threading.get_ident())
    )
    try:
        db = connections().app
        cached_regions("state")
        facts = cached_facts(ALL_ROWS, data_version(db, user=SYSTEM_USER), SYSTEM_USER)
        cube(facts, by="state", measures=list(CUBE_MEASURES))
        facts.periods  # noqa: B018 — computed once and kept by the facts
        for column in ("segment", "industry", "status"):
            facts.values(column)
    except GcrmError as exc:
        _log.warning("caches not warmed: %s", exc)


def signed_in() -> SignedIn | None:
    """Return who is signed in to this session, if anyone.

    Returns
    -------
    SignedIn or None
        The user, or None before signing in.
    """
    return st.session_state.get(SESSION_USER_KEY)


def session_user() -> SignedIn | None:
    """Find who is signed in to this run; called once per run, before anything else.

    A tab signed in earlier keeps its user only while their session holds: signed out in
    another tab, disabled, timed out or expired, it shows the sign-in form again. A new tab,
    a reload or a pasted link resumes the session of the browser's cookie. When the database
    cannot be reached the tab stays as it was, and the page says what is wrong.

    Returns
    -------
    SignedIn or None
        The user, or None when nobody is signed in.
    """
    user = signed_in()
    try:
        db = connections().app
        if user is not None:
            if user.session_id is None or session_alive(db, user):
                return user
            st.session_state.pop(SESSION_USER_KEY, None)
            st.session_state[NOTICE_KEY] = "Your session has ended; sign in again."
        token = st.context.cookies.get(SESSION_COOKIE)
        # Only text is a cookie: AppTest's stand-in client answers with placeholder objects.
        resumed = resume_session(db, token) if isinstance(token, str) and token else None
    except GcrmError:
        return user
    if resumed is not None:
        st.session_state[SESSION_USER_KEY] = resumed
    return resumed


def post_to_server() -> None:
    """Make the browser post what is pending to ``serve.py`` (once): a hand-off code, or a sign-out."""
    pending = st.session_state.pop(POST_KEY, None)
    if pending is not None:
        path, fields = pending
        _post_to_server(data={"path": path, "fields": fields}, key=f"gcrm_post_{path}")


class _NotThisThread(logging.Filter):
    """Drop the records of one thread: the warm-up's "missing ScriptRunContext" (it has none by design)."""

    def __init__(self, thread: int) -> None:
        super().__init__()
        self.thread = thread

    def filter(self, record: logging.LogRecord) -> bool:
        return record.thread != self.thread


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


def sign_in_view() -> None:
    """The only page before signing in: user name and password, or the identity provider."""
    st.title("Sign in to gcrm")
    if _identity_provider_configured():
        _sign_in_with_provider()
    notice = st.session_state.pop(NOTICE_KEY, None)
    if notice:
        st.info(notice, icon=":material/logout:")
    post_to_server()
    with st.form("sign_in"):
        username = st.text_input("User name", key="sign_in_user")
        password = st.text_input("Password", type="password", key="sign_in_password")
        submitted = st.form_submit_button("Sign in", type="primary")
    if submitted:
        try:
            new = authenticate(connections().app, username.strip(), password, limits=_session_limits())
        except GcrmError as exc:
            show_error(exc)
            return
        if new is None:
            st.error("Wrong user name or password, or the user is disabled.", icon=":material/lock:")
            return
        _signed_in_as(new)


def _session_limits() -> SessionLimits:
    return SessionLimits.from_settings(load_settings())


def _signed_in_as(new: NewSession) -> None:
    url = st.context.url or ""
    st.session_state[WANTED_PAGE_KEY] = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    st.session_state[SESSION_USER_KEY] = new.user
    st.session_state[POST_KEY] = (SESSION_PATH, {"code": new.handoff})
    st.rerun()


def wanted_page() -> str | None:
    """Return, once, the page the address named before signing in (deep links survive sign-in).

    Returns
    -------
    str or None
        A page name (file name in ``pages/``), or None.
    """
    return st.session_state.pop(WANTED_PAGE_KEY, None)


def _identity_provider_configured() -> bool:
    return st.secrets.load_if_toml_exists() and "auth" in st.secrets


def _sign_in_with_provider() -> None:
    if not st.user.is_logged_in:
        st.button("Sign in with your organisation's account", on_click=st.login, type="primary")
        st.divider()
        return
    new = sign_in_by_email(connections().app, str(st.user.get("email", "")), limits=_session_limits())
    if new is None:
        st.error("Your organisation's account has no enabled gcrm user; ask an admin to add your e-mail.")
        st.button("Sign out of the identity provider", on_click=st.logout)
        return
    _signed_in_as(new)


def sign_out() -> None:
    """End every session of the signed-in user, forget them here, remove the cookie.

    Other tabs and browsers of the user show the sign-in form on their next action; the
    identity provider's sign-in ends too.
    """
    user = st.session_state.pop(SESSION_USER_KEY, None)
    if user is not None:
        try:
            end_sessions(connections().app, user=user.username)
        except GcrmError as exc:
            st.session_state[NOTICE_KEY] = f"Signed out here only: {exc}"
    st.session_state[POST_KEY] = (SIGN_OUT_PATH, {})
    if _identity_provider_configured() and st.user.is_logged_in:
        st.logout()


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


def audited_download(
    container, label: str, data: str, file_name: str, mime: str, *, kind: str, target: str, rows: int
) -> None:
    """Offer a download of personal data to the roles that may export it; clicking it is audited.

    The button shows for the signed-in role; the click checks the role in the database again.

    Parameters
    ----------
    container
        Where the button goes (``st`` or a column).
    label, data, file_name, mime
        As :func:`streamlit.download_button` takes them.
    kind
        A key of :data:`geo.privacy.exports.PERSONAL_EXPORTS`.
    target
        What is exported, for the audit log.
    rows
        Rows in the file.
    """
    user = signed_in()
    refusal = export_refusal(kind, user.role if user else None)
    if refusal is not None:
        container.caption(refusal)
        return
    container.download_button(
        label,
        data,
        file_name=file_name,
        mime=mime,
        on_click=guarded(record_export),
        args=(connections().app, kind, target),
        kwargs={"rows": rows, "output_format": file_name.rsplit(".", 1)[-1], "user": current_user()},
    )
