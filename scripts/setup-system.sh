#!/usr/bin/env bash
# Install the system packages gcrm needs, only when they are missing.
#   PostgreSQL + PostGIS + pgRouting (server binaries and extensions for the embedded cluster)
#   with --browser: Chromium + ChromeDriver (headless browser tests)
#   with --benchmark: Chromium's headless shell too (benchmarks/concurrent_users.py --browser)
# As root on Debian/Ubuntu this runs apt-get; otherwise it prints what to install and stops.
set -euo pipefail

want_browser=0
want_benchmark=0
for flag in "$@"; do
    case "$flag" in
        --browser) want_browser=1 ;;
        --benchmark) want_benchmark=1 ;;
        *) echo "setup-system.sh: unknown flag $flag (valid: --browser, --benchmark)" >&2; exit 2 ;;
    esac
done

pg_major() {
    ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1
}

missing=()
major=$(pg_major)
if [ -z "$major" ] || [ ! -x "/usr/lib/postgresql/$major/bin/initdb" ]; then
    missing+=(postgresql)
else
    [ -f "/usr/share/postgresql/$major/extension/postgis.control" ] || missing+=("postgresql-$major-postgis-3")
    [ -f "/usr/share/postgresql/$major/extension/pgrouting.control" ] || missing+=("postgresql-$major-pgrouting")
fi
if [ "$want_browser" = 1 ] && { ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; }; then
    missing+=(chromium chromium-driver)
fi
if [ "$want_benchmark" = 1 ] && ! command -v chromium-headless-shell >/dev/null; then
    missing+=(chromium-headless-shell)
fi

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "gcrm needs these system packages, which are missing: ${missing[*]}" >&2
    echo "Install them (Debian/Ubuntu): sudo apt-get update && sudo apt-get install -y ${missing[*]} postgresql-<major>-postgis-3 postgresql-<major>-pgrouting" >&2
    echo "where <major> is the PostgreSQL major version the server package installs (ls /usr/lib/postgresql)." >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "Installing system packages: ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
major=$(pg_major)
extensions=()
[ -f "/usr/share/postgresql/$major/extension/postgis.control" ] || extensions+=("postgresql-$major-postgis-3")
[ -f "/usr/share/postgresql/$major/extension/pgrouting.control" ] || extensions+=("postgresql-$major-pgrouting")
if [ ${#extensions[@]} -gt 0 ]; then
    echo "Installing for PostgreSQL $major: ${extensions[*]}"
    apt-get install -y -qq --no-install-recommends "${extensions[@]}" >/dev/null
fi
