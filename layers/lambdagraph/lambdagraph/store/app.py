"""Threads and runs in the app table (single-table design, keys in :mod:`store.schema`).

Every method takes the caller's user id: ownership is part of each key condition, so another
user's thread or run is simply not found. Methods are async and offload each boto3 call to a
worker thread, so the event loop never blocks on DynamoDB.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from lambdagraph.settings import Settings
from lambdagraph.store.records import (
    CancelAction,
    MultitaskStrategy,
    Run,
    RunKwargs,
    RunStatus,
    Thread,
    ThreadStatus,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
else:
    DynamoDBClient = Any


class AppStore:
    """Threads and runs of every user, in one DynamoDB table.

    Args:
        table_name: the app table.
        client: a boto3 DynamoDB client; one is built when omitted.
    """

    def __init__(self, table_name: str, *, client: DynamoDBClient | None = None) -> None:
        raise NotImplementedError

    @classmethod
    def from_settings(cls, settings: Settings) -> AppStore:
        """A store on ``settings.app_table`` with a default client."""
        raise NotImplementedError

    async def create_thread(
        self,
        owner: str,
        *,
        thread_id: str | None = None,
        metadata: dict[str, Any] | None = None,
        if_exists: Literal["raise", "do_nothing"] = "raise",
    ) -> Thread:
        """Create a thread owned by ``owner``."""
        raise NotImplementedError

    async def get_thread(self, owner: str, thread_id: str) -> Thread:
        """The thread, or ``ThreadNotFound``."""
        raise NotImplementedError

    async def delete_thread(self, owner: str, thread_id: str) -> None:
        """Delete the thread and its runs."""
        raise NotImplementedError

    async def search_threads(
        self,
        owner: str,
        *,
        metadata: dict[str, Any] | None = None,
        status: ThreadStatus | None = None,
        limit: int = 10,
        offset: int = 0,
    ) -> list[Thread]:
        """The owner's threads, newest first, filtered by metadata subset and status."""
        raise NotImplementedError

    async def create_run(
        self,
        owner: str,
        *,
        thread_id: str | None,
        assistant_id: str,
        kwargs: RunKwargs,
        multitask_strategy: MultitaskStrategy = "enqueue",
        if_not_exists: Literal["reject", "create"] = "reject",
        metadata: dict[str, Any] | None = None,
    ) -> Run:
        """Record a run with one conditional write on the thread."""
        raise NotImplementedError

    async def get_run(self, owner: str, thread_id: str, run_id: str) -> Run:
        """The run, or ``RunNotFound``."""
        raise NotImplementedError

    async def list_runs(
        self, owner: str, thread_id: str, *, limit: int = 10, offset: int = 0
    ) -> list[Run]:
        """The thread's runs, newest first."""
        raise NotImplementedError

    async def cancel_run(
        self, owner: str, thread_id: str, run_id: str, action: CancelAction = "interrupt"
    ) -> Run:
        """Set the cancel flag on an active run (a pending run is cancelled at once)."""
        raise NotImplementedError

    async def wait_for_run(
        self, owner: str, thread_id: str, run_id: str, *, timeout: float | None
    ) -> Run:
        """Return once the run reaches a final status."""
        raise NotImplementedError


__all__ = ["AppStore", "Run", "RunKwargs", "RunStatus", "Thread", "ThreadStatus"]
