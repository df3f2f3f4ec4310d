"""Exceptions raised by gcrm's core, each with a message a user can act on."""


class GcrmError(Exception):
    """Base class of every error gcrm reports to a user."""


class ServerError(GcrmError):
    """The embedded PostgreSQL cluster could not be set up, started or stopped."""


class DatabaseUnavailable(GcrmError):
    """The database cannot be reached."""


class MigrationError(GcrmError):
    """A schema migration failed or the server lacks what it needs (PostGIS)."""


class DataFileError(GcrmError):
    """A shipped data file is missing or malformed."""


class AccessDenied(GcrmError):
    """The acting user's role may not do what was asked."""


class UnsafeAppRole(GcrmError):
    """The app's database role could see past row-level security; gcrm refuses to start."""


class UserError(GcrmError):
    """A user account cannot be created or changed as asked."""


class SettingError(GcrmError):
    """A setting in the environment has a value gcrm cannot use."""


class SignInThrottled(GcrmError):
    """Too many failed sign-ins for one user name: further attempts wait."""


class InvalidChoice(GcrmError, ValueError):
    """A typed filter names an unknown field or a value the book lacks; the message lists the valid ones."""
