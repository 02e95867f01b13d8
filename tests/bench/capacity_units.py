"""DynamoDB read and write units of every request some boto3 sessions make, for the benches.

moto bills nothing, so the units are computed from what each request sends and each response
returns, by DynamoDB's documented rules in :mod:`lambdagraph.pricing.dynamo_units` (the
runtime cost meter's definition; this module only feeds it): a write 1 unit per started KB
of the item, 2 in a transaction; a read 1 per started 4 KB strongly consistent, 0.5
eventually consistent, a ``Query`` summing its items before rounding.

Both hooks read the wire format (``before-call`` and ``after-call``), so a saver built on
boto3's resource layer (the peer) is counted exactly like one on the client. An update is
billed on the item as it is after the update (DynamoDB bills the larger of before and after,
and our updates only add): the counter reads that item back on a client of its own, which
is not counted.

Needs boto3 and ``lambdagraph.pricing`` only (no third-party package of ours), so the peer's
virtualenv imports it with ``layers/lambdagraph`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Mapping
from typing import Any

import boto3

from lambdagraph.pricing import dynamo_units

_REQUEST = "bench_capacity_request"


def _decoded(value: Any, *, kind: str = "") -> Any:
    """Wire-format attribute values with binaries decoded from base64 (as boto3 parses)."""
    if isinstance(value, dict):
        return {k: _decoded(v, kind=k) for k, v in value.items()}
    if isinstance(value, list):
        return [_decoded(v, kind="B" if kind == "BS" else "") for v in value]
    if kind == "B" and isinstance(value, str):
        return base64.b64decode(value)
    return value


class UnitCounter:
    """Adds up the read and write units of the DynamoDB requests of some sessions."""

    def __init__(self) -> None:
        self.read_units = 0.0
        self.write_units = 0.0
        self._sessions: set[int] = set()
        self._inspect: Any = None
        self._lock = threading.Lock()  # savers call from worker threads

    def watch(self, session: boto3.Session) -> boto3.Session:
        """Count the requests of clients ``session`` creates from now on (once per session)."""
        if id(session) not in self._sessions:
            self._sessions.add(id(session))
            session.events.register("before-call.dynamodb", self._sent)
            session.events.register("after-call.dynamodb", self._done)
        return session

    def _sent(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        raw = params.get("body") or b"{}"
        context[_REQUEST] = _decoded(json.loads(raw.decode() if isinstance(raw, bytes) else raw))

    def _done(self, http_response: Any, context: dict[str, Any], model: Any, **_: Any) -> None:
        request = context.get(_REQUEST)
        if request is None or http_response.status_code >= 300:
            return
        response = _decoded(json.loads(http_response.content or b"{}"))
        operation = model.name
        if operation == "UpdateItem":
            request = {"Item": self._item_after(request)}
            operation = "PutItem"
        elif operation == "TransactWriteItems":
            request = {"TransactItems": [self._as_put(entry) for entry in request["TransactItems"]]}
        units = dynamo_units.request_units(operation, request, response)
        with self._lock:
            if operation in dynamo_units.WRITES:
                self.write_units += units
            else:
                self.read_units += units

    def _as_put(self, entry: Mapping[str, Any]) -> Mapping[str, Any]:
        if "Update" in entry:
            return {"Put": {"Item": self._item_after(entry["Update"])}}
        return entry

    def _item_after(self, update: Mapping[str, Any]) -> Mapping[str, Any]:
        with self._lock:
            if self._inspect is None:
                self._inspect = boto3.client("dynamodb")
        found = self._inspect.get_item(
            TableName=update["TableName"], Key=update["Key"], ConsistentRead=True
        )
        return found.get("Item") or update["Key"]  # type: ignore[no-any-return]
