"""Every app-table key format, index name and expression, in one place.

The table itself is declared in ``template.yaml`` (``PK``/``SK`` plus ``GSI1``); this module
says what goes in those attributes. Item kinds:

==============  =======================  ======================  ============================
item            PK                       SK                      GSI1PK / GSI1SK
==============  =======================  ======================  ============================
thread          ``THREAD#<thread_id>``   ``THREAD``              ``OWNER#<owner>`` /
                                                                 ``THREAD#<created_at>#<id>``
run             ``THREAD#<thread_id>``   ``RUN#<run_id>``        –
connection      ``CONN#<connection_id>`` ``CONN``                (later: the WebSocket API)
stream sub      ``STREAMSUB#<tid>``      ``CONN#<conn>#<sub>``   (v2 WebSocket subscriptions)
event batch     ``RUN#<run_id>``         ``EVENTS#<last_id>#<p>`` (the event log)
log end         ``RUN#<run_id>``         ``EVENTS#~END``         (the event log)
thread log      ``THREADLOG#<tid>``      ``EVENTS#<last_id>#<p>`` (v2 frames; seq per thread)
worker lease    ``RUN#<run_id>``         ``WORKER``              (durable runs)
tombstone       ``THREAD#<thread_id>``   ``THREAD``              – (a deleted thread, erasing)
active runs     ``USER#<owner>``         ``ACTIVE``              (per-user limits)
request count   ``USER#<owner>``         ``RPM#<minute>``        (per-user limits, TTL)
cron            ``CRON#<cron_id>``       ``CRON``                ``OWNER#<owner>`` /
                                                                 ``CRON#<created_at>#<id>``
thread expiry   ``THREAD_EXPIRY#<n>``    ``<expires>#<tid>``     (thread TTL; shard ``n``)
store item      ``KV#<owner>``           ``ITEM#<ns>..<key>``    (the Store API, TTL)
==============  =======================  ======================  ============================

Runs live in their thread's partition, so one query reads a thread and its runs. Run ids are
UUIDv6 (time-ordered), so ``RUN#…`` sort keys order runs by creation; ``RUN#`` sorts before
``THREAD``, so a descending query returns the thread item first, then runs newest first.

Thread ids are global (the checkpoints table is keyed by thread id alone), so a thread item
is created with ``attribute_not_exists(PK)`` and ownership is the ``owner`` attribute,
checked in every write's condition and on every read.

Deleting a thread turns its item into a *tombstone* in one conditional write (see the block
at the end): the owner, the GSI keys and every document are removed, so every ownership
condition and check fails for it exactly as for a missing thread, while the item keeps the id
taken until the erase job has removed everything the thread owned.

Nested documents (metadata, run kwargs, values, interrupts, usage) are stored as JSON strings:
nothing queries inside them, and JSON keeps floats and nulls exact where DynamoDB maps would
need ``Decimal`` conversions.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from typing import Any, Final

from lambdagraph.errors import InvalidInput
from lambdagraph.store import bucket

GSI1: Final = "GSI1"
TTL_ATTRIBUTE: Final = "expires_at"

THREAD_SK: Final = "THREAD"
RUN_SK_PREFIX: Final = "RUN#"
CONNECTION_SK: Final = "CONN"
EVENTS_SK_PREFIX: Final = "EVENTS#"
DELETED_AT: Final = "deleted_at"
"""Set on a thread item when it becomes a tombstone (see the end of this module)."""

# Attribute names that are DynamoDB reserved words, aliased in every expression.
NAMES: Final[dict[str, str]] = {
    "#status": "status",
    "#queue": "queue",
    "#owner": "owner",
    "#values": "values",
    "#name": "name",
    "#version": "version",
}


def thread_pk(thread_id: str) -> str:
    """Partition of a thread and its runs."""
    return f"THREAD#{thread_id}"


def thread_key(thread_id: str) -> dict[str, dict[str, str]]:
    """Primary key of a thread item."""
    return {"PK": {"S": thread_pk(thread_id)}, "SK": {"S": THREAD_SK}}


def run_sk(run_id: str) -> str:
    """Sort key of a run within its thread's partition."""
    return f"{RUN_SK_PREFIX}{run_id}"


def run_key(thread_id: str, run_id: str) -> dict[str, dict[str, str]]:
    """Primary key of a run item."""
    return {"PK": {"S": thread_pk(thread_id)}, "SK": {"S": run_sk(run_id)}}


RUN_KWARGS_INLINE_BYTES: Final = bucket.OFFLOAD_THRESHOLD_BYTES
"""Run kwargs (the run's input) larger than this go to the checkpoint bucket, as checkpoint
items do: a DynamoDB item holds at most 400 KB, a request body (Lambda's payload) 6 MB."""
RUN_KWARGS_S3_ATTRIBUTE: Final = "kwargs_s3"
"""The run item's attribute naming its kwargs' S3 key (``bucket.run_kwargs_key``)."""


def owner_gsi1pk(owner: str) -> str:
    """GSI1 partition listing one user's threads."""
    return f"OWNER#{owner}"


THREAD_GSI1SK_PREFIX: Final = "THREAD#"
"""What every thread's GSI1 sort key starts with (``begins_with`` when listing threads)."""


def thread_gsi1sk(created_at: str, thread_id: str) -> str:
    """GSI1 sort key: a user's threads in creation order."""
    return f"{THREAD_GSI1SK_PREFIX}{created_at}#{thread_id}"


def connection_pk(connection_id: str) -> str:
    """Partition of a WebSocket connection item (used by the WebSocket API)."""
    return f"CONN#{connection_id}"


def events_pk(run_id: str) -> str:
    """Partition of a run's event-log batches and worker lease (see the durable block below)."""
    return f"RUN#{run_id}"


# --- conditions -------------------------------------------------------------------------

THREAD_IS_NEW: Final = "attribute_not_exists(PK)"
"""Create a thread only if no thread (of any user, or a tombstone being erased) has that id."""

RUN_IS_NEW: Final = "attribute_not_exists(PK)"
EXISTS: Final = "attribute_exists(PK)"

OWNED: Final = "attribute_exists(PK) AND #owner = :owner"
"""The item exists and belongs to the caller."""

THREAD_QUEUE_EMPTY: Final = "(attribute_not_exists(#queue) OR size(#queue) = :zero)"

THREAD_GONE_AT: Final = "gone_at"
"""ISO time from which a thread with a ``delete`` TTL reads as gone (TTL block at the end)."""
THREAD_UNEXPIRED: Final = f"(attribute_not_exists({THREAD_GONE_AT}) OR {THREAD_GONE_AT} > :now)"

THREAD_IDLE: Final = (
    f"{OWNED} AND {THREAD_UNEXPIRED} AND attribute_not_exists(active_run_id) "
    f"AND {THREAD_QUEUE_EMPTY}"
)
"""A run may start at once: the caller's unexpired thread, no active run, nobody waiting."""

THREAD_ACTIVE_IS: Final = f"{OWNED} AND active_run_id = :active"
"""The thread's active run is still the one the caller saw."""

THREAD_ACTIVE_IS_ME: Final = "active_run_id = :run_id"
THREAD_LIVE: Final = f"attribute_not_exists({DELETED_AT})"
"""Not a tombstone: a run finishing as its thread is deleted must not write the tombstone."""
THREAD_QUEUE_HEAD_IS: Final = "#queue[0] = :next"

RUN_IS_ACTIVE: Final = "#status IN (:pending, :running)"
RUN_IS_PENDING: Final = "#status = :pending"
RUN_IS_RUNNING: Final = "#status = :running"

# --- updates ----------------------------------------------------------------------------

STAMP_GRAPH_ID: Final = "stamp_graph_id"
STAMP_ASSISTANT_ID: Final = "stamp_assistant_id"
"""The graph and assistant of the last run started on an idle thread (LangGraph Server puts
them in the thread's metadata, and clients such as Agent Chat UI search threads by them):
top-level attributes, so starting a run stays one write that needs no read of the metadata.
The thread's metadata shows them under ``graph_id``/``assistant_id``, over its own keys until
a ``PATCH`` folds them into the stored metadata (the client's word, until the next run)."""
START_RUN: Final = (
    "SET active_run_id = :run_id, #status = :busy, updated_at = :now, "
    f"{STAMP_GRAPH_ID} = :graph, {STAMP_ASSISTANT_ID} = :assistant"
)
ENQUEUE_RUN: Final = (
    "SET #queue = list_append(if_not_exists(#queue, :empty), :run_ids), updated_at = :now"
)
REPLACE_QUEUE: Final = "SET #queue = :run_ids, updated_at = :now"
SET_CANCEL: Final = "SET cancel = :action, updated_at = :now"
FINISH_RUN: Final = (
    "SET #status = :status, updated_at = :now, usage_json = :usage, aws_json = :aws"
)
START_QUEUED_RUN: Final = "SET #status = :running, updated_at = :now"
CANCEL_PENDING_RUN: Final = "SET #status = :interrupted, cancel = :action, updated_at = :now"


def expression_attributes(
    *expressions: str, values: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """``ExpressionAttributeNames``/``Values`` holding only what ``expressions`` use.

    DynamoDB rejects a request that defines a name or value its expressions never use, so
    each request carries exactly the aliases its own expressions mention.
    """
    text = " ".join(expressions)
    out: dict[str, Any] = {}
    names = {alias: name for alias, name in NAMES.items() if re.search(rf"{alias}\b", text)}
    if names:
        out["ExpressionAttributeNames"] = names
    used = {k: v for k, v in (values or {}).items() if re.search(rf"{k}\b", text)}
    if used:
        out["ExpressionAttributeValues"] = used
    return out


# --- durable runs: event log and worker lease ------------------------------------------
#
# An event batch is keyed by the id of its *last* event (then a part number, for batches
# split at the 400 KB item limit), so the batches holding events after id X are exactly those
# from ``EVENTS#<X+1>`` on: one Query, no scan back to a batch's start. The end marker sorts
# after every batch (``~`` sorts after digits), so the same Query tells a follower the run
# is over; the batch-only range stops just before it.

EVENT_ID_WIDTH: Final = 10
"""Digits in an event id: zero-padded, so ids sort the same as strings and as numbers."""

EVENTS_BATCHES_END: Final = f"{EVENTS_SK_PREFIX}~"
"""Upper bound of the batch sort keys (exclusive of the end marker)."""

EVENTS_END_SK: Final = f"{EVENTS_SK_PREFIX}~END"
"""Sort key of the marker written once a run's log is complete (holds ``end_seq``)."""

WORKER_SK: Final = "WORKER"


def run_events_pk(run_id: str) -> str:
    """Partition of a run's event batches and worker lease (apart from its write-hot thread)."""
    return events_pk(run_id)


THREAD_EVENTS_PK_PREFIX: Final = "THREADLOG#"


def thread_events_pk(thread_id: str) -> str:
    """Partition of a thread's log of Agent Streaming Protocol frames (``seq`` per thread).

    Its batches use the run log's sort keys (:func:`event_batch_sk`), so the same
    :class:`~lambdagraph.store.events.EventLog` code reads and writes it; it is apart from
    the thread item's partition, which every run start and finish writes.
    """
    return f"{THREAD_EVENTS_PK_PREFIX}{thread_id}"


def event_batch_sk(last_seq: int, part: int) -> str:
    """Sort key of an event batch item: the id of its last event, then its part number."""
    return f"{EVENTS_SK_PREFIX}{last_seq:0{EVENT_ID_WIDTH}d}#{part:03d}"


def event_batch_sk_after(after: int) -> str:
    """Lower bound (inclusive) of the sort keys of batches holding events after ``after``."""
    return f"{EVENTS_SK_PREFIX}{after + 1:0{EVENT_ID_WIDTH}d}"


def worker_key(run_id: str) -> dict[str, dict[str, str]]:
    """Primary key of a run's worker lease item (attempt number, holder, lease expiry)."""
    return {"PK": {"S": events_pk(run_id)}, "SK": {"S": WORKER_SK}}


RESERVE_LEASE: Final = "attribute_not_exists(PK)"
"""A run's lease item (attempt 0) is written once, when the run is handed to a worker."""

CLAIM_ATTEMPT: Final = "attempt = :previous"
"""Attempt n is claimed once, only from attempt n - 1: duplicates and retries find it taken."""

LEASE_HELD: Final = "attempt = :attempt"
"""The caller's attempt still holds the run."""

LEASE_STALE: Final = "attempt = :attempt AND lease_until < :now"
"""The attempt holding the run stopped renewing its lease: its worker is gone."""


# --- WebSocket API: connections, run index, subscribers ---------------------------------
#
# A connection item lives as long as API Gateway lets a connection live (2 h), plus a margin.
# A run started over the WebSocket gets an index item in its ``RUN#`` partition, so actions
# that name only a ``run_id`` (cancel, subscribe) find its owner and thread. Subscribers are a
# string set on the *run item* — the item the executor already polls for the cancel flag —
# each entry ``<connection_id>#<after>`` (the last event id that connection already has).

CONNECTION_TTL_SECONDS: Final = 2 * 3600 + 600
RUN_INDEX_SK: Final = "INDEX"
SUBSCRIBERS_ATTRIBUTE: Final = "ws_subscribers"
ADD_SUBSCRIBER: Final = f"ADD {SUBSCRIBERS_ATTRIBUTE} :entries"
REMOVE_SUBSCRIBER: Final = f"DELETE {SUBSCRIBERS_ATTRIBUTE} :entries"
IDEMPOTENCY_PK: Final = "IDEMPOTENCY#ws-run"
"""Partition of the Powertools idempotency records of WebSocket ``run`` requests."""


def connection_key(connection_id: str) -> dict[str, dict[str, str]]:
    """Primary key of a WebSocket connection item."""
    return {"PK": {"S": connection_pk(connection_id)}, "SK": {"S": CONNECTION_SK}}


def run_index_key(run_id: str) -> dict[str, dict[str, str]]:
    """Primary key of the item that maps a WebSocket run id to its owner and thread."""
    return {"PK": {"S": events_pk(run_id)}, "SK": {"S": RUN_INDEX_SK}}


def subscriber_entry(connection_id: str, after: int) -> str:
    """A run item's subscriber entry: the connection and the last event id it has."""
    return f"{connection_id}#{after}"


def parse_subscriber_entry(entry: str) -> tuple[str, int]:
    """``(connection_id, after)`` of a subscriber entry."""
    connection_id, _, after = entry.rpartition("#")
    return connection_id, int(after)


# A thread subscription of the Agent Streaming Protocol's WebSocket (``subscription.subscribe``)
# is an item in the thread's ``STREAMSUB#`` partition, one per (connection, subscription), so
# the worker that starts a v2 run finds every subscriber of its thread with one Query. The
# connection item keeps the set of its subscriptions (``<thread_id>|<subscription_id>``) for
# ``$disconnect``. A subscription made while a run is active is also announced on that run's
# item (the item its executor polls), in the run's subscriber set, as a *stream entry*
# ``v2|<connection_id>|<subscription_id>|<after>`` (``after``: the last seq already replayed).

STREAM_SUBSCRIPTION_PK_PREFIX: Final = "STREAMSUB#"
STREAM_SUBSCRIPTIONS_ATTRIBUTE: Final = "stream_subscriptions"
STREAM_ENTRY_PREFIX: Final = "v2|"
STREAM_UNSUBSCRIBED: Final = -2
"""The ``after`` of the stream entry telling an active run that a subscription ended."""
STREAM_HANDOVER: Final = "*"
"""The subscription id of the entry a run continuing elsewhere leaves for each connection."""


def stream_subscription_key(
    thread_id: str, connection_id: str, subscription_id: str
) -> dict[str, dict[str, str]]:
    """Primary key of one WebSocket thread subscription."""
    return {
        "PK": {"S": f"{STREAM_SUBSCRIPTION_PK_PREFIX}{thread_id}"},
        "SK": {"S": f"{connection_pk(connection_id)}#{subscription_id}"},
    }


def stream_entry(connection_id: str, subscription_id: str, after: int) -> str:
    """A run item's subscriber entry for a thread subscription made while the run is active."""
    return f"{STREAM_ENTRY_PREFIX}{connection_id}|{subscription_id}|{after}"


def is_stream_entry(entry: str) -> bool:
    """Whether a run item's subscriber entry is a thread subscription's (not a run's)."""
    return entry.startswith(STREAM_ENTRY_PREFIX)


def parse_stream_entry(entry: str) -> tuple[str, str, int]:
    """``(connection_id, subscription_id, after)`` of a stream entry."""
    connection_id, subscription_id, after = entry[len(STREAM_ENTRY_PREFIX) :].split("|")
    return connection_id, subscription_id, int(after)


# --- per-user limits --------------------------------------------------------------------
#
# One partition per user holds the user's limit counters, apart from any thread:
# ``ACTIVE`` keeps a string set of the user's active (pending or running) runs, each entry
# ``<thread_id>#<run_id>``, added in the transaction that records the run and deleted in the
# one that finishes it. A set rather than a counter: deleting an entry twice is harmless, and
# an entry names its run, so one whose run ended unrecorded (a killed process, an erased
# thread) can be found and dropped. ``RPM#<minute>`` counts the requests of one minute
# (minutes since the epoch) and expires with it.

ACTIVE_RUNS_SK: Final = "ACTIVE"
ACTIVE_RUNS_ATTRIBUTE: Final = "active_runs"
RPM_SK_PREFIX: Final = "RPM#"
REQUESTS_ATTRIBUTE: Final = "requests"

CLAIM_ACTIVE_RUN: Final = f"ADD {ACTIVE_RUNS_ATTRIBUTE} :entries"
RELEASE_ACTIVE_RUNS: Final = f"DELETE {ACTIVE_RUNS_ATTRIBUTE} :entries"
ACTIVE_RUNS_BELOW: Final = (
    f"attribute_not_exists({ACTIVE_RUNS_ATTRIBUTE}) OR size({ACTIVE_RUNS_ATTRIBUTE}) < :limit"
)
"""Room for one more active run (``:limit`` also counts the runs the same write cancels)."""

COUNT_REQUEST: Final = f"ADD {REQUESTS_ATTRIBUTE} :one SET {TTL_ATTRIBUTE} = :ttl"
REQUESTS_BELOW: Final = (
    f"attribute_not_exists({REQUESTS_ATTRIBUTE}) OR {REQUESTS_ATTRIBUTE} < :limit"
)


def user_pk(owner: str) -> str:
    """Partition of one user's limit counters."""
    return f"USER#{owner}"


def active_runs_key(owner: str) -> dict[str, dict[str, str]]:
    """Primary key of the item listing the user's active runs."""
    return {"PK": {"S": user_pk(owner)}, "SK": {"S": ACTIVE_RUNS_SK}}


def requests_key(owner: str, minute: int) -> dict[str, dict[str, str]]:
    """Primary key of the user's request counter for one minute (minutes since the epoch)."""
    return {"PK": {"S": user_pk(owner)}, "SK": {"S": f"{RPM_SK_PREFIX}{minute}"}}


def active_run_entry(thread_id: str, run_id: str) -> str:
    """The active-runs set's entry for one run."""
    return f"{thread_id}#{run_id}"


def parse_active_run_entry(entry: str) -> tuple[str, str]:
    """``(thread_id, run_id)`` of an active-runs entry."""
    thread_id, _, run_id = entry.rpartition("#")
    return thread_id, run_id


# --- deleted threads: tombstone and erase lease ----------------------------------------
#
# A tombstone keeps ``active_run_id`` and ``queue`` (the runs live at deletion, which the
# erase job cancels and waits for) and carries an erase lease like a run's worker lease:
# ``erase_holder`` is ``ERASE_HANDOFF`` while the job waits for a worker, else the request id
# of the invocation erasing; ``erase_until`` is when that claim lapses.

ERASE_HANDOFF: Final = "handoff"

TOMBSTONE: Final = (
    f"SET {DELETED_AT} = :now, deleted_by = :owner, erase_holder = :handoff, "
    "erase_until = :until, updated_at = :now "
    "REMOVE #owner, GSI1PK, GSI1SK, metadata_json, values_json, interrupts_json"
)
"""Turn a thread item into a tombstone (conditioned on ``OWNED``: a tombstone has no owner)."""

CLAIM_ERASE: Final = (
    f"attribute_exists({DELETED_AT}) AND "
    "(erase_holder IN (:handoff, :holder) OR erase_until < :now)"
)
"""An erase job takes the tombstone: handed over to it, already its own, or left by a dead job."""

ERASE_HELD: Final = f"attribute_exists({DELETED_AT}) AND erase_holder = :holder"
ERASE_STALE: Final = f"attribute_exists({DELETED_AT}) AND erase_until < :now"
HOLD_ERASE: Final = "SET erase_holder = :next, erase_until = :until"


# --- runs: deletion -------------------------------------------------------------------
#
# Only a run that has ended may be deleted: its executor (or its place in the thread's
# queue) still needs the item of a pending or running one to hand the thread on.

RUN_HAS_ENDED: Final = f"{OWNED} AND NOT ({RUN_IS_ACTIVE})"
"""The caller's run, in a final status."""
# --- crons ------------------------------------------------------------------------------
#
# A cron is one item in its own partition, listed per user through GSI1 next to the user's
# threads (``CRON#`` sort keys apart from ``THREAD#`` ones). ``next_run_date`` (ISO 8601, UTC)
# is a top-level attribute: the local stack's scheduler scans for due crons and claims each
# fire by moving it forward conditionally, so two schedulers never fire one cron twice. In
# the cloud an EventBridge Scheduler schedule per cron fires it instead.

CRON_SK: Final = "CRON"
CRON_PK_PREFIX: Final = "CRON#"
CRON_GSI1SK_PREFIX: Final = "CRON#"
CRON_IS_NEW: Final = "attribute_not_exists(PK)"
CRON_DUE: Final = "begins_with(PK, :prefix) AND enabled = :true AND next_run_date <= :now"
"""Scan filter: enabled crons whose next run is due (the local scheduler's)."""
CRON_NEXT_IS: Final = "attribute_exists(PK) AND next_run_date = :seen"
"""The next run date is still the one the claimer read: nobody fired it meanwhile."""
CRON_NEXT_DUE: Final = "attribute_exists(PK) AND next_run_date <= :now"
SET_CRON_NEXT: Final = "SET next_run_date = :next"


def cron_key(cron_id: str) -> dict[str, dict[str, str]]:
    """Primary key of a cron item."""
    return {"PK": {"S": f"{CRON_PK_PREFIX}{cron_id}"}, "SK": {"S": CRON_SK}}


def cron_gsi1sk(created_at: str, cron_id: str) -> str:
    """GSI1 sort key: a user's crons in creation order."""
    return f"{CRON_GSI1SK_PREFIX}{created_at}#{cron_id}"
# --- threads: metadata updates and time to live -----------------------------------------
#
# A thread with a TTL carries its expiry (epoch seconds), strategy and length on its item,
# and an *expiry entry* in one of a few sharded partitions, sorted by expiry, so the sweep
# finds the threads due with one Query per shard (no scan, no extra index). The thread item
# is the truth: an entry whose thread is gone or now expires at another time (a later PATCH)
# is stale and only dropped. The thread item deliberately does not use the table's TTL
# attribute: DynamoDB would delete it lazily and leave its checkpoints and runs behind, so
# the sweep erases an expired thread the way ``DELETE /threads/{tid}`` does. Entries expire
# by the table TTL a while after their time, in case no sweep ever reads them.

THREAD_EXPIRES_AT: Final = "thread_expires_at"
THREAD_TTL_STRATEGY: Final = "ttl_strategy"
THREAD_TTL_MINUTES: Final = "ttl_minutes"
EXPIRY_SHARDS: Final = 8
"""Partitions the expiry entries are spread over (a hot partition takes ~1000 writes/s)."""
EXPIRY_ENTRY_GRACE_SECONDS: Final = 7 * 24 * 3600
EXPIRY_WIDTH: Final = 12
"""Digits of an entry's expiry: zero-padded, so entries sort by time as strings."""

SET_THREAD_METADATA: Final = "SET metadata_json = :metadata, updated_at = :now"
SET_THREAD_TTL: Final = (
    f"{THREAD_EXPIRES_AT} = :expires, {THREAD_TTL_STRATEGY} = :strategy, "
    f"{THREAD_TTL_MINUTES} = :minutes"
)
"""Appended to a ``SET``; with ``delete`` also ``SET_GONE_AT``, else ``gone_at`` is removed."""
SET_GONE_AT: Final = f"{THREAD_GONE_AT} = :gone"
METADATA_UNCHANGED: Final = f"{OWNED} AND metadata_json = :seen"
"""Merge metadata read-modify-write: nobody changed it since it was read."""
EXPIRES_AS_INDEXED: Final = f"{OWNED} AND {THREAD_EXPIRES_AT} = :expires"
"""The thread still expires when its expiry entry says (a PATCH may have moved it)."""
CLEAR_THREAD_TTL: Final = (
    f"REMOVE {THREAD_EXPIRES_AT}, {THREAD_TTL_STRATEGY}, {THREAD_TTL_MINUTES}, {THREAD_GONE_AT}"
)


def expiry_pk(shard: int) -> str:
    """Partition of one shard of the thread expiry entries."""
    return f"THREAD_EXPIRY#{shard}"


def expiry_shard(thread_id: str) -> int:
    """The shard a thread's expiry entries go to (stable across processes)."""
    return zlib.crc32(thread_id.encode()) % EXPIRY_SHARDS


def expiry_sk(expires_at: int, thread_id: str) -> str:
    """Sort key of an expiry entry: when, then which thread."""
    return f"{expires_at:0{EXPIRY_WIDTH}d}#{thread_id}"


def expiry_sk_until(now: int) -> str:
    """Upper bound (inclusive) of the sort keys of entries due by ``now``."""
    return f"{now:0{EXPIRY_WIDTH}d}#~"


def expiry_key(thread_id: str, expires_at: int) -> dict[str, dict[str, str]]:
    """Primary key of a thread's expiry entry."""
    return {
        "PK": {"S": expiry_pk(expiry_shard(thread_id))},
        "SK": {"S": expiry_sk(expires_at, thread_id)},
    }


def parse_expiry_sk(sk: str) -> tuple[int, str]:
    """``(expires_at, thread_id)`` of an expiry entry's sort key."""
    expires_at, _, thread_id = sk.partition("#")
    return int(expires_at), thread_id

SET_THREAD_STATUS: Final = "SET #status = :status, updated_at = :now"
THREAD_AT_REST: Final = f"{OWNED} AND attribute_not_exists(active_run_id)"
"""No run is active: a state update may set the status (else the run's executor will)."""
# --- long-term memory store (LangGraph's BaseStore) -------------------------------------
#
# One partition per user holds that user's store items, apart from threads. The sort key is
# the namespace's labels joined by ``.`` then ``..`` then the key: labels are non-empty and
# hold no ``.``, so the first ``..`` ends the namespace (keys may hold anything), and the
# items under a namespace prefix are one ``begins_with`` on ``ITEM#<labels>.``. The
# namespace and key are also stored as attributes, so nothing parses the sort key.

KV_SK_PREFIX: Final = "ITEM#"
KV_NAMESPACE: Final = "store_namespace"
KV_KEY: Final = "store_key"
KV_TTL_MINUTES: Final = "ttl_minutes"
KV_SORT_KEY_BYTES: Final = 1024
"""DynamoDB's limit on a sort key; a namespace and key that do not fit are refused."""

KV_QUERY: Final = "PK = :pk AND begins_with(SK, :prefix)"
KV_NAMESPACE_PROJECTION: Final = f"PK, SK, {KV_NAMESPACE}, {TTL_ATTRIBUTE}"
_KV_SET: Final = (
    f"SET {KV_NAMESPACE} = :ns, {KV_KEY} = :key, value_json = :value, updated_at = :now, "
    "created_at = if_not_exists(created_at, :now)"
)
KV_PUT: Final = f"{_KV_SET} REMOVE {KV_TTL_MINUTES}, {TTL_ATTRIBUTE}"
"""Write an item without expiry (``created_at`` kept from an earlier put)."""
KV_PUT_WITH_TTL: Final = f"{_KV_SET}, {KV_TTL_MINUTES} = :minutes, {TTL_ATTRIBUTE} = :expires"
KV_REFRESH: Final = f"SET {TTL_ATTRIBUTE} = :expires"
KV_SAME_TTL: Final = f"attribute_exists(PK) AND {KV_TTL_MINUTES} = :minutes"
"""Refresh only the item that was read: not one deleted, or re-put with another TTL, since."""


def kv_pk(owner: str) -> str:
    """Partition of one user's store items."""
    return f"KV#{owner}"


def kv_sk_prefix(namespace_prefix: tuple[str, ...]) -> str:
    """Sort-key prefix of the items whose namespace starts with ``namespace_prefix``."""
    return KV_SK_PREFIX + "".join(f"{label}." for label in namespace_prefix)


def kv_key(owner: str, namespace: tuple[str, ...], key: str) -> dict[str, dict[str, str]]:
    """Primary key of a store item.

    Raises:
        InvalidInput: the namespace and key are too long for a DynamoDB sort key.
    """
    sk = f"{KV_SK_PREFIX}{'.'.join(namespace)}..{key}"
    if len(sk.encode()) > KV_SORT_KEY_BYTES:
        raise InvalidInput(
            f"The namespace and key together must stay under {KV_SORT_KEY_BYTES - 8} bytes"
        )
    return {"PK": {"S": kv_pk(owner)}, "SK": {"S": sk}}
# --- assistants -------------------------------------------------------------------------
#
# A user's assistant is one partition: the current record (``ASSISTANT``) and one item per
# version (``VERSION#<n>``, zero-padded so versions sort as numbers). The current record is
# listed under its owner on GSI1 (``ASSISTANT#<created_at>#<id>``, beside the owner's
# threads), so search reads one user's assistants with one Query. ``latest_version`` is
# the highest version ever written (a patch adds ``latest_version + 1``), apart from
# ``version``, the one set as current (``POST /assistants/{aid}/latest`` may go back).
# A graph's default assistant is no item: every process derives it from the graph.

ASSISTANT_SK: Final = "ASSISTANT"
ASSISTANT_VERSION_SK_PREFIX: Final = "VERSION#"
ASSISTANT_GSI1SK_PREFIX: Final = "ASSISTANT#"
ASSISTANT_VERSION_WIDTH: Final = 10

ASSISTANT_IS_NEW: Final = "attribute_not_exists(PK)"
"""Assistant ids are global (like thread ids): any user's assistant holds its id."""
ASSISTANT_AT_VERSION: Final = f"{OWNED} AND latest_version = :seen"
"""The caller's assistant, no other version written since the caller read it."""

PATCH_ASSISTANT: Final = (
    "SET graph_id = :graph_id, #name = :name, description_json = :description, "
    "config_json = :config, context_json = :context, metadata_json = :metadata, "
    "#version = :version, latest_version = :latest, updated_at = :now"
)
"""Make a version current (``:latest`` stays as it was when going back to an old one)."""


def assistant_pk(assistant_id: str) -> str:
    """Partition of one assistant and its versions."""
    return f"ASSISTANT#{assistant_id}"


def assistant_key(assistant_id: str) -> dict[str, dict[str, str]]:
    """Primary key of an assistant's current record."""
    return {"PK": {"S": assistant_pk(assistant_id)}, "SK": {"S": ASSISTANT_SK}}


def assistant_version_key(assistant_id: str, version: int) -> dict[str, dict[str, str]]:
    """Primary key of one version of an assistant."""
    sk = f"{ASSISTANT_VERSION_SK_PREFIX}{version:0{ASSISTANT_VERSION_WIDTH}d}"
    return {"PK": {"S": assistant_pk(assistant_id)}, "SK": {"S": sk}}


def assistant_gsi1sk(created_at: str, assistant_id: str) -> str:
    """GSI1 sort key: a user's assistants in creation order."""
    return f"{ASSISTANT_GSI1SK_PREFIX}{created_at}#{assistant_id}"
