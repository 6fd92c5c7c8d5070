"""Format detection (`--format auto`): the container from the first bytes, the vendor from the
column names or the keys of the first record."""

from __future__ import annotations

import bz2
import gzip
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from embedded_db.imports.duck import ImportFileError

FORMATS = (
    "openpanel",
    "events",
    "mixpanel",
    "amplitude",
    "ga4",
    "posthog",
    "umami",
    "plausible",
    "access-log",
    "mapped",
)
_LOG_LINE = re.compile(r'^\S+ \S+ \S+ \[[^\]]+\] "[A-Z]+ ')
_HEAD_BYTES = 256 * 1024


@dataclass(frozen=True)
class Detected:
    """What a file is: the format (a FORMATS name) and its container (csv, ndjson, json,
    page, parquet, log)."""

    format: str
    container: str


def head(path: Path, size: int = _HEAD_BYTES) -> bytes:
    """The first bytes of a file, decompressed when it is gzip or bzip2 (errors say so)."""
    with path.open("rb") as raw:
        magic = raw.read(4)
    try:
        if magic[:2] == b"\x1f\x8b":
            with gzip.open(path, "rb") as handle:
                return handle.read(size)
        if magic[:3] == b"BZh":
            with bz2.open(path, "rb") as handle:
                return handle.read(size)
    except (OSError, EOFError) as exc:
        raise ImportFileError(
            f"{path.name}: the compressed file is truncated or corrupt ({exc})"
        ) from None
    with path.open("rb") as handle:
        return handle.read(size)


def archive_member(path: Path) -> str | None:
    """The member to import from a zip archive (Plausible's export: `imported_visitors*.csv`),
    None when `path` is not a zip; other archives are refused with a clear message."""
    with path.open("rb") as raw:
        if raw.read(4) != b"PK\x03\x04":
            return None
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except zipfile.BadZipFile as exc:
        raise ImportFileError(
            f"{path.name}: the zip archive is truncated or corrupt ({exc})"
        ) from None
    for name in names:
        if Path(name).name.startswith("imported_visitors") and name.endswith(".csv"):
            return name
    raise ImportFileError(
        f"{path.name}: a zip archive is read only as a Plausible export (imported_visitors*.csv); "
        "unzip it and import the event files inside"
    )


def compression(path: Path) -> str:
    """DuckDB's `compression` option for a file, from its first bytes (not its name)."""
    with path.open("rb") as raw:
        magic = raw.read(4)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if magic[:3] == b"BZh":
        raise ImportFileError(f"{path.name}: bzip2 is not read directly; decompress the file first")
    return "none"


def detect(path: Path, wanted: str = "auto") -> Detected:
    """The format and container of `path`; `wanted` overrides the format."""
    if not path.is_file():
        raise ImportFileError(f"{path}: no such file")
    data = head(path)
    if data[:4] == b"PAR1":
        return Detected("mapped" if wanted == "auto" else wanted, "parquet")
    text = data.decode("utf-8", errors="replace").lstrip("\ufeff")
    stripped = text.lstrip()
    first_line = stripped.split("\n", 1)[0].strip()
    if not stripped:
        raise ImportFileError(f"{path.name}: the file is empty")
    if stripped[0] in "[{":
        container, keys, page = _json_shape(stripped)
        if page:
            return Detected("openpanel", "page")
        return Detected(_json_format(keys) if wanted == "auto" else wanted, container)
    if _LOG_LINE.match(first_line) or wanted == "access-log":
        return Detected("access-log", "log")
    header = {c.strip().strip('"') for c in first_line.split(",")}
    return Detected(_csv_format(header) if wanted == "auto" else wanted, "csv")


def _json_shape(text: str) -> tuple[str, set[str], bool]:
    """(container, keys of the first record, is an export page) of JSON text."""
    if text[0] == "[":
        container = "json"
        body = text[1:].lstrip()
        first = _first_object(body)
    else:
        container = "ndjson"
        first = _first_object(text)
    keys = set(first)
    page = "data" in keys and "meta" in keys
    return container, keys | {f"properties.{k}" for k in _dict(first.get("properties"))}, page


def _first_object(text: str) -> dict[str, object]:
    try:
        obj, _ = json.JSONDecoder().raw_decode(text)
    except ValueError:
        line = text.split("\n", 1)[0]
        try:
            obj = json.loads(line)
        except ValueError:
            return {}
    return obj if isinstance(obj, dict) else {}


def _dict(value: object) -> dict[str, object]:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _json_format(keys: set[str]) -> str:
    if "event" in keys and ("properties.distinct_id" in keys or "properties.time" in keys):
        return "mixpanel"
    if "event_type" in keys and ("event_time" in keys or "device_id" in keys):
        return "amplitude"
    if "event_name" in keys and "event_timestamp" in keys:
        return "ga4"
    if {"event", "distinct_id", "timestamp"} <= keys:
        return "posthog"
    return _columns_format(keys)


def _csv_format(header: set[str]) -> str:
    if {"website_id", "url_path"} <= header or {"session_id", "url_path", "event_type"} <= header:
        return "umami"
    if {"date", "visitors", "pageviews"} <= header:
        return "plausible"
    if {"event", "distinct_id", "timestamp"} <= header:
        return "posthog"
    return _columns_format(header)


def _columns_format(columns: set[str]) -> str:
    if {"name", "createdAt"} <= columns:
        return "openpanel"
    if {"name", "created_at"} <= columns:
        return "events"
    return "mapped"
