"""The demo agent's tools: fake weather, safe arithmetic, and an email that needs approval."""

from __future__ import annotations

import ast
import logging
import operator
import zlib
from collections.abc import Callable
from typing import Any, cast

from langchain_core.tools import BaseTool, tool
from langgraph.types import interrupt

from lambdagraph.agents.script import EMAIL_SENT

logger = logging.getLogger(__name__)

_CONDITIONS = ("sunny", "cloudy", "rainy", "windy", "foggy", "snowy")

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}
# Bounds keep one request from burning CPU or memory: 9**9**9 would take minutes.
_MAX_EXPRESSION = 200
_MAX_EXPONENT = 1000
_MAX_MAGNITUDE = 10**100


def fake_weather(city: str) -> str:
    """Deterministic weather for ``city``: the same city always gets the same answer."""
    seed = zlib.crc32(city.strip().lower().encode())
    return f"{_CONDITIONS[seed % len(_CONDITIONS)]} and {seed % 35 - 5} °C"


def evaluate(expression: str) -> int | float:
    """Evaluate arithmetic (numbers, + - * / // % ** and parentheses) without ``eval``.

    Args:
        expression: e.g. ``"(2 + 3) * 4"``; ``^``, ``×`` and ``÷`` are accepted too.

    Returns:
        The value.

    Raises:
        ValueError: the expression is not plain arithmetic, too large, or divides by zero.
    """
    if len(expression) > _MAX_EXPRESSION:
        raise ValueError(f"expression longer than {_MAX_EXPRESSION} characters")
    text = expression.replace("^", "**").replace("×", "*").replace("÷", "/")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"not an arithmetic expression: {expression!r}") from exc
    return _evaluate_node(tree.body)


def _evaluate_node(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return cast(float, node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_evaluate_node(node.operand))  # type: ignore[no-any-return]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate_node(node.left), _evaluate_node(node.right)
        if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
            raise ValueError(f"exponent larger than {_MAX_EXPONENT}")
        try:
            value = _BINARY[type(node.op)](left, right)
        except ZeroDivisionError as exc:
            raise ValueError("division by zero") from exc
        except OverflowError as exc:
            raise ValueError("result too large") from exc
        if isinstance(value, complex) or abs(value) > _MAX_MAGNITUDE:
            raise ValueError("result too large or not a real number")
        return value  # type: ignore[no-any-return]
    raise ValueError(f"unsupported element in expression: {ast.dump(node)[:40]}")


def format_number(value: float) -> str:
    """``4`` for 4 and 4.0, ``0.5`` for 0.5, at most 12 significant digits for floats."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, float):
        return format(value, ".12g")
    return str(value)


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return fake_weather(city)


@tool
def calculator(expression: str) -> str:
    """Evaluate an arithmetic expression such as (2 + 3) * 4."""
    return format_number(evaluate(expression))


@tool
def send_email(to: str, subject: str, body: str) -> str:
    """Send an email. A human must approve it first."""
    decision = interrupt(
        {"action": "send_email", "args": {"to": to, "subject": subject, "body": body}}
    )
    if isinstance(decision, dict) and decision.get("approved") is True:
        # A demo: nothing leaves the process; the log line stands in for the mail server.
        logger.info("demo email approved", extra={"to": to, "subject": subject})
        return EMAIL_SENT
    return "not sent: the reviewer did not approve it"


DEMO_TOOLS: list[BaseTool] = [get_weather, calculator, send_email]
