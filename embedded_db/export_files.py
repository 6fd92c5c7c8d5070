"""Whole-range event exports as files: CSV, NDJSON and Parquet, written by chDB itself
(`INSERT INTO FUNCTION file(…)`), so any size streams to disk without passing through Python.

Columns are the camelCase fields of `GET /export/events` (openpanel-compat.md §1.8), oldest
first. In CSV, `properties` and `groups` are JSON text, and every text cell that a spreadsheet
would run as a formula (starting with = + - @, a tab or a carriage return) gets a leading `'`
(OWASP's CSV-injection advice); the importer removes that quote again. NDJSON has objects and
arrays; Parquet keeps native types (a map, an array, DateTime64 in UTC).
"""

from __future__ import annotations

from pathlib import Path

from embedded_db.errors import ValidationError
from embedded_db.exports import EVENT_FIELDS, EventQuery, event_conditions
from embedded_db.sql import select, write_file
from embedded_db.store import EventStore

FORMATS = {"csv": "CSVWithNames", "ndjson": "JSONEachRow", "parquet": "Parquet"}
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "ndjson": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
_NUMBERS = {"longitude", "latitude", "revenue", "duration"}
_ISO = "concat(replaceOne(toString({0}), ' ', 'T'), 'Z')"
_SETTINGS = (
    " SETTINGS engine_file_truncate_on_insert = 1, format_csv_null_representation = '', "
    "output_format_json_escape_forward_slashes = 0, "
    "output_format_parquet_compression_method = 'zstd'"
)
_GUARD = "if(match({0}, '^[=+\\\\-@\\\\t\\\\r]'), concat('''', {0}), {0})"


def _column(camel: str, col: str, fmt: str) -> str:
    """One exported column as SQL over the events table."""
    if col == "created_at":
        value = col if fmt == "parquet" else _ISO.format(col)
    elif col == "imported_at":
        value = col if fmt == "parquet" else f"if(isNull({col}), NULL, {_ISO.format(col)})"
    elif col in ("properties", "groups"):
        value = f"toJSONString({col})" if fmt == "csv" else col
    elif col in _NUMBERS:
        value = col
    else:
        value = f"toString({col})"
    if fmt == "csv" and col not in _NUMBERS:
        value = _GUARD.format(value) if col != "imported_at" else value
    return f"{value} AS {camel}"


def export_query(q: EventQuery, fmt: str) -> tuple[str, dict[str, object]]:
    """The SELECT of an export (oldest first) and its parameters."""
    if fmt not in FORMATS:
        raise ValidationError("format", f"must be one of json, {', '.join(FORMATS)}")
    where, params = event_conditions(q)
    columns = ", ".join(_column(camel, col, fmt) for camel, col in EVENT_FIELDS)
    return select(columns, "events", where, "ORDER BY created_at, id"), params


def export_to_file(store: EventStore, q: EventQuery, fmt: str, path: Path) -> int:
    """Write every matching event to `path` (replaced if it exists); returns the row count."""
    query, params = export_query(q, fmt)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    store.execute(write_file(str(path.resolve()), FORMATS[fmt], query + _SETTINGS), params)
    where, count_params = event_conditions(q)
    return int(store.scalar(select("count() AS n", "events", where), count_params) or 0)
