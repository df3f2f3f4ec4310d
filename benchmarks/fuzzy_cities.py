"""Benchmark: fuzzy city matching, difflib against rapidfuzz, on misspelt shipped place names.

Misspells ``--names`` places of ``data/cities.parquet`` (one or two slips each: a letter
dropped, added, replaced, or two swapped; seeded) and matches each among its state's
gazetteer names three ways:

- ``difflib.get_close_matches`` over every name (what the geocoder did before);
- :func:`geo.ingest.geocode.closest_place_name`: difflib's match searched among rapidfuzz's
  shortlist (what the geocoder does; the same matches as difflib, checked here);
- bare ``rapidfuzz.process.extractOne`` with ``fuzz.ratio``, for reference: faster again, but
  its ratio (longest common subsequence) is not difflib's and it breaks ties by position, so
  some matches differ, and those are counted.

Prints the time of each, the speed-up over difflib, and how many matches differ.

Usage::

    .venv/bin/python benchmarks/fuzzy_cities.py [--names 2000] [--seed 15] [--repeat 3]
"""

from __future__ import annotations

import argparse
import difflib
import string
import time
from collections.abc import Callable

import numpy as np
from rapidfuzz import fuzz, process

from geo.config import load_settings
from geo.ingest.geocode import FUZZY_CUTOFF, closest_place_name, load_gazetteer, normalise_city
from geo.store.shipped_data import read_cities


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (its options are those the module docstring lists)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--repeat", type=int, default=3, help="Runs of each matcher; the best is shown.")
    return parser


def main() -> None:
    """Run the three matchers and print their times and disagreements."""
    args = build_parser().parse_args()
    data_dir = load_settings().data_dir
    gazetteer = load_gazetteer(data_dir)
    names_by_state: dict[str, list[str]] = {}
    for key in gazetteer.places.index:
        name, state = key.rsplit("|", 1)
        names_by_state.setdefault(state, []).append(name)
    cities = read_cities(data_dir)
    rng = np.random.default_rng(args.seed)
    picked = cities.iloc[rng.choice(len(cities), size=args.names, replace=args.names > len(cities))]
    queries = [
        (_misspelt(name, rng), state)
        for name, state in zip(normalise_city(picked["name"]), picked["state"], strict=True)
    ]
    print(
        f"{len(queries):,} misspelt places, {len(gazetteer.places):,} gazetteer names, cutoff {FUZZY_CUTOFF}"
    )

    def with_difflib(city: str, candidates: list[str]) -> str | None:
        return (difflib.get_close_matches(city, candidates, n=1, cutoff=FUZZY_CUTOFF) or [None])[0]

    def bare_rapidfuzz(city: str, candidates: list[str]) -> str | None:
        found = process.extractOne(city, candidates, scorer=fuzz.ratio, score_cutoff=100 * FUZZY_CUTOFF)
        return found[0] if found else None

    reference, difflib_s = _timed(with_difflib, queries, names_by_state, args.repeat)
    matched = sum(match is not None for match in reference)
    print(f"  {'difflib:':33s}{difflib_s:7.3f} s ({matched:,} matched)")
    for label, matcher in (
        ("geocoder (rapidfuzz + difflib)", closest_place_name),
        ("bare rapidfuzz", bare_rapidfuzz),
    ):
        found, seconds = _timed(matcher, queries, names_by_state, args.repeat)
        differ = [
            (q, want, got) for q, want, got in zip(queries, reference, found, strict=True) if want != got
        ]
        print(
            f"  {label + ':':29s}{seconds:7.3f} s (x{difflib_s / seconds:.1f} faster), {len(differ)} differ"
        )
        for (city, state), want, got in differ[:5]:
            print(f"      {city!r} in {state}: difflib {want!r}, {label} {got!r}")


def _timed(
    matcher: Callable[[str, list[str]], str | None],
    queries: list[tuple[str, str]],
    names_by_state: dict[str, list[str]],
    repeat: int,
) -> tuple[list[str | None], float]:
    """The matches, and the best time of ``repeat`` runs over all queries."""
    best = float("inf")
    for _run in range(repeat):
        started = time.perf_counter()
        found = [matcher(city, names_by_state[state]) for city, state in queries]
        best = min(best, time.perf_counter() - started)
    return found, best


def _misspelt(name: str, rng: np.random.Generator) -> str:
    """One or two typing slips: a letter dropped, added, replaced, or two swapped."""
    chars = list(name)
    for _slip in range(rng.integers(1, 3)):
        at = int(rng.integers(len(chars)))
        kind = rng.integers(4)
        if kind == 0 and len(chars) > 1:
            del chars[at]
        elif kind == 1:
            chars.insert(at, rng.choice(list(string.ascii_lowercase)))
        elif kind == 2:
            chars[at] = rng.choice(list(string.ascii_lowercase))
        elif len(chars) > 1:
            at = min(at, len(chars) - 2)
            chars[at], chars[at + 1] = chars[at + 1], chars[at]
    return "".join(chars)


if __name__ == "__main__":
    main()
