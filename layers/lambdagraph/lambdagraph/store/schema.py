"""Key formats, attribute names and expressions of the app table, in one place."""

from __future__ import annotations

from typing import Final

TTL_ATTRIBUTE: Final = "expires_at"
"""The attribute DynamoDB TTL reads on every table (``template.yaml``)."""

# --- Durable runs: event log and worker lease (maintained with the `durable` branch) ------
#
# ==============  =======================  ==================================
# item            PK                       SK
# ==============  =======================  ==================================
# event batch     ``RUN#<run_id>``         ``EVENTS#<last_event_id>#<part>``
# worker lease    ``RUN#<run_id>``         ``WORKER``
# ==============  =======================  ==================================
#
# An event batch is keyed by its *last* event id, so the batches holding events after id X
# are exactly those with ``SK >= EVENTS#<X+1>``: one Query, no scan back to a batch start.

EVENT_ID_WIDTH: Final = 10
"""Digits in an event id: zero-padded, so ids sort the same as strings and as numbers."""

EVENT_BATCH_SK_PREFIX: Final = "EVENTS#"
EVENT_BATCH_SK_END: Final = "EVENTS#~"
"""Upper bound of every event-batch sort key (``~`` sorts after every digit)."""

WORKER_SK: Final = "WORKER"


def run_events_pk(run_id: str) -> str:
    """Partition of a run's event batches and worker lease (apart from its write-hot thread)."""
    return f"RUN#{run_id}"


def event_batch_sk(last_seq: int, part: int) -> str:
    """Sort key of an event batch item: the id of its last event, then its part number."""
    return f"{EVENT_BATCH_SK_PREFIX}{last_seq:0{EVENT_ID_WIDTH}d}#{part:03d}"


def event_batch_sk_after(after: int) -> str:
    """Lower bound (inclusive) of the sort keys of batches holding events after ``after``."""
    return f"{EVENT_BATCH_SK_PREFIX}{after + 1:0{EVENT_ID_WIDTH}d}"


def worker_key(run_id: str) -> dict[str, dict[str, str]]:
    """Primary key of a run's worker lease item (attempt number, holder, lease expiry)."""
    return {"PK": {"S": run_events_pk(run_id)}, "SK": {"S": WORKER_SK}}


CLAIM_FIRST_ATTEMPT: Final = "attribute_not_exists(PK)"
"""Attempt 1 of a run is claimed once: a duplicated or retried invocation finds the item."""

CLAIM_NEXT_ATTEMPT: Final = "attempt = :previous"
"""Attempt n is claimed once, and only from attempt n - 1 (which handed the run over)."""

LEASE_HELD: Final = "attempt = :attempt"
"""The caller's attempt still holds the run."""

LEASE_STALE: Final = "attempt = :attempt AND lease_until < :now"
"""The attempt holding the run stopped renewing its lease: its worker is gone."""
