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
event batch     ``RUN#<run_id>``         ``EVENTS#<first_id>``   (later: the event log)
==============  =======================  ======================  ============================

Runs live in their thread's partition, so one query reads a thread and its runs. Run ids are
UUIDv6 (time-ordered), so ``RUN#…`` sort keys order runs by creation; ``RUN#`` sorts before
``THREAD``, so a descending query returns the thread item first, then runs newest first.

Thread ids are global (the checkpoints table is keyed by thread id alone), so a thread item
is created with ``attribute_not_exists(PK)`` and ownership is the ``owner`` attribute,
checked in every write's condition and on every read.

Nested documents (metadata, run kwargs, values, interrupts, usage) are stored as JSON strings:
nothing queries inside them, and JSON keeps floats and nulls exact where DynamoDB maps would
need ``Decimal`` conversions.
"""

from __future__ import annotations

import re
from typing import Any, Final, Mapping

GSI1: Final = "GSI1"
TTL_ATTRIBUTE: Final = "expires_at"

THREAD_SK: Final = "THREAD"
RUN_SK_PREFIX: Final = "RUN#"
CONNECTION_SK: Final = "CONN"
EVENTS_SK_PREFIX: Final = "EVENTS#"

# Attribute names that are DynamoDB reserved words, aliased in every expression.
NAMES: Final[dict[str, str]] = {
    "#status": "status",
    "#queue": "queue",
    "#owner": "owner",
    "#values": "values",
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


def owner_gsi1pk(owner: str) -> str:
    """GSI1 partition listing one user's threads."""
    return f"OWNER#{owner}"


def thread_gsi1sk(created_at: str, thread_id: str) -> str:
    """GSI1 sort key: a user's threads in creation order."""
    return f"THREAD#{created_at}#{thread_id}"


def connection_pk(connection_id: str) -> str:
    """Partition of a WebSocket connection item (used by the WebSocket API)."""
    return f"CONN#{connection_id}"


def events_pk(run_id: str) -> str:
    """Partition of a run's event-log batches (used by the event log)."""
    return f"RUN#{run_id}"


def events_sk(first_event_id: int) -> str:
    """Sort key of an event batch; zero-padded so batches sort by their first event id."""
    return f"{EVENTS_SK_PREFIX}{first_event_id:012d}"


# --- conditions -------------------------------------------------------------------------

THREAD_IS_NEW: Final = "attribute_not_exists(PK)"
"""Create a thread only if no thread (of any user) has that id."""

RUN_IS_NEW: Final = "attribute_not_exists(PK)"

OWNED: Final = "attribute_exists(PK) AND #owner = :owner"
"""The item exists and belongs to the caller."""

THREAD_IDLE: Final = (
    "attribute_exists(PK) AND #owner = :owner AND attribute_not_exists(active_run_id)"
    " AND (attribute_not_exists(#queue) OR size(#queue) = :zero)"
)
"""A run may start at once: the caller's thread, no active run, nobody waiting."""

THREAD_ACTIVE_IS: Final = "attribute_exists(PK) AND #owner = :owner AND active_run_id = :active"
"""The thread's active run is still the one the caller saw."""

THREAD_ACTIVE_IS_ME: Final = "active_run_id = :run_id"
THREAD_QUEUE_EMPTY: Final = "(attribute_not_exists(#queue) OR size(#queue) = :zero)"
THREAD_QUEUE_HEAD_IS: Final = "#queue[0] = :next"

RUN_IS_ACTIVE: Final = "#status IN (:pending, :running)"
RUN_IS_PENDING: Final = "#status = :pending"
RUN_IS_RUNNING: Final = "#status = :running"

# --- updates ----------------------------------------------------------------------------

START_RUN: Final = "SET active_run_id = :run_id, #status = :busy, updated_at = :now"
ENQUEUE_RUN: Final = (
    "SET #queue = list_append(if_not_exists(#queue, :empty), :run_ids), updated_at = :now"
)
REPLACE_QUEUE: Final = "SET #queue = :run_ids, updated_at = :now"
SET_CANCEL: Final = "SET cancel = :action, updated_at = :now"
SET_RUN_STATUS: Final = "SET #status = :status, updated_at = :now"
FINISH_RUN: Final = "SET #status = :status, updated_at = :now, usage_json = :usage"
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
