"""Mappings of other products' raw event exports onto our event columns.

- Mixpanel raw export (NDJSON `{"event", "properties": {"time", "distinct_id", "$device_id",
  "$current_url", "$referrer", "$browser", "$os", "mp_country_code", "$city", "$region", …}}`).
- Amplitude export (NDJSON: `event_type`, `event_time` UTC, `device_id`, `user_id`,
  `event_properties`, `country` (a name), `region`, `city`, `os_name`, `device_type`, …).
- GA4 BigQuery export as NDJSON (`event_name`, `event_timestamp` µs, `user_pseudo_id`, `user_id`,
  `event_params` [{key, value: {string_value, int_value, …}}], `geo` (names), `device`).
- PostHog event export (CSV or NDJSON: `event`, `distinct_id`, `timestamp`, `properties` JSON with
  `$current_url`, `$referrer`, `$device_id`, `$geoip_*`, `$browser`, `$os`, `$device_type`).
- Umami data export CSV (`website_event` joined with its session: `session_id`, `hostname`,
  `url_path`, `url_query`, `referrer_domain`, `event_type` 1 = pageview, `event_name`, …).

Page views become `screen_view` with the page URL, as the web SDK sends them.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from embedded_db.imports.canonical import Mapping
from embedded_db.sql import duck_select

PAGEVIEW_NAMES = "('$mp_web_page_view', '$pageview', '$screen', 'page_view', " + (
    "'[Amplitude] Page Viewed', 'Page Viewed', 'Page View', 'pageview')"
)
_NAME = f"CASE WHEN {{0}} IN {PAGEVIEW_NAMES} THEN 'screen_view' ELSE {{0}} END"
# Names GA4 and Amplitude print for countries whose tz database name differs.
_COUNTRY_ALIASES = {
    "united states": "US",
    "united kingdom": "GB",
    "south korea": "KR",
    "north korea": "KP",
    "russia": "RU",
    "czechia": "CZ",
    "czech republic": "CZ",
    "vietnam": "VN",
    "taiwan": "TW",
    "iran": "IR",
    "syria": "SY",
    "bolivia": "BO",
    "venezuela": "VE",
    "tanzania": "TZ",
    "laos": "LA",
    "moldova": "MD",
    "netherlands": "NL",
    "türkiye": "TR",
    "turkey": "TR",
    "hong kong": "HK",
    "macao": "MO",
    "palestine": "PS",
    "ivory coast": "CI",
    "côte d’ivoire": "CI",
    "myanmar (burma)": "MM",
    "congo - kinshasa": "CD",
    "congo - brazzaville": "CG",
    "bosnia & herzegovina": "BA",
    "trinidad & tobago": "TT",
}


def country_codes() -> list[tuple[str, str]]:
    """(lowercase country name, ISO alpha-2) from the tz database's iso3166.tab plus aliases."""
    text = (resources.files("tzdata.zoneinfo") / "iso3166.tab").read_text("utf-8")
    pairs = {}
    for line in text.splitlines():
        if line and not line.startswith("#") and "\t" in line:
            code, name = line.split("\t", 1)
            pairs[name.strip().lower()] = code.strip()
    pairs.update(_COUNTRY_ALIASES)
    return sorted(pairs.items())


def register_countries(con: Any) -> None:
    """Create the `country_names(name, code)` lookup used by the GA4 and Amplitude mappings."""
    con.execute("CREATE OR REPLACE TEMP TABLE country_names (name VARCHAR, code VARCHAR)")
    con.executemany("INSERT INTO country_names VALUES (?, ?)", country_codes())


def _country(expr: str) -> str:
    lookup = duck_select(["code"], "country_names", f"WHERE name = lower({expr})")
    return f"CASE WHEN length({expr}) = 2 THEN upper({expr}) ELSE coalesce(({lookup}), '') END"


def _j(key: str) -> str:
    return f"json ->> '{key}'"


def mixpanel(source: str) -> Mapping:
    p = "$.properties."
    device = f"coalesce(nullif({_j(p + '$device_id')}, ''), {_j(p + 'distinct_id')})"
    user = f"coalesce(nullif({_j(p + '$user_id')}, ''), '')"
    return Mapping(
        source=source,
        columns={
            "name": _NAME.format(_j("$.event")),
            "created_at": f"epoch_any(CAST({_j(p + 'time')} AS DOUBLE))",
            "device_id": device,
            "profile_id": user,
            "url": _j(p + "$current_url"),
            "referrer": f"CASE WHEN {_j(p + '$referrer')} = '$direct' THEN '' "
            f"ELSE {_j(p + '$referrer')} END",
            "properties": "flat_json(json -> '$.properties')",
            "country": _j(p + "mp_country_code"),
            "region": _j(p + "$region"),
            "city": _j(p + "$city"),
            "os": _j(p + "$os"),
            "browser": _j(p + "$browser"),
            "browser_version": _j(p + "$browser_version"),
            "device": f"lower({_j(p + '$device')})",
            "model": _j(p + "$model"),
            "brand": _j(p + "$manufacturer"),
            "ip": _j(p + "ip"),
            "sdk_name": _j(p + "mp_lib"),
            "sdk_version": _j(p + "$lib_version"),
        },
    )


_AMPLITUDE_URL = '"[Amplitude] Page URL"'
_AMPLITUDE_REFERRER = '"[Amplitude] Referrer"'


def amplitude(source: str) -> Mapping:
    ep = "$.event_properties."
    page_url, referrer = _j(ep + _AMPLITUDE_URL), _j(ep + _AMPLITUDE_REFERRER)
    url = f"coalesce({page_url}, {_j(ep + 'page_url')})"
    return Mapping(
        source=source,
        columns={
            "name": _NAME.format(_j("$.event_type")),
            "created_at": f"utc({_j('$.event_time')})",
            "device_id": f"coalesce(nullif({_j('$.device_id')}, ''), {_j('$.user_id')})",
            "profile_id": f"coalesce({_j('$.user_id')}, '')",
            "url": url,
            "referrer": f"coalesce({referrer}, {_j(ep + 'referrer')}, '')",
            "properties": "flat_json(json -> '$.event_properties')",
            "country": _country(f"coalesce({_j('$.country')}, '')"),
            "region": _j("$.region"),
            "city": _j("$.city"),
            "latitude": _j("$.location_lat"),
            "longitude": _j("$.location_lng"),
            "os": _j("$.os_name"),
            "os_version": _j("$.os_version"),
            "device": f"lower(coalesce({_j('$.device_type')}, {_j('$.device_family')}))",
            "brand": _j("$.device_brand"),
            "model": _j("$.device_model"),
            "ip": _j("$.ip_address"),
            "sdk_name": _j("$.library"),
        },
    )


_GA4_PARAMS = (
    "map_from_entries(list_filter(list_transform(coalesce(from_json(json -> '$.event_params', "
    '\'[{"key": "VARCHAR", "value": {"string_value": "VARCHAR", "int_value": "VARCHAR", '
    '"float_value": "VARCHAR", "double_value": "VARCHAR"}}]\'), []), lambda p: {\'key\': '
    "p.key, 'value': coalesce(p.value.string_value, p.value.int_value, p.value.double_value, "
    "p.value.float_value)}), lambda e: e.value IS NOT NULL AND e.value <> ''))"
)


def ga4(source: str) -> Mapping:
    params = f"({_GA4_PARAMS})"
    return Mapping(
        source=source,
        columns={
            "name": _NAME.format(_j("$.event_name")),
            "created_at": f"epoch_any(CAST({_j('$.event_timestamp')} AS DOUBLE))",
            "device_id": _j("$.user_pseudo_id"),
            "profile_id": f"coalesce({_j('$.user_id')}, '')",
            "url": f"{params}['page_location']",
            "referrer": f"coalesce({params}['page_referrer'], '')",
            "properties": params,
            "country": _country(f"coalesce({_j('$.geo.country')}, '')"),
            "region": _j("$.geo.region"),
            "city": _j("$.geo.city"),
            "os": _j("$.device.operating_system"),
            "os_version": _j("$.device.operating_system_version"),
            "browser": _j("$.device.web_info.browser"),
            "browser_version": _j("$.device.web_info.browser_version"),
            "device": f"lower({_j('$.device.category')})",
            "brand": _j("$.device.mobile_brand_name"),
            "model": _j("$.device.mobile_model_name"),
            "sdk_name": f"lower({_j('$.platform')})",
        },
    )


def posthog(source: str, csv: bool) -> Mapping:
    """PostHog rows; in CSV exports `properties` is a JSON text column."""
    if csv:
        props, top = "try(json(properties))", "{0}"
    else:
        props, top = "(json -> '$.properties')", "(json ->> '$.{0}')"

    def p(key: str) -> str:
        return f"({props} ->> '$.\"{key}\"')"

    distinct = top.format("distinct_id")
    return Mapping(
        source=source,
        columns={
            "name": _NAME.format(top.format("event")),
            "created_at": f"utc({top.format('timestamp')})",
            "device_id": f"coalesce(nullif({p('$device_id')}, ''), {distinct})",
            "profile_id": f"CASE WHEN {distinct} = {p('$device_id')} THEN '' ELSE {distinct} END",
            "url": p("$current_url"),
            "referrer": f"CASE WHEN {p('$referrer')} = '$direct' THEN '' ELSE {p('$referrer')} END",
            "properties": f"flat_json({props})",
            "country": p("$geoip_country_code"),
            "region": p("$geoip_subdivision_1_name"),
            "city": p("$geoip_city_name"),
            "latitude": p("$geoip_latitude"),
            "longitude": p("$geoip_longitude"),
            "os": p("$os"),
            "os_version": p("$os_version"),
            "browser": p("$browser"),
            "browser_version": p("$browser_version"),
            "device": f"lower({p('$device_type')})",
            "ip": f"coalesce({p('$ip')}, '')",
            "ua": f"coalesce({p('$raw_user_agent')}, '')",
            "sdk_name": p("$lib"),
            "sdk_version": p("$lib_version"),
        },
    )


def umami(source: str) -> Mapping:
    query = "CASE WHEN coalesce(url_query, '') = '' THEN '' ELSE '?' || url_query END"
    referrer = (
        "CASE WHEN coalesce(referrer_domain, '') = '' THEN '' ELSE 'https://' || "
        "referrer_domain || coalesce(referrer_path, '') END"
    )
    props = (
        "map_from_entries(list_filter([{'key': '__title', 'value': page_title}, "
        "{'key': 'screen', 'value': screen}, {'key': 'language', 'value': language}], "
        "lambda e: e.value IS NOT NULL AND e.value <> ''))"
    )
    return Mapping(
        source=source,
        columns={
            "name": "CASE WHEN event_type = '1' OR coalesce(event_name, '') = '' "
            "THEN 'screen_view' ELSE event_name END",
            "created_at": "utc(created_at)",
            "device_id": "session_id",
            "profile_id": "coalesce(distinct_id, '')",
            "url": f"'https://' || hostname || url_path || {query}",
            "referrer": referrer,
            "properties": props,
            "country": "country",
            "region": "coalesce(region, '')",
            "city": "city",
            "os": "os",
            "browser": "browser",
            "device": "device",
        },
    )
