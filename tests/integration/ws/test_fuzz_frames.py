"""Frame fuzz for the ``ws`` handler: whatever a client sends, it gets one precise ``error``.

Frames go through :meth:`WebSocketApi.handle` as API Gateway delivers them (the captured
``ws_message`` event; routed on ``$request.body.action``, binary frames base64-encoded),
over moto tables with a fake management client. Each frame must answer exactly one
``error`` whose code says what the client did wrong, never ``internal_error``, and keep
the connection (status 200).
"""

from __future__ import annotations

import base64
import json
from typing import Any, Final

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from lambdagraph.protocol.codec import MAX_INT, MIN_INT
from lambdagraph.ws.actions import ACTIONS, CancelAction, RunAction, SubscribeAction
from lambdagraph.ws.api import WebSocketApi
from tests.conftest import load_event
from tests.integration.ws import test_api as handler
from tests.unit.ws.fakes import FakeManagementClient

# The handler's fixtures (moto tables, fake management client, fake worker starter).
api, client, starter = handler.api, handler.client, handler.starter

FUZZ: Final = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FRAME_BYTES: Final = 32 * 1024
"""API Gateway's frame limit; a client's message may span frames up to 128 KB."""
MESSAGE_BYTES: Final = 128 * 1024

RUN = {"action": "run", "request_id": "r-1", "assistant_id": "agent"}


def frame_event(body: str | bytes) -> dict[str, Any]:
    """The ``MESSAGE`` event API Gateway sends for one client frame."""
    event = load_event("ws_message")
    text = body if isinstance(body, str) else None
    if text is None:
        assert isinstance(body, bytes)
        event["body"], event["isBase64Encoded"] = base64.b64encode(body).decode(), True
    else:
        event["body"], event["isBase64Encoded"] = text, False
    event["requestContext"]["routeKey"] = route_key(text)
    return event


def route_key(text: str | None) -> str:
    """API Gateway's route selection on ``$request.body.action``."""
    try:
        data = orjson.loads(text) if text is not None else None
    except orjson.JSONDecodeError:
        return "$default"
    action = data.get("action") if isinstance(data, dict) else None
    return action if isinstance(action, str) and action in ACTIONS else "$default"


async def answer(api: WebSocketApi, client: FakeManagementClient, body: str | bytes) -> Any:
    """Send one frame; the one message the connection got back."""
    client.posts.clear()
    assert await api.handle(frame_event(body)) == {"statusCode": 200}
    [message] = client.messages(handler.connection_id())
    return message


async def error_code(api: WebSocketApi, client: FakeManagementClient, body: str | bytes) -> str:
    message = await answer(api, client, body)
    assert message["type"] == "error", message
    assert message["message"] and "Traceback" not in message["message"]
    return str(message["code"])


def is_json_object(raw: str | bytes) -> bool:
    try:
        return isinstance(orjson.loads(raw), dict)
    except orjson.JSONDecodeError:
        return False


@FUZZ
@given(text=st.text(max_size=300).filter(lambda t: not is_json_object(t)))
async def test_text_that_is_not_a_json_object_is_bad_json(
    api: WebSocketApi, client: FakeManagementClient, text: str
) -> None:
    assert await error_code(api, client, text) == "bad_json"


@FUZZ
@given(raw=st.binary(min_size=1, max_size=300).filter(lambda b: not is_json_object(b)))
async def test_binary_frames_are_bad_json(
    api: WebSocketApi, client: FakeManagementClient, raw: bytes
) -> None:
    assert await error_code(api, client, raw) == "bad_json"


async def test_the_binary_frame_from_the_issue_is_bad_json(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    assert await error_code(api, client, bytes.fromhex("00fffe80")) == "bad_json"


# Values the codec keeps (it refuses huge integers, non-finite numbers and lone surrogates
# with invalid_request, tested in tests/e2e/ws/test_client_mistakes.py).
TEXT = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=MIN_INT, max_value=MAX_INT)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)


@FUZZ
@given(
    value=st.recursive(JSON_LEAVES, lambda inner: st.lists(inner, max_size=4), max_leaves=10)
)
async def test_json_that_is_not_an_object_is_bad_json(
    api: WebSocketApi, client: FakeManagementClient, value: Any
) -> None:
    assert await error_code(api, client, json.dumps(value)) == "bad_json"


@FUZZ
@given(
    action=st.one_of(
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=40).filter(
            lambda a: a not in ACTIONS
        ),
        st.none(),
        st.integers(min_value=MIN_INT, max_value=MAX_INT),
        st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=2),
    ),
    extra=st.dictionaries(TEXT.filter(lambda k: len(k) <= 10), JSON_LEAVES, max_size=4),
)
async def test_unknown_actions_are_unknown_action(
    api: WebSocketApi, client: FakeManagementClient, action: Any, extra: dict[str, Any]
) -> None:
    frame = {**extra, "action": action}
    assert await error_code(api, client, json.dumps(frame)) == "unknown_action"


async def test_a_frame_without_an_action_is_unknown_action(
    api: WebSocketApi, client: FakeManagementClient
) -> None:
    assert await error_code(api, client, json.dumps({"request_id": "r-1"})) == "unknown_action"


# --- wrong types, field by field ------------------------------------------------------------

SAMPLES: Final[dict[str, Any]] = {
    "string": "x",
    "integer": 7,
    "number": 1.5,
    "boolean": True,
    "array": [1],
    "object": {"k": 1},
    "null": None,
}
"""One JSON value of each type; a field gets one of a type it does not accept."""

FRAMES: Final[dict[type[BaseModel], dict[str, Any]]] = {
    RunAction: RUN,
    CancelAction: {"action": "cancel", "request_id": "c-1", "run_id": "r"},
    SubscribeAction: {"action": "subscribe", "request_id": "s-1", "run_id": "r"},
}
"""A valid frame of each action with fields; each field in turn gets a wrong type."""


def accepted_types(prop: dict[str, Any], defs: dict[str, Any]) -> set[str] | None:
    """The JSON types a field's schema admits; ``None`` for any value."""
    if "$ref" in prop:
        return accepted_types(defs[prop["$ref"].rsplit("/", 1)[-1]], defs)
    for combinator in ("anyOf", "oneOf"):
        if combinator in prop:
            parts = [accepted_types(p, defs) for p in prop[combinator]]
            if any(p is None for p in parts):
                return None
            return set().union(*(p for p in parts if p is not None))
    if "const" in prop or "enum" in prop:
        values = [prop["const"]] if "const" in prop else prop["enum"]
        return {_json_type(v) for v in values}
    kind = prop.get("type")
    if kind is None:
        return None
    kinds = {kind} if isinstance(kind, str) else set(kind)
    return kinds | {"integer"} if "number" in kinds else kinds


def _json_type(value: Any) -> str:
    return next(name for name, sample in SAMPLES.items() if type(sample) is type(value))


def wrong_type_cases() -> list[Any]:
    cases = []
    for model, frame in FRAMES.items():
        schema = model.model_json_schema()
        defs = schema.get("$defs", {})
        for field, prop in schema["properties"].items():
            accepted = accepted_types(prop, defs)
            if field == "action" or accepted is None:
                continue  # the action picks the model; an ``Any`` field has no wrong type
            wrong = next(v for t, v in SAMPLES.items() if t not in accepted)
            frame_id = f"{frame['action']}.{field}={type(wrong).__name__}"
            cases.append(pytest.param({**frame, field: wrong}, field, id=frame_id))
    return cases


@pytest.mark.parametrize(("frame", "field"), wrong_type_cases())
async def test_a_wrong_type_in_any_field_is_invalid_request_naming_it(
    api: WebSocketApi, client: FakeManagementClient, frame: dict[str, Any], field: str
) -> None:
    message = await answer(api, client, json.dumps(frame))
    assert (message["type"], message["code"]) == ("error", "invalid_request"), message
    assert field in message["message"]


def test_every_field_of_every_action_is_covered() -> None:
    fields = {param.values[1] for param in wrong_type_cases()}
    assert {"request_id", "thread_id", "assistant_id", "run_id", "after"} <= fields


# --- deep and huge frames -------------------------------------------------------------------


def nested(depth: int, container: str) -> str:
    """JSON text nested ``depth`` levels deep (built as text: too deep for ``json.dumps``)."""
    opening, closing = ("[", "]") if container == "list" else ('{"k":', "}")
    return opening * depth + "1" + closing * depth


@pytest.mark.parametrize("container", ["list", "object"])
@pytest.mark.parametrize(
    ("depth", "code"),
    [
        pytest.param(100, "invalid_request"),
        pytest.param(300, "invalid_request"),
        pytest.param(900, "invalid_request"),
        # Deeper than the JSON parser reads (orjson: 1024): not JSON to us.
        pytest.param(5000, "invalid_request"),
    ],
)
async def test_deeply_nested_input_is_refused_not_a_crash(
    api: WebSocketApi, client: FakeManagementClient, depth: int, code: str, container: str
) -> None:
    frame = json.dumps({**RUN, "input": {"messages": []}})
    text = frame[:-2] + ', "deep": ' + nested(depth, container) + "}}"
    assert await error_code(api, client, text) == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param("x" * (MESSAGE_BYTES - 1), "bad_json", id="not-json"),
        # Nesting is refused before the decoder reaches the missing brackets.
        pytest.param("[" * (FRAME_BYTES + 1), "invalid_request", id="open-brackets"),
        pytest.param(
            json.dumps({"action": "nope", "pad": "x" * FRAME_BYTES}), "unknown_action", id="unknown"
        ),
        pytest.param(
            json.dumps({**RUN, "assistant_id": 1, "pad": "x" * FRAME_BYTES}),
            "invalid_request",
            id="run-wrong-type",
        ),
    ],
)
async def test_huge_frames_get_the_same_codes_as_small_ones(
    api: WebSocketApi, client: FakeManagementClient, body: str, code: str
) -> None:
    assert await error_code(api, client, body) == code
