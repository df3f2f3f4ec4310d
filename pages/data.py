"""Data: import a file with a mapping you can change, and see how well the book is geocoded."""

import shutil
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from geo.analysis.cube import low_precision_by_state
from geo.config import load_settings
from geo.errors import GcrmError
from geo.field.accounts import (
    accounts_for_review,
    low_precision_by_stated_state,
    merge_accounts,
    precision_counts,
)
from geo.ingest.duplicates import probable_duplicates
from geo.ingest.files import RawTable, check_upload_size, read_table
from geo.ingest.geocode import load_gazetteer, normalise_state
from geo.ingest.importer import KINDS, ImportSummary, detect_mapping, doubled_fields, field_labels, run_import
from geo.ingest.street_geocoder import street_geocoder
from geo.maps.escaping import markdown_text
from geo.maps.region_maps import choropleth_map
from geo.privacy.exports import csv_text
from pages._shared.caches import cached_regions, connections
from pages._shared.downloads import audited_download
from pages._shared.errors import show_error
from pages._shared.navigation import opened_through_app
from pages._shared.tables import show_table
from pages._shared.user import current_user

IGNORE = "— ignore —"
UPLOAD_TYPES = ["csv", "txt", "tsv", "xlsx", "parquet", "geojson", "json", "gpkg"]
DUPLICATE_LABELS = {
    "external_id_a": "Account A",
    "name_a": "Name A",
    "external_id_b": "Account B",
    "name_b": "Name B",
    "reason": "Why",
    "distance_m": "Apart (m)",
}
PRECISION_LABELS = {
    "given": "Coordinates in the file",
    "rooftop": "Rooftop",
    "street": "Street address",
    "manual": "Placed by hand",
    "postal": "ZIP centroid",
    "city": "City centre",
    "region": "State centre",
    "none": "Not on the map",
}


def render() -> None:
    """Show the import form and the geocoding-quality panel."""
    st.title("Data")
    st.subheader("Import a file")
    _import_form()
    st.divider()
    st.subheader("Geocoding quality")
    _quality_panel()
    st.divider()
    st.subheader("Probable duplicates")
    _duplicates_panel()


def _read_upload(upload) -> RawTable:
    cache = st.session_state.setdefault("uploads", {})
    if upload.file_id not in cache:
        max_mb = load_settings().max_upload_mb
        check_upload_size(upload.size, upload.name, max_mb=max_mb)
        suffix = Path(upload.name).suffix
        with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
            upload.seek(0)
            shutil.copyfileobj(upload, handle)
            handle.flush()
            cache.clear()
            cache[upload.file_id] = read_table(Path(handle.name), name=upload.name, max_mb=max_mb)
    return cache[upload.file_id]


def _mapping_editor(table: RawTable, kind: str, key: str) -> dict[str, str]:
    columns = list(table.frame.columns)
    detected = detect_mapping(columns, kind)
    labels = field_labels(kind)
    fields_by_label = {label: field for field, label in labels.items()}
    examples = [next((v for v in table.frame[c] if v), "") for c in columns]
    frame = pd.DataFrame(
        {
            "Column in file": columns,
            "Example": examples,
            "Imports as": [labels[detected[c]] if c in detected else IGNORE for c in columns],
        }
    )
    edited = st.data_editor(
        frame,
        column_config={
            "Imports as": st.column_config.SelectboxColumn(options=[IGNORE, *labels.values()], required=True)
        },
        disabled=["Column in file", "Example"],
        hide_index=True,
        width="stretch",
        key=key,
    )
    chosen = edited[edited["Imports as"] != IGNORE]
    return {
        column: fields_by_label[label]
        for column, label in zip(chosen["Column in file"], chosen["Imports as"], strict=True)
    }


def _import_form() -> None:
    kind = st.radio("The file holds", KINDS, horizontal=True, format_func=str.title)
    upload = st.file_uploader("CSV, Excel, Parquet, GeoJSON or GeoPackage", type=UPLOAD_TYPES)
    if upload is None:
        st.caption(
            "Columns are recognised from common headers (Customer Name, ZIP, Lat/Lng …); you can change them."
        )
        _show_summary()
        return
    try:
        table = _read_upload(upload)
    except GcrmError as exc:
        show_error(exc)
        return
    shape = f"{len(table.frame):,} rows, {len(table.frame.columns)} columns"
    st.markdown(f"**{markdown_text(upload.name)}**: {shape}")
    for note in table.notes:
        st.warning(note, icon=":material/translate:")
    if table.problems:
        st.caption(f"{len(table.problems):,} records cannot be read; they will be listed as rejected.")
    mapping = _mapping_editor(table, kind, key=f"mapping-{kind}-{upload.file_id}")
    doubled = doubled_fields(mapping)
    if doubled:
        st.error(f"Each field can come from one column only: {', '.join(doubled)}.")
        return
    if st.button(f"Import {len(table.frame):,} rows", type="primary"):
        bar = st.progress(0.0, text="starting")
        try:
            st.session_state["last_import"] = run_import(
                connections().app,
                kind,
                table,
                mapping=mapping,
                user=current_user(),
                data_dir=load_settings().data_dir,
                filename=upload.name,
                street_geocoder=street_geocoder(load_settings(), connections().app, user=current_user()),
                progress=lambda fraction, message: bar.progress(fraction, text=message),
            )
        except GcrmError as exc:
            show_error(exc)
    _show_summary()


def _show_summary() -> None:
    summary: ImportSummary | None = st.session_state.get("last_import")
    if summary is None:
        return
    st.markdown("**Last import**")
    columns = st.columns(5)
    for column, (label, value) in zip(
        columns,
        [
            ("Read", summary.read),
            ("Inserted", summary.inserted),
            ("Updated", summary.updated),
            ("Unchanged", summary.unchanged),
            ("Rejected", summary.rejected),
        ],
        strict=True,
    ):
        column.metric(label, f"{value:,}")
    st.code(summary.line(), language=None)
    if summary.placed:
        st.caption(summary.placements())
        placed = pd.DataFrame(
            {
                "How placed": [PRECISION_LABELS.get(p, p) for p in summary.placed],
                "Rows": list(summary.placed.values()),
            }
        )
        st.dataframe(placed, hide_index=True, width="content")
    if summary.rejected:
        rejects = summary.rejects[["line", "reason"]].rename(columns={"line": "Line", "reason": "Reason"})
        st.dataframe(rejects, hide_index=True, width="stretch", height=240)
        audited_download(
            st,
            "Download rejected rows (CSV)",
            csv_text(summary.rejects),
            f"rejects-batch-{summary.batch_id}.csv",
            "text/csv",
            kind="import_rejects",
            target=f"batch:{summary.batch_id}",
            rows=len(summary.rejects),
        )


def _quality_panel() -> None:
    try:
        counts = precision_counts(connections().app, user=current_user())
        low = low_precision_by_stated_state(connections().app, user=current_user())
        states = cached_regions("state")
    except GcrmError as exc:
        show_error(exc)
        return
    total = int(counts["accounts"].sum())
    if total == 0:
        st.info("No accounts yet: import a file above, or load the demo book with `gcrm demo`.")
        return
    shares = counts.assign(
        label=counts["precision"].map(PRECISION_LABELS).fillna(counts["precision"]),
        share=(100.0 * counts["accounts"] / total).round(1),
    )
    left, right = st.columns([2, 3])
    with left:
        st.markdown(f"**How {total:,} accounts are placed**")
        st.dataframe(
            shares[["label", "accounts", "share"]].rename(
                columns={"label": "Placed by", "accounts": "Accounts", "share": "Share (%)"}
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "Accounts": st.column_config.NumberColumn(format="localized"),
                "Share (%)": st.column_config.NumberColumn(format="%.1f"),
            },
        )
        st.bar_chart(
            shares.set_index("label")["share"], horizontal=True, x_label="Share of accounts (%)", y_label=""
        )
    with right:
        codes = normalise_state(low["state"], load_gazetteer(load_settings().data_dir))
        by_state = low_precision_by_state(low, states, codes)
        st.markdown("**Unplaced or state-level accounts, by the state in their address**")
        fmap = choropleth_map(
            by_state,
            value="low_precision",
            value_label="Unplaced or state-level",
            tooltip={
                "name": "State",
                "unplaced": "Not on the map",
                "state_level": "At state centre",
                "low_precision": "Total",
            },
            value_kind="count",
        )
        st_folium(fmap, height=420, use_container_width=True, returned_objects=[], key="quality-map")
        unknown = int(low.loc[codes.isna().to_numpy(), "accounts"].sum())
        if unknown:
            st.caption(f"{unknown:,} unplaced accounts name no known US state and are not on this map.")


def _duplicates_panel() -> None:
    st.caption(
        "Accounts with the same name within a few hundred metres, or the same street address and ZIP. "
        "Nothing is merged until you choose to."
    )
    if st.button("Find probable duplicates"):
        try:
            st.session_state["duplicates"] = probable_duplicates(
                accounts_for_review(connections().app, user=current_user())
            )
        except GcrmError as exc:
            show_error(exc)
            return
    if "merged" in st.session_state:
        st.success(st.session_state.pop("merged"))
    pairs = st.session_state.get("duplicates")
    if pairs is None:
        return
    if pairs.empty:
        st.success("No probable duplicates found.")
        return
    show_table(pairs, labels=DUPLICATE_LABELS, kinds={"distance_m": "number"}, height=240)
    labels = [
        f"{p.name_b} ({p.external_id_b}) into {p.name_a} ({p.external_id_a})" for p in pairs.itertuples()
    ]
    choice = st.selectbox("Merge", range(len(labels)), format_func=labels.__getitem__)
    if st.button("Merge the second account into the first", type="primary"):
        pair = pairs.iloc[choice]
        try:
            moved = merge_accounts(
                connections().app, pair["external_id_a"], pair["external_id_b"], user=current_user()
            )
        except GcrmError as exc:
            show_error(exc)
            return
        st.session_state["duplicates"] = pairs.drop(index=pairs.index[choice]).reset_index(drop=True)
        st.session_state["merged"] = (
            f"Merged {markdown_text(pair['external_id_b'])} into {markdown_text(pair['external_id_a'])}: "
            + ", ".join(f"{count} {table}" for table, count in moved.items())
            + " moved."
        )
        st.rerun()


if opened_through_app():
    render()
