"""The ingest wire format (openpanel-compat.md §1.5), as bounded msgspec structs.

Every string and collection has a bound. Unknown fields are ignored (SDKs add keys over time).
The Python SDK's explicit `null`s for profileId and value are accepted.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Union

import msgspec
from msgspec import Meta, Struct

from embedded_db.errors import ValidationError

ShortStr = Annotated[str, Meta(max_length=256)]
Name = Annotated[str, Meta(min_length=1, max_length=256)]
SafeInt = Annotated[int, Meta(ge=-(2**53), le=2**53)]  # what a JavaScript number can hold
Id = Annotated[str, Meta(min_length=1, max_length=256)] | SafeInt
GroupIds = Annotated[list[Annotated[str, Meta(min_length=1, max_length=256)]], Meta(max_length=100)]

MAX_PROPERTY_KEYS = 1000
MAX_PROPERTY_DEPTH = 10
MAX_KEY_LENGTH = 256
MAX_VALUE_LENGTH = 32 * 1024
MAX_REPLAY_BYTES = 2 * 1024 * 1024
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class TrackPayload(Struct):
    name: Name
    properties: dict[str, Any] | None = None
    profileId: Id | None = None
    groups: GroupIds | None = None


class IdentifyPayload(Struct):
    profileId: Id
    firstName: ShortStr | None = None
    lastName: ShortStr | None = None
    email: ShortStr | None = None
    avatar: Annotated[str, Meta(max_length=2048)] | None = None
    properties: dict[str, Any] | None = None


class IncrementPayload(Struct):
    profileId: Id
    property: Annotated[str, Meta(min_length=1, max_length=MAX_KEY_LENGTH)]
    value: Annotated[int, Meta(gt=0, le=2**53)] | None = None


class AliasPayload(Struct):
    profileId: Id
    alias: ShortStr


class GroupPayload(Struct):
    id: Name
    type: Name
    name: Name
    properties: dict[str, Any] | None = None


class AssignGroupPayload(Struct):
    groupIds: GroupIds
    profileId: Id | None = None


class ReplayPayload(Struct):
    chunk_index: Annotated[int, Meta(ge=0, le=65535)]
    events_count: Annotated[int, Meta(ge=1, le=65535)]
    is_full_snapshot: bool
    started_at: Annotated[str, Meta(max_length=40)]
    ended_at: Annotated[str, Meta(max_length=40)]
    payload: Annotated[str, Meta(max_length=MAX_REPLAY_BYTES)]
    sessionId: Annotated[str, Meta(max_length=64)] | None = None


class LegacyEvent(Struct):
    """`POST /event` (deprecated v1)."""

    name: Name
    timestamp: Any = None
    profileId: Id | None = None
    properties: dict[str, Any] | None = None
    clientId: ShortStr | None = None
    clientSecret: ShortStr | None = None


class LegacyProfile(IdentifyPayload):
    """`POST /profile` (deprecated)."""


class LegacyIncrement(Struct):
    profileId: Id
    property: Annotated[str, Meta(min_length=1, max_length=MAX_KEY_LENGTH)]
    value: Any = None  # checked by hand: upstream answers a non-number with 400 "Not number"


PAYLOADS: dict[str, type[Struct]] = {
    "track": TrackPayload,
    "identify": IdentifyPayload,
    "increment": IncrementPayload,
    "decrement": IncrementPayload,
    "alias": AliasPayload,
    "group": GroupPayload,
    "assign_group": AssignGroupPayload,
    "replay": ReplayPayload,
}


class _Envelope(Struct, kw_only=True, tag_field="type"):
    clientId: ShortStr | None = None
    clientSecret: ShortStr | None = None


def _envelope(kind: str, payload_type: type[Struct]) -> type[Struct]:
    """`{"type": kind, "payload": <payload_type>, …}` as a tagged struct (one decode pass)."""
    return msgspec.defstruct(
        f"{kind.title().replace('_', '')}Envelope",
        [("payload", payload_type)],
        bases=(_Envelope,),
        tag=kind,
        kw_only=True,
    )


ENVELOPES = tuple(_envelope(kind, payload) for kind, payload in PAYLOADS.items())
AnyEnvelope = Union[ENVELOPES]  # type: ignore[valid-type]  # noqa: UP007 - built at runtime
KINDS: dict[type[Struct], str] = {env: kind for env, kind in zip(ENVELOPES, PAYLOADS, strict=True)}


def decode_envelope(body: bytes) -> tuple[str, Any]:
    """(type, envelope) of a `/track` body in one pass; unknown types give "Invalid type"."""
    try:
        envelope = decode(body, AnyEnvelope, "")
    except ValidationError as exc:
        if exc.field == "type" and "Invalid value" in exc.message:
            raise ValidationError("type", "Invalid type") from None
        raise
    return KINDS[type(envelope)], envelope


def decode(data: bytes, type_: Any, prefix: str) -> Any:
    """Decode JSON into `type_`; a failure raises ValidationError naming the field."""
    try:
        return msgspec.json.decode(data, type=type_)
    except msgspec.ValidationError as exc:
        raise _named(str(exc), prefix) from None
    except msgspec.DecodeError as exc:
        raise ValidationError(prefix or "body", f"invalid JSON ({exc})") from None
    except UnicodeDecodeError:
        raise ValidationError(prefix or "body", "invalid UTF-8 in a string") from None
    except RecursionError:
        raise ValidationError(prefix or "body", "JSON nested too deeply") from None


def convert(data: Any, type_: type[Any], prefix: str) -> Any:
    """Validate already-decoded data into `type_`; failures name the field."""
    try:
        return msgspec.convert(data, type=type_)
    except msgspec.ValidationError as exc:
        raise _named(str(exc), prefix) from None


def _named(message: str, prefix: str) -> ValidationError:
    text, _, where = message.partition(" - at `")
    path = where.rstrip("`").removeprefix("$").lstrip(".")
    field = ".".join(p for p in (prefix, path) if p)
    return ValidationError(field or "body", text)


def check_properties(value: Any, field: str) -> None:
    """Bound a properties object: keys, depth, key and string lengths."""
    count = 0
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack:
        item, path, depth = stack.pop()
        if depth > MAX_PROPERTY_DEPTH:
            raise ValidationError(path, f"nested deeper than {MAX_PROPERTY_DEPTH} levels")
        if isinstance(item, dict):
            for key, sub in item.items():
                count += 1
                if len(key) > MAX_KEY_LENGTH:
                    raise ValidationError(f"{path}.{key[:40]}…", "key is too long")
                stack.append((sub, f"{path}.{key}", depth + 1))
        elif isinstance(item, list):
            for i, sub in enumerate(item):
                count += 1
                stack.append((sub, f"{path}.{i}", depth + 1))
        elif isinstance(item, str) and len(item) > MAX_VALUE_LENGTH:
            raise ValidationError(path, f"longer than {MAX_VALUE_LENGTH} characters")
        elif isinstance(item, int) and not -(2**63) <= item < 2**63:
            raise ValidationError(path, "number out of range (64-bit integers only)")
        if count > MAX_PROPERTY_KEYS:
            raise ValidationError(field, f"more than {MAX_PROPERTY_KEYS} keys")


def check_identify(payload: IdentifyPayload, prefix: str) -> None:
    if payload.email and not _EMAIL.match(payload.email):
        raise ValidationError(f"{prefix}.email", "is not a valid email address")
    if payload.avatar and not payload.avatar.startswith(("http://", "https://", "data:image/")):
        raise ValidationError(f"{prefix}.avatar", "is not a valid URL")
    if payload.properties is not None:
        check_properties(payload.properties, f"{prefix}.properties")
