"""Import accounts, contacts, orders and interactions: every row placed or reported, nothing lost.

Flow: file → text rows (:mod:`geo.ingest.files`) → columns mapped to fields
(detected from the headers people use, overridable) → validated in pandas →
accounts geocoded and given region keys → COPY into a text staging table →
upserted by natural key in one transaction, where the accounts also take the territory of
the active plan. Rejected rows are kept with their
line and reason in ``import_rejects``. Re-importing the same file changes
nothing; the summary always reconciles: ``read = inserted + updated +
unchanged + rejected``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from psycopg2 import sql

from geo.errors import MappingError
from geo.ingest.files import RawTable
from geo.ingest.geocode import PRECISION_RANK, StreetGeocoder, at_null_island, parse_degrees
from geo.ingest.placement import place_accounts, points_where
from geo.ingest.territory_keys import assign_territories
from geo.privacy.suppression import keep_imported_suppressed
from geo.store.db import Database, copy_frame, ewkb_hex

KINDS = ("accounts", "contacts", "orders", "interactions")
FIELDS: dict[str, dict[str, tuple[str, ...]]] = {
    "accounts": {
        "external_id": (
            "customer id",
            "account id",
            "account number",
            "customer number",
            "cust id",
            "customer no",
            "account no",
            "external id",
            "crm id",
            "id",
        ),
        "name": (
            "customer name",
            "account name",
            "company",
            "company name",
            "business name",
            "organization",
            "organisation",
            "customer",
            "account",
            "name",
        ),
        "industry": ("industry", "sector", "vertical"),
        "segment": ("segment", "customer segment", "tier"),
        "status": ("status", "account status", "customer status", "type", "account type"),
        "annual_revenue": ("annual revenue", "revenue", "annual sales", "company revenue"),
        "street": (
            "street",
            "address",
            "address 1",
            "address line 1",
            "street address",
            "address1",
            "street 1",
        ),
        "city": ("city", "town", "locality"),
        "state": ("state", "state province", "province", "state code", "region code"),
        "postal_code": (
            "postal code",
            "zip",
            "zip code",
            "zipcode",
            "postcode",
            "post code",
            "zip postal code",
        ),
        "country": ("country", "country code", "country region"),
        "latitude": ("latitude", "lat", "y"),
        "longitude": ("longitude", "lon", "lng", "long", "x"),
        "marketing_consent": ("marketing consent", "consent", "opt in", "email opt in", "marketing opt in"),
    },
    "contacts": {
        "external_id": ("contact id", "contact number", "person id"),
        "account_external_id": ("customer id", "account id", "account number", "customer number", "cust id"),
        "first_name": ("first name", "firstname", "given name"),
        "last_name": ("last name", "lastname", "surname", "family name"),
        "title": ("title", "job title", "position", "role"),
        "email": ("email", "e mail", "email address"),
        "phone": ("phone", "phone number", "telephone", "mobile"),
        "marketing_consent": ("marketing consent", "consent", "opt in", "email opt in", "marketing opt in"),
    },
    "orders": {
        "external_id": ("order id", "order number", "order no", "invoice id", "invoice number"),
        "account_external_id": ("customer id", "account id", "account number", "customer number", "cust id"),
        "order_date": ("order date", "date", "invoice date", "close date"),
        "amount": ("sales", "amount", "order amount", "total", "revenue", "value", "net sales"),
        "stage": ("stage", "order status", "status"),
        "product": ("product", "product name", "item", "sku"),
    },
    "interactions": {
        "external_id": ("interaction id", "activity id", "visit id", "call id"),
        "account_external_id": ("customer id", "account id", "account number", "customer number", "cust id"),
        "kind": ("type", "kind", "activity type", "interaction type", "channel"),
        "occurred_at": ("date", "occurred at", "activity date", "visit date", "timestamp", "when"),
        "duration_min": ("duration", "duration min", "minutes", "duration minutes"),
        "outcome": ("outcome", "result"),
        "notes": ("notes", "note", "comments", "description"),
        "latitude": ("latitude", "lat", "check in latitude"),
        "longitude": ("longitude", "lon", "lng", "check in longitude"),
    },
}
ID_LABELS = {
    "accounts": "Account ID",
    "contacts": "Contact ID",
    "orders": "Order ID",
    "interactions": "Interaction ID",
}
FIELD_LABELS = {
    "account_external_id": "Account ID",
    "name": "Account name",
    "industry": "Industry",
    "segment": "Segment",
    "status": "Status",
    "annual_revenue": "Annual revenue",
    "street": "Street",
    "city": "City",
    "state": "State",
    "postal_code": "ZIP / postal code",
    "country": "Country",
    "latitude": "Latitude",
    "longitude": "Longitude",
    "marketing_consent": "Marketing consent",
    "first_name": "First name",
    "last_name": "Last name",
    "title": "Job title",
    "email": "Email",
    "phone": "Phone",
    "order_date": "Order date",
    "amount": "Amount",
    "stage": "Stage",
    "product": "Product",
    "kind": "Type (visit, call …)",
    "occurred_at": "Date",
    "duration_min": "Duration (min)",
    "outcome": "Outcome",
    "notes": "Notes",
}
"""Field → what the mapping editor shows (``external_id``: see :data:`ID_LABELS`)."""
REQUIRED = {
    "accounts": ("name",),
    "contacts": ("account_external_id",),
    "orders": ("external_id", "account_external_id", "order_date", "amount"),
    "interactions": ("account_external_id", "kind", "occurred_at"),
}
STATUS_WORDS = {
    "customer": "customer",
    "active": "customer",
    "client": "customer",
    "won": "customer",
    "prospect": "prospect",
    "lead": "prospect",
    "new": "prospect",
    "opportunity": "prospect",
    "churned": "churned",
    "lost": "churned",
    "inactive": "churned",
    "former": "churned",
    "cancelled": "churned",
}
STAGE_WORDS = {
    "won": "won",
    "closed won": "won",
    "complete": "won",
    "completed": "won",
    "shipped": "won",
    "paid": "won",
    "open": "open",
    "pending": "open",
    "lost": "lost",
    "closed lost": "lost",
    "cancelled": "lost",
}
KIND_WORDS = {
    "visit": "visit",
    "call": "call",
    "phone": "call",
    "phone call": "call",
    "email": "email",
    "e mail": "email",
    "meeting": "meeting",
    "demo": "meeting",
}
TRUE_WORDS = {"yes", "y", "true", "t", "1", "opt in", "opted in", "x"}
FALSE_WORDS = {"no", "n", "false", "f", "0", "opt out", "opted out", ""}
ADDRESS_FIELDS = ("street", "city", "state", "postal_code", "country", "latitude", "longitude")
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportSummary:
    """What an import did.

    Attributes
    ----------
    batch_id
        Row of ``import_batches``.
    read, inserted, updated, unchanged, rejected
        Row counts; ``read`` always equals the sum of the other four.
    rejects
        ``line, reason, raw`` of every rejected row.
    suppressed
        Imported accounts or contacts on the suppression list (kept, without consent).
    placed
        Geocode precision → accepted account rows placed with it, best first (empty when
        the file carries no address).
    notes
        What reading the file had to do that a user should know (lines read as Windows-1252).
    """

    batch_id: int
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    rejects: pd.DataFrame
    suppressed: int = 0
    placed: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def line(self) -> str:
        """Return the one-line summary ``read=N inserted=I updated=U unchanged=C rejected=R``.

        `` suppressed=S`` follows when imported rows are on the suppression list.
        """
        counts = (
            f"read={self.read} inserted={self.inserted} updated={self.updated} "
            f"unchanged={self.unchanged} rejected={self.rejected}"
        )
        return counts + (f" suppressed={self.suppressed}" if self.suppressed else "")

    def placements(self) -> str:
        """Return how the accepted rows were placed, ``placed: postal=P city=C region=R none=N``.

        Empty when the import placed nothing (no address in the file, or not accounts).
        """
        if not self.placed:
            return ""
        return "placed: " + " ".join(f"{precision}={count}" for precision, count in self.placed.items())


def normalise_header(name: str) -> str:
    """Reduce a column header to lower-case words ("Postal Code", "postal_code" → "postal code").

    Parameters
    ----------
    name
        The header as in the file.

    Returns
    -------
    str
        The normalised header.
    """
    spaced = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", str(name))
    return re.sub(r"[^a-z0-9]+", " ", spaced.lower()).strip()


def field_labels(kind: str) -> dict[str, str]:
    """Name each field of ``kind`` the way a user reads it.

    Parameters
    ----------
    kind
        The import kind.

    Returns
    -------
    dict
        Field → label, unique within the kind.
    """
    return {
        field: ID_LABELS[kind] if field == "external_id" else FIELD_LABELS[field] for field in _fields(kind)
    }


def detect_mapping(columns: list[str], kind: str) -> dict[str, str]:
    """Map file columns to fields from the headers people actually use.

    Parameters
    ----------
    columns
        Headers of the file.
    kind
        ``accounts``, ``contacts``, ``orders`` or ``interactions``.

    Returns
    -------
    dict
        Source column → field, each field used at most once (the synonym
        listed first wins).
    """
    normalised = {column: normalise_header(column) for column in columns}
    mapping: dict[str, str] = {}
    for target, synonyms in _fields(kind).items():
        for synonym in synonyms:
            match = next((c for c, n in normalised.items() if n == synonym and c not in mapping), None)
            if match is not None:
                mapping[match] = target
                break
    return mapping


def apply_overrides(
    mapping: dict[str, str], overrides: list[str], columns: list[str], kind: str
) -> dict[str, str]:
    """Apply ``SOURCE=FIELD`` overrides to a detected mapping (``FIELD`` empty to drop a column).

    Parameters
    ----------
    mapping
        The detected mapping.
    overrides
        Items like ``"Cust Ref=external_id"``.
    columns
        Headers of the file.
    kind
        The import kind.

    Returns
    -------
    dict
        The mapping with the overrides applied.
    """
    result = dict(mapping)
    for item in overrides:
        source, sep, target = item.partition("=")
        source, target = source.strip(), target.strip()
        if not sep or source not in columns:
            msg = f"--map {item!r}: the file has no column {source!r}; its columns are {', '.join(columns)}."
            raise MappingError(msg)
        if target and target not in _fields(kind):
            msg = f"--map {item!r}: {target!r} is not a {kind} field; choose from {', '.join(_fields(kind))}."
            raise MappingError(msg)
        result = {s: t for s, t in result.items() if t != target and s != source}
        if target:
            result[source] = target
    return result


def doubled_fields(mapping: dict[str, str]) -> list[str]:
    """The fields a mapping takes from more than one column (each may come from one only).

    Parameters
    ----------
    mapping
        Column of the file → field.

    Returns
    -------
    list of str
        Those fields, sorted; empty when the mapping can be used.
    """
    return sorted({f for f in mapping.values() if list(mapping.values()).count(f) > 1})


def run_import(
    db: Database,
    kind: str,
    table: RawTable,
    *,
    mapping: dict[str, str],
    user: str,
    data_dir: Path,
    filename: str,
    street_geocoder: StreetGeocoder | None = None,
    progress: Progress | None = None,
) -> ImportSummary:
    """Validate, geocode and upsert the rows of ``table`` in one transaction.

    Parameters
    ----------
    db
        The database.
    kind
        ``accounts``, ``contacts``, ``orders`` or ``interactions``.
    table
        The file's rows.
    mapping
        Source column → field.
    user
        The acting user, recorded on the batch.
    data_dir
        The shipped data directory (gazetteers, counties).
    filename
        Name recorded on the batch.
    street_geocoder
        Optional street-level geocoder for accounts.
    progress
        Called with (fraction done, what is happening).

    Returns
    -------
    ImportSummary
        Counts and rejects.
    """
    report = progress or (lambda _fraction, _message: None)
    missing = [f for f in REQUIRED[kind] if f not in mapping.values()]
    if missing:
        msg = (
            f"No column is mapped to the required {kind} field(s) {', '.join(missing)}; "
            "use --map SOURCE=FIELD."
        )
        raise MappingError(msg)
    report(0.05, "validating rows")
    fields = table.frame[list(mapping)].rename(columns=mapping)
    rows, rejects, repeats = _PREPARERS[kind](fields, table.lines)
    rejects = pd.concat([unreadable_rejects(table), with_raw_rows(rejects, table)], ignore_index=True)
    if kind == "accounts":
        report(0.25, f"placing {len(rows):,} accounts on the map")
        rows = _placed(rows, data_dir, street_geocoder, present=set(mapping.values()))
    report(0.5, "writing to the database")
    with db.transaction(user=user) as cur:
        batch_id = _open_batch(cur, kind, filename)
        _stage(cur, rows)
        orphans = _drop_orphans(cur) if kind != "accounts" else _no_rejects()
        report(0.7, "upserting")
        inserted, updated = _upsert(cur, kind, [c for c in rows.columns if c != "line"])
        if kind == "accounts":
            imported = sql.SQL("SELECT a.account_id FROM accounts a JOIN import_stage s USING (external_id)")
            assign_territories(cur, accounts=imported)
        suppressed = keep_imported_suppressed(cur, kind)
        rejects = pd.concat([rejects, with_raw_rows(orphans, table)], ignore_index=True).sort_values(
            "line", ignore_index=True
        )
        summary = ImportSummary(
            batch_id=batch_id,
            read=len(table.frame) + len(table.problems),
            inserted=inserted,
            updated=updated,
            unchanged=len(rows) - len(orphans) - inserted - updated + repeats,
            rejected=len(rejects),
            rejects=rejects,
            suppressed=suppressed,
            placed=_placed_counts(rows),
            notes=tuple(table.notes),
        )
        _close_batch(cur, summary)
    report(1.0, "done")
    return summary


def _fields(kind: str) -> dict[str, tuple[str, ...]]:
    if kind not in FIELDS:
        msg = f"Unknown import kind {kind!r}; choose one of {', '.join(KINDS)}."
        raise MappingError(msg)
    return FIELDS[kind]


def _no_rejects() -> pd.DataFrame:
    return pd.DataFrame({"line": pd.Series(dtype="int64"), "reason": pd.Series(dtype=object)})


def unreadable_rejects(table: RawTable) -> pd.DataFrame:
    """The records the reader could not read, as rejects: ``line, reason, raw`` (no row to show).

    Parameters
    ----------
    table
        The file as read.

    Returns
    -------
    DataFrame
        One reject per problem of ``table``.
    """
    frame = pd.DataFrame(table.problems, columns=["line", "reason"]).astype({"line": "int64"})
    frame["raw"] = None
    return frame


def with_raw_rows(rejects: pd.DataFrame, table: RawTable) -> pd.DataFrame:
    """Add to rejects the row each came from, as JSON, so the user sees what was refused.

    Parameters
    ----------
    rejects
        ``line, reason`` of rows of ``table``.
    table
        The file as read.

    Returns
    -------
    DataFrame
        ``rejects`` with ``raw``.
    """
    position = pd.Series(np.arange(len(table.lines)), index=table.lines)
    rows = table.frame.iloc[position.loc[rejects["line"].to_numpy()].to_numpy()]
    raw = [json.dumps(record, ensure_ascii=False) for record in rows.to_dict(orient="records")]
    return rejects.assign(raw=raw)


def _text(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].fillna("").astype(str).str.strip()


def _reasons(index: pd.Index) -> pd.Series:
    return pd.Series("", index=index, dtype=object)


def note_reason(reasons: pd.Series, mask: pd.Series, reason: pd.Series | str) -> None:
    """Record ``reason`` for the rows of ``mask`` that have no reason yet (the first problem wins).

    Parameters
    ----------
    reasons
        One reason per row, ``""`` for a good row so far; changed in place.
    mask
        Rows with the problem (missing values count as without it).
    reason
        The text, or one text per row.
    """
    mask = mask.fillna(False).astype(bool) & reasons.eq("")
    reasons[mask] = reason[mask] if isinstance(reason, pd.Series) else reason


def _money(values: pd.Series) -> pd.Series:
    cleaned = values.str.replace(r"[$€£,\s]", "", regex=True).str.replace(r"^\((.*)\)$", r"-\1", regex=True)
    return pd.to_numeric(cleaned, errors="coerce")


def _words(values: pd.Series, vocabulary: dict[str, str]) -> pd.Series:
    return values.str.lower().str.replace(r"[^a-z]+", " ", regex=True).str.strip().map(vocabulary)


def _flags(values: pd.Series) -> pd.Series:
    words = values.str.lower().str.replace(r"[^a-z0-9]+", " ", regex=True).str.strip()
    return pd.Series(
        np.where(words.isin(TRUE_WORDS), "true", np.where(words.isin(FALSE_WORDS), "false", None)),
        index=values.index,
        dtype=object,
    )


def _dates(values: pd.Series) -> pd.Series:
    parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
    retry = parsed.isna() & values.ne("")
    if retry.any():
        parsed[retry] = pd.to_datetime(values[retry], errors="coerce", format="mixed")
    return parsed


def _external_id(
    fields: pd.DataFrame, rows: pd.DataFrame, reasons: pd.Series, label: str, parts: list[pd.Series]
) -> None:
    """Take the file's ID column, or derive a stable key from ``parts`` when the file has none."""
    if "external_id" in fields:
        rows["external_id"] = _text(fields, "external_id")
        note_reason(reasons, rows["external_id"].eq(""), f"missing {label} ID")
    else:
        rows["external_id"] = _derived_key("AUTO", parts)


def _consent(fields: pd.DataFrame, rows: pd.DataFrame, reasons: pd.Series) -> None:
    """Parse the marketing-consent column, when the file has one."""
    if "marketing_consent" in fields:
        typed = _text(fields, "marketing_consent")
        consent = _flags(typed)
        note_reason(reasons, consent.isna(), "marketing consent '" + typed + "' is not yes or no")
        rows["marketing_consent"] = consent


def _derived_key(prefix: str, parts: list[pd.Series]) -> pd.Series:
    joined = parts[0].str.lower()
    for part in parts[1:]:
        joined = joined + "|" + part.str.lower()
    digests = [hashlib.sha1(value.encode()).hexdigest()[:16] for value in joined]
    return pd.Series([f"{prefix}-{d}" for d in digests], index=joined.index, dtype=object)


def _split(
    rows: pd.DataFrame, reasons: pd.Series, lines: np.ndarray, key: str
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Separate rejects, then keep the first row of each key: identical repeats count as unchanged."""
    rows = rows.assign(line=lines)
    rejects = pd.DataFrame(
        {"line": lines[reasons.ne("").to_numpy()], "reason": reasons[reasons.ne("")].to_numpy()}
    )
    valid = rows[reasons.eq("").to_numpy()]
    first_line = valid.groupby(key, sort=False)["line"].transform("first")
    repeated = valid["line"].ne(first_line)
    content = pd.Series(
        pd.util.hash_pandas_object(valid.drop(columns="line"), index=False), index=valid.index
    )
    identical = repeated & content.eq(content.groupby(valid[key], sort=False).transform("first"))
    conflicting = repeated & ~identical
    label = key.replace("_", " ")
    conflicts = pd.DataFrame(
        {
            "line": valid.loc[conflicting, "line"].to_numpy(),
            "reason": (
                label
                + " "
                + valid.loc[conflicting, key]
                + " already appears on line "
                + first_line[conflicting].astype(str)
                + " with different values"
            ).to_numpy(),
        }
    )
    kept = valid[~repeated].reset_index(drop=True)
    return kept, pd.concat([rejects, conflicts], ignore_index=True), int(identical.sum())


def _prepare_accounts(fields: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    reasons = _reasons(fields.index)
    rows = pd.DataFrame(index=fields.index)
    for column in ("name", "industry", "segment", *ADDRESS_FIELDS):
        if column in fields:
            rows[column] = _text(fields, column)
    address = [_text(fields, c) for c in ("name", "street", "city", "state", "postal_code")]
    _external_id(fields, rows, reasons, "account", address)
    note_reason(reasons, rows["name"].eq(""), "missing name")
    if "country" in rows:
        rows["country"] = rows["country"].where(rows["country"].ne(""), "US")
    if "status" in fields:
        typed = _text(fields, "status")
        status = _words(typed, STATUS_WORDS)
        note_reason(
            reasons,
            typed.ne("") & status.isna(),
            "status '" + typed + "' is not customer, prospect or churned",
        )
        rows["status"] = status.fillna("prospect")
    if "annual_revenue" in fields:
        typed = _text(fields, "annual_revenue")
        revenue = _money(typed)
        note_reason(reasons, typed.ne("") & revenue.isna(), "annual revenue '" + typed + "' is not a number")
        rows["annual_revenue"] = revenue.round(2).astype(object).where(revenue.notna(), None)
    _consent(fields, rows, reasons)
    _refuse_null_island(fields, reasons)
    return _split(rows, reasons, lines, "external_id")


def _refuse_null_island(fields: pd.DataFrame, reasons: pd.Series) -> None:
    """Reject rows whose coordinates are (0, 0) or a hair from it: a placeholder, not a place."""
    if "latitude" not in fields or "longitude" not in fields:
        return
    lat_typed, lon_typed = _text(fields, "latitude"), _text(fields, "longitude")
    note_reason(
        reasons,
        at_null_island(parse_degrees(lat_typed), parse_degrees(lon_typed)),
        "coordinates " + lat_typed + ", " + lon_typed + " are null island (0°, 0°), a placeholder for a"
        " missing location; correct them or leave them empty",
    )


def _prepare_orders(fields: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    reasons = _reasons(fields.index)
    rows = pd.DataFrame(
        {
            "external_id": _text(fields, "external_id"),
            "account_external_id": _text(fields, "account_external_id"),
        }
    )
    note_reason(reasons, rows["external_id"].eq(""), "missing order ID")
    note_reason(reasons, rows["account_external_id"].eq(""), "missing account ID")
    typed = _text(fields, "order_date")
    dates = _dates(typed)
    note_reason(reasons, dates.isna(), "order date '" + typed + "' is not a date")
    rows["order_date"] = dates.dt.strftime("%Y-%m-%d")
    typed = _text(fields, "amount")
    amount = _money(typed)
    note_reason(reasons, amount.isna(), "amount '" + typed + "' is not a number")
    note_reason(reasons, amount < 0, "amount " + typed + " is negative")
    rows["amount"] = amount.round(2)
    if "stage" in fields:
        typed = _text(fields, "stage")
        stage = _words(typed, STAGE_WORDS)
        note_reason(reasons, typed.ne("") & stage.isna(), "stage '" + typed + "' is not won, open or lost")
        rows["stage"] = stage.fillna("won")
    if "product" in fields:
        rows["product"] = _text(fields, "product")
    return _split(rows, reasons, lines, "external_id")


def _prepare_contacts(fields: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    reasons = _reasons(fields.index)
    rows = pd.DataFrame({"account_external_id": _text(fields, "account_external_id")}, index=fields.index)
    for column in ("first_name", "last_name", "title", "email", "phone"):
        if column in fields:
            rows[column] = _text(fields, column)
    note_reason(reasons, rows["account_external_id"].eq(""), "missing account ID")
    email = _text(fields, "email")
    note_reason(
        reasons,
        email.ne("") & ~email.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", regex=True),
        "email '" + email + "' is not an address",
    )
    named = _text(fields, "first_name").ne("") | _text(fields, "last_name").ne("") | email.ne("")
    note_reason(reasons, ~named, "a contact needs a name or an email")
    parts = [rows["account_external_id"], email, _text(fields, "first_name"), _text(fields, "last_name")]
    _external_id(fields, rows, reasons, "contact", parts)
    _consent(fields, rows, reasons)
    return _split(rows, reasons, lines, "external_id")


def _prepare_interactions(fields: pd.DataFrame, lines: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    reasons = _reasons(fields.index)
    rows = pd.DataFrame({"account_external_id": _text(fields, "account_external_id")}, index=fields.index)
    note_reason(reasons, rows["account_external_id"].eq(""), "missing account ID")
    typed = _text(fields, "kind")
    kind = _words(typed, KIND_WORDS)
    note_reason(reasons, kind.isna(), "type '" + typed + "' is not visit, call, email or meeting")
    rows["kind"] = kind
    when_typed = _text(fields, "occurred_at")
    when = _dates(when_typed)
    note_reason(reasons, when.isna(), "date '" + when_typed + "' is not a date")
    rows["occurred_at"] = when.dt.strftime("%Y-%m-%d %H:%M:%S")
    if "duration_min" in fields:
        typed = _text(fields, "duration_min")
        minutes = pd.to_numeric(typed, errors="coerce")
        note_reason(
            reasons,
            typed.ne("") & (minutes.isna() | (minutes < 0)),
            "duration '" + typed + "' is not minutes",
        )
        rows["duration_min"] = minutes.round().astype("Int64")
    for column in ("outcome", "notes"):
        if column in fields:
            rows[column] = _text(fields, column)
    _refuse_null_island(fields, reasons)
    if "latitude" in fields and "longitude" in fields:
        lat = parse_degrees(_text(fields, "latitude"))
        lon = parse_degrees(_text(fields, "longitude"))
        ok = (lat.between(-90, 90) & lon.between(-180, 180)).to_numpy()
        rows["checkin_geom"] = pd.Series(ewkb_hex(points_where(lon, lat, ok)), index=fields.index)
    parts = [rows["account_external_id"], rows["kind"].fillna(""), when_typed, _text(fields, "notes")]
    _external_id(fields, rows, reasons, "interaction", parts)
    return _split(rows, reasons, lines, "external_id")


_PREPARERS = {
    "accounts": _prepare_accounts,
    "orders": _prepare_orders,
    "contacts": _prepare_contacts,
    "interactions": _prepare_interactions,
}


def _placed(
    rows: pd.DataFrame, data_dir: Path, street_geocoder: StreetGeocoder | None, *, present: set[str]
) -> pd.DataFrame:
    """Geocode accounts and assign region keys, when the file carries any address field."""
    if not present & set(ADDRESS_FIELDS):
        return rows
    return place_accounts(rows, data_dir, street_geocoder=street_geocoder)


def _placed_counts(rows: pd.DataFrame) -> dict[str, int]:
    if "geocode_precision" not in rows:
        return {}
    counts = rows["geocode_precision"].value_counts()
    ordered = sorted(counts.index, key=lambda precision: (-PRECISION_RANK.get(precision, 0), precision))
    return {str(precision): int(counts[precision]) for precision in ordered}


def _open_batch(cur, kind: str, filename: str) -> int:
    cur.execute(
        "INSERT INTO import_batches (kind, filename, created_by)"
        " VALUES (%s, %s, current_setting('gcrm.user')) RETURNING batch_id",
        (kind, filename),
    )
    return cur.fetchone()[0]


def _stage(cur, rows: pd.DataFrame) -> None:
    columns = sql.SQL(", ").join(
        sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL("integer" if c == "line" else "text"))
        for c in rows.columns
    )
    cur.execute(sql.SQL("CREATE TEMP TABLE import_stage ({}) ON COMMIT DROP").format(columns))
    copy_frame(cur, "import_stage", rows)


def _drop_orphans(cur) -> pd.DataFrame:
    cur.execute(
        "DELETE FROM import_stage s WHERE NOT EXISTS"
        " (SELECT 1 FROM accounts a WHERE a.external_id = s.account_external_id)"
        " RETURNING s.line, s.account_external_id"
    )
    found = cur.fetchall()
    return pd.DataFrame(
        {"line": [line for line, _ in found], "reason": [f"unknown account ID {key}" for _, key in found]}
    ).astype({"line": "int64"})


def _column_types(cur, table: str) -> dict[str, str]:
    cur.execute(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
        (table,),
    )
    return dict(cur.fetchall())


def _upsert(cur, kind: str, columns: list[str]) -> tuple[int, int]:
    table = kind
    types = _column_types(cur, table)
    target = ["account_id" if c == "account_external_id" else c for c in columns]
    selected = [
        sql.SQL("a.account_id")
        if c == "account_external_id"
        else sql.SQL("CAST(s.{} AS {})").format(sql.Identifier(c), sql.SQL(types[c]))
        for c in columns
    ]
    source = sql.SQL("import_stage s")
    if "account_external_id" in columns:
        source = sql.SQL("import_stage s JOIN accounts a ON a.external_id = s.account_external_id")
    changing = [c for c in target if c != "external_id"]
    assignments = [sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(c)) for c in changing]
    if "updated_at" in types:
        assignments.append(sql.SQL("updated_at = now()"))
    statement = sql.SQL(
        "WITH done AS (INSERT INTO {table} AS t ({target}) SELECT {selected} FROM {source}"
        " ON CONFLICT (external_id) DO UPDATE SET {assignments}"
        " WHERE ({old}) IS DISTINCT FROM ({new}) RETURNING (xmax = 0) AS inserted)"
        " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM done"
    ).format(
        table=sql.Identifier(table),
        target=sql.SQL(", ").join(map(sql.Identifier, target)),
        selected=sql.SQL(", ").join(selected),
        source=source,
        assignments=sql.SQL(", ").join(assignments),
        old=sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(c)) for c in changing),
        new=sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(c)) for c in changing),
    )
    cur.execute(statement)
    inserted, updated = cur.fetchone()
    return inserted, updated


def _close_batch(cur, summary: ImportSummary) -> None:
    rejects = summary.rejects.assign(batch_id=summary.batch_id)[["batch_id", "line", "reason", "raw"]]
    copy_frame(cur, "import_rejects", rejects)
    cur.execute(
        "UPDATE import_batches SET finished_at = now(), read = %s, inserted = %s, updated = %s,"
        " unchanged = %s, rejected = %s WHERE batch_id = %s",
        (
            summary.read,
            summary.inserted,
            summary.updated,
            summary.unchanged,
            summary.rejected,
            summary.batch_id,
        ),
    )
