"""Exceptions → ``error`` events without internal text."""

from __future__ import annotations

from langgraph.errors import GraphRecursionError

from lambdagraph.engine.failures import GENERIC_MESSAGE, error_event
from lambdagraph.errors import AssistantNotFound


def test_unexpected_errors_get_a_generic_message() -> None:
    event = error_event(KeyError("SELECT * FROM secrets"))
    assert event.event == "error"
    assert event.data == {"error": "KeyError", "message": GENERIC_MESSAGE}


def test_our_errors_and_langgraph_errors_keep_their_text() -> None:
    assert error_event(AssistantNotFound("x")).data == {
        "error": "AssistantNotFound",
        "message": "Assistant x not found",
    }
    recursion = error_event(GraphRecursionError("Recursion limit of 25 reached"))
    assert recursion.data["message"] == "Recursion limit of 25 reached"
