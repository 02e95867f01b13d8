"""Smoke-test a deployed lambdagraph stack from your machine.

Reads the stack's outputs with CloudFormation, then, against the real endpoints:

1. ``GET /ok`` on the function URL;
2. streams a run over SSE with ``langgraph-sdk`` (``messages-tuple``: token chunks arrive);
3. interrupts on ``send_email`` and resumes it with an approval, over SSE;
4. over the WebSocket API: ``ping``, a run to completion, and a long run cancelled midway.

5. observability, after the WebSocket run: its EMF metrics (printed) in the worker's log
   group, the ``RunsEnded`` metric in CloudWatch, and (``Tracing=Active``) its X-Ray trace
   (``smoke_observe.py``; ``--skip-observability`` leaves it out).

6. auth, when the stack created a Cognito user pool (``AuthMode=jwt`` without
   ``JwtIssuer``): no token is 401 (function URL, HTTP API, WebSocket handshake), a token
   of a user it creates in the pool works, and another user's thread is 404
   (``smoke_auth.py``; the users are deleted afterwards).

Usage::

    pip install 'lambdagraph[local]'          # langgraph-sdk, websockets (and boto3)
    python infra/smoke.py --stack lambdagraph [--region eu-west-1] [--token JWT]

The checks of 1-4 authenticate with ``--token`` when given (sent as ``Authorization:
Bearer`` over HTTP and as ``?token=`` to the WebSocket API), else with the pool user's
token of check 5; with neither (``AuthMode`` iam or none: an ``AWS_IAM`` function URL) the
function URL requests are SigV4-signed with your AWS credentials. Exits 0 when every check
passed.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import boto3
import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError
from smoke_auth import POOL_OUTPUTS, AuthCheckError, AuthChecks, PoolUsers
from smoke_observe import ObservabilityChecks, ObservabilityError, stack_traces

if TYPE_CHECKING:
    from botocore.credentials import Credentials

REQUIRED_OUTPUTS = ("FunctionUrl", "WebSocketUrl", "HttpApiUrl")
ASSISTANT = "agent"
EMAIL_PROMPT = "send an email to bob@example.com about the smoke test"
LONG_PROMPT = "count to 100000"
SHORT_PROMPT = "count to 5"


class SmokeError(Exception):
    """A check failed, or the stack cannot be smoke-tested; the message says which."""


@dataclass(frozen=True)
class StackEndpoints:
    """What the smoke test needs from the stack's outputs."""

    function_url: str
    websocket_url: str
    http_api_url: str

    @classmethod
    def from_outputs(cls, outputs: dict[str, str]) -> StackEndpoints:
        missing = [name for name in REQUIRED_OUTPUTS if not outputs.get(name)]
        if missing:
            raise SmokeError(
                f"the stack has no output {', '.join(missing)}: is it a lambdagraph stack?"
            )
        return cls(
            function_url=outputs["FunctionUrl"].rstrip("/"),
            websocket_url=outputs["WebSocketUrl"],
            http_api_url=outputs["HttpApiUrl"].rstrip("/"),
        )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Command-line options (see the module docstring)."""
    parser = argparse.ArgumentParser(description="Smoke-test a deployed lambdagraph stack.")
    parser.add_argument(
        "--stack", required=True, help="CloudFormation stack name (sam deploy --stack-name)"
    )
    parser.add_argument("--region", default=None, help="AWS region (default: your configured one)")
    parser.add_argument("--profile", default=None, help="AWS profile for credentials")
    parser.add_argument(
        "--token", default=None, help="bearer token when the stack runs AuthMode jwt"
    )
    parser.add_argument(
        "--sign",
        choices=("auto", "always", "never"),
        default="auto",
        help="SigV4-sign function URL requests: auto = when no --token is given",
    )
    parser.add_argument(
        "--auth-checks",
        choices=("auto", "always", "never"),
        default="auto",
        help="check auth with users of the stack's Cognito pool: auto = when it has one",
    )
    parser.add_argument(
        "--skip-websocket", action="store_true", help="check only the HTTP endpoints"
    )
    parser.add_argument(
        "--timeout", type=float, default=120.0, help="seconds allowed for each check"
    )
    parser.add_argument(
        "--skip-observability",
        action="store_true",
        help="do not look for the run's metrics and trace (needs logs, cloudwatch, xray reads)",
    )
    parser.add_argument(
        "--metrics-wait",
        type=float,
        default=110.0,
        help="seconds to wait for metrics and the trace to arrive (below --timeout)",
    )
    return parser.parse_args(argv)


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    """The stack's outputs as ``{OutputKey: OutputValue}``.

    Raises:
        SmokeError: the stack does not exist or has not finished deploying.
    """
    try:
        stacks = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        raise SmokeError(
            f"cannot read stack {stack!r}: {exc.response['Error']['Message']}"
        ) from exc
    status = stacks[0]["StackStatus"]
    if not status.endswith("_COMPLETE") or "ROLLBACK" in status:
        raise SmokeError(f"stack {stack!r} is {status}; wait for a completed deploy")
    return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}


class FunctionUrlSigner(httpx.Auth):
    """Signs requests to a function URL with ``AuthType: AWS_IAM`` (SigV4, service lambda).

    The payload hash travels in ``x-amz-content-sha256``, as CloudFront with OAC also needs.
    """

    requires_request_body = True

    def __init__(self, credentials: Credentials, region: str) -> None:
        self.credentials = credentials
        self.region = region

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        body = request.content
        headers = {
            "host": request.url.netloc.decode(),
            "x-amz-content-sha256": hashlib.sha256(body).hexdigest(),
        }
        if "content-type" in request.headers:
            headers["content-type"] = request.headers["content-type"]
        signed = AWSRequest(method=request.method, url=str(request.url), data=body, headers=headers)
        SigV4Auth(self.credentials.get_frozen_credentials(), "lambda", self.region).add_auth(signed)
        for name, value in signed.headers.items():
            request.headers[name] = value
        yield request


Check = Callable[[], Awaitable[str]]


async def run_checks(checks: Sequence[tuple[str, Check]], timeout: float) -> bool:
    """Run each check with a deadline, print one line per check; True when all passed."""
    passed = True
    for name, check in checks:
        try:
            async with asyncio.timeout(timeout):
                detail = await check()
            print(f"PASS  {name}: {detail}")
        except (SmokeError, AuthCheckError, TimeoutError, httpx.HTTPError, OSError) as exc:
            passed = False
            print(f"FAIL  {name}: {type(exc).__name__}: {exc}")
    return passed


class HttpChecks:
    """Checks over the function URL with the official LangGraph SDK."""

    def __init__(
        self, endpoints: StackEndpoints, headers: dict[str, str], auth: httpx.Auth | None
    ) -> None:
        from langgraph_sdk import get_client  # lazy: a --help needs no SDK

        self.client = get_client(url=endpoints.function_url, headers=headers, api_key=None)
        if auth is not None:
            self.client.http.client.auth = auth
        self.raw = httpx.AsyncClient(base_url=endpoints.function_url, headers=headers, auth=auth)

    async def ok(self) -> str:
        response = await self.raw.get("/ok")
        if response.status_code != 200:
            raise SmokeError(f"GET /ok answered {response.status_code}: {response.text[:200]}")
        return "200"

    async def stream(self) -> str:
        thread = await self.client.threads.create()
        events = [
            part.event
            async for part in self.client.runs.stream(
                thread["thread_id"],
                ASSISTANT,
                input=_human(SHORT_PROMPT),
                stream_mode=["messages-tuple"],
            )
        ]
        if not events or events[0] != "metadata":
            raise SmokeError(f"the first event was not metadata: {events[:3]}")
        if "error" in events:
            raise SmokeError("the run streamed an error event")
        chunks = events.count("messages")
        if chunks < 2:
            raise SmokeError(f"expected token chunks, got events {events}")
        return f"{chunks} message chunks"

    async def interrupt_and_resume(self) -> str:
        thread_id = (await self.client.threads.create())["thread_id"]
        updates = [
            part.data
            async for part in self.client.runs.stream(
                thread_id, ASSISTANT, input=_human(EMAIL_PROMPT), stream_mode=["updates"]
            )
            if part.event == "updates"
        ]
        if not any(isinstance(u, dict) and "__interrupt__" in u for u in updates):
            raise SmokeError("the send_email run did not pause for approval")
        async for _ in self.client.runs.stream(
            thread_id, ASSISTANT, command={"resume": {"approved": True}}, stream_mode=["values"]
        ):
            pass
        values: Any = (await self.client.threads.get_state(thread_id))["values"]
        messages = values.get("messages", []) if isinstance(values, dict) else []
        tools = [m for m in messages if m.get("type") == "tool"]
        if not any(m.get("name") == "send_email" for m in tools):
            raise SmokeError("resuming did not run send_email")
        return "paused, approved, sent"

    async def aclose(self) -> None:
        await self.raw.aclose()
        await self.client.aclose()


class WebSocketChecks:
    """Checks over the WebSocket API: ping, a run to completion, a cancelled run."""

    def __init__(self, endpoints: StackEndpoints, token: str | None) -> None:
        query = f"?{urlencode({'token': token})}" if token else ""
        self.url = endpoints.websocket_url + query

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Any]:
        from websockets.asyncio.client import connect  # lazy: only this check needs it

        async with connect(self.url, max_size=256 * 1024) as socket:
            yield socket

    async def ping(self) -> str:
        async with self._session() as socket:
            await socket.send(json.dumps({"action": "ping"}))
            await _expect(socket, lambda m: m.get("type") == "pong")
        return "pong"

    async def run_to_completion(self) -> str:
        async with self._session() as socket:
            self.started_at = time.time()
            run_id = await _start_run(socket, SHORT_PROMPT)
            self.run_id = run_id
            ended = await _expect(
                socket, lambda m: m.get("type") == "run.ended" and m.get("run_id") == run_id
            )
            if ended["status"] != "success":
                raise SmokeError(f"run ended {ended['status']}")
        return "success"

    async def cancel(self) -> str:
        async with self._session() as socket:
            run_id = await _start_run(socket, LONG_PROMPT)
            await _expect(socket, lambda m: m.get("type") == "events" and m.get("run_id") == run_id)
            await socket.send(json.dumps({"action": "cancel", "run_id": run_id}))
            ended = await _expect(
                socket, lambda m: m.get("type") == "run.ended" and m.get("run_id") == run_id
            )
            if ended["status"] != "interrupted":
                raise SmokeError(f"cancelled run ended {ended['status']}")
        return "interrupted"


async def _start_run(socket: Any, prompt: str) -> str:
    request_id = str(uuid.uuid4())
    await socket.send(
        json.dumps(
            {
                "action": "run",
                "request_id": request_id,
                "assistant_id": ASSISTANT,
                "input": _human(prompt),
            }
        )
    )
    accepted = await _expect(
        socket, lambda m: m.get("type") == "run.accepted" and m.get("request_id") == request_id
    )
    return str(accepted["run_id"])


async def _expect(socket: Any, wanted: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The next message ``wanted`` accepts; an ``error`` message fails the check."""
    while True:
        message = json.loads(await socket.recv())
        if message.get("type") == "error":
            raise SmokeError(f"server error {message.get('code')}: {message.get('message')}")
        if wanted(message):
            return message  # type: ignore[no-any-return]


def _human(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "human", "content": text}]}


def pool_users(
    args: argparse.Namespace, session: boto3.Session, outputs: dict[str, str]
) -> PoolUsers | None:
    """The stack's Cognito pool users when the auth checks run (``--auth-checks``).

    Raises:
        SmokeError: ``--auth-checks always`` and the stack created no user pool.
    """
    if args.auth_checks == "never":
        return None
    if not all(outputs.get(name) for name in POOL_OUTPUTS):
        if args.auth_checks == "always":
            raise SmokeError(
                "the stack has no UserPoolId/UserPoolClientId outputs (AuthMode jwt without "
                "JwtIssuer creates them); run with --auth-checks never"
            )
        return None
    return PoolUsers.from_outputs(session.client("cognito-idp"), outputs)


async def smoke(args: argparse.Namespace, session: boto3.Session) -> bool:
    """Every check against the stack ``args.stack``; True when all passed."""
    outputs = stack_outputs(session.client("cloudformation"), args.stack)
    endpoints = StackEndpoints.from_outputs(outputs)
    print(f"function URL  {endpoints.function_url}\nWebSocket     {endpoints.websocket_url}")
    users = pool_users(args, session, outputs)
    try:
        auth_checks, pool_token = _auth_checks(users, endpoints)
        return await _smoke(args, session, endpoints, auth_checks, args.token or pool_token)
    except AuthCheckError as exc:
        raise SmokeError(str(exc)) from exc
    finally:
        if users is not None:
            users.delete_all()


def _auth_checks(
    users: PoolUsers | None, endpoints: StackEndpoints
) -> tuple[AuthChecks | None, str | None]:
    if users is None:
        return None, None
    owner = users.access_token(users.create("owner"))
    other = users.access_token(users.create("other"))
    checks = AuthChecks(
        endpoints.function_url, endpoints.http_api_url, endpoints.websocket_url, owner, other
    )
    return checks, owner


async def _smoke(
    args: argparse.Namespace,
    session: boto3.Session,
    endpoints: StackEndpoints,
    auth_checks: AuthChecks | None,
    token: str | None,
) -> bool:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    sign = args.sign == "always" or (args.sign == "auto" and not token)
    credentials = session.get_credentials() if sign else None
    if sign and credentials is None:
        raise SmokeError(
            "no AWS credentials to sign function URL requests with (or pass --sign never)"
        )
    auth = FunctionUrlSigner(credentials, session.region_name) if credentials is not None else None
    http = HttpChecks(endpoints, headers, auth)
    checks: list[tuple[str, Check]] = [
        ("GET /ok", http.ok),
        ("SSE stream", http.stream),
        ("interrupt and resume", http.interrupt_and_resume),
    ]
    if not args.skip_websocket:
        ws = WebSocketChecks(endpoints, token)
        checks += [
            ("WebSocket ping", ws.ping),
            ("WebSocket run", ws.run_to_completion),
            ("WebSocket cancel", ws.cancel),
        ]
        if not args.skip_observability:
            checks.append(("metrics and trace of the run", _observability(args, session, ws)))
    if auth_checks is not None:
        checks += [
            ("no token: 401", auth_checks.no_token_is_401),
            ("a pool user's token works", auth_checks.token_works),
            ("another user's thread: 404", auth_checks.other_users_thread_is_404),
        ]
        if not args.skip_websocket:
            checks.append(
                (
                    "WebSocket without a token: refused",
                    auth_checks.websocket_without_token_is_refused,
                )
            )
    try:
        return await run_checks(checks, args.timeout)
    finally:
        await http.aclose()
        if auth_checks is not None:
            await auth_checks.aclose()


def _observability(args: argparse.Namespace, session: boto3.Session, ws: Any) -> Check:
    """The check of ``smoke_observe``, on the WebSocket run's id (known once it ran)."""

    async def check() -> str:
        run_id = getattr(ws, "run_id", None)
        if run_id is None:
            raise SmokeError("the WebSocket run did not start: no run to look for")
        observe = ObservabilityChecks(
            session.client("logs"),
            session.client("cloudwatch"),
            session.client("xray"),
            args.stack,
            tracing=stack_traces(session.client("cloudformation"), args.stack),
            wait=args.metrics_wait,
        )
        try:
            return await asyncio.to_thread(observe.check, run_id, ws.started_at)
        except ObservabilityError as exc:
            raise SmokeError(str(exc)) from exc

    return check


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: 0 when every check passed, 1 when one failed, 2 when none could run."""
    args = parse_args(argv)
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    try:
        return 0 if asyncio.run(smoke(args, session)) else 1
    except SmokeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
