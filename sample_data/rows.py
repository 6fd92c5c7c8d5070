"""Visit plans → `events` and `sessions` rows as the pipeline would store them, in Arrow columns.

The conventions are the pipeline's (jobs/pipeline.py, jobs/visits.py, jobs/eventrows.py) and the
enrichment is the pipeline's own code (user agents, referrers, URL split, device and session
ids); only geo comes from the scenario's places instead of a GeoIP database. Per visit: a
`session_start` copying the first event 100 ms earlier; every event with the visit's referrer;
a `session_end` 1 s after the last event with the duration and `__bounce`; one `sessions` row.
Per-event work is a few list appends; visit-level columns are expanded with Arrow `take`.
Profiles are tracked compactly across chunks by `sample_data.profiles.ProfileTracker`.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from jobs.enrich.referrer import Referrer, ReferrerParser
from jobs.enrich.url import split_url
from jobs.enrich.useragent import Device, UserAgentParser
from jobs.eventrows import CONSUMED_KEYS
from jobs.identity import bucket_session_id, device_id
from jobs.visits import UTM_KEYS
from sample_data.plans import TIMEOUT_MS, VisitPlan
from sample_data.profiles import ProfileTracker
from sample_data.schema import EVENTS, SESSIONS
from sample_data.site import PLACES, SDK_NAME, SDK_VERSION, USER_AGENTS
from sample_data.visitors import Visitors

_UAS = [ua for ua, _ in USER_AGENTS]
_GEO_COLUMNS = ("country", "region", "city", "longitude", "latitude")
_DEVICE_COLUMNS = ("os", "os_version", "browser", "browser_version", "device", "brand", "model")
_NO_PAGE: tuple[str, str, tuple[tuple[str, str], ...]] = ("", "", ())


class Enrichment:
    """The pipeline's parsers with caches sized for a scenario's few distinct values."""

    def __init__(self) -> None:
        parser = UserAgentParser()
        self.devices: list[Device] = [parser.parse(ua) for ua in _UAS]
        self._referrers = ReferrerParser()

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance per load, few URLs
    def page(self, url: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
        """(origin, path, the properties the URL adds: `__hash`, `__query.*`)."""
        parts = split_url(url)
        extra = [("__hash", parts.hash)] if parts.hash else []
        extra += [(f"__query.{k}", v) for k, v in parts.query.items()]
        return parts.origin, parts.path, tuple(extra)

    @functools.lru_cache(maxsize=4096)  # noqa: B019
    def referrer(self, referrer: str, url: str) -> Referrer:
        return self._referrers.parse(referrer, url, split_url(url).query)


class RowBuilder:
    """Accumulates one chunk of rows; `take()` returns them as Arrow tables and starts anew."""

    def __init__(
        self,
        project_id: str,
        visitors: Visitors,
        *,
        salt: str,
        seed: int = 0,
        timeout_ms: int = TIMEOUT_MS,
    ) -> None:
        self.project_id = project_id
        self.visitors = visitors
        self.salt = salt
        self.timeout_ms = timeout_ms
        self.enrich = Enrichment()
        self.profiles = ProfileTracker(visitors, self.enrich.devices)
        self._id_tag = int(np.random.default_rng([seed, 7]).integers(0, 2**32))
        self._id_seq = 0  # ids are time-ordered like the pipeline's (jobs.pipeline.event_uuid)
        self._reset()

    def _reset(self) -> None:
        self.e_visit: list[int] = []
        self.e_name: list[str] = []
        self.e_profile: list[str] = []
        self.e_path: list[str] = []
        self.e_origin: list[str] = []
        self.e_ms: list[int] = []
        self.e_props: list[int] = []
        self.revenues: list[tuple[int, int]] = []  # (row, amount): only `revenue` events
        self.durations: list[tuple[int, int]] = []  # (row, ms): only `session_end` events
        self.prop_sets: dict[Any, int] = {}  # distinct (url, payload properties) → number
        self._prop_lists: list[list[tuple[str, str]]] = []  # … → the properties stored
        self._bounce = {
            flag: self._prop_id(None, {"__bounce": "true" if flag else "false"})
            for flag in (False, True)
        }
        self.s_rows: dict[str, list[Any]] = {c: [] for c in _SESSION_VISIT_COLUMNS}

    def __len__(self) -> int:
        return len(self.e_name)

    # -- one visit -------------------------------------------------------------------------------
    def add(self, plan: VisitPlan) -> None:
        """Append the rows of one visit (and note its profile updates)."""
        pool, v = self.visitors, plan.visitor
        device = device_id(_UAS[pool.ua[v]], pool.ip_text(v), self.project_id, self.salt)
        first = plan.hits[0]
        assert first.url is not None and first.name == "screen_view"
        ref = self.enrich.referrer(plan.referrer, first.url)
        origin0, path0, extra0 = self.enrich.page(first.url)
        vi = len(self.s_rows["id"])
        start_profile = first.profile_id or device
        names, profiles, paths, origins = self.e_name, self.e_profile, self.e_path, self.e_origin
        times, props, page, prop_id = self.e_ms, self.e_props, self.enrich.page, self._prop_id
        names.append("session_start")
        profiles.append(start_profile)
        paths.append(path0)
        origins.append(origin0)
        times.append(first.at_ms - 100)
        props.append(prop_id(first.url, first.props))
        self.profiles.seen(v, start_profile != device, first.at_ms, path0, ref)
        visit_profile, views, revenue = start_profile, 0, 0
        exit_origin, exit_path, ended, tracks = origin0, path0, first.at_ms, 1
        for at, kind, name, url, hit_props, hit_profile in plan.hits:
            if kind == "identify":
                self.profiles.identify(v, at, plan.referrer)
                continue
            tracks += 1
            origin, path, _ = page(url) if url else _NO_PAGE
            profile = hit_profile or device
            names.append(name)
            profiles.append(profile)
            paths.append(path)
            origins.append(origin)
            times.append(at)
            props.append(prop_id(url, hit_props))
            ended = at
            if path:
                exit_origin, exit_path = origin, path
                if name == "screen_view":
                    views += 1
            if name == "revenue":
                amount = _revenue(hit_props)
                self.revenues.append((len(names) - 1, amount))
                revenue += amount
            if profile != device:
                visit_profile = profile
        bounce = views <= 1
        names.append("session_end")
        profiles.append(visit_profile)
        paths.append(exit_path)
        origins.append(exit_origin)
        times.append(ended + 1000)
        props.append(self._bounce[bounce])
        self.durations.append((len(names) - 1, ended - first.at_ms))
        self.e_visit.extend([vi] * (tracks + 1))
        self.profiles.seen(v, visit_profile != device, ended + self.timeout_ms, exit_path, ref)
        utm = dict(extra0)
        r = self.s_rows
        r["id"].append(bucket_session_id(self.project_id, device, first.at_ms, self.timeout_ms))
        r["profile_id"].append(visit_profile)
        r["device_id"].append(device)
        r["created_ms"].append(first.at_ms)
        r["ended_ms"].append(ended)
        r["is_bounce"].append(bounce)
        r["entry_origin"].append(origin0)
        r["entry_path"].append(path0)
        r["exit_origin"].append(exit_origin)
        r["exit_path"].append(exit_path)
        r["screen_view_count"].append(views)
        r["event_count"].append(tracks - 1 - views)
        r["revenue"].append(float(revenue))
        r["place"].append(pool.place[v])
        r["ua"].append(pool.ua[v])
        r["referrer"].append(ref.url)
        r["referrer_name"].append(ref.name)
        r["referrer_type"].append(ref.type)
        for key in UTM_KEYS:
            r[key].append(utm.get("__query." + key, ""))

    def _prop_id(self, url: str | None, props: dict[str, Any]) -> int:
        """The number of the stored property list of an event with this URL and payload."""
        key = (url, *props.items())
        found = self.prop_sets.get(key)
        if found is None:
            extra = self.enrich.page(url)[2] if url else ()
            found = self.prop_sets[key] = len(self.prop_sets)
            self._prop_lists.append(_stored(props, extra))
        return found

    # -- to Arrow --------------------------------------------------------------------------------
    def take(self) -> tuple[pa.Table, pa.Table]:
        """(events, sessions) of the visits added since the last call, in the tables' column
        order (see sample_data.schema)."""
        events, sessions = self._events_table(), self._sessions_table()
        self._reset()
        return events, sessions

    def _visit_level(self, place: pa.Array, ua: pa.Array) -> dict[str, pa.Array]:
        """Geo and device columns for rows whose place / user-agent numbers are given."""
        cols: dict[str, pa.Array] = {}
        for name in _GEO_COLUMNS:
            kind = pa.float32() if name in ("longitude", "latitude") else pa.string()
            cols[name] = pa.array([getattr(p, name) for p in PLACES], kind).take(place)
        for name in _DEVICE_COLUMNS:
            cols[name] = pa.array([getattr(d, name) for d in self.enrich.devices]).take(ua)
        return cols

    def _next_ids(self, n: int) -> pa.StringArray:
        ids = uuid7_strings(np.asarray(self.e_ms, np.uint64), self._id_tag, self._id_seq)
        self._id_seq += n
        return ids

    def _events_table(self) -> pa.Table:
        n = len(self.e_name)
        visit = pa.array(self.e_visit, pa.int32())
        s = self.s_rows
        place = pa.array(s["place"], pa.uint8()).take(visit)
        ua = pa.array(s["ua"], pa.uint8()).take(visit)
        name = pa.array(self.e_name)
        sdk = pc.if_else(pc.equal(name, "session_end"), "", SDK_NAME)
        cols: dict[str, Any] = {
            "id": self._next_ids(n),
            "name": name,
            "sdk_name": sdk,
            "sdk_version": pc.if_else(pc.equal(name, "session_end"), "", SDK_VERSION),
            "device_id": pa.array(s["device_id"]).take(visit),
            "profile_id": pa.array(self.e_profile),
            "project_id": pa.array([self.project_id] * n),
            "session_id": pa.array(s["id"]).take(visit),
            "groups": pa.array([[]] * n, pa.list_(pa.string())),
            "path": pa.array(self.e_path),
            "origin": pa.array(self.e_origin),
            "referrer": pa.array(s["referrer"]).take(visit),
            "referrer_name": pa.array(s["referrer_name"]).take(visit),
            "referrer_type": pa.array(s["referrer_type"]).take(visit),
            "revenue": _sparse(n, self.revenues),
            "duration": _sparse(n, self.durations),
            "properties": _maps(self._prop_lists).take(pa.array(self.e_props, pa.int32())),
            "created_at": pa.array(self.e_ms, pa.timestamp("ms", tz="UTC")),
            "imported_at": pa.nulls(n, pa.timestamp("s", tz="UTC")),
            **self._visit_level(place, ua),
        }
        return pa.table({c: cols[c] for c in EVENTS.names}, schema=EVENTS)

    def _sessions_table(self) -> pa.Table:
        s = self.s_rows
        n = len(s["id"])
        created = pa.array(s["created_ms"], pa.int64())
        ended = pa.array(s["ended_ms"], pa.int64())
        cols: dict[str, Any] = {
            **{c: pa.array(s[c]) for c in _SESSION_TEXT},
            "project_id": pa.array([self.project_id] * n),
            "created_at": created.cast(pa.timestamp("ms", tz="UTC")),
            "ended_at": ended.cast(pa.timestamp("ms", tz="UTC")),
            "is_bounce": pa.array(s["is_bounce"], pa.bool_()),
            "screen_view_count": pa.array(s["screen_view_count"], pa.int32()),
            "revenue": pa.array(s["revenue"], pa.float64()),
            "event_count": pa.array(s["event_count"], pa.int32()),
            "duration": pc.subtract(ended, created).cast(pa.uint32()),
            "groups": pa.array([[]] * n, pa.list_(pa.string())),
            "version": pa.array([1] * n, pa.uint64()),
            **self._visit_level(pa.array(s["place"], pa.uint8()), pa.array(s["ua"], pa.uint8())),
        }
        return pa.table({c: cols[c] for c in SESSIONS.names}, schema=SESSIONS)


_SESSION_TEXT = (
    "id",
    "profile_id",
    "device_id",
    "entry_origin",
    "entry_path",
    "exit_origin",
    "exit_path",
    "referrer",
    "referrer_name",
    "referrer_type",
    *UTM_KEYS,
)
_SESSION_VISIT_COLUMNS = (
    *_SESSION_TEXT,
    "created_ms",
    "ended_ms",
    "is_bounce",
    "screen_view_count",
    "revenue",
    "event_count",
    "place",
    "ua",
)


def _stored(props: dict[str, Any], extra: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """The properties the pipeline stores: the payload's minus the consumed keys, flattened
    (these payloads are flat strings and integers), then the URL's hash and query."""
    out = [
        (k, v if isinstance(v, str) else str(v))
        for k, v in props.items()
        if k not in CONSUMED_KEYS and v != ""
    ]
    out.extend(extra)
    return out


def _revenue(props: dict[str, Any]) -> int:
    """The amount a `revenue` event stores: `__revenue` if it is an integer ≥ 0."""
    amount = props.get("__revenue")
    if isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0:
        return amount
    return 0


def _sparse(n: int, entries: list[tuple[int, int]]) -> pa.Array:
    """A UInt64 column of `n` zeros with the (row, value) entries set."""
    values = np.zeros(n, np.uint64)
    if entries:
        rows, amounts = zip(*entries, strict=True)
        values[list(rows)] = amounts
    return pa.array(values, pa.uint64())


def _maps(lists: list[list[tuple[str, str]]]) -> pa.MapArray:
    """Map(String, String) values from lists of (key, value) pairs."""
    offsets, keys, values = [0], [], []
    for pairs in lists:
        for key, value in pairs:
            keys.append(key)
            values.append(value)
        offsets.append(len(keys))
    return pa.MapArray.from_arrays(
        pa.array(offsets, pa.int32()), pa.array(keys, pa.string()), pa.array(values, pa.string())
    )


def uuid7_strings(ms: np.ndarray, tag: int, first_seq: int) -> pa.StringArray:
    """Time-ordered UUIDs as text, laid out like the pipeline's ids (`jobs.pipeline.event_uuid`:
    48 bits of ms, version 7, 32 bits of `tag`, variant, 42 bits of sequence); vectorised."""
    n = len(ms)
    seq = np.arange(first_seq, first_seq + n, dtype=np.uint64)
    raw = np.zeros((n, 16), np.uint8)
    for i in range(6):
        raw[:, i] = (ms >> np.uint64(8 * (5 - i))) & np.uint64(0xFF)
    raw[:, 6] = 0x70 | ((tag >> 28) & 0x0F)
    raw[:, 7] = (tag >> 20) & 0xFF
    low = (np.uint64(0b10) << np.uint64(62)) | (np.uint64(tag & 0xFFFFF) << np.uint64(42)) | seq
    for i in range(8):
        raw[:, 8 + i] = (low >> np.uint64(8 * (7 - i))) & np.uint64(0xFF)
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    digits = np.empty((n, 32), np.uint8)
    digits[:, 0::2] = hexdigits[raw >> 4]
    digits[:, 1::2] = hexdigits[raw & 0x0F]
    text = np.full((n, 36), ord("-"), np.uint8)
    text[:, [c for c in range(36) if c not in (8, 13, 18, 23)]] = digits
    offsets = np.arange(0, 36 * (n + 1), 36, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text))
