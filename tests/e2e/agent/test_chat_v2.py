"""``lambdagraph chat --protocol v2`` drives the approve flow over the Agent Streaming Protocol."""

from __future__ import annotations

import pytest

from lambdagraph_client.cli import main

# The demo agent is served as `demo` here (the SDK integration scripts own `agent`).
_DEMO = ("--assistant", "demo", "--protocol", "v2")


def _chat(server: str, *args: str) -> int:
    return main(["chat", "--url", server, *_DEMO, *args])


@pytest.mark.parametrize("transport", [[], ["--ws"]], ids=["sse", "websocket"])
def test_v2_chat_approves_the_email_and_shows_the_tool_flow(
    server: str, transport: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    status = _chat(server, *transport, "--yes", "send an email to bob@example.com")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("thread ")
    assert '-> send_email({"to": "bob@example.com"' in out
    assert out.count("approval needed: send_email(") == 1
    assert "approved\n" in out
    assert "<- send_email: sent" in out
    assert out.rstrip().endswith("Email sent to bob@example.com.")


def test_v2_chat_streams_tokens_and_reports_errors(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(server, "count to 5") == 0
    counted = capsys.readouterr().out

    assert _chat(server, "trigger an error") == 1
    failed = capsys.readouterr().out

    assert counted.splitlines()[1] == "1 2 3 4 5"
    assert "\nerror: " in failed


def test_v2_chat_says_what_failed_when_the_assistant_is_unknown(
    server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(["chat", "--url", server, "--assistant", "nope", "--protocol", "v2", "hi"])

    assert status == 1
    assert "nope" in capsys.readouterr().err


def test_v2_chat_rejects_with_no_and_continues_a_thread(
    lambdagraph_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only against lambdagraph: ``langgraph dev`` answers every ``run.start`` with
    ``applied_through_seq: 0``, so a new chat process on an old thread would replay it."""
    assert _chat(lambdagraph_url, "count to 3") == 0
    thread_id = capsys.readouterr().out.split()[1]

    status = _chat(lambdagraph_url, "--no", "--thread", thread_id, "send an email to a@b.c")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"thread {thread_id}")
    assert "1 2 3" not in out
    assert "rejected\n" in out
    assert out.rstrip().endswith("Email to a@b.c was not sent.")
