"""What streams from your own graph, shape by shape, through the real SDK (README: Your own graph).

Tokens reach ``messages-tuple`` only when the model call gets the run's config; where it
cannot, the client gets the whole answer once and the server logs one warning naming the node.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from langgraph_sdk.schema import StreamPart

from lambdagraph.engine.streaming_check import WARNING
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.conftest import Tables
from tests.e2e.conftest import TokenIsUser, auth, stack_settings, user_message

_GRAPHS = (
    "sync_invoke", "pool_without_config", "pool_with_config", "run_in_executor_without_config",
    "async_without_config",
    "to_thread_without_config", "canned_reply", "converse_stream", "with_subgraph",
)
_CHECK_LOGGER = "lambdagraph.engine.streaming_check"
_COUNT = ["1", "2", "3", "4", "5"]


@pytest.fixture(scope="module")
def own_stack(aws_endpoint: str) -> Iterator[LocalStack]:
    """One stack serving every graph of ``tests/e2e/streaming_graphs.py`` under its name."""
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    graphs = ",".join(f"{name}=tests.e2e.streaming_graphs:{name}" for name in _GRAPHS)
    settings = stack_settings(tables, graphs=graphs)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


@pytest.fixture
def client(own_stack: LocalStack) -> LangGraphClient:
    return get_client(url=own_stack.url, headers=auth("alice"))


@pytest.fixture
def warnings(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Captures the streaming check's warnings (the stack runs in this process)."""
    caplog.set_level(logging.WARNING, logger=_CHECK_LOGGER)
    return caplog


def _check_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == _CHECK_LOGGER]


async def _stream(
    client: LangGraphClient, graph: str, modes: list[Any], **options: Any
) -> tuple[list[StreamPart], str]:
    thread = await client.threads.create()
    created: dict[str, Any] = {}
    parts = [
        part async for part in client.runs.stream(
            thread["thread_id"], graph, input=user_message("count to 5"), stream_mode=modes,
            on_run_created=lambda meta: created.update(meta), **options,
        )
    ]
    return parts, str(created["run_id"])


def _data(parts: list[StreamPart], name: str) -> list[Any]:
    return [part.data for part in parts if part.event == name]


def _words(messages: list[Any]) -> list[str]:
    return "".join(message["content"] for message, _meta in messages).split()


@pytest.mark.parametrize(
    "graph",
    ["sync_invoke", "pool_with_config", "async_without_config", "to_thread_without_config"],
)
async def test_model_calls_that_keep_the_runs_config_stream_their_tokens(
    client: LangGraphClient, warnings: pytest.LogCaptureFixture, graph: str
) -> None:
    parts, _ = await _stream(client, graph, ["messages-tuple", "values", "usage"])

    messages = _data(parts, "messages")
    assert len(messages) == len(_COUNT) + 1  # a chunk per number, then the usage chunk
    assert messages[-1][0]["content"] == ""
    assert {message["type"] for message, _meta in messages} == {"AIMessageChunk"}
    assert _words(messages) == _COUNT
    assert {meta["langgraph_node"] for _message, meta in messages} == {"answer"}
    final = _data(parts, "values")[-1]["messages"][-1]
    assert {message["id"] for message, _meta in messages} == {final["id"]}
    assert _data(parts, "usage")[-1]["total"]["output_tokens"] == len(_COUNT)
    assert _check_warnings(warnings) == []


@pytest.mark.parametrize("graph", ["pool_without_config", "run_in_executor_without_config"])
async def test_a_model_called_from_the_nodes_own_thread_pool_answers_whole_and_is_reported(
    client: LangGraphClient, warnings: pytest.LogCaptureFixture, graph: str
) -> None:
    parts, run_id = await _stream(client, graph, ["messages-tuple", "usage"])

    messages = _data(parts, "messages")
    assert [message["type"] for message, _meta in messages] == ["ai"]
    assert _words(messages) == _COUNT
    assert _data(parts, "usage") == []  # the lost callbacks count no tokens either
    [record] = _check_warnings(warnings)
    assert record.getMessage() == WARNING % "answer"
    assert record.run_id == run_id  # type: ignore[attr-defined]


async def test_a_node_writing_its_own_message_is_not_reported(
    client: LangGraphClient, warnings: pytest.LogCaptureFixture
) -> None:
    parts, _ = await _stream(client, "canned_reply", ["messages-tuple"])

    [(message, _meta)] = _data(parts, "messages")
    assert message["content"] == "Thanks, a person will answer soon."
    assert _check_warnings(warnings) == []


async def test_a_non_langchain_client_streams_through_custom_events(
    client: LangGraphClient, warnings: pytest.LogCaptureFixture
) -> None:
    parts, _ = await _stream(client, "converse_stream", ["messages-tuple", "custom", "values"])

    custom = _data(parts, "custom")
    assert custom == [{"delta": "1"}, *({"delta": f" {n}"} for n in _COUNT[1:])]
    assert _words(_data(parts, "messages")) == _COUNT  # the node's answer, once, whole
    assert _data(parts, "values")[-1]["messages"][-1]["content"] == "1 2 3 4 5"
    assert _check_warnings(warnings) == []


async def test_a_subgraphs_model_streams_its_tokens_with_stream_subgraphs(
    client: LangGraphClient, warnings: pytest.LogCaptureFixture
) -> None:
    parts, _ = await _stream(
        client, "with_subgraph", ["messages-tuple", "values"], stream_subgraphs=True
    )

    subgraph_messages = [p for p in parts if p.event.startswith("messages|research:")]
    assert len(subgraph_messages) == len(_COUNT) + 1  # a chunk per number, then usage
    assert {p.data[0]["type"] for p in subgraph_messages} == {"AIMessageChunk"}
    assert _words([p.data for p in subgraph_messages]) == _COUNT
    assert {p.data[1]["langgraph_node"] for p in subgraph_messages} == {"writer"}
    assert _check_warnings(warnings) == []


async def test_without_stream_subgraphs_a_subgraphs_answer_arrives_whole_unreported(
    client: LangGraphClient, warnings: pytest.LogCaptureFixture
) -> None:
    parts, _ = await _stream(client, "with_subgraph", ["messages-tuple", "values"])

    messages = _data(parts, "messages")
    assert [message["type"] for message, _meta in messages] == ["ai"]
    assert _words(messages) == _COUNT
    assert not any("|" in part.event for part in parts)
    # The model got the run's config; the client chose not to see inside subgraphs.
    assert _check_warnings(warnings) == []
