"""Property flattening to dot keys (compat §2.4 toDots)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.enrich.properties import MAX_DEPTH, flatten_properties, js_number, strip_surrogates


def test_nested_objects_and_arrays() -> None:
    value = {"a": {"b": {"c": "x"}}, "arr": ["p", "q"], "objs": [{"id": 1}, {"id": 2}]}
    assert flatten_properties(value) == {
        "a.b.c": "x",
        "arr.0": "p",
        "arr.1": "q",
        "objs.0.id": "1",
        "objs.1.id": "2",
    }


def test_none_and_empty_strings_are_dropped_but_indexes_kept() -> None:
    value: dict[str, Any] = {"n": None, "e": "", "arr": [None, "", "z"], "empty_obj": {}}
    value["empty_arr"] = []
    assert flatten_properties(value) == {"arr.2": "z"}


def test_scalars_are_stringified_like_javascript() -> None:
    value = {"t": True, "f": False, "i": 42, "neg": -7, "one": 1.0, "half": 1.5, "zero": 0}
    assert flatten_properties(value) == {
        "t": "true",
        "f": "false",
        "i": "42",
        "neg": "-7",
        "one": "1",
        "half": "1.5",
        "zero": "0",
    }


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (1.0, "1"),
        (-0.0, "0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (100.0, "100"),
        (1e20, "100000000000000000000"),
        (1e21, "1e+21"),
        (1.5e300, "1.5e+300"),
        (1e-6, "0.000001"),
        (1.234e-6, "0.000001234"),
        (1e-7, "1e-7"),
        (-2.5e-10, "-2.5e-10"),
        (5e-324, "5e-324"),
        (2.0**53, "9007199254740992"),
        (float("nan"), "NaN"),
        (float("inf"), "Infinity"),
        (float("-inf"), "-Infinity"),
        (12345678901234567890, "12345678901234567890"),
    ],
)
def test_js_number(number: float, text: str) -> None:
    assert js_number(number) == text


def test_json_object_strings_are_expanded() -> None:
    value = {"meta": '{"plan": "pro", "seats": 3, "nested": {"x": null}}', "list": "[1, 2]"}
    assert flatten_properties(value) == {"meta.plan": "pro", "meta.seats": "3", "list": "[1, 2]"}


def test_strings_that_only_look_like_json_are_kept() -> None:
    assert flatten_properties({"a": "{not json}", "b": " {}"}) == {"a": "{not json}"}


def test_lone_surrogates_are_removed_from_keys_and_values() -> None:
    value = {"k\ud800ey": "va\udfffl", "pair": "\ud83d\ude00", "only": "\ud800"}
    assert flatten_properties(value) == {"key": "val", "pair": "😀"}


def test_strip_surrogates_leaves_clean_text_alone() -> None:
    text = "plain ascii and emoji 😀"
    assert strip_surrogates(text) is text


def test_non_json_objects_are_stringified() -> None:
    class Thing:
        def __str__(self) -> str:
            return "thing"

    assert flatten_properties({"t": Thing(), "tuple": (1, 2)}) == {
        "t": "thing",
        "tuple.0": "1",
        "tuple.1": "2",
    }


def test_non_string_keys_become_strings() -> None:
    assert flatten_properties({1: "a", None: "b"}) == {"1": "a", "None": "b"}  # type: ignore[dict-item]


def test_depth_is_capped_and_the_rest_kept_as_json() -> None:
    deep: dict[str, Any] = {"leaf": 1}
    for _ in range(MAX_DEPTH + 5):
        deep = {"d": deep}
    flat = flatten_properties({"root": deep})
    ((key, value),) = flat.items()
    assert key.count(".") == MAX_DEPTH
    remainder = json.loads(value)
    depth = 0
    while "d" in remainder:
        remainder = remainder["d"]
        depth += 1
    assert remainder == {"leaf": 1}
    assert depth + key.count(".") + 1 == MAX_DEPTH + 6


def test_depth_cap_applies_to_embedded_json_strings() -> None:
    nested = "1"
    for _ in range(40):
        nested = json.dumps({"x": json.loads(nested) if nested != "1" else 1})
    flat = flatten_properties({"s": nested})
    assert all(key.count(".") <= MAX_DEPTH for key in flat)


def test_self_referencing_structures_terminate() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    flat = flatten_properties({"loop": loop})
    assert all(key.count(".") <= MAX_DEPTH for key in flat)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text()
    | st.text(alphabet='{}[]":,0123456789abc ', max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=40,
)


@settings(max_examples=300)
@given(st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_output_is_always_str_to_nonempty_str(value: dict[str, Any]) -> None:
    flat = flatten_properties(value)
    for key, text in flat.items():
        assert isinstance(key, str) and isinstance(text, str)
        assert text != ""
        key.encode("utf-8")
        text.encode("utf-8")  # no lone surrogates survive


@given(st.lists(st.sampled_from(["a", "b"]), min_size=20, max_size=60))
def test_any_nesting_depth_is_handled(path: list[str]) -> None:
    value: Any = "leaf"
    for key in reversed(path):
        value = {key: value}
    flat = flatten_properties(value)
    assert len(flat) == 1
    assert all(key.count(".") <= MAX_DEPTH for key in flat)
