"""Parsing client frames into actions, and the emulator's route selection."""

from __future__ import annotations

import pytest
from lambdagraph.ws.actions import (
    DEFAULT_STREAM_MODE,
    CancelAction,
    RunAction,
    SubscribeAction,
    parse_action,
    parse_body,
    request_id_of,
)
from lambdagraph.ws.errors import CODES, ActionError
from lambdagraph_client.local.gateway import _route_key


def test_a_run_with_defaults() -> None:
    action = parse_action(
        parse_body('{"action": "run", "request_id": "q", "assistant_id": "agent"}')
    )
    assert isinstance(action, RunAction)
    assert (
        action.thread_id is None and action.input is None and action.multitask_strategy == "enqueue"
    )
    assert action.stream_modes() == DEFAULT_STREAM_MODE


def test_one_stream_mode_becomes_a_list_and_extra_fields_are_ignored() -> None:
    data = {
        "action": "run",
        "request_id": "q",
        "assistant_id": "a",
        "stream_mode": "values",
        "x": 1,
    }
    action = parse_action(data)
    assert isinstance(action, RunAction) and action.stream_modes() == ["values"]


def test_cancel_and_subscribe() -> None:
    assert parse_action({"action": "cancel", "run_id": "r"}) == CancelAction(
        action="cancel", run_id="r"
    )
    subscribe = parse_action({"action": "subscribe", "run_id": "r", "after": "0000000003"})
    assert isinstance(subscribe, SubscribeAction) and subscribe.after == "0000000003"


@pytest.mark.parametrize(
    ("body", "code", "fragment"),
    [
        ("", "bad_json", "not valid JSON"),
        ("{", "bad_json", "not valid JSON"),
        ('"run"', "bad_json", "JSON object"),
        ('{"action": 3}', "unknown_action", "3"),
        ('{"action": "run", "assistant_id": "a"}', "invalid_request", "request_id"),
        (
            '{"action": "run", "request_id": "", "assistant_id": "a"}',
            "invalid_request",
            "request_id",
        ),
        (
            '{"action": "run", "request_id": "q", "assistant_id": "a", "command": 1}',
            "invalid_request",
            "command",
        ),
        (
            '{"action": "run", "request_id": "q", "assistant_id": "a", "command": {"goto": {}}}',
            "invalid_request",
            "command.goto: must be a node name",  # the HTTP API's 422 detail, word for word
        ),
        (
            (
                '{"action": "run", "request_id": "q", "assistant_id": "a",'
                ' "config": {"configurable": {"checkpoint_id": 5}}}'
            ),
            "invalid_request",
            "config: configurable.checkpoint_id must be a string",
        ),
        ('{"action": "subscribe", "run_id": "r", "after": [1]}', "invalid_request", "after"),
    ],
)
def test_bad_frames_name_what_is_wrong(body: str, code: str, fragment: str) -> None:
    with pytest.raises(ActionError) as error:
        parse_action(parse_body(body))
    assert error.value.code == code and code in CODES
    assert fragment in error.value.message


def test_request_id_is_echoed_only_when_usable() -> None:
    assert request_id_of({"request_id": "q"}) == "q"
    assert request_id_of({"request_id": 5}) is None
    assert request_id_of({"request_id": "x" * 201}) is None


@pytest.mark.parametrize(
    ("frame", "route"),
    [
        ('{"action": "run"}', "run"),
        ('{"action": "ping"}', "ping"),
        ('{"action": "dance"}', "$default"),
        ('{"no": "action"}', "$default"),
        ("[1]", "$default"),
        ("plain text", "$default"),
        (None, "$default"),
    ],
)
def test_the_emulator_routes_on_action_with_a_default(frame: str | None, route: str) -> None:
    assert _route_key(frame) == route
