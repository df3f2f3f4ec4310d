"""Users and audit log (admins): who may sign in with which role, and what they did."""

import streamlit as st

from geo.errors import GcrmError
from geo.maps.escaping import markdown_text
from geo.store.audit import AUDITED_ACTIONS, audit_entries
from geo.store.users import ROLES, add_user, list_users, reset_password, set_disabled, user_choices
from pages._shared.caches import connections
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.tables import readable
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
    notice = st.session_state.pop("admin_notice", None)
    if notice:
        st.success(notice)
    st.dataframe(readable(users, labels=USER_LABELS), hide_index=True, width="stretch")
    others = [name for name in users["username"] if name != user]
    chosen = st.selectbox("User", others, index=None, placeholder="Choose a user to disable, enable or reset")
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
        with st.form("reset_password", clear_on_submit=True):
            password = st.text_input(
                f"New password for {markdown_text(chosen)}", type="password", key="reset_password"
            )
            if st.form_submit_button("Reset the password"):
                try:
                    reset_password(db, chosen, password, actor=user)
                except GcrmError as exc:
                    show_error(exc)
                else:
                    st.session_state["admin_notice"] = (
                        f"New password set for {chosen}; their sessions ended. Tell them in person."
                    )
                    st.rerun()
    _add_user_form(db, user)
    st.subheader("Audit log")
    action = st.selectbox("Action", AUDITED_ACTIONS, index=None, placeholder="Every action")
    try:
        entries = audit_entries(db, user=user, action=action)
    except GcrmError as exc:
        show_error(exc)
        return
    st.caption(f"The latest {len(entries):,} entries, newest first.")
    st.dataframe(readable(entries, labels=AUDIT_LABELS), hide_index=True, width="stretch")


def _add_user_form(db, user: str) -> None:
    """A form that adds a user: the rep and the managed region are picked from the book."""
    try:
        choices = user_choices(db, user=user)
    except GcrmError as exc:
        show_error(exc)
        return
    with st.expander("Add a user"), st.form("add_user", clear_on_submit=True):
        left, right = st.columns(2)
        username = left.text_input("User name", key="new_username")
        role = right.selectbox("Role", ROLES, index=ROLES.index("rep"), key="new_role")
        display_name = left.text_input("Name", key="new_display_name")
        email = right.text_input("E-mail (for the identity provider; optional)", key="new_email")
        rep = left.selectbox(
            "Rep (for a rep)",
            list(choices.reps),
            index=None,
            format_func=lambda code: f"{code} · {choices.reps[code]}",
            key="new_rep",
        )
        territory = right.selectbox(
            "Manages (for a manager)",
            list(choices.territories),
            index=None,
            format_func=lambda code: f"{code} · {choices.territories[code]}",
            key="new_territory",
        )
        password = st.text_input(
            "Password (at least 8 characters; empty: identity provider only)",
            type="password",
            key="new_password",
        )
        if st.form_submit_button("Add the user"):
            try:
                add_user(
                    db,
                    username.strip(),
                    role=role,
                    password=password or None,
                    actor=user,
                    rep=rep if role == "rep" else None,
                    territory=territory if role == "manager" else None,
                    email=email.strip() or None,
                    display_name=display_name.strip() or None,
                )
            except GcrmError as exc:
                show_error(exc)
            else:
                st.session_state["admin_notice"] = f"Added {username.strip()} ({role})."
                st.rerun()


if opened_through_app():
    render()
