"""What a store search keeps: LangGraph's filter comparisons and namespace match conditions.

Checked against langgraph-checkpoint 4.3.2 (``langgraph.store.memory``'s ``_compare_values``,
``_apply_operator`` and ``_does_match``, which follow the Postgres store's JSONB rules), with
two differences: ``$and`` joins filters (LangGraph Server merges an auth handler's filter
that way), and a range operator on a missing or non-numeric field does not match instead of
failing the whole search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from langgraph.store.base import MatchCondition

from lambdagraph.errors import InvalidInput


def namespace_matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """LangGraph's namespace match: ``prefix`` or ``suffix`` labels, ``*`` matches any one."""
    path = condition.path
    if len(namespace) < len(path):
        return False
    pairs = (
        zip(namespace, path, strict=False)
        if condition.match_type == "prefix"
        else zip(reversed(namespace), reversed(path), strict=False)
    )
    return all(want == "*" or have == want for have, want in pairs)


def check_filter(filter: Any) -> None:
    """Refuse a filter that no item could be compared with, whatever the store holds.

    Raises:
        InvalidInput: not an object, a ``$and`` without a list of filters, an unknown ``$``
            operator, or a range operator whose operand is not a number.
    """
    if filter is None:
        return
    if not isinstance(filter, dict):
        raise InvalidInput("A filter must be an object")
    for field, wanted in filter.items():
        if field == "$and":
            if not isinstance(wanted, list):
                raise InvalidInput("A filter's $and takes a list of filters")
            for part in wanted:
                check_filter(part)
        elif isinstance(wanted, dict) and any(str(k).startswith("$") for k in wanted):
            for op, operand in wanted.items():
                if op in ("$eq", "$ne"):
                    continue
                if op not in _RANGE:
                    raise InvalidInput(
                        f"Unsupported filter operator {op!r}; use $eq $ne $gt $gte $lt $lte"
                    )
                if not _number(operand):
                    raise InvalidInput(
                        f"Filter operator {op} needs a number, got {orjson.dumps(operand)!r}"
                    )
        elif isinstance(wanted, dict):
            check_filter(wanted)


def matches_filter(value: Any, filter: dict[str, Any] | None) -> bool:
    """Whether an item's value matches a store ``filter`` (LangGraph's comparison rules).

    The filter must have passed :func:`check_filter`.
    """
    if not filter:
        return True
    if not isinstance(value, dict):
        return False
    for field, wanted in filter.items():
        if field == "$and":
            if not all(matches_filter(value, part) for part in wanted):
                return False
        elif not _compare(value.get(field), wanted):
            return False
    return True


def _compare(have: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        if any(str(k).startswith("$") for k in wanted):
            return all(_apply(have, op, operand) for op, operand in wanted.items())
        if not isinstance(have, dict):
            return False
        return all(_compare(have.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return (
            isinstance(have, list | tuple)
            and len(have) == len(wanted)
            and all(_compare(h, w) for h, w in zip(have, wanted, strict=True))
        )
    return bool(have == wanted)


_RANGE: dict[str, Callable[[float, float], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


def _apply(have: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(have == operand)
    if op == "$ne":
        return bool(have != operand)
    # An item whose field is missing or not a number does not match a range.
    return _number(have) and _RANGE[op](float(have), float(operand))


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)



__all__ = ["check_filter", "matches_filter", "namespace_matches"]
