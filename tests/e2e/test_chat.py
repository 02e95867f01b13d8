"""``lambdagraph chat`` drives a whole approve flow against the running stack."""

from __future__ import annotations

import io
import re

import pytest

from lambdagraph_client.cli import main
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, stack_settings

COST_LINE = re.compile(r"\n\[\d+ tokens: \d+ in, \d+ out · \$\d+\.\d{6}\]\s*$")


def _answer(out: str) -> str:
    """The output without the cost line that ends each answer."""
    return COST_LINE.sub("", out).rstrip()


def _chat(stack: LocalStack, *args: str) -> int:
    return main(["chat", "--url", stack.url, "--token", "alice", *args])


def test_chat_approves_the_email_and_shows_the_tool_flow(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _chat(shared_stack, "--yes", "send an email to bob@example.com")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("thread ")
    assert '-> send_email({"to": "bob@example.com"' in out
    assert "approval needed: send_email(" in out
    assert "approved\n" in out
    assert "<- send_email: sent" in out
    assert _answer(out).endswith("Email sent to bob@example.com.")
    assert COST_LINE.search(out), out  # tokens and the scripted model's pseudo price


def test_chat_rejects_with_no_and_continues_a_thread(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(shared_stack, "count to 3") == 0
    thread_id = capsys.readouterr().out.split()[1]

    status = _chat(shared_stack, "--no", "--thread", thread_id, "send an email to a@b.c")

    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith(f"thread {thread_id}")
    assert "rejected\n" in out
    assert _answer(out).endswith("Email to a@b.c was not sent.")


def test_chat_streams_tokens_and_reports_errors(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(shared_stack, "count to 5") == 0
    counted = capsys.readouterr().out

    assert _chat(shared_stack, "trigger an error") == 1
    failed = capsys.readouterr().out

    assert counted.splitlines()[1] == "1 2 3 4 5"
    assert "error: ScriptedModelError" in failed


def test_chat_says_what_failed_when_the_thread_is_unknown(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    status = _chat(shared_stack, "--thread", "00000000-0000-0000-0000-000000000000", "hi")

    assert status == 1
    assert "not found" in capsys.readouterr().err


def test_chat_asks_on_the_terminal_when_no_flag_is_given(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("y\n"))

    status = _chat(shared_stack, "send an email to bob@example.com")

    out = capsys.readouterr().out
    assert status == 0
    assert "approve? [y/N] approved" in out
    assert _answer(out).endswith("Email sent to bob@example.com.")


def test_chat_treats_end_of_input_as_a_rejection(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))

    assert _chat(shared_stack, "send an email to bob@example.com") == 0
    assert _answer(capsys.readouterr().out).endswith("Email to bob@example.com was not sent.")


def test_chat_needs_a_message_unless_it_answers_a_thread(
    shared_stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _chat(shared_stack) == 2
    assert "give a message" in capsys.readouterr().err


def test_ctrl_c_at_the_prompt_leaves_the_approval_for_a_restarted_server(
    tables: Tables, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def stop(*_: object) -> str:
        raise KeyboardInterrupt

    settings = stack_settings(tables)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as first:
        monkeypatch.setattr("builtins.input", stop)
        stopped = _chat(first, "send an email to kim@example.com")
        thread_id = capsys.readouterr().out.split()[1]
    with running_stack(settings=settings, authenticator=TokenIsUser()) as second:
        monkeypatch.setattr("builtins.input", lambda: "y")
        resumed = _chat(second, "--thread", thread_id)
        answered = capsys.readouterr().out
        nothing_left = _chat(second, "--thread", thread_id)
        idle = capsys.readouterr().out

    assert stopped == 130
    assert answered.startswith(f"thread {thread_id}\n\napproval needed: send_email(")
    assert "approve? [y/N] approved" in answered
    assert resumed == 0
    assert _answer(answered).endswith("Email sent to kim@example.com.")
    assert nothing_left == 0
    assert "no approval is pending" in idle
