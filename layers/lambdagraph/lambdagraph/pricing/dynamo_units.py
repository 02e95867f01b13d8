"""DynamoDB capacity units of one request, computed from item sizes where DynamoDB does not say.

In the cloud a request sent with ``ReturnConsumedCapacity="TOTAL"`` comes back with
DynamoDB's own figure, which :func:`reported_units` reads. Locally moto answers a constant
(or nothing), so :func:`request_units` applies DynamoDB's documented rules:

* item size: attribute names plus values, UTF-8 bytes for strings, about one byte per two
  digits plus one for numbers, one byte for booleans and nulls, three bytes plus one per
  element for lists and maps
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html);
* a write: one WCU per 1 KB of the item written, rounded up; a transactional write two
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html,
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis.html);
* a read: one RCU per 4 KB strongly consistent, half that eventually consistent, two per
  4 KB transactional; a ``Query``/``Scan`` rounds the sum of the items it returns, a batch
  each item; a read that finds nothing still costs the minimum.

An update or delete whose old item the response does not return is counted by what the
request carries (key plus values): a lower bound, since DynamoDB bills the larger of the
item before and after.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

_KB: Final = 1024
_READ_UNIT: Final = 4 * _KB
_WRITE_UNIT: Final = _KB

READS: Final = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"})
WRITES: Final = frozenset(
    {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
)


def value_size(value: Mapping[str, Any]) -> int:
    """The billed size in bytes of one attribute value (``{"S": "x"}`` and friends)."""
    (kind, raw), *_ = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        digits = len(str(raw).lstrip("-").replace(".", "").lstrip("0")) or 1
        return (digits + 1) // 2 + 1
    if kind == "B":
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: v}) for v in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    return 0


def item_size(item: Mapping[str, Any] | None) -> int:
    """The billed size in bytes of an item (attribute names plus values)."""
    return sum(len(name.encode()) + value_size(v) for name, v in (item or {}).items())


def write_units(size: int, *, transactional: bool = False) -> float:
    """WCU of writing an item of ``size`` bytes (1 per KB rounded up; x2 in a transaction)."""
    units = max(1, math.ceil(size / _WRITE_UNIT))
    return float(units * (2 if transactional else 1))


def read_units(size: int, *, consistent: bool, transactional: bool = False) -> float:
    """RCU of reading ``size`` bytes (1 per 4 KB strongly consistent, 0.5 eventually
    consistent, 2 in a transaction; at least one unit)."""
    units = max(1, math.ceil(size / _READ_UNIT))
    if transactional:
        return float(2 * units)
    return float(units) if consistent else units / 2


def _written(op: Mapping[str, Any], returned: Mapping[str, Any] | None = None) -> int:
    """The size of what one write carries: the item put, or key plus values of an update."""
    if "Item" in op:
        return item_size(op["Item"])
    if returned:
        return item_size(returned)
    return item_size(op.get("Key")) + item_size(op.get("ExpressionAttributeValues"))


def request_units(operation: str, params: Mapping[str, Any], parsed: Mapping[str, Any]) -> float:
    """The capacity units ``operation`` consumed, from its request and parsed response."""
    consistent = bool(params.get("ConsistentRead"))
    if operation == "GetItem":
        return read_units(item_size(parsed.get("Item")), consistent=consistent)
    if operation in ("Query", "Scan"):
        size = sum(item_size(item) for item in parsed.get("Items") or ())
        return read_units(size, consistent=consistent)
    if operation == "BatchGetItem":
        total = 0.0
        for table, found in (parsed.get("Responses") or {}).items():
            strong = bool((params.get("RequestItems") or {}).get(table, {}).get("ConsistentRead"))
            total += sum(read_units(item_size(i), consistent=strong) for i in found)
        return total
    if operation == "TransactGetItems":
        found = parsed.get("Responses") or ()
        return sum(
            read_units(item_size(r.get("Item")), consistent=True, transactional=True) for r in found
        ) or 2.0 * len(params.get("TransactItems") or ())
    if operation in ("PutItem", "UpdateItem", "DeleteItem"):
        return write_units(_written(params, parsed.get("Attributes")))
    if operation == "TransactWriteItems":
        ops = (next(iter(entry.values())) for entry in params.get("TransactItems") or ())
        return sum(write_units(_written(op), transactional=True) for op in ops)
    if operation == "BatchWriteItem":
        total = 0.0
        for requests in (params.get("RequestItems") or {}).values():
            for request in requests:
                body = request.get("PutRequest") or request.get("DeleteRequest") or {}
                total += write_units(_written(body))
        return total
    return 0.0


def reported_units(parsed: Mapping[str, Any]) -> float | None:
    """DynamoDB's own ``ConsumedCapacity`` figure in a response, if it holds one."""
    consumed = parsed.get("ConsumedCapacity")
    if isinstance(consumed, Mapping):
        consumed = [consumed]
    if not consumed:
        return None
    return float(sum(float(c.get("CapacityUnits") or 0) for c in consumed))
