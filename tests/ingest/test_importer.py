"""Imports against the real PostGIS: summaries reconcile, rejects keep line and reason, re-runs are no-ops."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from gcrm import app
from geo.config import PROJECT_DIR, Settings
from geo.errors import MappingError
from geo.ingest.files import read_csv_bytes
from geo.ingest.importer import (
    FIELDS,
    KINDS,
    ImportSummary,
    apply_overrides,
    detect_mapping,
    doubled_fields,
    field_labels,
    run_import,
)
from geo.store.bootstrap import Connections

DATA_DIR = PROJECT_DIR / "data"
ACCOUNTS = """\
Customer ID,Customer Name,Segment,Address 1,City,State,Zip Code,Country,Lat,Lng,Status,Annual Revenue
C1,Acme Corp,SMB,1 Main St,Chicago,IL,60601,USA,,,Customer,"$1,200,000"
C2,Beta LLC,Enterprise,,St. Louis,Missouri,,,,,prospect,
C3,Gamma Inc,,,,TX,,,,,lead,abc
C4,,,,,,,,,,,
C5,Delta Co,,,,,,,-87.63,41.88,,
C1,Acme Corp,SMB,1 Main St,Chicago,IL,60601,USA,,,Customer,"$1,200,000"
C6,Epsilon,,,Ft Worth,tx,,,,,weird,
C7,Zeta,,,,,2134,,,,,
C8,Eta,,,Nowhere,Narnia,,,,,,
C2,Beta LLC,SMB,,St. Louis,Missouri,,,,,prospect,
"""
ORDERS = """Order ID,Order Date,Customer ID,Sales,Product Name
O1,2025-03-01,C1,100.50,Widget
O2,03/15/2025,C2,"1,000",Gadget
O3,2025-04-01,NOPE,5,Widget
O4,not a date,C1,5,Widget
O5,2025-05-01,C1,-3,Widget
O6,2025-06-01,C5,$7.25,
"""


def _import(
    connections: Connections, kind: str, text: str, overrides: list[str] | None = None
) -> ImportSummary:
    table = read_csv_bytes(text.encode())
    columns = list(table.frame.columns)
    mapping = apply_overrides(detect_mapping(columns, kind), overrides or [], columns, kind)
    summary = run_import(
        connections.app,
        kind,
        table,
        mapping=mapping,
        user="tester",
        data_dir=DATA_DIR,
        filename=f"{kind}.csv",
    )
    assert summary.read == summary.inserted + summary.updated + summary.unchanged + summary.rejected
    return summary


def _rows(connections: Connections, query: str) -> list[tuple]:
    with connections.app.transaction(user="t") as cur:
        cur.execute(query)
        return cur.fetchall()


@pytest.mark.parametrize(
    ("headers", "kind", "expected"),
    [
        (
            ["Customer Name", "Postal Code", "Latitude", "Longitude"],
            "accounts",
            {
                "Customer Name": "name",
                "Postal Code": "postal_code",
                "Latitude": "latitude",
                "Longitude": "longitude",
            },
        ),
        (
            ["Company", "Street", "ZIP", "Lat", "Lon"],
            "accounts",
            {
                "Company": "name",
                "Street": "street",
                "ZIP": "postal_code",
                "Lat": "latitude",
                "Lon": "longitude",
            },
        ),
        (
            ["Account Name", "Address 1", "Zip Code", "Lng", "Industry"],
            "accounts",
            {
                "Account Name": "name",
                "Address 1": "street",
                "Zip Code": "postal_code",
                "Lng": "longitude",
                "Industry": "industry",
            },
        ),
        (
            ["Order ID", "Order Date", "Customer ID", "Sales", "Segment"],
            "orders",
            {
                "Order ID": "external_id",
                "Order Date": "order_date",
                "Customer ID": "account_external_id",
                "Sales": "amount",
            },
        ),
        (
            ["order_id", "customer_id", "Amount"],
            "orders",
            {"order_id": "external_id", "customer_id": "account_external_id", "Amount": "amount"},
        ),
    ],
)
def test_detect_mapping_from_common_headers(headers: list[str], kind: str, expected: dict[str, str]) -> None:
    assert detect_mapping(headers, kind) == expected


@pytest.mark.parametrize("kind", KINDS)
def test_every_field_has_a_unique_label(kind: str) -> None:
    labels = field_labels(kind)
    assert list(labels) == list(FIELDS[kind])
    assert len(set(labels.values())) == len(labels)
    assert labels["external_id"].endswith(" ID")


def test_overrides_replace_drop_and_refuse() -> None:
    columns = ["Cust Ref", "Company", "Notes"]
    mapping = detect_mapping(columns, "accounts")
    assert mapping == {"Company": "name"}
    assert apply_overrides(mapping, ["Cust Ref=external_id"], columns, "accounts") == {
        "Company": "name",
        "Cust Ref": "external_id",
    }
    assert apply_overrides(mapping, ["Notes=name"], columns, "accounts") == {"Notes": "name"}
    assert apply_overrides(mapping, ["Company="], columns, "accounts") == {}
    with pytest.raises(MappingError, match="no column 'Missing'"):
        apply_overrides(mapping, ["Missing=name"], columns, "accounts")
    with pytest.raises(MappingError, match="'colour' is not a accounts field"):
        apply_overrides(mapping, ["Notes=colour"], columns, "accounts")


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ({}, []),
        ({"Company": "name", "ZIP": "postal_code"}, []),
        ({"Company": "name", "Trading name": "name", "ZIP": "postal_code"}, ["name"]),
        ({"A": "zip", "B": "name", "C": "zip", "D": "name", "E": "city"}, ["name", "zip"]),
    ],
)
def test_doubled_fields_are_those_taken_from_two_columns(
    mapping: dict[str, str], expected: list[str]
) -> None:
    assert doubled_fields(mapping) == expected


def test_accounts_import_reconciles_and_keeps_rejects(connections: Connections) -> None:
    summary = _import(connections, "accounts", ACCOUNTS)
    assert summary.line() == "read=10 inserted=5 updated=0 unchanged=1 rejected=4"
    assert list(summary.rejects["line"]) == [4, 5, 8, 11]
    assert list(summary.rejects["reason"]) == [
        "annual revenue 'abc' is not a number",
        "missing name",
        "status 'weird' is not customer, prospect or churned",
        "external id C2 already appears on line 3 with different values",
    ]
    stored = _rows(connections, "SELECT line, raw->>'Customer ID' FROM import_rejects ORDER BY line")
    assert stored == [(4, "C3"), (5, "C4"), (8, "C6"), (11, "C2")]
    batch = _rows(
        connections, "SELECT read, inserted, updated, unchanged, rejected, created_by FROM import_batches"
    )
    assert batch == [(10, 5, 0, 1, 4, "tester")]
    assert _rows(connections, "SELECT segment FROM accounts WHERE external_id = 'C2'") == [("Enterprise",)]


def test_accounts_are_placed_with_precision_and_region_keys(connections: Connections) -> None:
    _import(connections, "accounts", ACCOUNTS)
    rows = _rows(
        connections,
        "SELECT external_id, status, annual_revenue::float, geocode_precision, state_fips, county_fips, zip,"
        " h3_r7 IS NOT NULL, round(ST_X(geom)::numeric, 2)::float, geocode_note"
        " FROM accounts ORDER BY external_id",
    )
    by_id = {row[0]: row[1:] for row in rows}
    assert by_id["C1"][:6] == ("customer", 1_200_000.0, "postal", "17", "17031", "60601")
    assert by_id["C2"][2:5] == ("city", "29", "29510")
    assert by_id["C5"][2] == "given" and by_id["C5"][7] == -87.63
    assert "swapped" in by_id["C5"][8]
    assert by_id["C7"][2:5] == ("postal", "25", "25025")
    assert by_id["C8"][2] == "none" and by_id["C8"][3] is None and by_id["C8"][7] is None
    assert by_id["C8"][6] is False
    assert "Narnia" in by_id["C8"][8]


def test_reimport_changes_nothing_and_a_change_is_an_update(connections: Connections) -> None:
    _import(connections, "accounts", ACCOUNTS)
    before = _rows(connections, "SELECT external_id, updated_at FROM accounts ORDER BY 1")
    again = _import(connections, "accounts", ACCOUNTS)
    assert again.line() == "read=10 inserted=0 updated=0 unchanged=6 rejected=4"
    assert _rows(connections, "SELECT external_id, updated_at FROM accounts ORDER BY 1") == before
    changed = _import(connections, "accounts", ACCOUNTS.replace("Acme Corp,SMB", "Acme Corporation,SMB"))
    assert changed.line() == "read=10 inserted=0 updated=1 unchanged=5 rejected=4"
    assert _rows(connections, "SELECT name FROM accounts WHERE external_id = 'C1'") == [("Acme Corporation",)]


def test_a_file_without_addresses_keeps_the_stored_location(connections: Connections) -> None:
    _import(connections, "accounts", ACCOUNTS)
    summary = _import(connections, "accounts", "Customer ID,Customer Name\nC1,Acme Corp\n")
    assert summary.line() == "read=1 inserted=0 updated=0 unchanged=1 rejected=0"
    assert _rows(connections, "SELECT geocode_precision FROM accounts WHERE external_id = 'C1'") == [
        ("postal",)
    ]


def test_accounts_without_an_id_column_get_a_stable_key(connections: Connections) -> None:
    text = "Company,City,State\nNorth Ltd,Denver,CO\nSouth Ltd,Austin,TX\n"
    first = _import(connections, "accounts", text)
    second = _import(connections, "accounts", text)
    assert (first.inserted, second.unchanged) == (2, 2)


def test_orders_reference_accounts_by_external_id(connections: Connections) -> None:
    _import(connections, "accounts", ACCOUNTS)
    summary = _import(connections, "orders", ORDERS)
    assert summary.line() == "read=6 inserted=3 updated=0 unchanged=0 rejected=3"
    assert dict(zip(summary.rejects["line"], summary.rejects["reason"], strict=True)) == {
        4: "unknown account ID NOPE",
        5: "order date 'not a date' is not a date",
        6: "amount -3 is negative",
    }
    rows = _rows(
        connections,
        "SELECT o.external_id, a.external_id, o.order_date::text, o.amount::float, o.stage, o.product"
        " FROM orders o JOIN accounts a USING (account_id) ORDER BY 1",
    )
    assert rows == [
        ("O1", "C1", "2025-03-01", 100.5, "won", "Widget"),
        ("O2", "C2", "2025-03-15", 1000.0, "won", "Gadget"),
        ("O6", "C5", "2025-06-01", 7.25, "won", None),
    ]
    assert (
        _import(connections, "orders", ORDERS).line() == "read=6 inserted=0 updated=0 unchanged=3 rejected=3"
    )


def test_contacts_and_interactions(connections: Connections) -> None:
    _import(connections, "accounts", ACCOUNTS)
    contacts = _import(
        connections,
        "contacts",
        "Customer ID,First Name,Last Name,Email,Marketing Consent\n"
        "C1,Ann,Lee,ann@acme.test,yes\nC1,Bo,Ray,not-an-email,no\nC9,Cy,Ng,cy@x.test,yes\nC2,Di,Oz,di@b.test,maybe\n",
    )
    assert contacts.line() == "read=4 inserted=1 updated=0 unchanged=0 rejected=3"
    assert set(contacts.rejects["reason"]) == {
        "email 'not-an-email' is not an address",
        "unknown account ID C9",
        "marketing consent 'maybe' is not yes or no",
    }
    assert _rows(connections, "SELECT first_name, marketing_consent FROM contacts") == [("Ann", True)]
    visits = _import(
        connections,
        "interactions",
        "Customer ID,Type,Date,Duration,Notes,Latitude,Longitude\n"
        "C1,Visit,2025-05-02 10:30,45,Demo done,41.88,-87.62\n"
        "C2,Fax,2025-05-02,,x,,\n"
        "C2,Call,2025-05-03,10,,,\n",
    )
    assert visits.line() == "read=3 inserted=2 updated=0 unchanged=0 rejected=1"
    assert visits.rejects["reason"].tolist() == ["type 'Fax' is not visit, call, email or meeting"]
    rows = _rows(
        connections,
        "SELECT kind, duration_min, ST_AsText(checkin_geom) FROM interactions ORDER BY occurred_at",
    )
    assert rows == [("visit", 45, "POINT(-87.62 41.88)"), ("call", 10, None)]


def test_missing_required_field_is_refused_before_anything_runs(connections: Connections) -> None:
    with pytest.raises(MappingError, match="required orders field"):
        _import(connections, "orders", "Order ID,Sales\nO1,5\n")
    assert _rows(connections, "SELECT count(*) FROM import_batches") == [(0,)]


def test_cli_import_prints_the_summary_and_writes_rejects(settings: Settings, environment, tmp_path) -> None:
    environment(settings)
    source = tmp_path / "accounts.csv"
    source.write_text(ACCOUNTS, encoding="utf-8")
    rejects = tmp_path / "rejects.csv"
    result = CliRunner().invoke(app, ["import", "accounts", str(source), "--rejects", str(rejects)])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1] == "read=10 inserted=5 updated=0 unchanged=1 rejected=4"
    assert "line 5: missing name" in result.output
    written = pd.read_csv(rejects)
    assert list(written["line"]) == [4, 5, 8, 11]
    unreadable = tmp_path / "broken.xlsx"
    unreadable.write_bytes(b"nope")
    failed = CliRunner().invoke(app, ["import", "accounts", str(unreadable)])
    assert failed.exit_code == 1 and "Cannot read broken.xlsx" in failed.output
    refused = CliRunner().invoke(app, ["import", "orders", str(source)])
    assert refused.exit_code == 1 and "required orders field" in refused.output


def test_visits_without_ids_on_different_dates_are_different_visits(connections: Connections) -> None:
    _import(connections, "accounts", ACCOUNTS)
    visits = _import(
        connections,
        "interactions",
        "Customer ID,Type,Date,Duration,Notes\n"
        "C1,Visit,2025-05-02,30,Check-in\n"
        "C1,Visit,2025-06-02,30,Check-in\n",
    )
    assert visits.line() == "read=2 inserted=2 updated=0 unchanged=0 rejected=0"
