"""The ``gcrm`` command line: the root app, assembled from every command group in one place.

Every command that needs the database brings it up first (embedded cluster when
``DATABASE_URL`` is unset, pending migrations, shipped boundaries), so a new user can start
with any command. The groups live in ``geo/cli/`` and ``territories/cli.py``; this module sits
above both because nothing in ``geo/`` may import ``territories/``.
"""

from __future__ import annotations

import typer

from geo.cli.accounts import accounts_app
from geo.cli.campaigns import campaign_app
from geo.cli.cube import cube_command
from geo.cli.database import db_app, migrate_command
from geo.cli.demo import demo_command
from geo.cli.duplicates import duplicates_app
from geo.cli.field import nearest_command
from geo.cli.ingest import geocode_command, import_command
from geo.cli.privacy import erase_command, export_app, suppress_command
from geo.cli.regions import facts_app, regions_app
from geo.cli.roads import roads_app, route_command, tradeareas_app
from geo.cli.users import users_app
from territories.cli import territories_app

DATA = "Set up and bring data in"
FIELD = "Sales, territories and the field"
MARKETING = "Campaigns"
PRIVACY = "Users, privacy and exports"
"""Help panels: ``gcrm --help`` lists the commands by job."""

app = typer.Typer(help="gcrm: a self-hostable geographic CRM.", no_args_is_help=True)
app.add_typer(db_app, name="db", rich_help_panel=DATA)
app.command("migrate", rich_help_panel=DATA)(migrate_command)
app.command("demo", rich_help_panel=DATA)(demo_command)
app.command("import", rich_help_panel=DATA)(import_command)
app.command("geocode", rich_help_panel=DATA)(geocode_command)
app.add_typer(accounts_app, name="accounts", rich_help_panel=DATA)
app.add_typer(duplicates_app, name="duplicates", rich_help_panel=DATA)
regions_app.add_typer(facts_app, name="facts", no_args_is_help=True)
app.add_typer(regions_app, name="regions", rich_help_panel=DATA)
app.add_typer(roads_app, name="roads", rich_help_panel=DATA)
app.command("cube", rich_help_panel=FIELD)(cube_command)
app.command("nearest", rich_help_panel=FIELD)(nearest_command)
app.command("route", rich_help_panel=FIELD)(route_command)
app.add_typer(tradeareas_app, name="tradeareas", rich_help_panel=FIELD)
app.add_typer(territories_app, name="territories", rich_help_panel=FIELD)
app.add_typer(campaign_app, name="campaign", rich_help_panel=MARKETING)
app.add_typer(users_app, name="users", rich_help_panel=PRIVACY)
app.command("erase", rich_help_panel=PRIVACY)(erase_command)
app.command("suppress", rich_help_panel=PRIVACY)(suppress_command)
app.add_typer(export_app, name="export", rich_help_panel=PRIVACY)

if __name__ == "__main__":
    app(prog_name="gcrm")
