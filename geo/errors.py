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


class AccountNotFound(GcrmError):
    """An account named by the user does not exist (or cannot be merged)."""


class NearbyError(GcrmError, ValueError):
    """A nearby search or a visit cannot be done as asked, and why."""


class InvalidGeometry(GcrmError, ValueError):
    """A drawn or uploaded geometry cannot be used, and why."""


class MappingError(GcrmError, ValueError):
    """A column mapping names an unknown field or column, or misses a required field."""


class UnreadableFile(GcrmError):
    """The file cannot be read at all (unknown format, no header, corrupt, over the size cap)."""


class ErasureError(GcrmError):
    """The account or contact to erase does not exist."""


class ExportError(GcrmError):
    """An export cannot be made as asked."""


class CubeQueryError(GcrmError, ValueError):
    """A cube query names an unknown dimension, measure, filter or period."""


class CampaignError(GcrmError, ValueError):
    """A campaign target, filter or name cannot be used, and why."""


class AlignmentError(GcrmError, ValueError):
    """The alignment cannot be built as asked (too few units, bad locks, bad home bases)."""


class TerritoryError(GcrmError, ValueError):
    """A territory change breaks a rule (locked unit or territory, unknown unit or territory)."""


class EstimateError(GcrmError, ValueError):
    """Small-area estimates cannot be made as asked (a figure that is no count, a bad H3 resolution)."""


class RoadNetworkError(GcrmError, ValueError):
    """The road network cannot be imported or used as asked (no pgRouting, a bad extract or speed file)."""
