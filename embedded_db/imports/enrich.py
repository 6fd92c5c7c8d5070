"""Enrichment of staged rows by distinct value: page URLs split into origin/path/query, referrers
classified, IPs located, user agents parsed and bots dropped — each distinct URL, referrer, IP
or user agent is looked up once in Python (the `Lookups` come from jobs/enrich) and joined back
in DuckDB, so a million log lines cost a few thousand lookups.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import pyarrow as pa

from embedded_db.sql import duck_create, duck_select

Geo = tuple[str, str, str, float | None, float | None]
Device = tuple[str, str, str, str, str, str, str]


class Lookups(Protocol):
    """The live pipeline's enrichment, one value at a time (cached by the caller)."""

    def url(self, url: str) -> tuple[str, str, dict[str, str]]:
        """(origin, path, extra properties: `__hash`, `__query.*`) of a page URL or path."""
        ...

    def referrer(self, referrer: str, page: str, source: str) -> tuple[str, str, str]:
        """(url, name, type) of a referrer seen on `page`, with a utm_source/ref override."""
        ...

    def geo(self, ip: str) -> Geo:
        """(country, region, city, latitude, longitude) of an IP."""
        ...

    def device(self, ua: str) -> tuple[Device, bool]:
        """(os, os_version, browser, browser_version, device, brand, model) and is-a-bot."""
        ...


_STR = pa.string()
_MAP = pa.map_(pa.string(), pa.string())
_SOURCE = (
    "coalesce(nullif(properties['__query.utm_source'], ''), nullif(properties['__query.ref'], "
    "''), nullif(properties['__query.utm_referrer'], ''), '')"
)


def enrich(con: Any, lookups: Lookups, project_id: str) -> dict[str, int]:
    """Fill what the staged rows lack; returns rows dropped by reason (bots)."""
    skipped: dict[str, int] = {}
    _split_urls(con, lookups)
    _classify_referrers(con, lookups)
    _locate(con, lookups)
    bots = _parse_agents(con, lookups)
    if bots:
        skipped["bot"] = bots
    _derive_devices(con, project_id)
    return skipped


def _distinct(con: Any, expr: str, where: str) -> list[Any]:
    rows = con.execute(duck_select([f"DISTINCT {expr}"], "staged", "WHERE " + where)).fetchall()
    return [r[0] if len(r) == 1 else r for r in rows]


def rewrite(con: Any, query: str, params: dict[str, Any] | None = None) -> None:
    """Replace `staged` (a view or a table) by the result of `query` over it."""
    con.execute(duck_create("staged_next", query), params or {})
    views = con.execute("SELECT count(*) FROM duckdb_views() WHERE view_name = 'staged'")
    con.execute("DROP VIEW staged" if views.fetchall()[0][0] else "DROP TABLE staged")
    con.execute("ALTER TABLE staged_next RENAME TO staged")


def _join(con: Any, name: str, table: pa.Table, replace: Iterable[str], on: str) -> None:
    """Rewrite `staged` with columns replaced from a lookup table (LEFT JOIN)."""
    con.register(name, table)
    try:
        rewrite(
            con,
            duck_select(
                [f"s.* REPLACE ({', '.join(replace)})"],
                f"staged AS s LEFT JOIN {name} AS l ON {on}",
            ),
        )
    finally:
        con.unregister(name)


def _split_urls(con: Any, lookups: Lookups) -> None:
    urls = _distinct(con, "url", "url IS NOT NULL AND url <> '' AND path = ''")
    if not urls:
        return
    parts = [lookups.url(u) for u in urls]
    table = pa.table(
        {
            "url": pa.array(urls, _STR),
            "origin": pa.array([p[0] for p in parts], _STR),
            "path": pa.array([p[1] for p in parts], _STR),
            "extra": pa.array([list(p[2].items()) for p in parts], _MAP),
        }
    )
    _join(
        con,
        "url_parts",
        table,
        [
            "coalesce(l.origin, s.origin) AS origin",
            "coalesce(l.path, s.path) AS path",
            "map_concat(s.properties, coalesce(l.extra, MAP {})) AS properties",
        ],
        "l.url = s.url",
    )


def _classify_referrers(con: Any, lookups: Lookups) -> None:
    keys = _distinct(con, f"referrer, origin, {_SOURCE}", "referrer_name IS NULL")
    if not keys:
        return
    found = [lookups.referrer(r, o, src) for r, o, src in keys]
    table = pa.table(
        {
            "k_referrer": pa.array([k[0] for k in keys], _STR),
            "k_origin": pa.array([k[1] for k in keys], _STR),
            "k_source": pa.array([k[2] for k in keys], _STR),
            "r_url": pa.array([f[0] for f in found], _STR),
            "r_name": pa.array([f[1] for f in found], _STR),
            "r_type": pa.array([f[2] for f in found], _STR),
        }
    )
    _join(
        con,
        "referrer_parts",
        table,
        [
            "coalesce(l.r_url, s.referrer) AS referrer",
            "coalesce(s.referrer_name, l.r_name, '') AS referrer_name",
            "coalesce(s.referrer_type, l.r_type, '') AS referrer_type",
        ],
        f"s.referrer_name IS NULL AND l.k_referrer = s.referrer AND l.k_origin = s.origin "
        f"AND l.k_source = {_SOURCE.replace('properties', 's.properties')}",
    )


def _locate(con: Any, lookups: Lookups) -> None:
    ips = _distinct(con, "ip", "country IS NULL AND ip <> ''")
    if not ips:
        return
    geo = [lookups.geo(ip) for ip in ips]
    columns = ("country", "region", "city", "latitude", "longitude")
    data: dict[str, Any] = {"k_ip": pa.array(ips, _STR)}
    for i, col in enumerate(columns):
        kind = pa.float32() if col in ("latitude", "longitude") else _STR
        data["g_" + col] = pa.array([g[i] for g in geo], kind)
    _join(
        con,
        "geo_parts",
        pa.table(data),
        [f"coalesce(s.{c}, l.g_{c}) AS {c}" for c in columns],
        "l.k_ip = s.ip",
    )


_DEVICE = ("os", "os_version", "browser", "browser_version", "device", "brand", "model")


def _parse_agents(con: Any, lookups: Lookups) -> int:
    agents = _distinct(con, "ua", "ua <> ''")
    if not agents:
        return 0
    parsed = [lookups.device(ua) for ua in agents]
    bots = [ua for ua, (_, bot) in zip(agents, parsed, strict=True) if bot]
    dropped = 0
    if bots:
        con.register("bot_agents", pa.table({"ua": pa.array(bots, _STR)}))
        try:
            dropped = int(
                con.execute(
                    duck_select(["count(*)"], "staged", "WHERE ua IN (SELECT ua FROM bot_agents)")
                ).fetchall()[0][0]
            )
            rewrite(
                con,
                duck_select(["*"], "staged", "WHERE ua NOT IN (SELECT ua FROM bot_agents)"),
            )
        finally:
            con.unregister("bot_agents")
    data: dict[str, Any] = {"k_ua": pa.array(agents, _STR)}
    for i, col in enumerate(_DEVICE):
        data["d_" + col] = pa.array([p[0][i] for p in parsed], _STR)
    _join(
        con,
        "device_parts",
        pa.table(data),
        [f"coalesce(s.{c}, l.d_{c}) AS {c}" for c in _DEVICE],
        "s.os IS NULL AND l.k_ua = s.ua",
    )
    return dropped


def _derive_devices(con: Any, project_id: str) -> None:
    """Cookieless device ids for rows with an IP or user agent but no device id: a hash of
    (ua, ip, project, UTC day), so visitors are counted per day as live traffic counts them."""
    missing = con.execute(
        duck_select(["count(*)"], "staged", "WHERE device_id IS NULL AND (ua <> '' OR ip <> '')")
    ).fetchall()[0][0]
    if not missing:
        return
    rewrite(
        con,
        duck_select(
            [
                "* REPLACE (CASE WHEN device_id IS NULL AND (ua <> '' OR ip <> '') THEN md5(ua || "
                "':' || ip || ':' || $project || ':' || strftime(created_at, '%Y-%m-%d')) "
                "ELSE device_id END AS device_id)"
            ],
            "staged",
        ),
        {"project": project_id},
    )
