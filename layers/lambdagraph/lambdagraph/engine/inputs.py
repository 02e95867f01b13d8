"""What a graph accepts as input, checked before a run is recorded.

LangGraph finds out only while running that ``"hello"`` is not a state update, that a message
has role ``"wizard"`` or that ``goto`` names no node: the run fails and leaves its thread in
``error``. :class:`GraphInputs` reads, once per graph, what its input must look like, and
:meth:`GraphInputs.check` refuses such a request up front with ``InvalidRequest`` naming the
field (HTTP 422, WebSocket ``invalid_request``), so nothing is recorded.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from langchain_core.messages import convert_to_messages
from langgraph.channels.binop import BinaryOperatorAggregate
from langgraph.graph.message import add_messages
from langgraph.graph.state import CompiledStateGraph

from lambdagraph.errors import InvalidRequest

if TYPE_CHECKING:
    from langgraph.pregel import Pregel

    from lambdagraph.engine.requests import RunRequest

_REASON_CHARS = 200  # LangChain's messages may quote the whole input


@dataclass(frozen=True)
class GraphInputs:
    """What one compiled graph accepts.

    Attributes:
        state_input: the input is a state update (a ``StateGraph``): an object, or null.
        message_channels: channels whose reducer is ``add_messages`` (their values must be
            messages LangChain can coerce, as the reducer will).
        nodes: the node names ``command.goto`` may name.
    """

    state_input: bool
    message_channels: frozenset[str]
    nodes: frozenset[str]

    @classmethod
    def of(cls, graph: Pregel[Any, Any, Any, Any]) -> GraphInputs:
        """Read the contract of ``graph`` (cheap: its channels and nodes)."""
        return cls(
            state_input=isinstance(graph, CompiledStateGraph),
            message_channels=frozenset(
                name for name, channel in graph.channels.items() if _adds_messages(channel)
            ),
            nodes=frozenset(graph.nodes),
        )

    def check(self, request: RunRequest) -> None:
        """Refuse an input, update or ``goto`` this graph would fail on.

        Raises:
            InvalidRequest: ``"<field>: <what is wrong>"``.
        """
        value = request.input
        if self.state_input and value is not None and not isinstance(value, dict):
            raise InvalidRequest(
                f"input: must be an object (a state update) or null, not {_kind(value)}"
            )
        if isinstance(value, dict):
            self._check_messages(value.items(), "input")
        command = request.command
        if command is None:
            return
        if isinstance(command.update, dict):
            self._check_messages(command.update.items(), "command.update")
        elif isinstance(command.update, list):
            for index, (key, item) in enumerate(command.update):
                self._check_messages([(key, item)], f"command.update.{index}")
        for target in _targets(command.goto):
            if target not in self.nodes:
                known = ", ".join(sorted(n for n in self.nodes if not n.startswith("__")))
                raise InvalidRequest(f"command.goto: no node {target!r}; nodes: {known}")

    def check_update(self, values: Any, where: str = "values") -> None:
        """Refuse a state update (``POST /threads/{tid}/state``) whose messages the
        graph's ``add_messages`` channels could not coerce.

        Raises:
            InvalidRequest: ``"<where>.<channel>[.<index>]: not a valid message (...)"``.
        """
        for index, update in enumerate(values if isinstance(values, list) else [values]):
            if isinstance(update, dict):
                at = where if not isinstance(values, list) else f"{where}.{index}"
                self._check_messages(update.items(), at)

    def _check_messages(self, items: Any, where: str) -> None:
        for key, value in items:
            if key not in self.message_channels:
                continue
            for index, message in _indexed(value):
                try:
                    convert_to_messages([message])
                except Exception as exc:  # noqa: BLE001 - LangChain raises several kinds
                    path = f"{where}.{key}" if index is None else f"{where}.{key}.{index}"
                    raise InvalidRequest(f"{path}: not a valid message ({_reason(exc)})") from None


def _adds_messages(channel: Any) -> bool:
    if not isinstance(channel, BinaryOperatorAggregate):
        return False
    operator = channel.operator
    if isinstance(operator, functools.partial):
        operator = operator.func
    return operator is add_messages


def _indexed(value: Any) -> Iterator[tuple[int | None, Any]]:
    # add_messages takes one message as well as a list of them.
    if isinstance(value, list):
        yield from enumerate(value)
    else:
        yield None, value


def _targets(goto: Any) -> Iterator[str]:
    for target in goto if isinstance(goto, list) else [] if goto is None else [goto]:
        yield target if isinstance(target, str) else target["node"]


def _kind(value: Any) -> str:
    return {str: "a string", list: "an array", bool: "a boolean"}.get(type(value), "a number")


def _reason(exc: Exception) -> str:
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic: the first problem, e.g. content of the wrong type
        first: Mapping[str, Any] = (errors() or [{}])[0]
        loc = ".".join(str(p) for p in first.get("loc", ())[:1])
        text = f"{loc}: {first.get('msg', exc)}" if loc else str(first.get("msg", exc))
    elif isinstance(exc, KeyError):
        text = f"missing {exc.args[0]!r}" if exc.args else "a key is missing"
    else:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text if len(text) <= _REASON_CHARS else text[: _REASON_CHARS - 1] + "…"
