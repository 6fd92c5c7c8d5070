"""Parsing a chart request (pure): defaults, OpenPanel's legacy shapes, and a ValidationError
naming the field for everything that cannot be accepted."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedded_db.errors import ValidationError
from embedded_db.reports.chart_query import EventSeries, FormulaSeries, parse_chart

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def parse(**raw: Any) -> Any:
    raw.setdefault("series", [{"name": "screen_view"}])
    return parse_chart(raw, "proj", "Europe/Stockholm", NOW, "30d")


def test_defaults() -> None:
    q = parse()
    assert (q.range, q.interval, q.chart_type, q.metric) == ("30d", "day", "linear", "sum")
    assert (q.previous, q.limit, q.offset, q.others, q.formula) == (False, 10, 0, False, None)
    assert q.window.tz == "Europe/Stockholm" and q.breakdowns == [] and q.global_filters == []
    [s] = q.series
    assert s == EventSeries("A", "A", "screen_view")


def test_legacy_events_key_and_custom_dates() -> None:
    q = parse_chart(
        {
            "events": [{"name": "a", "id": "x1", "segment": "user"}, {"name": "*"}],
            "startDate": "2026-03-01",
            "endDate": "2026-03-02",
            "previous": "true",
        },
        "proj",
        "UTC",
        NOW,
        "30d",
    )
    assert [(s.alpha, s.id) for s in q.series] == [("A", "x1"), ("B", "B")]
    assert q.range == "custom" and q.interval == "day" and q.previous is True
    assert q.window.start == datetime(2026, 3, 1, tzinfo=UTC)


def test_formulas_breakdowns_and_hidden_series() -> None:
    q = parse(
        series=[
            {"name": "a"},
            {"type": "event", "name": "b", "segment": "property_sum", "property": "revenue"},
            {"type": "formula", "formula": "A/B", "hideSeries": ["A", "B"], "displayName": "r"},
        ],
        breakdowns=[{"name": "country"}, {"name": "properties.plan"}, "profile.email"],
        formula="A+B",
    )
    formula = q.series[2]
    assert isinstance(formula, FormulaSeries) and formula.formula.references == {"A", "B"}
    assert q.hidden == {"A", "B"} and q.formula is not None
    assert [d.name for d in q.breakdowns] == ["country", "properties.plan", "profile.email"]
    assert isinstance(q.series[1], EventSeries) and q.series[1].property == ("column", "revenue")


def test_query_string_numbers_are_text_where_text_is_meant() -> None:
    q = parse(series=[{"name": 404, "displayName": 7}], formula=2)
    assert q.series[0] == EventSeries("A", "A", "404", display_name="7")
    assert q.formula is not None and q.formula.text == "2"


def test_map_defaults_to_a_country_breakdown() -> None:
    assert [d.name for d in parse(chartType="map").breakdowns] == ["country"]


BAD = [
    ({"series": None}, "series"),
    ({"series": "screen_view"}, "series"),
    ({"series": []}, "series"),
    ({"series": [{"name": "e"}] * 21}, "series"),
    ({"series": ["e"]}, "series.0"),
    ({"series": [{"name": ""}]}, "series.0.name"),
    ({"series": [{"name": ["x"]}]}, "series.0.name"),
    ({"series": [{"name": "e", "type": "sql"}]}, "series.0.type"),
    ({"series": [{"name": "e", "segment": "everything"}]}, "series.0.segment"),
    ({"series": [{"name": "e", "segment": "property_sum"}]}, "series.0.property"),
    ({"series": [{"name": "e", "segment": "property_sum", "property": "os"}]}, "series.0.property"),
    (
        {"series": [{"name": "e", "segment": "property_max", "property": "properties.a'b"}]},
        "series.0.property",
    ),
    ({"series": [{"name": "e", "filters": [{"name": "nope"}]}]}, "series.0.filters.0.name"),
    (
        {
            "series": [
                {"name": "e", "filters": [{"name": "path", "operator": "gt", "value": ["x"]}]}
            ]
        },
        "series.0.filters.value",
    ),
    (
        {
            "series": [
                {"name": "e", "filters": [{"name": "path", "operator": "regex", "value": ["("]}]}
            ]
        },
        "series.0.filters.value",
    ),
    ({"series": [{"type": "formula", "formula": "1+1"}]}, "series"),  # no event series
    ({"series": [{"name": "e"}, {"type": "formula", "formula": "A+C"}]}, "series.1.formula"),
    ({"series": [{"name": "e"}, {"type": "formula", "formula": "open('x')"}]}, "series.1.formula"),
    (
        {"series": [{"name": "e"}, {"type": "formula", "formula": "A", "hideSeries": ["Z"]}]},
        "series.1.hideSeries",
    ),  # fmt: skip
    ({"formula": "A+B"}, "formula"),
    ({"breakdowns": [{"name": "x"}] * 4}, "breakdowns"),
    ({"breakdowns": [{"name": "secret_column"}]}, "breakdowns.0.name"),
    ({"breakdowns": [{"name": "properties.*"}]}, "breakdowns.0.name"),
    ({"breakdowns": [{"name": "profile.password"}]}, "breakdowns.0.name"),
    ({"breakdowns": [{"nom": "path"}]}, "breakdowns.0.name"),
    ({"globalFilters": "path"}, "globalFilters"),
    ({"chartType": "funnel"}, "chartType"),
    ({"metric": "median"}, "metric"),
    ({"previous": "maybe"}, "previous"),
    ({"limit": 0}, "limit"),
    ({"limit": 10**30}, "limit"),
    ({"limit": 2.5}, "limit"),
    ({"offset": -1}, "offset"),
    ({"range": "5y"}, "range"),
    ({"range": "30d", "interval": "minute"}, "interval"),
    ({"range": "custom", "startDate": "2026-03-05", "endDate": "2026-03-01"}, "endDate"),
    ({"range": "custom", "startDate": "yesterday-ish", "endDate": "2026-03-01"}, "startDate"),
]


@pytest.mark.parametrize(("raw", "field"), BAD)
def test_bad_requests_name_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(**raw)
    assert caught.value.field == field


_scalar = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_keys = st.sampled_from(
    ["series", "events", "breakdowns", "globalFilters", "formula", "limit", "previous", "range"]
)
_item_keys = st.sampled_from(
    ["name", "type", "segment", "property", "filters", "formula", "hideSeries", "id"]
)
_item_values = _json | st.sampled_from(
    ["event", "formula", "A/B", "A+", "user", "property_sum", "properties.x", True, ["A"]]
)
_series = st.lists(st.dictionaries(_item_keys, _item_values, max_size=5), max_size=4)


@given(st.dictionaries(_keys, _json, max_size=4))
def test_any_json_parses_or_is_refused(raw: dict[str, Any]) -> None:
    with contextlib.suppress(ValidationError):
        parse_chart(raw, "proj", "UTC", NOW, "30d")


@given(_series, st.lists(st.dictionaries(st.just("name"), _json | st.text()), max_size=4))
def test_any_series_parses_or_is_refused(series: list[Any], breakdowns: list[Any]) -> None:
    with contextlib.suppress(ValidationError):
        parse_chart({"series": series, "breakdowns": breakdowns}, "proj", "UTC", NOW, "30d")
