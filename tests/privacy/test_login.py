"""Signing in to the app (AppTest against the demo book): passwords, disabled users, pages per role."""

from __future__ import annotations

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest
from support.app import signed_in_through_form

from geo.config import PROJECT_DIR, Settings
from geo.errors import UserError
from geo.privacy.sessions import LOCK_MINUTES, MAX_FAILURES, authenticate
from geo.store.audit import audit_entries
from geo.store.bootstrap import Connections, prepare_database
from geo.store.users import DEMO_USERS, add_user, list_users, reset_password, set_disabled

APP = str(PROJECT_DIR / "app.py")


@pytest.fixture
def demo_app(planned: tuple[Settings, Connections], environment) -> Settings:
    """The planned demo book (demo users, starter plan) as the app's database."""
    settings, _conns = planned
    environment(settings)
    st.cache_resource.clear()
    st.cache_data.clear()
    return settings


def _sign_in(username: str, password: str) -> AppTest:
    return signed_in_through_form(username, password)


def test_without_signing_in_every_page_shows_only_the_sign_in_form(demo_app: Settings) -> None:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    assert [t.value for t in at.title] == ["Sign in to gcrm"]
    for page in ("pages/region_map.py", "pages/nearby.py", "pages/admin.py", "pages/data.py"):
        with pytest.raises(Exception, match="Could not find a navigation page"):
            at.switch_page(page).run()
    assert not at.metric and not at.dataframe


def test_wrong_password_and_unknown_user_are_refused_and_audited(demo_app: Settings) -> None:
    for username, password in (("admin", "not-the-password"), ("nobody-here", "whatever1")):
        at = _sign_in(username, password)
        assert not at.exception
        assert [t.value for t in at.title] == ["Sign in to gcrm"]
        assert "Wrong user name or password" in at.error[0].value
    conns = prepare_database(demo_app)
    failed = audit_entries(conns.app, user="t", action="login.failed")
    conns.close()
    assert {"admin", "nobody-here"} <= set(failed["actor"])


def test_a_disabled_user_is_refused(demo_app: Settings) -> None:
    conns = prepare_database(demo_app)
    set_disabled(conns.owner, "marketer", disabled=True, actor="t")
    try:
        assert authenticate(conns.app, "marketer", "marketer-demo") is None
        at = _sign_in("marketer", "marketer-demo")
        assert "Wrong user name or password, or the user is disabled" in at.error[0].value
        reasons = audit_entries(conns.app, user="t", action="login.failed")["details"]
        assert reasons.str.contains("user disabled").any()
    finally:
        set_disabled(conns.owner, "marketer", disabled=False, actor="t")
        conns.close()


@pytest.mark.parametrize(("username", "password"), [(u, p) for u, _r, p, _n in DEMO_USERS])
def test_each_demo_user_signs_in_and_sees_the_pages_of_their_role(
    demo_app: Settings, username: str, password: str
) -> None:
    at = _sign_in(username, password)
    assert not at.exception, [e.message for e in at.exception]
    assert at.title[0].value == "Overview"
    assert any(f"({at.session_state['gcrm_user'].role})" in c.value for c in at.caption)
    role = at.session_state["gcrm_user"].role
    reachable = {"admin": "pages/admin.py", "rep": "pages/nearby.py", "marketer": "pages/campaigns.py"}
    unreachable = {"rep": "pages/campaigns.py", "marketer": "pages/nearby.py", "manager": "pages/admin.py"}
    if role in reachable:
        at.switch_page(reachable[role]).run()
        assert not at.exception
    if role in unreachable:
        with pytest.raises(Exception, match="Could not find a navigation page"):
            at.switch_page(unreachable[role]).run()
    conns = prepare_database(demo_app)
    logins = audit_entries(conns.app, user="t", action="login")
    conns.close()
    assert username in set(logins["actor"])


def test_a_rep_sees_only_their_accounts_on_the_overview(demo_app: Settings) -> None:
    admin = _sign_in("admin", "admin-demo")
    rep = _sign_in("rep", "rep-demo")
    total = int(admin.metric[0].value.replace(",", ""))
    own = int(rep.metric[0].value.replace(",", ""))
    conns = prepare_database(demo_app)
    with conns.owner.transaction(user="t") as cur:
        cur.execute(
            "SELECT count(*) FROM accounts a JOIN territories t USING (territory_id)"
            " JOIN app_users u ON u.rep_id = t.rep_id WHERE u.username = 'rep'"
        )
        expected = cur.fetchone()[0]
    conns.close()
    assert total == 1_500
    assert 0 < own == expected < total


def test_admins_read_the_audit_log_and_disable_users_in_the_app(demo_app: Settings) -> None:
    at = _sign_in("admin", "admin-demo")
    at.switch_page("pages/admin.py").run()
    assert not at.exception, [e.message for e in at.exception]
    users, entries = (d.value for d in at.dataframe)
    assert {"admin", "manager", "marketer", "rep"} <= set(users["User"])
    assert not [c for c in users.columns if "password" in c.lower() or "hash" in c.lower()]
    assert {"login", "territory.publish"} <= set(entries["Action"])
    assert entries.loc[entries["Action"] == "login", "Who"].iloc[0] == "admin"
    at.selectbox[0].set_value("rep").run()
    at.button(key="toggle_user").click().run()
    assert not at.exception
    assert _sign_in("rep", "rep-demo").error, "a disabled rep signed in"
    conns = prepare_database(demo_app)
    disabled = audit_entries(conns.app, user="t", action="user.disable")
    conns.close()
    assert disabled[["actor", "target"]].values.tolist() == [["admin", "rep"]]


def _shows_sign_in_form(at: AppTest) -> bool:
    return [t.value for t in at.title] == ["Sign in to gcrm"]


def test_after_five_wrong_passwords_the_form_says_the_user_is_throttled(demo_app: Settings) -> None:
    errors = [_sign_in("manager", "not-the-password").error[0].value for _ in range(MAX_FAILURES)]
    assert all("Wrong user name or password" in e for e in errors[:-1])
    throttled = f"Too many failed sign-ins for this user; try again in {LOCK_MINUTES} minutes."
    assert errors[-1] == throttled
    at = _sign_in("manager", "manager-demo")
    assert _shows_sign_in_form(at) and at.error[0].value == throttled
    conns = prepare_database(demo_app)
    throttled_entries = audit_entries(conns.app, user="t", action="login.throttled")
    conns.close()
    assert throttled_entries["actor"].tolist() == ["manager"]


def test_signing_out_in_one_tab_signs_out_the_others_on_their_next_action(demo_app: Settings) -> None:
    first, second = _sign_in("marketer", "marketer-demo"), _sign_in("marketer", "marketer-demo")
    assert first.title[0].value == second.title[0].value == "Overview"
    next(b for b in first.button if b.label == "Sign out").click().run()
    assert _shows_sign_in_form(first)
    second.run()
    assert _shows_sign_in_form(second), "the other tab stayed signed in"
    assert "Your session has ended" in second.info[0].value
    assert "gcrm_user" not in second.session_state


def test_disabling_a_user_in_the_app_signs_out_their_open_tab(demo_app: Settings) -> None:
    rep = _sign_in("rep", "rep-demo")
    assert rep.title[0].value == "Overview"
    admin = _sign_in("admin", "admin-demo")
    admin.switch_page("pages/admin.py").run()
    admin.selectbox[0].set_value("rep").run()
    admin.button(key="toggle_user").click().run()
    assert not admin.exception
    rep.run()
    assert _shows_sign_in_form(rep), "a disabled user's tab stayed signed in"


def test_admins_add_users_and_reset_passwords_in_the_app(demo_app: Settings) -> None:
    rep_tab = _sign_in("rep", "rep-demo")
    assert rep_tab.title[0].value == "Overview"
    admin = _sign_in("admin", "admin-demo")
    admin.switch_page("pages/admin.py").run()
    assert not admin.exception, [e.message for e in admin.exception]
    admin.text_input(key="new_username").set_value("nina")
    admin.text_input(key="new_display_name").set_value("Nina <b>New</b>")
    admin.selectbox(key="new_role").set_value("rep")
    reps = admin.selectbox(key="new_rep").options
    assert reps and all(" · " in option for option in reps)
    admin.selectbox(key="new_rep").set_value(admin.selectbox(key="new_rep").options[0].split(" · ")[0])
    admin.text_input(key="new_password").set_value("nina-password-1")
    admin.button[[b.label for b in admin.button].index("Add the user")].click().run()
    assert not admin.exception and not admin.error, [e.value for e in admin.error]
    assert "Added nina (rep)." in [s.value for s in admin.success]
    assert "nina" in set(admin.dataframe[0].value["User"])
    assert _sign_in("nina", "nina-password-1").title[0].value == "Overview"

    admin.text_input(key="new_username").set_value("nina")
    admin.selectbox(key="new_role").set_value("admin")
    admin.text_input(key="new_password").set_value("another-password")
    admin.button[[b.label for b in admin.button].index("Add the user")].click().run()
    assert "User 'nina' exists already." in [e.value for e in admin.error]

    admin.selectbox[0].set_value("rep").run()
    admin.text_input(key="reset_password").set_value("short")
    admin.button[[b.label for b in admin.button].index("Reset the password")].click().run()
    assert "A password needs at least 8 characters." in [e.value for e in admin.error]
    admin.selectbox[0].set_value("rep").run()
    admin.text_input(key="reset_password").set_value("rep-new-password")
    admin.button[[b.label for b in admin.button].index("Reset the password")].click().run()
    assert not admin.exception
    assert any("New password set for rep" in s.value for s in admin.success)
    assert _sign_in("rep", "rep-demo").error, "the old password still signs in"
    assert _sign_in("rep", "rep-new-password").title[0].value == "Overview"
    rep_tab.run()
    assert _shows_sign_in_form(rep_tab), "a reset user's open tab stayed signed in"
    conns = prepare_database(demo_app)
    added = audit_entries(conns.app, user="t", action="user.add")
    reset = audit_entries(conns.app, user="t", action="user.password")
    conns.close()
    assert ["admin", "nina"] in added[["actor", "target"]].values.tolist()
    assert reset[["actor", "target"]].values.tolist() == [["admin", "rep"]]


def test_only_admins_add_users_or_reset_passwords(demo_app: Settings) -> None:
    conns = prepare_database(demo_app)
    try:
        for user in ("manager", "marketer", "rep"):
            with pytest.raises(UserError, match="Only admins add users"):
                add_user(conns.app, f"by-{user}", role="admin", password="sneaky-password", actor=user)
            with pytest.raises(UserError, match="Only admins reset passwords"):
                reset_password(conns.app, "admin", "sneaky-password", actor=user)
        assert _sign_in("admin", "admin-demo").title[0].value == "Overview"
        assert "by-rep" not in set(list_users(conns.app, user="admin")["username"])
    finally:
        conns.close()
