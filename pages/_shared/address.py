"""A page's view in its address: written when it changes, read back from a reload or a shared link.

A page names its view as short query parameters (``?level=county&segment=SMB&segment=Enterprise``),
writes them after its widgets with :func:`show_view` and, before its widgets, asks
:func:`linked_view` whether the address holds a view the session has not shown yet (a reload,
a shared link, a hand-edited address). Values read from the address are matched against
the data's choices with :func:`linked_choice`; what matches nothing is a warning and the
default, never a traceback.
"""

from collections.abc import Iterable, Mapping

import streamlit as st

from geo.choices import match_choices, spellings_of
from geo.errors import InvalidChoice
from geo.maps.escaping import markdown_text

WRITTEN_KEY = "address_written"
"""Session-state key: per page, the view it last wrote to the address."""


def linked_view(page: str, keys: Iterable[str]) -> dict[str, list[str]] | None:
    """Give the view the address asks for, when it is not the one this page wrote last.

    Parameters
    ----------
    page
        The page's name (each page remembers what it wrote).
    keys
        The query parameters of the page's view.

    Returns
    -------
    dict or None
        Parameter → its values in the address (a repeated parameter has several), for the
        parameters present; None when the address holds none of them or holds what the page
        wrote (the session shows that view already).
    """
    asked = {key: st.query_params.get_all(key) for key in keys if key in st.query_params}
    if not asked or asked == st.session_state.get(WRITTEN_KEY, {}).get(page):
        return None
    return asked


def show_view(page: str, view: Mapping[str, str | Iterable[str] | None]) -> None:
    """Write the page's view to the address; parameters without a value (the defaults) are removed.

    Parameters
    ----------
    page
        The page's name.
    view
        Every parameter of the view → its value, its values, or None (or empty) for the default.
    """
    written: dict[str, list[str]] = {}
    for key, value in view.items():
        values = [] if value is None else [value] if isinstance(value, str) else list(value)
        if values:
            written[key] = values
            if st.query_params.get_all(key) != values:
                st.query_params[key] = values
        elif key in st.query_params:
            del st.query_params[key]
    st.session_state.setdefault(WRITTEN_KEY, {})[page] = written


def linked_choice(what: str, linked: Iterable[str], choices: Iterable[str]) -> list[str] | None:
    """Match values from the address to the data's choices; a value that matches none is a warning.

    Parameters
    ----------
    what
        What the values are ("level", "segment" …), named in the warning.
    linked
        The values as the address holds them (untrusted: shown escaped only).
    choices
        The valid values.

    Returns
    -------
    list of str or None
        The choices matched (case-insensitively), or None after a warning that lists the
        valid ones, when any value matches none.
    """
    try:
        return match_choices(what, linked, spellings_of(choices))
    except InvalidChoice as exc:
        st.warning(f"From the page's address: {markdown_text(exc)} Showing the default.")
        return None
