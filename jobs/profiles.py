"""Profiles as the pipeline maintains them: identify upserts, increments, group assignment and
the anonymous profile of each visit (openpanel-compat.md §2.7).

The newest `last_seen_at` wins in chDB (ReplacingMergeTree), so every write is the whole merged
profile. Profiles a batch needs are loaded from chDB in one query and kept in a bounded cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

import msgspec

from embedded_db.sql import array_literal
from embedded_db.store import EventStore
from jobs.timefmt import ch_time

PROFILE_CONTEXT_KEYS = (
    "country",
    "city",
    "region",
    "latitude",
    "longitude",
    "os",
    "os_version",
    "browser",
    "browser_version",
    "device",
    "brand",
    "model",
)
NAME_FIELDS = ("first_name", "last_name", "email", "avatar")


class Profile(msgspec.Struct, kw_only=True):
    id: str
    project_id: str
    is_external: bool = False
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    avatar: str = ""
    properties: dict[str, str] = {}
    groups: list[str] = []
    created_ms: int = 0
    last_seen_ms: int = 0

    def row(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "project_id": self.project_id,
            "is_external": self.is_external,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "email": self.email,
            "avatar": self.avatar,
            "properties": self.properties,
            "groups": self.groups,
            "created_at": ch_time(self.created_ms),
            "last_seen_at": ch_time(self.last_seen_ms),
        }


Key = tuple[str, str]


class ProfileBook:
    """Read-through cache of profiles plus the set changed in the current batch."""

    def __init__(self, store: EventStore, capacity: int = 50_000) -> None:
        self.store = store
        self.capacity = capacity
        self._cache: OrderedDict[Key, Profile | None] = OrderedDict()
        self._dirty: dict[Key, Profile] = {}

    def clear(self) -> None:
        self._cache.clear()
        self._dirty.clear()

    def preload(self, keys: Iterable[Key]) -> None:
        """Load the profiles not yet cached in one query (missing ones cached as None)."""
        missing = {k for k in keys if k not in self._cache and k[1]}
        if not missing:
            return
        rows = self.store.query(
            "SELECT id, project_id, is_external, first_name, last_name, email, avatar, "
            "properties, groups, toUnixTimestamp64Milli(created_at) AS created_ms, "
            "toUnixTimestamp64Milli(last_seen_at) AS last_seen_ms "
            "FROM openpanel.profiles FINAL "
            "WHERE project_id IN {projects:Array(String)} AND id IN {ids:Array(String)}",
            {
                "projects": array_literal({k[0] for k in missing}),
                "ids": array_literal({k[1] for k in missing}),
            },
        )
        for row in rows:
            key = (row["project_id"], row["id"])
            if key in missing:
                self._remember(key, msgspec.convert(row, Profile))
                missing.discard(key)
        for key in missing:
            self._remember(key, None)

    def _remember(self, key: Key, profile: Profile | None) -> None:
        self._cache[key] = profile
        self._cache.move_to_end(key)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)

    def get(self, key: Key) -> Profile | None:
        if key not in self._cache:
            self.preload([key])
        return self._cache.get(key)

    def _writable(self, key: Key, at_ms: int) -> Profile:
        current = self.get(key)
        if current is None:
            profile = Profile(id=key[1], project_id=key[0], created_ms=at_ms, last_seen_ms=at_ms)
        else:
            profile = msgspec.structs.replace(
                current,
                properties=dict(current.properties),
                groups=list(current.groups),
                last_seen_ms=max(at_ms, current.last_seen_ms + 1),
            )
        self._remember(key, profile)
        self._dirty[key] = profile
        return profile

    def identify(
        self, key: Key, at_ms: int, names: dict[str, str], properties: dict[str, str]
    ) -> Profile:
        """Deep-merge an identify over the stored profile (is_external = true)."""
        profile = self._writable(key, at_ms)
        profile.is_external = True
        for field in NAME_FIELDS:
            if names.get(field):
                setattr(profile, field, names[field])
        profile.properties.update(properties)
        return profile

    def seen(self, key: Key, at_ms: int, device_id: str, context: dict[str, str]) -> Profile:
        """A visit started or ended for this profile: refresh its geo/device properties.

        Server-side context (device "server") never overwrites a browser's context."""
        existing = self.get(key)
        if (
            existing is not None
            and context.get("device") == "server"
            and existing.properties.get("device", "server") != "server"
        ):
            context = {}
        profile = self._writable(key, at_ms)
        if key[1] != device_id:
            profile.is_external = True
        profile.properties.update({k: v for k, v in context.items() if v})
        return profile

    def add(self, key: Key, at_ms: int, prop: str, delta: int) -> Profile:
        """Increment (or, with a negative delta, decrement) an integer property by dot path."""
        profile = self._writable(key, at_ms)
        profile.properties[prop] = str(_leading_int(profile.properties.get(prop, "")) + delta)
        return profile

    def assign_groups(self, key: Key, at_ms: int, groups: list[str], external: bool) -> Profile:
        profile = self._writable(key, at_ms)
        profile.is_external = profile.is_external or external
        for group in groups:
            if group not in profile.groups:
                profile.groups.append(group)
        return profile

    def take_rows(self) -> list[dict[str, Any]]:
        rows = [p.row() for p in self._dirty.values()]
        self._dirty.clear()
        return rows


def _leading_int(text: str) -> int:
    """JavaScript parseInt semantics for the stored value (missing or junk → 0)."""
    digits = ""
    for i, ch in enumerate(text.strip()):
        if ch.isdigit() or (i == 0 and ch in "+-"):
            digits += ch
        else:
            break
    try:
        return int(digits)
    except ValueError:
        return 0


def context_properties(event: dict[str, Any]) -> dict[str, str]:
    """Profile properties derived from an event's geo/device/referrer columns."""
    props = {k: "" if event.get(k) is None else str(event.get(k)) for k in PROFILE_CONTEXT_KEYS}
    props.update(
        path=event.get("path", ""),
        referrer=event.get("referrer", ""),
        referrer_name=event.get("referrer_name", ""),
        referrer_type=event.get("referrer_type", ""),
    )
    return props
