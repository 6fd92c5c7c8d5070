"""Chart formulas (openpanel-compat.md §4.3): arithmetic over series letters, e.g. `A/B*100`.

A formula is parsed with Python's `ast` in eval mode and accepted only if every node is a
number, a series letter (`A`–`Z`), `+ - * /`, unary `+`/`-` or parentheses; nothing is ever
executed. Evaluation follows OpenPanel: a result that is not a finite number (a division by
zero, an overflow) becomes 0, and values are rounded to two decimals.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from embedded_db.errors import ValidationError

MAX_LENGTH = 500
MAX_DEPTH = 40
_LETTER = re.compile(r"^[A-Z]$")
_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div)
_UNARY = (ast.UAdd, ast.USub)


class _NotFinite(Exception):
    """A division by zero somewhere in the expression (the whole value becomes 0)."""


@dataclass(frozen=True, slots=True)
class Formula:
    """A checked formula: its text, its syntax tree and the series letters it uses."""

    text: str
    tree: ast.expr
    references: frozenset[str]


def parse_formula(text: object, field: str = "formula") -> Formula:
    """Check a formula; raise ValidationError(field, …) for anything but plain arithmetic."""
    if not isinstance(text, str) or not text.strip():
        raise ValidationError(field, "must be a non-empty formula such as A/B*100")
    if len(text) > MAX_LENGTH:
        raise ValidationError(field, f"at most {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.strip(), mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        raise ValidationError(field, "is not a valid arithmetic expression") from None
    letters: set[str] = set()
    _check(tree, field, letters, 0)
    return Formula(text.strip(), tree, frozenset(letters))


def evaluate(formula: Formula, scope: Mapping[str, float]) -> float:
    """The formula's value for one bucket; missing letters count as 0, non-finite → 0."""
    try:
        value = _eval(formula.tree, scope)
    except (_NotFinite, OverflowError):
        return 0.0
    return round(value, 2) if math.isfinite(value) else 0.0


# -- internals -------------------------------------------------------------------------------------
def _check(node: ast.AST, field: str, letters: set[str], depth: int) -> None:
    if depth > MAX_DEPTH:
        raise ValidationError(field, f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant):
        _number(node.value, field)
    elif isinstance(node, ast.Name):
        if not _LETTER.match(node.id):
            raise ValidationError(field, f"unknown name {node.id[:20]!r}; use series letters A–Z")
        letters.add(node.id)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, _BINARY):
        _check(node.left, field, letters, depth + 1)
        _check(node.right, field, letters, depth + 1)
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, _UNARY):
        _check(node.operand, field, letters, depth + 1)
    else:
        raise ValidationError(field, "only numbers, series letters, + - * / and ( ) are allowed")


def _number(value: object, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(field, "only numbers, series letters, + - * / and ( ) are allowed")
    try:
        number = float(value)
    except OverflowError:
        raise ValidationError(field, "number too large") from None
    if not math.isfinite(number):
        raise ValidationError(field, "number too large")
    return number


def _eval(node: ast.expr, scope: Mapping[str, float]) -> float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return float(scope.get(node.id, 0.0))
    if isinstance(node, ast.UnaryOp):
        operand = _eval(node.operand, scope)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, scope), _eval(node.right, scope)
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if right == 0:
            raise _NotFinite
        return left / right
    raise _NotFinite  # unreachable for a checked formula
