"""Metadata filters, as a LangGraph ``@auth.on`` handler returns them, checked on a record.

The language is LangGraph's (``langgraph_sdk.auth.types.FilterType``): every key must match
(AND); a plain value or ``{"$eq": value}`` is equality; ``{"$contains": x}`` requires the
metadata value to be a list holding ``x`` (or every element of ``x`` when it is a list);
``{"$or": [f1, f2, ...]}`` and ``{"$and": [...]}`` combine filters, nested at most twice.
Pure: the store applies it to thread metadata it has read. :func:`contains` is the other
test the store makes of metadata: what a search's ``metadata`` means (JSONB containment).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from lambdagraph.errors import Forbidden

Filters = Mapping[str, Any]
"""A handler's filter document (``{"owner": "alice", "tags": {"$contains": "x"}}``)."""

MAX_NESTING: Final = 2
_OPERATORS: Final = frozenset({"$eq", "$contains"})
_COMBINATORS: Final = ("$or", "$and")


class InvalidFilter(Forbidden):
    """An auth handler returned a filter outside LangGraph's filter language.

    The request is refused (403) rather than answered unfiltered: a filter the store cannot
    apply must never widen what a caller sees.
    """


def matches(metadata: Mapping[str, Any], filters: Filters | None, *, depth: int = 0) -> bool:
    """Whether ``metadata`` satisfies ``filters`` (``None`` or ``{}``: everything does).

    Raises:
        InvalidFilter: an unknown operator, a malformed ``$or``/``$and``, or nesting deeper
            than LangGraph allows.
    """
    if not filters:
        return True
    if depth > MAX_NESTING:
        raise InvalidFilter("The auth handler returned a filter nested too deeply")
    for key, expected in filters.items():
        if key in _COMBINATORS:
            if not _combined(key, expected, metadata, depth):
                return False
        elif not _field_matches(metadata, key, expected):
            return False
    return True


def contains(metadata: Mapping[str, Any], wanted: Mapping[str, Any] | None) -> bool:
    """Whether ``metadata`` contains ``wanted``, as a search's ``metadata`` filter means it.

    LangGraph Server filters with JSONB containment (``@>``): nested objects match when they
    contain the wanted keys, lists when they hold every wanted element, others when equal.
    """
    return all(k in metadata and _holds(metadata[k], v) for k, v in (wanted or {}).items())


def _holds(value: Any, wanted: Any) -> bool:
    if isinstance(wanted, Mapping):
        return isinstance(value, Mapping) and contains(value, wanted)
    if isinstance(wanted, list):
        return isinstance(value, list) and all(any(_holds(v, w) for v in value) for w in wanted)
    return bool(value == wanted)


def _combined(key: str, groups: Any, metadata: Mapping[str, Any], depth: int) -> bool:
    if not isinstance(groups, list) or len(groups) < 2:
        raise InvalidFilter(f"The auth handler's {key} filter must list at least two filters")
    if not all(isinstance(group, Mapping) for group in groups):
        raise InvalidFilter(f"The auth handler's {key} filter must list filter objects")
    results = [matches(metadata, group, depth=depth + 1) for group in groups]
    return any(results) if key == "$or" else all(results)


def _field_matches(metadata: Mapping[str, Any], key: str, expected: Any) -> bool:
    if not isinstance(expected, Mapping):
        return key in metadata and metadata[key] == expected
    if len(expected) != 1 or next(iter(expected)) not in _OPERATORS:
        raise InvalidFilter(
            f"The auth handler's filter on {key!r} must be a value, $eq or $contains"
        )
    operator, operand = next(iter(expected.items()))
    if key not in metadata:
        return False
    actual = metadata[key]
    if operator == "$eq":
        return bool(actual == operand)
    if not isinstance(actual, list):
        return False
    wanted = operand if isinstance(operand, list) else [operand]
    return all(element in actual for element in wanted)


__all__ = ["Filters", "InvalidFilter", "matches"]
