"""What a person types to pick from the book: the one ``FIELD=VALUE`` parser, and matching typed values.

Every list a user picks from (segments, industries, statuses, reps, branches, territories,
states) is read from the data. What a person types matches those values without regard to
case or repeated spaces; states also match by postal code and name. A value that matches
nothing is an error listing the valid ones, never a silent empty answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pandas as pd

from geo.errors import InvalidChoice

MAX_LISTED = 30
"""Valid values named in an error message; the rest are counted."""


def parse_where(items: Iterable[str], fields: Iterable[str]) -> dict[str, list[str]]:
    """Read ``FIELD=VALUE[,VALUE…]`` filters as typed after ``--where`` (repeated fields add up).

    Parameters
    ----------
    items
        As typed.
    fields
        The fields the command filters on.

    Returns
    -------
    dict
        Field (lower case) → the values typed for it, stripped, in order.
    """
    allowed = list(fields)
    where: dict[str, list[str]] = {}
    for item in items:
        name, sep, values = item.partition("=")
        name = name.strip().lower()
        typed = [v.strip() for v in values.split(",") if v.strip()]
        if not sep or not typed:
            msg = f"--where {item!r}: write FIELD=VALUE[,VALUE…] with FIELD one of {', '.join(allowed)}."
            raise InvalidChoice(msg)
        if name not in allowed:
            msg = f"--where {item!r}: unknown field {name!r}; choose one of {', '.join(allowed)}."
            raise InvalidChoice(msg)
        where.setdefault(name, []).extend(typed)
    return where


def match_choices(field: str, typed: Iterable[str], spellings: Mapping[str, str]) -> list[str]:
    """Give the book's value for each typed one, matched without regard to case.

    Parameters
    ----------
    field
        What the values are (named in the error).
    typed
        The values as typed.
    spellings
        Every accepted spelling → the value it stands for (``{"SMB": "SMB"}``, or for states
        ``{"IL": "17", "Illinois": "17", "17": "17"}``). A value's first spelling is the one an
        error lists.

    Returns
    -------
    list of str
        The values, without repeats, in the order typed.
    """
    folded: dict[str, str] = {}
    for spelling, value in spellings.items():
        folded.setdefault(_fold(spelling), value)
    matched: list[str] = []
    unknown: list[str] = []
    for text in typed:
        value = folded.get(_fold(text))
        if value is None:
            unknown.append(text)
        elif value not in matched:
            matched.append(value)
    if unknown:
        raise InvalidChoice(_unknown_message(field, unknown, spellings))
    return matched


def spellings_of(values: Iterable[str]) -> dict[str, str]:
    """Accept each value as itself (in any case).

    Parameters
    ----------
    values
        The values the book holds.

    Returns
    -------
    dict
        Value → value.
    """
    return {str(v): str(v) for v in values}


def state_spellings(states: pd.DataFrame) -> dict[str, str]:
    """Accept a state by postal code, name or FIPS code (with or without its leading zero).

    Parameters
    ----------
    states
        ``code`` (2-digit FIPS), ``name`` and ``abbrev``, as :func:`geo.store.boundaries.load_regions` gives.

    Returns
    -------
    dict
        Spelling → FIPS code, postal codes first (what errors list).
    """
    rows = list(zip(states["code"], states["name"], states["abbrev"], strict=True))
    spellings = {str(abbrev): str(code) for code, _name, abbrev in rows if isinstance(abbrev, str)}
    for code, name, _abbrev in rows:
        spellings.setdefault(str(name), str(code))
        spellings.setdefault(str(code), str(code))
        spellings.setdefault(str(code).lstrip("0"), str(code))
    return spellings


def _fold(text: str) -> str:
    return " ".join(str(text).casefold().split())


def _unknown_message(field: str, unknown: list[str], spellings: Mapping[str, str]) -> str:
    listed: dict[str, str] = {}
    for spelling, value in spellings.items():
        listed.setdefault(value, spelling)
    names = sorted(listed.values(), key=_fold)
    typed = ", ".join(repr(u) for u in unknown)
    if not names:
        return f"No {field} {typed} in the book; it holds no {field} yet."
    shown = ", ".join(names[:MAX_LISTED])
    more = f" and {len(names) - MAX_LISTED:,} more" if len(names) > MAX_LISTED else ""
    return f"No {field} {typed} in the book; choose from {shown}{more} (any case)."
