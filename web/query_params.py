"""OpenPanel's query-string conventions: JSON-encoded arrays/objects, numbers and booleans are
pre-parsed (openpanel-compat.md §1.8); helpers that turn them into checked values."""

from __future__ import annotations

import json
import re
from typing import Any

from embedded_db.errors import ValidationError

_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


def coerce(value: str) -> Any:
    """'5' → 5, 'true' → True, '[…]'/'{…}' → parsed JSON; anything else unchanged."""
    text = value.strip()
    if text in ("true", "false"):
        return text == "true"
    if _NUMBER.match(text) and len(text) < 16:
        return float(text) if "." in text else int(text)
    if text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            return value
    return value


def list_param(value: Any) -> list[Any]:
    """A list from a JSON array, a comma list or a single value."""
    if value in (None, ""):
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def int_param(value: Any, name: str, *, default: int, low: int, high: int) -> int:
    if value in (None, ""):
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(name, "must be a number")
    number = int(value)
    if not low <= number <= high:
        raise ValidationError(name, f"must be between {low} and {high}")
    return number
