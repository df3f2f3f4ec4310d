"""Sales by region: the manager's cube on a map, with drill-down, filters, period and downloads."""

from functools import partial

import streamlit as st
from streamlit_folium import st_folium

from geo.analysis.cube import (
    CUBE_MEASURES,
    DRILL_PATH,
    MARKET_MEASURES,
    MEASURE_KINDS,
    Facts,
    complete_members,
    drill_down,
    empty_members,
    region_names,
    state_level_only,
)
from geo.analysis.hotspots import hot_spots
from geo.analysis.market import DENOMINATORS
from geo.analysis.market_answers import (
    ESTIMATED_LEVELS,
    MARKET_LEVELS,
    RECENT_VISIT_DAYS,
    WHITE_SPACE_LIMIT,
    white_space_regions,
)
from geo.config import load_settings
from geo.errors import GcrmError
from geo.field.accounts import accounts_in_county, accounts_in_zip, data_version
from geo.maps.classification import SCHEMES
from geo.maps.clicks import clicked_key, clicked_point_key
from geo.maps.escaping import markdown_text
from geo.maps.point_maps import add_account_points, zip_accounts_map
from geo.maps.region_maps import add_spots, choropleth_map
from geo.privacy.exports import csv_text
from geo.privacy.safe_locations import suppress_small_cells
from pages._shared.address import linked_choice, linked_view, show_view
from pages._shared.caches import answer_version, cached_answer, cached_facts, cached_regions, connections
from pages._shared.downloads import audited_download
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.picks import accounts_table, pick_clicked, pick_later, picked_row
from pages._shared.search import picked_account
from pages._shared.tables import number_columns, show_table
from pages._shared.user import current_scope, current_user

LEVELS = {
    "state": "State",
    "county": "County",
    "zip": "ZIP",
    "h3_5": "Hexagons (H3 5)",
    "h3_6": "Hexagons (H3 6)",
    "h3_7": "Hexagons (H3 7)",
    "trade_area": "Trade areas (nearest branch)",
    "territory": "Territories (active plan)",
}
LEVEL_PLURALS = {"state": "states", "county": "counties", "zip": "ZIPs"}
# Above this many regions the map asks for a narrower view (Folium slows past a few thousand).
MAX_FEATURES = 4_000
# A drilled county with at most this many placed accounts shows them as points over its ZIPs,
# never clustered: a click on a cluster (meant to zoom in) would drill into the ZIP beneath.
COUNTY_POINTS = 300
WHITE_SPACE_LEVELS = ("state", "county")
# Regions ranked before a drilled state keeps its own (every county fits).
WHITE_SPACE_ROWS = 4_000
WHITE_SPACE_LABELS = {
    "name": "Region",
    "market": "Market",
    "customers": "Customers",
    "expected": "Expected customers",
    "opportunity": "Opportunity",
    "visited": "Visited lately",
}
ALL_TIME = "All time"
FILTERS = {"segment": "Segment", "industry": "Industry", "status": "Status"}
# The view in the page's address (a reload or a shared link restores it): query parameter → session key.
PAGE = "region_map"
VIEW_KEYS = {"level": "level", "measure": "measure", "classes": "scheme", "period": "period"}
DRILL_KEY = "drill"


def render() -> None:
    """Show the cube for the chosen level, measure, filters and period, with drill-down."""
    st.title("Sales by region")
    user = current_user()
    try:
        facts = cached_facts(current_scope(), data_version(connections().app, user=user), user)
    except GcrmError as exc:
        show_error(exc)
        return
    _restore_view(facts)
    focus: list[tuple[str, str, str]] = st.session_state.setdefault("focus", [])
    _find_account(focus)
    level, measure, scheme, where, period = _controls(facts, focus)
    _show_view(measure, scheme, period, focus)
    _breadcrumb(focus)
    if level == "accounts":
        _accounts_table(focus[-1][1])
        return
    try:
        table = cached_answer(
            current_scope(),
            answer_version(),
            level,
            tuple(_measures_to_answer(level, measure)),
            tuple(sorted((field, tuple(sorted(keys))) for field, keys in where.items())),
            period,
            user,
            facts,
        )
    except GcrmError as exc:
        show_error(exc)
        return
    if level in ("state", "county"):
        table = complete_members(table, _regions_in_view(level, focus))
    state_level = state_level_only(facts, by=level, where=where)
    if table.empty:
        st.info("No accounts match these filters.")
        _state_level_note(state_level)
        return
    if measure in MARKET_MEASURES and level not in MARKET_LEVELS:
        known = ", ".join(LEVELS[known_level] for known_level in MARKET_LEVELS)
        st.info(f"{CUBE_MEASURES[measure]} is known by {known}; pick one of those levels to map it.")
    elif measure in MARKET_MEASURES and level in ESTIMATED_LEVELS:
        st.caption(
            f"{CUBE_MEASURES[measure]} by {LEVELS[level]}: an estimate, apportioned from each county"
            " by the population of its places and by area."
        )
    map_column, table_column = st.columns([3, 2])
    with map_column:
        _map(table, level, measure, scheme, focus, where)
    with table_column:
        _table(table, level, measure)
        _state_level_note(state_level)
    if level in WHITE_SPACE_LEVELS and st.toggle(
        "Show white space (where the book could be and is not)", key="white"
    ):
        _white_space(facts, level, focus)


def _measures_to_answer(level: str, measure: str) -> list[str]:
    """Every measure for the table; the market's only where it is cheap or asked for (ZIPs are estimated)."""
    if level in ESTIMATED_LEVELS and measure not in MARKET_MEASURES:
        return [m for m in CUBE_MEASURES if m not in MARKET_MEASURES]
    return list(CUBE_MEASURES)


def _white_space(facts: Facts, level: str, focus: list) -> None:
    denominator = st.selectbox(
        "Penetration measured per", list(DENOMINATORS), format_func=str.capitalize, key="white-per"
    )
    try:
        ranked = white_space_regions(
            connections().app,
            level=level,
            denominator=denominator,
            user=current_user(),
            limit=WHITE_SPACE_ROWS,
            facts=facts,
        )
    except GcrmError as exc:
        show_error(exc)
        return
    states = [key for drilled, key, _name in focus if drilled == "state"]
    if states:
        ranked = ranked[ranked["key"].str.startswith(states[-1])]
    show_table(
        ranked.drop(columns="key").head(WHITE_SPACE_LIMIT).round(1),
        labels=WHITE_SPACE_LABELS,
        kinds={
            **dict.fromkeys(("market", "customers", "visited"), "count"),
            "expected": "number",
            "opportunity": "number",
        },
    )
    st.caption(
        f"Expected customers: the region's {DENOMINATORS[denominator]} times the book's penetration in"
        " comparable regions (metropolitan counties with metropolitan ones); white space has more"
        f" expected than actual customers and no account visited in the last {RECENT_VISIT_DAYS} days."
    )


def _state_level_note(accounts: int) -> None:
    if accounts:
        st.caption(
            f"Placed at state level only: {accounts:,} (counted in their state, in no region of this level)."
        )


def _regions_in_view(level: str, focus: list):
    regions = cached_regions(level)
    regions = regions.assign(name=region_names(regions, level))
    if level == "county":
        states = [key for drilled, key, _name in focus if drilled == "state"]
        if states:
            regions = regions[regions["parent_code"].isin(states)]
    return regions


def _controls(facts: Facts, focus: list) -> tuple:
    row = st.columns([1.2, 1.4, 1, 1])
    drilled = focus[-1][0] if focus else None
    if drilled:
        level = drill_down(drilled, focus[-1][1])[0]
        row[0].markdown(f"**Level**  \n{LEVELS.get(level, 'Accounts')}")
        # Unshown, the select would forget its choice; "Up one level" to the top shows it again.
        st.session_state["level"] = st.session_state.get("level", next(iter(LEVELS)))
    else:
        level = row[0].selectbox("Level", list(LEVELS), format_func=LEVELS.get, key="level")
    measure = row[1].selectbox("Measure", list(CUBE_MEASURES), format_func=CUBE_MEASURES.get, key="measure")
    scheme = row[2].selectbox("Classes", list(SCHEMES), format_func=SCHEMES.get, key="scheme")
    periods = facts.periods
    chosen = row[3].selectbox("Period", [ALL_TIME, *periods], key="period")
    where: dict[str, list[str]] = {}
    # The filters fold away (on a phone the map comes sooner); the label says what is set.
    with st.expander(_filters_summary()):
        filters = st.columns(len(FILTERS))
        for column, (field, label) in zip(filters, FILTERS.items(), strict=True):
            options = facts.values(field)
            picked = column.multiselect(label, options, placeholder="All", key=f"filter-{field}")
            if picked:
                where[field] = picked
    for drilled_level, key, _name in focus:
        where[drilled_level] = [key]
    period = chosen if chosen != ALL_TIME else None
    return level, measure, scheme, where, period


def _filters_summary() -> str:
    """The filters' fold label: "Filters: all accounts", or what is picked ("Filters: SMB; customer")."""
    picked = [", ".join(st.session_state.get(f"filter-{field}") or []) for field in FILTERS]
    shown = "; ".join(markdown_text(values) for values in picked if values)
    return f"Filters: {shown or 'all accounts'}"


def _restore_view(facts: Facts) -> None:
    """A reload, a shared link or a hand-edited address: set the controls and the drill path from it."""
    linked = linked_view(PAGE, [*VIEW_KEYS, *FILTERS, DRILL_KEY])
    if linked is None:
        return
    choices = {
        "level": list(LEVELS),
        "measure": list(CUBE_MEASURES),
        "classes": list(SCHEMES),
        "period": [ALL_TIME, *facts.periods],
    }
    for name, key in VIEW_KEYS.items():
        picked = linked_choice(name, linked.get(name, [])[-1:], choices[name])
        st.session_state[key] = picked[0] if picked else choices[name][0]
    for field in FILTERS:
        picked = linked_choice(field, linked.get(field, []), facts.values(field))
        st.session_state[f"filter-{field}"] = picked or []
    st.session_state["focus"] = _linked_drill(",".join(linked.get(DRILL_KEY, [])), facts)


def _linked_drill(drill: str, facts: Facts) -> list[tuple[str, str, str]]:
    """The drill path an address names (``state:17,county:17031``), named from the regions data.

    Steps are kept up to the first one that is not a region inside the step before it; that
    one is a warning. A ZIP is valid when it holds accounts of the county drilled.
    """
    path: list[tuple[str, str, str]] = []
    for step in filter(None, drill.split(",")):
        level, _sep, key = step.partition(":")
        expected = DRILL_PATH[path[-1][0]] if path else None
        fits = level == expected if path else level in DRILL_PATH
        name = _drilled_name(level, key, path, facts) if fits else None
        if name is None:
            wanted = {None: "state, county or ZIP", "county": "county", "zip": "ZIP"}.get(expected, "region")
            inside = f" in {path[-1][2]}" if path else ""
            shown = path[-1][2] if path else "the United States"
            msg = (
                f"The address drills to {step!r}, which is no {wanted}{inside}"
                f" (drill-down goes state › county › ZIP). Showing {shown}."
            )
            st.warning(markdown_text(msg))
            break
        path.append((level, key, name))
    return path


def _drilled_name(level: str, key: str, path: list, facts: Facts) -> str | None:
    """The name of region ``key`` of ``level`` inside the last step of ``path``, or None if there is none."""
    parent = path[-1][1] if path else None
    if level == "zip":
        accounts = facts.accounts
        inside = accounts["zip"] == key
        if parent:
            inside &= accounts["county_fips"] == parent
        return key if inside.any() else None
    regions = cached_regions(level)
    match = regions["code"] == key
    if level == "county" and parent:
        match &= regions["parent_code"] == parent
    names = region_names(regions[match], level)
    return str(names.iloc[0]) if len(names) else None


def _show_view(measure: str, scheme: str, period: str | None, focus: list) -> None:
    """Write the view to the address: what differs from the defaults, filters and the drill path.

    The level is the one chosen for the national view, kept while a drilled region implies its
    own: a reload of a drilled view, then "Up one level" to the top, comes back to it.
    """
    chosen_level = st.session_state.get("level", next(iter(LEVELS)))
    show_view(
        PAGE,
        {
            "level": None if chosen_level == next(iter(LEVELS)) else chosen_level,
            "measure": None if measure == next(iter(CUBE_MEASURES)) else measure,
            "classes": None if scheme == next(iter(SCHEMES)) else scheme,
            "period": period,
            **{field: st.session_state.get(f"filter-{field}") for field in FILTERS},
            DRILL_KEY: ",".join(f"{drilled}:{key}" for drilled, key, _name in focus) or None,
        },
    )


def _find_account(focus: list) -> None:
    """Search the user's accounts; picking one drills to its ZIP (state, county, ZIP), its row picked."""
    row = picked_account("Find an account: name, ID, city or ZIP")
    if row is None:
        return
    path = []
    for level, key in (("state", row["state_fips"]), ("county", row["county_fips"]), ("zip", row["zip"])):
        if not isinstance(key, str) or not key.strip():
            break
        if level == "zip":
            path.append((level, key, key))
            pick_later(_zip_table_key(key), str(row["external_id"]))
            continue
        regions = cached_regions(level)
        named = region_names(regions, level).set_axis(regions["code"])
        path.append((level, key, str(named.get(key, key))))
    focus[:] = path
    st.rerun()


def _breadcrumb(focus: list) -> None:
    if not focus:
        st.caption("Click a state, county or ZIP on the map to drill down.")
        return
    trail = " › ".join(["United States", *[markdown_text(name) for _level, _key, name in focus]])
    left, right = st.columns([4, 1])
    left.markdown(f"**{trail}**")
    if right.button("Up one level", icon=":material/arrow_upward:"):
        focus.pop()
        st.rerun()


def _map(table, level: str, measure: str, scheme: str, focus: list, where: dict[str, list[str]]) -> None:
    drawable = table[table.geometry.notna()]
    if len(drawable) > MAX_FEATURES:
        st.warning(
            f"{len(drawable):,} regions are too many to draw; "
            "filter, drill into a state, or pick a coarser level."
        )
        return
    bounds = tuple(drawable.total_bounds) if focus else None
    tooltip = {"name": LEVELS.get(level, "Region"), measure: CUBE_MEASURES[measure]}
    if measure != "accounts":
        tooltip["accounts"] = CUBE_MEASURES["accounts"]
    shown = drawable.assign(**{measure: drawable[measure].round(2)})
    fmap = choropleth_map(
        shown,
        value=measure,
        value_label=CUBE_MEASURES[measure],
        tooltip=tooltip,
        scheme=scheme,
        bounds=bounds,
        value_kind=MEASURE_KINDS[measure],
        empty=empty_members(shown, measure),
    )
    polygons = level != "zip"
    if polygons and st.toggle("Show hot and cold spots (Getis-Ord Gi*)", key="spots"):
        spots = hot_spots(shown, measure)
        add_spots(fmap, spots)
        counts = spots["spot"].value_counts()
        st.caption(
            f"{counts.get('hot', 0)} hot and {counts.get('cold', 0)} cold spots of "
            f"{CUBE_MEASURES[measure].lower()} among {len(spots):,} regions (false-discovery rate 5%)."
        )
    points = _county_points(fmap, focus, where) if focus and focus[-1][0] == "county" else None
    returned = st_folium(
        fmap,
        height=560,
        use_container_width=True,
        returned_objects=["last_object_clicked"],
        key=f"map-{level}-{'-'.join(k for _l, k, _n in focus)}-{st.session_state.get('spots', False)}",
    )
    if points is not None:
        _drill_to_clicked_account(returned, points, focus)
    key = clicked_key(returned, drawable)
    if key is not None and level in ("state", "county", "zip"):
        name = table.loc[table["key"] == key, "name"]
        focus.append((level, key, name.iloc[0] if len(name) else key))
        st.rerun()


def _county_points(fmap, focus: list, where: dict[str, list[str]]):
    """A drilled county with at most ``COUNTY_POINTS`` placed accounts that the filters keep shows them."""
    filters = {field: values for field, values in where.items() if field in FILTERS}
    try:
        points = accounts_in_county(
            connections().app, focus[-1][1], user=current_user(), limit=COUNTY_POINTS + 1, where=filters
        )
    except GcrmError as exc:
        show_error(exc)
        return None
    if points.empty or len(points) > COUNTY_POINTS:
        return None
    add_account_points(fmap, points, cluster_above=COUNTY_POINTS)
    kept = " the filters keep" if filters else ""
    st.caption(
        f"The county's {len(points):,} placed accounts{kept} as points: click one to list it in its ZIP."
    )
    return points


def _drill_to_clicked_account(returned, points, focus: list) -> None:
    """A click on an account's point drills to its ZIP, where its row is picked."""
    account = clicked_point_key(returned, points.rename(columns={"external_id": "key"}))
    if account is None:
        return
    zip_code = points.loc[points["external_id"] == account, "zip"].iloc[0]
    if isinstance(zip_code, str) and zip_code:
        pick_later(_zip_table_key(zip_code), account)
        focus.append(("zip", zip_code, zip_code))
        st.rerun()


def _table(table, level: str, measure: str) -> None:
    plural = LEVEL_PLURALS.get(level, "regions")
    st.markdown(f"**{len(table):,} {plural} by {CUBE_MEASURES[measure].lower()}**")
    ordered = ["key", "name", measure, *[m for m in CUBE_MEASURES if m != measure and m in table]]
    shown = table[ordered].sort_values(measure, ascending=False)
    labels = {"name": LEVELS.get(level, "Region"), **CUBE_MEASURES}
    show_table(shown.drop(columns="key").round(2), labels=labels, kinds=MEASURE_KINDS, height=470)
    left, right = st.columns(2)
    # The files are made when clicked: a GeoJSON of every county cost a quarter of each rerun. A
    # click changes nothing on the page, so it does not rerun it: a rerun started by the click ran
    # at the same time as the download and, meeting a rerun of the map, could lose it.
    left.download_button(
        "Download CSV",
        partial(csv_text, shown.round(2)),
        file_name=f"{level}.csv",
        mime="text/csv",
        on_click="ignore",
    )
    right.download_button(
        "Download GeoJSON",
        partial(table.to_json, drop_id=True, na="null"),
        file_name=f"{level}.geojson",
        mime="application/geo+json",
        on_click="ignore",
    )
    k = load_settings().export_min_cell
    shared, suppressed = suppress_small_cells(
        table[["key", "name", "accounts", "geometry"]].rename(columns={"key": "cell"}), k=k
    )
    audited_download(
        st,
        "Share (GeoJSON, k-anonymous)",
        partial(shared.to_json, drop_id=True, na="null"),
        f"{level}-shared.geojson",
        "application/geo+json",
        kind="locations",
        target=f"{level} k={k}",
        rows=len(shared),
    )
    st.caption(
        f"To share: accounts per {LEVELS.get(level, 'region').lower()} only;"
        f" {suppressed:,} with fewer than {k} left out."
    )


ACCOUNT_LABELS = {
    "external_id": "Account ID",
    "name": "Name",
    "status": "Status",
    "segment": "Segment",
    "industry": "Industry",
    "street": "Street",
    "city": "City",
    "geocode_precision": "Placed by",
    "revenue": "Revenue, 12 months",
}


def _zip_table_key(zip_code: str) -> str:
    return f"zip-table-{zip_code}"


def _accounts_table(zip_code: str) -> None:
    try:
        accounts = accounts_in_zip(connections().app, zip_code, user=current_user())
    except GcrmError as exc:
        show_error(exc)
        return
    st.markdown(f"**{len(accounts):,} accounts in ZIP {markdown_text(zip_code)}**")
    table_key = _zip_table_key(zip_code)
    picked = picked_row(table_key, accounts)
    map_column, table_column = st.columns([3, 2])
    if accounts[["lon", "lat"]].notna().all(axis=1).any():
        with map_column:
            returned = st_folium(
                zip_accounts_map(accounts, picked=picked),
                height=480,
                use_container_width=True,
                returned_objects=["last_object_clicked"],
                key=f"zip-accounts-{zip_code}",
            )
        pick_clicked(returned, accounts, table_key, picked)
    with table_column:
        accounts_table(
            accounts.drop(columns=["lon", "lat"]).rename(columns=ACCOUNT_LABELS),
            table_key,
            column_config=number_columns({"Revenue, 12 months": "money"}),
        )


if opened_through_app():
    render()
