"""``lambdagraph chat`` drives a whole approve flow against the running stack."""

from __future__ import annotations

import pytest

from lambdagraph.cli import main
from lambdagraph.local.server import LocalStack


def _chat(stack: LocalStack, *args: str) -> int:
    return main(["chat", "--url", stack.url, "--token", "alice", *args])


def test_chat_approves_the_email_and_shows_the_tool_flow(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _chat(stack, "--yes", "send an email to bob@example.com")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("thread ")
    assert '-> send_email({"to": "bob@example.com"' in out
    assert "approval needed: send_email(" in out
    assert "approved\n" in out
    assert "<- send_email: sent" in out
    assert out.rstrip().endswith("Email sent to bob@example.com.")


def test_chat_rejects_with_no_and_continues_a_thread(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(stack, "count to 3") == 0
    thread_id = capsys.readouterr().out.split()[1]

    status = _chat(stack, "--no", "--thread", thread_id, "send an email to a@b.c")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"thread {thread_id}")
    assert "rejected\n" in out
    assert out.rstrip().endswith("Email to a@b.c was not sent.")


def test_chat_streams_tokens_and_reports_errors(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(stack, "count to 5") == 0
    counted = capsys.readouterr().out

    assert _chat(stack, "trigger an error") == 1
    failed = capsys.readouterr().out

    assert counted.splitlines()[1] == "1 2 3 4 5"
    assert "error: ScriptedModelError" in failed


def test_chat_says_what_failed_when_the_thread_is_unknown(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _chat(stack, "--thread", "00000000-0000-0000-0000-000000000000", "hi")

    assert status == 1
    assert "not found" in capsys.readouterr().err
