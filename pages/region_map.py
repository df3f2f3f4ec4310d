"""Accounts by region: a choropleth of the book by state or county, with a legend and a table."""

import streamlit as st
from streamlit_folium import st_folium

from geo.accounts import account_counts_by_region
from geo.cube import MEASURES, region_measures
from geo.errors import GcrmError
from geo.maps import SCHEMES, choropleth_map
from pages import cached_regions, connections, current_user, opened_through_app, show_error

ALL_STATES = "All states"
LEVEL_PLURALS = {"state": "states", "county": "counties"}


def render() -> None:
    """Show the choropleth of accounts by state or county, with its table."""
    st.title("Accounts by region")
    controls = st.columns([1, 1, 1, 1.4])
    level = controls[0].radio("Level", ["state", "county"], format_func=str.title, horizontal=True)
    measure = controls[1].selectbox("Measure", list(MEASURES), format_func=MEASURES.get)
    scheme = controls[2].selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get)

    try:
        states = cached_regions("state")
        regions = cached_regions(level)
        counts = account_counts_by_region(connections().app, level, user=current_user())
    except GcrmError as exc:
        show_error(exc)
        return

    bounds = None
    if level == "county":
        state_names = [ALL_STATES, *states.sort_values("name")["name"]]
        chosen = controls[3].selectbox("State", state_names)
        if chosen != ALL_STATES:
            regions = regions[regions["parent_name"] == chosen]
            bounds = tuple(regions.total_bounds)

    measured = region_measures(regions, counts)
    if counts.empty:
        st.info(
            "No accounts are placed on the map yet. Load the demo book with `gcrm demo`, or import accounts."
        )

    tooltip = {"name": "County" if level == "county" else "State"}
    if level == "county":
        tooltip["parent_name"] = "State"
    tooltip.update({key: label for key, label in MEASURES.items()})
    fmap = choropleth_map(
        measured,
        value=measure,
        value_label=MEASURES[measure],
        tooltip=tooltip,
        scheme=scheme,
        bounds=bounds,
    )

    map_column, table_column = st.columns([3, 2])
    with map_column:
        st_folium(fmap, height=560, use_container_width=True, returned_objects=[], key=f"map-{level}")
    with table_column:
        st.markdown(f"**Top {LEVEL_PLURALS[level]} by {MEASURES[measure].lower()}**")
        table = measured.drop(columns="geometry").sort_values(measure, ascending=False).head(50)
        st.dataframe(
            table[list(tooltip)].rename(columns=tooltip),
            hide_index=True,
            column_config={
                label: st.column_config.NumberColumn(format="localized") for label in MEASURES.values()
            },
            height=520,
            width="stretch",
        )


if opened_through_app():
    render()
