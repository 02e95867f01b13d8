"""One JSON encoder for the wire and the store: what it cannot represent is an error; one
strict decoder for what clients send: what we could not keep unchanged is refused by name."""

from __future__ import annotations

import pytest
from langgraph.errors import GraphInterrupt

from lambdagraph.errors import BadJson, InvalidRequest
from lambdagraph.protocol.codec import MAX_INT, MAX_JSON_DEPTH, MIN_INT, dumps, loads
from lambdagraph.store.dynamo import get_j, j


def test_stored_json_is_what_the_wire_carries() -> None:
    value = {"a": (1, 2), "b": {3: "x"}}

    assert j(value) == {"S": dumps(value).decode()}
    assert get_j({"v": j(value)}, "v") == {"a": [1, 2], "b": {"3": "x"}}


def test_a_value_without_a_json_form_is_refused_not_stored_as_repr() -> None:
    with pytest.raises(TypeError, match="object"):
        j({"x": object()})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"metadata": {"n": 18446744073709551616}}', "metadata.n: integer out of range"),
        (b'{"n": -9223372036854775809}', "n: integer out of range"),
        (b'{"a": [1, {"b": NaN}]}', "a.1.b: must be a finite number, not NaN"),
        (b'{"a": Infinity}', "a: must be a finite number, not Infinity"),
        (b'{"a": 1e999}', "a: must be a finite number, not Infinity"),
        (b'{"a": "\\ud800"}', "a: contains a lone surrogate"),
        (b'{"a": {"\\udfff": 1}}', "a: has a key with a lone surrogate"),
        (b'{"x": ' + b"[" * 64 + b"]" * 64 + b"}", "x.0.0.0.0.0.0.0.…: nested deeper than 64"),
        (b"[" * 10_000 + b"]" * 10_000, "Request body is nested deeper than 64 levels"),
        (b'{"n": ' + b"9" * 5000 + b"}", "Request body holds an integer out of range"),
    ],
)
def test_values_we_could_not_keep_unchanged_are_refused_by_name(text: bytes, message: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        loads(text)

    assert refused.value.message.startswith(message)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b'{"a":', "The frame is not valid JSON"),
        (b"\x00\xff\xfe\x80", "The frame is not valid JSON (it is not UTF-8 text)"),
    ],
)
def test_text_that_is_not_json_is_bad_json(text: bytes, message: str) -> None:
    with pytest.raises(BadJson) as refused:
        loads(text, subject="The frame")

    assert refused.value.message == message


def test_edge_values_and_surrogate_pairs_pass_unchanged() -> None:
    text = '{"ok": ["\\ud83d\\ude00", -9223372036854775808, 18446744073709551615, 1.5e308]}'
    nested = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH

    assert loads(text) == {"ok": ["😀", MIN_INT, MAX_INT, 1.5e308]}
    assert dumps(loads(text)) == dumps({"ok": ["😀", MIN_INT, MAX_INT, 1.5e308]})
    assert loads(nested) is not None


def test_an_exception_in_an_event_is_written_as_langgraph_server_writes_it() -> None:
    assert loads(dumps({"error": GraphInterrupt(())})) == {
        "error": {"error": "GraphInterrupt", "message": "()"}
    }
    assert loads(dumps([OSError("secret path /etc/x")])) == [
        {"error": "OSError", "message": "An internal error occurred"}
    ]
