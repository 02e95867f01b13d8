"""LangChain messages as the protocol translators (AG-UI, A2A) read them: live events carry
message objects, logged ones their serialised dicts."""

from __future__ import annotations

from typing import Any


def plain_message(message: Any) -> dict[str, Any]:
    """The message as a dict (a message object's ``model_dump``; anything else: empty)."""
    if isinstance(message, dict):
        return message
    dump = getattr(message, "model_dump", None)
    return dump() if callable(dump) else {}


def message_text(content: Any) -> str:
    """The text of a message's content: a string, or the text blocks of a block list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text", "")) if isinstance(part, dict) else str(part)
            for part in content
            if not isinstance(part, dict) or part.get("type") == "text"
        )
    return ""
