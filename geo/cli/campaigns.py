"""``gcrm campaign audience|save|export|list``: geo campaigns for marketers."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from geo.campaigns.audience import audience, filter_choices
from geo.campaigns.filters import Filters, match_filters, parse_filters
from geo.campaigns.storage import (
    campaign_contacts,
    campaign_members,
    list_campaigns,
    members_geojson,
    save_campaign,
)
from geo.campaigns.target import Part, circle_text_part, market_part, polygon_part, regions_text_part
from geo.choices import state_spellings
from geo.cli.command import check_format, with_app_database
from geo.config import cli_user
from geo.errors import CampaignError
from geo.places.shapes import MAX_GEOJSON_BYTES, target_geometry
from geo.privacy.exports import csv_text, record_export
from geo.store.boundaries import load_regions
from geo.store.db import Database
from geo.store.region_facts import read_facts

campaign_app = typer.Typer(help="Geo campaigns: audiences, saved campaigns, exports.", no_args_is_help=True)
CircleOption = Annotated[str | None, typer.Option("--circle", help="LAT,LON,KM: a circle on the ground.")]
GeojsonOption = Annotated[Path | None, typer.Option("--geojson", help="A GeoJSON file of polygons.")]
RegionsOption = Annotated[
    str | None,
    typer.Option("--regions", help="LEVEL:CODE[,CODE…], e.g. county:17031 or state:IL,Wisconsin."),
]
CountiesWhereOption = Annotated[
    list[str] | None,
    typer.Option(
        "--counties-where",
        help="FACT>=VALUE on the counties' market (repeatable, all hold; e.g. median_household_income>=75000,"
        " metro=1; `gcrm regions facts list` names the facts); narrows the other parts, or is the target.",
    ),
]
WhereOption = Annotated[
    list[str] | None, typer.Option("--where", help="FIELD=VALUE filter (repeatable; values in any case).")
]
FormatOption = Annotated[str, typer.Option("--format", help="csv or geojson.")]
MEMBER_COLUMNS = ["external_id", "name", "status", "segment", "industry", "state_fips", "county_fips", "zip"]


def target_parts(
    circle: str | None,
    geojson: Path | None,
    regions: str | None,
    *,
    states: dict[str, str] | None = None,
    market: Part | None = None,
) -> list[Part]:
    """Read the target options of the campaign commands (all given parts are united).

    Parameters
    ----------
    circle
        ``LAT,LON,KM``.
    geojson
        A file of polygons.
    regions
        ``LEVEL:CODE[,CODE…]``.
    states
        Spelling → FIPS code (:func:`geo.choices.state_spellings`), so ``state:`` takes postal
        codes and names too; None accepts FIPS codes only.
    market
        Counties by their market (:func:`geo.campaigns.target.market_part`): intersected with
        the other parts, or the whole target without them.

    Returns
    -------
    list of Part
        The target.
    """
    parts = []
    if circle:
        parts.append(circle_text_part(circle))
    if geojson:
        try:
            if geojson.stat().st_size > MAX_GEOJSON_BYTES:
                msg = f"{geojson} is larger than {MAX_GEOJSON_BYTES:,} bytes; simplify the shape."
                raise CampaignError(msg)
            text = geojson.read_text(encoding="utf-8")
        except OSError as exc:
            msg = f"Cannot read {geojson}: {exc.strerror}."
            raise CampaignError(msg) from exc
        parts.append(polygon_part(target_geometry(text)))
    if regions:
        parts.append(regions_text_part(regions, states=states))
    if market is not None:
        parts.append(replace(market, operation="intersection") if parts else market)
    if not parts:
        msg = "Give a target: --circle, --geojson, --regions or --counties-where."
        raise CampaignError(msg)
    return parts


def _audience_definition(
    db: Database,
    circle: str | None,
    geojson: Path | None,
    regions: str | None,
    where: list[str] | None,
    counties_where: list[str] | None,
) -> tuple[list[Part], Filters]:
    """The target and the filters of a campaign command, typed values matched against the book."""
    filters = parse_filters(where or [])
    by_state = (regions or "").partition(":")[0].strip() == "state"
    states = state_spellings(load_regions(db, "state", user=cli_user())) if by_state else None
    market = (
        market_part(read_facts(db, "county", user=cli_user()), counties_where) if counties_where else None
    )
    parts = target_parts(circle, geojson, regions, states=states, market=market)
    return parts, match_filters(filters, filter_choices(db, user=cli_user()))


def _write_members(members: pd.DataFrame, output_format: str) -> None:
    if output_format == "csv":
        sys.stdout.write(csv_text(members[MEMBER_COLUMNS]))
        return
    sys.stdout.write(members_geojson(members) + "\n")


@campaign_app.command("audience")
def audience_command(
    circle: CircleOption = None,
    geojson: GeojsonOption = None,
    regions: RegionsOption = None,
    counties_where: CountiesWhereOption = None,
    where: WhereOption = None,
    count: Annotated[bool, typer.Option("--count", help="Print the waterfall as stage,count lines.")] = False,
    output_format: FormatOption = "csv",
) -> None:
    """Print the audience (members who may be contacted), or with --count its waterfall."""
    check_format(output_format)

    def run(db: Database) -> tuple[pd.DataFrame, pd.DataFrame]:
        parts, filters = _audience_definition(db, circle, geojson, regions, where, counties_where)
        counts, members = audience(db, parts, filters, user=cli_user())
        if not count:
            record_export(
                db, "audience", "audience", rows=len(members), output_format=output_format, user=cli_user()
            )
        return counts, members

    counts, members = with_app_database(run)
    if count:
        sys.stdout.write(csv_text(counts[["stage", "count"]]))
    else:
        _write_members(members, output_format)


@campaign_app.command("save")
def save_command(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    circle: CircleOption = None,
    geojson: GeojsonOption = None,
    regions: RegionsOption = None,
    counties_where: CountiesWhereOption = None,
    where: WhereOption = None,
    cost: Annotated[float, typer.Option("--cost-per-member", min=0.0, help="For ROI.")] = 0.0,
) -> None:
    """Save a campaign with a snapshot of its audience."""

    def run(db: Database) -> tuple[int, int]:
        parts, filters = _audience_definition(db, circle, geojson, regions, where, counties_where)
        return save_campaign(db, name, parts, filters, user=cli_user(), cost_per_member=cost)

    campaign, members = with_app_database(run)
    typer.echo(f"saved campaign {campaign} {name!r} with {members} member(s)")


@campaign_app.command("export")
def export_command(
    name: Annotated[str, typer.Argument(help="Campaign name.")],
    output_format: FormatOption = "csv",
    contacts: Annotated[
        bool, typer.Option("--contacts", help="The members' consented contacts (CSV) instead of accounts.")
    ] = False,
) -> None:
    """Print the members of a saved campaign who may be contacted now (consent, not suppressed)."""
    check_format(output_format, ("csv",) if contacts else ("csv", "geojson"))

    def run(db: Database) -> pd.DataFrame:
        found = (campaign_contacts if contacts else campaign_members)(db, name, user=cli_user())
        kind = "campaign_contacts" if contacts else "campaign_members"
        record_export(db, kind, name, rows=len(found), output_format=output_format, user=cli_user())
        return found

    found = with_app_database(run)
    if contacts:
        sys.stdout.write(csv_text(found))
    else:
        _write_members(found, output_format)


@campaign_app.command("list")
def list_command() -> None:
    """List saved campaigns with members, responses and conversions."""
    table = with_app_database(lambda db: list_campaigns(db, user=cli_user()))
    sys.stdout.write(csv_text(table))
