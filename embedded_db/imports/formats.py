"""From a detected file to the Mapping that stages it: one branch per format.

Plausible exports are aggregates (per day: visitors, visits, pageviews, bounces, total visit
seconds), not events. They are imported as synthetic visits on the day that reproduce visitors,
visits, page views and bounces exactly; the day's visit time is spread over its non-bounced
visits (each page view at most 29 minutes after the previous one, so the visits stay whole),
and every synthetic event carries `properties.__import = plausible-aggregate`.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from embedded_db.imports import accesslog, readers, vendors
from embedded_db.imports.canonical import Mapping
from embedded_db.imports.duck import ImportFileError
from embedded_db.imports.sniff import Detected, compression
from embedded_db.sql import duck_select, duck_string


@dataclass(frozen=True)
class Options:
    """How to read a file: a column mapping (`--map`), the site origin for access logs, a
    custom log format, the CSV encoding and the longest line accepted (MiB)."""

    mapping: MappingType[str, str] = field(default_factory=dict)  # canonical → file column
    origin: str = ""
    log_format: str = ""
    encoding: str = "utf-8"
    max_line_mb: float = 16.0


@dataclass
class Prepared:
    """The mapping to stage, plus what was skipped before staging (reason → rows)."""

    mapping: Mapping
    format: str
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def parse_map(items: str | list[str]) -> dict[str, str]:
    """`created_at=ts,name=event` (or a list of such) → {canonical: file column}."""
    texts = [items] if isinstance(items, str) else list(items)
    out: dict[str, str] = {}
    for text in texts:
        for pair in text.split(","):
            if not pair.strip():
                continue
            target, sep, column = pair.partition("=")
            if not sep or not target.strip() or not column.strip():
                raise ImportFileError(f"--map: expected column=source, got {pair.strip()!r}")
            out[target.strip()] = column.strip()
    return out


def prepare(con: Any, path: Path, detected: Detected, options: Options) -> Prepared:
    """The Mapping for `path` (may create temp tables in `con`, e.g. parsed log lines)."""
    fmt, container = detected.format, detected.container
    opts = {"encoding": options.encoding, "max_line_mb": options.max_line_mb}
    if fmt == "access-log":
        skipped = accesslog.stage_lines(con, path, options.log_format, options.max_line_mb)
        notes = []
        if skipped.get("unparsable line"):
            lines = ", ".join(map(str, accesslog.first_unparsable(con)))
            notes.append(f"lines not matching the log format include {lines}")
        return Prepared(accesslog.mapping(options.origin), fmt, skipped, notes)
    if fmt in ("mixpanel", "amplitude", "ga4") or (fmt == "posthog" and container != "csv"):
        vendors.register_countries(con)
        source = _objects(path, container, options.max_line_mb)
        if fmt == "posthog":
            return Prepared(vendors.posthog(source, csv=False), fmt)
        return Prepared(getattr(vendors, fmt)(source), fmt)
    source = readers.file_source(path, container, opts)
    if fmt == "plausible":
        return Prepared(plausible(source), fmt, notes=[PLAUSIBLE_NOTE])
    if container in ("ndjson", "json"):  # the first 20,480 records name the columns
        sampled = readers.file_source(path, container, {**opts, "sample_size": 20480})
        types = readers.describe(con, path, sampled)
    else:
        types = readers.describe(con, path, source)
    if fmt == "posthog":
        return Prepared(vendors.posthog(source, csv=True), fmt)
    if fmt == "umami":
        return Prepared(vendors.umami(_with_region(source, types)), fmt)
    if fmt == "mapped" and container == "parquet":
        fmt = _parquet_kind(types)
    wanted = _preset(fmt)
    wanted.update({column: target for target, column in options.mapping.items()})
    if fmt == "mapped" and not options.mapping:
        found = ", ".join(list(types)[:30])
        raise ImportFileError(
            f"{path.name}: the format was not recognised (columns: {found}); name the columns "
            "with --map created_at=<time column>,name=<event column>,… or pass --format"
        )
    readers.require(path, types, wanted)
    if container in ("ndjson", "json") and fmt in ("openpanel", "events"):
        typed = readers.known_columns(types, wanted)
        source = readers.file_source(path, container, opts, typed)
        types = {c: t for c, t in typed.items()}
        mapping = readers.column_mapping(source, types, wanted, csv=False, rest_to_properties=False)
        return Prepared(mapping, fmt)
    return Prepared(readers.column_mapping(source, types, wanted, csv=container == "csv"), fmt)


PLAUSIBLE_NOTE = (
    "Plausible exports are daily aggregates: imported as synthetic visits that reproduce each "
    "day's visitors, visits, page views and bounces (path '/', property __import = "
    "plausible-aggregate); visit time is spread over the non-bounced visits"
)


def plausible(source: str) -> Mapping:
    """Synthetic page views reproducing a Plausible `imported_visitors` CSV, day by day."""
    days = duck_select(
        [
            "CAST(date AS DATE) AS d",
            "greatest(CAST(visitors AS BIGINT), 1) AS v",
            "CAST(pageviews AS BIGINT) AS p",
            "least(CAST(bounces AS BIGINT), CAST(visits AS BIGINT)) AS b",
            "CAST(visits AS BIGINT) AS s",
            "CAST(coalesce(nullif(visit_duration, ''), '0') AS BIGINT) AS dur",
        ],
        source,
        "WHERE CAST(visits AS BIGINT) > 0",
    )
    visits = duck_select(["*", "unnest(range(s)) AS k"], "(" + days + ")")
    shaped = duck_select(
        [
            "*",
            "CASE WHEN k < b THEN 1 ELSE greatest((p - b) // (s - b) + CASE WHEN k - b < "
            "(p - b) % (s - b) THEN 1 ELSE 0 END, 1) END AS n",
            "CASE WHEN k < b THEN 0 ELSE dur // (s - b) END AS secs",
            "86400 // CAST(ceil(s / v) AS BIGINT) AS gap",
        ],
        "(" + visits + ")",
    )
    views = duck_select(["*", "unnest(range(n)) AS i"], "(" + shaped + ")")
    start = "CAST(d AS TIMESTAMP) + to_seconds((k // v) * gap + k % v)"
    step = "CASE WHEN n > 1 THEN least(secs // (n - 1), 1740) ELSE 0 END"
    return Mapping(
        source="(" + views + ")",
        columns={
            "name": "'screen_view'",
            "created_at": f"{start} + to_seconds(i * {step})",
            "device_id": "'plausible:' || CAST(d AS VARCHAR) || ':' || CAST(k % v AS VARCHAR)",
            "path": "'/'",
            "properties": "MAP {'__import': 'plausible-aggregate'}",
            "sdk_name": "'plausible'",
        },
    )


def _objects(path: Path, container: str, max_line_mb: float) -> str:
    """Each JSON record as one `json` value (vendor exports vary row to row)."""
    size = int(max_line_mb * 1024 * 1024)
    kind = "newline_delimited" if container == "ndjson" else "array"
    return (
        f"read_json_objects({duck_string(str(path))}, format = '{kind}', "
        f"compression = '{compression(path)}', maximum_object_size = {size})"
    )


def _preset(fmt: str) -> dict[str, str]:
    if fmt == "openpanel":
        return dict(readers.OPENPANEL_COLUMNS)
    if fmt == "events":
        return dict(readers.EVENTS_COLUMNS)
    return {}


def _parquet_kind(types: MappingType[str, str]) -> str:
    if {"name", "createdAt"} <= set(types):
        return "openpanel"
    if {"name", "created_at"} <= set(types):
        return "events"
    return "mapped"


def _with_region(source: str, types: MappingType[str, str]) -> str:
    """Umami versions name the region `region` or `subdivision1`."""
    if "region" in types:
        return source
    region = "subdivision1" if "subdivision1" in types else "''"
    return "(" + duck_select(["*", f"{region} AS region"], source) + ")"
