"""LangGraph checkpoint savers on DynamoDB (with S3 for large items): sync and async.

Usage::

    from lambdagraph.store.checkpoint import AsyncDynamoDBSaver, DynamoDBSaver
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
)

from lambdagraph.errors import CheckpointConflict
from lambdagraph.store.checkpoint.base import BaseDynamoDBSaver
from lambdagraph.store.checkpoint.steps import Emit, Outcome, Parallel, Plan, Sleep, Step

__all__ = ["AsyncDynamoDBSaver", "BaseDynamoDBSaver", "CheckpointConflict", "DynamoDBSaver"]

T = TypeVar("T")
_POOL_SIZE = 8  # well below the 50 pooled connections of every client (lambdagraph.aws)
_POOL_LOCK = threading.Lock()


class DynamoDBSaver(BaseDynamoDBSaver):
    """A LangGraph checkpoint saver on one DynamoDB table, with S3 for large items.

    Guarantees:

    * **One round trip per operation** in the common case: a checkpoint, its channel values
      and its pending writes share one partition and one key prefix, so ``get_tuple`` is one
      ``Query``, ``put`` one write, ``put_writes`` one ``UpdateItem`` (a task's writes share
      an item).
    * **Pending writes** come back in ``(task_path, task_id, idx)`` order. Special channels
      (``__error__``, ``__scheduled__``, ``__interrupt__``, ``__resume__``) use LangGraph's
      negative indices and are replaced when written again; a regular write that already
      exists is kept (``if_not_exists``), exactly like ``InMemorySaver``. A task's writes
      land all or nothing: one item holds up to 64, more go in one transaction (up to 6,400
      writes / 4 MB per call). A task cancelled mid-way (``CancelledError`` among its
      writes) keeps only its special writes, so it reads as unfinished and runs again
      (``items.without_cut_output``; LangGraph would read its partial output as finished).
    * **Fencing.** A checkpoint saved by the graph advancing a thread (metadata ``source``
      ``"input"`` or ``"loop"``) must be the first child of its parent checkpoint, in the
      same namespace. Two invocations resuming a thread from the same checkpoint race for
      that slot in one transaction: exactly one wins, the other gets
      ``lambdagraph.errors.CheckpointConflict`` and history never forks. Explicit branches
      stay possible: ``update_state`` (``"update"``) and time travel (LangGraph saves a
      ``"fork"`` checkpoint when replaying from an older ``checkpoint_id``) may add a sibling
      — they still take a free slot, so a run racing them from the same parent is fenced.
      Subgraphs are fenced per namespace the same way. A root checkpoint (no parent) is not
      fenced. Resuming an interrupt with an explicit ``checkpoint_id`` the thread has moved
      past is refused too (LangGraph would save plain ``"loop"`` children there and fork
      silently): replay it (``invoke(None, config)``, saved as a ``"fork"``) or
      ``update_state`` it, then resume the new branch. Pending writes are not fenced: the
      loser's writes may remain on the shared parent, under LangGraph's own rules above.
    * **TTL** (off by default): every item gets ``expires_at`` = write time + ``ttl_seconds``;
      items past it are never returned, even before DynamoDB deletes them. DynamoDB's TTL
      does not reach S3: give the bucket a lifecycle rule of at least the same age.
    * **S3 offload**: an item over ``offload_threshold_bytes`` keeps its keys and metadata in
      DynamoDB and its payload in ``bucket`` (written first, so no item points at nothing).
      ``delete_thread`` removes the thread's objects; ``prune``/``delete_for_runs`` remove
      those of deleted items.
    * **Any serde**: every value goes through ``self.serde`` (``EncryptedSerializer``
      included) and ``with_allowlist()`` (``LANGGRAPH_STRICT_MSGPACK``) is honoured.

    Channel values are stored whole with each checkpoint (no per-version blobs): one read
    restores a checkpoint, at the price of storing unchanged channels again. Storage format
    2 (see ``schema``); items of format 1 are still read.

    Args:
        table_name: the checkpoints table (``CheckpointsTable`` in ``template.yaml``).
        client: a boto3 DynamoDB client; built when omitted.
        serde: serializer; LangGraph's ``JsonPlusSerializer`` by default.
        bucket: S3 bucket for oversized items; without one they raise ``ConfigurationError``.
        s3_client: a boto3 S3 client; built when omitted and ``bucket`` is set.
        ttl_seconds: item lifetime; ``None`` keeps items forever.
        offload_threshold_bytes: item size above which the payload goes to S3.
        clock: seconds since the epoch, for TTL (tests pass a fake).
        boto_config: ``botocore.config.Config`` for the clients built here, merged over
            ``lambdagraph.aws.CLIENT_CONFIG``.

    ``from_env()`` reads ``LAMBDAGRAPH_CHECKPOINT_TABLE``, ``LAMBDAGRAPH_CHECKPOINT_BUCKET``
    and ``LAMBDAGRAPH_CHECKPOINT_TTL_SECONDS`` (through ``lambdagraph.settings.Settings``).

    Raises:
        ConfigurationError: bad options, an oversized item without a bucket, or a table or
            bucket that does not exist.

    Example::

        saver = DynamoDBSaver.from_env()
        graph = builder.compile(checkpointer=saver)
        graph.invoke(inputs, {"configurable": {"thread_id": "t1"}})
    """

    _pool: ThreadPoolExecutor | None = None

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint ``config`` names, or the newest of its thread and namespace."""
        return self._run(self._get_tuple_plan(config))

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        """Checkpoints newest first: of a thread (one namespace if given), or of all threads."""
        yield from self._iterate(self._list_plan(config, filter, before, limit))

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """Save a checkpoint as the child of ``config``'s checkpoint.

        Raises:
            CheckpointConflict: another writer already advanced the thread from that parent.
        """
        return self._run(self._put_plan(config, checkpoint, metadata, new_versions))

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        """Save a task's pending writes on ``config``'s checkpoint, atomically."""
        self._run(self._put_writes_plan(config, writes, task_id, task_path))

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint, write and S3 payload of a thread."""
        self._run(self._delete_thread_plan(thread_id))

    def delete_thread_batch(self, thread_id: str, *, max_items: int = 1000) -> bool:
        """Delete up to ``max_items`` of a thread's items (or, once they are gone, a page of
        its S3 payloads); True when nothing of the thread is left.

        The bounded step of ``delete_thread``: a caller with a deadline (the thread-erase job)
        calls it until it returns True, and may stop and resume at any point.
        """
        return self._run(self._delete_thread_batch_plan(thread_id, max_items))

    def copy_thread(self, source_thread_id: str, target_thread_id: str) -> None:
        """Copy every checkpoint and write (and S3 payload) of a thread to another."""
        self._run(self._copy_thread_plan(source_thread_id, target_thread_id))

    def prune(self, thread_ids: Sequence[str], *, strategy: str = "keep_latest") -> None:
        """Keep only the newest checkpoint per namespace (``keep_latest``) or none (``delete``)."""
        self._run(self._prune_plan(thread_ids, strategy))

    def delete_for_runs(self, run_ids: Sequence[str]) -> None:
        """Delete the checkpoints (and their writes) whose metadata ``run_id`` is listed."""
        self._run(self._delete_for_runs_plan(run_ids))

    # -- the blocking driver ------------------------------------------------------------------

    def _run(self, plan: Plan[T]) -> T:
        try:
            step = next(plan)
            while True:
                step = self._resume(plan, self._execute(step))
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except ClientError as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc

    def _iterate(self, plan: Plan[None]) -> Iterator[Any]:
        try:
            step = next(plan)
            while True:
                if isinstance(step, Emit):
                    yield step.value
                    step = plan.send(None)
                else:
                    step = self._resume(plan, self._execute(step))
        except StopIteration:
            return
        except ClientError as exc:
            error = self._translate(exc)
            if error is None:
                raise
            raise error from exc
        finally:
            plan.close()

    def _execute(self, step: Step) -> Outcome:
        if isinstance(step, Sleep):
            time.sleep(step.seconds)
            return None
        if isinstance(step, Parallel):
            with _POOL_LOCK:  # LangGraph calls a saver from several threads at once
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(_POOL_SIZE, thread_name_prefix="checkpoint")
            return list(self._pool.map(self._attempt, step.calls))
        if isinstance(step, Emit):
            raise TypeError("this plan emits values; iterate it instead")
        return self._attempt(step)


# aio subclasses DynamoDBSaver, so it can only be imported once the class above exists.
from lambdagraph.store.checkpoint.aio import AsyncDynamoDBSaver  # noqa: E402
