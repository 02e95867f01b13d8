"""App-table items ⇄ records: the attribute layout of thread and run items."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

from lambdagraph.pricing import TOKEN_KEYS
from lambdagraph.store import bucket, schema
from lambdagraph.store.dynamo import get_j, get_list, get_s, j, s
from lambdagraph.store.records import (
    Run,
    RunStatus,
    Thread,
    ThreadStatus,
    Usage,
    run_graph_id,
)

Item = dict[str, Any]


def now_iso() -> str:
    """The current time as LangGraph Server writes it (ISO 8601, UTC offset)."""
    return datetime.now(UTC).isoformat()


def thread_item(thread: Thread, *, temporary: bool = False) -> Item:
    """The item for a new thread."""
    item: Item = {
        **schema.thread_key(thread["thread_id"]),
        "GSI1PK": s(schema.owner_gsi1pk(thread["owner"])),
        "GSI1SK": s(schema.thread_gsi1sk(thread["created_at"], thread["thread_id"])),
        "thread_id": s(thread["thread_id"]),
        "owner": s(thread["owner"]),
        "created_at": s(thread["created_at"]),
        "updated_at": s(thread["updated_at"]),
        "status": s(thread["status"]),
        "metadata_json": j(thread["metadata"]),
    }
    if thread.get("active_run_id"):
        item["active_run_id"] = s(cast(str, thread["active_run_id"]))
    if temporary:
        item["temporary"] = {"BOOL": True}
    return item


def thread_from_item(item: Mapping[str, Any]) -> Thread:
    """The thread record an item holds."""
    thread: Thread = {
        "thread_id": cast(str, get_s(item, "thread_id")),
        "created_at": cast(str, get_s(item, "created_at")),
        "updated_at": cast(str, get_s(item, "updated_at")),
        "metadata": {**get_j(item, "metadata_json", {}), **_run_stamp(item)},
        "status": cast(ThreadStatus, get_s(item, "status", "idle")),
        "values": get_j(item, "values_json", None),
        "interrupts": get_j(item, "interrupts_json", {}),
        "owner": cast(str, get_s(item, "owner")),
        "active_run_id": get_s(item, "active_run_id"),
        "usage": thread_usage(item),
    }
    return thread


USAGE_KEYS = (*TOKEN_KEYS, "cost_usd")
"""A thread's cumulative totals, one number attribute each (``usage_<key>``), so a run's
finish adds its own with DynamoDB's atomic ``ADD`` in the write it makes anyway."""


def thread_usage(item: Mapping[str, Any]) -> Usage:
    """The cumulative totals of a thread item's finished runs (zeros before the first)."""
    raw = {key: item.get(f"usage_{key}", {}).get("N", "0") for key in USAGE_KEYS}
    usage = {key: int(raw[key]) for key in USAGE_KEYS[:-1]}
    return cast(Usage, {**usage, "cost_usd": round(float(raw["cost_usd"]), 10)})


def usage_add(usage: Mapping[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """The ``ADD`` clause (leading space) and values adding a run's totals to its thread's;
    ``("", {})`` when there is nothing to add. An unknown cost adds nothing to the cost."""
    if not usage:
        return "", {}
    parts, values = [], {}
    for index, key in enumerate(USAGE_KEYS):
        amount = usage.get(key)
        if not amount:
            continue
        parts.append(f"usage_{key} :usage_add{index}")
        # Fixed-point: DynamoDB numbers take no exponent ("2.8e-05") in every implementation.
        text = str(amount) if isinstance(amount, int) else f"{amount:.10f}".rstrip("0")
        values[f":usage_add{index}"] = {"N": text.rstrip(".") or "0"}
    return (f" ADD {', '.join(parts)}", values) if parts else ("", {})


def _run_stamp(item: Mapping[str, Any]) -> dict[str, str]:
    # The graph and assistant of the thread's last run (see schema.STAMP_GRAPH_ID).
    stamp = {
        "graph_id": get_s(item, schema.STAMP_GRAPH_ID),
        "assistant_id": get_s(item, schema.STAMP_ASSISTANT_ID),
    }
    return {key: value for key, value in stamp.items() if value is not None}


def thread_queue(item: Mapping[str, Any]) -> list[str]:
    """Run ids waiting on the thread, oldest first."""
    return get_list(item, "queue")


def is_temporary(item: Mapping[str, Any]) -> bool:
    """Whether the thread exists only for one stateless run."""
    return bool(item.get("temporary", {}).get("BOOL", False))


def run_item(run: Run) -> Item:
    """The item for a new run; kwargs over the inline limit are referred to by S3 key (the
    store uploads them first, see ``AppTable._offload_kwargs``)."""
    kwargs = j(run["kwargs"])
    item: Item = {
        **schema.run_key(run["thread_id"], run["run_id"]),
        "run_id": s(run["run_id"]),
        "thread_id": s(run["thread_id"]),
        "assistant_id": s(run["assistant_id"]),
        "graph_id": s(run_graph_id(run)),
        "owner": s(run["owner"]),
        "created_at": s(run["created_at"]),
        "updated_at": s(run["updated_at"]),
        "status": s(run["status"]),
        "multitask_strategy": s(run["multitask_strategy"]),
        "metadata_json": j(run["metadata"]),
    }
    if len(kwargs["S"].encode()) > schema.RUN_KWARGS_INLINE_BYTES:
        item[schema.RUN_KWARGS_S3_ATTRIBUTE] = s(
            bucket.run_kwargs_key(run["thread_id"], run["run_id"])
        )
    else:
        item["kwargs_json"] = kwargs
    if run.get("temporary"):
        item["temporary"] = {"BOOL": True}
    return item


def offloaded_kwargs_key(item: Mapping[str, Any]) -> str | None:
    """The S3 key of a run item's kwargs when they were too large to keep in the item."""
    return get_s(item, schema.RUN_KWARGS_S3_ATTRIBUTE)


def run_from_item(item: Mapping[str, Any]) -> Run:
    """The run record an item holds."""
    run: Run = {
        "run_id": cast(str, get_s(item, "run_id")),
        "thread_id": cast(str, get_s(item, "thread_id")),
        "assistant_id": cast(str, get_s(item, "assistant_id")),
        "graph_id": cast(str, get_s(item, "graph_id") or get_s(item, "assistant_id")),
        "created_at": cast(str, get_s(item, "created_at")),
        "updated_at": cast(str, get_s(item, "updated_at")),
        "status": cast(RunStatus, get_s(item, "status")),
        "metadata": get_j(item, "metadata_json", {}),
        "multitask_strategy": cast(Any, get_s(item, "multitask_strategy", "enqueue")),
        "kwargs": get_j(item, "kwargs_json", {}),
        "owner": cast(str, get_s(item, "owner")),
        "cancel": cast(Any, get_s(item, "cancel")),
        "usage": get_j(item, "usage_json", None),
        "aws": get_j(item, "aws_json", None),
        "temporary": is_temporary(item),
    }
    subscribers = item.get(schema.SUBSCRIBERS_ATTRIBUTE, {}).get("SS")
    if subscribers:
        run["subscribers"] = sorted(subscribers)
    return run


def is_tombstone(item: Mapping[str, Any]) -> bool:
    """Whether a thread item is the tombstone of a deleted thread (still being erased)."""
    return schema.DELETED_AT in item


def is_thread_item(item: Mapping[str, Any]) -> bool:
    """Whether a partition item is the thread (not one of its runs)."""
    return get_s(item, "SK") == schema.THREAD_SK
