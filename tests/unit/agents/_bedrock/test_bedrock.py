"""Bedrock through botocore with a stubbed ConverseStream: real event-stream bytes, no network."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.eventstream import EventStreamBuffer
from langchain_core.messages import AIMessageChunk

pytest.importorskip("langchain_aws")

from lambdagraph.agents import build_agent_graph, create_chat_model, get_weather
from lambdagraph.agents.bedrock import create_bedrock_model
from lambdagraph.agents.tools import fake_weather
from lambdagraph.settings import Settings
from tests.unit.agents._bedrock.eventstream import (
    encode_event,
    text_reply,
    tool_use_reply,
)

MODEL_ID = "us.anthropic.claude-haiku-4-5-20251001-v1:0"


class _RawStream:
    """The urllib3 response botocore reads event streams from, cut at odd offsets."""

    def __init__(self, frames: list[bytes]) -> None:
        data = b"".join(frames)
        # Sockets don't respect frame boundaries; neither do these reads.
        self._pieces = [data[i : i + 37] for i in range(0, len(data), 37)]
        self.closed = False

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield from self._pieces

    def close(self) -> None:
        self.closed = True


class FakeBedrock:
    """Answers each ConverseStream call with the next scripted reply and records requests."""

    def __init__(self, client: Any, replies: list[list[bytes]]) -> None:
        self.requests: list[AWSPreparedRequest] = []
        self.streams: list[_RawStream] = []
        self._replies = iter(replies)
        client.meta.events.register("before-send.bedrock-runtime.ConverseStream", self)

    def __call__(self, request: AWSPreparedRequest, **_: Any) -> AWSResponse:
        self.requests.append(request)
        raw = _RawStream(next(self._replies))
        self.streams.append(raw)
        headers = {"content-type": "application/vnd.amazon.eventstream"}
        return AWSResponse(request.url, 200, headers, raw)

    def body(self, index: int) -> dict[str, Any]:
        return json.loads(self.requests[index].body)  # type: ignore[no-any-return]


@pytest.fixture
def client() -> Any:
    return boto3.client("bedrock-runtime", region_name="us-east-1")


def test_encoder_round_trips_through_botocores_decoder() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(encode_event("contentBlockDelta", {"delta": {"text": "hi"}}))
    (message,) = list(buffer)
    assert message.headers[":event-type"] == "contentBlockDelta"
    assert json.loads(message.payload) == {"delta": {"text": "hi"}}


def test_tokens_stream_as_separate_chunks_with_usage_last(client: Any) -> None:
    fake = FakeBedrock(client, [text_reply(["Hello", " from", " Bedrock", "."], (11, 4))])
    model = create_bedrock_model(MODEL_ID, client=client)

    chunks = list(model.stream("Say hello"))

    texts = [c.text for c in chunks if c.text]
    assert texts == ["Hello", " from", " Bedrock", "."]
    usage = [c.usage_metadata for c in chunks if c.usage_metadata]
    assert len(usage) == 1
    assert usage[0]["input_tokens"] == 11
    assert usage[0]["output_tokens"] == 4
    assert usage[0]["total_tokens"] == 15
    assert len({c.id for c in chunks}) == 1
    assert "/model/" in fake.requests[0].url and fake.requests[0].url.endswith("/converse-stream")
    assert fake.body(0)["messages"] == [{"role": "user", "content": [{"text": "Say hello"}]}]
    assert fake.streams[0].closed


def test_tool_use_streams_as_tool_call_chunks(client: Any) -> None:
    reply = tool_use_reply(
        ["Let me", " check."], "tooluse_1", "get_weather", ['{"city":', ' "Par', 'is"}'], (20, 9)
    )
    fake = FakeBedrock(client, [reply])
    model = create_bedrock_model(MODEL_ID, client=client).bind_tools([get_weather])

    chunks = list(model.stream("weather in Paris"))

    assert sum(1 for c in chunks if c.tool_call_chunks) >= 3
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged = merged + chunk
    assert isinstance(merged, AIMessageChunk)
    assert [(c["name"], c["args"], c["id"]) for c in merged.tool_calls] == [
        ("get_weather", {"city": "Paris"}, "tooluse_1")
    ]
    assert merged.usage_metadata is not None and merged.usage_metadata["total_tokens"] == 29
    tools = fake.body(0)["toolConfig"]["tools"]
    assert [t["toolSpec"]["name"] for t in tools] == ["get_weather"]


async def test_demo_graph_runs_on_bedrock(client: Any) -> None:
    fake = FakeBedrock(
        client,
        [
            tool_use_reply([], "tooluse_7", "get_weather", ['{"city": "Oslo"}'], (30, 5)),
            text_reply(["It is", " fine", " in Oslo."], (50, 4)),
        ],
    )
    graph = build_agent_graph(create_bedrock_model(MODEL_ID, client=client))

    chunks: list[AIMessageChunk] = []
    final: dict[str, Any] = {}
    async for mode, data in graph.astream(
        {"messages": [("user", "weather in Oslo")]}, stream_mode=["messages", "values"]
    ):
        if mode == "messages" and isinstance(data[0], AIMessageChunk):
            chunks.append(data[0])
        elif mode == "values":
            final = data

    assert final["messages"][-1].text == "It is fine in Oslo."
    assert [c.text for c in chunks if c.text] == ["It is", " fine", " in Oslo."]
    tool_result = fake.body(1)["messages"][-1]["content"][0]["toolResult"]
    assert tool_result["toolUseId"] == "tooluse_7"
    assert tool_result["content"] == [{"text": fake_weather("Oslo")}]


def test_settings_choose_a_streaming_bedrock_model() -> None:
    model = create_chat_model(Settings(model="bedrock", bedrock_model_id=MODEL_ID))

    assert type(model).__name__ == "ChatBedrockConverse"
    assert model.model_id == MODEL_ID
    assert model.streaming is True
    assert model.disable_streaming is False


def test_the_models_own_clients_carry_the_shared_config() -> None:
    model = create_chat_model(Settings(model="bedrock", bedrock_model_id=MODEL_ID))

    # Both clients langchain-aws builds: ConverseStream's and the control plane's.
    for client in (model.client, model.bedrock_client):
        config = client.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}
        # The first streamed chunk follows the whole prompt's processing: a longer wait.
        assert (config.connect_timeout, config.read_timeout) == (5, 300)
        assert config.max_pool_connections == 50
