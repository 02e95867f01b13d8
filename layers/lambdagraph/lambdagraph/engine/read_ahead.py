"""Reading a thread's latest checkpoint while its run is being recorded.

A streamed run's first token waited for two DynamoDB round trips in a row: the transaction
that records the run (``AppStore.create_run``), then the graph's read of the thread's latest
checkpoint when it starts. The read depends only on the thread id, so :class:`ReadAhead`
starts it beside the transaction and answers the graph's first ``aget_tuple`` with it: one
round trip less before the first token, and no extra request (it is the graph's own read).

Why an early read cannot fork a thread: it can only be older than the transaction if a
checkpoint was written between the two, and on a thread the transaction finds idle that is
a run that ended in that moment (LangGraph saves a run's last checkpoint before the run is
recorded ended) or an ``update_state`` in that moment. Either saved a child of the checkpoint
read early; the new run's first checkpoint is a child of the same parent, and the DynamoDB
saver's fence refuses a second child (``CheckpointConflict``): the run ends with an error,
history stays linear. So only a saver that fences is read ahead (:func:`fences`); a run that
waits its turn reads afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import BaseCheckpointSaver, CheckpointTuple

from lambdagraph.pricing.aws_meter import AwsUse, metering


def fences(saver: BaseCheckpointSaver[Any] | None) -> bool:
    """Whether ``saver`` refuses a second child of a checkpoint (our DynamoDB saver does)."""
    if saver is None:
        return False
    from lambdagraph.store.checkpoint import BaseDynamoDBSaver  # loaded with the saver anyway

    return isinstance(saver, BaseDynamoDBSaver)


class ReadAhead:
    """The latest root checkpoint of one thread, being read in the background.

    Start it before recording the run; then either :meth:`bind` it to the run's saver (the
    run was recorded ``running``) or :meth:`discard` it. The read's DynamoDB use is metered
    apart (the run's meter does not exist yet) and goes to the run's when the graph takes it.
    """

    def __init__(self, saver: BaseCheckpointSaver[Any], thread_id: str) -> None:
        self.thread_id = thread_id
        self.use = AwsUse()
        config: RunnableConfig = {"configurable": {"thread_id": thread_id, "checkpoint_ns": ""}}
        with metering(self.use):  # the task inherits the meter
            self._task = asyncio.ensure_future(saver.aget_tuple(config))
        self._task.add_done_callback(_retrieve)

    def discard(self) -> None:
        """The run was not recorded or must read afresh: drop the read."""
        self._task.cancel()

    def bind(
        self, saver: BaseCheckpointSaver[Any], use: AwsUse | None = None
    ) -> BaseCheckpointSaver[Any]:
        """``saver`` for this run: its first read of the thread's latest checkpoint is this one.

        Every other call (and any later read) goes to ``saver`` itself; the copy shares its
        clients and settings. ``use``: the run's meter, which the read is added to.
        """
        task, thread_id, read_use = self._task, self.thread_id, self.use
        served = False
        original = saver.aget_tuple

        async def aget_tuple(config: RunnableConfig) -> CheckpointTuple | None:
            nonlocal served
            configurable = config.get("configurable") or {}
            latest = not configurable.get("checkpoint_id") and not configurable.get(
                "checkpoint_ns"
            )
            if served or not latest or configurable.get("thread_id") != thread_id:
                return await original(config)
            served = True
            result = await task
            if use is not None:
                use.absorb(read_use)
            return result

        bound = copy.copy(saver)
        bound.aget_tuple = aget_tuple  # type: ignore[method-assign]
        return bound


def _retrieve(task: asyncio.Future[Any]) -> None:
    # A discarded or failed read nobody awaits must not be logged as never retrieved; a
    # failure the run does await is raised there.
    with contextlib.suppress(BaseException):
        task.exception()
