"""Users and audit log (admins): who may sign in with which role, and what they did."""

import streamlit as st

from geo.errors import GcrmError
from geo.maps.escaping import markdown_text
from geo.store.audit import AUDITED_ACTIONS, audit_entries
from geo.store.users import list_users, set_disabled
from pages._shared.caches import connections
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.user import current_user

USER_LABELS = {
    "username": "User",
    "display_name": "Name",
    "email": "E-mail",
    "role": "Role",
    "rep": "Rep ID",
    "territory": "Manages",
    "disabled": "Disabled",
    "last_login_at": "Last sign-in",
}
AUDIT_LABELS = {
    "occurred_at": "When",
    "actor": "Who",
    "action": "Action",
    "target": "What",
    "details": "Details",
}


def render() -> None:
    """Show the users (disable or enable one) and the latest audit entries."""
    st.title("Users and audit log")
    db = connections().app
    user = current_user()
    try:
        users = list_users(db, user=user)
    except GcrmError as exc:
        show_error(exc)
        return
    st.subheader("Users")
    st.caption("Add users with `gcrm users add NAME --role ROLE`; passwords never reach this page.")
    st.dataframe(users.rename(columns=USER_LABELS), hide_index=True, width="stretch")
    others = [name for name in users["username"] if name != user]
    chosen = st.selectbox("User", others, index=None, placeholder="Choose a user to disable or enable")
    if chosen is not None:
        disabled = bool(users.set_index("username").at[chosen, "disabled"])
        label = "Enable" if disabled else "Disable"
        if st.button(f"{label} {markdown_text(chosen)}", key="toggle_user"):
            try:
                set_disabled(db, chosen, disabled=not disabled, actor=user)
            except GcrmError as exc:
                show_error(exc)
                return
            st.rerun()
    st.subheader("Audit log")
    action = st.selectbox("Action", AUDITED_ACTIONS, index=None, placeholder="Every action")
    try:
        entries = audit_entries(db, user=user, action=action)
    except GcrmError as exc:
        show_error(exc)
        return
    st.caption(f"The latest {len(entries):,} entries, newest first.")
    st.dataframe(entries.rename(columns=AUDIT_LABELS), hide_index=True, width="stretch")


if opened_through_app():
    render()
