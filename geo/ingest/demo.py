"""A realistic, deterministic B2B book of business for demos, tests and benchmarks.

Accounts sit at real ZIP centroids (with a small seeded offset so they do not
stack), chosen with weights from the population of the place each ZIP belongs
to. Everything is drawn from one ``numpy`` generator seeded by the caller, and every date is
placed relative to an as-of date (the book ends the day before it), so the same seed,
size and as-of date always give the same book, and "the last 12 months" of a book made
today hold a year of orders whatever the calendar says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import geopandas as gpd
import numpy as np
import pandas as pd

from geo.store.db import STORAGE_CRS

ORDER_HISTORY_YEARS = 3
"""Won orders fall in the three years before the as-of date, visits in the last of them."""
OPEN_ORDER_SHARE = 0.25
"""Share of customers with an open opportunity (pipeline), opened in the last few weeks."""
OPEN_ORDER_MAX_AGE_DAYS = 60
OFFSET_RADIUS_M = 1_500
UNMATCHED_ZIP_WEIGHT = 300.0
"""Population weight of a ZIP whose place is not in the cities gazetteer (small places)."""
BRANCH_COUNT = 36
CONSENT_SHARE = 0.85
STATES_EXCLUDED = ("AS", "GU", "MP", "PR", "VI", "MH", "FM", "PW", "AA", "AE", "AP")
STATUS_SHARES = {"customer": 0.45, "prospect": 0.40, "churned": 0.15}
SEGMENT_SHARES = {"SMB": 0.6, "Mid-Market": 0.3, "Enterprise": 0.1}
SEGMENT_ORDER_RATE = {"SMB": 4.0, "Mid-Market": 8.0, "Enterprise": 15.0}
SEGMENT_ORDER_SCALE = {"SMB": 1_200.0, "Mid-Market": 6_000.0, "Enterprise": 25_000.0}
SEGMENT_REVENUE_SCALE = {"SMB": 2e6, "Mid-Market": 40e6, "Enterprise": 600e6}
INDUSTRIES = (
    "Manufacturing",
    "Retail",
    "Healthcare",
    "Construction",
    "Logistics",
    "Hospitality",
    "Professional Services",
    "Agriculture",
    "Education",
    "Technology",
    "Energy",
    "Finance",
)
PRODUCTS = (
    "Core license",
    "Add-on module",
    "Support plan",
    "Hardware kit",
    "Training",
    "Consulting",
)
OUTCOMES = ("positive", "neutral", "follow-up needed", "no decision", "order placed")
_NAME_FIRST = (
    "Summit",
    "Pioneer",
    "Blue Ridge",
    "Harbor",
    "Prairie",
    "Granite",
    "Cedar",
    "Lakeside",
    "Northstar",
    "Redwood",
    "Silver",
    "Keystone",
    "Frontier",
    "Heritage",
    "Liberty",
    "Canyon",
    "Evergreen",
    "Coastal",
    "Midland",
    "Ironwood",
    "Golden",
    "Riverbend",
    "Sunrise",
    "Atlas",
)
_NAME_SECOND = (
    "Supply",
    "Logistics",
    "Health",
    "Builders",
    "Foods",
    "Systems",
    "Partners",
    "Industries",
    "Labs",
    "Motors",
    "Energy",
    "Outfitters",
    "Analytics",
    "Hospitality",
    "Farms",
    "Works",
)
_NAME_SUFFIX = ("Inc.", "LLC", "Co.", "Group", "Corp.", "Ltd.")
_STREETS = (
    "Main",
    "Oak",
    "Maple",
    "Washington",
    "Park",
    "Lake",
    "Hill",
    "Pine",
    "Elm",
    "Market",
    "Church",
    "Broadway",
    "Center",
    "Mill",
    "River",
    "Highland",
)
_STREET_TYPES = ("St", "Ave", "Rd", "Blvd", "Dr", "Way")
_FIRST_NAMES = (
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "Maria",
    "Daniel",
    "Susan",
    "Carlos",
    "Aisha",
    "Wei",
    "Priya",
    "Thomas",
    "Sarah",
    "Kevin",
)
_LAST_NAMES = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Nguyen",
    "Kim",
    "Patel",
    "Anderson",
    "Taylor",
    "Thomas",
    "Moore",
    "Jackson",
    "Lee",
    "Walker",
)
_TITLES = ("Owner", "Purchasing Manager", "Operations Director", "CFO", "Office Manager", "CEO")


@dataclass(frozen=True)
class DemoBook:
    """The generated tables, keyed by explicit ids that reference each other.

    Attributes
    ----------
    reps, branches, accounts, contacts, orders, interactions
        One frame per table; ``accounts`` and ``branches`` are GeoDataFrames.
    """

    reps: pd.DataFrame
    branches: gpd.GeoDataFrame
    accounts: gpd.GeoDataFrame
    contacts: pd.DataFrame
    orders: pd.DataFrame
    interactions: pd.DataFrame


def rep_count(accounts: int) -> int:
    """Number of reps for a book of ``accounts``: 10 to 20, growing with the book.

    Parameters
    ----------
    accounts
        Book size.

    Returns
    -------
    int
        Rep head count.
    """
    return int(min(20, max(10, round(math.sqrt(accounts) / 10))))


def book_period(as_of: date) -> tuple[date, date]:
    """The first and last day of the won orders of a book generated as of ``as_of``.

    Parameters
    ----------
    as_of
        The book's as-of date.

    Returns
    -------
    tuple of date
        ``ORDER_HISTORY_YEARS`` years back (29 February falls back to the 28th), and the day before ``as_of``.
    """
    try:
        start = as_of.replace(year=as_of.year - ORDER_HISTORY_YEARS)
    except ValueError:
        start = as_of.replace(year=as_of.year - ORDER_HISTORY_YEARS, day=28)
    return start, as_of - timedelta(days=1)


def generate_demo(
    zips: gpd.GeoDataFrame,
    cities: gpd.GeoDataFrame,
    *,
    accounts: int,
    seed: int,
    as_of: date,
    order_scale: float = 1.0,
) -> DemoBook:
    """Build a demo book of ``accounts`` accounts with reps, branches, orders, pipeline and visits.

    Parameters
    ----------
    zips
        ZIP gazetteer (``zip, place, state, geometry``).
    cities
        Populated places (``name, state, population, geometry``).
    accounts
        Number of accounts, at least 1.
    seed
        Seed of the random generator.
    as_of
        The book ends the day before: won orders in the three years up to it (see
        :func:`book_period`), visits in the last year, open opportunities in the last weeks.
    order_scale
        Multiplies every account's order rate (benchmarks use it to reach a target order count).

    Returns
    -------
    DemoBook
        The tables, deterministic for ``(accounts, seed, as_of)``.
    """
    if accounts < 1:
        msg = f"A demo book needs at least one account, not {accounts}."
        raise ValueError(msg)
    rng = np.random.default_rng(seed)
    book_accounts = _accounts(rng, zips, cities, accounts)
    reps, owners = _reps(rng, book_accounts, cities)
    book_accounts["owner_rep_id"] = owners
    contacts = _contacts(rng, book_accounts)
    won = _orders(rng, book_accounts, order_scale, as_of)
    interactions = _interactions(rng, book_accounts, as_of)
    return DemoBook(
        reps=reps,
        branches=_branches(cities),
        accounts=book_accounts,
        contacts=contacts,
        orders=pd.concat([won, _open_orders(rng, book_accounts, as_of, first_id=len(won) + 1)]).reset_index(
            drop=True
        ),
        interactions=interactions,
    )


def _zip_weights(zips: gpd.GeoDataFrame, cities: gpd.GeoDataFrame) -> np.ndarray:
    place_key = zips["place"].str.lower() + "|" + zips["state"]
    city_key = cities["name"].str.lower() + "|" + cities["state"]
    population = cities.groupby(city_key)["population"].max()
    zips_per_place = place_key.map(place_key.value_counts())
    weights = (place_key.map(population) / zips_per_place).fillna(UNMATCHED_ZIP_WEIGHT)
    return weights.to_numpy(dtype=float)


def _accounts(
    rng: np.random.Generator, zips: gpd.GeoDataFrame, cities: gpd.GeoDataFrame, n: int
) -> gpd.GeoDataFrame:
    placed = (zips["state"] != "") & ~zips["state"].isin(STATES_EXCLUDED)
    zips = zips[placed].reset_index(drop=True)
    weights = _zip_weights(zips, cities)
    picked = zips.iloc[rng.choice(len(zips), size=n, p=weights / weights.sum())]
    lon, lat = _offset(rng, picked.geometry.x.to_numpy(), picked.geometry.y.to_numpy())
    segment = _choice(rng, SEGMENT_SHARES, n)
    scale = pd.Series(segment).map(SEGMENT_REVENUE_SCALE).to_numpy()
    ids = np.arange(1, n + 1)
    frame = pd.DataFrame(
        {
            "account_id": ids,
            "external_id": [f"ACC-{i:07d}" for i in ids],
            "name": _company_names(rng, n),
            "industry": rng.choice(INDUSTRIES, size=n),
            "segment": segment,
            "status": _choice(rng, STATUS_SHARES, n),
            "annual_revenue": np.round(scale * rng.lognormal(0.0, 0.6, size=n), 2),
            "street": _streets(rng, n),
            "city": picked["place"].to_numpy(),
            "state": picked["state"].to_numpy(),
            "postal_code": picked["zip"].to_numpy(),
            "zip": picked["zip"].to_numpy(),
            "geocode_precision": "postal",
            "geocode_source": "demo",
            "marketing_consent": rng.random(n) < CONSENT_SHARE,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs=STORAGE_CRS)


def _offset(rng: np.random.Generator, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    angle = rng.uniform(0, 2 * np.pi, size=len(lon))
    distance = OFFSET_RADIUS_M * np.sqrt(rng.random(len(lon)))
    dlat = distance * np.sin(angle) / 111_320.0
    dlon = distance * np.cos(angle) / (111_320.0 * np.cos(np.radians(lat)))
    return np.round(lon + dlon, 6), np.round(lat + dlat, 6)


def _choice(rng: np.random.Generator, shares: dict[str, float], n: int) -> np.ndarray:
    return rng.choice(list(shares), size=n, p=list(shares.values()))


def _company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.choice(_NAME_FIRST, size=n)
    second = rng.choice(_NAME_SECOND, size=n)
    suffix = rng.choice(_NAME_SUFFIX, size=n)
    return pd.Series(first).str.cat([pd.Series(second), pd.Series(suffix)], sep=" ").to_numpy()


def _streets(rng: np.random.Generator, n: int) -> np.ndarray:
    number = pd.Series(rng.integers(1, 9_999, size=n)).astype(str)
    name = pd.Series(rng.choice(_STREETS, size=n))
    kind = pd.Series(rng.choice(_STREET_TYPES, size=n))
    return number.str.cat([name, kind], sep=" ").to_numpy()


def _reps(
    rng: np.random.Generator, accounts: gpd.GeoDataFrame, cities: gpd.GeoDataFrame
) -> tuple[pd.DataFrame, np.ndarray]:
    """Cut the ZIP3 areas, in ZIP order (north-east to west), into groups of similar account counts."""
    count = rep_count(len(accounts))
    zip3 = accounts["zip"].str[:3]
    by_zip3 = zip3.value_counts().sort_index()
    cumulative = (by_zip3.cumsum() - by_zip3 / 2) / by_zip3.sum()
    rep_of_zip3 = pd.Series((cumulative.to_numpy() * count).astype(int) + 1, index=by_zip3.index)
    owners = zip3.map(rep_of_zip3).to_numpy()
    names = rng.permutation([f"{first} {last}" for first in _FIRST_NAMES for last in _LAST_NAMES])[:count]
    account_place = accounts["city"].str.lower() + "|" + accounts["state"]
    city_place = cities["name"].str.lower() + "|" + cities["state"]
    reps = []
    for rep_id, name in enumerate(names, start=1):
        places = account_place[owners == rep_id].unique()
        home = cities[city_place.isin(places)].nlargest(1, "population")
        first, last = name.split(" ", 1)
        reps.append(
            {
                "rep_id": rep_id,
                "external_id": f"REP-{rep_id:02d}",
                "name": name,
                "email": f"{first.lower()}.{last.lower()}@example.com",
                "home": home.geometry.iloc[0] if len(home) else None,
            }
        )
    return pd.DataFrame(reps), owners


def _branches(cities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    largest = cities[~cities["state"].isin(STATES_EXCLUDED)].nlargest(BRANCH_COUNT, "population")
    ids = np.arange(1, len(largest) + 1)
    frame = pd.DataFrame(
        {
            "branch_id": ids,
            "external_id": [f"BR-{i:03d}" for i in ids],
            "name": [f"{name} branch" for name in largest["name"]],
            "kind": np.where(ids % 3 == 0, "store", "office"),
            "city": largest["name"].to_numpy(),
            "state": largest["state"].to_numpy(),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=largest.geometry.to_numpy(), crs=STORAGE_CRS)


def _contacts(rng: np.random.Generator, accounts: gpd.GeoDataFrame) -> pd.DataFrame:
    per_account = 1 + (rng.random(len(accounts)) < 0.4)
    account_id = np.repeat(accounts["account_id"].to_numpy(), per_account)
    consent = np.repeat(accounts["marketing_consent"].to_numpy(), per_account)
    n = len(account_id)
    first = rng.choice(_FIRST_NAMES, size=n)
    last = rng.choice(_LAST_NAMES, size=n)
    ids = np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "contact_id": ids,
            "external_id": [f"CON-{i:07d}" for i in ids],
            "account_id": account_id,
            "first_name": first,
            "last_name": last,
            "title": rng.choice(_TITLES, size=n),
            "email": [
                f"{f.lower()}.{surname.lower()}.{i}@example.com"
                for f, surname, i in zip(first, last, ids, strict=True)
            ],
            "phone": [f"555-{(i * 7919) % 10_000:04d}" for i in ids],
            "marketing_consent": consent & (rng.random(n) < 0.95),
        }
    )


def _orders(rng: np.random.Generator, accounts: gpd.GeoDataFrame, scale: float, as_of: date) -> pd.DataFrame:
    status = accounts["status"].to_numpy()
    segment = accounts["segment"].to_numpy()
    rate = scale * pd.Series(segment).map(SEGMENT_ORDER_RATE).to_numpy()
    rate = np.where(status == "customer", rate, np.where(status == "churned", rate * 0.4, 0.0))
    per_account = rng.poisson(rate)
    rows = np.repeat(np.arange(len(accounts)), per_account)
    n = len(rows)
    first_day, last_day = book_period(as_of)
    days = (last_day - first_day).days
    # Churned accounts ordered only in the first half of the period.
    span = np.where(status[rows] == "churned", days // 2, days)
    order_date = pd.Timestamp(first_day) + pd.to_timedelta(
        np.floor(rng.random(n) * (span + 1)).astype(int), unit="D"
    )
    scale = pd.Series(segment[rows]).map(SEGMENT_ORDER_SCALE).to_numpy()
    ids = np.arange(1, n + 1)
    frame = pd.DataFrame(
        {
            "order_id": ids,
            "external_id": [f"ORD-{i:08d}" for i in ids],
            "account_id": accounts["account_id"].to_numpy()[rows],
            "rep_id": accounts["owner_rep_id"].to_numpy()[rows],
            "order_date": order_date.date,
            "amount": np.round(scale * rng.lognormal(0.0, 0.7, size=n), 2),
            "stage": "won",
            "product": rng.choice(PRODUCTS, size=n),
        }
    )
    return frame.sort_values(["order_date", "order_id"], ignore_index=True)


def _open_orders(
    rng: np.random.Generator, accounts: gpd.GeoDataFrame, as_of: date, *, first_id: int
) -> pd.DataFrame:
    is_open = (accounts["status"].to_numpy() == "customer") & (rng.random(len(accounts)) < OPEN_ORDER_SHARE)
    rows = np.flatnonzero(is_open)
    n = len(rows)
    scale = pd.Series(accounts["segment"].to_numpy()[rows]).map(SEGMENT_ORDER_SCALE).to_numpy()
    age = rng.integers(0, OPEN_ORDER_MAX_AGE_DAYS, size=n)
    ids = np.arange(first_id, first_id + n)
    return pd.DataFrame(
        {
            "order_id": ids,
            "external_id": [f"ORD-{i:08d}" for i in ids],
            "account_id": accounts["account_id"].to_numpy()[rows],
            "rep_id": accounts["owner_rep_id"].to_numpy()[rows],
            "order_date": (pd.Timestamp(as_of) - pd.to_timedelta(age + 1, unit="D")).date,
            "amount": np.round(scale * rng.lognormal(0.0, 0.7, size=n), 2),
            "stage": "open",
            "product": rng.choice(PRODUCTS, size=n),
        }
    )


def _interactions(rng: np.random.Generator, accounts: gpd.GeoDataFrame, as_of: date) -> pd.DataFrame:
    active = accounts["status"].to_numpy() != "churned"
    per_account = rng.poisson(np.where(active, 1.5, 0.3))
    rows = np.repeat(np.arange(len(accounts)), per_account)
    n = len(rows)
    kind = rng.choice(["visit", "call", "email", "meeting"], size=n, p=[0.5, 0.3, 0.1, 0.1])
    end = pd.Timestamp(as_of, tz="UTC")
    start = end - pd.DateOffset(years=1)
    seconds = int((end - start).total_seconds())
    occurred = start + pd.to_timedelta(rng.integers(0, seconds, size=n), unit="s")
    geometry = accounts.geometry.to_numpy()[rows]
    checkin = np.where(kind == "visit", geometry, None)
    ids = np.arange(1, n + 1)
    return pd.DataFrame(
        {
            "interaction_id": ids,
            "account_id": accounts["account_id"].to_numpy()[rows],
            "rep_id": accounts["owner_rep_id"].to_numpy()[rows],
            "kind": kind,
            "occurred_at": occurred,
            "duration_min": np.where(kind == "email", 0, rng.integers(15, 91, size=n)),
            "outcome": rng.choice(OUTCOMES, size=n),
            "checkin": checkin,
        }
    ).sort_values(["occurred_at", "interaction_id"], ignore_index=True)
