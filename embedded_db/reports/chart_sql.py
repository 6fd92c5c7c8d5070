"""SQL for one event series of a chart (openpanel-compat.md §4.3): the segment registry (what a
bucket counts), the breakdown registry (what a series is grouped by) and the three queries the
engine runs — rank the breakdown groups, aggregate per bucket, aggregate over the window.

Every expression comes from a registry written here; property keys, event names, filter values
and breakdown group values are bound as `{name:Type}` parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import PROFILE_COLUMNS, Filter, column_for, compile_filters
from embedded_db.sql import array_literal, select
from embedded_db.store import EventStore
from embedded_db.timeframe import BUCKET_SQL, Window

# What one bucket of a series counts, per segment (property segments are below).
SEGMENT_SQL = {
    "event": "count()",
    "user": "uniq(profile_id)",
    # Server-side events carry no session; OpenPanel counts their '' as one more session.
    "session": "uniqIf(session_id, session_id != '')",
    "group": "uniqArray(groups)",
    "user_average": "count() / uniq(profile_id)",
    # Each visitor once, at their last matching event (see _last_event_per_user).
    "one_event_per_user": "uniq(profile_id)",
}
PROPERTY_SQL = {
    "property_sum": "sum",
    "property_average": "avg",
    "property_max": "max",
    "property_min": "min",
}
SEGMENTS = (*SEGMENT_SQL, *PROPERTY_SQL)
# Numeric event columns a property segment may aggregate directly.
NUMERIC_COLUMNS = {"revenue": "toFloat64(revenue)", "duration": "toFloat64(duration)"}
_PROPERTY_KEY = re.compile(r"^[\w.$:@\- /]{1,256}$")
_PROFILE_JOIN_COLUMNS = (
    "id AS p_id, properties AS p_properties, first_name AS p_first_name, "
    "last_name AS p_last_name, email AS p_email, avatar AS p_avatar, "
    "toString(is_external) AS p_is_external"
)


@dataclass(frozen=True, slots=True)
class Dimension:
    """A checked breakdown: the SQL label expression, its bound key and whether it needs the
    profiles join."""

    name: str
    expr: str
    key: str | None = None
    profile: bool = False


@dataclass
class SeriesSql:
    """The pieces of one event series' queries: base conditions (with `{start}`/`{end}` of the
    window still to bind), parameters, the aggregate and the label expressions."""

    where: list[str]
    params: dict[str, Any]
    value: str
    labels: list[str] = field(default_factory=list)
    join: str = ""


def property_of(raw: object, where: str) -> tuple[str, str]:
    """(kind, name) of a property segment's `property`: a numeric column or `properties.<key>`."""
    if not isinstance(raw, str) or not raw:
        raise ValidationError(where, "a property segment needs a property, e.g. properties.price")
    if raw in NUMERIC_COLUMNS:
        return "column", raw
    key = raw[len("properties.") :] if raw.startswith("properties.") else ""
    if not _PROPERTY_KEY.match(key):
        raise ValidationError(where, "must be revenue, duration or properties.<key>")
    return "key", key


def dimension_of(name: object, where: str) -> Dimension:
    """Resolve a breakdown name (event column, `properties.<key>`, utm_*, `has_profile`,
    `profile.<column>` or `profile.properties.<key>`); raise ValidationError otherwise."""
    if not isinstance(name, str) or not name or len(name) > 300:
        raise ValidationError(where, "must be a field name such as country or properties.plan")
    scope, expr, key = column_for(name, where)
    if key is not None and ("*" in key or "%" in key):
        raise ValidationError(where, "a breakdown cannot use a wildcard key")
    if expr == "has_profile":
        return Dimension(name, "if(profile_id != device_id, 'true', 'false')")
    if scope == "event":
        return Dimension(name, "properties" if key is not None else expr, key)
    if key is not None:
        return Dimension(name, "prof.p_properties", key, profile=True)
    column = name[len("profile.") :]
    if column not in PROFILE_COLUMNS:
        raise ValidationError(where, f"unknown profile field {column!r}")
    return Dimension(name, f"prof.p_{column}", None, profile=True)


def series_sql(
    project_id: str,
    name: str,
    segment: str,
    prop: tuple[str, str] | None,
    filters: list[Filter],
    global_filters: list[Filter],
    breakdowns: list[Dimension],
) -> SeriesSql:
    """Conditions, parameters, aggregate and labels for one event series."""
    params: dict[str, Any] = {"project": project_id}
    where = [
        "project_id = {project:String}",
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {end:DateTime64(3, 'UTC')}",
    ]
    if name != "*":
        params["event_name"] = name
        where.append("name = {event_name:String}")
    for compiled in (
        compile_filters(filters, prefix="sf"),
        compile_filters(global_filters, prefix="gf"),
    ):
        where += compiled.conditions
        params.update(compiled.params)
    value = SEGMENT_SQL.get(segment, "count()")
    if segment in PROPERTY_SQL and prop is not None:
        number, condition = _property_number(prop, params)
        value = f"{PROPERTY_SQL[segment]}({number})"
        where.append(condition)
    if segment == "one_event_per_user":
        where = [*where, _last_event_per_user(where)]
    labels = []
    for i, dim in enumerate(breakdowns):
        expr = dim.expr
        if dim.key is not None:
            params[f"bk{i}"] = dim.key
            expr = f"{expr}[{{bk{i}:String}}]"
        labels.append(f"toString({expr})")
    join = _profile_join() if any(d.profile for d in breakdowns) else ""
    return SeriesSql(where, params, value, labels, join)


def rank_groups(
    store: EventStore, s: SeriesSql, window: Window, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Breakdown groups over the window, biggest first: `l0…`, `value` (the segment's
    aggregate) and `n` (events), `limit` of them from `offset`."""
    names = _label_names(s)
    params = {**s.params, **window.params(), "limit": limit, "offset": offset}
    order = "".join(", " + n for n in names)
    sql = select(
        _columns(s, names, f"{s.value} AS value, count() AS n"),
        "events",
        s.where,
        f"GROUP BY {', '.join(names)} ORDER BY value DESC, n DESC{order} "
        "LIMIT {limit:UInt32} OFFSET {offset:UInt32}",
        join=s.join,
    )
    return store.query(sql, params)


def aggregate(
    store: EventStore,
    s: SeriesSql,
    window: Window,
    interval: str | None,
    groups: list[tuple[str, ...]] | None,
    *,
    others: bool = False,
) -> list[dict[str, Any]]:
    """The segment's aggregate `value`, per bucket (`bucket`, local-time text) when `interval`
    is given else over the whole window, per group (`l0…`) — or, with `others`, for every event
    outside `groups`, folded together. `groups=None` means no breakdown."""
    params: dict[str, Any] = {**s.params, **window.params()}
    where = list(s.where)
    names: list[str] = []
    if groups is not None:
        params["groups"] = "[" + ",".join(array_literal(g) for g in groups) + "]"
        keys = "has({groups:Array(Array(String))}, [" + ", ".join(s.labels) + "])"
        where.append(f"NOT {keys}" if others else keys)
        names = [] if others else _label_names(s)
    keys_out = list(names)
    columns = _columns(s, names, f"{s.value} AS value")
    if interval is not None:
        columns = (
            f"toString({BUCKET_SQL[interval]}(created_at, {{tz:String}})) AS bucket, {columns}"
        )
        keys_out.append("bucket")
    tail = f"GROUP BY {', '.join(keys_out)}" if keys_out else ""
    return store.query(select(columns, "events", where, tail, join=s.join), params)


# -- internals -------------------------------------------------------------------------------------
def _label_names(s: SeriesSql) -> list[str]:
    return [f"l{i}" for i in range(len(s.labels))]


def _columns(s: SeriesSql, names: list[str], value: str) -> str:
    labelled = [f"{expr} AS {name}" for expr, name in zip(s.labels, names, strict=False)]
    return ", ".join([*labelled, value])


def _property_number(prop: tuple[str, str], params: dict[str, Any]) -> tuple[str, str]:
    """(numeric expression, condition selecting events that have a number)."""
    kind, name = prop
    if kind == "column":
        return NUMERIC_COLUMNS[name], "revenue > 0" if name == "revenue" else "1"
    params["prop_key"] = name
    number = "toFloat64OrNull(properties[{prop_key:String}])"
    return number, f"isNotNull({number})"


def _last_event_per_user(where: list[str]) -> str:
    """Keep only each visitor's last matching event in the window (OpenPanel's `DISTINCT ON
    (profile_id) … ORDER BY created_at DESC`)."""
    latest = select("profile_id, max(created_at)", "events", where, "GROUP BY profile_id")
    return "(profile_id, created_at) IN (" + latest + ")"


def _profile_join() -> str:
    profiles = select(
        _PROFILE_JOIN_COLUMNS, "profiles", ["project_id = {project:String}"], final=True
    )
    return "LEFT ANY JOIN (" + profiles + ") AS prof ON prof.p_id = profile_id"
