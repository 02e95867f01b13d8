"""DynamoDB write units of a request, estimated from the items it sends.

moto reports no real consumed capacity, so the benchmark computes it the way DynamoDB bills
on-demand writes: one write unit per started 1 KB of item, twice that inside a transaction.
An ``UpdateItem`` is counted from its key and new values (a lower bound: DynamoDB bills the
item's full size after the update); a delete or condition check counts one unit.

Depends on boto3 and the standard library only, so the peer's virtualenv can import it.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from typing import Any

import boto3

_KB = 1024


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes DynamoDB counts for one attribute value (wire format, e.g. ``{"S": "x"}``)."""
    (kind, raw), = value.items()
    if kind == "S":
        return len(str(raw).encode())
    if kind == "N":
        return (len(str(raw).lstrip("-").replace(".", "")) + 1) // 2 + 1
    if kind == "B":
        return len(base64.b64decode(raw)) if isinstance(raw, str) else len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(value_size({kind[0]: item}) for item in raw)
    if kind == "L":
        return 3 + sum(1 + value_size(item) for item in raw)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in raw.items())
    return 0


def item_size(item: Mapping[str, Any]) -> int:
    """Bytes of an item: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def _units(size: int) -> int:
    return max(1, math.ceil(size / _KB))


def _update_size(request: Mapping[str, Any]) -> int:
    values = request.get("ExpressionAttributeValues") or {}
    return item_size(request.get("Key") or {}) + sum(value_size(v) for v in values.values())


def request_write_units(operation: str, body: Mapping[str, Any]) -> int:
    """Write units of one DynamoDB request (0 for reads)."""
    if operation == "PutItem":
        return _units(item_size(body["Item"]))
    if operation == "UpdateItem":
        return _units(_update_size(body))
    if operation == "DeleteItem":
        return 1
    if operation == "BatchWriteItem":
        total = 0
        for requests in body.get("RequestItems", {}).values():
            for request in requests:
                put = request.get("PutRequest")
                total += _units(item_size(put["Item"])) if put else 1
        return total
    if operation == "TransactWriteItems":
        total = 0
        for entry in body.get("TransactItems", []):
            (kind, request), = entry.items()
            if kind == "Put":
                total += 2 * _units(item_size(request["Item"]))
            elif kind == "Update":
                total += 2 * _units(_update_size(request))
            else:
                total += 2
        return total
    return 0


class WriteUnitCounter:
    """Adds up the write units of every DynamoDB request made by clients of some sessions."""

    def __init__(self) -> None:
        self.units = 0
        self._sessions: set[int] = set()

    def watch(self, session: boto3.Session) -> boto3.Session:
        """Count the requests of clients ``session`` creates from now on (once per session)."""
        if id(session) not in self._sessions:
            self._sessions.add(id(session))
            session.events.register("before-call.dynamodb", self._count)
        return session

    def _count(self, model: Any, params: Mapping[str, Any], **_: Any) -> None:
        raw = params.get("body") or b"{}"
        body = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        self.units += request_write_units(model.name, body)
