"""The v2 thread commands (``state.*``, ``agent.getTree``, ``input.inject``) through
``ThreadStreams.command``, on moto with the real store, graphs and executor."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver

from lambdagraph.engine import RunExecutor, RunService, ThreadStreams
from lambdagraph.engine.agent_commands import HANDLERS
from lambdagraph.engine.sinks import MemorySink
from lambdagraph.protocol.events import Event
from lambdagraph.settings import Settings
from lambdagraph.wiring import Core
from tests.conftest import Tables

NESTED = "nested=tests.e2e.compat.graphs:nested"
TREE_REFERENCE = json.loads(
    (Path(__file__).parents[2] / "unit" / "engine" / "agent_tree_nested.json").read_text()
)


@dataclass
class World:
    runs: RunService
    executor: RunExecutor
    saver: InMemorySaver
    streams: ThreadStreams
    started: list[dict[str, Any]]
    """What the stand-in ``run.start`` handler was given (fork and inject delegate to it)."""

    async def command(self, thread_id: str, method: str, params: Any = None,
                      owner: str = "alice") -> dict[str, Any]:
        frame: dict[str, Any] = {"id": 7, "method": method}
        if params is not None:
            frame["params"] = params
        return await self.streams.command(owner, thread_id, frame)

    async def result(self, thread_id: str, method: str, params: Any = None) -> Any:
        response = await self.command(thread_id, method, params)
        assert response["type"] == "success", response
        assert response["id"] == 7
        return response["result"]

    async def error(self, thread_id: str, method: str, params: Any = None,
                    owner: str = "alice") -> tuple[str, str]:
        response = await self.command(thread_id, method, params, owner)
        assert response["type"] == "error", response
        assert response["id"] == 7
        return response["error"], response["message"]

    async def run(self, thread_id: str, graph: str, graph_input: Any) -> None:
        run = await self.runs.store.create_run(
            "alice", thread_id=thread_id, assistant_id=graph, graph_id=graph,
            kwargs={"input": graph_input, "stream_mode": ["values"]},
        )
        assert await self.executor.execute(run, [MemorySink()]) == "success"


@pytest.fixture
async def world(tables: Tables) -> AsyncIterator[World]:
    settings = Settings(app_table=tables.app, scripted_delay_ms=0, graphs=NESTED)
    core = Core.from_settings(settings)
    saver = InMemorySaver()
    executor = core.executor(saver)
    runs = core.service(core.durable(executor, None))
    started: list[dict[str, Any]] = []

    async def run_start(ctx: Any, params: dict[str, Any]) -> dict[str, Any]:
        started.append(params)
        return {"run_id": f"run-{len(started)}"}

    streams = ThreadStreams(
        runs, core.graphs, handlers={**HANDLERS, "run.start": run_start}, checkpointer=saver
    )
    yield World(runs, executor, saver, streams, started)
    await runs.aclose()


async def nested_thread(world: World) -> str:
    thread = await world.runs.store.create_thread("alice")
    await world.run(thread["thread_id"], "nested", {"trail": []})
    return thread["thread_id"]


# --- state.get ------------------------------------------------------------------------


async def test_state_get_is_the_threads_values_and_latest_checkpoint(world: World) -> None:
    tid = await nested_thread(world)
    latest = await world.saver.aget_tuple({"configurable": {"thread_id": tid, "checkpoint_ns": ""}})
    assert latest is not None
    assert await world.result(tid, "state.get", {"namespace": []}) == {
        "values": {"trail": ["start:-", "step"]},
        "checkpoint": {"id": latest.config["configurable"]["checkpoint_id"], "ns": ""},
    }
    assert (await world.result(tid, "state.get", {"keys": ["trail", "other"]}))["values"] == {
        "trail": ["start:-", "step"]
    }
    assert (await world.result(tid, "state.get", {"keys": []}))["values"] == {}


async def test_state_get_of_a_subgraph_namespace(world: World) -> None:
    tid = await nested_thread(world)
    history = [s async for s in world.runs.graphs.get("nested").copy(
        update={"checkpointer": world.saver}).aget_state_history(
        {"configurable": {"thread_id": tid}})]
    [inner_task] = [t for s in history for t in s.tasks if t.name == "inner"]
    namespace = [f"inner:{inner_task.id}"]
    result = await world.result(tid, "state.get", {"namespace": namespace})
    assert result["values"] == {"trail": ["start:-", "step"]}
    assert result["checkpoint"]["ns"] == namespace[0]
    # A subgraph the graph lacks, and a task of it that never ran.
    assert (await world.error(tid, "state.get", {"namespace": ["nope:1"]}))[0] == (
        "no_such_namespace"
    )
    never = [f"inner:{uuid.uuid4()}"]
    assert (await world.error(tid, "state.get", {"namespace": never}))[0] == "no_such_namespace"


async def test_state_get_of_a_thread_no_run_wrote_is_empty(world: World) -> None:
    thread = await world.runs.store.create_thread("alice")
    assert await world.result(thread["thread_id"], "state.get", {"namespace": []}) == {
        "values": {}
    }


@pytest.mark.parametrize("method", ["state.get", "state.listCheckpoints", "agent.getTree",
                                    "state.fork", "input.inject"])
async def test_an_unknown_or_foreign_thread_answers_no_such_run(world: World, method: str) -> None:
    tid = await nested_thread(world)
    params = {
        "state.fork": {"checkpoint_id": str(uuid.uuid4())},
        "input.inject": {"namespace": [], "message": {"role": "user", "content": "hi"}},
    }.get(method, {})
    unknown = await world.error(str(uuid.uuid4()), method, params)
    foreign = await world.error(tid, method, params, owner="bob")
    assert unknown[0] == foreign[0] == "no_such_run"
    assert foreign[1] == unknown[1].replace(unknown[1].split()[1], tid)
    assert world.started == []


@pytest.mark.parametrize(("params", "says"), [
    ({"namespace": "root"}, "namespace must be an array of strings"),
    ({"namespace": [1]}, "namespace must be an array of strings"),
    ({"keys": "trail"}, "keys must be an array of strings"),
    ({"keys": [None]}, "keys must be an array of strings"),
])
async def test_state_get_refuses_bad_params(world: World, params: dict[str, Any],
                                            says: str) -> None:
    tid = await nested_thread(world)
    code, message = await world.error(tid, "state.get", params)
    assert code == "invalid_argument" and says in message


async def test_params_that_are_not_an_object_are_refused(world: World) -> None:
    tid = await nested_thread(world)
    assert (await world.error(tid, "state.get", ["namespace"]))[0] == "invalid_argument"


async def test_without_a_checkpointer_state_commands_are_not_supported(world: World) -> None:
    tid = await nested_thread(world)
    world.streams = ThreadStreams(world.runs, world.runs.graphs, handlers=HANDLERS)
    for method in ("state.get", "state.listCheckpoints"):
        assert (await world.error(tid, method, {}))[0] == "not_supported"


# --- state.listCheckpoints ------------------------------------------------------------


async def test_list_checkpoints_newest_first_with_steps_and_nodes(world: World) -> None:
    tid = await nested_thread(world)
    saved = [c async for c in world.saver.alist({"configurable": {"thread_id": tid,
                                                                   "checkpoint_ns": ""}})]
    checkpoints = (await world.result(tid, "state.listCheckpoints", {}))["checkpoints"]
    assert [c["id"] for c in checkpoints] == [c.config["configurable"]["checkpoint_id"]
                                               for c in saved]
    assert [c["step"] for c in checkpoints] == [2, 1, 0, -1]
    assert [c.get("node_name") for c in checkpoints] == ["inner", "start", "__start__", None]
    assert [c["metadata"]["source"] for c in checkpoints] == ["loop", "loop", "loop", "input"]
    assert all(c["timestamp"] == s.checkpoint["ts"] for c, s in zip(checkpoints, saved,
                                                                      strict=True))


async def test_list_checkpoints_pages_with_limit_and_before(world: World) -> None:
    tid = await nested_thread(world)
    everything = (await world.result(tid, "state.listCheckpoints", {}))["checkpoints"]
    first = (await world.result(tid, "state.listCheckpoints", {"limit": 2}))["checkpoints"]
    rest = (await world.result(tid, "state.listCheckpoints",
                               {"limit": 2, "before": first[-1]["id"]}))["checkpoints"]
    assert first + rest == everything
    # The oldest of a page still names its node: its parent is read too.
    assert first[-1]["node_name"] == "start"


@pytest.mark.parametrize(("params", "says"), [
    ({"limit": 0}, "limit must be an integer from 1 to 1000"),
    ({"limit": 1001}, "limit must be an integer from 1 to 1000"),
    ({"limit": "5"}, "limit must be an integer from 1 to 1000"),
    ({"limit": True}, "limit must be an integer from 1 to 1000"),
    ({"before": "yesterday"}, "invalid checkpoint_id 'yesterday'"),
    ({"before": 3}, "requires a checkpoint_id"),
    ({"namespace": {}}, "namespace must be an array of strings"),
])
async def test_list_checkpoints_refuses_bad_params(world: World, params: dict[str, Any],
                                                   says: str) -> None:
    tid = await nested_thread(world)
    code, message = await world.error(tid, "state.listCheckpoints", params)
    assert code == "invalid_argument" and says in message


async def test_list_checkpoints_of_an_unknown_subgraph(world: World) -> None:
    tid = await nested_thread(world)
    code, _ = await world.error(tid, "state.listCheckpoints", {"namespace": ["nope:1"]})
    assert code == "no_such_namespace"


# --- state.fork -----------------------------------------------------------------------


async def test_fork_starts_a_run_from_the_checkpoint(world: World) -> None:
    tid = await nested_thread(world)
    checkpoints = (await world.result(tid, "state.listCheckpoints", {}))["checkpoints"]
    target = checkpoints[2]["id"]  # after the input, before `start`
    result = await world.result(tid, "state.fork", {
        "checkpoint_id": target, "input": None,
        "config": {"configurable": {"tag": "b"}, "tags": ["x"]},
    })
    assert result == {"run_id": "run-1", "thread_id": tid}
    assert world.started == [{
        "assistant_id": "nested",
        "input": None,
        "config": {"configurable": {"tag": "b", "checkpoint_id": target}, "tags": ["x"]},
        "multitaskStrategy": "enqueue",
    }]


async def test_fork_from_an_unknown_checkpoint_starts_nothing(world: World) -> None:
    tid = await nested_thread(world)
    missing = str(uuid.uuid4())
    code, message = await world.error(tid, "state.fork", {"checkpoint_id": missing})
    assert code == "no_such_checkpoint" and missing in message
    assert world.started == []


@pytest.mark.parametrize(("params", "says"), [
    ({}, "state.fork requires a checkpoint_id"),
    ({"checkpoint_id": ""}, "state.fork requires a checkpoint_id"),
    ({"checkpoint_id": "cp-1"}, "invalid checkpoint_id 'cp-1'"),
    ({"checkpoint_id": str(uuid.UUID(int=1)), "config": []}, "config must be an object"),
    ({"checkpoint_id": str(uuid.UUID(int=1)), "config": {"configurable": 1}},
     "config.configurable must be an object"),
    ({"checkpoint_id": str(uuid.UUID(int=1)), "multitaskStrategy": "later"},
     "multitaskStrategy must be one of"),
])
async def test_fork_refuses_bad_params(world: World, params: dict[str, Any], says: str) -> None:
    tid = await nested_thread(world)
    if "multitaskStrategy" in params:
        checkpoints = (await world.result(tid, "state.listCheckpoints", {}))["checkpoints"]
        params = {**params, "checkpoint_id": checkpoints[0]["id"]}
    code, message = await world.error(tid, "state.fork", params)
    assert code == "invalid_argument" and says in message
    assert world.started == []


# --- input.inject ---------------------------------------------------------------------


async def test_inject_queues_the_message_as_the_threads_next_input(world: World) -> None:
    tid = await nested_thread(world)
    message = {"role": "user", "content": "and one more", "name": "ann"}
    assert await world.result(tid, "input.inject", {"namespace": [], "message": message}) == {}
    assert world.started == [{
        "assistant_id": "nested", "input": {"messages": [message]}, "multitaskStrategy": "enqueue"
    }]


async def test_inject_refuses_while_the_thread_waits_at_an_interrupt(world: World) -> None:
    tid = await nested_thread(world)
    await world.runs.store.set_rest_status("alice", tid, "interrupted")
    code, message = await world.error(
        tid, "input.inject", {"namespace": [], "message": {"role": "user", "content": "hi"}}
    )
    assert code == "invalid_argument" and "input.respond" in message
    assert world.started == []


@pytest.mark.parametrize(("params", "code", "says"), [
    ({"namespace": []}, "invalid_argument", "requires a message"),
    ({"message": {"role": "tool", "content": "x"}}, "invalid_argument", "user or system"),
    ({"message": {"role": "user", "content": ["x"]}}, "invalid_argument", "content must be"),
    ({"message": {"role": "user", "content": "x", "name": 1}}, "invalid_argument",
     "name must be a string"),
    ({"namespace": ["inner:1"], "message": {"role": "user", "content": "x"}}, "not_supported",
     "root namespace only"),
])
async def test_inject_refuses_bad_params(world: World, params: dict[str, Any], code: str,
                                         says: str) -> None:
    tid = await nested_thread(world)
    got, message = await world.error(tid, "input.inject", params)
    assert got == code and says in message
    assert world.started == []


# --- agent.getTree --------------------------------------------------------------------


async def log_frames(world: World, tid: str, frames: list[dict[str, Any]]) -> None:
    events = [Event(event=f["method"], data=f, id=str(f["seq"])) for f in frames]
    await world.streams.log.append(tid, events)


async def test_get_tree_is_the_latest_runs_from_the_thread_log(world: World) -> None:
    tid = await nested_thread(world)
    await log_frames(world, tid, TREE_REFERENCE["frames"])
    response = await world.command(tid, "agent.getTree", {})
    assert response["result"] == {"tree": TREE_REFERENCE["tree"]}
    assert response["meta"] == {"applied_through_seq": TREE_REFERENCE["frames"][-1]["seq"]}
    [run] = await world.runs.store.list_runs("alice", tid)
    assert await world.result(tid, "agent.getTree", {"run_id": run["run_id"]}) == {
        "tree": TREE_REFERENCE["tree"]
    }


async def test_get_tree_before_any_run_and_for_other_runs(world: World) -> None:
    tid = await nested_thread(world)
    assert (await world.error(tid, "agent.getTree", {}))[0] == "no_such_run"
    await log_frames(world, tid, TREE_REFERENCE["frames"])
    assert (await world.error(tid, "agent.getTree", {"run_id": str(uuid.uuid4())}))[0] == (
        "no_such_run"
    )
    [first] = await world.runs.store.list_runs("alice", tid)
    await world.run(tid, "nested", {"trail": []})
    code, message = await world.error(tid, "agent.getTree", {"run_id": first["run_id"]})
    assert code == "not_supported" and "latest run" in message
    assert (await world.error(tid, "agent.getTree", {"run_id": 5}))[0] == "invalid_argument"
