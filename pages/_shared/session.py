"""Signing in and out: the sign-in form, resuming a session from its cookie, the page asked for."""

from __future__ import annotations

from urllib.parse import urlsplit

import streamlit as st

from geo.config import load_settings
from geo.errors import GcrmError
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
from geo.store.users import SignedIn
from pages._shared.caches import connections
from pages._shared.errors import show_error
from pages._shared.user import SESSION_USER_KEY, signed_in

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
    page = urlsplit(st.context.url or "").path.rstrip("/").rsplit("/", 1)[-1]
    # Every value of a repeated parameter (``?segment=SMB&segment=Enterprise``), not only the last.
    query = {key: st.query_params.get_all(key) for key in st.query_params}
    st.session_state[WANTED_PAGE_KEY] = (page, query)
    st.session_state[SESSION_USER_KEY] = new.user
    st.session_state[POST_KEY] = (SESSION_PATH, {"code": new.handoff})
    st.rerun()


def wanted_page() -> tuple[str, dict[str, list[str]]] | None:
    """Return, once, the page and query the address named before signing in (deep links survive sign-in).

    Returns
    -------
    tuple or None
        A page name (file name in ``pages/``) and its query parameters, each with every value
        it has (``?branch=7`` gives ``{"branch": ["7"]}``), or None.
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
