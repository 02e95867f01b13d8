"""The scripted model's rules: what it answers to a conversation, decided without I/O.

Rules read the last human message, case-insensitively, first match wins:

1. ``trigger an error``: a few words, then :class:`~lambdagraph.errors.ScriptedModelError`.
2. ``email`` and an address anywhere: call ``send_email``.
3. ``weather in <city>``: call ``get_weather``.
4. ``calculate <expression>``: call ``calculator``.
5. ``count to N``: ``1``, `` 2``, … `` N``, one number per chunk.
6. anything else: ``You said: <text>``, word by word.

Tool rules fire only when that tool is bound. When the conversation ends in tool results,
the model answers from them instead (see :func:`answer_tool_results`).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage

#: Largest N ``count to N`` honours; bigger numbers count to this.
MAX_COUNT = 100_000

#: What the ``send_email`` tool returns when the email went out.
EMAIL_SENT = "sent"

_ERROR = re.compile(r"\btrigger an error\b", re.IGNORECASE)
_EMAIL_WORD = re.compile(r"\be-?mails?\b", re.IGNORECASE)
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ABOUT = re.compile(r"\babout\s+(.+)", re.IGNORECASE)
_WEATHER = re.compile(r"\bweather in\s+(.+)", re.IGNORECASE)
_CALCULATE = re.compile(r"\bcalculate\s+(.+)", re.IGNORECASE)
_COUNT = re.compile(r"\bcount to\s+(\d+)", re.IGNORECASE)
_TRAILING = re.compile(r"[\s?!.,;:=]+$")
_WORDS = re.compile(r"\s*\S+")

_ERROR_WORDS = ["Something", " is", " about", " to", " go", " wrong"]
ERROR_MESSAGE = "The scripted model was asked to trigger an error"


@dataclass(frozen=True)
class ScriptedToolCall:
    """One tool call the model will stream."""

    name: str
    args: dict[str, Any]
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:24]}")

    @property
    def arguments_json(self) -> str:
        """The arguments as the JSON text a provider streams."""
        return json.dumps(self.args)


@dataclass(frozen=True)
class ReplyPlan:
    """What one model call streams: text pieces, then at most one tool call, or an error."""

    texts: list[str]
    tool_call: ScriptedToolCall | None = None
    error: str | None = None


def plan_reply(messages: Sequence[BaseMessage], tools: frozenset[str]) -> ReplyPlan:
    """Decide the reply to ``messages`` given the names of the bound ``tools``.

    Args:
        messages: the model's input, oldest first.
        tools: names of the tools the model may call.

    Returns:
        The pieces to stream.
    """
    answer = answer_tool_results(messages)
    if answer is not None:
        return ReplyPlan(words(answer))
    text = last_human_text(messages)
    if _ERROR.search(text):
        return ReplyPlan(list(_ERROR_WORDS), error=ERROR_MESSAGE)
    call = _tool_call_for(text, tools)
    if call is not None:
        return ReplyPlan([], tool_call=call)
    if match := _COUNT.search(text):
        n = min(int(match.group(1)), MAX_COUNT)
        if n < 1:
            return ReplyPlan(["0"])
        return ReplyPlan(["1", *(f" {i}" for i in range(2, n + 1))])
    return ReplyPlan(words(f"You said: {text.strip()}".rstrip()))


def answer_tool_results(messages: Sequence[BaseMessage]) -> str | None:
    """The answer to the tool results that end ``messages``, or None if none end it."""
    trailing: list[ToolMessage] = []
    for message in reversed(messages):
        if not isinstance(message, ToolMessage):
            break
        trailing.append(message)
    if not trailing:
        return None
    trailing.reverse()
    calls: dict[str, dict[str, Any]] = {}
    before = messages[len(messages) - len(trailing) - 1] if len(messages) > len(trailing) else None
    if isinstance(before, AIMessage):
        calls = {str(call["id"]): call["args"] for call in before.tool_calls}
    return " ".join(_describe(result, calls.get(result.tool_call_id, {})) for result in trailing)


def _describe(result: ToolMessage, args: dict[str, Any]) -> str:
    output = message_text(result).strip()
    name = result.name or "tool"
    if result.status == "error":
        return f"The {name} tool failed: {output}"
    if name == "get_weather":
        return f"The weather in {args.get('city', 'that city')} is {output}."
    if name == "calculator":
        return f"{args.get('expression', 'The result')} = {output}"
    if name == "send_email":
        to = args.get("to", "the recipient")
        return f"Email sent to {to}." if output == EMAIL_SENT else f"Email to {to} was not sent."
    return f"The {name} tool returned: {output}"


def _tool_call_for(text: str, tools: frozenset[str]) -> ScriptedToolCall | None:
    if "send_email" in tools and _EMAIL_WORD.search(text) and (address := _ADDRESS.search(text)):
        about = _ABOUT.search(text)
        subject = _clean(about.group(1)).capitalize() if about else "Hello from lambdagraph"
        return ScriptedToolCall(
            "send_email", {"to": address.group(0), "subject": subject, "body": text.strip()}
        )
    if "get_weather" in tools and (match := _WEATHER.search(text)):
        return ScriptedToolCall("get_weather", {"city": _clean(match.group(1))})
    if "calculator" in tools and (match := _CALCULATE.search(text)):
        return ScriptedToolCall("calculator", {"expression": _clean(match.group(1))})
    return None


def _clean(fragment: str) -> str:
    return _TRAILING.sub("", fragment.strip())


def words(text: str) -> list[str]:
    """``text`` split into word chunks, each carrying its leading space."""
    return _WORDS.findall(text) or [text]


def message_text(message: BaseMessage) -> str:
    """The text of a message whose content is a string or a list of content blocks."""
    content = message.content
    if isinstance(content, str):
        return content
    parts = []
    for block in content:
        if isinstance(block, str):
            parts.append(block)
        elif isinstance(block, dict) and block.get("type") == "text":
            parts.append(str(block.get("text", "")))
    return "".join(parts)


def last_human_text(messages: Sequence[BaseMessage]) -> str:
    """The text of the last human message, or ``""`` if there is none."""
    for message in reversed(messages):
        if isinstance(message, HumanMessage):
            return message_text(message)
    return ""


def estimate_tokens(messages: Sequence[BaseMessage]) -> int:
    """A deterministic stand-in for input token counting: words in the conversation."""
    return max(1, sum(len(message_text(message).split()) for message in messages))
