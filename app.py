"""gcrm's Streamlit entry point: navigation over the pages and the one-time database bootstrap."""

import streamlit as st

from geo.errors import GcrmError
from pages import connections, navigating, show_error

st.set_page_config(page_title="gcrm", page_icon=":world_map:", layout="wide")

PAGES = [
    st.Page("pages/home.py", title="Overview", icon=":material/dashboard:", default=True),
    st.Page("pages/region_map.py", title="Sales by region", icon=":material/map:"),
    st.Page("pages/trade_areas.py", title="Trade areas", icon=":material/radar:"),
    st.Page("pages/campaigns.py", title="Campaigns", icon=":material/campaign:"),
    st.Page("pages/nearby.py", title="Nearby accounts", icon=":material/near_me:"),
    st.Page("pages/territory_performance.py", title="Territory performance", icon=":material/leaderboard:"),
    st.Page("pages/territory_design.py", title="Territory design", icon=":material/edit_location_alt:"),
    st.Page("pages/data.py", title="Data", icon=":material/upload_file:"),
]

navigation = st.navigation(PAGES)
try:
    connections()
except GcrmError as exc:
    show_error(exc)
    st.stop()
with navigating():
    navigation.run()
