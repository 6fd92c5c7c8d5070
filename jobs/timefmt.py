"""Time helpers: the pipeline keeps epoch milliseconds and writes ClickHouse DateTime64(3) text."""

from __future__ import annotations

import time
from datetime import UTC, datetime


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def ch_time(ms: int) -> str:
    """Epoch ms → 'YYYY-MM-DD HH:MM:SS.mmm' (UTC), ClickHouse's DateTime64(3) text."""
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return dt.strftime("%Y-%m-%d %H:%M:%S.") + f"{ms % 1000:03d}"


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


def iso_from_ch(value: str) -> str:
    """ClickHouse 'YYYY-MM-DD HH:MM:SS.mmm' (UTC) → ISO 8601 with Z."""
    return value.replace(" ", "T") + "Z" if value else value
