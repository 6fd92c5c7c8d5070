"""The report builder's state in the URL: the form's fields read into a `ReportSpec` and written
back as a canonical query string, so a report being built can be bookmarked and shared.

Keys: `chart`, `range`, `startDate`, `endDate`, `interval`, `previous=1`, `metric`, series
`s0.name`, `s0.type` (event or formula), `s0.segment`, `s0.property`, `s0.formula`, `s0.label`
with their filters `s0.f0.name` / `.op` / `.value`, global filters `f0.name` / `.op` /
`.value`, breakdowns `b0`…`b2`, funnel `window` (hours) and `group`, retention `criteria`, user
flow `mode`, `steps`, `include`, `exclude`. An `op` key (add or remove a series, filter or
breakdown) changes the structure; the page then answers with the canonical URL without it.
Nothing here touches data: values are checked for shape only (the report functions validate).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from embedded_db.errors import ValidationError
from embedded_db.saved_reports import ReportSpec

CHART_LABELS = {
    "linear": "Line",
    "area": "Area",
    "bar": "Bar",
    "pie": "Pie",
    "metric": "Metric",
    "map": "Map",
    "funnel": "Funnel",
    "conversion": "Conversion",
    "retention": "Retention",
    "sankey": "User flow",
}
SERIES_CHARTS = ("linear", "area", "bar", "pie", "metric", "map")
MAX_SERIES, MAX_FILTERS, MAX_BREAKDOWNS = 10, 10, 3
TEXT_MAX = 500
KEYS: tuple[str, ...] = (
    *("chart", "range", "startDate", "endDate", "interval", "previous", "metric", "criteria"),
    *("group", "window", "mode", "steps", "include", "exclude", "formula"),
)
_VALUELESS = ("isNull", "isNotNull")


def default_spec() -> ReportSpec:
    """A new report: page views per day over the last 30 days."""
    return ReportSpec(series=[_event("screen_view")])


def has_state(query: Mapping[str, Any]) -> bool:
    """Whether a query string carries builder state (else a saved report's own state shows)."""
    return any(k in KEYS or k == "op" or k[:1] in "sfb" and k[1:2].isdigit() for k in query)


def spec_of(query: Mapping[str, Any]) -> ReportSpec:
    """The builder state of a query string (missing keys take their defaults); an `op` is
    applied. ValidationError for a value of the wrong shape (e.g. a window that is no number)."""
    chart = _get(query, "chart") or "linear"
    if chart not in CHART_LABELS:
        raise ValidationError("chart", f"must be one of {', '.join(CHART_LABELS)}")
    spec = ReportSpec(
        chart_type=chart,
        series=[s for i in range(MAX_SERIES) if (s := _series(query, i)) is not None],
        breakdowns=[{"name": n} for k in range(MAX_BREAKDOWNS) if (n := _get(query, f"b{k}"))],
        global_filters=_filters(query, "f"),
        range=_get(query, "range") or "30d",
        start_date=_get(query, "startDate") or None,
        end_date=_get(query, "endDate") or None,
        interval=_get(query, "interval") or None,
        formula=_get(query, "formula") or None,
        metric=_get(query, "metric") or "sum",
        previous=_get(query, "previous") in ("1", "on", "true"),
        criteria=_get(query, "criteria") or "on_or_after",
        funnel_group=_get(query, "group") or "session_id",
        funnel_window=_number(query, "window", 24.0),
        options=_options(query),
    )
    if not spec.series:
        spec.series = [_event("screen_view")]
    apply_op(spec, _get(query, "op"))
    if spec.chart_type in ("funnel", "conversion"):
        while len(spec.series) < 2:
            spec.series.append(_event(""))
    return spec


def apply_op(spec: ReportSpec, op: str) -> None:
    """Add or remove a series (`add-series`, `add-formula`, `del-series:1`), a filter
    (`add-filter:0`, `add-filter:g`, `del-filter:0:2`, `del-filter:g:0`) or a breakdown
    (`add-breakdown`, `del-breakdown:0`); unknown or out-of-range ops do nothing."""
    verb, _, rest = op.partition(":")
    where, _, index = rest.partition(":")
    if verb == "add-series" and len(spec.series) < MAX_SERIES:
        spec.series.append(_event(""))
    elif verb == "add-formula" and len(spec.series) < MAX_SERIES:
        spec.series.append({"type": "formula", "formula": ""})
    elif verb == "del-series" and _index(where, spec.series) is not None and len(spec.series) > 1:
        spec.series.pop(int(where))
    elif verb == "add-breakdown" and len(spec.breakdowns) < MAX_BREAKDOWNS:
        spec.breakdowns.append({"name": ""})
    elif verb == "del-breakdown" and _index(where, spec.breakdowns) is not None:
        spec.breakdowns.pop(int(where))
    elif verb in ("add-filter", "del-filter"):
        filters = _filter_list(spec, where)
        if filters is None:
            return
        if verb == "add-filter" and len(filters) < MAX_FILTERS:
            filters.append({"name": "", "operator": "is", "value": [""]})
        elif verb == "del-filter" and _index(index, filters) is not None:
            filters.pop(int(index))


def query_of(spec: ReportSpec) -> list[tuple[str, str]]:
    """The canonical query string of a spec (default values left out)."""
    out: list[tuple[str, str]] = [("chart", spec.chart_type), ("range", spec.range)]
    if spec.range == "custom":
        out += [("startDate", spec.start_date or ""), ("endDate", spec.end_date or "")]
    for key, value, default in (
        ("interval", spec.interval, None),
        ("previous", "1" if spec.previous else None, None),
        ("metric", spec.metric, "sum"),
        ("formula", spec.formula, None),
        ("criteria", spec.criteria, "on_or_after"),
        ("group", spec.funnel_group, "session_id"),
        ("window", _format_number(spec.funnel_window), "24"),
    ):
        if value and value != default:
            out.append((key, value))
    for key in ("mode", "steps", "include", "exclude"):
        if spec.options.get(key):
            value = spec.options[key]
            out.append((key, ",".join(value) if isinstance(value, list) else str(value)))
    for i, series in enumerate(spec.series):
        out += _series_query(f"s{i}", series)
    out += _filters_query("f", spec.global_filters)
    out += [(f"b{k}", b.get("name", "")) for k, b in enumerate(spec.breakdowns)]
    return out


def event_names(spec: ReportSpec) -> list[str]:
    """The event names of the spec's event series, in order."""
    return [str(s.get("name", "")) for s in spec.series if s.get("type", "event") == "event"]


# -- reading -------------------------------------------------------------------------------------
def _get(query: Mapping[str, Any], key: str) -> str:
    value = query.get(key)
    text = "" if value is None else str(value).strip()
    if len(text) > TEXT_MAX:
        raise ValidationError(key, f"at most {TEXT_MAX} characters")
    return text


def _event(name: str) -> dict[str, Any]:
    return {"type": "event", "name": name, "segment": "event", "filters": []}


def _series(query: Mapping[str, Any], i: int) -> dict[str, Any] | None:
    p = f"s{i}."
    if not any(k.startswith(p) for k in query):
        return None
    label = _get(query, p + "label")
    if _get(query, p + "type") == "formula":
        out: dict[str, Any] = {"type": "formula", "formula": _get(query, p + "formula")}
    else:
        out = _event(_get(query, p + "name"))
        out["segment"] = _get(query, p + "segment") or "event"
        if out["segment"].startswith("property_"):
            out["property"] = _get(query, p + "property")
        out["filters"] = _filters(query, p + "f")
    if label:
        out["displayName"] = label
    return out


def _filters(query: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    out = []
    for j in range(MAX_FILTERS):
        p = f"{prefix}{j}."
        if not any(k.startswith(p) for k in query):
            continue
        operator = _get(query, p + "op") or "is"
        value = [] if operator in _VALUELESS else [_get(query, p + "value")]
        out.append({"name": _get(query, p + "name"), "operator": operator, "value": value})
    return out


def _options(query: Mapping[str, Any]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if mode := _get(query, "mode"):
        options["mode"] = mode
    if _get(query, "steps"):
        options["steps"] = int(_number(query, "steps", 5))
    for key in ("include", "exclude"):
        names = [n.strip() for n in _get(query, key).split(",") if n.strip()]
        if names:
            options[key] = names
    return options


def _number(query: Mapping[str, Any], key: str, default: float) -> float:
    text = _get(query, key)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValidationError(key, "must be a number") from None


def _index(text: str, items: list[Any]) -> int | None:
    return int(text) if text.isdigit() and int(text) < len(items) else None


def _filter_list(spec: ReportSpec, where: str) -> list[dict[str, Any]] | None:
    if where == "g":
        return spec.global_filters
    i = _index(where, spec.series)
    if i is None or spec.series[i].get("type") == "formula":
        return None
    filters: list[dict[str, Any]] = spec.series[i].setdefault("filters", [])
    return filters


# -- writing -------------------------------------------------------------------------------------
def _series_query(p: str, series: dict[str, Any]) -> list[tuple[str, str]]:
    if series.get("type") == "formula":
        out = [(p + ".type", "formula"), (p + ".formula", str(series.get("formula", "")))]
    else:
        out = [(p + ".name", str(series.get("name", "")))]
        segment = str(series.get("segment") or "event")
        if segment != "event":
            out.append((p + ".segment", segment))
        if series.get("property"):
            out.append((p + ".property", str(series["property"])))
        out += _filters_query(p + ".f", series.get("filters") or [])
    if series.get("displayName"):
        out.append((p + ".label", str(series["displayName"])))
    return out


def _filters_query(prefix: str, filters: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out = []
    for j, flt in enumerate(filters):
        p = f"{prefix}{j}."
        values = flt.get("value") or []
        out += [(p + "name", str(flt.get("name", ""))), (p + "op", str(flt.get("operator", "is")))]
        if values:
            out.append((p + "value", "" if values[0] is None else str(values[0])))
    return out


def _format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
