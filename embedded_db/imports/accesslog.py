"""Web server access logs (nginx/Apache "combined", or a custom `log_format`) as page views.

A line becomes a `screen_view` when it parses, is a GET, answered 2xx and is not a static asset;
everything else is counted by reason. The format is nginx `log_format` syntax (`$remote_addr
- $remote_user [$time_local] "$request" …`) or Apache `LogFormat` syntax (`%h %l %u %t "%r" …`);
DuckDB matches every line against the derived RE2 pattern in one pass. Bots are dropped later,
with the other rows that carry a user agent (enrichment).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from embedded_db.imports.canonical import Mapping
from embedded_db.imports.duck import ImportFileError, reading
from embedded_db.imports.sniff import compression
from embedded_db.sql import duck_create, duck_select, duck_string

COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
STATIC_EXTENSIONS = (
    "css|js|mjs|map|png|jpe?g|gif|svg|ico|webp|avif|bmp|woff2?|ttf|otf|eot|mp4|webm|mp3|ogg|"
    "wav|pdf|zip|gz|txt|xml|json|webmanifest"
)
_APACHE = {
    "%h": "$remote_addr",
    "%a": "$remote_addr",
    "%l": "$remote_logname",
    "%u": "$remote_user",
    "%t": "[$time_local]",
    "%r": "$request",
    "%>s": "$status",
    "%s": "$status",
    "%b": "$body_bytes_sent",
    "%B": "$body_bytes_sent",
    "%v": "$host",
    "%{Referer}i": "$http_referer",
    "%{User-agent}i": "$http_user_agent",
    "%{User-Agent}i": "$http_user_agent",
    "%{Host}i": "$host",
}
# Captured fields and the pattern of each (anything else is matched and not captured).
_FIELDS = {
    "remote_addr": ("ip", r"\S+"),
    "http_x_forwarded_for": ("forwarded", r"[^\"]*"),
    "time_local": ("time", r"[^\]]+"),
    "time_iso8601": ("iso_time", r"\S+"),
    "request": ("request", r"[^\"]*"),
    "status": ("status", r"\d{3}"),
    "http_referer": ("referrer", r"[^\"]*"),
    "http_user_agent": ("ua", r"[^\"]*"),
    "host": ("host", r"\S+"),
    "server_name": ("host", r"\S+"),
}
_VARIABLE = re.compile(r"\$([a-z_0-9]+)")
_META = re.compile(r"([\\.^$|?*+()\[\]{}])")
_SKIP_REASONS = (
    ("unparsable line", "m.request IS NULL OR m.request = ''"),
    ("not a GET request", "split_part(m.request, ' ', 1) <> 'GET'"),
    ("response not 2xx", "NOT starts_with(m.status, '2')"),
    (
        "static asset",
        f"regexp_matches(lower(split_part(split_part(split_part(m.request, ' ', 2), '?', 1), "
        f"'#', 1)), '\\.({STATIC_EXTENSIONS})$')",
    ),
)


def pattern_of(log_format: str) -> tuple[str, list[str]]:
    """An RE2 pattern for a log format and the names of its captured fields, in order."""
    text = log_format.strip()
    for directive, variable in sorted(_APACHE.items(), key=lambda kv: -len(kv[0])):
        text = text.replace(directive, variable)
    text = text.replace('\\"', '"')
    parts, names, pos = ["^"], [], 0
    for found in _VARIABLE.finditer(text):
        parts.append(_META.sub(r"\\\1", text[pos : found.start()]))
        name = found.group(1)
        field = _FIELDS.get(name)
        nxt = text[found.end() : found.end() + 1]
        if field is None:
            parts.append(r"[^\"]*" if nxt == '"' else r"\S*")
        elif field[0] in names:
            parts.append(field[1])
        else:
            parts.append("(" + field[1] + ")")
            names.append(field[0])
        pos = found.end()
    parts.append(_META.sub(r"\\\1", text[pos:]))
    if "time" not in names and "iso_time" not in names or "request" not in names:
        raise ImportFileError("--log-format needs $time_local (or %t) and $request (or %r)")
    return "".join(parts), names


def stage_lines(con: Any, path: Path, log_format: str, max_line_mb: float) -> dict[str, int]:
    """Parse every line into the temp table `log_rows` with a skip `reason` ('' = page view);
    return the skipped counts by reason."""
    pattern, names = pattern_of(log_format or COMBINED)
    size = int(max_line_mb * 1024 * 1024)
    source = (
        f"read_csv({duck_string(str(path))}, compression = '{compression(path)}', "
        "columns = {'line': 'VARCHAR'}, header = false, "
        f"delim = '\x1f', quote = '', escape = '', max_line_size = {size}, "
        f"buffer_size = {2 * size + 1024 * 1024}, strict_mode = false, null_padding = true)"
    )
    fields = "[" + ", ".join(duck_string(n) for n in names) + "]"
    parsed = duck_select(
        [
            "row_number() OVER () AS line_no",
            f"regexp_extract(coalesce(line, ''), {duck_string(pattern)}, {fields}) AS m",
        ],
        source,
    )
    reason = "CASE " + " ".join(
        f"WHEN {cond} THEN {duck_string(label)}"
        for label, cond in _SKIP_REASONS
        if "status" in names or "m.status" not in cond
    )
    time = "m.iso_time" if "iso_time" in names else "m.time"
    time_sql = (
        f"utc({time})"
        if time == "m.iso_time"
        else f"try(utc(strptime({time}, '%d/%b/%Y:%H:%M:%S %z')))"
    )
    columns = [
        "line_no",
        f"{reason} ELSE '' END AS reason",
        "m.ip AS ip" if "ip" in names else "'' AS ip",
        f"{time_sql} AS ts",
        "split_part(m.request, ' ', 2) AS target",
        (
            "CASE WHEN m.referrer = '-' THEN '' ELSE m.referrer END AS referrer"
            if "referrer" in names
            else "'' AS referrer"
        ),
        "CASE WHEN m.ua = '-' THEN '' ELSE m.ua END AS ua" if "ua" in names else "'' AS ua",
        "m.host AS host" if "host" in names else "'' AS host",
    ]
    with reading(path):
        con.execute(duck_create("log_rows", duck_select(columns, "(" + parsed + ")")))
        counts = con.execute(
            duck_select(["reason", "count(*)"], "log_rows", "WHERE reason <> '' GROUP BY reason")
        ).fetchall()
    return {str(r): int(n) for r, n in counts}


def first_unparsable(con: Any, limit: int = 5) -> list[int]:
    """Line numbers of the first lines that did not match the format (for the summary)."""
    rows = con.execute(
        duck_select(
            ["line_no"],
            "log_rows",
            f"WHERE reason = 'unparsable line' ORDER BY line_no LIMIT {int(limit)}",
        )
    ).fetchall()
    return [int(r[0]) for r in rows]


def mapping(origin: str) -> Mapping:
    """Page views of `log_rows`; `origin` (https://example.com) prefixes the request paths."""
    base = duck_string(origin.rstrip("/"))
    url = f"CASE WHEN host <> '' THEN 'https://' || host ELSE {base} END || target"
    return Mapping(
        source="log_rows",
        columns={
            "name": "'screen_view'",
            "created_at": "ts",
            "url": url,
            "referrer": "referrer",
            "ip": "ip",
            "ua": "ua",
            "sdk_name": "'access-log'",
        },
        where="reason = '' AND ts IS NOT NULL",
    )
