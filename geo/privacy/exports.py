"""What every export shares: formats, CSV cells that spreadsheets must not execute, roles and audit.

Exports that hold personal data (:data:`PERSONAL_EXPORTS`) are allowed to the roles
listed for them, and each one writes an ``export`` entry to the audit log with the
real user, what was exported and how many rows; row-level security already limits
the rows to those the user may see.
"""

from __future__ import annotations

import pandas as pd

from geo.errors import AccessDenied
from geo.store.audit import record
from geo.store.db import Database

EXPORT_FORMATS = ("csv", "geojson", "gpkg")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
PERSONAL_EXPORTS = {
    "accounts": ("admin",),
    "audience": ("admin", "manager", "marketer"),
    "campaign_members": ("admin", "manager", "marketer"),
    "campaign_contacts": ("admin", "manager", "marketer"),
    "nearest": ("admin", "manager", "rep"),
    "route": ("admin", "manager", "rep"),
    "import_rejects": ("admin",),
    "locations": ("admin", "manager", "marketer", "rep"),
}
"""Export kind → roles that may make it (``locations`` is the k-anonymous one, audited too)."""


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula with an apostrophe.

    Only text columns change; numbers (negative longitudes included) stay numbers.

    Parameters
    ----------
    frame
        Rows about to be written as CSV.

    Returns
    -------
    DataFrame
        A copy with risky text cells neutralised.
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_string_dtype(values) or values.dtype == object:
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_PREFIXES).fillna(False) & values.map(
                lambda v: isinstance(v, str)
            )
            out[column] = values.where(~risky, "'" + text)
    return out


def csv_text(frame: pd.DataFrame) -> str:
    """Write rows as CSV text with formulas neutralised: the one way gcrm writes CSV.

    Parameters
    ----------
    frame
        Rows to export.

    Returns
    -------
    str
        CSV with a header and no index.
    """
    return neutralise_formulas(frame).to_csv(index=False)


def export_refusal(kind: str, role: str | None) -> str | None:
    """Say why a role may not make an export, or None when it may.

    Parameters
    ----------
    kind
        A key of :data:`PERSONAL_EXPORTS`.
    role
        The user's role (None: no known user).

    Returns
    -------
    str or None
        The reason to show, or None.
    """
    if role in PERSONAL_EXPORTS[kind]:
        return None
    return f"Your role ({role or 'none'}) may not export {kind.replace('_', ' ')}."


def record_export(db: Database, kind: str, target: str, *, rows: int, output_format: str, user: str) -> None:
    """Check the user's role in the database and write the ``export`` audit entry of an export.

    Parameters
    ----------
    db
        The database.
    kind
        A key of :data:`PERSONAL_EXPORTS`.
    target
        What was exported (a campaign name, a level …).
    rows
        Rows exported.
    output_format
        ``csv``, ``geojson``, ``gpx`` …
    user
        The acting user.
    """
    with db.transaction(user=user) as cur:
        cur.execute("SELECT gcrm_role()")
        refusal = export_refusal(kind, cur.fetchone()[0])
        if refusal is not None:
            raise AccessDenied(refusal)
        record(cur, "export", target, {"kind": kind, "rows": rows, "format": output_format})
