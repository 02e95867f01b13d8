"""FrameNormalizer against events captured from LangGraph's ``astream_events(version="v3")``.

The captures (``captures/*.json``) are the demo agent asking for the weather (a tool call),
the demo agent asking to send an email (an interrupt), and ``nested`` (a subgraph), all
recorded through ``engine.v3_stream.v3_events`` and JSON-encoded as the executor sees them.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from lambdagraph.protocol.agent_events import FrameNormalizer, checkpoint_envelope

CAPTURES = Path(__file__).parent / "captures"


def load_capture(name: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((CAPTURES / f"{name}.json").read_text())
    return events


def run(name: str, status: str = "success", error: str | None = None) -> list[dict[str, Any]]:
    events = load_capture(name)
    normalizer = FrameNormalizer("agent")
    frames = normalizer.start()
    for event in events:
        frames.extend(normalizer.feed(event))
    return frames + normalizer.finish(status, error)


def of(frames: list[dict[str, Any]], method: str) -> list[dict[str, Any]]:
    return [f["params"]["data"] for f in frames if f["method"] == method]


def test_the_root_lifecycle_opens_and_closes_the_run() -> None:
    frames = run("weather")
    assert frames[0]["params"] == {**frames[0]["params"], "namespace": []}
    assert of(frames, "lifecycle") == [
        {"event": "running", "graph_name": "agent"},
        {"event": "completed", "graph_name": "agent"},
    ]
    assert frames[-1]["method"] == "lifecycle"
    assert all(f["type"] == "event" and "seq" not in f for f in frames)


def test_messages_are_langgraphs_content_block_events_without_metadata() -> None:
    events = load_capture("weather")
    sent = [e["params"]["data"][0] for e in events if e["method"] == "messages"]
    frames = run("weather")
    root = [
        f["params"]["data"]
        for f in frames
        if f["method"] == "messages" and f["params"]["namespace"] == []
    ]
    assert root == sent
    assert [m["event"] for m in root if m["event"].startswith("message")] == [
        "message-start",
        "message-finish",
        "message-start",
        "message-finish",
    ]
    assert root[-1]["usage"]["output_tokens"] > 0
    finished_call = next(m for m in root if m["event"] == "content-block-finish")["content"]
    assert finished_call["type"] == "tool_call" and finished_call["args"] == {"city": "Paris"}


def test_a_tool_call_has_its_lifecycle_and_a_tool_message() -> None:
    frames = run("weather")
    tools = of(frames, "tools")
    assert [t["event"] for t in tools] == ["tool-started", "tool-finished"]
    call_id = tools[0]["tool_call_id"]
    assert tools[0]["tool_name"] == "get_weather" and tools[0]["input"] == {"city": "Paris"}
    assert tools[1]["output"]["content"] == "rainy and 18 °C"
    mirrored = [f for f in frames if f["params"]["namespace"] == [f"tools:{call_id}"]]
    assert [f["params"]["data"]["event"] for f in mirrored] == [
        "message-start",
        "content-block-start",
        "content-block-delta",
        "content-block-finish",
        "message-finish",
    ]
    assert mirrored[0]["params"]["data"]["role"] == "tool"
    assert mirrored[3]["params"]["data"]["content"]["text"] == "rainy and 18 °C"


def test_values_carry_protocol_messages_and_updates_name_their_node() -> None:
    frames = run("weather")
    last = of(frames, "values")[-1]["messages"]
    assert [m["type"] for m in last] == ["human", "ai", "tool", "ai"]
    assert "additional_kwargs" not in last[0] and "name" not in last[0]
    assert last[1]["tool_calls"] == [
        {
            "type": "tool_call",
            "name": "get_weather",
            "args": {"city": "Paris"},
            "id": last[2]["tool_call_id"],
        }
    ]
    assert last[2]["status"] == "success"
    updates = [f for f in frames if f["method"] == "updates"]
    assert [u["params"]["node"] for u in updates] == ["model", "tools", "model"]
    assert updates[0]["params"]["data"]["node"] == "model"
    assert updates[0]["params"]["data"]["values"]["messages"][0]["type"] == "ai"


def test_checkpoints_are_envelopes_chained_by_parent() -> None:
    checkpoints = of(run("weather"), "checkpoints")
    assert checkpoints[0]["source"] == "input" and checkpoints[0]["step"] == -1
    assert "parent_id" not in checkpoints[0]
    for parent, child in itertools.pairwise(checkpoints):
        assert child["parent_id"] == parent["id"]
        assert child["step"] == parent["step"] + 1
    assert checkpoint_envelope({"id": "x", "step": 1, "source": "loop"}) == {
        "id": "x",
        "step": 1,
        "source": "loop",
    }
    assert checkpoint_envelope({"config": {}}) is None


def test_an_interrupt_is_one_input_requested_and_the_root_turns_interrupted() -> None:
    frames = run("interrupt")
    asked = [f for f in frames if f["method"] == "input.requested"]
    assert len(asked) == 1
    request = asked[0]["params"]["data"]
    assert set(request) == {"interrupt_id", "payload"}
    assert request["payload"]["action"] == "send_email"
    assert request["payload"]["args"]["to"] == "bob@example.com"
    # As LangGraph Server: the request, the root's interrupted, then the snapshot at the interrupt.
    assert frames[-2]["params"]["data"] == {"event": "interrupted", "graph_name": "agent"}
    assert frames.index(asked[0]) == len(frames) - 3
    assert frames[-1]["method"] == "values"
    assert frames[-1]["params"]["data"] == of(frames, "values")[-2]
    assert of(frames, "lifecycle").count({"event": "interrupted", "graph_name": "agent"}) == 1


def test_an_interrupt_and_the_snapshot_after_it_come_out_of_one_event() -> None:
    """The JS client pauses its projections one tick after a root terminal lifecycle: the
    snapshot that follows ``interrupted`` must reach it in the same batch."""
    normalizer = FrameNormalizer("agent")
    batches = [normalizer.feed(event) for event in load_capture("interrupt")]
    asking = next(b for b in batches if any(f["method"] == "input.requested" for f in b))
    assert [f["method"] for f in asking] == ["input.requested", "lifecycle", "values"]
    assert normalizer.finish("interrupted") == []


def test_an_interrupt_update_with_no_snapshot_after_it_is_not_lost() -> None:
    update = next(e for e in load_capture("interrupt") if "__interrupt__" in e["params"]["data"])
    normalizer = FrameNormalizer("agent")
    assert normalizer.feed(update) == []
    frames = normalizer.finish("interrupted")
    assert [f["method"] for f in frames] == ["input.requested", "lifecycle"]
    assert frames[1]["params"]["data"]["event"] == "interrupted"


def test_a_subgraph_starts_once_and_completes_when_its_parent_names_it() -> None:
    frames = run("subgraph")
    inner = [f for f in frames if f["method"] == "lifecycle" and f["params"]["namespace"]]
    assert [f["params"]["data"]["event"] for f in inner] == ["started", "completed"]
    namespace = inner[0]["params"]["namespace"]
    assert namespace[0].startswith("inner:")
    assert inner[0]["params"]["data"]["graph_name"] == "inner"
    parent_update = next(
        i
        for i, f in enumerate(frames)
        if f["method"] == "updates"
        and f["params"]["namespace"] == []
        and f["params"]["node"] == "inner"
    )
    assert frames[parent_update + 1] == inner[1]
    assert of(frames, "values")[-1] == {"trail": ["start:-", "step"]}


def test_a_failed_run_closes_open_namespaces_then_fails_the_root() -> None:
    normalizer = FrameNormalizer("agent")
    normalizer.start()
    normalizer.feed({"method": "values", "params": {"namespace": ["a:1"], "data": {"x": 1}}})
    frames = normalizer.finish("error", "boom")
    assert [(f["params"]["namespace"], f["params"]["data"]) for f in frames] == [
        (["a:1"], {"event": "completed", "graph_name": "a"}),
        ([], {"event": "failed", "graph_name": "agent", "error": "boom"}),
    ]
    assert normalizer.finish("error") == []


def test_custom_channels_and_unknown_events() -> None:
    normalizer = FrameNormalizer("agent")
    named = normalizer.feed(
        {"method": "custom:progress", "params": {"namespace": [], "timestamp": 5, "data": 0.5}}
    )
    assert named == [
        {
            "type": "event",
            "method": "custom",
            "params": {
                "namespace": [],
                "timestamp": 5,
                "data": {"name": "progress", "payload": 0.5},
            },
        }
    ]
    plain = normalizer.feed({"method": "custom", "params": {"namespace": [], "data": {"a": 1}}})
    assert plain[0]["params"]["data"] == {"a": 1}
    assert normalizer.feed({"method": "messages", "params": {"data": ["legacy", {}]}}) == []
    assert normalizer.feed({"params": {}}) == []
    assert (
        normalizer.feed(
            {"method": "lifecycle", "params": {"namespace": [], "data": {"event": "started"}}}
        )
        == []
    )
