"""The report builder and saved reports over real HTTP, on the known funnel data of
report_data.py: every chart type answers with the numbers computed by hand, the state lives in
the URL, CSV downloads are formula-injection safe, saved reports follow the roles, and hostile
input never causes a server error."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from embedded_db.saved_reports import ReportSpec
from tests.dashboard.browser_session import BrowserSession
from tests.dashboard.conftest import Site
from tests.dashboard.report_data import FUNNEL, funnel_counts, seed_funnel
from web.dashboard.report_run import csv_text, safe_cell
from web.dashboard.report_state import query_of, spec_of


@pytest.fixture(scope="module")
def seeded(site: Site) -> Site:
    seed_funnel(site)
    return site


@pytest.fixture(scope="module")
def viewer(seeded: Site) -> Iterator[BrowserSession]:
    browser = seeded.join("viewer", "report-viewer@example.com")
    yield browser
    browser.close()


def builder(site: Site, query: str, browser: BrowserSession | None = None) -> str:
    page = (browser or site.owner).get(site.page("reports/new?" + query))
    assert page.status_code == 200, (query, page.status_code, page.text[:2000])
    assert "rb-error" not in page.text, re.findall(r'rb-error" role="alert"><p>([^<]*)', page.text)
    return page.text


def series_rows(page: str) -> dict[str, str]:
    table = page.split('class="table rb-series-table"', 1)[1].split("</table>", 1)[0]
    found = re.findall(r'<tr><td>([^<]*)</td><td class="num">([^<]*)</td>', table)
    return {html.unescape(name): total for name, total in found}


def figure_of(page: str) -> dict[str, Any]:
    found = re.search(r'data-figure="([^"]*)"', page)
    assert found, page[:2000]
    figure: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return figure


def test_the_url_state_reads_back_to_the_same_spec() -> None:
    query = {
        "chart": "funnel",
        "range": "custom",
        "startDate": "2026-05-01",
        "endDate": "2026-05-07",
        "window": "1.5",
        "group": "profile_id",
        "s0.name": "screen_view",
        "s0.f0.name": "path",
        "s0.f0.op": "is",
        "s0.f0.value": "/",
        "s1.name": "signup",
        "s1.label": "Signed up",
        "f0.name": "country",
        "f0.op": "isNull",
        "b0": "browser",
    }
    spec = spec_of(query)
    assert spec.series[0]["filters"] == [{"name": "path", "operator": "is", "value": ["/"]}]
    assert spec.global_filters == [{"name": "country", "operator": "isNull", "value": []}]
    assert (spec.funnel_window, spec.funnel_group, spec.breakdowns) == (
        1.5,
        "profile_id",
        [{"name": "browser"}],
    )
    assert spec_of(dict(query_of(spec))) == spec
    assert ReportSpec.from_row(spec.row()) == spec
    added = spec_of({**query, "op": "add-filter:1"})
    assert added.series[1]["filters"] == [{"name": "", "operator": "is", "value": [""]}]
    assert len(spec_of({**query, "op": "del-series:0"}).series) == 2  # a funnel keeps two steps
    assert spec_of({**query, "op": "del-series:7"}) == spec  # out of range: nothing happens
    assert spec_of({"op": "del-breakdown:0", **query}).breakdowns == []


def test_csv_cells_never_start_a_formula() -> None:
    assert [safe_cell(v) for v in ("=1", "+1", "-1", "@x", "\tx", "a=1", -1, None)] == [
        "'=1",
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "a=1",
        -1,
        "",
    ]
    assert csv_text([["a,b", '"q"'], [1, 2.5]]) == '"a,b","""q"""\r\n1,2.5\r\n'


def test_a_line_chart_counts_events_visitors_and_breakdowns(seeded: Site) -> None:
    assert series_rows(builder(seeded, "chart=linear&s0.name=screen_view")) == {"screen_view": "3"}
    two = builder(seeded, "chart=linear&s0.name=signup_started&s1.name=signup_done&s1.segment=user")
    assert series_rows(two) == {"(A) signup_started": "2", "(B) signup_done": "1"}
    by_path = builder(seeded, "chart=linear&s0.name=screen_view&b0=path")
    assert series_rows(by_path) == {"screen_view · /": "2", "screen_view · /pricing": "1"}
    formula = builder(
        seeded,
        "chart=linear&s0.name=signup_started&s1.name=screen_view"
        "&s2.type=formula&s2.formula=A*100/B&s2.label=Started+%25",
    )
    assert series_rows(formula)["(C) Started %"] == "66.67"
    filtered = builder(seeded, "chart=linear&s0.name=screen_view&f0.name=path&f0.op=is&f0.value=/")
    assert series_rows(filtered) == {"screen_view": "2"}
    per_series = builder(
        seeded, "chart=linear&s0.name=screen_view&s0.f0.name=path&s0.f0.op=contains&s0.f0.value=pri"
    )
    assert series_rows(per_series) == {"screen_view": "1"}
    figure = figure_of(builder(seeded, "chart=area&s0.name=screen_view&range=7d"))
    (trace,) = figure["data"]
    assert trace["stackgroup"] == "one" and sum(trace["y"]) == 3 and len(trace["x"]) == 7


def test_previous_period_bar_pie_metric_and_map(seeded: Site) -> None:
    previous = figure_of(builder(seeded, "chart=linear&s0.name=screen_view&range=7d&previous=1"))
    assert [t["name"] for t in previous["data"]] == ["screen_view (previous)", "screen_view"]
    assert sum(previous["data"][0]["y"]) == 0 and sum(previous["data"][1]["y"]) == 3
    bar = figure_of(builder(seeded, "chart=bar&s0.name=screen_view&b0=path"))["data"][0]
    assert dict(zip(bar["y"], bar["x"], strict=True)) == {
        "screen_view · /pricing": 1,
        "screen_view · /": 2,
    }
    pie = figure_of(builder(seeded, "chart=pie&s0.name=signup_started&s1.name=signup_done"))
    assert pie["data"][0]["values"] == [2, 1]
    metric = figure_of(builder(seeded, "chart=metric&s0.name=screen_view&s0.segment=user"))
    assert metric["data"][0]["value"] == 3 and metric["data"][0]["type"] == "indicator"
    world = figure_of(builder(seeded, "chart=map&s0.name=screen_view"))["data"][0]
    assert world["type"] == "choropleth"  # no geo database in these tests: no countries


def test_funnel_conversion_retention_and_user_flow(seeded: Site) -> None:
    funnel = builder(seeded, FUNNEL)
    assert funnel_counts(funnel) == ["3", "2", "1"]
    assert '<strong class="conversion-rate">33.3%</strong> (1 of 3)' in funnel
    assert figure_of(funnel)["data"][0]["x"] == [3, 2, 1]
    assert "<li>" in funnel.split('class="rb-suggestions"', 1)[1]  # findings in words
    by_visitor = builder(seeded, FUNNEL + "&group=profile_id&window=1")
    assert funnel_counts(by_visitor) == ["3", "2", "1"] and ">Visitors<" in by_visitor
    conversion = builder(seeded, FUNNEL.replace("funnel", "conversion") + "&range=7d")
    assert "Conversion: <strong>33.3%</strong> (1 of 3)" in conversion
    assert sum(1 for y in figure_of(conversion)["data"][0]["y"] if y) == 1
    retention = builder(seeded, "chart=retention&s0.name=screen_view&range=7d")
    assert "3 visitors in 7 cohorts" in retention
    z = figure_of(retention)["data"][0]["z"]
    assert [row[0] for row in z][-1] == 100  # today's cohort: all three came back on day 0
    flow = builder(seeded, "chart=sankey&s0.name=screen_view&steps=3")
    assert "3 visits with screen_view." in flow
    sankey = figure_of(flow)["data"][0]
    assert sankey["node"]["label"][0] == "/" and sorted(sankey["link"]["value"]) == [1, 2]


def test_the_state_lives_in_the_url_and_htmx_gets_the_builder_alone(seeded: Site) -> None:
    owner = seeded.owner
    added = owner.get(seeded.page("reports/new?" + FUNNEL + "&op=add-series"))
    assert added.status_code == 303
    target = urlsplit(added.headers["location"])
    assert target.path == seeded.page("reports/new")
    assert dict(parse_qsl(target.query, keep_blank_values=True))["s3.name"] == ""
    removed = owner.get(seeded.page("reports/new?" + FUNNEL + "&op=del-series:1"))
    query = dict(parse_qsl(urlsplit(removed.headers["location"]).query))
    assert (query["s0.name"], query["s1.name"], "s2.name" in query) == (
        "screen_view",
        "signup_done",
        False,
    )
    htmx = owner.get(
        seeded.page("reports/new?" + FUNNEL + "&f0.name=path&op=del-filter:g:0"),
        headers={"hx-request": "true"},
    )
    assert htmx.status_code == 200 and htmx.text.lstrip().startswith('<div id="builder"')
    assert htmx.headers["hx-push-url"] == seeded.page(
        "reports/new?" + FUNNEL.replace("chart=funnel", "chart=funnel&range=30d")
    )
    assert "<html" not in htmx.text and funnel_counts(htmx.text) == ["3", "2", "1"]
    unfinished = owner.get(seeded.page("reports/new?chart=funnel&s0.name=screen_view"))
    assert unfinished.status_code == 200 and "Series B, name: must be 1 to 200" in unfinished.text


def test_csv_downloads_are_exact_and_formula_safe(seeded: Site) -> None:
    owner = seeded.owner
    down = owner.get(seeded.page("reports/csv?" + FUNNEL + "&s0.label=%3DHYPERLINK(1)"))
    assert down.status_code == 200 and down.headers["content-type"].startswith("text/csv")
    assert "attachment" in down.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(down.text)))
    assert rows == [
        ["step", "event", "count", "percent of first", "lost from previous"],
        ["1", "'=HYPERLINK(1)", "3", "100.0", "0"],
        ["2", "signup_started", "2", "66.67", "1"],
        ["3", "signup_done", "1", "33.33", "1"],
    ]
    line = owner.get(seeded.page("reports/csv?chart=linear&range=7d&s0.name=screen_view&b0=path"))
    table = list(csv.reader(io.StringIO(line.text)))
    assert table[0] == ["date", "screen_view · /", "screen_view · /pricing"]
    assert len(table) == 8 and sum(int(r[1]) for r in table[1:]) == 2
    for cell in ("=1+2", "+1", "-1", "@SUM(A1)"):
        named = owner.get(
            seeded.page(
                "reports/csv?chart=linear&s0.name=screen_view&s0.label=" + cell.replace("+", "%2B")
            )
        )
        assert list(csv.reader(io.StringIO(named.text)))[0][1] == "'" + cell


def test_saved_reports_follow_the_roles(seeded: Site, viewer: BrowserSession) -> None:
    owner = seeded.owner
    owner.get(seeded.page("reports/new"))
    saved = owner.post(seeded.page("reports"), {"name": "Signup funnel", "state": FUNNEL})
    assert saved.status_code == 303
    path = saved.headers["location"]
    report_id = path.rsplit("/", 1)[1]
    page = owner.get(path)
    assert page.status_code == 200 and '<h1 class="page-title">Signup funnel</h1>' in page.text
    assert funnel_counts(page.text) == ["3", "2", "1"] and "Save changes" in page.text
    listed = owner.get(seeded.page("reports")).text
    assert "Signup funnel" in listed and "Funnel</span>" in listed
    assert "Signup funnel" not in owner.get(seeded.page("reports?q=pageviews")).text
    seen = viewer.get(path)
    assert seen.status_code == 200 and funnel_counts(seen.text) == ["3", "2", "1"]
    assert "Save changes" not in seen.text and "/rename" not in seen.text
    for action, form in (("", {"state": "chart=pie"}), ("/rename", {"name": "x"}), ("/delete", {})):
        assert viewer.post(path + action, form).status_code == 403
    member = seeded.join("member", "report-member@example.com")
    try:
        state = "chart=funnel&s0.name=screen_view&s1.name=signup_done"
        assert member.post(path, {"state": state}).status_code == 303
        assert funnel_counts(member.get(path).text) == ["3", "1"]
        assert member.post(path + "/rename", {"name": "Signups <b>v2</b>"}).status_code == 303
        assert "Signups &lt;b&gt;v2&lt;/b&gt;" in owner.get(seeded.page("reports?sort=name")).text
        assert member.post(path + "/rename", {"name": "  "}).status_code == 400
        assert member.post(path + "/delete").status_code == 303
    finally:
        member.close()
    assert owner.get(path).status_code == 404
    assert owner.get(seeded.page("reports/" + report_id + "x")).status_code == 404


def test_an_empty_list_tells_what_to_do(site: Site) -> None:
    empty = site.owner.get(site.page("reports"))
    assert empty.status_code == 200
    assert "No saved reports yet" in empty.text or "Signup funnel" in empty.text


HOSTILE = [
    "chart=<script>",
    "chart=funnel&s0.name='\"}{<script>&s1.name=\\\\x&window=abc",
    "chart=funnel&s0.name=a&s1.name=b&window=-1&group=nope",
    "chart=linear&s0.name=x&s0.segment=property_sum&s0.property=a'b",
    "chart=linear&s0.name=x&f0.name=properties.a'b&f0.op=regex&f0.value=(a",
    "chart=linear&s0.name=x&f0.name=nope&f0.op=huh&f0.value=1",
    "chart=linear&s0.name=%F0%9F%98%80&b0=properties.%7B%7B7*7%7D%7D&b1=nope",
    "chart=linear&s0.type=formula&s0.formula=__import__('os')",
    "chart=linear&s0.name=x&s1.type=formula&s1.formula=A/0",
    "chart=retention&range=custom&startDate=2020-01-01&endDate=2026-01-01&interval=day",
    "chart=sankey&s0.name=x&mode=between&steps=99",
    "chart=sankey&mode=sideways&steps=1e9",
    "chart=linear&range=forever&interval=minute",
    "chart=metric&metric=median&s0.name=" + "x" * 600,
    "op=del-filter:9:9&op=add-filter:x",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_builder_input_never_causes_a_server_error(seeded: Site, query: str) -> None:
    for path in ("reports/new?", "reports/csv?"):
        answer = seeded.owner.get(seeded.page(path + query))
        assert answer.status_code in (200, 303, 400), (path, query, answer.status_code)
        assert "<script>" not in answer.text.replace('<script src="', "")
