"""The ``region_facts`` and ``fact_catalogue`` tables: what is known of each region's market.

Counties carry the facts as loaded; a state's facts follow from its counties by the rule the
catalogue gives each fact (counts add up, means are weighted, medians stay county-level),
recomputed in the same transaction as every county write.
"""

from __future__ import annotations

import pandas as pd
import psycopg2.extensions

from geo.store.db import SYSTEM_USER, Database, copy_frame, fetch_frame

SHIPPED_SOURCE = "US Census Bureau county statistics (usdata 0.3.1 county_complete)"
"""The ``source`` of the facts shipped in data/county_facts.parquet."""
FACT_COLUMNS = ["code", "fact", "value", "vintage"]
"""Columns of a facts frame in long form, as the shipped file and an import give them."""


def fact_catalogue(db: Database, *, user: str) -> pd.DataFrame:
    """The facts gcrm knows: ``fact, label, kind, weight``, ordered as the catalogue lists them.

    Parameters
    ----------
    db
        The database.
    user
        The acting user.

    Returns
    -------
    DataFrame
        ``kind`` is ``count`` (adds up), ``mean`` (weighted by ``weight``) or ``county``
        (county-level only: medians, and rates whose base does not ship).
    """
    with db.transaction(user=user) as cur:
        return read_catalogue(cur)


def read_catalogue(cur: psycopg2.extensions.cursor) -> pd.DataFrame:
    """Read the fact catalogue inside the caller's transaction.

    Parameters
    ----------
    cur
        A cursor inside the caller's transaction.

    Returns
    -------
    DataFrame
        As :func:`fact_catalogue` returns it.
    """
    cur.execute("SELECT fact, label, kind, weight FROM fact_catalogue ORDER BY ctid")
    return fetch_frame(cur)


def facts_loaded(db: Database) -> bool:
    """Tell whether any county facts are loaded.

    Parameters
    ----------
    db
        The database as its owner.

    Returns
    -------
    bool
        True once the shipped (or an imported) county table is in.
    """
    with db.transaction(user=SYSTEM_USER) as cur:
        cur.execute("SELECT EXISTS (SELECT 1 FROM region_facts WHERE level = 'county')")
        return cur.fetchone()[0]


def store_county_facts(db: Database, facts: pd.DataFrame, *, source: str, user: str) -> int:
    """Upsert county facts and recompute their states', in one transaction.

    Parameters
    ----------
    db
        The database.
    facts
        :data:`FACT_COLUMNS` rows for known counties and catalogued facts.
    source
        Where the values come from (shown with them).
    user
        The acting user (an admin).

    Returns
    -------
    int
        County rows written.
    """
    with db.transaction(user=user) as cur:
        return write_facts(cur, facts, level="county", source=source)


def write_facts(cur: psycopg2.extensions.cursor, facts: pd.DataFrame, *, level: str, source: str) -> int:
    """Upsert facts of one level in the caller's transaction; county writes roll up to the states.

    Parameters
    ----------
    cur
        A cursor inside the caller's transaction.
    facts
        :data:`FACT_COLUMNS` rows.
    level
        ``county`` or ``state``.
    source
        Where the values come from.

    Returns
    -------
    int
        Rows written at ``level``.
    """
    cur.execute(
        "CREATE TEMP TABLE facts_stage (code text, fact text, value double precision, vintage text)"
        " ON COMMIT DROP"
    )
    copy_frame(cur, "facts_stage", facts[FACT_COLUMNS])
    cur.execute(
        "INSERT INTO region_facts (level, code, fact, value, vintage, source)"
        " SELECT %s, code, fact, value, vintage, %s FROM facts_stage"
        " ON CONFLICT (level, code, fact) DO UPDATE SET value = EXCLUDED.value,"
        " vintage = EXCLUDED.vintage, source = EXCLUDED.source",
        (level, source),
    )
    written = cur.rowcount
    if level == "county":
        cur.execute("SELECT DISTINCT fact FROM facts_stage")
        _roll_up_states(cur, [fact for (fact,) in cur.fetchall()])
    cur.execute("DROP TABLE facts_stage")
    return written


def _roll_up_states(cur: psycopg2.extensions.cursor, facts: list[str]) -> None:
    """Replace the state rows of ``facts`` with what the catalogue's rule gives from the counties."""
    cur.execute("DELETE FROM region_facts WHERE level = 'state' AND fact = ANY(%s)", (facts,))
    cur.execute(
        "INSERT INTO region_facts (level, code, fact, value, vintage, source)"
        " SELECT 'state', r.parent_code, f.fact,"
        "  CASE c.kind WHEN 'count' THEN sum(f.value)"
        "   ELSE sum(f.value * w.value) / sum(w.value) END,"
        "  string_agg(DISTINCT f.vintage, ', '),"
        "  CASE c.kind WHEN 'count' THEN 'sum' ELSE 'mean weighted by ' || c.weight END"
        "  || ' of ' || count(*) || ' of ' || max(n.counties) || ' counties'"
        " FROM region_facts f"
        " JOIN fact_catalogue c ON c.fact = f.fact"
        " JOIN regions r ON r.level = 'county' AND r.code = f.code"
        " JOIN (SELECT parent_code, count(*) AS counties FROM regions WHERE level = 'county'"
        "       GROUP BY parent_code) n ON n.parent_code = r.parent_code"
        " LEFT JOIN region_facts w ON w.level = 'county' AND w.code = f.code AND w.fact = c.weight"
        " WHERE f.level = 'county' AND f.fact = ANY(%s) AND c.kind IN ('count', 'mean')"
        "  AND (c.kind = 'count' OR w.value IS NOT NULL)"
        " GROUP BY r.parent_code, f.fact, c.kind, c.weight"
        " HAVING c.kind = 'count' OR sum(w.value) > 0",
        (facts,),
    )


def read_facts(db: Database, level: str, *, user: str, facts: list[str] | None = None) -> pd.DataFrame:
    """Facts of one level as a table: one row per region, one column per fact.

    Parameters
    ----------
    db
        The database.
    level
        ``state`` or ``county``.
    user
        The acting user.
    facts
        Facts to read; None for every fact loaded.

    Returns
    -------
    DataFrame
        Indexed by region code (named ``code``); NaN where a fact is not known for a region
        (a county-level fact at state level, or a value the source does not publish).
    """
    with db.transaction(user=user) as cur:
        cur.execute(
            "SELECT code, fact, value FROM region_facts"
            " WHERE level = %s AND (%s::text[] IS NULL OR fact = ANY(%s::text[]))",
            (level, facts, facts),
        )
        long = fetch_frame(cur)
    wide = long.pivot(index="code", columns="fact", values="value") if len(long) else pd.DataFrame()
    wide = wide.reindex(columns=facts) if facts is not None else wide
    return wide.rename_axis(index="code", columns=None).astype("float64")
