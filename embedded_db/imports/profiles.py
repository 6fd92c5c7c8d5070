"""An import's profiles. Visits touch profiles as live ones do: when a visit starts (its first
event's profile) and when it ends (the visit's profile). A profile gets its first and last seen,
whether it was ever identified, and the context (geo, device, page, referrer) of its latest
touch: the visit's entry page at a start, its exit page at an end.

One person may be seen on several devices, so a profile may be touched from several buckets.
Each bucket adds its touches, already reduced per profile, to one scratch table on disk
(`Touches`); once every bucket is in, they are reduced again per profile and merged over the
stored profiles (names kept, context properties updated, first and last seen widened), in slices
of profiles by hash, so that memory stays bounded however many profiles an import has.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from embedded_db.imports.visits import SNAPSHOT_SUFFIX, Workspace, scratch_tables, spill
from embedded_db.sql import (
    delete_where,
    drop_scratch_table,
    insert_scratch,
    insert_select_token,
    scratch_disk_table,
    select,
    select_source,
)
from embedded_db.store import EventStore, Statement

_STRUCTURE = (
    "id String, is_external UInt8, first_seen DateTime64(3, 'UTC'), "
    "last_seen DateTime64(3, 'UTC'), pick UInt64, context Map(String, String)"
)
_CONTEXT = ("country", "city", "region", "latitude", "longitude", "os", "os_version", "browser",
            "browser_version", "device", "brand", "model")  # fmt: skip
_PROFILE_COLUMNS = (
    "id, is_external, first_name, last_name, email, avatar, properties, project_id, groups, "
    "created_at, last_seen_at"
)
_STORED_PROFILE = (
    "id, is_external, first_name, last_name, email, avatar, properties, groups, created_at, "
    "last_seen_at"
)
_MERGED_PROFILE = (
    "n.id, n.is_external OR o.is_external, o.first_name, o.last_name, o.email, o.avatar, "
    "mapUpdate(o.properties, CAST(n.context, 'Map(String, String)')), {project:String}, "
    "o.groups, if(o.id = '', n.first_seen, least(n.first_seen, o.created_at)), "
    "if(o.id = '', n.last_seen, greatest(n.last_seen, o.last_seen_at))"
)
# What a rollback puts back: the stored version of every profile the import touched
# (`existed`), and the ids it added (`existed` = 0, deleted on rollback).
_BEFORE = (
    "id String, existed UInt8, is_external Bool, first_name String, last_name String, "
    "email String, avatar String, properties Map(String, String), groups Array(String), "
    "created_at DateTime64(3, 'UTC'), last_seen_at DateTime64(3, 'UTC')"
)
TOUCH_BYTES = 256  # about what one reduced touch holds while profiles are merged


@dataclass(frozen=True)
class Touches:
    """The scratch table of one import attempt's profile touches."""

    store: EventStore
    workspace: str  # the attempt's workspace name (visits.workspace_name)

    @property
    def table(self) -> str:
        return f"default.imp_{self.workspace}_touches"

    def create(self) -> None:
        """An empty table (a crashed attempt's is replaced)."""
        self.drop()
        self.store.execute(scratch_disk_table(self.table, _STRUCTURE, "id"))

    def drop(self) -> None:
        self.store.execute(drop_scratch_table(self.table))

    def add(self, ws: Workspace) -> Statement:
        """The statement adding a built bucket's touches, reduced per profile (the pick is the
        latest touch: its visit's first row, times two, plus one for an end)."""
        both = " UNION ALL ".join(
            (
                select_source(
                    "first_profile AS id, device_id, started - toIntervalMillisecond(100) AS "
                    "seen, first_row * 2 AS pick",
                    ws.visits,
                ),
                select_source(
                    "visit_profile AS id, device_id, ended + toIntervalSecond(1) AS seen, "
                    "first_row * 2 + 1 AS pick",
                    ws.visits,
                ),
            )
        )
        latest = select_source(
            "id, max(id != device_id) AS is_external, min(seen) AS first_seen, "
            "max(seen) AS last_seen, argMax(pick, (seen, pick)) AS pick",
            f"({both})",
            tail="GROUP BY id",
        )
        entries = ", ".join(f"'{c}', ifNull(toString(v.v_{c}), '')" for c in _CONTEXT)
        context = (
            f"mapFilter((k, x) -> x != '', map({entries}, 'path', if(l.pick % 2 = 0, "
            "v.entry_path, v.exit_path), 'referrer', v.v_referrer, 'referrer_name', "
            "v.v_referrer_name, 'referrer_type', v.v_referrer_type))"
        )
        reduced = select_source(
            "l.id, l.is_external, l.first_seen, l.last_seen, l.pick, " + context,
            f"({latest}) AS l INNER JOIN {ws.visits} AS v ON v.first_row = intDiv(l.pick, 2)",
        )
        return insert_scratch(self.table, reduced + " SETTINGS " + spill(self.store)), None

    def slices(self, slice_bytes: int) -> int:
        """How many slices of profiles keep each merge under `slice_bytes` (at least one per
        bulk lane, so that the merges run side by side)."""
        rows = int(self.store.scalar(select_source("count() AS n", self.table)) or 0)
        needed = math.ceil(rows * TOUCH_BYTES / max(slice_bytes, 1))
        return max(self.store.limits.lanes if rows else 1, needed)

    @property
    def before(self) -> str:
        return f"default.imp_{self.workspace}{SNAPSHOT_SUFFIX}"

    def snapshot(self, params: dict[str, Any], slices: int) -> list[Statement]:
        """The statements that keep what the merges will replace (a new scratch table on disk,
        filled slice by slice like the merges), for `restore`."""
        statements: list[Statement] = [
            (drop_scratch_table(self.before), None),
            (scratch_disk_table(self.before, _BEFORE, "id"), None),
        ]
        for slice_no in range(int(slices)):
            mine = [f"cityHash64(id) % {int(slices)} = {int(slice_no)}"]
            ids = select_source("DISTINCT id", self.table, mine)
            stored = select(
                _STORED_PROFILE + ", 1",
                "profiles",
                ["project_id = {project:String}", f"id IN ({ids})"],
                final=True,
            )
            statements += [
                (
                    insert_scratch(
                        self.before, "(id, existed) " + select_source("id, 0", f"({ids})")
                    ),
                    None,
                ),
                (
                    insert_scratch(
                        self.before,
                        f"({_STORED_PROFILE}, existed) {stored} SETTINGS {spill(self.store)}",
                    ),
                    params,
                ),
            ]
        return statements

    def restore(self, params: dict[str, Any], token: str) -> list[Statement]:
        """Put the snapshot back: the touched profiles' rows deleted, their stored versions
        inserted again (`token` must be new for every try, or chDB drops the insert as a
        repeat). Run again after a crash, it gives the same result."""
        ids = select_source("id", self.before)
        again = select_source(
            "id, is_external, first_name, last_name, email, avatar, properties, "
            "{project:String}, groups, created_at, last_seen_at",
            self.before,
            ["existed = 1"],
        )
        return [
            (delete_where("profiles", ["project_id = {project:String}", f"id IN ({ids})"]), params),
            (insert_select_token("profiles", _PROFILE_COLUMNS, again, token), params),
        ]

    def has_snapshot(self) -> bool:
        return self.before.removeprefix("default.") in scratch_tables(self.store)

    def forget(self) -> None:
        """Drop the snapshot (the import is done, or rolled back)."""
        self.store.execute(drop_scratch_table(self.before))

    def merges(self, params: dict[str, Any], token: str, slices: int) -> list[Statement]:
        """One upsert per slice of the import's profiles, merged over the stored ones; each
        carries its own deduplication token."""
        return [(self._merge(slice_no, slices, token), params) for slice_no in range(int(slices))]

    def _merge(self, slice_no: int, slices: int, token: str) -> str:
        mine = [f"cityHash64(id) % {int(slices)} = {int(slice_no)}"]
        # the latest touch's context is joined back by its pick (unique per visit): argMax
        # over a Map column is ten times slower than the whole rest of the merge
        latest = select_source(
            "t.id AS id, max(t.is_external) AS external, min(t.first_seen) AS first, "
            "max(t.last_seen) AS last, argMax(t.pick, (t.last_seen, t.pick)) AS pick",
            f"{self.table} AS t",
            mine,
            "GROUP BY t.id",
        )
        contexts = select_source("id, pick, context", self.table, mine)
        new = select_source(
            "l.id AS id, l.external AS is_external, l.first AS first_seen, "
            "l.last AS last_seen, c.context AS context",
            f"({latest}) AS l INNER JOIN ({contexts}) AS c ON c.id = l.id AND c.pick = l.pick",
        )
        ids = select_source("id", self.table, mine)
        old = select(
            _STORED_PROFILE,
            "profiles",
            ["project_id = {project:String}", f"id IN ({ids})"],
            final=True,
        )
        merged = select_source(
            _MERGED_PROFILE,
            f"({new}) AS n LEFT JOIN ({old}) AS o ON o.id = n.id",
            tail="SETTINGS join_use_nulls = 0, " + spill(self.store),
        )
        return insert_select_token("profiles", _PROFILE_COLUMNS, merged, f"{token}:p{slice_no}")
