"""Webhooks end to end: a run's ``webhook`` receives LangGraph Server's payload when it ends.

A small HTTP server on a free local port plays the receiver; the local stack allows http and
loopback webhooks (the cloud's policy refuses both, checked by the last tests).
"""

from __future__ import annotations

import asyncio
import json
import queue
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import LangGraphClient

from lambdagraph.engine import assistant_id
from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.conftest import DEADLINE, auth, stack_settings, user_message


class Receiver:
    """Records every POST it gets; answers ``failures`` of them with 500 first."""

    def __init__(self, failures: int = 0) -> None:
        self.posts: queue.Queue[dict[str, Any]] = queue.Queue()
        self.failures = failures
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.attempts += 1
                if receiver.attempts <= receiver.failures:
                    self.send_response(500)
                    self.end_headers()
                    return
                receiver.posts.put({"path": self.path, "body": json.loads(body)})
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/run-done"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    async def next_post(self) -> dict[str, Any]:
        """The next accepted POST (fails after the e2e deadline)."""
        return await asyncio.to_thread(self.posts.get, timeout=DEADLINE)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    hooks = Receiver()
    hooks.thread.start()
    yield hooks
    hooks.server.shutdown()
    hooks.server.server_close()


async def test_a_background_run_posts_langgraphs_payload_when_it_ends(
    client: LangGraphClient, receiver: Receiver
) -> None:
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"],
        "agent",
        input=user_message("hello"),
        metadata={"ticket": 7},
        webhook=receiver.url,
    )

    post = await receiver.next_post()

    body = post["body"]
    assert post["path"] == "/hooks/run-done"
    assert (body["run_id"], body["thread_id"]) == (run["run_id"], thread["thread_id"])
    assert (body["status"], body["assistant_id"]) == ("success", assistant_id("agent"))
    assert body["metadata"] == {"ticket": 7}
    assert body["values"]["messages"][-1]["content"] == "You said: hello"
    assert body["run_started_at"] <= body["run_ended_at"] <= body["webhook_sent_at"]
    assert body["kwargs"]["webhook"] == receiver.url
    assert "error" not in body and "owner" not in body
    assert (await client.runs.get(thread["thread_id"], run["run_id"]))["status"] == "success"


async def test_a_streamed_run_posts_too_and_a_failed_one_carries_its_error(
    client: LangGraphClient, receiver: Receiver
) -> None:
    thread = await client.threads.create()
    parts = [
        part.event
        async for part in client.runs.stream(
            thread["thread_id"], "agent", input=user_message("hi"), webhook=receiver.url
        )
    ]
    ok = await receiver.next_post()
    failing = await client.runs.wait(
        thread["thread_id"],
        "agent",
        input=user_message("trigger an error"),
        webhook=receiver.url,
        raise_error=False,
    )
    failed = await receiver.next_post()

    assert "error" not in parts and ok["body"]["status"] == "success"
    assert isinstance(failing, dict) and "__error__" in failing
    assert failed["body"]["status"] == "error"
    assert failed["body"]["error"]["error"] == failing["__error__"]["error"]


async def test_a_webhook_answering_500_is_retried(
    client: LangGraphClient, receiver: Receiver
) -> None:
    receiver.failures = 1
    thread = await client.threads.create()
    run = await client.runs.create(
        thread["thread_id"], "agent", input=user_message("hello"), webhook=receiver.url
    )

    post = await receiver.next_post()

    assert post["body"]["run_id"] == run["run_id"]
    assert receiver.attempts == 2


@pytest.mark.parametrize(
    "url",
    ["ftp://example.com/hook", "/relative/hook", "http://", "not a url"],
)
def test_a_webhook_that_is_no_http_url_is_refused_with_422(stack: LocalStack, url: str) -> None:
    client = get_sync_client(url=stack.url, headers=auth("alice"))
    thread = client.threads.create()
    with pytest.raises(httpx.HTTPStatusError) as raised:
        client.runs.create(thread["thread_id"], "agent", input=user_message("hi"), webhook=url)
    assert raised.value.response.status_code == 422
    assert "ebhook" in raised.value.response.json()["detail"]
    assert client.runs.list(thread["thread_id"]) == []


@pytest.fixture
def cloud_stack(tables: Tables) -> Iterator[LocalStack]:
    """A stack with the cloud's webhook policy: https to public hosts only."""
    settings: Settings = stack_settings(
        tables, webhook_allow_http=False, webhook_allow_private_hosts=False
    )
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://example.com/hook", "Webhook must use https"),
        ("https://127.0.0.1/hook", "Webhook host blocked"),
        ("https://localhost:8443/hook", "Webhook host blocked"),
        ("https://169.254.169.254/latest/meta-data", "Webhook host blocked"),
        ("https://10.1.2.3/hook", "Webhook host blocked"),
        ("https://[::1]/hook", "Webhook host blocked"),
    ],
)
def test_the_cloud_policy_refuses_http_and_private_hosts(
    cloud_stack: LocalStack, url: str, words: str
) -> None:
    client = get_sync_client(url=cloud_stack.url, headers=auth("alice"))
    thread = client.threads.create()
    hi = user_message("hi")
    for start in (
        lambda: client.runs.create(thread["thread_id"], "agent", input=hi, webhook=url),
        lambda: client.runs.wait(None, "agent", input=hi, webhook=url),
    ):
        with pytest.raises(httpx.HTTPStatusError) as raised:
            start()
        assert raised.value.response.status_code == 422
        assert words in raised.value.response.json()["detail"]
    assert client.runs.list(thread["thread_id"]) == []
