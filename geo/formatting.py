"""How numbers, dates and names read on screen: one module for pages, legends, downloads and the CLI.

Money carries its currency and thousands separators, counts are whole numbers, shares are
percentages, moments are shown in the user's time zone, a missing value is a dash (never
"None" or "nan"), column names are words, and keys that are numbers sort as numbers.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

MISSING = "—"
"""What a missing value reads as."""
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "JPY": "¥", "CAD": "CA$", "AUD": "A$"}
"""Currency code → the symbol written before the amount; other codes are written as a prefix."""
WORDS = {
    "id": "ID",
    "zip": "ZIP",
    "fips": "FIPS",
    "h3": "H3",
    "km": "km",
    "m": "m",
    "kpi": "KPI",
    "url": "URL",
    "ids": "IDs",
    "r5": "(resolution 5)",
    "r7": "(resolution 7)",
    "r9": "(resolution 9)",
    "12m": "12 months",
}
"""Words of a column name that are written otherwise than capitalised."""


def missing(value: object) -> bool:
    """Whether ``value`` is absent: None, NaN, NaT or pandas' NA.

    Parameters
    ----------
    value
        Anything.

    Returns
    -------
    bool
        True for a missing value.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float | np.floating) and math.isnan(value)


def money(value: object, currency: str = "USD", *, cents: bool = False) -> str:
    """An amount with its currency and thousands separators: ``$2,984,359``.

    Parameters
    ----------
    value
        The amount.
    currency
        ISO 4217 code.
    cents
        Show two decimals.

    Returns
    -------
    str
        The amount, or :data:`MISSING`.
    """
    if missing(value):
        return MISSING
    amount = float(value)
    digits = f"{abs(amount):,.2f}" if cents else f"{abs(round(amount)):,.0f}"
    sign = "-" if amount < 0 and digits.strip("0.,") else ""
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency.upper()} {digits}"


def count(value: object) -> str:
    """A count as a whole number with thousands separators: ``12,408``.

    Parameters
    ----------
    value
        The count (a float count is rounded).

    Returns
    -------
    str
        The count, or :data:`MISSING`.
    """
    if missing(value):
        return MISSING
    return f"{round(float(value)):,.0f}"


def share(value: object, *, digits: int = 1) -> str:
    """A fraction as a percentage: ``0.1234`` → ``12.3%``.

    Parameters
    ----------
    value
        The fraction (1 is 100 %).
    digits
        Decimals of the percentage.

    Returns
    -------
    str
        The percentage, or :data:`MISSING`.
    """
    if missing(value):
        return MISSING
    return f"{100 * float(value):,.{digits}f}%"


def number(value: object) -> str:
    """A measured quantity: whole when it is, else two significant digits below 1 and one decimal above.

    Parameters
    ----------
    value
        The quantity (a rate, a distance …).

    Returns
    -------
    str
        The number, or :data:`MISSING`.
    """
    if missing(value):
        return MISSING
    quantity = float(value)
    if quantity.is_integer():
        return f"{quantity:,.0f}"
    return f"{quantity:.2g}" if abs(quantity) < 1 else f"{quantity:,.1f}"


def duration(minutes: object) -> str:
    """A driving or working time: ``7.4`` → ``7 min``, ``95`` → ``1 h 35 min``.

    Parameters
    ----------
    minutes
        The time in minutes.

    Returns
    -------
    str
        Whole minutes, with hours from 60 on, or :data:`MISSING`.
    """
    if missing(minutes):
        return MISSING
    whole = round(float(minutes))
    hours, rest = divmod(whole, 60)
    return f"{hours:,} h {rest} min" if hours else f"{rest} min"


def moment(value: object, zone: str = "UTC") -> str:
    """A date, or a moment in the user's time zone: ``2026-12-03 09:05``.

    Parameters
    ----------
    value
        A date, a datetime (naive ones are taken as UTC) or a pandas Timestamp.
    zone
        IANA time zone name of the reader.

    Returns
    -------
    str
        The local date and time to the minute, the date alone for a date, or :data:`MISSING`.
    """
    if missing(value):
        return MISSING
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize("UTC")
    return stamp.tz_convert(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


FIGURE_TEXT: dict[str, Callable[[object], str]] = {
    "count": count,
    "money": money,
    "share": share,
    "percent": lambda value: MISSING if missing(value) else f"{float(value):,.1f}%",
    "rate": number,
    "number": number,
    "minutes": duration,
}
"""Kind of figure → how it is written (``percent`` holds values already in percent, ``share`` fractions)."""


def figure(value: object, kind: str) -> str:
    """A figure written by its kind: ``figure(2984359, "money")`` → ``$2,984,359``.

    Parameters
    ----------
    value
        The figure.
    kind
        A key of :data:`FIGURE_TEXT` (``count``, ``money``, ``share``, ``percent``, ``rate``,
        ``number``, ``minutes``); another kind is written as a plain number.

    Returns
    -------
    str
        The figure, or :data:`MISSING`.
    """
    return FIGURE_TEXT.get(kind, number)(value)


def column_label(name: str) -> str:
    """A column name as words: ``annual_revenue`` → ``Annual revenue``, ``h3_r5`` → ``H3 (resolution 5)``.

    Parameters
    ----------
    name
        A snake_case column name.

    Returns
    -------
    str
        The label.
    """
    words = [WORDS.get(word.lower(), word.lower()) for word in re.split(r"[_\s]+", name.strip()) if word]
    if not words:
        return name
    first = words[0]
    words[0] = first if first != first.lower() else first[:1].upper() + first[1:]
    return " ".join(words)


def legend_ranges(
    bins: Iterable[float], lowest: float, *, whole: bool, text: Callable[[object], str] = number
) -> list[str]:
    """Label the classes of a map legend as ranges that never overlap.

    Parameters
    ----------
    bins
        The upper bound of each class, ascending.
    lowest
        The smallest value classified.
    whole
        The values are whole numbers (counts, whole currency units): bounds are integers and
        each class starts one above the previous top (``2 – 10``, ``11 – 19``); a class
        holding no whole number is an error (see :func:`geo.maps.classification.classify`,
        whose bounds are integral for whole data). Otherwise a
        class runs from the previous top, exclusive (``over 0 – 0.06`` after a class ``0``).
    text
        Writes one bound (:func:`count`, :func:`money` …).

    Returns
    -------
    list of str
        One label per class, low to high.
    """
    labels: list[str] = []
    lower = float(math.ceil(lowest)) if whole else float(lowest)
    single_below = False
    for upper in bins:
        top = float(math.floor(upper)) if whole else float(upper)
        if whole and top < lower:
            msg = f"The class up to {upper} holds no whole number above {lower - 1:g}: give integral bounds."
            raise ValueError(msg)
        if lower >= top:
            labels.append(text(top))
            single_below = True
        else:
            start = f"over {text(lower)}" if single_below and not whole else text(lower)
            labels.append(f"{start} – {text(top)}")
            single_below = False
        lower = top + 1 if whole else top
    return labels


def numeric_order(keys: Iterable[object]) -> list[object]:
    """Sort keys as numbers when every one of them is a number (``2, 10`` before ``"10", "2"``).

    Parameters
    ----------
    keys
        Region codes, territory ids …

    Returns
    -------
    list
        The keys, numerically sorted when all are numeric (digits, or int/float), else as text.
    """
    values = list(keys)

    def as_number(key: object) -> float | None:
        if isinstance(key, numbers.Number) and not isinstance(key, bool):
            return float(key)
        if isinstance(key, str) and re.fullmatch(r"-?\d+(\.\d+)?", key.strip()):
            return float(key)
        return None

    parsed = [as_number(key) for key in values]
    if values and all(number_ is not None for number_ in parsed):
        return [key for _number, key in sorted(zip(parsed, values, strict=True), key=lambda pair: pair[0])]
    return sorted(values, key=str)


def text_table(
    frame: pd.DataFrame,
    *,
    kinds: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    zone: str = "UTC",
) -> str:
    """Rows as a table for people at a terminal: words as headers, figures formatted and right-aligned.

    Parameters
    ----------
    frame
        The rows, in the order to print.
    kinds
        Column → kind of figure (see :func:`figure`); these columns are right-aligned.
    labels
        Column → header; other columns are headed by :func:`column_label`.
    zone
        IANA time zone moments are written in (columns ending in ``_at`` or holding dates).

    Returns
    -------
    str
        The header, a rule and one line per row, each ending in a newline; a missing value reads
        :data:`MISSING`, control characters in text become spaces.
    """
    kinds = kinds or {}
    labels = labels or {}
    columns = [str(column) for column in frame.columns]
    cells = [[_cell(value, column, kinds, zone) for value in frame[column]] for column in frame.columns]
    headers = [labels.get(column, column_label(column)) for column in columns]
    widths = [max([len(header), *map(len, values)]) for header, values in zip(headers, cells, strict=True)]
    right = [column in kinds for column in columns]

    def line(values: list[str]) -> str:
        parts = [
            value.rjust(width) if is_right else value.ljust(width)
            for value, width, is_right in zip(values, widths, right, strict=True)
        ]
        return "  ".join(parts).rstrip() + "\n"

    rows = [line([column[row] for column in cells]) for row in range(len(frame))]
    return line(headers) + line(["-" * width for width in widths]) + "".join(rows)


def _cell(value: object, column: str, kinds: dict[str, str], zone: str) -> str:
    if column in kinds:
        return figure(value, kinds[column])
    if missing(value):
        return MISSING
    if column.endswith("_at") or isinstance(value, date | pd.Timestamp):
        return moment(value, zone)
    text = str(value)
    return "".join(" " if unicodedata.category(char).startswith("C") else char for char in text)
