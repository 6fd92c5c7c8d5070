"""Other products' raw exports: Mixpanel, Amplitude, GA4 (BigQuery NDJSON), PostHog (CSV and
NDJSON) and Umami CSV — each written here in the vendor's documented shape — and Plausible's
aggregated CSV."""

from __future__ import annotations

import csv
import gzip
import json
import zipfile
from pathlib import Path
from typing import Any

from tests.imports.conftest import Imports

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def _lines(path: Path, rows: list[dict[str, Any]], zipped: bool = False) -> Path:
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.write_bytes(gzip.compress(data) if zipped else data)
    return path


def _page_views(imports: Imports) -> list[dict[str, Any]]:
    return [e for e in imports.events() if e["name"] not in ("session_start", "session_end")]


def test_mixpanel_raw_export(imports: Imports) -> None:
    rows = [
        {
            "event": "$mp_web_page_view",
            "properties": {
                "time": 1714557600,
                "distinct_id": "$device:abc",
                "$device_id": "abc",
                "$insert_id": "i1",
                "$current_url": "https://shop.example/home?utm_source=twitter",
                "$referrer": "https://news.ycombinator.com/",
                "$browser": "Chrome",
                "$os": "Mac OS X",
                "mp_country_code": "DE",
                "$city": "Berlin",
                "mp_lib": "web",
            },
        },
        {
            "event": "Signed Up",
            "properties": {
                "time": 1714557720,
                "distinct_id": "user-42",
                "$device_id": "abc",
                "$user_id": "user-42",
                "$current_url": "https://shop.example/signup",
                "$referrer": "$direct",
                "plan": {"name": "pro", "seats": 3},
            },
        },
    ]
    result = imports.importer.run(_lines(imports.tmp / "mp.ndjson", rows), imports.project_id)
    assert result.format == "mixpanel" and result.sessions == 1
    view, signup = _page_views(imports)
    assert (view["name"], view["created_at"], view["path"]) == (
        "screen_view",
        "2024-05-01 10:00:00.000",
        "/home",
    )
    assert (view["device_id"], view["country"], view["city"], view["os"]) == (
        "abc",
        "DE",
        "Berlin",
        "Mac OS X",
    )
    assert view["referrer_name"] == "Twitter" and view["referrer_type"] == "social"  # utm wins
    assert view["properties"]["__query.utm_source"] == "twitter"
    assert signup["profile_id"] == "user-42"
    assert signup["properties"]["plan.name"] == "pro" and signup["properties"]["plan.seats"] == "3"
    [visit] = imports.sessions()
    assert visit["profile_id"] == "user-42" and visit["utm_source"] == "twitter"


def test_amplitude_export_gzipped(imports: Imports) -> None:
    rows = [
        {
            "event_type": "[Amplitude] Page Viewed",
            "event_time": "2024-05-01 10:00:00.123000",
            "device_id": "amp-dev",
            "user_id": None,
            "event_properties": {"[Amplitude] Page URL": "https://app.example/dashboard"},
            "country": "United Kingdom",
            "city": "London",
            "region": "England",
            "os_name": "Chrome",
            "device_type": "Mac",
            "platform": "Web",
            "library": "amplitude-ts/2.0",
        },
        {
            "event_type": "Report Created",
            "event_time": "2024-05-01 10:03:00.000000",
            "device_id": "amp-dev",
            "user_id": "u-7",
            "event_properties": {"kind": "funnel"},
            "country": "United Kingdom",
        },
    ]
    path = _lines(imports.tmp / "amp.json.gz", rows, zipped=True)
    result = imports.importer.run(path, imports.project_id)
    assert result.format == "amplitude" and result.sessions == 1
    view, report = _page_views(imports)
    assert view["created_at"] == "2024-05-01 10:00:00.123"
    assert (view["path"], view["origin"]) == ("/dashboard", "https://app.example")
    assert view["country"] == "GB" and view["region"] == "England"
    assert view["sdk_name"] == "amplitude-ts/2.0"
    assert report["profile_id"] == "u-7" and report["properties"] == {"kind": "funnel"}


def test_ga4_bigquery_export(imports: Imports) -> None:
    def param(key: str, value: Any) -> dict[str, Any]:
        kind = "int_value" if isinstance(value, int) else "string_value"
        return {"key": key, "value": {kind: value}}

    rows = [
        {
            "event_date": "20240501",
            "event_timestamp": "1714557600000000",
            "event_name": "page_view",
            "event_params": [
                param("page_location", "https://blog.example/post?utm_source=bing"),
                param("page_referrer", "https://www.bing.com/"),
                param("ga_session_id", 1714557600),
            ],
            "user_pseudo_id": "123.456",
            "user_id": None,
            "device": {
                "category": "mobile",
                "mobile_brand_name": "Apple",
                "mobile_model_name": "iPhone",
                "operating_system": "iOS",
                "operating_system_version": "iOS 17.4",
                "web_info": {"browser": "Safari", "browser_version": "17.4"},
            },
            "geo": {"country": "France", "region": "Ile-de-France", "city": "Paris"},
            "platform": "WEB",
        }
    ]
    result = imports.importer.run(_lines(imports.tmp / "ga4.ndjson", rows), imports.project_id)
    assert result.format == "ga4" and result.sessions == 1
    [view] = _page_views(imports)
    assert (view["name"], view["path"], view["created_at"]) == (
        "screen_view",
        "/post",
        "2024-05-01 10:00:00.000",
    )
    assert (view["country"], view["city"], view["device"], view["brand"]) == (
        "FR",
        "Paris",
        "mobile",
        "Apple",
    )
    assert (view["browser"], view["os"]) == ("Safari", "iOS")
    assert view["properties"]["ga_session_id"] == "1714557600"
    assert view["referrer_name"] == "Bing" and view["referrer_type"] == "search"


def test_posthog_csv_and_ndjson(imports: Imports) -> None:
    props = {
        "$current_url": "https://app.example/settings",
        "$device_id": "ph-dev",
        "$geoip_country_code": "AU",
        "$browser": "Firefox",
        "$os": "Linux",
        "$device_type": "Desktop",
        "$referrer": "$direct",
    }
    csv_path = imports.tmp / "posthog.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["uuid", "event", "distinct_id", "timestamp", "properties"])
        writer.writerow(["u1", "$pageview", "ph-dev", "2024-05-01T10:00:00Z", json.dumps(props)])
    result = imports.importer.run(csv_path, imports.project_id)
    assert result.format == "posthog" and result.sessions == 1
    ndjson = _lines(
        imports.tmp / "posthog.ndjson",
        [
            {
                "uuid": "u2",
                "event": "clicked",
                "distinct_id": "alice@example.com",
                "timestamp": "2024-05-01T10:01:00.000Z",
                "properties": {**props, "$current_url": "https://app.example/billing"},
            }
        ],
    )
    second = imports.importer.run(ndjson, imports.project_id)
    assert second.format == "posthog"
    view, click = sorted(_page_views(imports), key=lambda e: e["created_at"])
    assert (view["name"], view["path"], view["device"], view["country"]) == (
        "screen_view",
        "/settings",
        "desktop",
        "AU",
    )
    assert view["profile_id"] == "ph-dev" and view["referrer"] == ""
    assert click["profile_id"] == "alice@example.com" and click["device_id"] == "ph-dev"


def test_umami_csv(imports: Imports) -> None:
    header = (
        "website_id,session_id,visit_id,event_id,hostname,browser,os,device,screen,language,"
        "country,region,city,url_path,url_query,utm_source,utm_medium,utm_campaign,utm_content,"
        "utm_term,referrer_path,referrer_query,referrer_domain,page_title,gclid,fbclid,msclkid,"
        "ttclid,li_fat_id,twclid,event_type,event_name,tag,distinct_id,created_at,job_id"
    )
    row1 = (
        "w1,s-1,v1,e1,umami.example,chrome,Mac OS,desktop,1920x1080,en-US,NL,NL-NH,Amsterdam,"
        "/docs,ref=producthunt,,,,,,/posts,,www.producthunt.com,Docs,,,,,,,1,,,,"
        "2024-05-01 10:00:00,"
    )
    row2 = (
        "w1,s-1,v1,e2,umami.example,chrome,Mac OS,desktop,1920x1080,en-US,NL,NL-NH,Amsterdam,"
        "/docs/install,,,,,,,,,,Install,,,,,,,2,copy-snippet,,,2024-05-01 10:02:00,"
    )
    path = imports.tmp / "umami.csv"
    path.write_text("\n".join((header, row1, row2)) + "\n", encoding="utf-8")
    result = imports.importer.run(path, imports.project_id)
    assert result.format == "umami" and result.sessions == 1
    view, snippet = _page_views(imports)
    assert (view["name"], view["path"], view["origin"]) == (
        "screen_view",
        "/docs",
        "https://umami.example",
    )
    assert view["properties"]["__title"] == "Docs" and view["country"] == "NL"
    assert view["referrer_name"] == "Product Hunt"
    assert (snippet["name"], snippet["path"]) == ("copy-snippet", "/docs/install")
    [visit] = imports.sessions()
    assert (visit["screen_view_count"], visit["event_count"]) == (1, 1)


def test_plausible_aggregates_become_equivalent_visits(imports: Imports) -> None:
    from datetime import UTC, datetime

    from embedded_db.reports.overview import OverviewQuery, overview
    from embedded_db.timeframe import Window

    path = imports.tmp / "plausible-export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("imported_pages_20240501_20240502.csv", "date,hostname,page\n")
        archive.writestr(
            "imported_visitors_20240501_20240502.csv",
            "date,visitors,pageviews,bounces,visits,visit_duration\n"
            "2024-05-01,3,10,2,5,600\n"
            "2024-05-02,1,1,1,1,0\n",
        )
    result = imports.importer.run(path, imports.project_id)
    assert result.format == "plausible" and "daily aggregates" in result.notes[0]
    window = Window(
        start=datetime(2024, 5, 1, tzinfo=UTC), end=datetime(2024, 5, 3, tzinfo=UTC), tz="UTC"
    )
    report = overview(
        imports.store, OverviewQuery(imports.project_id, window, "day", previous=False)
    )
    day1, day2 = report["series"]
    assert (day1["unique_visitors"], day1["total_sessions"], day1["total_screen_views"]) == (
        3,
        5,
        10,
    )
    assert day1["bounce_rate"] == 40.0 and day1["avg_session_duration"] == 200.0
    assert (day2["unique_visitors"], day2["total_sessions"], day2["bounce_rate"]) == (1, 1, 100.0)
