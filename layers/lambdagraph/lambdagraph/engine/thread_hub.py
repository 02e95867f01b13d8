"""In-process live delivery of a thread's protocol frames, ahead of the thread log.

The process that executes a v2 run publishes each batch of frames here as it numbers them
(before the event log's flush window); followers of that thread in the same process (an
SSE stream, a local WebSocket) take them at once instead of waiting for a log poll. Across
processes (Lambda) nothing arrives here and followers poll the log.

A thread also keeps its most recent frames (``keep``) while anyone publishes on it, so a
follower that joins between a frame's publication and the log flush that holds it still
gets it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final

Frame = dict[str, Any]

_KEEP: Final = 2048


class ThreadHub:
    """Per-thread fan-out of frames to in-process followers.

    Args:
        keep: how many recent frames of a thread a joining follower receives at once.
    """

    def __init__(self, keep: int = _KEEP) -> None:
        self.keep = keep
        self._followers: dict[str, set[asyncio.Queue[list[Frame]]]] = {}
        self._recent: dict[str, deque[Frame]] = {}

    def publish(self, thread_id: str, frames: Sequence[Frame]) -> None:
        """Hand ``frames`` (numbered, in order) to every follower of the thread."""
        if not frames:
            return
        recent = self._recent.setdefault(thread_id, deque(maxlen=self.keep))
        recent.extend(frames)
        batch = list(frames)
        for queue in self._followers.get(thread_id, ()):
            queue.put_nowait(batch)

    def last_seq(self, thread_id: str) -> int:
        """The ``seq`` of the thread's last frame published here (``-1``: none kept)."""
        recent = self._recent.get(thread_id)
        seq = recent[-1].get("seq") if recent else None
        return seq if isinstance(seq, int) else -1

    def forget(self, thread_id: str) -> None:
        """Drop the thread's recent frames (its log has them all now)."""
        if not self._followers.get(thread_id):
            self._recent.pop(thread_id, None)

    @contextmanager
    def follow(self, thread_id: str) -> Iterator[tuple[asyncio.Queue[list[Frame]], list[Frame]]]:
        """Follow a thread: its live queue, and the recent frames published before it."""
        queue: asyncio.Queue[list[Frame]] = asyncio.Queue()
        followers = self._followers.setdefault(thread_id, set())
        followers.add(queue)
        try:
            yield queue, list(self._recent.get(thread_id, ()))
        finally:
            followers.discard(queue)
            if not followers:
                self._followers.pop(thread_id, None)


THREAD_HUB: Final = ThreadHub()
"""The process's hub: the executor publishes to it, :class:`ThreadStreams` follows it."""
