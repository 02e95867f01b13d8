"""Key formats, attribute names and expressions of the app table, in one place."""

from __future__ import annotations

from typing import Final

TTL_ATTRIBUTE: Final = "expires_at"
"""The attribute DynamoDB TTL reads on every table (``template.yaml``)."""

# --- Durable runs: event log, worker attempts and leases (owned by the `durable` branch) ---

EVENT_ID_WIDTH: Final = 10
"""Digits in an event id: zero-padded, so ids sort the same as strings and as numbers."""


def event_log_pk(run_id: str) -> str:
    """Partition of a run's event log (apart from the thread's items: it is write-hot)."""
    return f"EVENTS#{run_id}"


def event_log_sk(last_seq: int, part: int) -> str:
    """Sort key of a log item: the id of its last event, then its part number."""
    return f"{last_seq:0{EVENT_ID_WIDTH}d}#{part:03d}"


def event_log_sk_after(after: int) -> str:
    """Lower bound (inclusive) of the sort keys of items holding events after ``after``."""
    return f"{after + 1:0{EVENT_ID_WIDTH}d}"
