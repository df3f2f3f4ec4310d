#!/usr/bin/env bash
# Install the system packages gcrm needs, only when they are missing.
#   PostgreSQL + PostGIS (server binaries for the embedded cluster)
#   with --browser: Chromium + ChromeDriver (headless browser tests)
# As root on Debian/Ubuntu this runs apt-get; otherwise it prints what to install and stops.
set -euo pipefail

want_browser=0
[ "${1:-}" = "--browser" ] && want_browser=1

pg_major() {
    ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1
}

missing=()
major=$(pg_major)
if [ -z "$major" ] || [ ! -x "/usr/lib/postgresql/$major/bin/initdb" ]; then
    missing+=(postgresql)
elif [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    missing+=("postgresql-$major-postgis-3")
fi
if [ "$want_browser" = 1 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
    missing+=(chromium chromium-driver)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "gcrm needs these system packages, which are missing: ${missing[*]}" >&2
    echo "Install them (Debian/Ubuntu): sudo apt-get update && sudo apt-get install -y ${missing[*]} postgresql-<major>-postgis-3" >&2
    echo "where <major> is the PostgreSQL major version the server package installs (ls /usr/lib/postgresql)." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "Installing system packages: ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
major=$(pg_major)
if [ ! -f "/usr/share/postgresql/$major/extension/postgis.control" ]; then
    echo "Installing PostGIS for PostgreSQL $major"
    apt-get install -y -qq --no-install-recommends "postgresql-$major-postgis-3" >/dev/null
fi
