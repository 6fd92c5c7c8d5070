"""Readers for files whose rows are events column by column: OpenPanel's own exports (camelCase,
from `/export/events` pages, NDJSON, CSV, Parquet), raw `events`-shaped rows (snake_case, as
`POST /import/events` takes them) and any CSV/NDJSON/Parquet with a `--map` column mapping.

Columns a mapping does not name go into `properties` (as text), so nothing in the file is lost.
"""

from __future__ import annotations

from collections.abc import Mapping as MappingType
from pathlib import Path
from typing import Any

from embedded_db.imports.canonical import STAGED, Mapping
from embedded_db.imports.duck import ImportFileError, reading
from embedded_db.imports.sniff import compression, head
from embedded_db.sql import duck_ident, duck_select, duck_string

OPENPANEL_COLUMNS = {
    "name": "name",
    "deviceId": "device_id",
    "profileId": "profile_id",
    "properties": "properties",
    "createdAt": "created_at",
    "country": "country",
    "city": "city",
    "region": "region",
    "longitude": "longitude",
    "latitude": "latitude",
    "os": "os",
    "osVersion": "os_version",
    "browser": "browser",
    "browserVersion": "browser_version",
    "device": "device",
    "brand": "brand",
    "model": "model",
    "path": "path",
    "origin": "origin",
    "referrer": "referrer",
    "referrerName": "referrer_name",
    "referrerType": "referrer_type",
    "sdkName": "sdk_name",
    "sdkVersion": "sdk_version",
    "revenue": "revenue",
    "groups": "groups",
}
# Export columns that the import derives again (ids, sessions) or that are about the export.
IGNORED = {
    "id",
    "projectId",
    "project_id",
    "sessionId",
    "session_id",
    "importedAt",
    "imported_at",
    "duration",
    "profile",
    "meta",
    "file_row_number",
}
EVENTS_COLUMNS = {snake: snake for snake in OPENPANEL_COLUMNS.values()}
_NUMBER_TEXT = r"^\s*-?[0-9]+(\.[0-9]+)?\s*$"
_GUARDED = r"^''[=+\-@\t\r]"


# Types of the columns of OpenPanel's and the events table's JSON rows: read with these, a
# file needs no type-inference pass of its own (other keys are left out of the read).
KNOWN_TYPES = {
    "properties": "MAP(VARCHAR, VARCHAR)",
    "groups": "VARCHAR[]",
    "longitude": "DOUBLE",
    "latitude": "DOUBLE",
    "revenue": "DOUBLE",
}


def known_columns(types: MappingType[str, str], wanted: MappingType[str, str]) -> dict[str, str]:
    """The explicit column types for the file columns a preset mapping reads."""
    return {
        col: KNOWN_TYPES.get(target, "VARCHAR") for col, target in wanted.items() if col in types
    }


def file_source(
    path: Path,
    container: str,
    options: MappingType[str, Any],
    columns: MappingType[str, str] | None = None,
) -> str:
    """The DuckDB table function reading `path` as csv, ndjson, json (array), page (export
    pages) or parquet; compression is detected from the name (`.gz`, `.zst`). JSON `columns`
    ({name: type}) skip type inference."""
    quoted = duck_string(str(path)) + f", compression = '{compression(path)}'"
    max_bytes = int(options.get("max_line_mb", 16) * 1024 * 1024)
    if container == "parquet":
        return f"read_parquet({duck_string(str(path))}, file_row_number = true)"
    if container == "csv":
        encoding = duck_string(str(options.get("encoding", "utf-8")))
        delimiter = duck_string(csv_delimiter(path))
        return (
            f"read_csv({quoted}, header = true, all_varchar = true, encoding = {encoding}, "
            f"delim = {delimiter}, quote = '\"', escape = '\"', max_line_size = {max_bytes}, "
            f"buffer_size = {2 * max_bytes + 1024 * 1024}, strict_mode = false)"
        )
    if container in ("ndjson", "json"):
        kind = "newline_delimited" if container == "ndjson" else "array"
        typed = (
            "columns = {"
            + ", ".join(f"{duck_string(c)}: {duck_string(t)}" for c, t in columns.items())
            + "}"
            if columns
            else f"sample_size = {int(options.get('sample_size', -1))}, map_inference_threshold = 0"
        )
        return f"read_json({quoted}, format = '{kind}', maximum_object_size = {max_bytes}, {typed})"
    if container == "page":
        pages = (
            f"read_json({quoted}, format = 'auto', maximum_object_size = {max_bytes}, "
            "sample_size = -1, map_inference_threshold = 0)"
        )
        return "(" + duck_select(["unnest(data, max_depth := 2)"], pages) + ")"
    raise ImportFileError(f"{path.name}: unknown container {container!r}")


def csv_delimiter(path: Path) -> str:
    """The delimiter of a CSV file's header line: comma, semicolon, tab or pipe."""
    line = head(path, 64 * 1024).decode("utf-8", errors="replace").lstrip("\ufeff")
    first = line.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def describe(con: Any, path: Path, source: str) -> dict[str, str]:
    """Column name → DuckDB type of a source (reads only what DuckDB needs to know)."""
    with reading(path):
        rows = con.execute("DESCRIBE " + duck_select(["*"], source, "LIMIT 0")).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def column_mapping(
    source: str,
    types: MappingType[str, str],
    wanted: MappingType[str, str],
    *,
    csv: bool,
    rest_to_properties: bool = True,
) -> Mapping:
    """Map file columns to canonical ones (`wanted`: file column → canonical name)."""
    columns: dict[str, str] = {}
    for col, canonical in wanted.items():
        if col not in types:
            continue
        if canonical not in STAGED:
            raise ImportFileError(f"--map: {canonical!r} is not an event column")
        columns[canonical] = _expression(canonical, duck_ident(col), types[col], csv)
    if rest_to_properties:
        rest = [c for c in types if c not in wanted and c not in IGNORED]
        if rest:
            extra = _extra_properties(rest, csv)
            columns["properties"] = (
                f"map_concat({columns['properties']}, {extra})"
                if "properties" in columns
                else extra
            )
    parquet = source.startswith("read_parquet(")
    return Mapping(
        source=source,
        columns=columns,
        row_number="file_row_number + 1" if parquet else "row_number() OVER ()",
    )


def require(path: Path, types: MappingType[str, str], wanted: MappingType[str, str]) -> None:
    """Raise a clear error when the file lacks a name or time column for this mapping."""
    for canonical in ("name", "created_at"):
        sources = [c for c, target in wanted.items() if target == canonical]
        if not any(c in types for c in sources):
            found = ", ".join(list(types)[:30])
            raise ImportFileError(
                f"{path.name}: no column for event {canonical} (expected one of "
                f"{', '.join(sources) or canonical}; the file has: {found}); "
                f"pass --map {canonical}=<column>"
            )


def _expression(canonical: str, col: str, kind: str, csv: bool) -> str:
    if canonical == "created_at":
        return time_expression(col, kind)
    if canonical == "properties":
        if kind.startswith("MAP"):
            return f"CAST({col} AS MAP(VARCHAR, VARCHAR))"
        if kind == "VARCHAR":
            return f"flat_json(try(json({_text(col, csv)})))"
        return f"flat_json({col})" if kind == "JSON" else f"flat_json(to_json({col}))"
    if canonical == "groups":
        return col if kind.endswith("[]") else f"TRY_CAST(try(json({col})) AS VARCHAR[])"
    if canonical in ("latitude", "longitude", "revenue"):
        return col
    return _text(col, csv)


def time_expression(col: str, kind: str) -> str:
    """A TIMESTAMP (UTC) from a time column: timestamps, epoch seconds/ms/µs, ISO text."""
    if kind.startswith("TIMESTAMP WITH TIME ZONE"):
        return f"CAST({col} AS TIMESTAMP)"  # DuckDB's session time zone is UTC
    if kind.startswith("TIMESTAMP"):
        return col if kind == "TIMESTAMP" else f"CAST({col} AS TIMESTAMP)"
    if kind in ("BIGINT", "INTEGER", "UBIGINT", "DOUBLE", "FLOAT", "HUGEINT", "DECIMAL"):
        return f"epoch_any(CAST({col} AS DOUBLE))"
    text = f"trim(CAST({col} AS VARCHAR))"
    return (
        f"CASE WHEN regexp_matches({text}, '{_NUMBER_TEXT}') "
        f"THEN epoch_any(CAST({text} AS DOUBLE)) ELSE try(utc({text})) END"
    )


def _text(col: str, csv: bool) -> str:
    """Column as text; CSV cells we guarded against formula injection on export are restored."""
    if not csv:
        return f"CAST({col} AS VARCHAR)"
    return f"CASE WHEN regexp_matches({col}, '{_GUARDED}') THEN substr({col}, 2) ELSE {col} END"


def _extra_properties(columns: list[str], csv: bool) -> str:
    entries = ", ".join(
        f"{{'key': {duck_string(c)}, 'value': {_text(duck_ident(c), csv)}}}" for c in columns
    )
    return (
        f"map_from_entries(list_filter([{entries}], "
        "lambda e: e.value IS NOT NULL AND e.value <> ''))"
    )
