"""Pure parts of the dashboard: the view in the URL, form readers, figures, number formats and
the session cookie's flags."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from litestar import Litestar, Response
from litestar.datastructures import State
from litestar.testing import RequestFactory

from embedded_db.errors import ValidationError
from embedded_db.meta import MetaStore
from embedded_db.reports.overview import METRICS
from embedded_db.timeframe import RANGES
from web.dashboard.auth import set_session_cookie
from web.dashboard.charts import line_figure, local_time
from web.dashboard.errors import login_url, safe_next
from web.dashboard.forms import origin_of, origins_of, timezone_of
from web.dashboard.templates import duration, money, number, signed_percent
from web.dashboard.view import View, view_of

NOW = datetime(2026, 5, 14, 10, 30, tzinfo=UTC)


def view(query: str, tz: str = "Europe/Berlin") -> View:
    params = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    request = RequestFactory().get("/dashboard/shop/overview", query_params=params)
    return view_of(request, tz, METRICS, now=NOW)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_the_default_view_is_seven_days_by_day_in_the_project_timezone() -> None:
    v = view("")
    assert (v.range, v.interval, v.compare, v.filters, v.metric) == (
        "7d",
        "day",
        False,
        [],
        "unique_visitors",
    )
    assert v.window.start == datetime(2026, 5, 7, 22, 0, tzinfo=UTC)  # May 8, 00:00 in Berlin
    assert v.window.end == datetime(2026, 5, 14, 22, 0, tzinfo=UTC)


def test_every_engine_range_is_offered_and_custom_dates_are_read() -> None:
    v = view("range=custom&startDate=2026-05-01&endDate=2026-05-03&compare=1")
    assert {o.value for o in v.ranges()} | {"custom"} == set(RANGES)
    assert (v.start_date, v.end_date, v.compare) == ("2026-05-01", "2026-05-03", True)
    assert v.window.end - v.window.start == (
        datetime(2026, 5, 4, tzinfo=UTC) - datetime(2026, 5, 1, tzinfo=UTC)
    )


def test_links_keep_the_view_and_switching_range_drops_the_interval() -> None:
    v = view("range=today&interval=minute&compare=1&metric=bounce_rate")
    assert v.interval == "hour"  # minute does not fit a whole day: the range's default
    assert query_of(v.url(interval="hour")) == {
        "range": ["today"],
        "interval": ["hour"],
        "compare": ["1"],
        "metric": ["bounce_rate"],
    }
    month = [o for o in v.ranges() if o.value == "30d"][0]
    assert query_of(month.url) == {"range": ["30d"], "compare": ["1"], "metric": ["bounce_rate"]}
    allowed = {o.value: o.allowed for o in v.intervals()}
    assert allowed == {"minute": False, "hour": True, "day": True, "week": True, "month": True}


def test_filters_round_trip_through_the_url_as_removable_chips() -> None:
    filters = [
        {"name": "path", "operator": "is", "value": ["/pricing"]},
        {"name": "country", "operator": "isNot", "value": ["DE", "FR"]},
    ]
    v = view("filters=" + json.dumps(filters))
    chips = v.chips()
    assert [c.label for c in chips] == ["path is /pricing", "country is not DE, FR"]
    assert json.loads(query_of(chips[0].remove_url)["filters"][0]) == filters[1:]
    single = view("filters=" + json.dumps(filters[:1])).chips()[0]
    assert "filters" not in query_of(single.remove_url)


def test_the_filter_builder_redirects_to_the_canonical_url() -> None:
    v = view("range=30d&fname=properties.plan&fop=contains&fvalue=pro")
    assert v.redirect is not None
    target = query_of(v.redirect)
    assert target["range"] == ["30d"]
    assert json.loads(target["filters"][0]) == [
        {"name": "properties.plan", "operator": "contains", "value": ["pro"]}
    ]
    assert view("fname=device&fop=isNull").filters[0].value == []


@pytest.mark.parametrize(
    "query",
    [
        "range=forever",
        "range=custom&startDate=2026-05-03",
        "filters=not-json",
        'filters=[{"name":"nope","operator":"is","value":["x"]}]',
        "metric=bogus",
        "fname=path&fop=likes&fvalue=x",
    ],
)
def test_a_bad_view_is_a_validation_error(query: str) -> None:
    with pytest.raises(ValidationError):
        view(query)


@pytest.mark.parametrize(
    ("typed", "origin"),
    [
        ("example.com", "https://example.com"),
        ("http://127.0.0.1:8080/", "http://127.0.0.1:8080"),
        ("https://Shop.Example.com/pricing?x=1", "https://shop.example.com"),
    ],
)
def test_a_domain_becomes_an_origin(typed: str, origin: str) -> None:
    assert origin_of(typed) == origin


@pytest.mark.parametrize("typed", ["", "ftp://example.com", "exa mple.com", "https://*.x.com"])
def test_bad_domains_are_refused(typed: str) -> None:
    with pytest.raises(ValidationError):
        origin_of(typed)


def test_cors_lists_accept_origins_hosts_and_wildcards() -> None:
    text = "https://example.com\nhttps://*.example.com, app.example.org\n*\nhttps://example.com/"
    assert origins_of(text) == [
        "https://example.com",
        "https://*.example.com",
        "app.example.org",
        "*",
    ]
    with pytest.raises(ValidationError):
        origins_of("https://exa mple.com<script>")
    assert timezone_of("") == "UTC" and timezone_of("Asia/Kolkata") == "Asia/Kolkata"
    with pytest.raises(ValidationError):
        timezone_of("Mars/Olympus")


def test_the_overview_figure_plots_local_bucket_times() -> None:
    series = [
        {"date": "2026-05-13T00:00:00+02:00", "unique_visitors": 3, "total_revenue": 1999},
        {"date": "2026-05-14T00:00:00+02:00", "unique_visitors": 5, "total_revenue": 0},
    ]
    figure = json.loads(line_figure(series, "unique_visitors", "day"))
    (trace,) = figure["data"]
    assert (trace["x"], trace["y"], trace["type"]) == (
        ["2026-05-13 00:00", "2026-05-14 00:00"],
        [3.0, 5.0],
        "scatter",
    )
    assert figure["layout"]["xaxis"]["type"] == "date" and not figure["layout"]["showlegend"]
    revenue = json.loads(line_figure(series, "total_revenue", "day", previous=series[:1]))
    assert [t["name"] for t in revenue["data"]] == ["Previous period", "Revenue"]
    assert revenue["data"][1]["y"] == [19.99, 0.0] and revenue["layout"]["showlegend"]
    assert local_time("2026-03-29T03:00:00+02:00") == "2026-03-29 03:00"


def test_numbers_read_well_on_cards() -> None:
    assert (number(12345.6), number(2.5, 2), number(None)) == ("12,346", "2.50", "–")
    assert (duration(45), duration(185), duration(7800)) == ("45s", "3m 05s", "2h 10m")
    assert money(123456) == "1,234.56"
    assert (signed_percent(12.5), signed_percent(-3.0), signed_percent(None)) == (
        "+12.5%",
        "−3%",
        "–",
    )


@pytest.mark.parametrize(
    ("target", "ok"),
    [
        ("/dashboard/shop/overview?range=7d", True),
        ("//evil.example/x", False),
        ("https://evil.example/", False),
        ("/\\evil.example", False),
        ("javascript:alert(1)", False),
    ],
)
def test_login_only_returns_to_local_paths(target: str, ok: bool) -> None:
    assert safe_next(target) is ok
    assert (login_url(target) != "/login") is ok


@pytest.mark.parametrize(
    ("scheme", "public_url", "secure"),
    [
        ("http", "", False),
        ("https", "", True),
        ("http", "https://analytics.example.com", True),  # TLS ends at a proxy in front
    ],
)
def test_the_session_cookie_is_secure_on_https(
    meta: MetaStore, scheme: str, public_url: str, secure: bool
) -> None:
    settings = SimpleNamespace(public_url=public_url, dashboard_local_mode=False)
    app = Litestar(state=State({"meta": meta, "settings": settings}))
    request = RequestFactory(app=app, scheme=scheme).get("/login")
    response = set_session_cookie(request, Response(b""), "token")
    (cookie,) = response.cookies
    assert (cookie.key, cookie.value, cookie.httponly, cookie.samesite) == (
        "op_session",
        "token",
        True,
        "lax",
    )
    assert bool(cookie.secure) is secure
