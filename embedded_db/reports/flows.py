"""User flow (openpanel-compat.md §4.2 "User journey", §4.3 sankey options): the paths visits
take after an event, before it, or between two events, as sankey nodes and links with
drop-off counts and plain-English findings.

One query over the window: each visit's events are collected with `groupArray`, sorted by time,
consecutive repeats collapsed and sliced around the chosen event with array functions; the
slices are unrolled into (node | link) items and counted. A node is an event name at a step
(`screen_view` nodes are labelled by their path). A visit "ended" at a node when nothing in
its collapsed path follows it (only the included events count).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import Filter, compile_filters
from embedded_db.sql import array_literal, select, select_from
from embedded_db.store import EventStore
from embedded_db.timeframe import Window

MODES = ("after", "before", "between")
MIN_STEPS, MAX_STEPS = 2, 10
DEFAULT_EXCLUDE = ("session_start", "session_end")
MAX_NAMES = 100
MAX_SUGGESTIONS = 3

# Per mode: the path slice, the index (in the whole collapsed path) of the slice's last event,
# the condition for the slice to be drawn, and the step of the slice's first event minus one.
_MODE_SQL = {
    "after": (
        "arraySlice(ev_full, at_s, {steps:UInt8})",
        "at_s + length(flow) - 1",
        "1",
        "toInt32(0)",
    ),
    "before": (
        "arraySlice(ev_full, greatest(1, at_s - {steps:UInt8} + 1), "
        "at_s - greatest(1, at_s - {steps:UInt8} + 1) + 1)",
        "at_s",
        "1",
        "toInt32({steps:UInt8}) - toInt32(length(flow))",
    ),
    "between": (
        "arraySlice(ev_full, at_s, at_e - at_s + 1)",
        "at_e",
        "at_e > 0 AND at_e - at_s + 1 <= {steps:UInt8}",
        "toInt32(0)",
    ),
}
_LABEL = "if(name = 'screen_view' AND path != '', path, toString(name))"
_ITEMS = (
    "if(fits, arrayConcat("
    "[('path', toInt32(0), '', '', '', '', toUInt8(0))], "
    "arrayMap(i -> ('node', toInt32(i) + shift, flow[i].1, flow[i].2, '', '', "
    "toUInt8(ended AND i = length(flow))), arrayEnumerate(flow)), "
    "arrayMap(i -> ('link', toInt32(i) + shift, flow[i].1, flow[i].2, flow[i + 1].1, "
    "flow[i + 1].2, toUInt8(0)), arraySlice(arrayEnumerate(flow), 1, length(flow) - 1))), "
    "[(if(at_e = 0, 'unreached', 'too_long'), toInt32(0), '', '', '', '', toUInt8(0))]"
    ") AS items"
)
_COUNT = (
    "item.1 AS kind, item.2 AS step, item.3 AS src_name, item.4 AS src_label, "
    "item.5 AS dst_name, item.6 AS dst_label, count() AS sessions, sum(item.7) AS dropped"
)
_GROUP = (
    "ARRAY JOIN items AS item "
    "GROUP BY kind, step, src_name, src_label, dst_name, dst_label "
    "ORDER BY kind, step, sessions DESC, src_label, dst_label"
)


@dataclass
class FlowEvent:
    """An anchor of the flow: an event name, optionally narrowed by filters on that event."""

    name: str
    filters: list[Filter] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How findings name it: the page of a `screen_view` narrowed to one path, else the name."""
        if self.name == "screen_view" and len(self.filters) == 1:
            only = self.filters[0]
            if only.name == "path" and only.operator == "is" and len(only.value) == 1:
                return str(only.value[0])
        return self.name


@dataclass
class FlowQuery:
    project_id: str
    window: Window
    start: FlowEvent
    mode: str = "after"
    end: FlowEvent | None = None
    steps: int = 5
    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    filters: list[Filter] = field(default_factory=list)


def check_flow(q: FlowQuery) -> None:
    """Validate mode, steps, anchors and name lists; raise ValidationError naming the field."""
    if q.mode not in MODES:
        raise ValidationError("mode", f"must be one of {', '.join(MODES)}")
    if not MIN_STEPS <= q.steps <= MAX_STEPS:
        raise ValidationError("steps", f"must be between {MIN_STEPS} and {MAX_STEPS}")
    if not q.start.name or len(q.start.name) > 200:
        raise ValidationError("event", "an event name (1-200 characters) is required")
    if q.mode == "between" and (q.end is None or not q.end.name or len(q.end.name) > 200):
        raise ValidationError("endEvent", "mode between needs an end event name")
    for name, values in (("include", q.include), ("exclude", q.exclude)):
        if len(values) > MAX_NAMES or not all(isinstance(v, str) for v in values):
            raise ValidationError(name, f"must be a list of at most {MAX_NAMES} event names")


def user_flow(store: EventStore, q: FlowQuery) -> dict[str, Any]:
    """Sankey nodes and links of the visits' paths in the window, per-node drop-offs, totals
    and the biggest drop-offs in words; raises ValidationError for bad options."""
    check_flow(q)
    sql, params = _flow_sql(q)
    rows = store.query(sql, params)
    return build_flow(rows, q)


def _flow_sql(q: FlowQuery) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {
        "project": q.project_id,
        "steps": q.steps,
        "a_name": q.start.name,
        **q.window.params(),
    }
    base = [
        "project_id = {project:String}",
        "created_at >= {start:DateTime64(3, 'UTC')}",
        "created_at < {end:DateTime64(3, 'UTC')}",
        "session_id != ''",
    ]
    is_start = _anchor("name = {a_name:String}", q.start.filters, "fa", params)
    is_end = "0"
    if q.mode == "between" and q.end is not None:
        params["b_name"] = q.end.name
        is_end = _anchor("name = {b_name:String}", q.end.filters, "fb", params)
    include = [n for n in q.include if n]
    exclude = sorted((set(q.exclude) | set(DEFAULT_EXCLUDE)) - set(include))
    params["exclude"] = array_literal(exclude)
    names = "name NOT IN {exclude:Array(String)}"
    if include:
        params["include"] = array_literal(include)
        names += " AND name IN {include:Array(String)}"
    where = [*base, f"(({names}) OR ({is_start}) OR ({is_end}))"]
    if q.filters:
        compiled = compile_filters(q.filters, prefix="f")
        params.update(compiled.params)
        where.append(
            "session_id IN (" + select("session_id", "events", base + compiled.conditions) + ")"
        )
    flow, last, fits, shift = _MODE_SQL[q.mode]
    columns = ", ".join(
        (
            "session_id",
            f"arraySort(groupArray((created_at, toString(name), {_LABEL}, "
            f"toUInt8({is_start}), toUInt8({is_end})))) AS ev_raw",
            "arrayMap(x -> (x.2, x.3, x.4, x.5), ev_raw) AS ev_seq",
            "arrayFilter((x, i) -> i = 1 OR x != ev_seq[i - 1], ev_seq, arrayEnumerate(ev_seq)) "
            "AS ev_full",
            "toInt32(arrayFirstIndex(x -> x.3 = 1, ev_full)) AS at_s",
            "toInt32(arrayFirstIndex((x, i) -> x.4 = 1 AND i > at_s, ev_full, "
            "arrayEnumerate(ev_full))) AS at_e",
            f"{flow} AS flow",
            f"toUInt8({last} = length(ev_full)) AS ended",
            f"{fits} AS fits",
            f"{shift} AS shift",
            _ITEMS,
        )
    )
    inner = select(columns, "events", where, "GROUP BY session_id HAVING at_s > 0")
    return select_from(_COUNT, inner, _GROUP), params


def _anchor(condition: str, filters: list[Filter], prefix: str, params: dict[str, Any]) -> str:
    """SQL that is true for the events an anchor matches (its name and its own filters)."""
    compiled = compile_filters(filters, prefix=prefix)
    params.update(compiled.params)
    return " AND ".join([condition, *compiled.conditions])


def build_flow(rows: list[dict[str, Any]], q: FlowQuery) -> dict[str, Any]:
    """Nodes, links, totals and suggestions from the counted items (pure)."""
    totals = {"sessions": 0, "matched": 0, "not_reached": 0, "longer_than_steps": 0}
    nodes: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    for row in rows:
        kind, count = row["kind"], int(row["sessions"])
        if kind == "path":
            totals["sessions"] += count
        elif kind == "unreached":
            totals["not_reached"] += count
        elif kind == "too_long":
            totals["longer_than_steps"] += count
        elif kind == "node":
            node = _node(row["step"], row["src_name"], row["src_label"])
            node.update(value=count, dropoff=int(row["dropped"]))
            nodes[node["id"]] = node
        else:
            step = int(row["step"])
            links.append(
                {
                    "source": _node_id(step, row["src_name"], row["src_label"]),
                    "target": _node_id(step + 1, row["dst_name"], row["dst_label"]),
                    "value": count,
                }
            )
    totals["matched"] = totals["sessions"] + totals["not_reached"] + totals["longer_than_steps"]
    ordered = sorted(nodes.values(), key=lambda n: (n["step"], -n["value"], n["label"], n["id"]))
    for node in ordered:
        node["percent"] = _percent(node["value"], totals["sessions"])
    links.sort(key=lambda x: (nodes[x["source"]]["step"], -x["value"], x["source"], x["target"]))
    return {
        "mode": q.mode,
        "steps": q.steps,
        "nodes": ordered,
        "links": links,
        "totals": totals,
        "suggestions": suggestions(ordered, totals, q),
    }


def suggestions(
    nodes: list[dict[str, Any]], totals: dict[str, int], q: FlowQuery
) -> list[dict[str, Any]]:
    """The biggest drop-offs as `{kind, node, lost, percent, text}`, largest loss first."""
    found = []
    if q.mode == "between" and q.end is not None and totals["not_reached"]:
        lost = totals["not_reached"]
        pct = _percent(lost, totals["matched"])
        text = f"{_fmt(pct)}% of sessions with {q.start.label} never reached {q.end.label}"
        found.append({"kind": "goal", "node": None, "lost": lost, "percent": pct, "text": text})
    leaving = [n for n in nodes if n["dropoff"] > 0]
    leaving.sort(key=lambda n: (-n["dropoff"], -n["dropoff"] / n["value"], n["step"], n["id"]))
    for node in leaving[:MAX_SUGGESTIONS]:
        pct = _percent(node["dropoff"], node["value"])
        text = f"{_fmt(pct)}% of sessions that reached {node['label']} ended there"
        found.append(
            {
                "kind": "node",
                "node": node["id"],
                "lost": node["dropoff"],
                "percent": pct,
                "text": text,
            }
        )
    return found


def _node_id(step: int, name: str, label: str) -> str:
    return f"{step}:{name}" if label == name else f"{step}:{name}:{label}"


def _node(step: int, name: str, label: str) -> dict[str, Any]:
    return {"id": _node_id(int(step), name, label), "label": label, "name": name, "step": int(step)}


def _percent(part: int, whole: int) -> float:
    return round(part * 100 / whole, 1) if whole else 0.0


def _fmt(pct: float) -> str:
    return f"{pct:g}"
