#!/bin/sh
# Container entrypoint of the appliance image (packaging/Dockerfile); tests run it directly.
#   (no arguments)         -> openpanel serve            (the server; env OPENPANEL_* configures it)
#   --port 4000 ...        -> openpanel serve --port 4000 ...
#   project create "Site"  -> openpanel project create "Site"   (any other openpanel command)
# `exec` makes the server the container's main process, so `docker stop` (SIGTERM) reaches it
# directly: it stops intake, drains the spool into chDB and exits 0.
set -eu

OPENPANEL_BIN="${OPENPANEL_BIN:-openpanel}"
export OPENPANEL_DATA_DIR="${OPENPANEL_DATA_DIR:-/data}"

# The image's GeoIP file may be absent (built with GEOIP=none): run without geo, not fail.
if [ -n "${OPENPANEL_GEOIP_DB:-}" ] && [ ! -f "$OPENPANEL_GEOIP_DB" ]; then
    echo "openpanel: no GeoIP database at $OPENPANEL_GEOIP_DB; countries and cities stay empty" >&2
    unset OPENPANEL_GEOIP_DB
fi

if ! mkdir -p "$OPENPANEL_DATA_DIR" 2>/dev/null || [ ! -w "$OPENPANEL_DATA_DIR" ]; then
    echo "openpanel: the data directory $OPENPANEL_DATA_DIR is not writable by uid $(id -u)." >&2
    echo "  Mount a volume there (docker run -v openpanel:/data ...) or chown it to $(id -u)." >&2
    exit 70
fi

if [ "$#" -eq 0 ]; then
    set -- serve
elif [ "${1#-}" != "$1" ]; then
    set -- serve "$@"
fi
exec "$OPENPANEL_BIN" "$@"
