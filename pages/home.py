"""Overview: headline figures of the book of business."""

import streamlit as st

from geo.errors import GcrmError
from geo.field.accounts import headline_counts
from pages._shared.caches import connections
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.user import current_user


def render() -> None:
    """Show the headline counts of the book."""
    st.title("Overview")
    try:
        counts = headline_counts(connections().app, user=current_user())
    except GcrmError as exc:
        show_error(exc)
        return
    if counts["accounts"] == 0:
        st.info("No accounts yet. Load the demo book with `gcrm demo`, or import your accounts.")
    columns = st.columns(4)
    columns[0].metric("Accounts", f"{counts['accounts']:,}")
    columns[1].metric("Customers", f"{counts['customers']:,}")
    columns[2].metric("Prospects", f"{counts['prospects']:,}")
    columns[3].metric("Churned", f"{counts['churned']:,}")
    columns = st.columns(4)
    columns[0].metric("Revenue, last 12 months", f"${counts['revenue_12m']:,.0f}")
    columns[1].metric("Sales reps", f"{counts['reps']:,}")
    columns[2].metric("Branches", f"{counts['branches']:,}")
    columns[3].metric("Accounts not on the map", f"{counts['unplaced']:,}")
    st.page_link("pages/region_map.py", label="See sales by state, county and ZIP", icon=":material/map:")


if opened_through_app():
    render()
