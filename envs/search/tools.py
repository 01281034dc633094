"""The tool-call language of the search env: parsing ``tool[argument]`` and safe arithmetic.

Tools: ``search[query]``, ``open[doc_id]``, ``lookup[term]``, ``calculate[expression]``, ``answer[text]``.
``calculate`` evaluates numbers, parentheses and ``+ - * / // % **`` by walking Python's syntax tree
over a whitelist of node types; names, calls, attributes and everything else are refused, nothing is passed
to ``eval``.
"""

from __future__ import annotations

import ast
import math
import operator
import re

TOOLS = ("search", "open", "lookup", "calculate", "answer")
MAX_EXPRESSION = 200  # characters
MAX_EXPONENT = 64
MAX_MAGNITUDE = 1e100

_CALL = re.compile(r"\s*(" + "|".join(TOOLS) + r")\[(.*)\]\s*", re.DOTALL)
_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.UAdd: operator.pos, ast.USub: operator.neg}


def parse_call(text: str) -> tuple[str, str] | None:
    """``(tool, argument)`` of a well-formed call such as ``search[Ada Lovelace]``, else None."""
    match = _CALL.fullmatch(text)
    if match is None:
        return None
    return match.group(1), match.group(2).strip()


class CalculationError(ValueError):
    """An expression ``calculate`` refuses or cannot evaluate; the message says why."""


def calculate(expression: str) -> str:
    """The value of an arithmetic expression as text (integers without a decimal point, else 10 digits)."""
    if len(expression) > MAX_EXPRESSION:
        raise CalculationError(f"expression longer than {MAX_EXPRESSION} characters")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise CalculationError(f"not an arithmetic expression: {expression!r}") from None
    value = _evaluate(tree.body)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value) if isinstance(value, int) else f"{value:.10g}"


def _evaluate(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate(node.operand))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise CalculationError(f"exponent {right} beyond +-{MAX_EXPONENT}")
        try:
            value = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError:
            raise CalculationError("division by zero") from None
        if isinstance(value, complex) or abs(value) > MAX_MAGNITUDE or not math.isfinite(value):
            raise CalculationError(f"result out of range (|value| <= {MAX_MAGNITUDE:g}, real)")
        return value
    raise CalculationError(f"{type(node).__name__} is not allowed (numbers and + - * / // % ** only)")
