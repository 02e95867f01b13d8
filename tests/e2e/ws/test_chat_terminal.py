"""``lambdagraph chat`` in a terminal, over SSE and over WebSocket alike: Ctrl-C at the
approval prompt, coming back with ``--thread``, and a message sent while an approval waits."""

from __future__ import annotations

import asyncio
import logging

import pytest
from langgraph_sdk import get_client

from lambdagraph_client.cli import main
from lambdagraph_client.local.server import LocalStack
from tests.e2e.conftest import auth
from tests.e2e.terminal import Terminal

TRANSPORTS = {"sse": [], "ws": ["--ws"]}


@pytest.fixture(autouse=True)
def keep_logging_config(monkeypatch: pytest.MonkeyPatch) -> None:
    # main() configures the root logger on the captured stderr; leave pytest's in place.
    monkeypatch.setattr(logging, "basicConfig", lambda **_: None)


def _thread_id(output: str) -> str:
    return output.split("thread ", 1)[1].split()[0]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_ctrl_c_at_the_prompt_exits_cleanly_and_thread_answers_later(
    stack: LocalStack, transport: str
) -> None:
    chat = ["chat", *TRANSPORTS[transport], "--url", stack.url, "--token", "alice"]
    with Terminal([*chat, "send an email to kim@example.com"]) as first:
        first.expect("approve? [y/N] ")
        first.ctrl_c()
        stopped = first.wait()
        printed = first.output
    thread_id = _thread_id(printed)
    with Terminal([*chat, "--thread", thread_id]) as second:
        asked = second.expect("approve? [y/N] ")
        second.type("y")
        second.expect("Email sent to kim@example.com.")
        resumed = second.wait()

    assert stopped == 130
    assert "Traceback" not in printed
    again = " --ws" if transport == "ws" else ""
    assert printed.rstrip().endswith(
        f"left pending; answer later with: lambdagraph chat{again} --thread {thread_id}"
    )
    assert asked.startswith(f"thread {thread_id}")
    assert "approval needed: send_email(" in asked
    assert resumed == 0


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_message_on_a_thread_waiting_for_approval_asks_first(
    stack: LocalStack,
    transport: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chat = ["chat", *TRANSPORTS[transport], "--url", stack.url, "--token", "alice"]

    def stop(*_: object) -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", stop)
    assert main([*chat, "send an email to ann@example.com"]) == 130
    thread_id = _thread_id(capsys.readouterr().out)
    monkeypatch.setattr("builtins.input", lambda: "n")

    status = main([*chat, "--thread", thread_id, "count to 3"])

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(
        f"thread {thread_id}\n"
        "an approval is pending on this thread; answer it before your message\n"
    )
    assert "approval needed: send_email(" in out and "rejected\n" in out
    assert out.index("Email to ann@example.com was not sent.") < out.index("1 2 3")


@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_an_unknown_assistant_fails_in_one_line_and_creates_nothing(
    stack: LocalStack, transport: str, capsys: pytest.CaptureFixture[str]
) -> None:
    chat = ["chat", *TRANSPORTS[transport], "--url", stack.url, "--token", "alice"]

    status = await asyncio.to_thread(main, [*chat, "--assistant", "nope", "hi"])

    captured = capsys.readouterr()
    assert status == 1
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1
    assert captured.err.startswith("error: ") and "nope" in captured.err
    assert await get_client(url=stack.url, headers=auth("alice")).threads.search() == []
