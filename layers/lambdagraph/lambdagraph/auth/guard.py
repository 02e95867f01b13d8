"""One caller's authorization checks, as every transport makes them before acting.

A :class:`Guard` asks the deployment's :class:`~lambdagraph.auth.policy.Authorizer` with
the value dict LangGraph Server builds for the same action, and enforces the filters it
returns on the thread concerned through the store (``AppStore.get_thread(filters=)``):
a thread whose metadata does not match is not found, like another user's. Threads'
metadata is fixed at creation, so checking it before acting holds for the whole action.

Runs are authorized as LangGraph Server does it, on their thread: ``threads.create_run``
to start one; ``threads.read`` to read, join or follow one; ``threads.search`` to list a
thread's runs; ``threads.update`` to cancel one or many; ``threads.delete`` to delete one.
Agent Streaming Protocol commands follow the same rule: those that only read (state,
checkpoints, the agent tree, subscriptions) are ``threads.read``; every other command may
start or resume a run and is ``threads.create_run``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final
from uuid import UUID

from lambdagraph.auth.identity import Identity
from lambdagraph.auth.policy import Action, Authorizer, Resource
from lambdagraph.errors import ThreadNotFound
from lambdagraph.store.app import AppStore
from lambdagraph.store.filters import Filters, matches

READ_COMMANDS: Final = frozenset(
    {
        "state.get",
        "state.listCheckpoints",
        "agent.getTree",
        "subscription.subscribe",
        "subscription.reconnect",
        "subscription.unsubscribe",
    }
)
"""Agent Streaming Protocol commands that read a thread and start nothing."""


class Guard:
    """The checks of one authenticated caller.

    Args:
        authorizer: the deployment's authorizer.
        store: where threads are read to enforce filters.
        identity: the caller.
    """

    def __init__(self, authorizer: Authorizer, store: AppStore, identity: Identity) -> None:
        self.authorizer = authorizer
        self.store = store
        self.identity = identity

    async def check(
        self, resource: Resource, action: Action, value: dict[str, Any]
    ) -> Filters | None:
        """The authorizer's answer for one action (``value`` may be changed in place)."""
        return await self.authorizer.authorize(self.identity, resource, action, value)

    async def thread(
        self, action: Action, thread_id: str, fields: dict[str, Any] | None = None
    ) -> Filters | None:
        """Authorize ``action`` on an existing thread and enforce the filters on it.

        Raises:
            ThreadNotFound: the thread's metadata does not match the handler's filters (or
                it is unknown or another user's, when there are filters to check).
            Forbidden: refused.
        """
        value = {"thread_id": UUID(thread_id), **(fields or {})}
        filters = await self.check("threads", action, value)
        if filters:
            await self.store.get_thread(self.identity.user_id, thread_id, filters=filters)
        return filters

    async def read_run(self, thread_id: str) -> None:
        """Reading, joining or following a run of ``thread_id`` (``threads.read``)."""
        await self.thread("read", thread_id)

    async def cancel_run(self, thread_id: str, run_id: str, action: str = "interrupt") -> None:
        """Cancelling a run (``threads.update`` with the run ids, as LangGraph sends it)."""
        metadata = {"run_ids": [UUID(run_id)], "status": None}
        await self.thread("update", thread_id, {"action": action, "metadata": metadata})

    async def list_runs(self, thread_id: str) -> None:
        """Listing a thread's runs (``threads.search`` with the thread id)."""
        await self.thread("search", thread_id, {"metadata": {}})

    async def create_run(
        self,
        *,
        thread_id: str | None,
        assistant_id: str,
        metadata: dict[str, Any] | None,
        multitask_strategy: str,
        if_not_exists: str,
        kwargs: dict[str, Any],
        temporary: bool,
    ) -> dict[str, Any]:
        """Authorize starting a run (``threads.create_run``); the metadata to record.

        The handler may stamp the run's metadata (``value["metadata"]["owner"] = ...``):
        the result is what the run records, and what a thread the run creates starts with.
        An existing thread must match the handler's filters.

        Raises:
            ThreadNotFound: the existing thread does not match the handler's filters.
            Forbidden: refused.
        """
        value: dict[str, Any] = {
            "thread_id": None if temporary or thread_id is None else UUID(thread_id),
            "assistant_id": _uuid_or_name(assistant_id),
            "run_id": None,
            "status": "pending",
            "metadata": dict(metadata or {}),
            "prevent_insert_if_inflight": multitask_strategy == "reject",
            "multitask_strategy": multitask_strategy,
            "if_not_exists": if_not_exists,
            "after_seconds": 0,
            "kwargs": {**kwargs, "temporary": temporary},
        }
        filters = await self.check("threads", "create_run", value)
        if filters and thread_id is not None and not temporary:
            await self._matching_thread_if_any(thread_id, filters, if_not_exists)
        stamped = value.get("metadata")
        return dict(stamped) if isinstance(stamped, dict) else {}

    async def agent_command(
        self, thread_id: str, method: str, params: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Authorize an Agent Streaming Protocol command on its thread; the params to run.

        Reads (:data:`READ_COMMANDS`) are ``threads.read``; any other command (``run.start``,
        ``input.respond``, ``input.inject``, ``state.fork``, one this server lacks) is
        ``threads.create_run`` with the run's assistant, input and metadata, and the params
        returned carry the metadata the handler stamped (what the run records, and what a
        thread it creates starts with).

        Raises:
            ThreadNotFound: the thread does not match the handler's filters.
            Forbidden: refused.
        """
        if method in READ_COMMANDS:
            await self.read_run(thread_id)
            return dict(params)
        assistant = params.get("assistant_id")
        metadata = params.get("metadata")
        strategy = params.get("multitask_strategy") or params.get("multitaskStrategy")
        stamped = await self.create_run(
            thread_id=thread_id,
            assistant_id=assistant if isinstance(assistant, str) else "",
            metadata=metadata if isinstance(metadata, dict) else None,
            multitask_strategy=strategy if isinstance(strategy, str) else "enqueue",
            if_not_exists="create",
            kwargs={"input": params.get("input")},
            temporary=False,
        )
        if not stamped and metadata is None:
            return dict(params)
        return {**params, "metadata": stamped}

    async def _matching_thread_if_any(
        self, thread_id: str, filters: Filters, if_not_exists: str
    ) -> None:
        try:
            thread = await self.store.get_thread(self.identity.user_id, thread_id)
        except ThreadNotFound:
            if if_not_exists == "create":
                return  # the run creates it, with the stamped metadata
            raise
        if not matches(thread["metadata"], filters):
            raise ThreadNotFound(thread_id)

    async def create_thread(
        self, thread_id: str | None, metadata: dict[str, Any] | None, if_exists: str
    ) -> tuple[dict[str, Any], Filters | None]:
        """Authorize creating a thread (``threads.create``): the metadata to store (as the
        handler left it) and its filters (an existing thread must match them)."""
        value: dict[str, Any] = {
            "thread_id": UUID(thread_id) if thread_id else None,
            "metadata": dict(metadata or {}),
            "if_exists": if_exists,
        }
        filters = await self.check("threads", "create", value)
        stamped = value.get("metadata")
        return (dict(stamped) if isinstance(stamped, dict) else {}), filters

    async def delete_run(self, thread_id: str, run_id: str) -> None:
        """Deleting a run (``threads.delete`` with the run id, as LangGraph sends it)."""
        await self.thread("delete", thread_id, {"run_id": UUID(run_id)})

    async def cancel_runs(
        self, thread_id: str | None, run_ids: list[str] | None, status: str | None, action: str
    ) -> Filters | None:
        """Cancelling runs in bulk (``threads.update``; ``thread_id`` None when by status).

        Returns:
            The handler's filters: runs of threads that do not match them are left alone.
        """
        value: dict[str, Any] = {
            "thread_id": UUID(thread_id) if thread_id else None,
            "action": action,
            "metadata": {"run_ids": [UUID(r) for r in run_ids or ()] or None, "status": status},
        }
        return await self.check("threads", "update", value)


def _uuid_or_name(assistant_id: str) -> UUID | str:
    # LangGraph hands handlers the assistant's UUID; ours may be named by graph name.
    try:
        return UUID(assistant_id)
    except ValueError:
        return assistant_id


__all__ = ["Guard"]
