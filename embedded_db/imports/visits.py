"""chDB's side of an import: visits over the staged file, under the live rules (jobs/visits.py,
openpanel-compat.md §2.6), and the rows to store, shaped exactly like `events`, `sessions` and
(merged over stored ones) `profiles`.

DuckDB leaves the storable rows as Parquet files, one folder per bucket of devices
(`sessionize.write_buckets`); chDB reads a bucket's files where they are (its own parallel
Parquet reader, only the columns a statement needs, no copy in Python). A visit never spans two
devices, so each bucket is computed and inserted on its own, and a bucket's statements need
memory for that bucket only.

Per device, ordered by time, an event more than the timeout (30 min) after the previous one
starts a new visit. Each visit gets a `session_start` (a copy of its first event, 100 ms
earlier) and a `session_end` (1 s after its last event, with the duration and `__bounce`); its
sessions row takes entry page, referrer, utm, geo and device from the first event, the exit page
from the last event that had a path, counts page views (`screen_view` with a path) and other
events, and is a bounce unless it has more than one page view. Later events inherit the visit's
referrer. Rows without a device id are stored without a visit, as live server-side events are.
Ids are deterministic: events from (import key, row number), visits from (project, device,
start), so a re-run writes the same rows and chDB's insert deduplication drops them.

A bucket's visit numbers and visits live in two Memory tables named after the import attempt
and the bucket (`Workspace`), dropped when the bucket is stored (a resumed import replaces its
own). The visits also touch profiles (imports/profiles.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from embedded_db.imports.canonical import EVENT_COLUMNS, SESSION_COLUMNS
from embedded_db.sql import (
    drop_scratch_table,
    file_source,
    insert_select_token,
    scratch_table,
    select_source,
)
from embedded_db.store import EventStore, Statement

# The staged files' columns and types (sessionize.write_buckets writes exactly these).
STAGED_STRUCTURE = (
    "row_no Int64, name String, created_at DateTime64(3, 'UTC'), device_id String, "
    "profile_id String, path String, origin String, referrer String, referrer_name String, "
    "referrer_type String, properties Map(String, String), country String, region String, "
    "city String, latitude Nullable(Float32), longitude Nullable(Float32), os String, "
    "os_version String, browser String, browser_version String, device String, brand String, "
    "model String, revenue UInt64, sdk_name String, sdk_version String, groups Array(String)"
)
_GEO_DEVICE = (
    "country", "city", "region", "longitude", "latitude", "os", "os_version", "browser",
    "browser_version", "device", "brand", "model",
)  # fmt: skip
_AGGREGATES = (
    "device_id", "visit_no", "started", "ended", "first_row", "has_path", "last_path",
    "last_origin", "screen_views", "n", "revenue", "has_ident", "ident", "visit_groups",
)  # fmt: skip
_NAME = re.compile(r"^[a-z0-9_]{1,80}$")
# One order for "time, then place in the file" (ties at the same millisecond).
_SEQ = "(s.created_at, s.row_no)"
_MS = "toUnixTimestamp64Milli"


def _uuid(text: str) -> str:
    """A UUID from the MD5 of `text` (hex digits in order, like DuckDB's hex_uuid(md5(…)))."""
    return f"toUUID(UUIDNumToString(MD5({text})))"


def _b64_id(text: str) -> str:
    """OpenPanel-style 22-character url-safe id: the first 16 bytes of SHA-256, base64url."""
    encoded = f"base64Encode(substring(SHA256({text}), 1, 16))"
    return f"replaceRegexpAll(replaceAll(replaceAll({encoded}, '+', '-'), '/', '_'), '=+$', '')"


@dataclass(frozen=True)
class Workspace:
    """One bucket of an import attempt: its staged files and Memory tables in chDB, and the
    parameters every statement binds."""

    store: EventStore
    staged: str  # the bucket's Parquet files (a glob)
    name: str  # a plain identifier naming these tables (`bucket_name`)
    params: dict[str, Any]

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"bad workspace name {self.name!r}")

    @property
    def source(self) -> str:
        """The staged rows: chDB reads the file in every statement (only the columns it
        needs, in parallel), so the wide rows are never held in memory whole."""
        return file_source(self.staged, "Parquet", STAGED_STRUCTURE)

    @property
    def numbers(self) -> str:
        return f"default.imp_{self.name}_numbers"

    @property
    def visits(self) -> str:
        return f"default.imp_{self.name}_visits"

    def dropping(self) -> list[Statement]:
        return [(drop_scratch_table(table), None) for table in (self.numbers, self.visits)]

    def drop(self) -> None:
        for sql, _ in self.dropping():
            self.store.execute(sql)


def workspace_name(import_id: str, attempt: int) -> str:
    """The name an import attempt's scratch tables carry (`default.imp_<name>_…`)."""
    return re.sub(r"[^a-z0-9]", "_", f"{import_id}_{attempt}".lower())


def bucket_name(workspace: str, bucket: int) -> str:
    """The name of one bucket's tables in an attempt's workspace."""
    return f"{workspace}_b{int(bucket)}"


SNAPSHOT_SUFFIX = "_before"  # profiles.Touches.before: kept until the import is done or undone
_SCRATCH_SUFFIXES = ("_numbers", "_visits", "_touches", SNAPSHOT_SUFFIX)
_BUCKET_SUFFIX = re.compile(r"_b\d+$")


def scratch_tables(store: EventStore) -> list[str]:
    """The names (in `default`) of every import's scratch tables."""
    rows = store.query(
        select_source("name", "system.tables", ["database = 'default'", "startsWith(name, 'imp_')"])
    )
    return sorted(r["name"] for r in rows)


def _workspace_of(table: str) -> str:
    """The attempt's workspace a scratch table belongs to (`imp_<workspace>[_bN]_<suffix>`)."""
    workspace = table[len("imp_") :]
    for suffix in _SCRATCH_SUFFIXES:
        workspace = workspace.removesuffix(suffix)
    return _BUCKET_SUFFIX.sub("", workspace)


def drop_workspace(store: EventStore, workspace: str) -> None:
    """Drop every scratch table of one import attempt (its buckets' and its touches), but not
    its profile snapshot, which a rollback still needs."""
    for name in scratch_tables(store):
        if _workspace_of(name) == workspace and not name.endswith(SNAPSHOT_SUFFIX):
            store.execute(drop_scratch_table("default." + name))


def drop_leftovers(store: EventStore, keep: set[str], older_than_ns: int) -> list[str]:
    """Drop scratch tables a crashed import left behind (a restart empties Memory tables but
    keeps their definitions): every workspace but those in `keep` (imports still staging or
    loading, which a resume or a running import replaces itself), and dry runs started before
    `older_than_ns` (their names carry their start). Returns the tables dropped."""
    dropped = []
    for name in scratch_tables(store):
        workspace = _workspace_of(name)
        if workspace in keep or not _NAME.match(workspace):
            continue
        dry = re.match(r"^dry_(\d+)_\d+$", workspace)
        if dry and int(dry.group(1)) >= older_than_ns:
            continue
        store.execute(drop_scratch_table("default." + name))
        dropped.append(name)
    return dropped


def build(ws: Workspace) -> list[Statement]:
    """The statements that number every device's visits and aggregate them (the bucket's
    Memory tables, replaced if a crashed attempt left them)."""
    window = "PARTITION BY device_id ORDER BY created_at, row_no"
    gaps = select_source(
        f"row_no, device_id, created_at, if(row_number() OVER w = 1 OR {_MS}(created_at) - "
        f"{_MS}(lagInFrame(created_at) OVER w) > {{timeout:Int64}}, 1, 0) AS gap",
        ws.source,
        ["device_id != ''"],
        f"WINDOW w AS ({window} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
    )
    numbers = select_source(
        f"row_no, device_id, toUInt32(sum(gap) OVER ({window} ROWS UNBOUNDED PRECEDING)) "
        "AS visit_no",
        f"({gaps})",
    )
    ident = "s.profile_id != '' AND s.profile_id != n.device_id"
    aggregates = select_source(
        "n.device_id AS device_id, n.visit_no AS visit_no, min(s.created_at) AS started, "
        f"max(s.created_at) AS ended, argMin(s.row_no, {_SEQ}) AS first_row, "
        f"countIf(s.path != '') > 0 AS has_path, "
        f"argMaxIf(s.path, {_SEQ}, s.path != '') AS last_path, "
        f"argMaxIf(s.origin, {_SEQ}, s.path != '') AS last_origin, "
        "countIf(s.name = 'screen_view' AND s.path != '') AS screen_views, count() AS n, "
        f"sum(s.revenue) AS revenue, countIf({ident}) > 0 AS has_ident, "
        f"argMaxIf(s.profile_id, {_SEQ}, {ident}) AS ident, "
        "arraySort(groupUniqArrayArray(s.groups)) AS visit_groups",
        f"{ws.numbers} AS n INNER JOIN {ws.source} AS s ON s.row_no = n.row_no",
        tail="GROUP BY n.device_id, n.visit_no",
    )
    first_profile = "if(f.profile_id != '', f.profile_id, a.device_id)"
    session_key = (
        f"concat('imp:v1:', {{project:String}}, ':', a.device_id, ':', toString({_MS}(a.started)))"
    )
    visits = select_source(
        ", ".join(f"a.{c} AS {c}" for c in _AGGREGATES)
        + f", {_b64_id(session_key)} AS session_id, "
        f"if(a.has_ident, a.ident, {first_profile}) AS visit_profile, "
        f"{first_profile} AS first_profile, "
        "if(a.has_path, a.last_path, f.path) AS exit_path, "
        "if(a.has_path, a.last_origin, f.origin) AS exit_origin, "
        "f.path AS entry_path, f.origin AS entry_origin, f.referrer AS v_referrer, "
        "f.referrer_name AS v_referrer_name, f.referrer_type AS v_referrer_type, "
        "f.properties AS first_properties, f.sdk_name AS first_sdk_name, "
        "f.sdk_version AS first_sdk_version, f.groups AS first_groups, "
        + ", ".join(f"f.{c} AS v_{c}" for c in _GEO_DEVICE),
        # the file rows stream past the visits' hash table (the small side on the right)
        f"{ws.source} AS f INNER JOIN ({aggregates}) AS a ON a.first_row = f.row_no",
    )
    return [
        *ws.dropping(),
        (scratch_table(ws.numbers, _spilling(ws, numbers)), ws.params),
        (scratch_table(ws.visits, _spilling(ws, visits)), ws.params),
    ]


def visit_count(ws: Workspace) -> int:
    """How many visits the bucket has (after `build`)."""
    return int(ws.store.scalar(select_source("count() AS n", ws.visits)) or 0)


def inserts(ws: Workspace, token: str, bucket: int) -> tuple[list[Statement], list[Statement]]:
    """The bucket's inserts as (events, sessions): the file rows, visit starts and ends and
    rows without a device; the visits. Repeating them with the same token stores nothing twice.
    The two lists are independent (each may run beside the other)."""
    # a visit's start and end in one insert: each insert writes parts that merges then rewrite
    parts = {
        "e": _visited_events(ws),
        "v": f"{_starts(ws)} UNION ALL {_ends(ws)}",
        "l": _loose_events(ws),
    }
    events: list[Statement] = [
        (
            insert_select_token(
                "events", EVENT_COLUMNS, _spilling(ws, query), f"{token}:{tag}{bucket}"
            ),
            ws.params,
        )
        for tag, query in parts.items()
    ]
    sessions = insert_select_token(
        "sessions", SESSION_COLUMNS, _spilling(ws, _sessions(ws)), f"{token}:s{bucket}"
    )
    return events, [(sessions, ws.params)]


def spill(store: EventStore) -> str:
    """Settings that let an import's statements spill to disk rather than fail when the file
    is big: aggregation and sorting (the window functions) past a quarter of the store's
    per-query memory limit go to chDB's temporary files, and inserted rows are squashed into
    blocks of at most an eighth of it (never one block of the whole chunk)."""
    limit = store.limits.memory_limit_mb * 1024 * 1024
    return (
        f"max_bytes_before_external_group_by = {limit // 4}, "
        f"max_bytes_before_external_sort = {limit // 4}, "
        f"min_insert_block_size_rows = 262144, min_insert_block_size_bytes = {limit // 8}"
    )


def _spilling(ws: Workspace, query: str) -> str:
    return query + " SETTINGS " + spill(ws.store)


def _geo_device(prefix: str) -> str:
    return ", ".join(f"{prefix}{c}" for c in _GEO_DEVICE)


_IMPORTED = "toDateTime({imported_at:String}, 'UTC')"


def _visited_events(ws: Workspace) -> str:
    event_id = _uuid("concat({key:String}, ':', toString(t.row_no))")
    return select_source(
        f"{event_id}, t.name, t.sdk_name, t.sdk_version, t.device_id, "
        "if(t.profile_id != '', t.profile_id, t.device_id), {project:String}, v.session_id, "
        "t.groups, t.path, t.origin, v.v_referrer, v.v_referrer_name, v.v_referrer_type, "
        f"t.revenue, 0, t.properties, t.created_at, {_geo_device('t.')}, {_IMPORTED}",
        f"{ws.source} AS t INNER JOIN {ws.numbers} AS n ON n.row_no = t.row_no "
        f"INNER JOIN {ws.visits} AS v ON v.device_id = n.device_id AND v.visit_no = n.visit_no",
    )


def _starts(ws: Workspace) -> str:
    start_id = _uuid("concat(session_id, ':start')")
    return select_source(
        f"{start_id}, 'session_start', first_sdk_name, first_sdk_version, device_id, "
        "first_profile, {project:String}, session_id, first_groups, entry_path, entry_origin, "
        "v_referrer, v_referrer_name, v_referrer_type, 0, toUInt64(0), first_properties, "
        f"started - toIntervalMillisecond(100), {_geo_device('v_')}, {_IMPORTED}",
        ws.visits,
    )


def _ends(ws: Workspace) -> str:
    end_id = _uuid("concat(session_id, ':end')")
    return select_source(
        f"{end_id}, 'session_end', '', '', device_id, visit_profile, {{project:String}}, "
        "session_id, visit_groups, exit_path, exit_origin, v_referrer, v_referrer_name, "
        f"v_referrer_type, 0, toUInt64({_MS}(ended) - {_MS}(started)), "
        "map('__bounce', if(screen_views <= 1, 'true', 'false')), ended + toIntervalSecond(1), "
        f"{_geo_device('v_')}, {_IMPORTED}",
        ws.visits,
    )


def _loose_events(ws: Workspace) -> str:
    event_id = _uuid("concat({key:String}, ':', toString(row_no))")
    return select_source(
        f"{event_id}, name, sdk_name, sdk_version, '', profile_id, {{project:String}}, '', "
        "groups, path, origin, referrer, referrer_name, referrer_type, revenue, 0, properties, "
        f"created_at, {_geo_device('')}, {_IMPORTED}",
        ws.source,
        ["device_id = ''"],
    )


def _sessions(ws: Workspace) -> str:
    utm = ", ".join(
        f"first_properties['__query.{k}']"
        for k in ("utm_medium", "utm_source", "utm_campaign", "utm_content", "utm_term")
    )
    return select_source(
        "session_id, {project:String}, visit_profile, device_id, started, ended, "
        "screen_views <= 1, entry_origin, entry_path, exit_origin, exit_path, "
        "toInt32(screen_views), toFloat64(revenue), toInt32(n - screen_views), "
        f"toUInt32({_MS}(ended) - {_MS}(started)), v_country, v_region, v_city, v_longitude, "
        "v_latitude, v_device, v_brand, v_model, v_browser, v_browser_version, v_os, "
        f"v_os_version, {utm}, v_referrer, v_referrer_name, v_referrer_type, visit_groups, "
        "{version:UInt64}",
        ws.visits,
    )
