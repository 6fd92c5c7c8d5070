"""The DuckDB connection that reads import files, and the one place its errors become clear
`ImportFileError`s that name the file and, where DuckDB knows it, the line."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from embedded_db.errors import AppError

# Helpers every reader's SQL may use; DuckDB's own TimeZone is UTC here (no ICU needed).
_MACROS = (
    # text or timestamp with an offset → naive UTC timestamp; naive text is taken as UTC
    "CREATE OR REPLACE MACRO utc(x) AS CAST(CAST(x AS TIMESTAMPTZ) AS TIMESTAMP)",
    # a 32-hex digest as a UUID text (8-4-4-4-12)
    "CREATE OR REPLACE MACRO hex_uuid(h) AS substr(h, 1, 8) || '-' || substr(h, 9, 4) || '-' "
    "|| substr(h, 13, 4) || '-' || substr(h, 17, 4) || '-' || substr(h, 21, 12)",
    # OpenPanel-style 22-character url-safe id of a digest input
    "CREATE OR REPLACE MACRO b64_id(s) AS replace(replace(replace(to_base64(unhex(substr("
    "sha256(s), 1, 32))), '+', '-'), '/', '_'), '=', '')",
    # '' for NULL, text otherwise
    "CREATE OR REPLACE MACRO txt(x) AS coalesce(CAST(x AS VARCHAR), '')",
    # epoch seconds, milliseconds or microseconds (told apart by size) → timestamp
    "CREATE OR REPLACE MACRO epoch_any(x) AS CASE WHEN x > 1e14 THEN make_timestamp("
    "CAST(x AS BIGINT)) WHEN x > 1e11 THEN epoch_ms(CAST(x AS BIGINT)) "
    "ELSE epoch_ms(CAST(round(CAST(x AS DOUBLE) * 1000) AS BIGINT)) END",
    # a JSON object flattened to dot keys like live properties (nested objects and arrays
    # become a.b / a.0; nulls and empty strings are dropped; scalars become text)
    "CREATE OR REPLACE MACRO flat_json(j) AS coalesce((SELECT map_from_entries(list({"
    "'key': regexp_replace(replace(replace(t.fullkey, '[', '.'), ']', ''), "
    "'^\\$\\.?|\"', '', 'g'), 'value': CASE WHEN t.type = 'VARCHAR' THEN "
    "json_extract_string(t.value, '$') ELSE CAST(t.value AS VARCHAR) END})) "
    "FROM json_tree(j) AS t WHERE t.type NOT IN ('OBJECT', 'ARRAY', 'NULL') AND t.key "
    "IS NOT NULL AND NOT (t.type = 'VARCHAR' AND json_extract_string(t.value, '$') = '')), "
    "MAP {})",
)
_LINE = re.compile(r"\bline:? (\d+)", re.IGNORECASE)


class ImportFileError(AppError):
    """A file that cannot be imported as given; the message names the file (and line)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


def version() -> str:
    """DuckDB's version (its hashing decides which bucket a device's rows go to)."""
    return str(duckdb.__version__)


def connect(temp_dir: Path, memory_mb: int = 1024, threads: int = 2) -> Any:
    """An in-memory DuckDB that spills to `temp_dir`, with the import macros defined."""
    temp_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        ":memory:",
        config={
            "memory_limit": f"{memory_mb}MiB",
            "threads": threads,
            "temp_directory": str(temp_dir),
            "preserve_insertion_order": True,
        },
    )
    for macro in _MACROS:
        con.execute(macro)
    return con


@contextmanager
def reading(path: Path) -> Iterator[None]:
    """Translate DuckDB failures while reading `path` into ImportFileError."""
    try:
        yield
    except duckdb.Error as exc:
        raise explain(path, exc) from exc


def explain(path: Path, exc: BaseException) -> ImportFileError:
    """A one-paragraph message for a DuckDB error on `path` (gzip, JSON, CSV, encoding)."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    found = _LINE.search(text)
    line = int(found.group(1)) if found else None
    where = f"{path.name}" + (f", line {line}" if line else "")
    low = text.split("\nLINE ", 1)[0].lower()  # not the query DuckDB echoes after it
    if isinstance(exc, duckdb.OutOfMemoryException):
        return ImportFileError(
            f"{where}: reading the file needs more than the event store's memory limit, which "
            f"the import's file engine shares; raise it to go on ({first})"
        )
    if "gzip" in low or "zlib" in low or "compress" in low:
        return ImportFileError(f"{where}: the compressed file is truncated or corrupt ({first})")
    if "unicode" in low or "utf-8" in low or "utf8" in low or "encoding" in low:
        return ImportFileError(
            f"{where}: the file is not valid UTF-8 (mixed or legacy encoding); convert it or "
            f"pass --encoding latin-1 ({first})",
            line,
        )
    if "maximum_object_size" in low or "maximum line size" in low or "max_line_size" in low:
        return ImportFileError(
            f"{where}: a line is longer than the import line limit; raise --max-line-mb if the "
            f"line is genuine ({first})",
            line,
        )
    return ImportFileError(f"{where}: {first}", line)
