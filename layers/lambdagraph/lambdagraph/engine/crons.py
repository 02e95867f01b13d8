"""Crons: recurring background runs, as LangGraph Server's ``/runs/crons`` routes define them.

Semantics checked against langgraph-api 0.16.7 (its source: ``api/runs.py``,
``langgraph_runtime_inmem.ops.Crons``, ``cron_scheduler.py``; and side by side with
``langgraph dev``): a cron's ``payload`` is the create body (its
``config.configurable.cron_id`` set); a thread cron runs on its thread, a stateless one on a
new thread each time, deleted after the run unless ``on_run_completed="keep"``; the run's
metadata is the cron's metadata under the payload's; ``PATCH`` merges ``metadata`` and the
payload shallowly and keeps ``assistant_id``; an empty ``PATCH`` is a 400; search sorts by
``created_at`` descending unless told otherwise; an unknown cron is 404
``Cron '<id>' not found``; search and count take assistant and thread ids only as UUIDs
(422 otherwise); deleting a thread deletes its crons (not yet here: see
:meth:`CronService.delete_for_thread`). We record ``user_id`` as the owner
(``langgraph dev`` without auth says ``""``) and refuse a body without ``schedule`` with 422
(``langgraph dev`` drops the connection).

What fires a cron is a :class:`Schedules` implementation: in the cloud
:class:`EventBridgeSchedules` keeps one EventBridge Scheduler schedule per cron, invoking
the worker with a ``cron`` payload; on the local stack a scheduler scans the table for due
crons and invokes the same worker payload. Either way :func:`fire` turns the payload into an
ordinary background run.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError

from lambdagraph.engine import crontab
from lambdagraph.engine.assistants import AssistantService
from lambdagraph.engine.requests import STRICT, RunConfig, RunRequest, describe_errors
from lambdagraph.engine.schedules import Schedules
from lambdagraph.errors import InvalidInput, LambdagraphError, NotFound
from lambdagraph.store import schema
from lambdagraph.store.crons import Cron, CronStore
from lambdagraph.store.items import now_iso

if TYPE_CHECKING:
    from lambdagraph.engine.runs import RunService
    from lambdagraph.store.app import AppStore

logger = logging.getLogger(__name__)

CronSort = Literal[
    "cron_id", "assistant_id", "thread_id", "created_at", "updated_at", "next_run_date", "end_time"
]
CRON_FIELDS: tuple[str, ...] = tuple(Cron.__annotations__)
_CRON_ONLY = ("schedule", "end_time", "enabled", "timezone", "on_run_completed")
_KEPT_ON_PATCH = ("assistant_id",)


class CronCreate(RunRequest):
    """``POST /runs/crons`` and ``/threads/{tid}/runs/crons``: a run request plus when."""

    schedule: str = Field(min_length=1, max_length=256)
    end_time: datetime | None = Field(default=None, strict=False)
    enabled: bool = True
    timezone: str | None = None
    on_run_completed: Literal["delete", "keep"] | None = None


class CronPatch(BaseModel):
    """``PATCH /runs/crons/{cid}``: every field optional; ``end_time: null`` clears it."""

    model_config = STRICT
    schedule: str | None = Field(default=None, min_length=1, max_length=256)
    end_time: datetime | None = Field(default=None, strict=False)
    enabled: bool | None = None
    timezone: str | None = None
    on_run_completed: Literal["delete", "keep"] | None = None
    input: Any = None
    metadata: dict[str, Any] | None = None
    config: RunConfig | None = None
    context: dict[str, Any] | None = None
    webhook: str | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    stream_mode: str | list[str] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None


def _validated_run(payload: dict[str, Any]) -> RunRequest:
    try:
        return RunRequest.model_validate({k: v for k, v in payload.items() if k not in _CRON_ONLY})
    except ValidationError as exc:
        raise InvalidInput(describe_errors(exc.errors())) from None


def _without_cron_id(payload: dict[str, Any]) -> dict[str, Any]:
    config = dict(payload.get("config") or {})
    configurable = {k: v for k, v in (config.get("configurable") or {}).items() if k != "cron_id"}
    if configurable:
        config["configurable"] = configurable
    else:
        config.pop("configurable", None)
    return (
        {**payload, "config": config}
        if config
        else {k: v for k, v in payload.items() if k != "config"}
    )


def _with_cron_id(payload: dict[str, Any], cron_id: str) -> dict[str, Any]:
    # LangGraph Server records the cron id in the payload's configurable (not beside context,
    # which a run may not combine with configurable).
    if payload.get("context"):
        return payload
    config = dict(payload.get("config") or {})
    config["configurable"] = {**(config.get("configurable") or {}), "cron_id": cron_id}
    return {**payload, "config": config}


class CronService:
    """Create, change, delete and list the caller's crons.

    Args:
        store: the cron items.
        app: threads (a thread cron's thread must be the caller's).
        assistants: the caller's assistants (a cron's must be a default one or theirs).
        schedules: what fires crons.
        clock: now, in UTC (tests move it).
    """

    def __init__(
        self,
        store: CronStore,
        app: AppStore,
        assistants: AssistantService,
        schedules: Schedules,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.app = app
        self.assistants = assistants
        self.schedules = schedules
        self.clock = clock

    async def create(self, owner: str, body: CronCreate, *, thread_id: str | None) -> Cron:
        """Record a cron and schedule it; nothing is kept if scheduling fails.

        Raises:
            InvalidInput: a malformed schedule, one EventBridge cannot express, a bad timezone.
            NotFound: unknown assistant, or (thread cron) unknown or another user's thread.
        """
        schedule = crontab.normalize(body.schedule)
        crontab.to_eventbridge(schedule)  # the same schedule must be deployable in the cloud
        timezone = crontab.check_timezone(body.timezone)
        # LangGraph records the assistant's id, a graph name becoming its default assistant.
        assistant = (await self.assistants.get(owner, body.assistant_id))["assistant_id"]
        if thread_id is not None:
            await self.app.get_thread(owner, thread_id)
        cron_id = str(uuid.uuid4())
        payload = _with_cron_id(body.model_dump(mode="json", exclude_unset=True), cron_id)
        payload["schedule"] = body.schedule
        payload["assistant_id"] = assistant
        now = now_iso()
        cron: Cron = {
            "cron_id": cron_id,
            "assistant_id": assistant,
            "thread_id": thread_id,
            "user_id": owner,
            "schedule": body.schedule,
            "timezone": timezone,
            "end_time": _iso(body.end_time),
            "payload": payload,
            "metadata": dict(body.metadata or {}),
            "on_run_completed": None if thread_id else (body.on_run_completed or "delete"),
            "enabled": body.enabled,
            "next_run_date": _iso(crontab.next_run(schedule, self.clock(), timezone)),
            "created_at": now,
            "updated_at": now,
        }
        await self.store.create(owner, cron)
        try:
            await self.schedules.put(owner, cron, new=True)
        except Exception:
            await self.store.delete(owner, cron_id)
            raise
        return cron

    async def update(self, owner: str, cron_id: str, patch: CronPatch) -> Cron:
        """Apply ``patch`` (LangGraph's merge rules, module doc) and reschedule.

        Raises:
            NotFound: unknown or another user's cron.
            InvalidInput: a malformed schedule or timezone, or a payload no run accepts.
        """
        cron = await self.store.get(owner, cron_id)
        fields = patch.model_dump(mode="json", exclude_unset=True)
        updated: Cron = {**cron}
        if "schedule" in fields and fields["schedule"] is not None:
            crontab.to_eventbridge(fields["schedule"])
            updated["schedule"] = fields["schedule"]
        if fields.get("timezone") is not None:
            updated["timezone"] = crontab.check_timezone(fields["timezone"])
        if "end_time" in fields:
            updated["end_time"] = _iso(patch.end_time)
        for name in ("enabled", "on_run_completed"):
            if fields.get(name) is not None:
                updated[name] = fields[name]
        if fields.get("metadata") is not None:
            updated["metadata"] = {**cron["metadata"], **fields["metadata"]}
        run_fields = {k: v for k, v in fields.items() if k not in _CRON_ONLY and v is not None}
        # Without the cron id first: a patch may add ``context``, which excludes configurable.
        payload = {**_without_cron_id(cron["payload"]), **run_fields}
        for name in _KEPT_ON_PATCH:
            payload[name] = cron["payload"].get(name, payload.get(name))
        payload["schedule"] = updated["schedule"]
        _validated_run(payload)
        updated["payload"] = _with_cron_id(payload, cron_id)
        if updated["schedule"] != cron["schedule"] or updated["timezone"] != cron["timezone"]:
            first = crontab.next_run(updated["schedule"], self.clock(), updated["timezone"])
            updated["next_run_date"] = _iso(first)
        updated["updated_at"] = now_iso()
        await self.schedules.put(owner, updated, new=False)
        await self.store.replace(owner, updated)
        return updated

    async def delete(self, owner: str, cron_id: str) -> None:
        """Delete the cron and its schedule; ``NotFound`` if unknown or another user's."""
        await self.store.delete(owner, cron_id)
        await self.schedules.delete(cron_id)

    async def delete_for_thread(self, owner: str, thread_id: str) -> None:
        """Delete the crons of a thread being deleted (LangGraph cascades them).

        Not called yet: ``DELETE /threads/{tid}`` makes one write and no read, so the
        cascade belongs in the thread's erase job, which needs the schedules' permissions.
        """
        for cron in await self.store.owned(owner):
            if cron["thread_id"] == thread_id:
                try:
                    await self.delete(owner, cron["cron_id"])
                except NotFound:
                    continue  # deleted meanwhile

    async def search(
        self,
        owner: str,
        *,
        assistant_id: str | None = None,
        thread_id: str | None = None,
        enabled: bool | None = None,
        metadata: dict[str, Any] | None = None,
        keep: Callable[[Cron], bool] = lambda _: True,
        sort_by: CronSort | None = None,
        sort_order: Literal["asc", "desc"] | None = None,
    ) -> list[Cron]:
        """The owner's crons matching every filter given, sorted (newest first by default)."""
        found = [
            c
            for c in await self.store.owned(owner)
            if (assistant_id is None or c["assistant_id"] == assistant_id)
            and (thread_id is None or c["thread_id"] == thread_id)
            and (enabled is None or c["enabled"] == enabled)
            and all(c["metadata"].get(k) == v for k, v in (metadata or {}).items())
            and keep(c)
        ]
        key = sort_by or "created_at"
        reverse = (sort_order or "desc").lower() != "asc"
        # LangGraph sorts missing values first ascending (datetime.min), ids as strings.
        found.sort(key=lambda c: str(c.get(key) or ""), reverse=reverse)
        return found


async def fire(
    owner: str, cron_id: str, store: AppStore, runs: RunService, *, now: datetime | None = None
) -> str:
    """Start the background run of a ``cron`` worker payload; returns what happened.

    A cron deleted, disabled or past its end time starts nothing (a schedule may fire once
    more while being deleted or changed).
    """
    crons = CronStore(store.table_name, client=store.client)
    now = now or datetime.now(UTC)
    try:
        cron = await crons.get(owner, cron_id)
    except Exception as exc:  # noqa: BLE001 - a gone cron is an expected race, not a fault
        logger.info("cron %s not fired: %s", cron_id, exc)
        return "cron-gone"
    if not cron["enabled"]:
        return "cron-disabled"
    if cron["end_time"] and datetime.fromisoformat(cron["end_time"]) < now:
        return "cron-ended"
    stamp = now.astimezone(UTC).isoformat()
    following = crontab.next_run(cron["schedule"], now, cron["timezone"]).isoformat()
    # In the cloud nobody else moves next_run_date; the local scheduler already moved it.
    await crons.move_next_run(cron_id, schema.CRON_NEXT_DUE, stamp, following)
    request = _validated_run(_run_payload(cron))
    thread_id = cron["thread_id"]
    if thread_id is None and cron["on_run_completed"] == "keep":
        # LangGraph gives a kept stateless cron run a new thread of its own, left in place.
        kept = await store.create_thread(owner, metadata=request.metadata)
        thread_id = kept["thread_id"]
    try:
        run = await runs.start(owner, request, thread_id=thread_id)
    except LambdagraphError as exc:
        # The thread is gone or busy (``reject``), a limit is reached...: this fire starts
        # nothing, as LangGraph's scheduler logs and moves on. Failing the invocation would
        # only make Lambda retry it.
        logger.warning("cron %s started no run: %s", cron_id, exc.message)
        return "cron-refused"
    logger.info("cron %s fired run %s", cron_id, run["run_id"])
    return "cron-fired"


def _run_payload(cron: Cron) -> dict[str, Any]:
    payload = dict(cron["payload"])
    payload["metadata"] = {**cron["metadata"], **(payload.get("metadata") or {})}
    return payload


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


__all__ = [
    "CRON_FIELDS",
    "CronCreate",
    "CronPatch",
    "CronService",
    "fire",
]
