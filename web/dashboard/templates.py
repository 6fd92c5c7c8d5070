"""The Jinja2 environment of the dashboard: autoescaped templates from web/templates, strict
about undefined names, with the number, duration and change filters the pages use."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from web.dashboard.assets import asset_version

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def number(value: Any, digits: int = 0) -> str:
    """12345.6 → '12,346' (or with `digits` decimals)."""
    try:
        return f"{float(value):,.{digits}f}"
    except (TypeError, ValueError):
        return "–"


def duration(seconds: Any) -> str:
    """Seconds as '45s', '3m 05s' or '2h 10m'."""
    try:
        total = int(round(float(seconds)))
    except (TypeError, ValueError):
        return "–"
    if total < 60:
        return f"{total}s"
    if total < 3600:
        return f"{total // 60}m {total % 60:02d}s"
    return f"{total // 3600}h {total % 3600 // 60:02d}m"


def money(minor_units: Any) -> str:
    """Revenue kept in minor units (cents) as '1,234.56'."""
    try:
        return f"{float(minor_units) / 100:,.2f}"
    except (TypeError, ValueError):
        return "–"


def signed_percent(diff: Any) -> str:
    """A change in percent as '+12.5%' / '−3%'; '–' when there is no base to compare with."""
    if diff is None:
        return "–"
    value = float(diff)
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    return f"{sign}{abs(value):,.1f}%".replace(".0%", "%")


def when(value: Any) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM' (UTC), for tables."""
    try:
        return datetime.fromisoformat(str(value)).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return str(value)


def environment(directory: Path = TEMPLATES) -> Environment:
    """The dashboard's Jinja environment (autoescaping every template, undefined is an error)."""
    env = Environment(
        loader=FileSystemLoader(directory),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset_version"] = asset_version()
    env.filters.update(
        number=number, duration=duration, money=money, signed_percent=signed_percent, when=when
    )
    return env


def template_config() -> TemplateConfig[JinjaTemplateEngine]:
    """Litestar's template configuration for the dashboard pages."""
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(environment()))
