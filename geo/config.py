"""Settings read from the environment; nothing else in gcrm reads ``os.environ``.

Settings
--------
DATABASE_URL
    Owner connection URL of an existing PostGIS server. When unset, gcrm runs
    its own private cluster under the state directory.
GCRM_HOME
    State directory (embedded cluster, credentials). Default: ``.gcrm/`` in
    the project.
GCRM_APP_PASSWORD
    Password for the app role on an external server. Default: generated once
    and kept in the state directory.
GCRM_DATA_DIR
    Directory of the shipped boundary and gazetteer files. Default: ``data/``
    in the project.
GCRM_GEOCODER_URL
    Base URL of an optional self-hosted street geocoder (Nominatim or Photon),
    e.g. ``http://localhost:8080``. Unset: geocoding stays fully offline.
GCRM_GEOCODER
    ``nominatim`` (default) or ``photon``.
GCRM_GEOCODER_MIN_DELAY
    Seconds between two requests to that geocoder (default 1.0).
GCRM_DASK_SCHEDULER
    Address of a Dask scheduler (``tcp://host:8786``): cube queries aggregate there.
GCRM_EXPORT_MIN_CELL
    Smallest number of accounts a region or H3 cell of a shared location export may
    hold; smaller cells are left out (default 10).
GCRM_TODAY
    A date (``YYYY-MM-DD``) the process takes as today instead of the machine's (see
    :mod:`geo.clock`): a demo frozen on a day, or the app a test serves. Unset: the
    machine's date.
GCRM_SESSION_IDLE_HOURS
    Hours without any action after which a signed-in session ends (default 8).
GCRM_SESSION_LIFETIME_DAYS
    Days after signing in at which a session ends however active it is (default 7).
GCRM_MAX_UPLOAD_MB
    Largest file ``gcrm import`` and the Data page read, in megabytes (default 200);
    larger files are refused before they are read. Streamlit's own upload limit
    (``server.maxUploadSize``, also 200 MB by default) must be raised with it.
GCRM_TILE_URL
    A raster tile server to draw under every map instead of the offline basemap, as a
    ``{z}/{x}/{y}`` URL template (``https://tiles.example.org/{z}/{x}/{y}.png``, self-hosted
    or online). Unset: the app's own vector basemap (``data/basemap.pmtiles``), offline.
GCRM_TILE_ATTRIBUTION
    The attribution that tile server asks for (HTML), shown in the map's corner.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from geo.errors import SettingError

PROJECT_DIR = Path(__file__).resolve().parent.parent
APP_ROLE = "gcrm_app"
"""Login role the app connects as: owns nothing, cannot bypass row-level security."""
DEFAULT_DEMO_SEED = 42
DEFAULT_SESSION_IDLE_HOURS = 8.0
DEFAULT_SESSION_LIFETIME_DAYS = 7.0
DEFAULT_MAX_UPLOAD_MB = 200.0
"""Default of ``GCRM_MAX_UPLOAD_MB``."""


@dataclass(frozen=True)
class Settings:
    """Resolved settings of one process.

    Attributes
    ----------
    database_url
        Owner URL of an external server, or None for the embedded cluster.
    home
        State directory.
    data_dir
        Shipped data directory.
    app_password
        Explicit app-role password, or None to use the generated one.
    geocoder_url
        Base URL of the optional street geocoder, or None.
    geocoder
        Its flavour: ``nominatim`` or ``photon``.
    geocoder_min_delay
        Seconds between requests to it.
    dask_scheduler
        Dask scheduler address for cube queries, or None to compute in this process.
    export_min_cell
        k of the k-anonymous location exports.
    session_idle_hours
        Idle timeout of a signed-in session.
    session_lifetime_days
        Absolute lifetime of a signed-in session.
    max_upload_mb
        Largest file an import reads, in megabytes.
    tile_url
        A raster tile server's URL template, or None for the offline basemap.
    tile_attribution
        Its attribution.
    """

    database_url: str | None
    home: Path
    data_dir: Path
    app_password: str | None
    geocoder_url: str | None = None
    geocoder: str = "nominatim"
    geocoder_min_delay: float = 1.0
    dask_scheduler: str | None = None
    export_min_cell: int = 10
    session_idle_hours: float = DEFAULT_SESSION_IDLE_HOURS
    session_lifetime_days: float = DEFAULT_SESSION_LIFETIME_DAYS
    max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB
    tile_url: str | None = None
    tile_attribution: str = ""


def load_settings() -> Settings:
    """Read the settings from the environment.

    Returns
    -------
    Settings
        The settings in force now.
    """
    env = os.environ
    return Settings(
        database_url=env.get("DATABASE_URL") or None,
        home=Path(env.get("GCRM_HOME") or PROJECT_DIR / ".gcrm").resolve(),
        data_dir=Path(env.get("GCRM_DATA_DIR") or PROJECT_DIR / "data").resolve(),
        app_password=env.get("GCRM_APP_PASSWORD") or None,
        geocoder_url=env.get("GCRM_GEOCODER_URL") or None,
        geocoder=env.get("GCRM_GEOCODER") or "nominatim",
        geocoder_min_delay=float(env.get("GCRM_GEOCODER_MIN_DELAY") or 1.0),
        dask_scheduler=env.get("GCRM_DASK_SCHEDULER") or None,
        export_min_cell=int(env.get("GCRM_EXPORT_MIN_CELL") or 10),
        session_idle_hours=float(env.get("GCRM_SESSION_IDLE_HOURS") or DEFAULT_SESSION_IDLE_HOURS),
        session_lifetime_days=float(env.get("GCRM_SESSION_LIFETIME_DAYS") or DEFAULT_SESSION_LIFETIME_DAYS),
        max_upload_mb=float(env.get("GCRM_MAX_UPLOAD_MB") or DEFAULT_MAX_UPLOAD_MB),
        tile_url=_tile_url(env.get("GCRM_TILE_URL")),
        tile_attribution=env.get("GCRM_TILE_ATTRIBUTION") or "",
    )


def _tile_url(text: str | None) -> str | None:
    """``GCRM_TILE_URL`` when it is a tile template, None when unset."""
    if not text:
        return None
    if not all(part in text for part in ("{z}", "{x}", "{y}")):
        msg = f"GCRM_TILE_URL must hold {{z}}, {{x}} and {{y}} (a tile URL template), not {text!r}."
        raise SettingError(msg)
    return text


def pinned_today() -> date | None:
    """Read ``GCRM_TODAY``, the date a process takes as today (see :mod:`geo.clock`).

    Returns
    -------
    date or None
        The pinned date, or None when the clock follows the machine.

    Raises
    ------
    SettingError
        When the setting is not a ``YYYY-MM-DD`` date.
    """
    text = os.environ.get("GCRM_TODAY", "").strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        msg = f"GCRM_TODAY={text!r} is not a date (YYYY-MM-DD)."
        raise SettingError(msg) from None


def cli_user() -> str:
    """Name the person running a ``gcrm`` command, for batches and the audit log.

    Returns
    -------
    str
        ``cli:<login name>``.
    """
    try:
        login = getpass.getuser()
    except (KeyError, OSError):
        login = "unknown"
    return f"cli:{login}"
