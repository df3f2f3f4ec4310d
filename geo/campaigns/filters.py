"""Audience filters: what they hold, read from ``FIELD=VALUE`` text, in the book's spelling."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

from geo.choices import match_choices, parse_where, spellings_of
from geo.errors import CampaignError
from geo.ingest.geocode import PRECISION_RANK


@dataclass(frozen=True)
class Filters:
    """Audience filters; empty ones keep everything.

    Attributes
    ----------
    segments, industries, statuses
        Allowed values.
    revenue_min, revenue_max
        Band of the account's annual revenue.
    last_order_after, last_order_before
        Bounds of the date of the account's latest won order.
    no_visit_days
        Keep accounts not visited in this many days.
    min_precision
        Lowest geocode precision kept (see :data:`geo.ingest.geocode.PRECISION_RANK`).
    """

    segments: tuple[str, ...] = ()
    industries: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    revenue_min: float | None = None
    revenue_max: float | None = None
    last_order_after: date | None = None
    last_order_before: date | None = None
    no_visit_days: int | None = None
    min_precision: str = "region"


FILTER_LISTS = {"segment": "segments", "industry": "industries", "status": "statuses"}
"""Filter field → the :class:`Filters` attribute holding its allowed values (read from the book)."""
FILTER_FIELDS = (
    *FILTER_LISTS,
    "revenue_min",
    "revenue_max",
    "last_order_after",
    "last_order_before",
    "no_visit_days",
    "min_precision",
)


def parse_filters(items: list[str]) -> Filters:
    """Read the ``FIELD=VALUE`` filters of the CLI (see :func:`geo.choices.parse_where`).

    Fields: ``segment``, ``industry``, ``status`` (comma-separated values, matched against the
    book by :func:`match_filters`), ``revenue_min``, ``revenue_max``, ``last_order_after``,
    ``last_order_before`` (YYYY-MM-DD), ``no_visit_days`` and ``min_precision``.

    Parameters
    ----------
    items
        As typed.

    Returns
    -------
    Filters
        The filters, list values as typed.
    """
    values: dict = {}
    for name, typed in parse_where(items, FILTER_FIELDS).items():
        if name in FILTER_LISTS:
            values[FILTER_LISTS[name]] = tuple(typed)
            continue
        if len(typed) > 1:
            msg = f"--where {name}: takes one value, got {', '.join(typed)}."
            raise CampaignError(msg)
        values[name] = _filter_value(name, typed[0])
    return Filters(**values)


def form_filters(
    *,
    segments: list[str],
    statuses: list[str],
    industries: list[str],
    min_precision: str,
    revenue_min: float,
    revenue_max: float,
    last_order_after: object,
    no_visit_days: float,
) -> Filters:
    """Read the filters of a form whose numbers mean "no limit" (revenue) or "off" (visits) at 0.

    Parameters
    ----------
    segments, statuses, industries
        Values picked from the book's (already in its spelling).
    min_precision
        Lowest geocode precision kept.
    revenue_min, revenue_max
        Band of annual revenue; 0 leaves that end open.
    last_order_after
        A date, or anything else (nothing picked) for no bound.
    no_visit_days
        Keep accounts not visited in this many days; 0 keeps every account.

    Returns
    -------
    Filters
        The filters.
    """
    return Filters(
        segments=tuple(segments),
        statuses=tuple(statuses),
        industries=tuple(industries),
        revenue_min=revenue_min or None,
        revenue_max=revenue_max or None,
        last_order_after=last_order_after if isinstance(last_order_after, date) else None,
        no_visit_days=int(no_visit_days) or None,
        min_precision=min_precision,
    )


def _filter_value(name: str, text: str) -> float | int | date | str:
    try:
        if name in ("revenue_min", "revenue_max"):
            return float(text)
        if name in ("last_order_after", "last_order_before"):
            return date.fromisoformat(text)
        if name == "no_visit_days":
            return int(text)
    except ValueError as exc:
        msg = f"--where {name}={text}: {exc}."
        raise CampaignError(msg) from exc
    return match_choices(name, [text], spellings_of(PRECISION_RANK))[0]


def match_filters(filters: Filters, choices: dict[str, list[str]]) -> Filters:
    """Give typed segments, industries and statuses the book's spelling, matched without regard to case.

    Parameters
    ----------
    filters
        Filters as typed.
    choices
        What the book holds, as :func:`geo.campaigns.audience.filter_choices` gives.

    Returns
    -------
    Filters
        The same filters in the book's spelling; a value the book does not hold raises
        :class:`geo.errors.InvalidChoice`, which lists the valid ones.
    """
    matched = {
        attribute: tuple(match_choices(field, getattr(filters, attribute), spellings_of(choices[field])))
        for field, attribute in FILTER_LISTS.items()
        if getattr(filters, attribute)
    }
    return replace(filters, **matched)
