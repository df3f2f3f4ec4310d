"""Import a table of region facts (a newer census table, another country's) keyed by region code.

The file has one code column (``code``, ``fips`` or ``geoid``) and one column per fact of
the catalogue, named as the catalogue names it, optionally followed by its vintage
(``population`` or ``population_2023``; any case and spacing). A row whose code is not a
region of the level, repeats an earlier code, or holds a value that is not a number (or a
negative count, or a percentage outside 0–100) is rejected with its line and reason; the
other rows load, in one transaction with the states recomputed from their counties.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.errors import AccessDenied, InvalidChoice, MappingError
from geo.ingest.files import RawTable
from geo.ingest.importer import normalise_header, note_reason, unreadable_rejects, with_raw_rows
from geo.store.db import Database
from geo.store.region_facts import FACT_COLUMNS, read_catalogue, write_facts

CODE_HEADERS = ("code", "fips", "geoid")
"""Headers that name the region code column (normalised)."""
CODE_DIGITS = {"state": 2, "county": 5}
"""Digits of a numeric code at each level: shorter codes are zero-padded ('1001' → '01001')."""
FACT_LEVELS = tuple(CODE_DIGITS)
"""Levels a facts table may be imported at."""
_VINTAGE = re.compile(r"^(?P<fact>.+?)(?: (?P<vintage>(?:19|20)\d\d))?$")


@dataclass(frozen=True)
class FactsImport:
    """What a facts import did.

    Attributes
    ----------
    read
        Data rows in the file.
    regions
        Rows loaded (one region each).
    values
        Fact values written.
    rejects
        ``line, reason, raw`` of every rejected row.
    facts
        The catalogue facts the file carried, with their vintage (None when unstated).
    """

    read: int
    regions: int
    values: int
    rejects: pd.DataFrame
    facts: dict[str, str | None]

    def line(self) -> str:
        """Return ``read=N loaded=L rejected=R values=V``."""
        return f"read={self.read} loaded={self.regions} rejected={len(self.rejects)} values={self.values}"


def fact_columns(headers: list[str], catalogue: list[str]) -> tuple[str, dict[str, tuple[str, str | None]]]:
    """Find the code column and the fact each other column holds.

    Parameters
    ----------
    headers
        The file's headers.
    catalogue
        Known facts.

    Returns
    -------
    tuple
        The code column's header, and header → (fact, vintage or None).

    Raises
    ------
    MappingError
        Without a code column, with a column that names no fact (the message lists the
        facts), or with two columns for one fact.
    """
    codes = [h for h in headers if normalise_header(h) in CODE_HEADERS]
    if len(codes) != 1:
        found = ", ".join(codes) or "none"
        msg = f"A facts table needs exactly one code column ({', '.join(CODE_HEADERS)}); found {found}."
        raise MappingError(msg)
    known = {normalise_header(fact): fact for fact in catalogue}
    columns: dict[str, tuple[str, str | None]] = {}
    unknown = []
    for header in headers:
        if header == codes[0] or normalise_header(header) in ("state", "name", "county"):
            continue
        match = _VINTAGE.match(normalise_header(header))
        fact = known.get(match["fact"]) or known.get(normalise_header(header))
        if fact is None:
            unknown.append(header)
            continue
        vintage = match["vintage"] if known.get(match["fact"]) else None
        columns[header] = (fact, vintage)
    if unknown:
        msg = f"Unknown fact column(s) {', '.join(unknown)}; facts are: {', '.join(catalogue)}."
        raise MappingError(msg)
    doubled = sorted({f for f, _ in columns.values() if [g for g, _ in columns.values()].count(f) > 1})
    if doubled:
        msg = f"More than one column for {', '.join(doubled)}; keep one per fact."
        raise MappingError(msg)
    if not columns:
        msg = f"The table has no fact column; facts are: {', '.join(catalogue)}."
        raise MappingError(msg)
    return codes[0], columns


def parse_facts(
    table: RawTable, *, level: str, catalogue: pd.DataFrame, known_codes: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str | None]]:
    """Turn a facts table into long rows, rejecting the rows that cannot load.

    Parameters
    ----------
    table
        The file as read (text cells, file lines).
    level
        ``state`` or ``county``.
    catalogue
        ``fact, kind`` of the known facts.
    known_codes
        Codes of the regions of ``level``.

    Returns
    -------
    tuple
        :data:`geo.store.region_facts.FACT_COLUMNS` rows of the good rows (empty cells
        left out), ``line, reason, raw`` of the rejected rows, and fact → vintage.
    """
    code_column, columns = fact_columns(list(table.frame.columns), list(catalogue["fact"]))
    kinds = dict(zip(catalogue["fact"], catalogue["kind"], strict=True))
    frame = table.frame.fillna("").astype(str)
    codes = _codes(frame[code_column], level)
    reasons = pd.Series("", index=frame.index, dtype=object)
    note_reason(reasons, codes.eq(""), "no region code")
    note_reason(
        reasons,
        ~codes.isin(known_codes) & codes.ne(""),
        f"no {level} has code " + frame[code_column].str.strip(),
    )
    note_reason(reasons, codes.duplicated() & codes.ne(""), "code repeats an earlier row")
    values = {}
    for header, (fact, _vintage) in columns.items():
        text = frame[header].str.strip().str.replace(",", "", regex=False)
        number = pd.to_numeric(text.where(text.ne("")), errors="coerce")
        note_reason(
            reasons, text.ne("") & (number.isna() | ~np.isfinite(number.fillna(0))), f"{header}: not a number"
        )
        if kinds[fact] == "count":
            note_reason(reasons, number < 0, f"{header}: a count cannot be negative")
        if fact.startswith("pct_"):
            note_reason(reasons, (number < 0) | (number > 100), f"{header}: a percentage lies in 0–100")
        values[fact] = number
    good = reasons.eq("")
    vintages = {fact: vintage for fact, vintage in columns.values()}
    wide = pd.DataFrame(values, index=frame.index)[good].set_index(codes[good].rename("code"))
    long = wide.rename_axis(columns="fact").stack().rename("value").reset_index().dropna(subset=["value"])
    long["vintage"] = long["fact"].map(vintages)
    refused = pd.DataFrame({"line": table.lines[~good.to_numpy()], "reason": reasons[~good].to_numpy()})
    rejects = pd.concat([unreadable_rejects(table), with_raw_rows(refused, table)], ignore_index=True)
    rejects = rejects.astype({"line": "int64"}).sort_values("line")
    return long[FACT_COLUMNS], rejects.reset_index(drop=True), vintages


def import_facts(db: Database, table: RawTable, *, level: str, source: str, user: str) -> FactsImport:
    """Load a facts table at one level, in one transaction (the states follow their counties).

    Parameters
    ----------
    db
        The database.
    table
        The file as read.
    level
        ``state`` or ``county``.
    source
        Where the figures come from (the file name, shown with the values).
    user
        The acting user (an admin: others may not change facts).

    Returns
    -------
    FactsImport
        Counts and rejects.

    Raises
    ------
    AccessDenied
        When ``user`` is not an admin.
    InvalidChoice
        For a level other than :data:`FACT_LEVELS`.
    MappingError
        When the header names no code column or an unknown fact.
    """
    if level not in FACT_LEVELS:
        msg = f"Unknown level {level!r}; facts import at {', '.join(FACT_LEVELS)}."
        raise InvalidChoice(msg)
    with db.transaction(user=user) as cur:
        cur.execute("SELECT gcrm_role()")
        role = cur.fetchone()[0]
        if role != "admin":
            msg = f"Only an admin may change region facts; {user!r} is signed in as {role or 'nobody'}."
            raise AccessDenied(msg)
        catalogue = read_catalogue(cur)
        cur.execute("SELECT code FROM regions WHERE level = %s", (level,))
        known = {code for (code,) in cur.fetchall()}
        long, rejects, vintages = parse_facts(table, level=level, catalogue=catalogue, known_codes=known)
        written = write_facts(cur, long, level=level, source=source)
    loaded = len(table.frame) - (len(rejects) - len(table.problems))
    return FactsImport(
        read=len(table.frame) + len(table.problems),
        regions=loaded,
        values=written,
        rejects=rejects,
        facts=vintages,
    )


def _codes(values: pd.Series, level: str) -> pd.Series:
    text = values.str.strip().str.replace(r"\.0$", "", regex=True)
    digits = text.str.fullmatch(r"\d+")
    return text.where(~digits, text.str.zfill(CODE_DIGITS[level]))
