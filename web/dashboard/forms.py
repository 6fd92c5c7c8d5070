"""Reading the dashboard's HTML forms: field text, a site's origin from what a person types as
its domain, CORS lists, timezones. Bad input raises ValidationError naming the field, which the
page shows next to it."""

from __future__ import annotations

import functools
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from litestar import Request

from embedded_db.errors import ValidationError
from embedded_db.timeframe import zone

_HOST = re.compile(r"^[a-z0-9*]([a-z0-9*.-]{0,251}[a-z0-9*])?(:\d{1,5})?$")


@dataclass
class FormState:
    """The values a form was submitted with and the error of each bad field."""

    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    def fail(self, exc: ValidationError) -> FormState:
        self.errors[exc.field.split(".")[0] or "form"] = exc.message
        return self


async def form_of(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The submitted form as text fields (the first value of each; files are ignored)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "_csrf"}


def text(form: dict[str, str], name: str, limit: int = 200, required: bool = True) -> str:
    """A trimmed text field; ValidationError(name) when required and empty, or too long."""
    value = form.get(name, "").strip()
    if required and not value:
        raise ValidationError(name, "this field is required")
    if len(value) > limit:
        raise ValidationError(name, f"at most {limit} characters")
    return value


def origin_of(domain: str, name: str = "domain") -> str:
    """The origin (`https://host[:port]`) of a site from what a person typed: a bare host
    (`example.com`, https assumed), an origin or a full URL."""
    value = domain.strip()
    if not value:
        raise ValidationError(name, "enter your site's domain, e.g. example.com")
    if "://" not in value:
        value = "https://" + value
    parts = urlsplit(value)
    host = parts.netloc.lower()
    if parts.scheme not in ("http", "https") or not _HOST.match(host) or "*" in host:
        raise ValidationError(name, f"{domain.strip()[:80]!r} is not a domain or URL")
    return f"{parts.scheme}://{host}"


def origins_of(text_value: str, name: str = "cors") -> list[str]:
    """A CORS list, one entry per line or comma: origins as `origin_of`, `*` wildcards kept."""
    out: list[str] = []
    for entry in re.split(r"[\s,]+", text_value.strip()):
        if not entry:
            continue
        if entry == "*":
            out.append(entry)
            continue
        scheme, sep, rest = entry.partition("://")
        host = (rest if sep else scheme).rstrip("/").lower()
        if not _HOST.match(host):
            raise ValidationError(name, f"{entry[:80]!r} is not an origin")
        out.append(f"{scheme}://{host}" if sep else host)
    if len(out) > 50:
        raise ValidationError(name, "at most 50 origins")
    return list(dict.fromkeys(out))


def timezone_of(name: str) -> str:
    """A valid IANA timezone name; ValidationError("timezone") otherwise."""
    value = name.strip() or "UTC"
    zone(value)
    return value


@functools.cache
def timezones() -> list[str]:
    """Every IANA timezone name, for the timezone pickers."""
    return sorted(n for n in zoneinfo.available_timezones() if "/" in n or n == "UTC")
