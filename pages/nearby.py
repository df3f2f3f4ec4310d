"""Nearby accounts for field reps: where am I, who is near, the day's route, and logging a visit."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo import formatting
from geo.config import load_settings
from geo.errors import GcrmError
from geo.field.accounts import data_version
from geo.field.nearby import (
    account_history,
    log_visit,
    nearest_accounts,
    nearest_by_drive,
    position_from_text,
)
from geo.field.routes import DriveRoute, drive_route, route_gpx
from geo.ingest.geocode import load_gazetteer
from geo.maps.base import base_map
from geo.maps.clicks import clicked_point, tapped_key
from geo.maps.controls import LocateControl
from geo.maps.escaping import markdown_text
from geo.maps.point_maps import accounts_map
from geo.privacy.exports import csv_text
from geo.roads.travel import Basis
from pages._shared.address import linked_choice, linked_view, show_view
from pages._shared.caches import book_choices, connections
from pages._shared.downloads import audited_download
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.search import picked_account
from pages._shared.tables import number_columns, reader_time_zone, show_table
from pages._shared.user import current_user

OUTCOMES = ("Met the buyer", "Left material", "Order taken", "No one available", "Follow-up booked")
NEAREST_BY = {"distance": "Distance", "drive": "Drive time"}
# The account whose marker the rep tapped last (its panel shows above the route).
TAPPED_KEY = "nearby_tapped"
# The last nearest search: what was asked (position, filters, the book's version) and what it found.
FOUND_KEY = "nearby_found"
# Tables the nearest search reads (a change to one searches again).
SEARCHED_TABLES = ("accounts", "interactions", "orders", "road_network")
# The view in the page's address (a reload or a shared link restores it).
PAGE = "nearby"
# Number filters: query parameter → (session key, lowest, highest, default), for the inputs and the address.
NUMBERS = {"k": ("k", 1, 200, 25), "within": ("radius", 0, 500, 0), "stale": ("stale", 0, 3_650, 0)}
VIEW_KEYS = ("where", *NUMBERS, "status", "open", "by")
HISTORY_LABELS = {"when": "When", "what": "What", "detail": "Detail", "amount": "Amount"}


def render() -> None:
    """Find the accounts around the rep, plan a route through some of them and log visits."""
    st.title("Nearby accounts")
    _restore_view()
    typed = st.text_input("Where are you? A ZIP, a city and state, or lat, lon", key="where")
    _find_account()
    located = st.empty()
    # The filters fold away (a rep on a phone sees the map and the list first); the label says what is set.
    with st.expander(_filters_summary()):
        row = st.columns(3)
        k = row[0].number_input("How many", *NUMBERS["k"][1:], key="k")
        radius = row[1].number_input("Within km (0: any)", *NUMBERS["within"][1:], key="radius")
        statuses = row[2].multiselect("Status", book_choices()["status"], key="statuses")
        row = st.columns(2)
        stale = row[0].number_input("Not visited in N days (0: any)", *NUMBERS["stale"][1:], key="stale")
        open_orders = row[1].checkbox("With open orders", key="open_orders")
        nearest_by = st.radio(
            "Nearest by", list(NEAREST_BY), format_func=NEAREST_BY.get, horizontal=True, key="nearest_by"
        )
    if typed.strip() and typed != st.session_state.get("typed_applied"):
        try:
            lon, lat, how = position_from_text(typed, load_gazetteer(load_settings().data_dir))
        except GcrmError as exc:
            show_error(exc)
            return
        st.session_state["position"] = (lon, lat, how)
        st.session_state["typed_applied"] = typed
        st.session_state["typed_position"] = (lon, lat, how)
    position = st.session_state.get("position")
    _show_view(typed, position)
    if position is None:
        st.info("Type where you are, click on the map below, or use your location (◎ on the map).")
        _pick_on_map()
        return
    lon, lat, how = position
    located.caption(f"Position {lat:.5f}, {lon:.5f} ({markdown_text(how)}).")
    filters = {
        "radius_m": radius * 1000 if radius else None,
        "statuses": tuple(statuses),
        "not_visited_days": int(stale) or None,
        "open_orders": open_orders,
    }
    try:
        found, basis = _nearest((lon, lat), int(k), nearest_by, filters)
    except GcrmError as exc:
        show_error(exc)
        return
    if found.empty:
        st.info("No account matches around this position.")
        return
    _tapped_account(found)
    _around(found, basis, (lon, lat))
    _visit(found, (lon, lat))


def _nearest(
    position: tuple[float, float], k: int, nearest_by: str, filters: dict
) -> tuple[pd.DataFrame, Basis | None]:
    """The nearest accounts, searched again only when the position, the filters or the book changed.

    A tap, a pick of a route stop or a visit's form reruns the page; the search stays as it was.
    """
    user = current_user()
    version = data_version(connections().app, user=user, tables=SEARCHED_TABLES)
    asked = (user, position, k, nearest_by, tuple(filters.items()), version)
    kept = st.session_state.get(FOUND_KEY)
    if kept is not None and kept[0] == asked:
        return kept[1], kept[2]
    lon, lat = position
    if nearest_by == "drive":
        found, basis = nearest_by_drive(connections().app, lon, lat, k=k, user=user, **filters)
    else:
        found, basis = nearest_accounts(connections().app, lon, lat, k=k, user=user, **filters), None
    st.session_state[FOUND_KEY] = (asked, found, basis)
    return found, basis


@st.fragment
def _around(found: pd.DataFrame, basis: Basis | None, position: tuple[float, float]) -> None:
    """The route picker, the map and the list: picking a stop reruns only this part of the page."""
    lon, lat = position
    picked = st.multiselect(
        "Plan a route through", found["external_id"], format_func=_label(found), key="route_pick"
    )
    stops = found[found["external_id"].isin(picked)]
    try:
        route = drive_route(connections().app, position, stops, user=current_user()) if len(stops) else None
    except GcrmError as exc:
        show_error(exc)
        return
    map_column, list_column = st.columns([3, 2])
    with map_column:
        returned = st_folium(
            accounts_map(
                (lon, lat),
                found,
                route=route.stops if route else None,
                route_path=route.path if route else None,
            ),
            height=520,
            use_container_width=True,
            returned_objects=["last_clicked", "last_object_clicked"],
            key=f"nearby-{lat:.5f}-{lon:.5f}",
        )
        _tap_or_move(returned, found, (lon, lat))
    with list_column:
        _list(found, basis)
        if route is not None:
            _route(route, position)


def _restore_view() -> None:
    """A reload, a shared link or a hand-edited address: set the position typed and the filters from it."""
    linked = linked_view(PAGE, VIEW_KEYS)
    if linked is None:
        return
    state = st.session_state
    state["where"] = linked.get("where", [""])[-1]
    for name, (key, low, high, default) in NUMBERS.items():
        state[key] = _linked_number(name, linked.get(name, []), low, high, default)
    state["statuses"] = linked_choice("status", linked.get("status", []), book_choices()["status"]) or []
    state["open_orders"] = linked_choice("open", linked.get("open", [])[-1:], ["0", "1"]) == ["1"]
    by = linked_choice("nearest by", linked.get("by", [])[-1:], list(NEAREST_BY))
    state["nearest_by"] = by[0] if by else next(iter(NEAREST_BY))


def _linked_number(name: str, linked: list[str], low: int, high: int, default: int) -> int:
    """A whole number from the address, from ``low`` to ``high``; another is a warning and the default."""
    if not linked:
        return default
    text = linked[-1].strip()
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    msg = f"The address asks for {name}={text!r}; {name} is a whole number from {low} to {high}."
    msg += f" Showing {default}."
    st.warning(markdown_text(msg))
    return default


def _show_view(typed: str, position: tuple | None) -> None:
    """Write the view to the address: the position (as typed, or where a click or search went), filters."""
    state = st.session_state
    where = typed.strip()
    if position is not None and position != state.get("typed_position"):
        where = f"{position[1]:.5f}, {position[0]:.5f}"
    view = {"where": where, "status": state.get("statuses")}
    view["open"] = "1" if state.get("open_orders") else None
    for name, (key, _low, _high, default) in NUMBERS.items():
        view[name] = None if state.get(key, default) == default else str(int(state[key]))
    by = state.get("nearest_by")
    view["by"] = by if by and by != next(iter(NEAREST_BY)) else None
    show_view(PAGE, view)


def _find_account() -> None:
    """Search the user's accounts by name, ID, city or ZIP; picking one moves there (the nearest then)."""
    row = picked_account("Or find an account: name, ID, city or ZIP")
    if row is not None:
        st.session_state["position"] = (float(row["lon"]), float(row["lat"]), f"account {row['name']}")


def _label(found: pd.DataFrame):
    names = dict(zip(found["external_id"], found["name"], strict=True))
    return lambda external_id: f"{names[external_id]} ({external_id})"


def _pick_on_map() -> None:
    returned = st_folium(
        _states_map(), height=480, use_container_width=True, returned_objects=["last_clicked"], key="pick"
    )
    _move_to_click(returned)


def _states_map():
    fmap = base_map()
    fmap.add_child(LocateControl())
    return fmap


def _tap_or_move(returned: dict | None, found: pd.DataFrame, position: tuple[float, float]) -> None:
    """A tapped account marker opens the account; a click elsewhere on the map moves the position."""
    tapped = tapped_key(returned, found.rename(columns={"external_id": "key"}), position)
    if tapped is None:
        _move_to_click(returned)
    elif tapped != st.session_state.get(TAPPED_KEY):
        st.session_state[TAPPED_KEY] = tapped
        st.rerun()


def _tapped_account(found: pd.DataFrame) -> None:
    """The account whose marker was tapped: who it is, and the two things a rep does next."""
    tapped = st.session_state.get(TAPPED_KEY)
    if tapped is None or tapped not in set(found["external_id"]):
        return
    row = found[found["external_id"] == tapped].iloc[0]
    last = (
        "never"
        if formatting.missing(row["last_visit"])
        else formatting.moment(row["last_visit"], reader_time_zone())
    )
    with st.container(border=True):
        st.markdown(
            f"**{markdown_text(row['name'])}** ({markdown_text(row['external_id'])})"
            f" · {markdown_text(row['status'])} · {row['distance_m'] / 1000:,.1f} km"
            f" · last visit {markdown_text(last)}"
        )
        left, middle, right = st.columns(3)
        left.button("Add to route", on_click=_add_to_route, args=(tapped,), key="tap_route")
        middle.button("Log a visit", on_click=_log_visit_for, args=(tapped,), key="tap_visit")
        right.button("Close", on_click=st.session_state.pop, args=(TAPPED_KEY, None), key="tap_close")


def _add_to_route(external_id: str) -> None:
    picked = list(st.session_state.get("route_pick", []))
    if external_id not in picked:
        st.session_state["route_pick"] = [*picked, external_id]


def _log_visit_for(external_id: str) -> None:
    st.session_state["visit_account"] = external_id


def _move_to_click(returned: dict | None) -> None:
    clicked = clicked_point(returned)
    if clicked is not None:
        position = (clicked.x, clicked.y, "from the map: a click or your location")
        if st.session_state.get("position", (None, None))[:2] != position[:2]:
            st.session_state["position"] = position
            st.rerun()


def _filters_summary() -> str:
    """The filters' fold label: what the search looks for now ("Filters: 25 nearest, within 10 km …")."""
    state = st.session_state
    parts = [f"{int(state.get('k', 25))} nearest"]
    if state.get("radius"):
        parts.append(f"within {int(state['radius'])} km")
    if state.get("statuses"):
        parts.append(", ".join(state["statuses"]))
    if state.get("stale"):
        parts.append(f"not visited in {int(state['stale'])} days")
    if state.get("open_orders"):
        parts.append("with open orders")
    return "Filters: " + ", ".join(markdown_text(part) for part in parts)


def _list(found: pd.DataFrame, basis: Basis | None) -> None:
    zone = reader_time_zone()
    drive = {} if basis is None else {"Drive min": found["drive_min"].round(1)}
    table = pd.DataFrame(
        {
            "Account": found["name"],
            "ID": found["external_id"],
            **drive,
            "km": (found["distance_m"] / 1000).round(2),
            "Status": found["status"],
            "Revenue, 12 months": found["value"].round(0),
            "Last visit": [
                "never" if formatting.missing(when) else formatting.moment(when, zone)
                for when in found["last_visit"]
            ],
        }
    )
    st.markdown(f"**{len(found)} nearest accounts**")
    st.dataframe(
        table,
        hide_index=True,
        width="stretch",
        height=360,
        column_config=number_columns({"Drive min": "tenths", "km": "tenths", "Revenue, 12 months": "money"}),
    )
    if basis is not None:
        st.caption(f"Ranked by drive time — {markdown_text(basis.described)}; km on the sphere.")


def _route(drive: DriveRoute, start: tuple[float, float]) -> None:
    route = drive.stops
    st.markdown(
        f"**Route: {len(route)} stop{'' if len(route) == 1 else 's'},"
        f" {formatting.duration(drive.total_s / 60)},"
        f" {drive.total_m / 1000:,.1f} km**"
    )
    shown = pd.DataFrame(
        {
            "#": route["sequence"],
            "Account": route["name"],
            "Drive min": route["leg_min"].round(1),
            "km": (route["leg_m"] / 1000).round(2),
            "Total min": route["cumulative_min"].round(1),
            "Total km": (route["cumulative_m"] / 1000).round(2),
        }
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config=number_columns(dict.fromkeys(["Drive min", "km", "Total min", "Total km"], "tenths")),
    )
    st.caption(f"Ordered on drive times — {markdown_text(drive.basis.described)}.")
    left, right = st.columns(2)
    rows = {"kind": "route", "target": "route", "rows": len(route)}
    audited_download(
        left, "Route CSV", csv_text(route.drop(columns=["account_id"])), "route.csv", "text/csv", **rows
    )
    audited_download(
        right,
        "Route GPX",
        route_gpx(start, route, path=drive.path),
        "route.gpx",
        "application/gpx+xml",
        **rows,
    )


def _visit(found: pd.DataFrame, position: tuple[float, float]) -> None:
    st.subheader("Log a visit")
    account = st.selectbox("Account", found["external_id"], format_func=_label(found), key="visit_account")
    with st.form("visit", clear_on_submit=True):
        outcome = st.selectbox("Outcome", OUTCOMES)
        minutes = st.number_input("Minutes", 0, 600, 30)
        notes = st.text_area("Notes")
        checkin = st.checkbox("Check in at my position", value=True)
        if st.form_submit_button("Log visit", type="primary"):
            try:
                log_visit(
                    connections().app,
                    account,
                    outcome=outcome,
                    notes=notes,
                    duration_min=int(minutes),
                    lon=position[0] if checkin else None,
                    lat=position[1] if checkin else None,
                    user=current_user(),
                )
            except GcrmError as exc:
                show_error(exc)
            else:
                st.success("Visit logged.")
    try:
        history = account_history(connections().app, account, user=current_user())
    except GcrmError as exc:
        show_error(exc)
        return
    st.markdown("**History**")
    show_table(history.head(50), labels=HISTORY_LABELS, kinds={"amount": "money"})


if opened_through_app():
    render()
