"""Filters (openpanel-compat.md §4.5) validated and compiled to SQL with bound values.

A filter is `{name, operator, value: [...]}`. Names come from a registry of event columns,
`properties.<key>` (a `*`/`%` in the key matches any key), `profile.properties.<key>` and
`profile.<column>` (resolved through the profiles table), `utm_*` (the page URL's query) and
`has_profile`. Values of one filter are OR-ed; filters are AND-ed. Nothing from a request is
ever spliced into SQL: names map to fixed expressions and values become parameters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import re2

from embedded_db.errors import ValidationError
from embedded_db.sql import array_literal, profile_condition

# What people did: every event but the pipeline's synthetic visit start and end. Reports that
# count activity (retention, profiles, groups, live visitors, top events) leave those out.
NOT_SYNTHETIC = "name NOT IN ('session_start', 'session_end')"

OPERATORS = (
    "is",
    "isNot",
    "contains",
    "doesNotContain",
    "startsWith",
    "endsWith",
    "regex",
    "isNull",
    "isNotNull",
    "gt",
    "lt",
    "gte",
    "lte",
)

# Event columns a filter may name; non-string columns are compared through toString().
EVENT_COLUMNS = {
    "name": "name",
    "path": "path",
    "origin": "origin",
    "referrer": "referrer",
    "referrer_name": "referrer_name",
    "referrer_type": "referrer_type",
    "device_id": "device_id",
    "profile_id": "profile_id",
    "session_id": "session_id",
    "country": "toString(country)",
    "city": "city",
    "region": "toString(region)",
    "os": "toString(os)",
    "os_version": "toString(os_version)",
    "browser": "toString(browser)",
    "browser_version": "toString(browser_version)",
    "device": "toString(device)",
    "brand": "toString(brand)",
    "model": "toString(model)",
    "sdk_name": "toString(sdk_name)",
    "sdk_version": "toString(sdk_version)",
    "revenue": "toString(revenue)",
    "duration": "toString(duration)",
    "created_at": "toString(created_at)",
    "latitude": "toString(latitude)",
    "longitude": "toString(longitude)",
}
PROFILE_COLUMNS = {
    "id": "id",
    "first_name": "first_name",
    "last_name": "last_name",
    "email": "email",
    "avatar": "avatar",
    "is_external": "toString(is_external)",
}
UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
_KEY = re.compile(r"^[\w.$:@\-*% /]{1,256}$")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False


class Filter(msgspec.Struct, kw_only=True):
    name: str
    operator: str = "is"
    value: list[str | int | float | bool | None] = []
    id: str | None = None
    type: str | None = None


@dataclass
class Compiled:
    """SQL conditions (to AND together) and their parameters."""

    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def where(self, prefix: str = " AND ") -> str:
        return "".join(prefix + c for c in self.conditions)


def parse_filters(raw: Any) -> list[Filter]:
    """Validate a JSON-decoded filter list; raise ValidationError naming the bad filter."""
    if raw in (None, "", []):
        return []
    if not isinstance(raw, list) or len(raw) > 50:
        raise ValidationError("filters", "must be a JSON array of at most 50 filters")
    out = []
    for i, item in enumerate(raw):
        try:
            flt = msgspec.convert(item, Filter)
        except msgspec.ValidationError as exc:
            raise ValidationError(f"filters.{i}", str(exc)) from None
        if flt.operator not in OPERATORS:
            raise ValidationError(f"filters.{i}.operator", f"must be one of {', '.join(OPERATORS)}")
        if len(flt.value) > 100:
            raise ValidationError(f"filters.{i}.value", "at most 100 values")
        column_for(flt.name, f"filters.{i}.name")  # validates the name
        out.append(flt)
    return out


def column_for(name: str, where: str = "name") -> tuple[str, str, str | None]:
    """(scope, sql expression, bound map key) for a filter name; scope is event or profile."""
    snake = _CAMEL.sub("_", name).lower() if name.isidentifier() else name
    if snake in EVENT_COLUMNS:
        return "event", EVENT_COLUMNS[snake], None
    if snake in UTM_KEYS:
        return "event", "properties", f"__query.{snake}"
    if name == "has_profile":
        return "event", "has_profile", None
    for prefix, scope in (("properties.", "event"), ("profile.properties.", "profile")):
        if name.startswith(prefix):
            key = name[len(prefix) :]
            if not _KEY.match(key):
                raise ValidationError(where, f"invalid property key {key!r}")
            return scope, "properties", key
    if name.startswith("profile."):
        column = name[len("profile.") :]
        if column in PROFILE_COLUMNS:
            return "profile", PROFILE_COLUMNS[column], None
    raise ValidationError(where, f"unknown filter field {name!r}")


def compile_filters(
    filters: Iterable[Filter], project_param: str = "project", prefix: str = "f"
) -> Compiled:
    """SQL for the filters over the events table (alias-free column names). Parameters are
    named `{prefix}{i}…`: give each filter list in one query its own prefix."""
    out = Compiled()
    for i, flt in enumerate(filters):
        scope, expr, key = column_for(flt.name)
        if expr == "has_profile":
            wanted = str(flt.value[0]).lower() if flt.value else "true"
            op = "!=" if wanted in ("true", "1") else "="
            out.conditions.append(f"profile_id {op} device_id")
            continue
        cond = _condition(expr, key, flt, f"{prefix}{i}", out.params)
        if scope == "profile":
            cond = profile_condition(project_param, cond)
        out.conditions.append(cond)
    return out


def _condition(expr: str, key: str | None, flt: Filter, p: str, params: dict[str, Any]) -> str:
    if key is not None and ("*" in key or "%" in key):
        params[p + "k"] = key.replace("*", "%")
        inner = _value_condition("v", flt, p, params)
        return (
            f"arrayExists((k, v) -> k LIKE {{{p}k:String}} AND {inner}, "
            f"mapKeys(properties), mapValues(properties))"
        )
    if key is not None:
        params[p + "k"] = key
        expr = f"{expr}[{{{p}k:String}}]"
    return _value_condition(expr, flt, p, params)


def _value_condition(expr: str, flt: Filter, p: str, params: dict[str, Any]) -> str:
    values = ["" if v is None else _text(v) for v in flt.value]
    op = flt.operator
    if op == "isNull":
        return f"({expr} = '' OR {expr} IS NULL)"
    if op == "isNotNull":
        return f"({expr} != '' AND {expr} IS NOT NULL)"
    if not values:
        raise ValidationError("filters.value", f"operator {op} needs at least one value")
    if op in ("is", "isNot"):
        params[p] = array_literal(values)
        return f"{expr} {'IN' if op == 'is' else 'NOT IN'} {{{p}:Array(String)}}"
    if op in ("gt", "lt", "gte", "lte"):
        try:
            params[p] = float(values[0])
        except ValueError:
            raise ValidationError("filters.value", f"{op} needs a number") from None
        sign = {"gt": ">", "lt": "<", "gte": ">=", "lte": "<="}[op]
        return f"toFloat64OrNull({expr}) {sign} {{{p}:Float64}}"
    if op == "regex":
        for j, value in enumerate(values):
            _check_regex(value)
            params[f"{p}_{j}"] = value
        return (
            "("
            + " OR ".join(f"match({expr}, {{{p}_{j}:String}})" for j in range(len(values)))
            + ")"
        )
    patterns = {
        "contains": "%{}%",
        "doesNotContain": "%{}%",
        "startsWith": "{}%",
        "endsWith": "%{}",
    }[op]
    parts = []
    for j, value in enumerate(values):
        params[f"{p}_{j}"] = patterns.format(escape_like(value))
        parts.append(f"{expr} ILIKE {{{p}_{j}:String}}")
    joined = "(" + " OR ".join(parts) + ")"
    return f"NOT {joined}" if op == "doesNotContain" else joined


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def escape_like(value: str) -> str:
    """`value` for a LIKE pattern with `\\`, `%` and `_` matched literally."""
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def like_pattern(text: str) -> str:
    """`%text%`: a LIKE/ILIKE pattern for "contains `text`" (bound as a parameter)."""
    return f"%{escape_like(text)}%"


def _check_regex(value: str) -> None:
    """ClickHouse matches with RE2 (no lookarounds or backreferences), so check with RE2 too:
    a pattern Python's `re` accepts could otherwise fail inside the query."""
    if len(value) > 500:
        raise ValidationError("filters.value", "regex longer than 500 characters")
    try:
        re2.compile(value, _RE2_OPTIONS)
    except re2.error as exc:
        reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ValidationError("filters.value", f"invalid regex: {reason}") from None
