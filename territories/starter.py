"""A first territory plan for a book that has none: one territory per rep, under the Census regions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geo.store.db import Database
from territories.book_alignment import propose_alignment
from territories.model import publish_plan, versions

CENSUS_REGIONS = {
    "Northeast": "09 23 25 33 34 36 42 44 50",
    "Midwest": "17 18 19 20 26 27 29 31 38 39 46 55",
    "South": "01 05 10 11 12 13 21 22 24 28 37 40 45 47 48 51 54",
    "West": "02 04 06 08 15 16 30 32 35 41 49 53 56",
}
"""US Census Bureau regions → state FIPS codes."""
STARTER_SEED = 0


def starter_plan(db: Database, data_dir: Path, *, user: str) -> int | None:
    """Align the counties into one territory per rep (balanced on accounts) and publish it.

    Territories are named after their rep and filed under the Census region holding most
    of their accounts. Does nothing when a version exists or there are no reps.

    Parameters
    ----------
    db
        The database.
    data_dir
        The shipped data directory.
    user
        The acting user.

    Returns
    -------
    int or None
        The published version, or None when nothing was done.
    """
    if not versions(db, user=user).empty:
        return None
    with db.transaction(user=user) as cur:
        cur.execute("SELECT rep_id, name FROM reps WHERE active ORDER BY rep_id")
        reps = cur.fetchall()
    if not reps:
        return None
    result = propose_alignment(
        db, data_dir, level="county", k=len(reps), measures=["accounts"], user=user, seed=STARTER_SEED
    )
    units = result.units
    region_of_state = {fips: name for name, codes in CENSUS_REGIONS.items() for fips in codes.split()}
    units["region"] = units["code"].str[:2].map(region_of_state).fillna("West")
    home = units.groupby("territory").apply(lambda g: g.groupby("region")["accounts"].sum().idxmax())
    regions = pd.DataFrame(
        {"code": [f"R-{name}" for name in CENSUS_REGIONS], "name": list(CENSUS_REGIONS), "kind": "region"}
    )
    codes = np.array([f"T{i + 1:02d}" for i in range(len(reps))])
    territories = pd.DataFrame(
        {
            "code": codes,
            "name": [f"{name} territory" for _rep_id, name in reps],
            "kind": "territory",
            "parent_code": [f"R-{home.get(i, 'West')}" for i in range(len(reps))],
            "rep_id": pd.array([rep_id for rep_id, _name in reps], dtype="Int64"),
        }
    )
    assignment = pd.Series(codes[units["territory"].to_numpy()], index=units["code"].to_numpy())
    plan = pd.concat([regions, territories], ignore_index=True)
    return publish_plan(db, plan, "Initial plan", "county", assignment, user=user)
