"""Cancelling runs that are still going (one, or many at once) and deleting runs that ended.

:class:`RunCancels` is part of :class:`~lambdagraph.engine.runs.RunService`: the rules of
which runs a cancel reaches and what it answers when none is left to stop.
"""

from __future__ import annotations

import contextlib
from typing import Final

from lambdagraph.errors import NotFound, NothingToCancel, RunNotFound
from lambdagraph.store.app import AppStore
from lambdagraph.store.filters import Filters
from lambdagraph.store.records import ACTIVE_RUN_STATUSES, FINAL_RUN_STATUSES, CancelAction, Run

# LangGraph Server (langgraph-api 0.16.7, langgraph-runtime-inmem 0.36.7, `Runs.cancel`; checked
# with `langgraph dev`) answers a cancel that finds no run with 404 "No runs found to cancel.",
# and one whose runs all ended already (or were cancelled before) with 404 and this text, for
# one run (`POST .../cancel`) and in bulk (`POST /runs/cancel`) alike. A cancelled running run
# reads `interrupted` as soon as the cancel answers 202.
NO_RUNS_FOUND: Final = "No runs found to cancel."
NO_MATCHING_RUNS: Final = (
    "No matching runs to cancel. Please verify the thread ID and run IDs are correct,"
    " and the runs haven't been deleted or completed."
)
BULK_STATUSES: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"pending"}),
    "running": frozenset({"running"}),
    "all": ACTIVE_RUN_STATUSES,
}
"""``POST /runs/cancel``'s ``status`` and the run statuses it cancels."""


class RunCancels:
    """The cancel and delete side of the run service (``store`` and ``get`` are its own)."""

    store: AppStore

    async def get(self, owner: str, thread_id: str, run_id: str) -> Run:
        """The run, recovered if its process died (see ``RunService.get``)."""
        raise NotImplementedError

    async def cancel_active(
        self, owner: str, thread_id: str, run_id: str, action: CancelAction = "interrupt"
    ) -> Run:
        """Cancel a pending or running run; it reads ``interrupted`` from this moment on.

        Raises:
            RunNotFound: unknown or another user's run.
            NothingToCancel: the run ended already, or was cancelled before.
        """
        run = await self.get(owner, thread_id, run_id)
        if not _cancellable(run):
            raise NothingToCancel(NO_MATCHING_RUNS)
        run = await self.store.cancel_run(owner, thread_id, run_id, action)
        if run["status"] in FINAL_RUN_STATUSES and not run.get("cancel"):
            raise NothingToCancel(NO_MATCHING_RUNS)  # it ended in between
        return run

    async def cancel_many(
        self,
        owner: str,
        *,
        thread_id: str | None = None,
        run_ids: list[str] | None = None,
        status: str | None = None,
        action: CancelAction = "interrupt",
        filters: Filters | None = None,
    ) -> list[Run]:
        """Cancel the given runs of one thread, or every run of the user in ``status``.

        Args:
            status: ``pending``, ``running`` or ``all`` (both); or None with ``thread_id``
                and ``run_ids``.
            filters: an auth handler's: runs of threads whose metadata does not match them
                are left alone.

        Returns:
            The runs cancelled.

        Raises:
            NothingToCancel: no run matched, or none of them was pending or running.
        """
        if status is not None:
            refs = await self.store.active_run_refs(owner)
        else:
            refs = [(thread_id or "", run_id) for run_id in dict.fromkeys(run_ids or ())]
        found = [run for run in [await self._run_or_none(owner, *ref) for ref in refs] if run]
        if filters:
            found = [run for run in found if await self._thread_matches(run, filters)]
        if status is not None:
            found = [run for run in found if run["status"] in BULK_STATUSES[status]]
        if not found:
            raise NothingToCancel(NO_RUNS_FOUND)
        cancelled: list[Run] = []
        for run in found:
            if _cancellable(run):
                with contextlib.suppress(NothingToCancel, RunNotFound):
                    cancelled.append(
                        await self.cancel_active(owner, run["thread_id"], run["run_id"], action)
                    )
        if not cancelled:
            raise NothingToCancel(NO_MATCHING_RUNS)
        return cancelled

    async def _run_or_none(self, owner: str, thread_id: str, run_id: str) -> Run | None:
        try:
            return await self.get(owner, thread_id, run_id)
        except NotFound:
            return None

    async def _thread_matches(self, run: Run, filters: Filters) -> bool:
        try:
            await self.store.get_thread(run["owner"], run["thread_id"], filters=filters)
        except NotFound:
            return False
        return True

    async def delete(self, owner: str, thread_id: str, run_id: str) -> None:
        """Delete a run that has ended.

        LangGraph Server's in-memory runtime (0.36.7, checked with `langgraph dev`) deletes a
        run in any status (204, then 404 "Run not found"); here an active run's item is what
        its executor hands the thread on with, so deleting one is refused until it ended
        (cancel it first).

        Raises:
            RunNotFound: unknown or another user's run.
            Conflict: the run is pending or running.
        """
        await self.get(owner, thread_id, run_id)  # a run whose process died ends here first
        await self.store.delete_run(owner, thread_id, run_id)


def _cancellable(run: Run) -> bool:
    """Pending or running and not flagged for cancellation yet (it reads interrupted then)."""
    return run["status"] in ACTIVE_RUN_STATUSES and not run.get("cancel")


__all__ = ["BULK_STATUSES", "NO_MATCHING_RUNS", "NO_RUNS_FOUND", "RunCancels"]
