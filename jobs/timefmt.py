"""Time helpers: the pipeline keeps epoch milliseconds and writes ClickHouse DateTime64(3) text."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


_SECONDS: dict[int, str] = {}


def ch_time(ms: int) -> str:
    """Epoch ms → 'YYYY-MM-DD HH:MM:SS.mmm' (UTC), ClickHouse's DateTime64(3) text.

    Called several times per stored event; the formatted second is memoised because a batch's
    events share a handful of seconds."""
    second, milli = divmod(ms, 1000)
    prefix = _SECONDS.get(second)
    if prefix is None:
        if len(_SECONDS) > 4096:
            _SECONDS.clear()
        prefix = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%d %H:%M:%S.")
        _SECONDS[second] = prefix
    return f"{prefix}{milli:03d}"


def parse_iso_ms(value: str) -> int | None:
    """ISO-8601 (with Z or offset; naive means UTC) → epoch ms, or None if invalid."""
    text = value.strip()
    if not text or len(text) > 40:
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)
