"""Flatten event properties into ``Map(String, String)`` form with dot keys (compat §2.4 toDots).

``{"a": {"b": [1, true]}}`` becomes ``{"a.b.0": "1", "a.b.1": "true"}``. Values are stringified
the way JavaScript would print them, nulls and empty strings are dropped, strings holding a
JSON object are expanded in place, and lone UTF-16 surrogates (which cannot be stored as UTF-8)
are removed. Nesting deeper than MAX_DEPTH is kept as one JSON string instead of recursing.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

__all__ = ["MAX_DEPTH", "flatten_properties", "js_number", "strip_surrogates"]

MAX_DEPTH = 16

_SURROGATE = re.compile("[\ud800-\udfff]")


def flatten_properties(value: Mapping[str, Any]) -> dict[str, str]:
    """Flatten ``value`` to {dotted.key: string}; never raises on JSON-like input."""
    out: dict[str, str] = {}
    _flatten_mapping(value, "", 0, out)
    return out


def strip_surrogates(text: str) -> str:
    """Join valid surrogate pairs and drop lone surrogates so ``text`` encodes as UTF-8."""
    if not _SURROGATE.search(text):
        return text
    # UTF-16 round trip: paired halves become one code point, unpaired ones are discarded.
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")


def js_number(number: int | float) -> str:
    """Format a number like JavaScript's ``String(n)``: 1.0 → "1", 1e21 → "1e+21"."""
    if isinstance(number, int):
        # Integers stay exact (JavaScript would round past 2**53); absurdly long ones overflow.
        try:
            return str(number)
        except ValueError:
            return "Infinity" if number > 0 else "-Infinity"
    value = float(number)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "0"
    sign = "-" if value < 0 else ""
    # repr gives the shortest round-tripping digits, the same digits JavaScript chooses.
    digits_tuple = Decimal(repr(abs(value))).normalize().as_tuple()
    digits = "".join(map(str, digits_tuple.digits))
    exponent = int(digits_tuple.exponent)
    k = len(digits)
    n = k + exponent  # position of the decimal point relative to the first digit
    if k <= n <= 21:
        body = digits + "0" * (n - k)
    elif 0 < n <= 21:
        body = f"{digits[:n]}.{digits[n:]}"
    elif -6 < n <= 0:
        body = "0." + "0" * (-n) + digits
    else:
        mantissa = digits[0] + (f".{digits[1:]}" if k > 1 else "")
        power = n - 1
        body = f"{mantissa}e{'+' if power >= 0 else '-'}{abs(power)}"
    return sign + body


def _flatten_mapping(
    value: Mapping[Any, Any], prefix: str, depth: int, out: dict[str, str]
) -> None:
    for key, item in value.items():
        _flatten_value(item, prefix + strip_surrogates(str(key)), depth, out)


def _flatten_value(item: Any, key: str, depth: int, out: dict[str, str]) -> None:
    if item is None:
        return
    if isinstance(item, str):
        if item[:1] == "{" or item.lstrip()[:1] == "{":
            parsed = _json_object(item)
            if parsed is not None:
                _nested(parsed, key, depth, out)
                return
        text = strip_surrogates(item)
        if text:
            out[key] = text
        return
    if isinstance(item, bool):
        out[key] = "true" if item else "false"
        return
    if isinstance(item, int | float):
        out[key] = js_number(item)
        return
    if isinstance(item, Mapping | list | tuple):
        _nested(item, key, depth, out)
        return
    text = strip_surrogates(str(item))
    if text:
        out[key] = text


def _nested(
    item: Mapping[Any, Any] | list[Any] | tuple[Any, ...], key: str, depth: int, out: dict[str, str]
) -> None:
    """Recurse one level into a container, or store it as JSON once MAX_DEPTH is reached."""
    if depth >= MAX_DEPTH:
        text = _to_json(item)
        if text:
            out[key] = text
        return
    if isinstance(item, Mapping):
        _flatten_mapping(item, key + ".", depth + 1, out)
    else:
        for index, element in enumerate(item):
            _flatten_value(element, f"{key}.{index}", depth + 1, out)


def _json_object(text: str) -> dict[str, Any] | None:
    """Parse ``text`` when it is a JSON object; None for anything else."""
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return parsed if isinstance(parsed, dict) else None


def _to_json(item: Any) -> str:
    """Compact JSON like ``JSON.stringify``; "" when the value cannot be serialised."""
    try:
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=str)
    except (ValueError, TypeError, RecursionError):
        return ""
    return strip_surrogates(text)
