"""A fake API Gateway management client for sender tests."""

from __future__ import annotations

import threading
from typing import Any

import orjson
from botocore.exceptions import ClientError


def client_error(code: str) -> ClientError:
    """A botocore error as boto3's management client raises it."""
    return ClientError({"Error": {"Code": code, "Message": code}}, "PostToConnection")


class FakeManagementClient:
    """Records posts per connection; ``failures[conn]`` lists error codes to raise first."""

    def __init__(self, failures: dict[str, list[str]] | None = None, gone: set[str] | None = None):
        self.failures = {k: list(v) for k, v in (failures or {}).items()}
        self.gone = set(gone or ())
        self.posts: dict[str, list[bytes]] = {}
        self.attempts = 0
        self._lock = threading.Lock()

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        with self._lock:
            self.attempts += 1
            if ConnectionId in self.gone:
                raise client_error("GoneException")
            pending = self.failures.get(ConnectionId)
            if pending:
                raise client_error(pending.pop(0))
            self.posts.setdefault(ConnectionId, []).append(bytes(Data))
        return {}

    def messages(self, connection_id: str) -> list[dict[str, Any]]:
        """Every message the connection received, decoded."""
        return [orjson.loads(raw) for raw in self.posts.get(connection_id, [])]


class SlowManagementClient(FakeManagementClient):
    """Posts to the connections in ``slow`` block until :attr:`gate` is set (a stuck client)."""

    def __init__(self, slow: set[str]) -> None:
        super().__init__()
        self.slow = slow
        self.gate = threading.Event()

    def post_to_connection(self, *, ConnectionId: str, Data: bytes) -> dict[str, Any]:
        if ConnectionId in self.slow and not self.gate.wait(timeout=30):
            raise client_error("LimitExceededException")  # never reached while a test runs
        return super().post_to_connection(ConnectionId=ConnectionId, Data=Data)
