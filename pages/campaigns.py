"""Geo campaigns: draw a target, filter, see the explained audience live, save, export, track responses."""

import hashlib
from functools import partial

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis.cube import region_names
from geo.campaigns.audience import audience, audience_by_region
from geo.campaigns.filters import Filters, form_filters
from geo.campaigns.storage import (
    campaign_contacts,
    campaign_members,
    list_campaigns,
    members_geojson,
    record_responses,
    response_by_region,
    save_campaign,
)
from geo.campaigns.target import (
    COMPARISONS,
    OPERATIONS,
    drawn_parts,
    drive_time_part,
    market_part,
    picked_parts,
    typed_codes,
)
from geo.errors import GcrmError
from geo.field.accounts import branches
from geo.ingest.geocode import PRECISION_RANK
from geo.maps.base import draw_map
from geo.maps.clicks import clicked_key
from geo.maps.escaping import markdown_text
from geo.maps.region_maps import choropleth_map, selection_map
from geo.places.geodesy import LOWER_48_BOUNDS
from geo.privacy.exports import csv_text
from geo.roads.drivetime import MAX_MINUTES
from geo.roads.travel import Basis, drive_time_areas
from pages._shared.caches import (
    book_choices,
    cached_county_facts,
    cached_fact_labels,
    cached_regions,
    connections,
    county_facts_version,
)
from pages._shared.downloads import audited_download
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.tables import show_table
from pages._shared.user import current_user
from territories.model import territory_table

PICKED_COUNTIES = "picked_counties"  # session key of the counties picked by clicking
SAVED_LABELS = {"created_by": "Saved by", "created_at": "Saved"}
RESPONSE_LABELS = {
    "members": "Members",
    "responses": "Responses",
    "conversions": "Conversions",
    "revenue": "Revenue",
    "cost": "Cost",
    "response_rate": "Response rate",
    "roi": "Return on cost",
}
RESPONSE_KINDS = {
    **dict.fromkeys(["members", "responses", "conversions"], "count"),
    **dict.fromkeys(["revenue", "cost"], "money"),
    **dict.fromkeys(["response_rate", "roi"], "percent"),
}


def render() -> None:
    """Build an audience from the map and the filters, and act on saved campaigns."""
    st.title("Campaigns")
    user = current_user()
    draw_column, audience_column = st.columns([3, 2])
    with draw_column:
        st.caption("Draw polygons, rectangles or circles; add regions or territories below.")
        returned = st_folium(
            draw_map(),
            height=480,
            use_container_width=True,
            returned_objects=["all_drawings"],
            key="draw",
        )
        parts, problems = drawn_parts(returned)
        for problem in problems:
            st.warning(problem)
        parts += _region_parts(bool(parts))
        parts += _market_parts(bool(parts))
    filters = _filters()
    with audience_column:
        if not parts:
            st.info("Draw a shape or pick regions to see the audience.")
            _saved_campaigns()
            return
        try:
            counts, members = audience(connections().app, parts, filters, user=user)
        except GcrmError as exc:
            show_error(exc)
            return
        st.metric("Final audience", f"{len(members):,}")
        show_table(
            counts,
            labels={"stage": "Stage", "count": "Accounts", "removed": "Removed"},
            kinds={"count": "count", "removed": "count"},
        )
        _save_and_export(parts, filters, members)
    if len(members):
        _breakdown(members)
    _saved_campaigns()


def _region_parts(has_shapes: bool) -> list:
    with st.expander("Regions and territories", expanded=not has_shapes):
        columns = st.columns([1, 2, 2])
        operation = columns[0].selectbox(
            "Combine with the shapes by", OPERATIONS, key="operation", disabled=not has_shapes
        )
        states = cached_regions("state")
        labels = dict(zip(states["code"], states["name"], strict=True))
        if st.toggle("Pick states or counties by clicking on a map", key="pick_regions"):
            _pick_on_map(states, labels)
        picked = columns[1].multiselect("States", list(labels), format_func=labels.get, key="states")
        typed = columns[2].text_input("Counties (FIPS) or ZIPs, comma-separated", key="codes")
        clicked_counties = st.session_state.get(PICKED_COUNTIES, [])
        if clicked_counties:
            counties = cached_regions("county")
            names = region_names(counties, "county").set_axis(counties["code"])
            picked_names = names.reindex(clicked_counties).fillna("").map(markdown_text)
            st.caption(f"Counties picked on the map: {'; '.join(picked_names)}")
        try:
            territories = territory_table(connections().app, user=current_user()).query("kind == 'territory'")
        except GcrmError:
            territories = pd.DataFrame(columns=["code", "name"])
        names = (territories["code"] + " · " + territories["name"]).to_dict()
        chosen = st.multiselect("Territories", list(names), format_func=names.get, key="territories")
        row = st.columns([3, 1, 1])
        try:
            listed = branches(connections().app, user=current_user())
        except GcrmError:
            listed = pd.DataFrame(columns=["branch_id", "name"])
        branch_names = dict(zip(listed["branch_id"], listed["name"], strict=True))
        picked_branches = row[0].multiselect(
            "Branch trade areas", list(branch_names), format_func=branch_names.get, key="branches"
        )
        ring = row[1].number_input("Ring km (0: nearest-branch area)", 0.0, 1000.0, 0.0, key="ring")
        drive = row[2].number_input("Or drive minutes", 0, int(MAX_MINUTES), 0, key="drive_minutes")
    parts = []
    try:
        for part in picked_parts(
            states=picked,
            codes=typed_codes(typed) + clicked_counties,
            counties=set(cached_regions("county")["code"]),
            territories=chosen,
            branches=[] if drive else picked_branches,
            ring_km=ring,
            operation=operation if has_shapes else "union",
        ):
            parts.append(part)
        if drive and picked_branches:
            parts.append(
                _drive_part(listed, picked_branches, drive, "union" if parts or not has_shapes else operation)
            )
    except GcrmError as exc:
        show_error(exc)
    return parts


def _drive_part(listed: pd.DataFrame, picked: list[int], minutes: int, operation: str):
    """The branches' drive-time areas as one part, with how their times were found."""
    chosen = listed[listed["branch_id"].isin(picked)]
    centres = pd.DataFrame({"key": chosen["branch_id"], "lon": chosen.geometry.x, "lat": chosen.geometry.y})
    areas, basis = drive_time_areas(connections().app, centres, [minutes], user=current_user())
    st.caption(f"{minutes} minutes' drive from the branches {markdown_text(_drive_basis(basis))}.")
    return drive_time_part(list(areas.geometry), operation=operation)


def _drive_basis(basis: Basis) -> str:
    return basis.described if basis.by_road else f"({basis.described})"


def _market_parts(has_parts: bool) -> list:
    with st.expander("Counties by their market"):
        narrow = st.toggle("Only counties whose market meets these conditions", key="market")
        labels = cached_fact_labels()
        row = st.columns([3, 1, 2])
        fact = row[0].selectbox(
            "Fact", list(labels), format_func=labels.get, key="market-fact", disabled=not narrow
        )
        comparison = row[1].selectbox("Is", list(COMPARISONS), key="market-comparison", disabled=not narrow)
        value = row[2].number_input("Value", value=0.0, key="market-value", disabled=not narrow)
        metro = st.checkbox("Metropolitan counties only", key="market-metro", disabled=not narrow)
    if not narrow:
        return []
    conditions = [f"{fact}{comparison}{value}", *(["metro=1"] if metro else [])]
    try:
        facts = cached_county_facts(county_facts_version())
        return [market_part(facts, conditions, operation="intersection" if has_parts else "union")]
    except GcrmError as exc:
        show_error(exc)
        return []


def _pick_on_map(states: pd.DataFrame, labels: dict[str, str]) -> None:
    """A map of states, or of one state's counties: a click adds the region or takes it away."""
    within = st.selectbox(
        "Click to pick",
        ["states", *sorted(labels, key=labels.get)],
        format_func=lambda c: "States" if c == "states" else f"Counties of {labels[c]}",
        key="pick_within",
    )
    if within == "states":
        regions, key, bounds = states, "states", LOWER_48_BOUNDS
    else:
        counties = cached_regions("county")
        regions, key, bounds = counties[counties["code"].str[:2] == within], PICKED_COUNTIES, None
    selected = set(st.session_state.get(key, []))
    digest = hashlib.sha1(",".join(sorted(selected)).encode()).hexdigest()[:12]
    returned = st_folium(
        selection_map(regions, selected, bounds),
        height=360,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
        key=f"pick-{within}-{digest}",
    )
    code = clicked_key(returned, regions, field="code")
    if code is not None:
        st.session_state[key] = sorted(selected ^ {code})
        st.rerun()


def _filters() -> Filters:
    choices = book_choices()
    with st.expander("Filters", expanded=True):
        row = st.columns(4)
        segments = row[0].multiselect("Segment", choices["segment"], key="f_segment")
        statuses = row[1].multiselect("Status", choices["status"], key="f_status")
        industries = row[2].multiselect("Industry", choices["industry"], key="f_industry")
        precision = row[3].selectbox(
            "Minimum geocode precision", list(PRECISION_RANK), index=1, key="f_precision"
        )
        row = st.columns(4)
        revenue_min = row[0].number_input("Annual revenue from", 0.0, step=100_000.0, key="f_rmin")
        revenue_max = row[1].number_input(
            "Annual revenue to (0: no limit)", 0.0, step=100_000.0, key="f_rmax"
        )
        after = row[2].date_input("Last order after", value=None, key="f_after")
        no_visit = row[3].number_input("No visit in N days (0: off)", 0, 3_650, 0, key="f_novisit")
    return form_filters(
        segments=segments,
        statuses=statuses,
        industries=industries,
        min_precision=precision,
        revenue_min=revenue_min,
        revenue_max=revenue_max,
        last_order_after=after,
        no_visit_days=no_visit,
    )


def _save_and_export(parts: list, filters: Filters, members: pd.DataFrame) -> None:
    st.caption("Exports hold the final audience only: accounts with marketing consent, not suppressed.")
    left, right = st.columns(2)
    shown = members.drop(columns=["account_id"])
    rows = {"kind": "audience", "target": "audience", "rows": len(members)}
    audited_download(left, "Audience CSV", partial(csv_text, shown), "audience.csv", "text/csv", **rows)
    audited_download(
        right,
        "Audience GeoJSON",
        partial(members_geojson, members),
        "audience.geojson",
        "application/geo+json",
        **rows,
    )
    with st.form("save_campaign"):
        name = st.text_input("Campaign name")
        cost = st.number_input("Cost per member", 0.0, step=0.5)
        if st.form_submit_button("Save campaign", type="primary"):
            try:
                campaign, size = save_campaign(
                    connections().app, name, parts, filters, user=current_user(), cost_per_member=cost
                )
            except GcrmError as exc:
                show_error(exc)
            else:
                st.success(f"Saved campaign {campaign} with {size:,} members.")


def _breakdown(members: pd.DataFrame) -> None:
    table = cached_regions("state").merge(
        audience_by_region(members, "state"), left_on="code", right_on="key"
    )
    st.markdown(f"**Audience by state** ({len(table)} states)")
    map_column, table_column = st.columns([3, 2])
    with map_column:
        st_folium(
            choropleth_map(
                table,
                value="audience",
                value_label="Audience",
                tooltip={"name": "State", "audience": "Audience"},
                bounds=tuple(table.total_bounds),
                value_kind="count",
            ),
            height=380,
            use_container_width=True,
            returned_objects=[],
            key="audience-map",
        )
    with table_column:
        show_table(
            table[["name", "audience"]].sort_values("audience", ascending=False),
            labels={"name": "State", "audience": "Audience"},
            kinds={"audience": "count"},
            height=380,
        )


def _saved_campaigns() -> None:
    st.subheader("Saved campaigns")
    db = connections().app
    user = current_user()
    try:
        saved = list_campaigns(db, user=user)
    except GcrmError as exc:
        show_error(exc)
        return
    if saved.empty:
        st.caption("None yet.")
        return
    show_table(
        saved.drop(columns=["campaign_id"]),
        labels=SAVED_LABELS,
        kinds=dict.fromkeys(["members", "responses", "conversions"], "count"),
    )
    name = st.selectbox("Campaign", saved["name"], key="saved_pick")
    members = campaign_members(db, name, user=user)
    left, right = st.columns(2)
    audited_download(
        left,
        "Export members (consented) CSV",
        csv_text(members.drop(columns=["account_id"])),
        f"{name}.csv",
        "text/csv",
        kind="campaign_members",
        target=name,
        rows=len(members),
    )
    people = campaign_contacts(db, name, user=user)
    audited_download(
        right,
        f"Export {len(people):,} contacts (consented) CSV",
        csv_text(people),
        f"{name}-contacts.csv",
        "text/csv",
        kind="campaign_contacts",
        target=name,
        rows=len(people),
    )
    upload = st.file_uploader("Record responses: CSV with external_id, kind (response|conversion), revenue")
    if upload is not None and st.button("Record"):
        try:
            result = record_responses(db, name, pd.read_csv(upload, dtype={"external_id": str}), user=user)
        except (GcrmError, KeyError, ValueError) as exc:
            st.error(f"Cannot read the responses: {markdown_text(exc)}")
        else:
            st.success(
                f"Recorded {result['recorded']}, skipped {result['rejected']} (not members or bad kind)."
            )
    with st.form("mark_response", clear_on_submit=True):
        row = st.columns([2, 1, 1, 1])
        account = row[0].text_input("Account ID (external id)")
        kind = row[1].selectbox("Kind", ["response", "conversion"])
        revenue = row[2].number_input("Revenue", 0.0, step=100.0)
        if row[3].form_submit_button("Mark"):
            frame = pd.DataFrame({"external_id": [account], "kind": [kind], "revenue": [revenue or None]})
            try:
                result = record_responses(db, name, frame, user=user)
            except GcrmError as exc:
                show_error(exc)
            else:
                if result["recorded"]:
                    st.success(f"Marked {markdown_text(account)} as {kind}.")
                else:
                    st.warning(f"{markdown_text(account)} is not a member of {markdown_text(name)}.")
    results = response_by_region(db, name, user=user)
    if results["responses"].sum() == 0:
        st.caption("No responses recorded yet.")
        return
    mapped = cached_regions("state").merge(results, left_on="code", right_on="key")
    mapped["response_rate"] = mapped["response_rate"].round(1)
    st_folium(
        choropleth_map(
            mapped,
            value="response_rate",
            value_label="Response rate (%)",
            value_kind="percent",
            tooltip={
                "name": "State",
                "members": "Members",
                "responses": "Responses",
                "response_rate": "Rate (%)",
            },
            bounds=tuple(mapped.total_bounds),
        ),
        height=360,
        use_container_width=True,
        returned_objects=[],
        key=f"responses-{name}",
    )
    show_table(
        mapped[["name", *RESPONSE_LABELS]].round(1),
        labels={"name": "State", **RESPONSE_LABELS},
        kinds=RESPONSE_KINDS,
    )


if opened_through_app():
    render()
