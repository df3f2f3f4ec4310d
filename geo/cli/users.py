"""``gcrm users add|list|disable|enable``: who may sign in to the app, with which role."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from geo.cli.command import with_connections
from geo.config import cli_user
from geo.privacy.exports import csv_text
from geo.store.users import ROLES, add_user, list_users, set_disabled

users_app = typer.Typer(help="Users of the app and their roles.", no_args_is_help=True)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name.")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")],
    rep: Annotated[str | None, typer.Option("--rep", help="Rep external id (role rep).")] = None,
    territory: Annotated[
        str | None, typer.Option("--territory", help="Region or district code (role manager).")
    ] = None,
    email: Annotated[
        str | None, typer.Option("--email", help="E-mail the identity provider reports.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="Full name.")] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="Sign in only through the identity provider.")
    ] = False,
) -> None:
    """Add a user; the password is prompted for (hidden) unless given on stdin."""
    if no_password:
        password = None
    elif password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with_connections(
        lambda connections: add_user(
            connections.owner,
            username,
            role=role,
            password=password,
            actor=cli_user(),
            rep=rep,
            territory=territory,
            email=email,
            display_name=name,
        )
    )
    typer.echo(f"added {username} ({role})")


@users_app.command("list")
def users_list() -> None:
    """List the users as CSV: name, role, rep, territory, disabled, last sign-in."""
    users = with_connections(lambda connections: list_users(connections.owner, user=cli_user()))
    typer.echo(csv_text(users), nl=False)


def _set_disabled(username: str, *, disabled: bool) -> None:
    with_connections(
        lambda connections: set_disabled(connections.owner, username, disabled=disabled, actor=cli_user())
    )
    typer.echo(f"{'disabled' if disabled else 'enabled'} {username}")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Disable a user: they can no longer sign in, and their sessions see nothing."""
    _set_disabled(username, disabled=True)


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(help="The user.")]) -> None:
    """Enable a disabled user again."""
    _set_disabled(username, disabled=False)
