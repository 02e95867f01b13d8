"""``lambdagraph chat``: talk to a running server from the terminal with ``langgraph-sdk``.

Tokens print as they arrive, tool calls and their results on their own lines, and an
interrupt (the demo's ``send_email``) asks for approval, then resumes the run with
``command={"resume": {"approved": ...}}``. After each answer a line gives the run's tokens
and cost (its ``usage`` events; see ``lambdagraph.pricing``). Needs the ``local`` extra
(``langgraph-sdk``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TextIO

from lambdagraph.errors import ConfigurationError

if TYPE_CHECKING:
    from langgraph_sdk.client import SyncLangGraphClient
    from langgraph_sdk.schema import StreamMode

Decide = Callable[[Any], bool]
# "usage" is our extension (the SDK's StreamMode does not list it): the cost line's totals.
STREAM_MODES: Final[list[StreamMode]] = ["messages-tuple", "updates", "usage"]  # type: ignore[list-item]


def connect(url: str, headers: dict[str, str] | None = None) -> SyncLangGraphClient:
    """A synchronous SDK client for ``url``.

    Raises:
        ConfigurationError: ``langgraph-sdk`` is not installed (the ``local`` extra).
    """
    try:
        from langgraph_sdk import get_sync_client  # lazy: the `local` extra, CLI only
    except ImportError as exc:
        raise ConfigurationError(
            "lambdagraph chat needs langgraph-sdk: pip install 'lambdagraph[local]'"
        ) from exc
    return get_sync_client(url=url, headers=headers)


class ChatError(Exception):
    """Something the user can fix (an unknown assistant, say): printed as one line."""


def chat(
    client: SyncLangGraphClient,
    message: str | None,
    *,
    decide: Decide,
    out: TextIO,
    thread_id: str | None = None,
    assistant_id: str = "agent",
) -> int:
    """Send ``message`` on a thread, print the reply as it streams, handle approvals.

    On an existing thread that is waiting for an approval (its run paused at an interrupt,
    perhaps under a server that has since restarted), the approval is asked first and the
    run resumed; then ``message``, if any, is sent. Ctrl-C at the prompt leaves the
    approval pending for a later ``lambdagraph chat --thread ID``.

    Args:
        client: an SDK client for the server.
        message: the user's message; None only answers a pending approval.
        decide: called with an interrupt's value; True approves, False rejects.
        out: where to print.
        thread_id: continue this thread; None creates one.
        assistant_id: the graph to talk to.

    Returns:
        The exit status: 0 when the run ended normally, 1 on an ``error`` event, 130 when
        the user stopped at the prompt.

    Raises:
        ChatError: the server has no such assistant (nothing was created).
    """
    check_assistant(client, assistant_id)
    pending: Sequence[Mapping[str, object]] = []
    if thread_id is None:
        thread_id = client.threads.create()["thread_id"]
    else:
        pending = pending_interrupts(client, thread_id)
    out.write(f"thread {thread_id}\n")

    def stream(request: dict[str, Any]) -> int | dict[str, Any]:
        parts = client.runs.stream(thread_id, assistant_id, stream_mode=STREAM_MODES, **request)
        printer = RunPrinter(out)
        printer.consume(parts)
        return printer.finish(decide)

    again = f"lambdagraph chat --thread {thread_id}"
    return converse(message, pending, stream, decide=decide, out=out, again=lambda: again)


def check_assistant(client: SyncLangGraphClient, assistant_id: str) -> None:
    """Fail with :class:`ChatError` unless the server serves ``assistant_id``."""
    import httpx  # lazy: comes with langgraph-sdk, the `local` extra

    try:
        client.assistants.get(assistant_id)
    except httpx.HTTPStatusError as exc:
        if exc.response.status_code != 404:
            raise
        graphs = dict.fromkeys(a["graph_id"] for a in client.assistants.search(limit=100))
        names = ", ".join(graphs) or "none"  # once each: users' assistants share graphs
        raise ChatError(
            f"no assistant {assistant_id!r} on this server (it serves: {names})"
        ) from exc


def pending_interrupts(
    client: SyncLangGraphClient, thread_id: str
) -> Sequence[Mapping[str, object]]:
    """The interrupts a thread's last run paused at (empty when it waits for nothing)."""
    return client.threads.get_state(thread_id).get("interrupts") or []


Stream = Callable[[dict[str, Any]], "int | dict[str, Any]"]
"""Runs one request and prints it: the exit status, or the request answering its interrupt."""


def converse(
    message: str | None,
    pending: Sequence[Mapping[str, object]],
    stream: Stream,
    *,
    decide: Decide,
    out: TextIO,
    again: Callable[[], str | None],
) -> int:
    """Answer a pending approval (if any), then send ``message`` (if any), run after run.

    Both chats drive their transport through ``stream``. Ctrl-C leaves the approval pending
    and prints how to come back: the command ``again()`` gives (None before a thread exists).

    Returns:
        The exit status: 0, 1 after an ``error`` event, 130 on Ctrl-C.
    """
    requests: list[dict[str, Any]] = []
    if message is not None:
        requests.append({"input": {"messages": [{"role": "user", "content": message}]}})
    elif not pending:
        out.write("no approval is pending on this thread; nothing to send\n")
        return 0
    try:
        if pending:
            if message is not None:
                out.write("an approval is pending on this thread; answer it before your message\n")
            requests.insert(0, answer(pending[0].get("value"), decide, out))
        for request in requests:
            outcome = stream(request)
            while not isinstance(outcome, int):
                outcome = stream(outcome)
            if outcome:
                return outcome
    except KeyboardInterrupt:
        command = again()
        out.write(f"\nleft pending; answer later with: {command}\n" if command else "\nstopped\n")
        return 130
    return 0


def answer(value: Any, decide: Decide, out: TextIO) -> dict[str, Any]:
    """Show an interrupt's value, ask ``decide``, and return the resume request."""
    out.write(f"\napproval needed: {_describe(value)}\n")
    approved = decide(value)
    out.write("approved\n" if approved else "rejected\n")
    return {"command": {"resume": {"approved": approved}}}


class RunPrinter:
    """Prints one run's stream: tokens inline, tool calls and results as lines.

    Both chats (SSE here, WebSocket in :mod:`lambdagraph_client.ws_chat`) feed it the run's
    events and let :meth:`finish` decide what comes next, so they print alike.
    """

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.interrupts: list[dict[str, Any]] = []
        self.error: str | None = None
        self.at_line_start = True
        self.usage: dict[str, Any] | None = None

    def consume(self, parts: Iterable[Any]) -> None:
        """Print events (anything with ``event`` and ``data``), noting interrupts and errors."""
        for part in parts:
            if part.event == "messages":
                self._token(part.data[0])
            elif part.event == "updates":
                self._update(part.data)
            elif part.event == "usage" and isinstance(part.data, dict):
                self.usage = part.data.get("total") or self.usage
            elif part.event == "error":
                data = part.data or {}
                self.error = f"{data.get('error', 'Error')}: {data.get('message', '')}"
            self.out.flush()

    def finish(self, decide: Decide, *, failure: str | None = None) -> int | dict[str, Any]:
        """End the run's output: the exit status, or the request answering its interrupt.

        Args:
            decide: asked about the first interrupt, if the run paused at one.
            failure: why the run failed when no ``error`` event said so (a run status).

        Returns:
            1 after an error, 0 when the run simply ended, else the resume request.
        """
        error = self.error or failure
        if error is not None:
            self.out.write(f"\nerror: {error}\n")
            return 1
        if not self.at_line_start:
            self.out.write("\n")
        if self.usage is not None:
            self.out.write(cost_line(self.usage) + "\n")
        if not self.interrupts:
            self.out.write("\n")
            return 0
        return answer(self.interrupts[0].get("value"), decide, self.out)

    def _token(self, chunk: dict[str, Any]) -> None:
        if chunk.get("type") not in ("AIMessageChunk", "ai"):
            return
        text = _text(chunk.get("content"))
        if text:
            self.out.write(text)
            self.at_line_start = text.endswith("\n")

    def _update(self, data: dict[str, Any]) -> None:
        for node, update in data.items():
            if node == "__interrupt__":
                self.interrupts.extend(update)
                continue
            for message in (update or {}).get("messages", []) if isinstance(update, dict) else []:
                if message.get("type") == "ai":
                    for call in message.get("tool_calls") or []:
                        self._line(f"-> {call['name']}({json.dumps(call.get('args', {}))})")
                elif message.get("type") == "tool":
                    self._line(f"<- {message.get('name')}: {_text(message.get('content'))}")

    def _line(self, text: str) -> None:
        if not self.at_line_start:
            self.out.write("\n")
        self.out.write(text + "\n")
        self.at_line_start = True


def cost_line(usage: Mapping[str, Any]) -> str:
    """``[42 tokens: 30 in, 12 out · $0.000090]``; the cost reads ``unpriced`` for a model the
    price table does not know."""
    cost = usage.get("cost_usd")
    money = "unpriced" if cost is None else f"${cost:.6f}"
    return (
        f"[{usage.get('total_tokens', 0)} tokens: {usage.get('input_tokens', 0)} in, "
        f"{usage.get('output_tokens', 0)} out · {money}]"
    )


def _text(content: Any) -> str:
    """Text of a message's content: a string, or the text blocks of a block list."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            block.get("text", "") if isinstance(block, dict) else str(block) for block in content
        )
    return ""


def _describe(value: Any) -> str:
    if isinstance(value, dict) and "action" in value:
        return f"{value['action']}({json.dumps(value.get('args', {}))})"
    return json.dumps(value)


def ask(prompt_out: TextIO) -> Decide:
    """Ask on the terminal; anything but y/yes (or end of input) rejects."""

    def decide(value: Any) -> bool:
        prompt_out.write("approve? [y/N] ")
        prompt_out.flush()
        try:
            answer = input()
        except EOFError:
            return False
        return answer.strip().lower() in ("y", "yes")

    return decide
