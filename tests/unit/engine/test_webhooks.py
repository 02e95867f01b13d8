"""The webhook URL policy and the sender's retries, over ``httpx.MockTransport``."""

from __future__ import annotations

import json

import httpx
import pytest

from lambdagraph.engine.webhooks import WebhookPolicy, WebhookSender, webhook_payload
from lambdagraph.errors import InvalidRequest
from lambdagraph.store.records import Run

CLOUD = WebhookPolicy()
LOCAL = WebhookPolicy(allow_http=True, allow_private=True)

RUN: Run = {
    "run_id": "r1",
    "thread_id": "t1",
    "assistant_id": "agent",
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-01T00:00:00+00:00",
    "status": "running",
    "metadata": {"k": "v"},
    "multitask_strategy": "enqueue",
    "kwargs": {"webhook": "https://93.184.216.34/hook"},
    "owner": "alice",
    "cancel": None,
}


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://93.184.216.34/hook", "must use https"),
        ("https://127.0.0.1/hook", "blocked"),
        ("https://10.0.0.8/hook", "blocked"),
        ("https://192.168.1.1/hook", "blocked"),
        ("https://169.254.169.254/latest/meta-data/", "blocked"),
        ("https://[::1]:8443/hook", "blocked"),
        ("https://[fd00::1]/hook", "blocked"),
        ("https://localhost/hook", "blocked"),
        ("ftp://93.184.216.34/hook", "absolute http(s) URL"),
        ("/runs/hook", "absolute http(s) URL"),
        ("https:///nohost", "Invalid webhook hostname"),
        ("https://93.184.216.34:99999/hook", "port"),
        ("https://93.184.216.34/" + "x" * 5000, "too long"),
    ],
)
async def test_the_cloud_policy_refuses(url: str, words: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await CLOUD.check(url)
    assert words in refused.value.message


async def test_the_cloud_policy_lets_https_to_a_public_address_through() -> None:
    await CLOUD.check("https://93.184.216.34/hook?x=1")


async def test_the_local_policy_allows_http_to_localhost_but_not_other_schemes() -> None:
    await LOCAL.check("http://127.0.0.1:9000/hook")
    await LOCAL.check("http://localhost/hook")
    with pytest.raises(InvalidRequest):
        await LOCAL.check("file:///etc/passwd")


async def test_an_allowlist_admits_only_its_hosts_and_subdomains() -> None:
    policy = WebhookPolicy(allow_private=True, allowed_domains=("hooks.example.com", "*.corp.io"))
    await policy.check("https://hooks.example.com/a")
    await policy.check("https://eu.corp.io/a")
    for url in ("https://example.com/a", "https://corp.io.evil.com/a", "https://evilcorp.io/a"):
        with pytest.raises(InvalidRequest, match="domain not allowed"):
            await policy.check(url)


def _sender(handler: httpx.MockTransport, attempts: int = 3) -> WebhookSender:
    policy = WebhookPolicy(allow_private=True, allow_http=True)
    return WebhookSender(policy, attempts=attempts, transport=handler, backoff=0, max_wait=0)


def _payload() -> dict[str, object]:
    return webhook_payload(
        RUN, "success", values={"n": 1}, started_at="a", ended_at="b", error=None
    )


async def test_a_post_failing_with_500_is_retried_until_accepted() -> None:
    seen: list[dict[str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(503 if len(seen) < 3 else 200)

    sent = await _sender(httpx.MockTransport(answer)).send("http://hooks.local/x", _payload())

    assert sent is True and len(seen) == 3
    assert seen[-1]["run_id"] == "r1" and seen[-1]["status"] == "success"
    assert seen[-1]["values"] == {"n": 1} and "webhook_sent_at" in seen[-1]
    assert "owner" not in seen[-1] and "cancel" not in seen[-1]


async def test_a_client_error_is_not_retried_and_a_dead_host_gives_up_after_the_attempts() -> None:
    calls: list[str] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        calls.append("refused")
        return httpx.Response(400)

    def unreachable(request: httpx.Request) -> httpx.Response:
        calls.append("unreachable")
        raise httpx.ConnectError("connection refused", request=request)

    refused = await _sender(httpx.MockTransport(refuse)).send("http://h.local/", _payload())
    gone = await _sender(httpx.MockTransport(unreachable), 2).send("http://h.local/", _payload())

    assert (refused, gone) == (False, False)
    assert calls == ["refused", "unreachable", "unreachable"]


async def test_a_url_the_policy_refuses_at_send_time_is_not_posted() -> None:
    calls: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200)

    sender = WebhookSender(CLOUD, transport=httpx.MockTransport(record))
    assert await sender.send("https://127.0.0.1/x", _payload()) is False
    assert calls == []
