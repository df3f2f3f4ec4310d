"""Territory design: the plan on a map, click to reassign, what-if, automatic alignment, publish."""

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis.cube import CUBE_MEASURES, MARKET, MEASURE_KINDS
from geo.config import load_settings
from geo.errors import GcrmError
from geo.field.accounts import data_version
from geo.maps.clicks import clicked_key
from geo.maps.escaping import markdown_text
from geo.maps.region_maps import category_map
from geo.roads.estimate import ASSUMPTION
from pages._shared.address import linked_choice, linked_view, show_view
from pages._shared.caches import BOOK_TABLES, cached_book, cached_units, connections
from pages._shared.errors import guarded, show_error
from pages._shared.labels import KPI_KINDS, KPI_LABELS
from pages._shared.navigation import opened_through_app
from pages._shared.tables import figure_rows, show_table
from pages._shared.user import current_scope, current_user
from territories.book_alignment import (
    BALANCE_MEASURES,
    labelled_plan,
    lock_labels,
    plan_labels,
    propose_alignment,
)
from territories.metrics import territory_kpis
from territories.model import (
    active_version,
    create_version,
    lock_territory,
    lock_units,
    may_plan,
    move_units,
    publish,
    save_draft,
    shapes_of_accounts,
    territory_table,
    version_plan,
    versions,
)
from territories.plan import gaps, outlines, overlaps, plan_accounts, plan_diff, preview
from territories.starter import starter_plan

MEASURE_LABELS = {
    "accounts": "Accounts",
    "revenue": "Revenue",
    "workload": "Workload, minutes (visit + travel time)",
    **{measure: CUBE_MEASURES[measure] for measure in MARKET},
}
# Session key of the last saved move: (version, unit, unit name, territory before, territory after).
LAST_MOVE_KEY = "design_last_move"
# The plan shown, in the page's address (``?plan=ID``) when it is not the active one.
PAGE = "territory_design"
READ_ONLY = (
    "You can read the territory plans here but not change them. A plan is aligned and published "
    "on the whole book, and you see only the accounts of the part you manage (the figures on this "
    "page count those alone), so only an admin aligns, edits and publishes plans."
)


def render() -> None:
    """Show the chosen plan, and the tools to change it to those who may plan (admins)."""
    st.title("Territory design")
    user = current_user()
    db = connections().app
    try:
        listed = versions(db, user=user)
        planner = may_plan(db, user=user)
    except GcrmError as exc:
        show_error(exc)
        return
    if listed.empty:
        _no_plan_yet(planner)
        return
    if not planner:
        st.info(READ_ONLY, icon=":material/visibility:")
    try:
        version, level, plan, locked, active = _choose_version(listed, planner)
        territories = territory_table(db, user=user).query("kind == 'territory'")
        book = cached_book(current_scope(), level, data_version(db, user=user, tables=BOOK_TABLES), user)
        units = cached_units(user, level, tuple(plan.index) if level != "county" else ())
    except GcrmError as exc:
        show_error(exc)
        return
    status = listed.set_index("version_id").loc[version, "status"]
    tabs = st.tabs(
        ["Map and edits", "Automatic alignment", "Changes against the active plan", "Gaps and overlaps"]
    )
    with tabs[0]:
        _map_and_edits(version, status, plan, locked, territories, book, units, planner=planner)
    with tabs[1]:
        if planner:
            _alignment(level, plan, locked, territories, active)
        else:
            st.info(READ_ONLY, icon=":material/visibility:")
    with tabs[2]:
        _changes(version, active, book, plan, territories)
    with tabs[3]:
        _gaps_and_overlaps(version, book, plan)


def _gaps_and_overlaps(version: int, book: pd.DataFrame, plan: pd.Series) -> None:
    found = gaps(book, plan)
    if found.empty:
        st.success("Every unit holding accounts belongs to a territory.")
    else:
        st.warning(f"{len(found):,} unit(s) hold accounts but belong to no territory.")
        show_table(found, labels={"unit": "Unit", "accounts": "Accounts"}, kinds={"accounts": "count"})
    try:
        claimed = overlaps(book, shapes_of_accounts(connections().app, version, user=current_user()), plan)
    except GcrmError as exc:
        show_error(exc)
        return
    if claimed.empty:
        st.success("No account is claimed by two territories.")
    else:
        st.warning(f"{len(claimed):,} account(s) are claimed by two territories (a drawn shape and a unit).")
        show_table(claimed, labels={"account_id": "Account", "territories": "Claimed by territories"})


def _no_plan_yet(planner: bool) -> None:
    if not planner:
        st.info("No territory plan yet: an admin makes the first one, on the whole book.")
        return
    st.info("No territory plan yet. Start with one territory per rep, counties balanced on accounts.")
    if st.button("Create a starter plan", type="primary"):
        with st.spinner("Aligning counties into one territory per rep …"):
            try:
                starter_plan(connections().app, load_settings().data_dir, user=current_user())
            except GcrmError as exc:
                show_error(exc)
                return
        st.rerun()


def _choose_version(listed: pd.DataFrame, planner: bool) -> tuple:
    user = current_user()
    db = connections().app
    labels = {
        row.version_id: f"{row.name} — {row.status} ({row.unit_level}, {row.units:,} units)"
        for row in listed.itertuples()
    }
    active = active_version(db, user=user)
    left, middle, right = st.columns([3, 1, 1])
    ids = list(labels)
    linked = linked_view(PAGE, ["plan"])
    if linked is not None:
        picked = linked_choice("plan", linked["plan"][-1:], [str(i) for i in ids])
        st.session_state["plan_pick"] = int(picked[0]) if picked else None
    if st.session_state.get("plan_pick") not in ids:
        st.session_state["plan_pick"] = active if active in ids else ids[0]
    version = left.selectbox("Plan", ids, format_func=labels.get, key="plan_pick")
    show_view(PAGE, {"plan": None if version == active else str(version)})
    status = listed.set_index("version_id").loc[version, "status"]
    if planner:
        middle.button(
            "New draft",
            help="Copy the active plan into a draft you can change",
            on_click=guarded(_new_draft),
            args=(active if active is not None else version, labels),
        )
        if status == "draft" and right.button("Publish", type="primary", help="Make this the active plan"):
            moved = publish(db, version, user=user)
            st.toast(f"Published: {moved:,} account(s) changed territory.")
            st.rerun()
    level, plan, locked = version_plan(db, version, user=user)
    return version, level, plan, locked, active


def _new_draft(source: int, labels: dict) -> None:
    db = connections().app
    name = f"Draft of {labels[source].split(' — ')[0]}"
    try:
        level, _plan, _locked = version_plan(db, source, user=current_user())
        st.session_state["plan_pick"] = create_version(db, name, level, user=current_user(), copy_from=source)
    except GcrmError as exc:
        show_error(exc)


def _save_alignment(level: str, name: str, mapped: pd.Series, locked: set[str]) -> None:
    try:
        version = save_draft(connections().app, name, level, mapped, user=current_user(), locked=locked)
    except GcrmError as exc:
        show_error(exc)
        return
    st.session_state["plan_pick"] = version
    st.session_state.pop("alignment", None)


def _map_and_edits(version, status, plan, locked, territories, book, units, *, planner: bool) -> None:
    codes = dict(zip(territories.index, territories["code"], strict=True))
    placed = units.assign(key=units["code"], territory=units["code"].map(plan))
    counts = book.groupby("unit").size()
    placed["accounts"] = placed["code"].map(counts).fillna(0).astype(int)
    placed["territory_code"] = placed["territory"].map(codes).fillna("none")
    selected = st.session_state.get("design_unit")
    map_column, side = st.columns([3, 2])
    with map_column:
        shapes = outlines(units, plan).rename(columns={"territory_id": "territory"})
        fmap = category_map(
            placed,
            category="territory",
            names=codes,
            tooltip={"name": "Unit", "territory_code": "Territory", "accounts": "Accounts"},
            outlines=shapes,
            title="Territories",
            selected=selected,
        )
        returned = st_folium(
            fmap,
            height=600,
            use_container_width=True,
            returned_objects=["last_object_clicked"],
            key=f"design-{version}",
        )
        clicked = clicked_key(returned, placed)
        if clicked is not None and clicked != selected:
            st.session_state["design_unit"] = clicked
            st.rerun()
    with side:
        kpis = territory_kpis(plan_accounts(book, plan), territories)
        if selected is None or selected not in set(placed["key"]):
            st.markdown(f"**Click a unit on the map{' to reassign or lock it' if planner else ''}.**")
            _territory_table(kpis, territories)
            return
        _unit_panel(version, status, selected, plan, locked, territories, book, placed, planner=planner)


def _territory_table(kpis: pd.DataFrame, territories: pd.DataFrame) -> None:
    table = kpis.assign(code=territories["code"], locked=territories["locked"])
    show_table(
        table[["code", "name", "rep_name", "accounts", "revenue", "locked"]],
        labels={"code": "Code", "name": "Territory", "rep_name": "Rep", "locked": "Locked", **KPI_LABELS},
        kinds=KPI_KINDS,
        height=520,
    )


def _offer_undo(version: int, plan: pd.Series, names: dict, user: str) -> None:
    """Offer to move back the last unit this session moved in this draft, while it is still there."""
    last = st.session_state.get(LAST_MOVE_KEY)
    if last is None or last[0] != version:
        return
    _version, unit, name, before, after = last
    if plan.get(unit) != after:
        st.session_state.pop(LAST_MOVE_KEY, None)
        return
    back = markdown_text(names.get(before, str(before)))
    if st.button(f"Undo: move {markdown_text(name)} back to {back}", key="undo_move"):
        try:
            move_units(connections().app, version, {unit: before}, user=user)
        except GcrmError as exc:
            show_error(exc)
            return
        st.session_state.pop(LAST_MOVE_KEY, None)
        st.toast(f"{markdown_text(name)} is back in {back}.")
        st.rerun()


def _unit_panel(version, status, unit, plan, locked, territories, book, placed, *, planner: bool) -> None:
    user = current_user()
    db = connections().app
    row = placed.loc[placed["key"] == unit].iloc[0]
    current = plan.get(unit)
    names = {tid: f"{code} · {name}" for tid, code, name in territories[["code", "name"]].itertuples()}
    st.markdown(
        f"**{markdown_text(row['name'])}** ({markdown_text(unit)}) — {int(row['accounts']):,} accounts"
    )
    now_in = markdown_text(names.get(current, "no territory"))
    st.caption(f"Now in {now_in}{' · locked' if unit in locked else ''}.")
    if not planner:
        return
    options = [t for t in territories.index if t != current]
    target = st.selectbox("Move to", options, format_func=names.get, key=f"target-{unit}")
    after = plan.copy()
    after[unit] = target
    shown = preview(book, plan, after, territories)
    touched = [t for t in (current, target) if t is not None and t in shown.index]
    rows = shown.loc[touched].stack(level=1, future_stack=True)
    table = figure_rows(rows, {kpi: KPI_LABELS[kpi] for kpi in rows.columns}, KPI_KINDS)
    st.markdown("**What-if: the two territories before and after the move**")
    st.dataframe(
        table.rename(columns=lambda t: territories.loc[t, "code"] if t in territories.index else t, level=0),
        width="stretch",
    )
    if status != "draft":
        st.info("This plan is not a draft: press **New draft** to change it.")
        return
    _offer_undo(version, plan, names, user)
    left, middle, right = st.columns(3)
    try:
        if left.button("Save move", type="primary", disabled=unit in locked):
            move_units(db, version, {unit: int(target)}, user=user)
            if current is not None:
                st.session_state[LAST_MOVE_KEY] = (version, unit, str(row["name"]), int(current), int(target))
            st.toast(f"{markdown_text(row['name'])} moved to {markdown_text(names[target])}.")
            st.rerun()
        if middle.button("Unlock unit" if unit in locked else "Lock unit"):
            lock_units(db, version, [unit], unit not in locked, user=user)
            st.rerun()
        if current is not None:
            frozen = bool(territories.loc[current, "locked"])
            if right.button("Unlock territory" if frozen else "Lock territory"):
                lock_territory(db, int(current), not frozen, user=user)
                st.rerun()
    except GcrmError as exc:
        show_error(exc)


def _travel_note(units) -> str:
    """How the workload's travel was measured: by road in how many units, estimated in the rest."""
    by_road = int(units["workload_by_road"].sum())
    return (
        f" Workload travel: by road in {by_road:,} of {len(units):,} units, elsewhere an estimate"
        f" ({ASSUMPTION})."
    )


def _alignment(level, plan, locked, territories, active) -> None:
    st.markdown(
        f"Split the {level} units into **{len(territories)} territories** (one per existing territory), "
        "balanced, contiguous and compact; locked units keep their territory."
    )
    with st.form("align"):
        columns = st.columns(3)
        measures = columns[0].multiselect(
            "Balance on", list(BALANCE_MEASURES), default=["accounts"], format_func=MEASURE_LABELS.get
        )
        tolerance = columns[1].slider("Tolerance (± % of the mean)", 1, 20, 5) / 100
        seed = columns[2].number_input("Seed", 0, 10_000, 0)
        run = st.form_submit_button("Run alignment", type="primary")
    ids = list(territories.index)
    if run:
        locks = lock_labels(plan, locked, ids)
        current = plan_labels(plan, ids)
        bar = st.progress(0.0, text="Aligning …")
        try:
            result = propose_alignment(
                connections().app,
                load_settings().data_dir,
                level=level,
                k=len(ids),
                measures=measures or ["accounts"],
                user=current_user(),
                tolerance=tolerance,
                seed=int(seed),
                locks=locks,
                current=current,
                progress=lambda what, done: bar.progress(min(done, 1.0), text=what),
            )
        except GcrmError as exc:
            bar.empty()
            show_error(exc)
            return
        bar.empty()
        st.session_state["alignment"] = (level, result.units[["code", "territory"]], result.report)
        st.session_state["alignment_travel"] = _travel_note(result.units) if "workload" in measures else ""
    proposal = st.session_state.get("alignment")
    if proposal is None or proposal[0] != level:
        return
    _level, assignment, report = proposal
    report = report.assign(code=[territories["code"].iloc[t] for t in report.index])
    shown = report[["code", *report.columns.drop("code")]].round(2).round({"workload": 0})
    show_table(shown, labels={**_report_headers(report), "code": "Territory"}, kinds=_report_kinds(report))
    st.caption(
        "deviation: % from the mean (oversized units, each its own territory, left out); "
        "cannot balance: holds a unit that no contiguous territory within the tolerance can hold; "
        "compactness: Polsby–Popper (1 = disc); "
        "moving: accounts and revenue that come from another territory of the active plan."
        + st.session_state.get("alignment_travel", "")
    )
    name = st.text_input("Save as draft named", "Aligned plan", key="aligned_name")
    mapped = labelled_plan(assignment["code"], assignment["territory"], ids)
    st.button("Save as draft", on_click=guarded(_save_alignment), args=(level, name, mapped, set(locked)))


def _report_kinds(report: pd.DataFrame) -> dict[str, str]:
    """How the figures of an alignment report read: counts, money, percentages, whole minutes, ratios."""
    kinds = {"units": "count", "compactness": "number"}
    for column in report.columns:
        measure = column.removeprefix("deviation_").removeprefix("moving_")
        if column.startswith("deviation_"):
            kinds[column] = "percent"
        elif measure == "workload":
            kinds[column] = "count"
        elif measure in MEASURE_KINDS:
            kinds[column] = MEASURE_KINDS[measure]
    return kinds


def _report_headers(report: pd.DataFrame) -> dict[str, str]:
    """Readable headers for the columns of an alignment report."""
    fixed = {
        "units": "Units",
        "oversized": "Oversized unit",
        "cannot_balance": "Cannot balance",
        "compactness": "Compactness",
        "contiguous": "Contiguous",
    }
    headers = {}
    for column in report.columns:
        measure = column.removeprefix("deviation_").removeprefix("moving_")
        name = MEASURE_LABELS.get(measure, measure.capitalize())
        if column in fixed:
            headers[column] = fixed[column]
        elif column.startswith("deviation_"):
            headers[column] = f"{name}: deviation %"
        elif column.startswith("moving_"):
            headers[column] = f"{name} moving"
        else:
            headers[column] = name
    return headers


def _changes(version, active, book, plan, territories) -> None:
    if active is None or active == version:
        st.info("This is the active plan: pick a draft above to compare it.")
        return
    _level, active_plan, _locked = version_plan(connections().app, active, user=current_user())
    diff = plan_diff(book, active_plan, plan, territories)
    if diff.empty:
        st.success("No unit changes territory against the active plan.")
        return
    labels = {
        "name": "Territory",
        "units_gained": "Units gained",
        "units_lost": "Units lost",
        "accounts_gained": "Accounts gained",
        "accounts_lost": "Accounts lost",
        "revenue_gained": "Revenue gained",
        "revenue_lost": "Revenue lost",
    }
    show_table(
        diff,
        labels=labels,
        kinds={
            column: "money" if column.startswith("revenue") else "count"
            for column in labels
            if column != "name"
        },
    )
    moved = int(diff["accounts_gained"].sum())
    st.caption(f"Publishing this draft moves {moved:,} account(s) (manual overrides stay where they are).")


if opened_through_app():
    render()
