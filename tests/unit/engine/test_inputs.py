"""Inputs checked against the graph: only what that graph would fail on is refused."""

from __future__ import annotations

import functools
import operator
import re
from typing import Annotated, Any, TypedDict

import pytest
from langgraph.func import entrypoint
from langgraph.graph import END, START, MessagesState, StateGraph
from langgraph.graph.message import add_messages

from lambdagraph.engine.inputs import GraphInputs
from lambdagraph.engine.requests import RunRequest
from lambdagraph.errors import InvalidRequest


def _request(**fields: Any) -> RunRequest:
    return RunRequest.model_validate({"assistant_id": "g", **fields})


def _compiled(state: type) -> Any:
    builder: StateGraph[Any, Any, Any, Any] = StateGraph(state)
    builder.add_node("step", lambda s: {})
    builder.add_edge(START, "step")
    builder.add_edge("step", END)
    return builder.compile()


class Plain(TypedDict):
    messages: list[int]  # no reducer: not LangChain messages
    total: Annotated[int, operator.add]


class OpenAIFormat(TypedDict):
    messages: Annotated[list[Any], functools.partial(add_messages, format="langchain-openai")]


@entrypoint()
def echo(text: str) -> str:
    return text


def test_a_functional_graph_takes_any_input() -> None:
    GraphInputs.of(echo).check(_request(input="hello"))


def test_a_state_graph_takes_an_object_or_null() -> None:
    inputs = GraphInputs.of(_compiled(MessagesState))

    inputs.check(_request(input=None))
    with pytest.raises(InvalidRequest, match="input: must be an object"):
        inputs.check(_request(input=["hello"]))


def test_only_add_messages_channels_must_hold_messages() -> None:
    GraphInputs.of(_compiled(Plain)).check(_request(input={"messages": [1, 2], "total": 3}))

    with pytest.raises(InvalidRequest, match=r"input\.messages\.0: not a valid message"):
        GraphInputs.of(_compiled(OpenAIFormat)).check(_request(input={"messages": [7]}))


def test_goto_names_a_node_of_the_graph() -> None:
    inputs = GraphInputs.of(_compiled(MessagesState))

    inputs.check(_request(command={"goto": "step"}))
    inputs.check(_request(command={"goto": [{"node": "step", "input": {}}]}))
    message = re.escape("command.goto: no node 'nope'; nodes: step")
    with pytest.raises(InvalidRequest, match=message):
        inputs.check(_request(command={"goto": ["step", "nope"]}))


def test_a_command_beside_an_input_wins_as_on_langgraph_server() -> None:
    request = _request(input={"messages": []}, command={"resume": "yes"})

    assert request.input is None
    assert request.resumes
    assert request.to_kwargs()["command"] == {"resume": "yes"}
