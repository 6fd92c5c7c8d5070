"""What the spool holds: one `Accepted` record per accepted request (or per pipeline command).

Records carry every decision made at accept time (ids, times, client IP and UA) so that the
pipeline's work is a pure function of the spool and the saved live state: replaying a batch
after a crash produces the same rows, which chDB then drops by deduplication token.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

Kind = Literal[
    "track",
    "identify",
    "increment",
    "decrement",
    "group",
    "assign_group",
    "replay",
    "alias",
    "bot",
    "reap",
]


class Accepted(msgspec.Struct, omit_defaults=True, kw_only=True):
    """A request the ingest API accepted (or a command such as `reap`)."""

    kind: Kind
    project_id: str = ""
    received_ms: int  # server clock when accepted, epoch ms
    event_ms: int = 0  # event time after the __timestamp rules, epoch ms
    event_id: str = ""  # empty at accept; the pipeline derives it from the spool sequence
    device_id: str = ""
    session_id: str = ""
    profile_id: str = ""
    attached: bool = False  # server-side event attached to a live visit of its profile
    ip: str = ""
    ua: str = ""
    sdk_name: str = ""
    sdk_version: str = ""
    payload: dict[str, Any] = {}


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(Accepted)


def encode(record: Accepted) -> bytes:
    return _encoder.encode(record)


def decode(data: bytes) -> Accepted:
    return _decoder.decode(data)
