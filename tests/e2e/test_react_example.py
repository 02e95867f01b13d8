"""The official React hook against us: ``examples/react`` (``@langchain/react``'s ``useStream``).

The example is built with Vite from its lockfile (``make react-example`` runs ``npm ci``),
served as static files from an origin of its own, and loaded in Debian's chromium through
Playwright (``executable_path``; no browser is downloaded) with ``apiUrl`` pointed at a real
local stack. A person's view: words of the answer appear one after another, the email the
demo agent wants to send waits for approval, Approve sends it and Reject does not.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings

playwright_sync = pytest.importorskip("playwright.sync_api")

EXAMPLE = Path(__file__).parents[2] / "examples" / "react"
CHROMIUM = Path("/usr/bin/chromium")
# Playwright's default wait; every wait below ends as soon as the page shows what it waits for.
WAIT_MS = 20_000
# Records each text the last AI message shows, as the page renders it.
_RECORD_AI_TEXTS = """() => {
  window.aiTexts = [];
  const list = document.querySelector('ol[aria-label="Conversation"]');
  new MutationObserver(() => {
    const ai = list.querySelectorAll('li[data-type="ai"]');
    const text = ai.length ? ai[ai.length - 1].textContent : null;
    if (text !== null && text !== window.aiTexts[window.aiTexts.length - 1]) {
      window.aiTexts.push(text);
    }
  }).observe(list, { childList: true, subtree: true, characterData: true });
}"""

pytestmark = pytest.mark.slow


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Serve without a line on stderr per request."""


@pytest.fixture(scope="module")
def built_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built by Vite from its installed lockfile, into a temporary directory."""
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("Node.js is not installed (the example needs Node 20.19 or later)")
    if not (EXAMPLE / "node_modules" / "@langchain" / "react").is_dir():
        pytest.skip("the example is not installed: make react-example (npm ci in examples/react)")
    out = tmp_path_factory.mktemp("react-dist")
    subprocess.run(
        [npm, "run", "build", "--", "--outDir", str(out), "--emptyOutDir", "--logLevel", "warn"],
        cwd=EXAMPLE, check=True, capture_output=True, timeout=120,
    )
    return out


@pytest.fixture(scope="module")
def app_url(built_app: Path) -> Iterator[str]:
    """The built files, served from an origin of their own (the stack is another: CORS)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_QuietFiles, directory=built_app))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _settings(tables: Tables, app_url: str, **overrides: Any) -> Settings:
    """As ``make dev`` runs (no auth, the scripted model's 20 ms a token), with CORS open to
    the app's origin only, as a deployed stack with ``CorsAllowOrigins`` set is."""
    return stack_settings(
        tables, scripted_delay_ms=20, cors_allow_origins=_origin(app_url), **overrides
    )


@pytest.fixture
def stack(tables: Tables, app_url: str) -> Iterator[LocalStack]:
    """The local stack, for the app's origin."""
    with running_stack(settings=_settings(tables, app_url)) as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's chromium, once for the module (each test has a fresh context)."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: make chromium (apt-get install chromium)")
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield browser
        browser.close()


@contextmanager
def _browser_page(
    browser: Any, app_url: str, stack: LocalStack, transport: str = "sse", token: str = ""
) -> Iterator[Any]:
    """The example in a fresh browser context, pointed at ``stack``; fails the test on a page
    error."""
    context = browser.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.requests = []
        page.transport = transport
        page.on("request", lambda r: page.requests.append(f"{r.method} {r.url}"))
        page.on("websocket", lambda ws: page.requests.append(f"WS {ws.url}"))
        page.set_default_timeout(WAIT_MS)
        page.goto(f"{app_url}?apiUrl={stack.url}&transport={transport}&token={token}")
        yield page
    finally:
        context.close()
    assert errors == []


@pytest.fixture(params=["sse", "websocket"])
def page(
    browser: Any, app_url: str, stack: LocalStack, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """The example in chromium, pointed at the stack, streaming over SSE or the WebSocket."""
    with _browser_page(browser, app_url, stack, request.param) as page:
        yield page


def _calls_to(page: Any, stack: LocalStack) -> set[str]:
    """``"METHOD /path"`` of each request (``WS`` for a WebSocket) the page made to ``stack``."""
    server = urlsplit(stack.url).netloc
    calls = (entry.split(" ", 1) for entry in page.requests)
    parsed = ((method, urlsplit(url)) for method, url in calls)
    return {f"{method} {url.path}" for method, url in parsed if url.netloc == server}


def _send(page: Any, text: str) -> None:
    page.get_by_role("textbox", name="Message").fill(text)
    page.get_by_role("button", name="Send").click()


def _last_ai(page: Any) -> Any:
    return page.locator('li[data-type="ai"]').last


def test_use_stream_streams_tokens_into_the_page(page: Any, stack: LocalStack) -> None:
    expect = playwright_sync.expect
    page.evaluate(_RECORD_AI_TEXTS)

    _send(page, "count to 40")

    answer = "ai: " + " ".join(str(n) for n in range(1, 41))
    expect(_last_ai(page)).to_have_text(answer)
    expect(page.get_by_text("Idle")).to_be_visible()
    texts: list[str] = page.evaluate("window.aiTexts")
    growing = [t for t in texts if answer.startswith(t) and len(t) > len("ai: ")]
    # The answer arrived in pieces, each render a longer prefix of it, not all at once.
    assert len(growing) >= 5, texts
    assert growing == sorted(growing, key=len)
    types = page.locator('ol[aria-label="Conversation"] li').evaluate_all(
        "items => items.map(i => i.dataset.type)"
    )
    assert types == ["human", "ai"]
    # Over the Agent Streaming Protocol: commands and the thread's event stream (SSE), or
    # both in-band on the thread's WebSocket.
    tid = page.get_by_test_id("thread-id").inner_text()
    calls = _calls_to(page, stack)
    if page.transport == "sse":
        assert calls == {f"POST /threads/{tid}/commands", f"POST /threads/{tid}/stream/events"}
    else:
        assert calls == {f"WS /threads/{tid}/stream/events"}
    state = httpx.get(f"{stack.url}/threads/{tid}/state", timeout=10).json()
    [block] = state["values"]["messages"][-1]["content"]
    assert "ai: " + block["text"] == answer


@pytest.mark.parametrize(
    ("button", "outcome"),
    [("Approve", "Email sent to bob@example.com."), ("Reject", "was not sent")],
)
def test_use_stream_answers_the_approval(
    page: Any, stack: LocalStack, button: str, outcome: str
) -> None:
    expect = playwright_sync.expect

    _send(page, "send an email to bob@example.com")

    approval = page.get_by_role("dialog", name="Approval")
    expect(approval).to_contain_text("send_email")
    expect(approval).to_contain_text("bob@example.com")
    expect(page.get_by_text("Idle")).to_be_visible()
    approval.get_by_role("button", name=button).click()

    expect(_last_ai(page)).to_contain_text(outcome)
    expect(approval).to_be_hidden()
    types = page.locator('ol[aria-label="Conversation"] li').evaluate_all(
        "items => items.map(i => i.dataset.type)"
    )
    assert types == ["human", "ai", "tool", "ai"]
    expect(page.get_by_text("Idle")).to_be_visible()
    tid = page.get_by_test_id("thread-id").inner_text()
    # The server agrees: two runs (the request, the resume), nothing left waiting.
    runs = httpx.get(f"{stack.url}/threads/{tid}/runs", timeout=10).json()
    assert len(runs) == 2
    thread = httpx.get(f"{stack.url}/threads/{tid}", timeout=10).json()
    assert (thread["status"], thread["interrupts"]) == ("idle", {})



def _opened_streams(page: Any) -> int:
    return sum(1 for r in page.requests if r.endswith("/stream/events"))


def test_an_approval_after_the_idle_stream_ended_still_streams(
    browser: Any, app_url: str, tables: Tables
) -> None:
    """The server ends a thread's SSE stream once the thread is idle (function-URL cost); the
    hook reopens it (without ``since``), so a person who answers late still sees the result."""
    expect = playwright_sync.expect
    settings = _settings(tables, app_url, agent_stream_idle_seconds=0.2)
    with running_stack(settings=settings) as stack, _browser_page(browser, app_url, stack) as page:
        _send(page, "send an email to bob@example.com")
        approval = page.get_by_role("dialog", name="Approval")
        expect(approval).to_contain_text("send_email")
        # The hook opens two streams; wait until the server has ended both and they reopened.
        deadline = time.monotonic() + WAIT_MS / 1000
        while _opened_streams(page) < 4:
            assert time.monotonic() < deadline, page.requests
            page.wait_for_timeout(50)  # lets Playwright deliver the request events

        approval.get_by_role("button", name="Approve").click()

        expect(_last_ai(page)).to_have_text("ai: Email sent to bob@example.com.")
        types = page.locator('ol[aria-label="Conversation"] li').evaluate_all(
            "items => items.map(i => i.dataset.type)"
        )
        assert types == ["human", "ai", "tool", "ai"]
        expect(page.get_by_role("alert")).to_have_count(0)


@pytest.mark.parametrize("path", ["commands", "stream/events"])
def test_the_hooks_preflights_pass_for_the_allowed_origin_only(
    stack: LocalStack, app_url: str, path: str
) -> None:
    """What the browser asks before each of the hook's POSTs (content-type: JSON, and the
    Authorization of ``defaultHeaders`` when auth is on), at the HTTP level."""
    url = f"{stack.url}/threads/{uuid.uuid4()}/{path}"
    asked = {"Access-Control-Request-Method": "POST",
             "Access-Control-Request-Headers": "authorization,content-type"}

    allowed = httpx.options(url, headers={"Origin": _origin(app_url), **asked})
    other = httpx.options(url, headers={"Origin": "http://elsewhere.example", **asked})

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == _origin(app_url)
    granted = allowed.headers["access-control-allow-headers"].lower().split(",")
    assert {"authorization", "content-type"} <= {header.strip() for header in granted}
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers


def test_use_stream_sends_the_token_on_every_call(
    browser: Any, app_url: str, tables: Tables
) -> None:
    """With auth on, ``defaultHeaders`` carries the token on every call, and the thread is
    its user's alone."""
    expect = playwright_sync.expect
    settings = _settings(tables, app_url)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as stack, _browser_page(
        browser, app_url, stack, token="alice"
    ) as page:
        tokens: list[str | None] = []

        def note_token(request: Any) -> None:
            if "/threads/" in request.url:
                tokens.append(request.headers.get("authorization"))

        page.on("request", note_token)
        _send(page, "send an email to bob@example.com")
        page.get_by_role("dialog", name="Approval").get_by_role("button", name="Approve").click()
        expect(_last_ai(page)).to_have_text("ai: Email sent to bob@example.com.")
        tid = page.get_by_test_id("thread-id").inner_text()

        # run.start, the streams, input.respond: each with the token.
        assert len(tokens) >= 4 and set(tokens) == {"Bearer alice"}, tokens
        mine = httpx.get(f"{stack.url}/threads/{tid}", headers=auth("alice"), timeout=10)
        theirs = httpx.get(f"{stack.url}/threads/{tid}", headers=auth("bob"), timeout=10)
        assert (mine.status_code, theirs.status_code) == (200, 404)
