"""Running a report spec through the analytics engine and turning its result into CSV.

`prepare` validates a spec for one project (ValidationError naming the field) and picks the
report function: the chart engine (`charts.chart` via `chart_query.parse_chart`) for line,
area, bar, pie, metric and map; `funnels.funnel`; `conversion.conversion`;
`retention.retention`; `flows.user_flow`. The caller runs it with
`await store.run(prepared.fn, store, prepared.query)`, like every other dashboard page.
Empty filter rows and breakdowns (still being typed) are left out.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.filters import parse_filters
from embedded_db.meta import Project
from embedded_db.reports.chart_query import ALPHA, parse_chart
from embedded_db.reports.charts import chart
from embedded_db.reports.conversion import ConversionQuery, conversion
from embedded_db.reports.flows import FlowEvent, FlowQuery, user_flow
from embedded_db.reports.funnels import NOT_SET, FunnelQuery, funnel, parse_steps
from embedded_db.reports.retention import RetentionQuery, retention
from embedded_db.saved_reports import ReportSpec
from embedded_db.store import EventStore
from embedded_db.timeframe import Window, check_interval, default_interval, resolve_range
from web.analysis_api import retention_interval
from web.dashboard.charts import local_time
from web.dashboard.report_figures import figure
from web.dashboard.report_state import SERIES_CHARTS

Result = dict[str, Any]
_FIELD = re.compile(r"^(?:series|steps)\.(\d+)(.*)$")
_RISKY = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Prepared:
    """A validated report: the function to run on the reader pool and its query."""

    kind: str  # chart, funnel, conversion, retention, flow
    fn: Callable[[EventStore, Any], Result]
    query: Any
    range: str
    window: Window
    interval: str


def prepare(spec: ReportSpec, project: Project, now: datetime) -> Prepared:
    """The report function and query for a spec, in the project's timezone at `now`."""
    if spec.chart_type in SERIES_CHARTS:
        q = parse_chart(_chart_request(spec), project.id, project.timezone, now, "30d")
        return Prepared("chart", chart, q, q.range, q.window, q.interval)
    window = resolve_range(spec.range, project.timezone, now, spec.start_date, spec.end_date)
    filters = parse_filters(_live_filters(spec.global_filters))
    events = [s for s in spec.series if s.get("type", "event") == "event"]
    if spec.chart_type in ("funnel", "conversion"):
        fq = FunnelQuery(
            project_id=project.id,
            window=window,
            steps=parse_steps([_step(s) for s in events], "series"),
            window_hours=spec.funnel_window,
            group=spec.funnel_group,
            filters=filters,
            breakdown=_breakdown_names(spec)[0] if _breakdown_names(spec) else None,
            previous=spec.previous,
        )
        fq.check()
        interval = _interval(spec, window)
        if spec.chart_type == "conversion":
            return Prepared(
                "conversion",
                conversion,
                ConversionQuery(fq, interval),
                *_at(spec, window, interval),
            )
        return Prepared("funnel", funnel, fq, *_at(spec, window, interval))
    names = [str(s.get("name") or "") for s in events]
    if spec.chart_type == "retention":
        rq = RetentionQuery(
            project_id=project.id,
            window=window,
            interval=retention_interval({"interval": spec.interval}, window),
            criteria=spec.criteria,
            start_events=[n for n in names[:1] if n not in ("", "*")],
            return_events=[n for n in names[1:2] if n not in ("", "*")] or None,
            filters=filters,
            now=now,
        )
        rq.check()
        return Prepared("retention", retention, rq, *_at(spec, window, rq.interval))
    if spec.chart_type == "sankey":
        return Prepared(
            "flow",
            user_flow,
            _flow(spec, project, window, events, filters),
            *_at(spec, window, "day"),
        )
    raise ValidationError("chart", f"unknown chart type {spec.chart_type!r}")


def _at(spec: ReportSpec, window: Window, interval: str) -> tuple[str, Window, str]:
    return spec.range, window, interval


def _chart_request(spec: ReportSpec) -> dict[str, Any]:
    """The OpenPanel chart request (§4.3) of a spec."""
    series = []
    for s in spec.series:
        item = dict(s)
        if item.get("type", "event") == "event":
            item["filters"] = _live_filters(item.get("filters") or [])
        series.append(item)
    return {
        "chartType": spec.chart_type,
        "series": series,
        "breakdowns": [{"name": n} for n in _breakdown_names(spec)],
        "globalFilters": _live_filters(spec.global_filters),
        "range": spec.range,
        "startDate": spec.start_date,
        "endDate": spec.end_date,
        "interval": spec.interval,
        "metric": spec.metric,
        "previous": spec.previous,
        "formula": spec.formula,
        "others": bool(spec.breakdowns),
    }


def _interval(spec: ReportSpec, window: Window) -> str:
    interval = spec.interval or default_interval(spec.range, window)
    return check_interval(interval, spec.range, window)


def _flow(
    spec: ReportSpec,
    project: Project,
    window: Window,
    events: list[dict[str, Any]],
    filters: list[Any],
) -> FlowQuery:
    if not events or not events[0].get("name"):
        raise ValidationError("series.0.name", "a user flow starts at an event: name it")
    mode = str(spec.options.get("mode") or "after")
    end = None
    if mode == "between" and len(events) > 1:
        end = FlowEvent(str(events[1].get("name") or ""), _event_filters(events[1]))
    return FlowQuery(
        project_id=project.id,
        window=window,
        start=FlowEvent(str(events[0]["name"]), _event_filters(events[0])),
        mode=mode,
        end=end,
        steps=int(spec.options.get("steps") or 5),
        include=list(spec.options.get("include") or []),
        exclude=list(spec.options.get("exclude") or []),
        filters=filters,
    )


def _step(series: dict[str, Any]) -> dict[str, Any]:
    step: dict[str, Any] = {"name": series.get("name") or ""}
    step["filters"] = _live_filters(series.get("filters") or [])
    if series.get("displayName"):
        step["displayName"] = series["displayName"]
    return step


def _event_filters(series: dict[str, Any]) -> list[Any]:
    return parse_filters(_live_filters(series.get("filters") or []))


def _live_filters(filters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in filters if str(f.get("name") or "").strip()]


def _breakdown_names(spec: ReportSpec) -> list[str]:
    return [str(b["name"]) for b in spec.breakdowns if str(b.get("name") or "").strip()]


# -- CSV -----------------------------------------------------------------------------------------
def csv_rows(kind: str, data: Result) -> list[list[Any]]:
    """The chart data of a result as a table: a header row, then one row per point."""
    if kind == "chart":
        series = data["series"]
        header = ["date", *(" · ".join(s["names"]) for s in series)]
        dates = [p["date"] for p in series[0]["data"]] if series else []
        rows = [
            [local_time(d), *(s["data"][i]["count"] for s in series)] for i, d in enumerate(dates)
        ]
        return [header, *rows]
    if kind == "funnel":
        header = ["step", "event", "count", "percent of first", "lost from previous"]
        return [header] + [
            [r["step"], r["label"], r["count"], r["percent"], r["lostFromPrevious"]]
            for r in data["steps"]
        ]
    if kind == "conversion":
        header = ["date", "series", "groups", "conversions", "rate"]
        return [header] + [
            [local_time(p["date"]), s["id"], p["total"], p["conversions"], p["rate"]]
            for s in data["series"]
            for p in s["data"]
        ]
    if kind == "retention":
        header = ["cohort", "size", *(f"period {k}" for k in range(data["periods"]))]
        return [header] + [
            [
                local_time(c["date"]),
                c["size"],
                *(None if v is None else v["percent"] for v in c["values"]),
            ]
            for c in data["cohorts"]
        ]
    labels = {n["id"]: n["label"] for n in data["nodes"]}
    header = ["step", "from", "to", "sessions"]
    return [header] + [
        [
            int(link["source"].split(":", 1)[0]),
            labels.get(link["source"], ""),
            labels.get(link["target"], ""),
            link["value"],
        ]
        for link in data["links"]
    ]


def safe_cell(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run: text starting with = + - @ (or tab/CR) gets a
    leading quote; numbers and empty cells pass unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_RISKY):
        return "'" + value
    return value


def csv_text(rows: list[list[Any]]) -> str:
    """The rows as CSV text (formula-injection safe)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
    return out.getvalue()


def friendly(exc: ValidationError) -> str:
    """An error as the builder shows it: `series.1.name: …` reads `Series B, name: …`."""
    found = _FIELD.match(exc.field)
    if not found:
        return str(exc)
    rest = found.group(2).lstrip(".").replace(".", " ")
    where = f"Series {ALPHA[int(found.group(1))]}" + (f", {rest}" if rest else "")
    return f"{where}: {exc.message}"


@dataclass
class Outcome:
    """A report as a page shows it: the figure and data, or the error that stopped it."""

    kind: str
    chart_type: str
    figure: str | None = None
    data: Result | None = None
    error: str | None = None
    range: str = ""
    interval: str = ""

    @property
    def suggestions(self) -> list[str]:
        """The report's findings in plain English (funnels and user flows)."""
        found = (self.data or {}).get("suggestions") or []
        return [str(s["text"]) for s in found]


async def run(store: EventStore, project: Project, spec: ReportSpec, now: datetime) -> Outcome:
    """Validate and run a spec on the reader pool; a ValidationError becomes `error`."""
    try:
        prepared = prepare(spec, project, now)
        data = await store.run(prepared.fn, store, prepared.query)
    except ValidationError as exc:
        return Outcome("", spec.chart_type, error=friendly(exc))
    if prepared.kind == "chart":
        for serie in data["series"]:
            serie["names"] = [serie["names"][0], *(n or NOT_SET for n in serie["names"][1:])]
    shown = figure(prepared.kind, spec.chart_type, data, prepared.interval, spec.metric)
    return Outcome(
        prepared.kind, spec.chart_type, shown, data, None, prepared.range, prepared.interval
    )
