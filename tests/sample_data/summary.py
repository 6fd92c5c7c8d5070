"""Aggregates of one project's stored data, for comparing two loads of the same scenario."""

from __future__ import annotations

from typing import Any

from embedded_db.store import EventStore

# Each query returns rows that are compared as sorted lists; {p:String} is the project.
QUERIES: dict[str, str] = {
    "events per name": (
        "SELECT name, count() AS n, sum(toUnixTimestamp64Milli(created_at)) AS t, "
        "sum(revenue) AS revenue, sum(duration) AS duration "
        "FROM openpanel.events WHERE project_id = {p:String} GROUP BY name"
    ),
    "events per page": (
        "SELECT name, origin, path, referrer, referrer_name, referrer_type, sdk_name, "
        "count() AS n FROM openpanel.events WHERE project_id = {p:String} "
        "GROUP BY name, origin, path, referrer, referrer_name, referrer_type, sdk_name"
    ),
    "event properties": (
        "SELECT name, arraySort(arrayMap((k, v) -> concat(k, '=', v), mapKeys(properties), "
        "mapValues(properties))) AS props, count() AS n "
        "FROM openpanel.events WHERE project_id = {p:String} GROUP BY name, props"
    ),
    "event context": (
        "SELECT country, region, city, latitude, longitude, os, os_version, browser, "
        "browser_version, device, brand, model, count() AS n "
        "FROM openpanel.events WHERE project_id = {p:String} "
        "GROUP BY country, region, city, latitude, longitude, os, os_version, browser, "
        "browser_version, device, brand, model"
    ),
    "event identities": (
        "SELECT uniq(profile_id) AS profiles, uniq(device_id) AS devices, "
        "uniq(session_id) AS sessions, countIf(profile_id = device_id) AS anonymous, "
        "uniqIf(profile_id, profile_id != device_id) AS users "
        "FROM openpanel.events WHERE project_id = {p:String}"
    ),
    "visit totals": (
        "SELECT count() AS visits, countIf(is_bounce) AS bounces, sum(duration) AS duration, "
        "sum(screen_view_count) AS views, sum(event_count) AS events, sum(revenue) AS revenue, "
        "uniq(profile_id) AS visitors, uniq(device_id) AS devices "
        "FROM openpanel.sessions FINAL WHERE project_id = {p:String}"
    ),
    "visits": (
        "SELECT created_at, ended_at, duration, is_bounce, entry_origin, entry_path, "
        "exit_origin, exit_path, screen_view_count, event_count, revenue, country, region, "
        "city, latitude, longitude, device, brand, model, browser, browser_version, os, "
        "os_version, utm_medium, utm_source, utm_campaign, utm_content, utm_term, referrer, "
        "referrer_name, referrer_type, groups, profile_id = device_id AS anonymous, "
        "if(profile_id = device_id, '', profile_id) AS user "
        "FROM openpanel.sessions FINAL WHERE project_id = {p:String}"
    ),
    "visit ids match events": (
        "SELECT count() AS n FROM openpanel.sessions FINAL WHERE project_id = {p:String} "
        "AND id IN (SELECT session_id FROM openpanel.events WHERE project_id = {p:String} "
        "AND name = 'session_end')"
    ),
    "profiles": (
        "SELECT if(is_external, id, '') AS user, is_external, first_name, last_name, email, "
        "avatar, arraySort(arrayMap((k, v) -> concat(k, '=', v), mapKeys(properties), "
        "mapValues(properties))) AS props, created_at, groups "
        "FROM openpanel.profiles FINAL WHERE project_id = {p:String}"
    ),
}


def summary(store: EventStore, project_id: str) -> dict[str, list[Any]]:
    """Every QUERIES result for the project, rows sorted so that two projects compare."""
    out = {}
    for name, sql in QUERIES.items():
        rows = store.query(sql, {"p": project_id})
        out[name] = sorted(rows, key=repr)
    return out
