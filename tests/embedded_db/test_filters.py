"""Filters (openpanel-compat.md §4.5) against real chDB: every operator on every kind of field,
with hostile values, compared with a plain-Python reading of the same rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedded_db.errors import ValidationError
from embedded_db.filters import OPERATORS, compile_filters, parse_filters
from embedded_db.sql import select
from embedded_db.store import EventStore
from tests.support.stores import unique_project

HOSTILE = [
    "/pricing",
    "/Pricing/Plans",
    "it's",
    'say "hi"',
    "back\\slash",
    "trailing\\",
    "{x:String}",
    "'; DROP TABLE openpanel.events; --",
    "100% _sure_",
    "naïve café 日本 🎉",
    "tab\there",
    "line\nbreak",
    "SELECT * FROM events WHERE 1=1",
    "",
    "x" * 5000,
]
NUMBERS = ["5", "12.5", "-3", "abc", "", "1e3", "7"]


def _rows(project: str) -> list[dict[str, Any]]:
    rows = []
    for i, value in enumerate(HOSTILE):
        number = NUMBERS[i % len(NUMBERS)]
        device = f"device-{i}"
        props = {"v": value, "n": number, f"key {i % 3}": value}
        if i % 4 == 0:
            props["__query.utm_source"] = "news" if i % 8 == 0 else "ads"
        rows.append(
            {
                "id": str(uuid.UUID(int=i + 1)),
                "project_id": project,
                "name": "screen_view" if i % 2 else "click",
                "path": value,
                "device_id": device,
                "profile_id": f"user-{i % 3}" if i % 2 else device,
                "properties": props,
                "revenue": i * 100,
                "created_at": "2026-06-01 12:00:00.000",
            }
        )
    return rows


PROFILES = {
    "user-0": {"plan": "pro", "email": "a@example.com"},
    "user-1": {"plan": "free", "email": "O'Brien@example.com"},
    "user-2": {"plan": "pro\\max", "email": ""},
}


@pytest.fixture(scope="module")
def events(store: EventStore) -> tuple[str, list[dict[str, Any]]]:
    project = unique_project()
    rows = _rows(project)
    store.insert("events", rows)
    store.insert(
        "profiles",
        [
            {
                "id": pid,
                "project_id": project,
                "email": p["email"],
                "properties": {"plan": p["plan"]},
                "created_at": "2026-06-01 00:00:00.000",
                "last_seen_at": "2026-06-01 00:00:00.000",
            }
            for pid, p in PROFILES.items()
        ],
    )
    return project, rows


def matching(store: EventStore, project: str, raw: list[dict[str, Any]]) -> set[str]:
    compiled = compile_filters(parse_filters(raw))
    sql = select(
        "toString(id) AS id", "events", ["project_id = {project:String}", *compiled.conditions]
    )
    return {r["id"] for r in store.query(sql, {"project": project, **compiled.params})}


# -- the reference: what each operator means, in Python ----------------------------------------
def _ascii_fold(text: str) -> str:
    return "".join(c.lower() if c.isascii() else c for c in text)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _gt(a: float | None, b: float) -> bool:
    return a is not None and a > b


def _lt(a: float | None, b: float) -> bool:
    return a is not None and a < b


def _gte(a: float | None, b: float) -> bool:
    return a is not None and a >= b


def _lte(a: float | None, b: float) -> bool:
    return a is not None and a <= b


REFERENCE: dict[str, Callable[[str, list[str]], bool]] = {
    "is": lambda v, vals: v in vals,
    "isNot": lambda v, vals: v not in vals,
    "contains": lambda v, vals: any(_ascii_fold(x) in _ascii_fold(v) for x in vals),
    "doesNotContain": lambda v, vals: not any(_ascii_fold(x) in _ascii_fold(v) for x in vals),
    "startsWith": lambda v, vals: any(_ascii_fold(v).startswith(_ascii_fold(x)) for x in vals),
    "endsWith": lambda v, vals: any(_ascii_fold(v).endswith(_ascii_fold(x)) for x in vals),
    "isNull": lambda v, vals: v == "",
    "isNotNull": lambda v, vals: v != "",
    "gt": lambda v, vals: _gt(_number(v), float(vals[0])),
    "lt": lambda v, vals: _lt(_number(v), float(vals[0])),
    "gte": lambda v, vals: _gte(_number(v), float(vals[0])),
    "lte": lambda v, vals: _lte(_number(v), float(vals[0])),
}
FIELDS: dict[str, Callable[[dict[str, Any]], str]] = {
    "path": lambda r: r["path"],
    "properties.v": lambda r: r["properties"].get("v", ""),
    "properties.n": lambda r: r["properties"].get("n", ""),
    "properties.missing": lambda r: "",
    "utm_source": lambda r: r["properties"].get("__query.utm_source", ""),
}
TEXT_VALUES = [
    ["/pricing"],
    ["PRICING"],
    ["it's", 'say "hi"'],
    ["\\"],
    ["{x:String}"],
    ["%"],
    ["_"],
    ["日本"],
    ["'; DROP"],
    ["x" * 4000],
    [""],
    ["line\nbreak"],
]
NUMBER_VALUES = [["5"], ["-3"], ["12.5"], ["0"]]


def _expect(rows: list[dict[str, Any]], field: str, op: str, values: list[str]) -> set[str]:
    return {r["id"] for r in rows if REFERENCE[op](FIELDS[field](r), values)}


@pytest.mark.parametrize("field", list(FIELDS))
@pytest.mark.parametrize("op", [o for o in OPERATORS if o != "regex"])
def test_every_operator_on_every_field_kind(
    store: EventStore, events: tuple[str, list[dict[str, Any]]], field: str, op: str
) -> None:
    project, rows = events
    cases = NUMBER_VALUES if op in ("gt", "lt", "gte", "lte") else TEXT_VALUES
    if op in ("isNull", "isNotNull"):
        cases = [[]]
    for values in cases:
        if op in ("contains", "doesNotContain", "startsWith", "endsWith") and values == [""]:
            continue  # an empty pattern matches everything; covered by the parse tests
        got = matching(store, project, [{"name": field, "operator": op, "value": values}])
        assert got == _expect(rows, field, op, values), (field, op, values)


def test_regex_matches_with_re2_and_hostile_patterns_are_refused(
    store: EventStore, events: tuple[str, list[dict[str, Any]]]
) -> None:
    project, rows = events
    flt = {"name": "path", "operator": "regex", "value": ["^/[Pp]ricing", "日本"]}
    expected = {r["id"] for r in rows if r["path"].startswith(("/pricing", "/Pricing"))}
    expected |= {r["id"] for r in rows if "日本" in r["path"]}
    assert matching(store, project, [flt]) == expected
    for bad in ["(?=x)", "(a)\\1", "[", "a{1001}", "x" * 501]:
        with pytest.raises(ValidationError):
            matching(store, project, [{"name": "path", "operator": "regex", "value": [bad]}])


def test_wildcard_keys_profile_fields_and_has_profile(
    store: EventStore, events: tuple[str, list[dict[str, Any]]]
) -> None:
    project, rows = events
    wildcard = [{"name": "properties.key *", "operator": "contains", "value": ["café"]}]
    assert matching(store, project, wildcard) == {r["id"] for r in rows if "café" in r["path"]}

    pro = [{"name": "profile.properties.plan", "operator": "startsWith", "value": ["pro"]}]
    users = {pid for pid, p in PROFILES.items() if p["plan"].startswith("pro")}
    assert matching(store, project, pro) == {r["id"] for r in rows if r["profile_id"] in users}
    backslash = [{"name": "profile.properties.plan", "operator": "is", "value": ["pro\\max"]}]
    assert matching(store, project, backslash) == {
        r["id"] for r in rows if r["profile_id"] == "user-2"
    }
    email = [{"name": "profile.email", "operator": "is", "value": ["O'Brien@example.com"]}]
    assert matching(store, project, email) == {r["id"] for r in rows if r["profile_id"] == "user-1"}

    identified = {r["id"] for r in rows if r["profile_id"] != r["device_id"]}
    has = [{"name": "has_profile", "operator": "is", "value": ["true"]}]
    assert matching(store, project, has) == identified
    has_not = [{"name": "has_profile", "operator": "is", "value": [False]}]
    assert matching(store, project, has_not) == {r["id"] for r in rows} - identified


def test_values_or_and_filters_and(
    store: EventStore, events: tuple[str, list[dict[str, Any]]]
) -> None:
    project, rows = events
    both = [
        {"name": "path", "operator": "is", "value": ["/pricing", "it's"]},
        {"name": "name", "operator": "is", "value": ["click"]},
    ]
    expected = {r["id"] for r in rows if r["path"] in ("/pricing", "it's") and r["name"] == "click"}
    assert matching(store, project, both) == expected
    numeric = [{"name": "revenue", "operator": "gte", "value": [700]}]
    assert matching(store, project, numeric) == {r["id"] for r in rows if r["revenue"] >= 700}


ALPHABET = st.sampled_from(list("aP/_%\\'\"{}:;- é日\t") + ["pricing", "DROP", "x"])


@settings(max_examples=60, deadline=None)
@given(
    op=st.sampled_from(["is", "isNot", "contains", "doesNotContain", "startsWith", "endsWith"]),
    value=st.lists(ALPHABET, min_size=1, max_size=6).map("".join),
)
def test_any_text_value_means_what_it_says(
    store: EventStore, events: tuple[str, list[dict[str, Any]]], op: str, value: str
) -> None:
    project, rows = events
    got = matching(store, project, [{"name": "properties.v", "operator": op, "value": [value]}])
    assert got == _expect(rows, "properties.v", op, [value])


@pytest.mark.parametrize(
    "raw",
    [
        "not a list",
        [{"name": "path; DROP TABLE x", "operator": "is", "value": ["a"]}],
        [{"name": "path", "operator": "like", "value": ["a"]}],
        [{"name": "path", "operator": "gt", "value": ["ten"]}],
        [{"name": "path", "operator": "contains", "value": []}],
        [{"name": "properties.a'b", "operator": "is", "value": ["a"]}],
        [{"name": "profile.password", "operator": "is", "value": ["a"]}],
        [{"name": "path", "operator": "is", "value": ["a"] * 101}],
        [{"operator": "is", "value": ["a"]}],
    ],
)
def test_bad_filters_are_validation_errors(raw: Any) -> None:
    with pytest.raises(ValidationError):
        compile_filters(parse_filters(raw))
