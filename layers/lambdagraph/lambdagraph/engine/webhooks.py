"""Webhooks: the ``webhook`` URL of a run request, posted the run's outcome when it ends.

As on LangGraph Server (langgraph-api 0.16.7, checked in ``langgraph_api/webhook.py`` and
``worker.py``): the URL is checked when the run is created (a refused one is a 422 and no run
is recorded), and once the run ends the process that executed it POSTs the run as JSON with
``status``, ``run_started_at``, ``run_ended_at``, ``webhook_sent_at``, the thread's ``values``
and, for a failed run, ``error``. Network errors, timeouts, 5xx and 429 answers are retried
with jittered exponential backoff (LangGraph: 3 attempts, 5 s to connect, 30 s per request);
a webhook that still fails is logged and never changes the run.

Checked with ``langgraph dev``: its payload has exactly these keys plus ``langsmith_session_name``
(we keep no LangSmith session); by default it refuses loopback hosts ("Webhook host blocked:
loopback IP range") and other schemes, but lets http and private addresses through. The URL
policy here (:class:`WebhookPolicy`) is stricter: in the cloud only ``https`` URLs whose host
resolves to public addresses pass (no private, loopback, link-local — the instance metadata
endpoint — or reserved ranges), optionally only hosts of an allowlist. The check runs again
right before each post, so a host that re-resolves to a private address is refused then too.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urlsplit

import httpx
from tenacity import (
    AsyncRetrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from lambdagraph.errors import InvalidRequest
from lambdagraph.protocol.codec import dumps
from lambdagraph.store.records import Run, RunStatus, public_run

logger = logging.getLogger(__name__)

MAX_URL_LENGTH: Final = 4096
"""LangGraph Server's default ``webhooks.url.max_url_length``."""
_CONNECT_TIMEOUT: Final = 5.0
_JSON: Final = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class WebhookPolicy:
    """Which webhook URLs runs may name.

    Args:
        allow_http: plain ``http`` URLs pass too (the local stack; never in production).
        allow_private: hosts resolving to private, loopback or link-local addresses pass.
        allowed_domains: if any, only these hosts pass; ``*.example.com`` matches subdomains.
    """

    allow_http: bool = False
    allow_private: bool = False
    allowed_domains: tuple[str, ...] = ()

    async def check(self, url: str) -> None:
        """Refuse a URL the policy does not allow.

        Raises:
            InvalidRequest: the URL is malformed, not https (unless allowed), outside the
                allowlist, unresolvable, or resolves to an address the policy blocks.
        """
        if len(url) > MAX_URL_LENGTH:
            raise InvalidRequest("Webhook URL too long")
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise InvalidRequest(f"Webhook URL must be an absolute http(s) URL, not {url!r}")
        if scheme != "https" and not self.allow_http:
            raise InvalidRequest("Webhook must use https")
        host = (parts.hostname or "").lower()
        if not host:
            raise InvalidRequest(f"Invalid webhook hostname '{host}'")
        if self.allowed_domains and not _host_allowed(host, self.allowed_domains):
            raise InvalidRequest("Webhook domain not allowed")
        if self.allow_private:
            return
        try:
            port = parts.port or (443 if scheme == "https" else 80)
        except ValueError:
            raise InvalidRequest(f"Invalid webhook port in {url!r}") from None
        for address in await _resolve(host, port):
            if not address.is_global:
                raise InvalidRequest(
                    f"Webhook host blocked: {host} resolves to a non-public address ({address})"
                )


def _host_allowed(host: str, patterns: tuple[str, ...]) -> bool:
    for pattern in patterns:
        pattern = pattern.strip().lower()
        if pattern.startswith("*.") and host.endswith(pattern[1:]):
            return True
        if host == pattern:
            return True
    return False


async def _resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM
        )
    except (socket.gaierror, UnicodeError):
        raise InvalidRequest(f"Webhook host {host} could not be resolved") from None
    return [ipaddress.ip_address(info[4][0]) for info in infos]


def webhook_payload(
    run: Run,
    status: RunStatus,
    *,
    values: Any,
    started_at: str,
    ended_at: str,
    error: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """LangGraph Server's webhook body: the run, its outcome and the thread's values."""
    payload: dict[str, Any] = {
        **public_run(run),
        "status": status,
        "run_started_at": started_at,
        "run_ended_at": ended_at,
        "values": values,
    }
    if error is not None:
        payload["error"] = dict(error)
    return payload


def now_iso() -> str:
    """The current UTC time as LangGraph Server writes it (ISO 8601 with offset)."""
    return datetime.now(UTC).isoformat()


def _retriable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.TransportError):  # timeouts, refused or dropped connections
        return True
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500 or exc.response.status_code == 429
    return False


class WebhookSender:
    """Posts run outcomes to their webhooks, with retries and a timeout per attempt.

    Args:
        policy: checked again before each post.
        timeout: seconds one attempt may take (connect, send, answer).
        attempts: how many times a post is tried in all.
        transport: an ``httpx`` transport (tests pass a mock one).
        backoff: seconds before the first retry; each next one waits about twice as long,
            at most ``max_wait``; each pause adds up to ``backoff`` of jitter.
        max_wait: the longest pause between two attempts, before jitter.
    """

    def __init__(
        self,
        policy: WebhookPolicy,
        *,
        timeout: float = 10.0,
        attempts: int = 3,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: float = 0.5,
        max_wait: float = 5.0,
    ) -> None:
        self.policy = policy
        self.timeout = timeout
        self.attempts = attempts
        self.transport = transport
        self.backoff = backoff
        self.max_wait = max_wait

    async def send(self, url: str, payload: Mapping[str, Any]) -> bool:
        """POST ``payload`` (``webhook_sent_at`` added) to ``url``; True once it is accepted.

        Never raises: a refused URL or a post that keeps failing is logged.
        """
        log = logging.LoggerAdapter(logger, {"run_id": payload.get("run_id"), "webhook": url})
        try:
            await self.policy.check(url)
        except InvalidRequest as exc:
            log.warning("Webhook not sent: %s", exc.message)
            return False
        timeout = httpx.Timeout(self.timeout, connect=min(_CONNECT_TIMEOUT, self.timeout))
        retrying = AsyncRetrying(
            retry=retry_if_exception(_retriable),
            # Exponential backoff plus jitter, spelled so tenacity 9.1 and 9.2 read it alike
            # (9.2 renamed wait_exponential_jitter's first argument).
            wait=wait_exponential(multiplier=self.backoff, max=self.max_wait)
            + wait_random(0, self.backoff),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )
        try:
            async with httpx.AsyncClient(
                timeout=timeout, transport=self.transport, follow_redirects=False
            ) as client:
                async for attempt in retrying:
                    with attempt:
                        body = dumps({**payload, "webhook_sent_at": now_iso()})
                        response = await client.post(url, content=body, headers=_JSON)
                        response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("Webhook failed after %s attempts: %s", self.attempts, exc)
            return False
        log.info("Webhook sent")
        return True


__all__ = ["WebhookPolicy", "WebhookSender", "webhook_payload"]
