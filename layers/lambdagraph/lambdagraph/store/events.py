"""The event log: a run's protocol events in the app table, so clients can join or resume.

Events are appended in batches: one ``BatchWriteItem`` per flush, each item holding many
events (zlib-compressed JSON), split into parts when a batch nears DynamoDB's 400 KB item
limit. An item's sort key is the id of the *last* event it holds, so "every event after id X"
is one ``Query`` from ``EVENTS#<X+1>`` (and the first item returned may start before X+1).

Event ids are zero-padded decimal integers (``0000000042``): they strictly increase per run
and compare the same as strings and as numbers, so any client ordering works; ``-1`` in
``Last-Event-ID`` means "from the start".
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import orjson

from lambdagraph import aws
from lambdagraph.errors import InvalidInput
from lambdagraph.pricing import dynamo_units
from lambdagraph.protocol.events import Event
from lambdagraph.protocol.sse import dumps
from lambdagraph.store.dynamo import translate_errors
from lambdagraph.store.schema import (
    EVENT_ID_WIDTH,
    EVENTS_BATCHES_END,
    EVENTS_END_SK,
    EVENTS_SK_PREFIX,
    TTL_ATTRIBUTE,
    event_batch_sk,
    event_batch_sk_after,
    run_events_pk,
    thread_events_pk,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any

MAX_ITEM_BYTES: Final = 300_000
"""Body bytes per item; DynamoDB allows 400 KB per item including names and keys."""

_BATCH_WRITE_LIMIT: Final = 25


def format_event_id(seq: int) -> str:
    """The wire id of the ``seq``-th event of a run (0-based)."""
    return f"{seq:0{EVENT_ID_WIDTH}d}"


def parse_event_id(raw: str) -> int:
    """The sequence number in a ``Last-Event-ID``; ``-1`` means before the first event.

    Raises:
        InvalidInput: ``raw`` is not an id this server issued.
    """
    text = raw.strip()
    try:
        seq = int(text)
    except ValueError:
        raise InvalidInput(f"Last-Event-ID {raw!r} is not an event id of this server") from None
    if seq < -1:
        raise InvalidInput(f"Last-Event-ID {raw!r} is not an event id of this server")
    return seq


@dataclass(frozen=True, slots=True)
class LogRead:
    """Events read from the log.

    Attributes:
        events: contiguous events after the requested id, in order.
        gap: the log holds later events that could not be returned because an earlier batch
            is missing (still being written, or lost with a crashed writer).
        end_seq: the run's last event id once its log is complete (``None`` while it runs).
    """

    events: list[Event]
    gap: bool
    end_seq: int | None = None

    @property
    def ended(self) -> bool:
        """The log is complete and nothing past ``events`` is left to read."""
        return self.end_seq is not None and not self.gap


@dataclass
class WriteStats:
    """What the log has written, for cost reports: requests, items and write units."""

    requests: int = 0
    items: int = 0
    write_units: int = 0
    events: int = 0


class EventLog:
    """Append and read a run's events in the app table.

    The same class keeps a thread's Agent Streaming Protocol frames (:meth:`for_threads`):
    there the key is a thread id and the sequence numbers are the frames' ``seq``.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
        ttl_seconds: how long logged events live (DynamoDB TTL).
        max_item_bytes: compressed body bytes per item before a batch is split.
        partition: the partition key of a log's items, from its key (a run id).
    """

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None = None,
        ttl_seconds: int = 86_400,
        max_item_bytes: int = MAX_ITEM_BYTES,
        partition: Callable[[str], str] = run_events_pk,
    ) -> None:
        self.table_name = table_name
        self.client = client if client is not None else aws.client("dynamodb")
        self.ttl_seconds = ttl_seconds
        self.max_item_bytes = max_item_bytes
        self.partition = partition
        self.stats = WriteStats()

    def for_threads(self) -> EventLog:
        """The thread log: the same table and settings, keyed by thread id."""
        return EventLog(
            self.table_name,
            client=self.client,
            ttl_seconds=self.ttl_seconds,
            max_item_bytes=self.max_item_bytes,
            partition=thread_events_pk,
        )

    async def append(self, run_id: str, events: Sequence[Event]) -> None:
        """Write events (which carry ids from :func:`format_event_id`) as one batch."""
        if not events:
            return
        with translate_errors():
            # Encoding and compressing happen off the loop too: a values event can be large.
            await asyncio.to_thread(self._write_batch, run_id, list(events))
        self.stats.events += len(events)

    async def read_after(self, run_id: str, after: int, *, skip_gaps: bool = False) -> LogRead:
        """Every logged event with a sequence number greater than ``after``, in order.

        Args:
            run_id: the run.
            after: the last sequence number the caller has (``-1``: from the start).
            skip_gaps: return events past a missing batch too (the writer is known gone).
        """
        with translate_errors():
            items = await asyncio.to_thread(self._query_after, run_id, after)
        return _decode_batches(items, after, skip_gaps=skip_gaps)

    async def mark_end(self, run_id: str, last_seq: int) -> None:
        """Record that the run's log is complete: followers stop after event ``last_seq``."""
        with translate_errors():
            await self._put_end_marker(run_id, last_seq)

    async def _put_end_marker(self, run_id: str, last_seq: int) -> None:
        await asyncio.to_thread(
            self.client.put_item,
            TableName=self.table_name,
            Item={
                "PK": {"S": self.partition(run_id)},
                "SK": {"S": EVENTS_END_SK},
                "end_seq": {"N": str(last_seq)},
                TTL_ATTRIBUTE: {"N": str(int(time.time()) + self.ttl_seconds)},
            },
        )

    async def last_seq(self, run_id: str) -> int:
        """The sequence number of the last logged event of the run, ``-1`` if none."""
        with translate_errors():
            return await self._query_last_seq(run_id)

    async def _query_last_seq(self, run_id: str) -> int:
        response = await asyncio.to_thread(
            self.client.query,
            TableName=self.table_name,
            KeyConditionExpression="PK = :pk AND SK BETWEEN :low AND :high",
            ExpressionAttributeValues={
                ":pk": {"S": self.partition(run_id)},
                ":low": {"S": EVENTS_SK_PREFIX},
                ":high": {"S": EVENTS_BATCHES_END},
            },
            ProjectionExpression="#last",
            ExpressionAttributeNames={"#last": "last"},
            ScanIndexForward=False,
            Limit=1,
            ConsistentRead=True,
        )
        items = response.get("Items", [])
        return int(items[0]["last"]["N"]) if items else -1

    def _batch_items(self, run_id: str, events: Sequence[Event]) -> list[dict[str, Any]]:
        seqs = [_seq_of(event) for event in events]
        body = zlib.compress(
            orjson.dumps([[s, e.event, _raw(e.data)] for s, e in zip(seqs, events, strict=True)])
        )
        parts = [
            body[i : i + self.max_item_bytes] for i in range(0, len(body), self.max_item_bytes)
        ]
        expires_at = str(int(time.time()) + self.ttl_seconds)
        pk = self.partition(run_id)
        return [
            {
                "PK": {"S": pk},
                "SK": {"S": event_batch_sk(seqs[-1], index)},
                "first": {"N": str(seqs[0])},
                "last": {"N": str(seqs[-1])},
                "part": {"N": str(index)},
                "parts": {"N": str(len(parts))},
                "body": {"B": chunk},
                TTL_ATTRIBUTE: {"N": expires_at},
            }
            for index, chunk in enumerate(parts)
        ]

    def _write_batch(self, run_id: str, events: list[Event]) -> None:
        self._write_items(self._batch_items(run_id, events))

    def _write_items(self, items: list[dict[str, Any]]) -> None:
        for start in range(0, len(items), _BATCH_WRITE_LIMIT):
            pending: list[dict[str, Any]] = [
                {"PutRequest": {"Item": item}} for item in items[start : start + _BATCH_WRITE_LIMIT]
            ]
            attempt = 0
            while pending:
                response = self.client.batch_write_item(RequestItems={self.table_name: pending})
                self.stats.requests += 1
                pending = response.get("UnprocessedItems", {}).get(self.table_name, [])
                if pending:
                    # Throttled items come back unprocessed; back off before retrying them.
                    attempt += 1
                    time.sleep(min(1.0, 0.02 * 2**attempt))
        self.stats.items += len(items)
        self.stats.write_units += sum(_write_units(item) for item in items)

    def _query_after(self, run_id: str, after: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
            "ExpressionAttributeValues": {
                ":pk": {"S": self.partition(run_id)},
                ":low": {"S": event_batch_sk_after(after)},
                ":high": {"S": EVENTS_END_SK},
            },
            "ConsistentRead": True,
        }
        while True:
            response = self.client.query(**request)
            items.extend(response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                return items
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _raw(data: Any) -> Any:
    # protocol.sse.dumps knows LangChain messages and pydantic models; plain orjson does not.
    return orjson.Fragment(dumps(data))


def _seq_of(event: Event) -> int:
    if event.id is None:
        raise ValueError(f"event {event.event!r} has no id; sequence events before logging")
    return int(event.id)


def _write_units(item: dict[str, Any]) -> int:
    return int(dynamo_units.write_units(dynamo_units.item_size(item)))


def _decode_batches(items: list[dict[str, Any]], after: int, *, skip_gaps: bool) -> LogRead:
    batches: dict[int, list[dict[str, Any]]] = {}
    end_seq = None
    for item in items:
        if "end_seq" in item:
            end_seq = int(item["end_seq"]["N"])
        else:
            batches.setdefault(int(item["last"]["N"]), []).append(item)
    events: list[Event] = []
    expected = after + 1
    for last in sorted(batches):
        parts = sorted(batches[last], key=lambda item: int(item["part"]["N"]))
        first = int(parts[0]["first"]["N"])
        complete = len(parts) == int(parts[0]["parts"]["N"])
        if not complete or (first > expected and not skip_gaps):
            return LogRead(events, gap=True, end_seq=end_seq)
        body = zlib.decompress(b"".join(part["body"]["B"] for part in parts))
        for seq, name, data in orjson.loads(body):
            if seq >= expected:
                events.append(Event(name, data, format_event_id(seq)))
        expected = last + 1
    if end_seq is not None and end_seq >= expected and not skip_gaps:
        return LogRead(events, gap=True, end_seq=end_seq)  # the last batches are still landing
    return LogRead(events, gap=False, end_seq=end_seq)
