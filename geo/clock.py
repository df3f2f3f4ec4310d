"""The one source of "today" and "now": every figure that depends on the date reads it here.

"Revenue of the last 12 months", "no visit in N days", growth, days since the last visit
and the end of the demo book are all measured from :func:`today` / :func:`now`, never
from the database's ``now()`` or ``current_date``, so the calendar can move on (or be
pinned) without a figure collapsing.

The clock follows the machine unless it is pinned, either for a whole process by the
``GCRM_TODAY`` setting (see :mod:`geo.config`; an app server frozen on a day, the app a
browser test serves) or in code with :func:`pinned` (tests).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time

from geo.config import pinned_today

PINNED_TIME_OF_DAY = time(12, 0)
"""Time of day (UTC) of a clock pinned to a date: noon is the same date in every zone of ±12 h."""
_pins: list[datetime] = []


def now() -> datetime:
    """The current instant, time-zone aware (UTC).

    Returns
    -------
    datetime
        The innermost :func:`pinned` instant, else ``GCRM_TODAY`` at noon UTC, else the
        machine's clock.
    """
    if _pins:
        return _pins[-1]
    day = pinned_today()
    if day is not None:
        return _at_noon(day)
    return datetime.now(UTC)


def today() -> date:
    """The current date in the machine's local time zone.

    Returns
    -------
    date
        The date of :func:`now`.
    """
    return now().astimezone().date()


@contextmanager
def pinned(moment: date | datetime) -> Iterator[None]:
    """Freeze :func:`now` and :func:`today` inside a ``with`` block (nestable).

    Parameters
    ----------
    moment
        A date (pinned at noon UTC) or an aware datetime.

    Yields
    ------
    None
        The clock stays pinned until the block ends.
    """
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            msg = "Pin the clock to a time-zone aware datetime (or a date)."
            raise ValueError(msg)
        instant = moment
    else:
        instant = _at_noon(moment)
    _pins.append(instant)
    try:
        yield
    finally:
        _pins.pop()


def _at_noon(day: date) -> datetime:
    return datetime.combine(day, PINNED_TIME_OF_DAY, tzinfo=UTC)
