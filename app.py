"""gcrm's Streamlit entry point: sign-in, navigation over the pages the user's role may open."""

import streamlit as st

from geo.errors import GcrmError
from pages._shared.caches import connections
from pages._shared.errors import run_page, show_error
from pages._shared.navigation import PAGE_ROLES
from pages._shared.session import post_to_server, session_user, sign_in_view, sign_out, wanted_page

st.set_page_config(page_title="gcrm", page_icon=":world_map:", layout="wide")

PAGES = {
    "home": st.Page("pages/home.py", title="Overview", icon=":material/dashboard:", default=True),
    "region_map": st.Page("pages/region_map.py", title="Sales by region", icon=":material/map:"),
    "trade_areas": st.Page("pages/trade_areas.py", title="Trade areas", icon=":material/radar:"),
    "campaigns": st.Page("pages/campaigns.py", title="Campaigns", icon=":material/campaign:"),
    "nearby": st.Page("pages/nearby.py", title="Nearby accounts", icon=":material/near_me:"),
    "territory_performance": st.Page(
        "pages/territory_performance.py", title="Territory performance", icon=":material/leaderboard:"
    ),
    "territory_design": st.Page(
        "pages/territory_design.py", title="Territory design", icon=":material/edit_location_alt:"
    ),
    "data": st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
    "admin": st.Page("pages/admin.py", title="Users and audit log", icon=":material/admin_panel_settings:"),
}

user = session_user()
if user is None:
    # Every page's address leads to the sign-in form (no "page not found"), and back after it.
    navigation = st.navigation(
        [st.Page(sign_in_view, title="Sign in", icon=":material/login:", default=True)]
        + [st.Page(sign_in_view, title="Sign in", url_path=name) for name in PAGES if name != "home"],
        position="hidden",
    )
else:
    allowed = [name for name in PAGES if user.role in PAGE_ROLES[name]]
    navigation = st.navigation([PAGES[name] for name in allowed])
    wanted = wanted_page()
    if wanted is not None and wanted[0] in allowed and wanted[0] != "home":
        st.switch_page(PAGES[wanted[0]], query_params=wanted[1])
try:
    connections()
except GcrmError as exc:
    show_error(exc)
    st.stop()
if user is not None:
    with st.sidebar:
        st.caption(f"Signed in as **{user.display_name}** ({user.role})")
        st.button("Sign out", on_click=sign_out, icon=":material/logout:")
        post_to_server()
run_page(navigation)
