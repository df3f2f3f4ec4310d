"""Which role may open which page, and whether a page runs inside the app's navigation."""

from __future__ import annotations

import runpy
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from geo.config import PROJECT_DIR
from geo.store.users import ROLES

PAGE_ROLES = {
    "home": ROLES,
    "region_map": ROLES,
    "trade_areas": ("admin", "manager", "marketer"),
    "campaigns": ("admin", "manager", "marketer"),
    "nearby": ("admin", "manager", "rep"),
    "territory_performance": ("admin", "manager"),
    "territory_design": ("admin", "manager"),
    "data": ("admin",),
    "admin": ("admin",),
}
"""Page (file name in ``pages/``) → roles that may open it."""


_run_state = threading.local()
"""Per script run (Streamlit runs each session's script on its own thread)."""


@contextmanager
def navigating() -> Iterator[None]:
    """Mark the current script run as one that went through ``app.py``'s navigation."""
    _run_state.through_app = True
    try:
        yield
    finally:
        _run_state.through_app = False


def opened_through_app() -> bool:
    """Tell whether this page runs inside the app's navigation; if not, run the app instead.

    Streamlit runs ``pages/<name>.py`` on its own when a fresh server's first
    visitor opens ``/<name>``, before ``app.py`` has declared its navigation.
    Such a run hands over to ``app.py``, which gives that visitor the real app
    and then runs this page through the navigation.

    Returns
    -------
    bool
        True when the page should render; False when the app ran in its place.
    """
    if getattr(_run_state, "through_app", False):
        return True
    runpy.run_path(str(PROJECT_DIR / "app.py"), run_name="__main__")
    return False
