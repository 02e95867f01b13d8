"""Merging consecutive chunks of one message the way LangChain adds them, in linear time.

:func:`merge_events` adds two ``messages`` chunks with LangChain (``chunk + chunk``). Doing
that for every token rebuilds and re-encodes the whole message so far each time, so a
message of *n* tokens costs O(n²). A :class:`MessageRun` instead keeps the merged chunk of
its first tokens and buffers the text that later tokens append (``content``, text of
indexed content blocks, tool-call ``args``) in lists, joined once when the run is encoded.

A later chunk takes that fast path only when adding it with LangChain would do nothing but
append those strings (no usage, no new tool call, no ``chunk_position``, metadata LangChain
would leave as it is); any other chunk is added with LangChain, as before. Either way the
result is byte for byte what adding every chunk with LangChain gives.

Sizes are tracked without encoding: appended text grows the encoded item by its escaped
length exactly; ``tool_calls`` (which LangChain re-parses from the arguments) are bounded
from above (see :func:`_derived_bound`). Only when that bound says a chunk would not fit is
the run encoded to decide exactly, so cuts fall where LangChain-and-encode would put them.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from langchain_core.messages import (
    AIMessageChunk,
    BaseMessageChunk,
    ChatMessageChunk,
    FunctionMessageChunk,
    HumanMessageChunk,
    SystemMessageChunk,
    ToolMessageChunk,
)
from langchain_core.utils._merge import merge_dicts

from lambdagraph.protocol import ws
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps

logger = logging.getLogger(__name__)

CHUNK_TYPES: Final[Mapping[str, type[BaseMessageChunk]]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        AIMessageChunk,
        HumanMessageChunk,
        SystemMessageChunk,
        ToolMessageChunk,
        ChatMessageChunk,
        FunctionMessageChunk,
    )
}

_AI: Final = "AIMessageChunk"
_METADATA_FIELDS: Final = ("additional_kwargs", "response_metadata")
# LangChain's add drops these (the sum is built from the other fields), so they never matter.
_IGNORED_FIELDS: Final = frozenset({"type", "id", "name", "example"})
# merge_dicts keeps these when equal instead of concatenating them.
_KEPT_WHEN_EQUAL: Final = frozenset({"id", "output_version", "model_provider"})
# A number with an exponent may re-encode longer once parsed: "1e15" -> 1000000000000000.0.
_EXPONENT: Final = re.compile(r"[0-9][eE]")
_EXPONENT_GROWTH: Final = 16

Path = tuple[Any, ...]


def merge_events(first: Event, second: Event) -> Event | None:
    """``first`` and ``second`` as one event, or ``None`` when they must stay apart.

    Merges two ``messages`` chunks of the same message (same event name, so the same
    subgraph, and same message id) with LangChain, or two ``messages/partial`` snapshots of
    one message (the later one wins).
    """
    if first.event != second.event:
        return None
    kind = first.event.split("|", 1)[0]
    if kind == "messages":
        return _merge_chunks(first, second)
    if kind == "messages/partial" and _partial_id(first) is not None:
        return second if _partial_id(first) == _partial_id(second) else None
    return None


def chunk_of(event: Event) -> dict[str, Any] | None:
    """The message chunk of a ``messages`` event (``[chunk, metadata]``), if it has one."""
    data = event.data
    if isinstance(data, (list, tuple)) and len(data) == 2 and isinstance(data[0], dict):
        return data[0]
    return None


def is_mergeable_chunk(event: Event) -> bool:
    """Whether later chunks of the same message may merge into ``event``."""
    if event.event.split("|", 1)[0] != "messages":
        return False
    chunk = chunk_of(event)
    return chunk is not None and chunk.get("id") is not None and chunk.get("type") in CHUNK_TYPES


def _merge_chunks(first: Event, second: Event) -> Event | None:
    a, b = chunk_of(first), chunk_of(second)
    if a is None or b is None or a.get("id") is None or a.get("id") != b.get("id"):
        return None
    cls = CHUNK_TYPES.get(str(a.get("type")))
    if cls is None or b.get("type") != a.get("type"):
        return None
    try:
        merged = cls.model_validate(a) + cls.model_validate(b)
    except (ValueError, TypeError):
        # A chunk LangChain itself cannot add (e.g. clashing fields): send both as they are.
        logger.debug("chunks of message %s not mergeable", a.get("id"), exc_info=True)
        return None
    return Event(first.event, [merged.model_dump(), first.data[1]], second.id)


def _partial_id(event: Event) -> Any:
    data = event.data
    if isinstance(data, list) and len(data) == 1 and isinstance(data[0], dict):
        return data[0].get("id")
    return None


def _escaped(text: str) -> int:
    """Bytes ``text`` adds inside an encoded JSON string."""
    return len(dumps(text)) - 2


class _ArgsBound:
    """Counts over one tool call's ``args`` that bound its re-parsed ``tool_calls`` entry."""

    __slots__ = ("skeleton", "tail", "total")

    def __init__(self, entry: Mapping[str, Any]) -> None:
        # The larger of the two entries LangChain may derive, with empty arguments.
        self.skeleton = len(
            dumps(
                {
                    "name": entry.get("name"),
                    "args": "",
                    "id": entry.get("id"),
                    "error": None,
                    "type": "invalid_tool_call",
                }
            )
        )
        self.total = 0
        self.tail = ""
        self.add(str(entry.get("args") or ""))

    def growth(self, text: str, tail: str | None = None) -> int:
        """How much appending ``text`` (after ``tail``, by default the args' end) adds."""
        seam = self.tail if tail is None else tail
        return _derived_bound(text) + _EXPONENT_GROWTH * bool(
            seam[-1:].isdigit() and text[:1] in ("e", "E")
        )

    def add(self, text: str) -> None:
        self.total += self.growth(text)
        self.tail = text[-1:] or self.tail

    @property
    def bound(self) -> int:
        return self.skeleton + self.total + 3  # the "{}" of empty args, a comma


def _derived_bound(args: str) -> int:
    """An upper bound on the encoded size of what ``parse_partial_json(args)`` gives.

    Parsing never lengthens strings, keys or literals (escapes only shrink), drops
    whitespace, and completes at most one closer per opener; only a number with an
    exponent may come out longer (by at most 14 bytes), ``NaN`` by one (``null``). Each
    count is additive over appended text (an exponent across the seam is counted by
    :meth:`_ArgsBound.growth`), so the bound grows with the deltas alone.
    """
    return (
        _escaped(args)
        + _EXPONENT_GROWTH * len(_EXPONENT.findall(args))
        + args.count("N")
        + args.count("{")
        + args.count("[")
        + args.count('"')
    )


class MessageRun:
    """Consecutive chunks of one message merged into one ``messages`` event.

    Args:
        event: the run's first chunk (see :func:`is_mergeable_chunk`).
    """

    def __init__(self, event: Event) -> None:
        self.event_name = event.event
        self.metadata = event.data[1]
        self.last_id = event.id
        self._first: Event | None = event  # a lone chunk goes out exactly as it came
        self._item: bytes | None = ws.event_item(event)
        self.size = len(self._item)
        self._base: dict[str, Any] = {}
        self._pending: dict[Path, list[str]] = {}
        self._args: dict[int, _ArgsBound] = {}
        self._args_pending = False
        self._derived = 0  # encoded size of the base's tool_calls and invalid_tool_calls

    def absorb(self, event: Event, room: int) -> bool:
        """Merge ``event`` in if it continues this message and the result takes ≤ ``room`` bytes."""
        if event.event != self.event_name:
            return False
        chunk = chunk_of(event)
        if chunk is None:
            return False
        if self._first is not None:
            merged = merge_events(self._first, event)
            return merged is not None and self._commit(merged, room)
        if chunk.get("id") != self._base.get("id") or chunk.get("type") != self._base["type"]:
            return False
        appended = self._appended_text(chunk)
        if appended is None:  # not a plain continuation: let LangChain add it
            merged = merge_events(self.event(), event)
            return merged is not None and self._commit(merged, room)
        grown, touches_args = self._grown_size(appended, event.id)
        if grown > room and (self._args_pending or touches_args):
            # The bound on re-parsed tool calls is loose: decide on the real size.
            candidate = self._joined(appended)
            return self._commit(Event(self.event_name, [candidate, self.metadata], event.id), room)
        if grown > room:
            return False
        for path, text in appended:
            self._pending.setdefault(path, []).append(text)
            if path[0] == "tool_call_chunks":
                self._args[path[1]].add(text)
        self._args_pending = self._args_pending or touches_args
        self.last_id, self.size, self._item = event.id, grown, None
        return True

    def event(self) -> Event:
        """The merged event (its id is the last absorbed chunk's)."""
        if self._first is not None:
            return self._first
        return Event(self.event_name, [self._joined(()), self.metadata], self.last_id)

    def item(self) -> bytes:
        """The merged event, encoded (once)."""
        if self._item is None:
            self._item = ws.event_item(self.event())
            self.size = len(self._item)
        return self._item

    def _commit(self, merged: Event, room: int) -> bool:
        item = ws.event_item(merged)
        if len(item) > room:
            return False
        chunk = merged.data[0]
        self._first, self._item, self.last_id = None, item, merged.id
        self._base, self.size = chunk, len(item)
        self._pending, self._args_pending = {}, False
        self._args = {}
        if chunk.get("type") == _AI and chunk.get("chunk_position") is None:
            for position, entry in enumerate(chunk.get("tool_call_chunks") or ()):
                self._args[position] = _ArgsBound(entry)
        self._derived = len(dumps(chunk.get("tool_calls", []))) + len(
            dumps(chunk.get("invalid_tool_calls", []))
        )
        return True

    def _grown_size(
        self, appended: list[tuple[Path, str]], last_id: str | None
    ) -> tuple[int, bool]:
        grown = self.size - len(dumps(self.last_id)) + len(dumps(last_id))
        touches_args = False
        for path, text in appended:
            grown += _escaped(text)
            touches_args = touches_args or path[0] == "tool_call_chunks"
        if touches_args and not self._args_pending:
            # From here the re-parsed tool calls are only bounded, not known.
            bounds = 4 + sum(a.bound for a in self._args.values())
            grown += max(0, bounds - self._derived)
        tails: dict[int, str] = {}
        for path, text in appended:
            if path[0] == "tool_call_chunks":
                args = self._args[path[1]]
                tail = tails.get(path[1], args.tail)
                grown += args.growth(text, tail)
                tails[path[1]] = text[-1:] or tail
        return grown, touches_args

    def _joined(self, extra: Any) -> dict[str, Any]:
        """The base chunk with every buffered (and ``extra``) text appended, as LangChain adds."""
        pending: dict[Path, list[str]] = {p: list(t) for p, t in self._pending.items()}
        for path, text in extra:
            pending.setdefault(path, []).append(text)
        if not pending:
            return self._base
        chunk = dict(self._base)
        copied: set[Path] = set()
        for path, texts in pending.items():
            target: Any = chunk
            for depth, key in enumerate(path[:-1]):
                prefix = path[: depth + 1]
                if prefix not in copied:
                    target[key] = list(target[key]) if isinstance(target[key], list) else dict(
                        target[key]
                    )
                    copied.add(prefix)
                target = target[key]
            target[path[-1]] = target[path[-1]] + "".join(texts)
        if self._args_pending or any(p[0] == "tool_call_chunks" for p in pending):
            return AIMessageChunk.model_validate(chunk).model_dump()  # re-derives tool_calls
        return chunk

    def _appended_text(self, chunk: Mapping[str, Any]) -> list[tuple[Path, str]] | None:
        """The strings adding ``chunk`` with LangChain would append, or ``None`` if it does more."""
        base = self._base
        if base["type"] != _AI or base.get("chunk_position") is not None:
            return None
        appended: list[tuple[Path, str]] = []
        for key, value in chunk.items():
            if key in _IGNORED_FIELDS or value is None:
                continue
            if key == "content":
                if not _content_text(base["content"], value, appended):
                    return None
            elif key == "tool_call_chunks":
                if not _args_text(base.get("tool_call_chunks") or [], value, appended):
                    return None
            elif key in ("tool_calls", "invalid_tool_calls"):
                if value and not chunk.get("tool_call_chunks"):
                    return None  # LangChain would turn them into new tool-call chunks
            elif key in _METADATA_FIELDS:
                if value and not _absorbed(base.get(key) or {}, value):
                    return None
            else:  # usage, chunk_position, fields this code does not know
                return None
        return appended


def _absorbed(base: dict[str, Any], value: Any) -> bool:
    try:
        return isinstance(value, dict) and merge_dicts(base, value) == base
    except (TypeError, ValueError):
        return False


def _content_text(base: Any, value: Any, appended: list[tuple[Path, str]]) -> bool:
    if isinstance(base, str) and isinstance(value, str):
        if value:
            appended.append((("content",), value))
        return True
    if isinstance(base, list) and value in ("", []):
        return True
    if not (isinstance(base, list) and isinstance(value, list)):
        return False
    for block in value:
        if not isinstance(block, dict) or type(block.get("index")) is not int or "id" in block:
            return False
        position = _first_with_index(base, block["index"])
        if position is None:
            return False
        target = base[position]
        if block.get("type") == "non_standard" and target.get("type"):
            return False
        for key, text in block.items():
            if key in ("type", "index"):
                continue
            if key not in target:
                return False  # LangChain would add the key
            if text is None:
                continue
            if not isinstance(text, str) or not isinstance(target[key], str):
                return False
            if key in _KEPT_WHEN_EQUAL and text == target[key]:
                continue
            if text:
                appended.append((("content", position, key), text))
    return True


def _args_text(base: list[Any], value: Any, appended: list[tuple[Path, str]]) -> bool:
    if not isinstance(value, list):
        return False
    for entry in value:
        if not isinstance(entry, dict) or type(entry.get("index")) is not int:
            return False
        if entry.get("name") is not None or entry.get("id") is not None:
            return False
        position = _first_with_index(base, entry["index"])
        args = entry.get("args")
        if position is None or not isinstance(base[position].get("args"), str):
            return False
        if args is None:
            continue
        if not isinstance(args, str):
            return False
        if args:
            appended.append((("tool_call_chunks", position, "args"), args))
    return True


def _first_with_index(items: list[Any], index: int) -> int | None:
    for position, item in enumerate(items):
        if isinstance(item, dict) and item.get("index") == index:
            return position
    return None
