"""The cube's ``--where``: typed text → dimension filters → member keys → the accounts kept.

Tables of cases without a database, in the manner of datasette's ``tests/test_filters.py``:
:func:`geo.choices.parse_where` reads the text, :func:`geo.choices.match_choices` gives each
value the book's key (states by postal code, name or FIPS; every other dimension by the
values its accounts hold, as :func:`geo.analysis.cube_answers.match_where` does), and
:func:`geo.analysis.cube.slice_mask` keeps the accounts.
"""

from __future__ import annotations

import pandas as pd
import pytest

from geo.analysis.cube import DIMENSIONS, Facts, drill_down, slice_mask
from geo.choices import match_choices, parse_where, spellings_of, state_spellings
from geo.errors import InvalidChoice

STATES = pd.DataFrame(
    {
        "code": ["06", "17", "55"],
        "name": ["California", "Illinois", "Wisconsin"],
        "abbrev": ["CA", "IL", "WI"],
    }
)
DIMENSION_LIST = ", ".join(DIMENSIONS)


@pytest.fixture(scope="module")
def facts() -> Facts:
    accounts = pd.DataFrame(
        {
            "account_id": [1, 2, 3, 4, 5],
            "status": ["customer", "churned", "prospect", "customer", "customer"],
            "segment": ["SMB", "Enterprise", "SMB", "SMB", "Mid-Market"],
            "industry": ["Retail", "Retail", "Energy", "Energy", "Retail"],
            "owner_rep_id": [1, 1, 2, 2, None],
            "territory_id": [10, 10, 20, None, None],
            "state_fips": ["17", "17", "06", "06", "55"],
            "county_fips": ["17031", "17043", "06075", "06075", None],
            "zip": ["60601", "60515", "94103", "94103", None],
        }
    )
    orders = pd.DataFrame({"account_id": [], "order_date": pd.to_datetime([]), "amount": []})
    return Facts(accounts=accounts, orders=orders)


def _kept(facts: Facts, items: list[str]) -> list[int]:
    typed = parse_where(items, DIMENSIONS)
    where = {
        dimension: match_choices(
            dimension,
            values,
            state_spellings(STATES)
            if dimension == "state"
            else spellings_of(facts.member_codes(dimension)[1]),
        )
        for dimension, values in typed.items()
    }
    return facts.accounts.loc[slice_mask(facts, where), "account_id"].tolist()


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([], [1, 2, 3, 4, 5]),
        (["segment=SMB"], [1, 3, 4]),
        (["segment=smb"], [1, 3, 4]),
        (["SEGMENT = mid-market"], [5]),
        (["segment=SMB,Enterprise"], [1, 2, 3, 4]),
        (["status=customer", "status=churned"], [1, 2, 4, 5]),
        (["state=IL"], [1, 2]),
        (["state=illinois"], [1, 2]),
        (["state=17"], [1, 2]),
        (["state=6"], [3, 4]),
        (["state=Illinois, CA"], [1, 2, 3, 4]),
        (["state=wi", "segment=smb"], []),
        (["state=CA", "segment=SMB", "industry=energy"], [3, 4]),
        (["county=17031,06075"], [1, 3, 4]),
        (["zip=60601"], [1]),
        (["rep=2"], [3, 4]),
        (["territory=10"], [1, 2]),
    ],
)
def test_where_keeps_the_accounts_of_every_filter(
    facts: Facts, items: list[str], expected: list[int]
) -> None:
    assert _kept(facts, items) == expected


@pytest.mark.parametrize(
    ("items", "message"),
    [
        (["segment"], f"--where 'segment': write FIELD=VALUE[,VALUE…] with FIELD one of {DIMENSION_LIST}."),
        (["segment="], f"--where 'segment=': write FIELD=VALUE[,VALUE…] with FIELD one of {DIMENSION_LIST}."),
        (["=SMB"], f"--where '=SMB': unknown field ''; choose one of {DIMENSION_LIST}."),
        (["planet=Mars"], f"--where 'planet=Mars': unknown field 'planet'; choose one of {DIMENSION_LIST}."),
        (
            ["segment=Startup"],
            "No segment 'Startup' in the book; choose from Enterprise, Mid-Market, SMB (any case).",
        ),
        (["segment=SMB,Startup,Solo"], "No segment 'Startup', 'Solo' in the book; choose from Enterprise,"),
        (["state=Narnia"], "No state 'Narnia' in the book; choose from CA, IL, WI (any case)."),
        (["zip=99999"], "No zip '99999' in the book; choose from 60515, 60601, 94103 (any case)."),
        (["rep=3"], "No rep '3' in the book; choose from 1, 2 (any case)."),
    ],
)
def test_where_refuses_with_a_message_listing_the_choices(
    facts: Facts, items: list[str], message: str
) -> None:
    with pytest.raises(InvalidChoice) as raised:
        _kept(facts, items)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("by", "key", "expected"),
    [
        ("state", "17", ("county", {"state": ["17"]})),
        ("county", "17031", ("zip", {"county": ["17031"]})),
        ("zip", "60601", ("accounts", {"zip": ["60601"]})),
    ],
)
def test_drilling_down_adds_a_where_on_the_member(facts: Facts, by: str, key: str, expected: tuple) -> None:
    assert drill_down(by, key) == expected
    _level, where = expected
    assert set(facts.accounts.loc[slice_mask(facts, where), DIMENSIONS[by]]) == {key}
