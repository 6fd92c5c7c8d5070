"""Chart formulas: plain arithmetic over series letters, nothing else, never an exception other
than ValidationError."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from embedded_db.errors import ValidationError
from embedded_db.formula import evaluate, parse_formula


@pytest.mark.parametrize(
    ("text", "scope", "value"),
    [
        ("A+B*2", {"A": 1, "B": 3}, 7),
        ("(A+B)*2", {"A": 1, "B": 3}, 8),
        ("A/B*100", {"A": 1, "B": 3}, 33.33),
        ("-A + +B", {"A": 1, "B": 3}, 2),
        ("A/B", {"A": 5, "B": 0}, 0),  # division by zero → 0
        ("A/B + 1", {"A": 5, "B": 0}, 0),  # a non-finite value anywhere → 0 (as OpenPanel)
        ("A*C", {"A": 2}, 0),  # a letter without a value counts as 0
        ("1e308 * 10", {}, 0),  # overflow → 0
        ("2.5", {}, 2.5),
        ("  A  ", {"A": 4}, 4),
        ("(" * 100 + "A" + ")" * 100, {"A": 4}, 4),
    ],
)
def test_evaluate(text: str, scope: dict[str, float], value: float) -> None:
    assert evaluate(parse_formula(text), scope) == value


def test_references() -> None:
    assert parse_formula("A/B + A*C").references == {"A", "B", "C"}
    assert parse_formula("12").references == frozenset()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "__import__('os').system('id')",
        "A.__class__",
        "A**2",
        "A % 2",
        "A // 2",
        "abs(A)",
        "a + b",
        "AB",
        "A if B else 1",
        "[A]",
        "'A'",
        "True + A",
        "1j",
        "A +",
        "lambda: 1",
        "A; B",
        "A\x00",
        "9" * 400,
        "(" * 240 + "A" + ")" * 240,
        "-" * 200 + "A",
        "A" + "+A" * 300,
        "A == B",
        "A < B",
        "~A",
        "not A",
        "A[0]",
        "{}",
        "...",
    ],
)
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_formula(text, "series.2.formula")
    assert caught.value.field == "series.2.formula"


@pytest.mark.parametrize("value", [None, 12, ["A"], {"f": "A"}])
def test_non_text_is_refused(value: object) -> None:
    with pytest.raises(ValidationError):
        parse_formula(value)


@given(st.text(max_size=120))
def test_any_text_parses_or_is_refused(text: str) -> None:
    try:
        formula = parse_formula(text)
    except ValidationError:
        return
    assert isinstance(evaluate(formula, {"A": 1.5, "B": 0}), float)


_atom = st.one_of(
    st.sampled_from(list("ABCDZ")),
    st.integers(0, 10**6).map(str),
    st.floats(0, 1e6, allow_nan=False).map(repr),
)
_expr = st.recursive(
    _atom,
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from("+-*/"), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda e: f"-{e}"),
    ),
    max_leaves=30,
)
_numbers = st.floats(allow_nan=True, allow_infinity=True)


@given(_expr, st.dictionaries(st.sampled_from(list("ABCD")), _numbers))
def test_arithmetic_always_evaluates_to_a_finite_number(text: str, scope: dict) -> None:
    value = evaluate(parse_formula(text), scope)
    assert value == value and abs(value) != float("inf")
