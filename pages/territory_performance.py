"""Territory performance: KPIs per territory and rep, on a map and in a table that stay in sync."""

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.errors import GcrmError
from geo.field.accounts import data_version
from geo.maps.classification import SCHEMES
from geo.maps.clicks import clicked_key
from geo.maps.escaping import markdown_text
from geo.maps.region_maps import choropleth_map
from geo.privacy.exports import csv_text
from pages._shared.caches import BOOK_TABLES, cached_book, cached_units, connections
from pages._shared.errors import show_error
from pages._shared.labels import KPI_KINDS, KPI_LABELS
from pages._shared.navigation import opened_through_app
from pages._shared.tables import show_table
from pages._shared.user import current_scope, current_user
from territories.metrics import balance_index, rep_kpis, territory_kpis
from territories.model import active_version, territory_table, version_plan
from territories.plan import outlines


@st.cache_resource(max_entries=4, show_spinner="Drawing territories …")
def cached_outlines(user: str, version: int) -> gpd.GeoDataFrame:
    """Territory outlines of a plan version; read only."""
    level, plan, _locked = version_plan(connections().app, version, user=user)
    units = cached_units(user, level, tuple(plan.index) if level != "county" else ())
    return outlines(units, plan)


def render() -> None:
    """Show KPIs per territory and per rep for the active plan."""
    st.title("Territory performance")
    user = current_user()
    db = connections().app
    try:
        version = active_version(db, user=user)
        if version is None:
            st.info("No active territory plan: create one on **Territory design**.")
            return
        level, _plan, _locked = version_plan(db, version, user=user)
        territories = territory_table(db, user=user).query("kind == 'territory'")
        book = cached_book(current_scope(), level, data_version(db, user=user, tables=BOOK_TABLES), user)
        shapes = cached_outlines(user, version)
    except GcrmError as exc:
        show_error(exc)
        return
    kpis = territory_kpis(book, territories)
    kpis["code"] = territories["code"]
    row = st.columns([2, 1, 1, 1])
    measure = row[0].selectbox(
        "Measure", [k for k in KPI_LABELS if k != "revenue_previous"], format_func=KPI_LABELS.get, key="kpi"
    )
    scheme = row[1].selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="kpi_scheme")
    row[2].metric("Balance index (accounts)", f"{balance_index(kpis['accounts']):.2f}")
    row[3].metric("Balance index (revenue)", f"{balance_index(kpis['revenue']):.2f}")
    overridden = int(book["override"].sum())
    if overridden:
        st.caption(f"{overridden:,} account(s) are pinned to a territory by hand (manual overrides).")
    mapped = shapes.merge(kpis, left_on="territory_id", right_index=True)
    mapped["key"] = mapped["territory_id"].astype(str)
    selected = st.session_state.get("perf_territory")
    map_column, table_column = st.columns([3, 2])
    with map_column:
        fmap = choropleth_map(
            mapped.assign(**{measure: mapped[measure].round(1)}),
            value=measure,
            value_label=KPI_LABELS[measure],
            tooltip={"code": "Territory", "name": "Name", "rep_name": "Rep", measure: KPI_LABELS[measure]},
            scheme=scheme,
            value_kind=KPI_KINDS[measure],
        )
        returned = st_folium(
            fmap,
            height=560,
            use_container_width=True,
            returned_objects=["last_object_clicked"],
            key=f"perf-{measure}-{scheme}",
        )
        clicked = clicked_key(returned, mapped)
        if clicked is not None and clicked != selected:
            st.session_state["perf_territory"] = clicked
            st.rerun()
    with table_column:
        _tables(kpis, measure, selected)


def _tables(kpis: pd.DataFrame, measure: str, selected: str | None) -> None:
    ordered = kpis.sort_values(measure, ascending=False)
    columns = ["code", "name", "rep_name", *[k for k in KPI_LABELS if k != "revenue_previous"]]
    shown = ordered[columns]
    if selected is not None and int(selected) in kpis.index:
        picked = kpis.loc[int(selected)]
        code, name, rep = (markdown_text(picked[c]) for c in ("code", "name", "rep_name"))
        st.markdown(f"**Selected: {code} · {name}** ({rep if picked['rep_name'] else 'no rep'})")
        if st.button("Show all territories"):
            st.session_state.pop("perf_territory")
            st.rerun()
        shown = shown[ordered.index == int(selected)]
    st.markdown(f"**Territories by {KPI_LABELS[measure].lower()}**")
    labels = {"code": "Code", "name": "Territory", "rep_name": "Rep", **KPI_LABELS}
    show_table(shown.round(1), labels=labels, kinds=KPI_KINDS, height=300)
    st.markdown("**Reps**")
    reps = rep_kpis(kpis).rename_axis("rep_name").reset_index()
    show_table(
        reps.round(1),
        labels=labels | {"territories": "Territories"},
        kinds=KPI_KINDS | {"territories": "count"},
        height=200,
    )
    st.download_button(
        "Download CSV",
        csv_text(ordered[columns].round(2)),
        file_name="territories.csv",
        mime="text/csv",
        on_click="ignore",
    )


if opened_through_app():
    render()
