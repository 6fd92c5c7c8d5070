#!/bin/sh
# Install the appliance into a fresh virtual environment, exactly as the Docker image does
# (packaging/Dockerfile runs this; tests/packaging/test_install.py runs it directly).
#   packaging/install.sh TARGET_VENV [SOURCE_DIR] [EXTRAS]
#   e.g. packaging/install.sh /opt/openpanel /src            -> the server
#        packaging/install.sh ~/op-desktop . desktop         -> with the desktop window (Qt)
# Versions are pinned by SOURCE_DIR/constraints.txt. Set PIP_NO_CACHE_DIR=1 for a lean image.
set -eu

target="${1:?usage: install.sh TARGET_VENV [SOURCE_DIR] [EXTRAS]}"
src="${2:-$(cd "$(dirname "$0")/.." && pwd)}"
extras="${3:-}"
python="${PYTHON:-python3}"

"$python" -m venv "$target"
pip="$target/bin/python -m pip --disable-pip-version-check --quiet"
requirement="$src"
if [ -n "$extras" ]; then
    requirement="$src[$extras]"
fi
# A regular (not editable) install: the venv must not depend on the source tree afterwards.
$pip install --constraint "$src/constraints.txt" "$requirement"
# (pip byte-compiles while installing: the image runs as a user who cannot write to the venv.)
"$target/bin/openpanel" --version
