"""Trade areas: what each branch reaches, and where branches overlap."""

import geopandas as gpd
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import formatting
from geo.analysis.drive_areas import drive_time_trade_areas
from geo.analysis.market_answers import AREA_MARKET, AREA_MARKET_KINDS, area_market
from geo.analysis.tradeareas import (
    area_accounts,
    area_figures,
    busiest_branch,
    customer_derived,
    huff_cells,
    polygon_members,
    ring_members,
    ring_radii_m,
    rings,
    threshold_rings,
    voronoi,
)
from geo.config import load_settings
from geo.errors import GcrmError
from geo.field.accounts import accounts_near, branches, data_version
from geo.maps.escaping import markdown_text
from geo.maps.point_maps import trade_area_map
from geo.maps.region_maps import choropleth_map
from geo.places.regions import h3_cell_labels
from geo.roads.drivetime import parse_minutes
from geo.roads.estimate import ASSUMPTION
from geo.roads.travel import Basis
from pages._shared.caches import cached_facts, cached_places, cached_regions, connections
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.picks import accounts_table, pick_clicked, picked_row, selected_position
from pages._shared.tables import figure_rows, number_columns
from pages._shared.user import current_scope, current_user

METHODS = {
    "rings": "Rings of given radii",
    "customers": "Area holding a share of its customers",
    "threshold": "Smallest ring reaching N customers",
    "voronoi": "Nearest-branch area",
    "drivetime": "Drive time",
    "huff": "Huff gravity model (H3 cells)",
}
# Accounts are fetched around the branch within this distance (the view's reach).
SEARCH_RADIUS_M = {
    "rings": 150_000,
    "customers": 300_000,
    "threshold": 300_000,
    "voronoi": 400_000,
    "drivetime": 400_000,
    "huff": 100_000,
}
MAX_ACCOUNT_MARKERS = 1_500
FIGURE_LABELS = {
    "accounts": "Accounts",
    "customers": "Customers",
    "revenue": "Revenue, last 12 months",
    "revenue_share": "Share of nearby revenue (%)",
    "shared_customers": "Customers shared with other branches",
    "cannibalisation": "Cannibalisation (%)",
}
FIGURE_KINDS = {
    **dict.fromkeys(("accounts", "customers", "shared_customers"), "count"),
    "revenue": "money",
    **dict.fromkeys(("revenue_share", "cannibalisation"), "percent"),
}


def render() -> None:
    """Show a branch's trade areas with their accounts and figures."""
    st.title("Trade areas")
    try:
        all_branches = branches(connections().app, user=current_user())
    except GcrmError as exc:
        show_error(exc)
        return
    if all_branches.empty:
        st.info("No branches yet: load the demo book with `gcrm demo`.")
        return
    row = st.columns([1.5, 1.5, 1])
    labels = dict(
        zip(all_branches["branch_id"], all_branches["name"] + " (" + all_branches["state"] + ")", strict=True)
    )
    options = list(labels)
    linked = st.query_params.get("branch", "")
    home = int(linked) if linked.isdigit() and int(linked) in labels else _home_branch()
    branch_id = row[0].selectbox(
        "Branch",
        options,
        index=options.index(home) if home in labels else 0,
        format_func=labels.get,
        key="branch",
    )
    st.query_params["branch"] = str(branch_id)
    method = row[1].selectbox("Trade area", list(METHODS), format_func=METHODS.get, key="method")
    branch = all_branches[all_branches["branch_id"] == branch_id]
    point = branch.geometry.iloc[0]
    basis = None
    try:
        if method == "drivetime":
            areas, reach_m, basis = _drive_areas(row[2], all_branches, branch_id)
        else:
            reach_m = SEARCH_RADIUS_M[method]
        accounts = accounts_near(
            connections().app, point.x, point.y, min(reach_m, SEARCH_RADIUS_M[method]), user=current_user()
        )
    except GcrmError as exc:
        show_error(exc)
        return
    if method == "huff":
        _huff(accounts, all_branches, branch_id, labels[branch_id])
        return
    if method == "drivetime":
        members = polygon_members(accounts, areas)
    else:
        areas, members = _areas(method, row[2], all_branches, branch, accounts)
    if areas.empty or areas.geometry.isna().all():
        st.info("This branch has no trade area with these settings (too few accounts nearby).")
        return
    figures = _figures(members, accounts, areas, branch_id)
    market = _market(areas, branch_id, figures["Area"])
    own = areas[areas["branch_id"] == branch_id]
    figures_key = f"areas-{branch_id}-{method}"
    area_row = selected_position(figures_key)
    area_row = area_row if area_row is not None and area_row < len(own) else None
    map_column, table_column = st.columns([3, 2])
    with map_column:
        _map_and_accounts(own, branch, accounts, members, area_row, figures["Area"], figures_key)
    with table_column:
        st.markdown(f"**{markdown_text(labels[branch_id])}: {METHODS[method].lower()}**")
        st.dataframe(
            figures,
            hide_index=True,
            width="stretch",
            column_config=number_columns({FIGURE_LABELS[name]: kind for name, kind in FIGURE_KINDS.items()}),
            key=figures_key,
            on_select="rerun",
            selection_mode="single-row",
        )
        st.caption(f"{_basis_caption(basis, method)} Pick an area to list its accounts.")
        st.markdown("**The market in each area**")
        st.dataframe(market, width="stretch")
        st.caption(
            "Estimates from the counties each area covers, apportioned by the population of their"
            " places and by area."
        )


def _basis_caption(basis: Basis | None, method: str) -> str:
    """How the areas were measured, and which accounts they count."""
    if basis is None:
        reach = SEARCH_RADIUS_M[method] / 1000
        return f"Distances on the sphere; accounts within {reach:,.0f} km of the branch."
    if basis.by_road:
        reach = "each area is where the roads reach, buffered by the road"
        return f"Drive times {markdown_text(basis.label)}; {reach}."
    return f"Drive times: {markdown_text(basis.label)}, {markdown_text(ASSUMPTION)}."


def _drive_areas(column, all_branches, branch_id: int) -> tuple[gpd.GeoDataFrame, float, Basis]:
    text = column.text_input("Minutes", "10, 20, 30", key="minutes")
    minutes = parse_minutes(text)
    return drive_time_trade_areas(connections().app, all_branches, branch_id, minutes, user=current_user())


def _home_branch() -> int | None:
    """The branch the page opens on without one in its address (``?branch=ID``, kept as it changes):
    the one whose area holds most of the accounts the user sees."""
    user = current_user()
    facts = cached_facts(current_scope(), data_version(connections().app, user=user), user)
    return busiest_branch(facts.accounts["trade_area"])


def _huff(accounts, all_branches, branch_id: int, label: str) -> None:
    if accounts.empty:
        st.info("No accounts within reach of this branch.")
        return
    cells, beta = huff_cells(accounts, all_branches, branch_id)
    cells["share"] = (100 * cells["probability"]).round(1)
    cells["place"] = h3_cell_labels(cells["cell"], cached_places())
    map_column, table_column = st.columns([3, 2])
    with map_column:
        st_folium(
            choropleth_map(
                cells,
                value="share",
                value_label="Chance an account here chooses this branch (%)",
                tooltip={"place": "Place", "cell": "H3 cell", "accounts": "Accounts", "share": "Chance (%)"},
                scheme="equal_interval",
                bounds=tuple(cells.total_bounds),
                value_kind="percent",
            ),
            height=560,
            use_container_width=True,
            returned_objects=[],
            key=f"huff-{branch_id}",
        )
    with table_column:
        st.markdown(f"**{markdown_text(label)}: Huff gravity model**")
        figures = {
            "Distance decay β (fitted to its customers)": f"{beta:,.2f}",
            "Cells (H3 resolution 7)": formatting.count(len(cells)),
            "Accounts in the cells": formatting.count(cells["accounts"].sum()),
            "Expected accounts drawn": f"{cells['expected_accounts'].sum():,.1f}",
            "Expected revenue drawn, last 12 months": formatting.money(cells["expected_revenue"].sum()),
        }
        st.dataframe(
            pd.DataFrame({"Figure": list(figures), "Value": list(figures.values())}),
            hide_index=True,
            width="stretch",
        )
        st.caption(
            "Every branch competes for each cell's accounts with probability ∝ distance^-β; "
            f"β maximises the likelihood of this branch's own customers within "
            f"{SEARCH_RADIUS_M['huff'] / 1000:,.0f} km."
        )


def _areas(method: str, column, all_branches, branch, accounts) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    customers = accounts[accounts["status"] == "customer"]
    if method == "rings":
        text = column.text_input("Radii (km)", "5, 10, 25", key="radii")
        areas = rings(all_branches, ring_radii_m(text))
    elif method == "customers":
        share = column.slider("Share of its customers", 50, 95, 70, step=5, key="share") / 100
        areas = customer_derived(all_branches, customers, share=share) if len(customers) else _empty()
    elif method == "threshold":
        wanted = column.number_input("Customers to reach", 1, 5_000, 50, key="reach")
        areas = (
            threshold_rings(all_branches, customers, customers=int(wanted)) if len(customers) else _empty()
        )
    else:
        cells = voronoi(all_branches, cached_regions("state").union_all())
        areas = cells[cells["branch_id"] == branch["branch_id"].iloc[0]]
        return areas, polygon_members(accounts, areas)
    areas = areas[areas["radius_m"].notna()]
    return areas, ring_members(accounts, all_branches, areas)


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"branch_id": [], "radius_m": []}, geometry=[], crs="EPSG:4326")


def _figures(members: pd.DataFrame, accounts, areas, branch_id: int) -> pd.DataFrame:
    figures = area_figures(members, pd.DataFrame(accounts.drop(columns="geometry")), areas["branch_id"])
    own = areas[areas["branch_id"] == branch_id]
    figures = figures.reindex(own.index).fillna(0)
    if "radius_m" in own:
        name = (own["radius_m"] / 1000).map(lambda km: f"within {km:,.1f} km")
    elif "minutes" in own:
        name = own["minutes"].map(lambda minutes: f"within {minutes:,.0f} min")
    else:
        name = pd.Series("nearest to this branch", index=own.index)
    table = pd.DataFrame({"Area": name}).join(figures.rename(columns=FIGURE_LABELS).round(1))
    return table.reset_index(drop=True)


def _market(areas, branch_id: int, names: pd.Series) -> pd.DataFrame:
    own = areas[areas["branch_id"] == branch_id]
    market = area_market(connections().app, load_settings().data_dir, own.geometry, user=current_user())
    return figure_rows(market, AREA_MARKET, AREA_MARKET_KINDS).set_axis(names.to_numpy(), axis="columns")


ACCOUNT_LABELS = {
    "external_id": "Account ID",
    "name": "Name",
    "status": "Status",
    "revenue": "Revenue, last 12 months",
}


def _map_and_accounts(own, branch, accounts, members, area_row: int | None, names, figures_key: str) -> None:
    """The branch's areas with the accounts inside them; a picked area's accounts also as a list in step."""
    every = area_accounts(accounts, members, own.index if area_row is None else own.index[[area_row]])
    inside = every.head(MAX_ACCOUNT_MARKERS)
    points = pd.DataFrame(inside.drop(columns="geometry")).assign(
        lon=inside.geometry.x, lat=inside.geometry.y
    )
    table_key = f"{figures_key}-accounts-{area_row}"
    picked = picked_row(table_key, points) if area_row is not None else None
    returned = st_folium(
        trade_area_map(own, inside, branch.geometry.iloc[0], branch["name"].iloc[0], picked=picked),
        height=560,
        use_container_width=True,
        returned_objects=["last_object_clicked"] if area_row is not None else [],
        key=f"trade-{figures_key}",
    )
    if area_row is None:
        return
    pick_clicked(returned, points, table_key, picked)
    shown = f" (the first {len(inside):,} by name)" if len(every) > len(inside) else ""
    st.markdown(f"**{len(every):,} accounts {markdown_text(names.iloc[area_row])}{shown}**")
    accounts_table(
        points[list(ACCOUNT_LABELS)].rename(columns=ACCOUNT_LABELS),
        table_key,
        column_config=number_columns({"Revenue, last 12 months": "money"}),
    )


if opened_through_app():
    render()
