"""``AsyncDynamoDBSaver``: the async face of ``DynamoDBSaver``.

Each boto3 call runs in a worker thread (``asyncio.to_thread``), so the event loop never
blocks. We keep boto3 rather than aiobotocore on purpose: boto3 clients are thread-safe, one
AWS SDK serves both faces and the Lambda runtime, and aiobotocore pins botocore to a narrow
range that would fight boto3's. Calls are few (one per operation in the common case), so a
thread hop costs far less than the network round trip it wraps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from lambdagraph.store.checkpoint import DynamoDBSaver
from lambdagraph.store.checkpoint.steps import Emit, Outcome, Parallel, Plan, Sleep, Step

T = TypeVar("T")


class AsyncDynamoDBSaver(DynamoDBSaver):
    """``DynamoDBSaver`` with the async methods LangGraph uses in ``ainvoke``/``astream``.

    Same storage, guarantees and constructor as ``DynamoDBSaver`` (see there); the sync
    methods stay available (boto3 is synchronous, so no event-loop hop is needed).

    Example::

        saver = AsyncDynamoDBSaver.from_env()
        graph = builder.compile(checkpointer=saver)
        async for chunk in graph.astream(inputs, {"configurable": {"thread_id": "t1"}}):
            ...
    """

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """Async ``get_tuple``."""
        return await self._arun(self._get_tuple_plan(config))

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        """Async ``list``."""
        async for value in self._aiterate(self._list_plan(config, filter, before, limit)):
            yield value

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Async ``put``; raises ``CheckpointConflict`` when fenced off."""
        return await self._arun(self._put_plan(config, checkpoint, metadata, new_versions))

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Async ``put_writes``."""
        await self._arun(self._put_writes_plan(config, writes, task_id, task_path))

    async def adelete_thread(self, thread_id: str) -> None:
        """Async ``delete_thread``."""
        await self._arun(self._delete_thread_plan(thread_id))

    async def adelete_thread_batch(self, thread_id: str, *, max_items: int = 1000) -> bool:
        """Async ``delete_thread_batch``."""
        return await self._arun(self._delete_thread_batch_plan(thread_id, max_items))

    async def acopy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Async ``copy_thread``."""
        await self._arun(self._copy_thread_plan(source_thread_id, target_thread_id))

    async def aprune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Async ``prune``."""
        await self._arun(self._prune_plan(thread_ids, strategy))

    async def adelete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Async ``delete_for_runs``."""
        await self._arun(self._delete_for_runs_plan(run_ids))

    # -- the async driver -----------------------------------------------------------------

    async def _arun(self, plan: Plan[T]) -> T:
        try:
            step = next(plan)
            while True:
                step = self._resume(plan, await self._aexecute(step))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except ClientError as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc

    async def _aiterate(self, plan: Plan[None]) -> AsyncIterator[Any]:
        try:
            step = next(plan)
            while True:
                if isinstance(step, Emit):
                    yield step.value
                    step = plan.send(None)
                else:
                    step = self._resume(plan, await self._aexecute(step))
        except StopIteration:
            return
        except ClientError as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            plan.close()

    async def _aexecute(self, step: Step) -> Outcome:
        if isinstance(step, Sleep):
            await asyncio.sleep(step.seconds)
            return None
        if isinstance(step, Parallel):
            return list(
                await asyncio.gather(*(asyncio.to_thread(self._attempt, c) for c in step.calls))
            )
        if isinstance(step, Emit):
            raise TypeError("this plan emits values; iterate it instead")
        return await asyncio.to_thread(self._attempt, step)
