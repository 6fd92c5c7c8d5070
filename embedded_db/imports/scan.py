"""One pass over an import file before anything is read into DuckDB: its SHA-256 (the ledger key
that makes re-imports no-ops) and, for text files, the guard against over-long lines."""

from __future__ import annotations

import hashlib
from pathlib import Path

from embedded_db.imports.duck import ImportFileError


def file_hash(path: Path, max_line_bytes: int = 0) -> str:
    """SHA-256 of a file's bytes (hex), read in 1 MiB blocks. With `max_line_bytes` (≥ 1 MiB)
    an uncompressed text file with a longer line raises ImportFileError naming the line, so
    even a 2 GB line is refused after one pass, without being held in memory."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        block = handle.read(_BLOCK)
        binary = block[:4] == b"PAR1" or block[:2] == b"\x1f\x8b"
        watch = _LineWatch(path.name, max_line_bytes) if max_line_bytes >= _BLOCK else None
        while block:
            digest.update(block)
            if watch is not None and not binary:
                watch.feed(block)
            block = handle.read(_BLOCK)
    return digest.hexdigest()


_BLOCK = 1024 * 1024


class _LineWatch:
    """Tracks the line being read across blocks. With a limit of at least one block, only a
    line crossing block boundaries can be too long, so each block costs two finds and a count."""

    def __init__(self, name: str, limit: int) -> None:
        self.name, self.limit = name, limit
        self.since_newline = 0
        self.newlines = 0

    def feed(self, block: bytes) -> None:
        first = block.find(b"\n")
        self.since_newline += len(block) if first < 0 else first
        if self.since_newline > self.limit:
            raise ImportFileError(
                f"{self.name}, line {self.newlines + 1}: a line is longer than the import line "
                f"limit ({self.limit // _BLOCK} MiB); raise --max-line-mb if the line is genuine"
            )
        if first >= 0:
            self.newlines += block.count(b"\n")
            self.since_newline = len(block) - block.rfind(b"\n") - 1
