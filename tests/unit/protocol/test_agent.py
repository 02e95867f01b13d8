"""Subscriptions, command parsing and responses of the Agent Streaming Protocol."""

from __future__ import annotations

from typing import Any

import pytest

from lambdagraph.protocol.agent import (
    ERROR_CODES,
    ProtocolError,
    Subscription,
    error,
    parse_command,
    parse_since,
    parse_subscription,
    success,
)


def frame(method: str, namespace: list[str] | None = None, data: Any = None) -> dict[str, Any]:
    return {
        "type": "event",
        "seq": 1,
        "method": method,
        "params": {"namespace": namespace or [], "timestamp": 0, "data": data},
    }


def test_channels_select_frames_and_input_requested_is_the_input_channel() -> None:
    sub = parse_subscription({"channels": ["values", "input"]})
    assert sub.matches(frame("values"))
    assert sub.matches(frame("input.requested", data={"interrupt_id": "i"}))
    assert not sub.matches(frame("messages"))
    assert not sub.matches(frame("lifecycle"))


def test_custom_takes_every_custom_frame_and_custom_name_only_its_own() -> None:
    named = frame("custom", data={"name": "progress", "payload": 1})
    other = frame("custom", data={"name": "other", "payload": 1})
    assert parse_subscription({"channels": ["custom"]}).matches(other)
    only = parse_subscription({"channels": ["custom:progress"]})
    assert only.matches(named)
    assert not only.matches(other)
    assert not only.matches(frame("custom", data={"payload": 1}))


def test_namespaces_match_by_prefix_with_optional_task_suffix_and_depth() -> None:
    sub = parse_subscription({"channels": ["values"], "namespaces": [["inner"]], "depth": 1})
    assert sub.matches(frame("values", ["inner:3f2a"]))
    assert sub.matches(frame("values", ["inner:3f2a", "leaf:9"]))
    assert not sub.matches(frame("values", ["inner:3f2a", "leaf:9", "deeper:1"]))
    assert not sub.matches(frame("values", []))
    assert not sub.matches(frame("values", ["other:1"]))
    exact = parse_subscription({"channels": ["values"], "namespaces": [["inner:1"]]})
    assert exact.matches(frame("values", ["inner:1"]))
    assert not exact.matches(frame("values", ["inner:2"]))
    root_only = parse_subscription({"channels": ["values"], "namespaces": [[]], "depth": 0})
    assert root_only.matches(frame("values", []))
    assert not root_only.matches(frame("values", ["inner:1"]))


def test_a_subscription_round_trips_through_its_params() -> None:
    params = {"channels": ["messages", "values"], "namespaces": [["a"]], "depth": 2}
    sub = parse_subscription(params)
    assert sub.to_params() == params
    assert parse_subscription(sub.to_params()) == sub
    assert sub == Subscription(frozenset({"values", "messages"}), (("a",),), 2)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        (None, "JSON object"),
        ({}, "channels"),
        ({"channels": []}, "channels"),
        ({"channels": ["values", "bogus"]}, "bogus"),
        ({"channels": ["custom:"]}, "custom:"),
        ({"channels": [3]}, "3"),
        ({"channels": ["values"], "namespaces": "a"}, "namespaces"),
        ({"channels": ["values"], "namespaces": [[1]]}, "namespaces"),
        ({"channels": ["values"], "depth": -1}, "depth"),
        ({"channels": ["values"], "depth": True}, "depth"),
    ],
)
def test_bad_subscriptions_are_invalid_arguments_naming_the_problem(
    params: Any, words: str
) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_subscription(params)
    assert caught.value.code == "invalid_argument"
    assert words in caught.value.message


def test_since_is_a_non_negative_integer_or_absent() -> None:
    assert parse_since(None) is None
    assert parse_since(0) == 0
    assert parse_since(42) == 42
    for bad in (-1, True, "3", 1.5):
        with pytest.raises(ProtocolError, match="since"):
            parse_since(bad)


def test_commands_need_an_integer_id_and_a_method() -> None:
    assert parse_command({"id": 3, "method": "run.start"}) == (3, "run.start", {})
    assert parse_command({"id": 0, "method": "m", "params": {"a": 1}}) == (0, "m", {"a": 1})
    bad: object
    for bad in (
        [],
        {"method": "m"},
        {"id": "1", "method": "m"},
        {"id": True, "method": "m"},
        {"id": 1},
        {"id": 1, "method": "m", "params": []},
    ):
        with pytest.raises(ProtocolError) as caught:
            parse_command(bad)
        assert caught.value.code == "invalid_argument"


def test_responses_have_the_schema_shape() -> None:
    assert success(4, {"run_id": "r"}, 17) == {
        "type": "success",
        "id": 4,
        "result": {"run_id": "r"},
        "meta": {"applied_through_seq": 17},
    }
    assert "meta" not in success(4, {}, -1)
    assert error(None, "unknown_command", "no") == {
        "type": "error",
        "id": None,
        "error": "unknown_command",
        "message": "no",
    }
    assert {"invalid_argument", "no_such_run", "no_such_interrupt"} <= ERROR_CODES
    with pytest.raises(ValueError):
        error(1, "not_a_code", "x")
    with pytest.raises(ValueError):
        ProtocolError("not_a_code", "x")
