"""Fuzzing the ingest endpoints of one live appliance with arbitrary bodies and headers.

Whatever arrives, the server answers with a client error in the SDK contract's shape (400 JSON
naming the field, 401 plain text starting with "Ingestion:") or accepts the request; it never
answers 5xx, never leaks a traceback, and its pipeline keeps storing what it accepted.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.server import LiveServer, make_server

pytestmark = pytest.mark.slow

ORIGIN = "https://example.com"
CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0.0.0 Safari/537.36"
)
FUZZ = settings(
    max_examples=1000,
    deadline=None,
    database=None,  # keep the tree clean; a failure prints its reproduction blob
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        HealthCheck.function_scoped_fixture,
    ],
)
# The one documented plain-text 400 (openpanel-compat.md §1, deprecated /profile/increment).
# Upstream's legacy profile endpoints answer a non-numeric value with this plain text.
PLAIN_400 = {
    f"{root}/profile/{op}": "Not number"
    for root in ("", "/api")
    for op in ("increment", "decrement")
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, geoip_db: Path) -> Iterator[LiveServer]:
    srv = make_server(
        tmp_path_factory.mktemp("fuzz"),
        {"OPENPANEL_GEOIP_DB": str(geoip_db), "OPENPANEL_API_RATE_LIMIT": "100000"},
    )
    srv.create_project("Fuzz", cors=(ORIGIN, "https://*.example.org"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


# -- JSON values --------------------------------------------------------------------------------
def _repeat(pair: tuple[str, int]) -> str:
    return pair[0] * pair[1]


huge_text = st.tuples(st.characters(), st.integers(1_000, 100_000)).map(_repeat)
lone_surrogates = st.text(st.characters(categories=["Cs"]), min_size=1, max_size=4)
text = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            " ",
            "screen_view",
            "session_start",
            "session_end",
            "revenue",
            "https://example.com/a?utm_source=x",
            "2024-05-01T10:00:00Z",
            "not a date",
            "8.8.8.8",
            "\x00",
            "null",
            "{}",
            "a@b.co",
        ]
    ),
    lone_surrogates,
    huge_text,
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),  # NaN and ±Infinity become the invalid JSON tokens NaN / Infinity
    text,
)
keys = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "__path",
            "__referrer",
            "__title",
            "__timestamp",
            "__ip",
            "__deviceId",
            "__identify",
            "__revenue",
            "__bot",
            "__screen",
            "profileId",
            "name",
            "value",
            "a.b",
            "$",
            "*",
        ]
    ),
    st.text(min_size=257, max_size=300),
)
json_values = st.recursive(
    scalars,
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(keys, kids, max_size=4),
    max_leaves=12,
)

# Every field of every payload type, with a plausible value or anything at all.
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["screen_view", "click", "session_start", "revenue", ""]) | text,
    "properties": st.dictionaries(keys, json_values, max_size=6),
    "profileId": st.none() | st.text(max_size=300) | st.integers(-(2**70), 2**70),
    "groups": st.lists(st.text(max_size=10), max_size=3),
    "firstName": text,
    "lastName": text,
    "email": st.sampled_from(["a@b.co", "nope"]) | text,
    "avatar": st.sampled_from(["https://x.y/a.png", "data:image/png;base64,AA", "ftp://x"]),
    "property": st.sampled_from(["visits", "a.b.c", ""]) | text,
    "value": st.none() | st.integers(-5, 2**64) | st.floats() | st.just("3"),
    "alias": text,
    "id": text,
    "type": text,
    "groupIds": st.lists(text, max_size=3),
    "chunk_index": st.integers(-1, 70_000),
    "events_count": st.integers(-1, 70_000),
    "is_full_snapshot": st.booleans(),
    "started_at": st.sampled_from(["2024-05-01T10:00:00Z", "yesterday"]),
    "ended_at": st.sampled_from(["2024-05-01T10:00:05Z", ""]),
    "payload": st.sampled_from(["[]", "{}"]) | huge_text,
    "sessionId": st.none() | st.text(max_size=80),
    "timestamp": json_values,
}
anything_payloads = st.fixed_dictionaries(
    {}, optional={k: v | json_values for k, v in FIELDS.items()}
)
# Well-formed payloads (sane names, keys and values), so that many requests get past validation
# into authentication, the acceptor and the pipeline.
sane_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda kids: (
        st.lists(kids, max_size=3) | st.dictionaries(st.text(max_size=8), kids, max_size=3)
    ),
    max_leaves=6,
)
sane_properties = st.dictionaries(
    st.sampled_from(
        ["__path", "__referrer", "__title", "__timestamp", "__ip", "__deviceId", "__screen", "plan"]
    )
    | st.text(max_size=12),
    sane_values,
    max_size=5,
)
sane_names = st.sampled_from(["screen_view", "click", "signup", "revenue"]) | st.text(
    min_size=1, max_size=40
)
track_payloads = st.fixed_dictionaries(
    {"name": sane_names, "properties": sane_properties},
    optional={
        "profileId": st.text(min_size=1, max_size=20) | st.integers(0, 2**40),
        "groups": st.lists(st.text(min_size=1, max_size=10), max_size=3),
    },
)
payloads = st.one_of(track_payloads, anything_payloads, json_values)
TYPES = ["track", "identify", "increment", "decrement", "alias", "group", "assign_group", "replay"]
envelopes = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("track"), "payload": track_payloads},
        optional={"clientId": st.none() | st.text(max_size=40)},
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(TYPES) | json_values, "payload": payloads},
        optional={"clientId": json_values, "clientSecret": json_values, "extra": json_values},
    ),
    json_values,
)


def _encode(value: Any, ascii_only: bool) -> bytes:
    # Lone surrogates survive as \ud800 escapes (ascii) or as invalid UTF-8 bytes (raw).
    return json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")


def _deep(depth: int) -> bytes:
    inner = b"[" * depth + b"]" * depth
    return b'{"type":"track","payload":{"name":"deep","properties":{"a":' + inner + b"}}}"


@st.composite
def bodies(draw: st.DrawFn, objects: st.SearchStrategy[Any]) -> bytes:
    """Request bodies: encoded values, then damaged, truncated or replaced by raw bytes."""
    body = _encode(draw(objects), draw(st.booleans()))
    how = draw(
        st.sampled_from(["as is"] * 10 + ["cut", "bad utf-8", "bytes", "empty", "deep", "scalar"])
    )
    if how == "cut":
        return body[: draw(st.integers(0, max(0, len(body) - 1)))]
    if how == "bad utf-8":
        at = draw(st.integers(0, len(body)))
        return (
            body[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00"]))
            + body[at:]
        )
    if how == "bytes":
        return draw(st.binary(max_size=512))
    if how == "empty":
        return b""
    if how == "deep":
        return _deep(draw(st.sampled_from([11, 200, 1_000, 5_000, 100_000])))
    if how == "scalar":
        return draw(st.sampled_from([b"null", b"[]", b"1", b'"track"', b"{}", b"NaN"]))
    return body


# -- headers ------------------------------------------------------------------------------------
# What h11 lets a client put on the wire: visible ASCII and obs-text, inner spaces only.
header_bytes = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=60
).map(lambda s: s.encode("latin-1").strip())
long_header = st.integers(200, 7_000).map(lambda n: b"Mozilla/5.0 " + b"x" * n)
ips = st.sampled_from(
    [
        b"8.8.8.8",
        b"2001:4860:4860::8888",
        b"127.0.0.1",
        b"10.0.0.1",
        b"::1",
        b"unknown",
        b"999.1.1.1",
        b"1.1.1.1, 10.0.0.1",
        b"[2001:db8::1]:443",
        b"for=192.0.2.60;proto=http",
        b"",
        b"1.2.3.4.5",
        b"0.0.0.0",
    ]
)


@st.composite
def headers(draw: st.DrawFn, server: LiveServer) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    mode = draw(st.sampled_from(["browser", "server", "anything"]))
    if mode == "browser":
        out["openpanel-client-id"] = server.write.id.encode()
        out["origin"] = draw(st.sampled_from([ORIGIN.encode(), b"https://shop.example.org"]))
    elif mode == "server":
        out["openpanel-client-id"] = server.write.id.encode()
        out["openpanel-client-secret"] = server.write.secret.encode()
    else:
        ids = [server.write.id, server.read.id, str(uuid.uuid4()), server.write.id.upper(), "x"]
        client_id = draw(st.sampled_from([*ids, None]) | header_bytes)
        if client_id is not None:
            name = draw(st.sampled_from(["openpanel-client-id", "mixan-client-id"]))
            out[name] = client_id if isinstance(client_id, bytes) else client_id.encode()
        secrets = [server.write.secret, server.read.secret, "wrong", None]
        secret = draw(st.sampled_from(secrets) | header_bytes)
        if secret is not None:
            out["openpanel-client-secret"] = (
                secret if isinstance(secret, bytes) else secret.encode()
            )
        origins = [
            ORIGIN.encode(),
            b"https://shop.example.org",
            b"null",
            b"http://evil.test",
            b"https://example.com.evil.test",
            b"*",
            None,
        ]
        origin = draw(st.sampled_from(origins) | header_bytes | long_header)
        if origin is not None:
            out["origin"] = origin
    ua = draw(
        st.sampled_from(
            [
                CHROME.encode(),
                b"node",
                b"okhttp/4.12.0",
                b"curl/8.5",
                b"Googlebot/2.1 (+http://www.google.com/bot.html)",
                None,
            ]
        )
        | header_bytes
        | long_header
    )
    if ua is not None:
        out["user-agent"] = ua
    for name in draw(
        st.lists(
            st.sampled_from(
                [
                    "x-forwarded-for",
                    "x-real-ip",
                    "forwarded",
                    "cf-connecting-ip",
                    "openpanel-client-ip",
                ]
            ),
            max_size=2,
            unique=True,
        )
    ):
        out[name] = draw(ips | header_bytes)
    ctype = draw(
        st.sampled_from(
            [
                b"application/json",
                b"text/plain;charset=UTF-8",
                b"application/x-www-form-urlencoded",
                b"multipart/form-data; boundary=x",
                None,
            ]
        )
        | header_bytes
    )
    if ctype is not None:
        out["content-type"] = ctype
    if draw(st.booleans()):
        out["openpanel-sdk-name"] = draw(header_bytes)
        out["openpanel-sdk-version"] = draw(header_bytes | long_header)
    return out


# -- what every answer must look like -----------------------------------------------------------
def check_reply(path: str, response: httpx.Response) -> None:
    status, body = response.status_code, response.text
    where = f"{path} → {status}: {body[:300]!r}"
    assert status < 500, where
    assert "Traceback" not in body and 'File "' not in body, where
    if status == 400 and body != PLAIN_400.get(path):
        try:
            data = response.json()
        except ValueError:
            raise AssertionError(f"400 without a JSON body: {where}") from None
        assert isinstance(data, dict) and {"status", "message", "field"} <= data.keys(), where
        assert data["status"] == 400, where
    if status == 401:
        assert response.headers["content-type"].startswith("text/plain"), where
        assert body.startswith("Ingestion:"), where
    if status == 200 and path.endswith("/track"):
        assert {"deviceId", "sessionId"} <= response.json().keys(), where


def assert_healthy_and_drained(server: LiveServer, timeout: float = 30) -> None:
    """Health is 200, the pipeline stored everything accepted, and no record was dead-lettered."""
    deadline = time.monotonic() + timeout
    while True:
        reply = httpx.get(server.url + "/-/health", timeout=30)
        assert reply.status_code == 200, reply.text
        spool = reply.json()["checks"]["spool"]
        assert spool["dead_letters"] == 0, reply.text
        if spool["backlog"] <= 1:  # a reap record may be passing through
            return
        assert time.monotonic() < deadline, f"spool not drained: {reply.text}"
        time.sleep(0.2)


def fuzz(
    server: LiveServer, http: httpx.Client, paths: list[str], objects: st.SearchStrategy[Any]
) -> Counter[int]:
    """Run the fuzzer; return how often each status was answered."""
    statuses: Counter[int] = Counter()

    @FUZZ
    @given(path=st.sampled_from(paths), body=bodies(objects), hdrs=headers(server))
    def run(path: str, body: bytes, hdrs: dict[str, bytes]) -> None:
        reply = http.post(path, content=body, headers=hdrs)
        statuses[reply.status_code] += 1
        check_reply(path, reply)

    run()
    return statuses


# -- tests ----------------------------------------------------------------------------------------
def test_track_survives_arbitrary_requests(server: LiveServer, http: httpx.Client) -> None:
    statuses = fuzz(server, http, ["/track", "/api/track"], envelopes)
    assert {200, 400, 401} <= statuses.keys(), statuses  # the fuzzer reached every outcome
    assert_healthy_and_drained(server)


LEGACY_PATHS = [
    "/event",
    "/profile",
    "/profile/increment",
    "/profile/decrement",
    "/api/event",
    "/api/profile/increment",
]
# One shape that /event, /profile and /profile/increment all accept when the values are sane.
legacy_payloads = st.fixed_dictionaries(
    {
        "name": sane_names,
        "profileId": st.text(min_size=1, max_size=20),
        "property": st.sampled_from(["visits", "a.b"]),
    },
    optional={
        "value": st.none() | st.integers(1, 100),
        "properties": sane_properties,
        "firstName": st.text(max_size=20),
        "email": st.just("a@b.co"),
    },
)


def test_legacy_endpoints_survive_arbitrary_requests(
    server: LiveServer, http: httpx.Client
) -> None:
    objects = st.one_of(legacy_payloads, legacy_payloads, anything_payloads, json_values)
    statuses = fuzz(server, http, LEGACY_PATHS, objects)
    assert {202, 400, 401} <= statuses.keys(), statuses
    assert_healthy_and_drained(server)


def _raw_body(path: str, profile_id: bytes = b'"p1"', props: bytes = b"{}") -> bytes:
    """A valid body for `path` with raw JSON fragments spliced in (`profileId` is decoded by
    every endpoint; `properties` is skipped by the legacy increment, but still parsed)."""
    payload = b'{"name":"x","property":"visits","profileId":%s,"properties":%s}' % (
        profile_id,
        props,
    )
    return b'{"type":"track","payload":%s}' % payload if path.endswith("/track") else payload


@pytest.mark.parametrize("path", ["/track", "/event", "/profile/increment"])
@pytest.mark.parametrize(
    "fragments",
    [
        pytest.param({"profile_id": b'"a\xffb"'}, id="invalid-utf8-byte"),
        pytest.param({"profile_id": b'"\xed\xa0\x80"'}, id="utf8-encoded-surrogate"),
        pytest.param({"props": b'{"k":' + b"[" * 1_000 + b"]" * 1_000 + b"}"}, id="nested-1000"),
    ],
)
def test_undecodable_bodies_are_a_400(
    server: LiveServer,
    http: httpx.Client,
    path: str,
    fragments: dict[str, bytes],
) -> None:
    """Invalid UTF-8 inside a JSON string, and JSON nested deeper than the decoder's recursion
    limit, are client errors like any other malformed body."""
    headers = {**server.write.headers(), "content-type": "application/json"}
    reply = http.post(path, content=_raw_body(path, **fragments), headers=headers)
    check_reply(path, reply)
    assert reply.status_code == 400
    assert reply.json()["field"] in ("body", "payload")


BIG = 2**64  # one past what the spool's msgpack records can hold


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/track", {"type": "track", "payload": {"name": "n", "properties": {"n": BIG}}}),
        ("/track", {"type": "track", "payload": {"name": "n", "properties": {"n": -(2**63) - 1}}}),
        ("/track", {"type": "track", "payload": {"name": "n", "properties": {"a": [{"n": BIG}]}}}),
        ("/track", {"type": "track", "payload": {"name": "n", "profileId": 2**70}}),
        ("/track", {"type": "identify", "payload": {"profileId": "p", "properties": {"n": BIG}}}),
        ("/event", {"name": "n", "properties": {"n": BIG}}),
        ("/profile", {"profileId": "p", "properties": {"n": BIG}}),
        ("/profile/increment", {"profileId": "p", "property": "x", "value": 1e30}),
    ],
    ids=[
        "property",
        "negative-property",
        "nested-property",
        "profile-id",
        "identify",
        "legacy-event",
        "legacy-profile",
        "legacy-increment-value",
    ],
)
def test_integers_beyond_64_bits_are_not_a_server_error(
    server: LiveServer,
    http: httpx.Client,
    path: str,
    body: dict[str, Any],
) -> None:
    """JSON integers are unbounded; the spool record format is not. Such a request is refused
    as a 400 (or accepted and stored), never a 500."""
    headers = {**server.write.headers(), "content-type": "application/json"}
    check_reply(path, http.post(path, content=json.dumps(body), headers=headers))


def test_body_over_the_limit_gets_413_and_earlier_events_are_kept(
    server: LiveServer,
    http: httpx.Client,
) -> None:
    mark = f"big{time.monotonic_ns()}"
    auth = {**server.write.headers(), "user-agent": "node", "content-type": "application/json"}
    for i in range(3):
        event = {
            "type": "track",
            "payload": {"name": "before_big", "properties": {"mark": mark, "i": i}},
        }
        assert http.post("/track", json=event, headers=auth).status_code == 200
    limit = 4096 * 1024  # OPENPANEL_MAX_BODY_KB default
    props = {"mark": mark, "blob": "x" * limit}
    big = json.dumps({"type": "track", "payload": {"name": "too_big", "properties": props}})
    replies = [
        http.post("/track", content=big.encode(), headers=auth),
        # Without a content-length the limit must still hold while the body streams in.
        http.post(
            "/track",
            content=iter([big[i : i + 65536].encode() for i in range(0, len(big), 65536)]),
            headers=auth,
        ),
    ]
    for reply in replies:
        assert reply.status_code == 413, reply.text[:300]
        assert "Traceback" not in reply.text
    after = {"type": "track", "payload": {"name": "after_big", "properties": {"mark": mark}}}
    assert http.post("/track", json=after, headers=auth).status_code == 200
    stored = server.wait_for(
        lambda events: len(events) >= 4,
        filters=[{"name": "properties.mark", "operator": "is", "value": [mark]}],
    )
    assert sorted(e["name"] for e in stored) == ["after_big"] + ["before_big"] * 3
    assert_healthy_and_drained(server)
