"""Assistants through the real SDK (sync and async) on the local stack (README: Assistants).

What these tests expect was checked side by side with ``langgraph dev`` (langgraph-api
0.16.7, langgraph-sdk 0.4.14) serving the same graphs (``tests/e2e/assistant_graphs.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client, get_sync_client
from langgraph_sdk.client import LangGraphClient, SyncLangGraphClient
from langgraph_sdk.errors import ConflictError, NotFoundError

from lambdagraph.engine import assistant_id
from lambdagraph_client.local.server import LocalStack, running_stack
from tests.auth import TokenIsUser
from tests.conftest import Tables
from tests.e2e.conftest import auth, stack_settings
from tests.e2e.gate import GATE, GATE_GRAPH

GRAPHS = ",".join(
    f"{name}=tests.e2e.assistant_graphs:{name}_graph" for name in ("reporter", "nested")
)
REPORTER = assistant_id("reporter")
NESTED = assistant_id("nested")
UNKNOWN = "00000000-0000-4000-8000-000000000000"


@pytest.fixture(scope="module")
def assistants_stack(aws_endpoint: str) -> Iterator[LocalStack]:
    suffix = uuid.uuid4().hex[:10]
    tables = Tables(checkpoints=f"checkpoints-{suffix}", app=f"app-{suffix}", bucket=f"cp-{suffix}")
    settings = stack_settings(tables, graphs=GRAPHS)
    with running_stack(settings=settings, authenticator=TokenIsUser()) as running:
        yield running


def _user() -> str:
    # A fresh user per test: the module shares one stack, and assistants are per user.
    return f"user-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def user() -> str:
    return _user()


@pytest.fixture
def client(assistants_stack: LocalStack, user: str) -> LangGraphClient:
    return get_client(url=assistants_stack.url, headers=auth(user))


@pytest.fixture
def sync_client(assistants_stack: LocalStack, user: str) -> SyncLangGraphClient:
    return get_sync_client(url=assistants_stack.url, headers=auth(user))


@pytest.fixture
def http(assistants_stack: LocalStack, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=assistants_stack.url, headers=auth(user)) as session:
        yield session


async def test_create_update_versions_latest_delete(client: LangGraphClient) -> None:
    created: dict[str, Any] = await client.assistants.create(  # type: ignore[assignment]
        "reporter", config={"tags": ["t"]}, context={"tone": "dry"}, metadata={"team": "x"},
        name="Dry",
    )
    aid = created["assistant_id"]
    # context and config.configurable mirror each other, as LangGraph keeps them.
    assert created["config"] == {"tags": ["t"], "configurable": {"tone": "dry"}}
    assert created["context"] == {"tone": "dry"} and created["version"] == 1
    assert (await client.assistants.get(aid)) == created

    patched = await client.assistants.update(
        aid, metadata={"more": 1}, context={"tone": "warm", "language": "fr"}
    )
    assert patched["version"] == 2 and patched["name"] == "Dry"
    assert patched["metadata"] == {"team": "x", "more": 1}  # merged, not replaced
    assert patched["context"] == {"tone": "warm", "language": "fr"}
    assert patched["config"] == {"configurable": {"tone": "warm", "language": "fr"}}

    versions = await client.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["context"] == {"tone": "dry"} and "updated_at" not in versions[0]
    tagged = await client.assistants.get_versions(aid, metadata={"more": 1})
    assert [v["version"] for v in tagged] == [2]

    back = await client.assistants.set_latest(aid, 1)
    assert back["version"] == 1 and back["metadata"] == {"team": "x"}
    assert (await client.assistants.get(aid))["version"] == 1
    again = await client.assistants.update(aid, name="Again")
    assert again["version"] == 3  # a new version after the highest, not after the current
    with pytest.raises(NotFoundError):
        await client.assistants.set_latest(aid, 9)

    await client.assistants.delete(aid)
    with pytest.raises(NotFoundError):
        await client.assistants.get(aid)
    with pytest.raises(NotFoundError):
        await client.assistants.get_versions(aid)
    with pytest.raises(NotFoundError):
        await client.assistants.delete(aid)


def test_the_sync_client_manages_assistants_too(sync_client: SyncLangGraphClient) -> None:
    created = sync_client.assistants.create("nested", name="Mine", assistant_id=UNKNOWN[:-1] + "1")
    assert created["assistant_id"] == UNKNOWN[:-1] + "1"
    with pytest.raises(ConflictError):
        sync_client.assistants.create("nested", assistant_id=created["assistant_id"])
    same = sync_client.assistants.create(
        "nested", assistant_id=created["assistant_id"], if_exists="do_nothing", name="Other"
    )
    assert same == created
    assert sync_client.assistants.count(graph_id="nested") == 2
    renamed = sync_client.assistants.update(created["assistant_id"], name="Renamed")
    assert renamed["name"] == "Renamed" and renamed["version"] == 2
    sync_client.assistants.delete(created["assistant_id"])
    assert sync_client.assistants.count(graph_id="nested") == 1


async def test_search_filters_sorts_and_paginates(
    client: LangGraphClient, http: httpx.Client
) -> None:
    for name in ("beta", "Alpha", "gamma"):
        await client.assistants.create("reporter", name=name, metadata={"kind": {"n": name}})
    names = [a["name"] for a in await client.assistants.search()]
    # Newest first; the default assistants (the demo graph is always served) in graph order.
    assert names == ["gamma", "Alpha", "beta", "agent", "reporter", "nested"]
    ascending = await client.assistants.search(sort_by="name", sort_order="asc")
    assert [a["name"] for a in ascending] == [
        "agent", "Alpha", "beta", "gamma", "nested", "reporter"
    ]
    descending = await client.assistants.search(sort_by="name", sort_order="desc")
    assert [a["name"] for a in descending] == [
        "reporter", "nested", "gamma", "beta", "Alpha", "agent"
    ]
    paged = [
        a["name"]
        for o in (0, 2, 4)
        for a in await client.assistants.search(sort_by="name", limit=2, offset=o)
    ]
    assert paged == [a["name"] for a in descending]
    found = await client.assistants.search(metadata={"kind": {"n": "beta"}})
    assert [a["name"] for a in found] == ["beta"]
    assert [a["name"] for a in await client.assistants.search(name="ALP")] == ["Alpha"]
    assert await client.assistants.count(metadata={"created_by": "system"}) == 3
    assert await client.assistants.count(graph_id="reporter") == 4
    picked: list[dict[str, Any]] = await client.assistants.search(  # type: ignore[assignment]
        graph_id="nested", select=["assistant_id", "name"]
    )
    assert picked == [{"assistant_id": NESTED, "name": "nested"}]
    first = http.post("/assistants/search", json={"limit": 2})
    assert first.headers["X-Pagination-Next"] == "2"
    last = http.post("/assistants/search", json={"limit": 2, "offset": 4})
    assert "X-Pagination-Next" not in last.headers and last.headers["X-Pagination-Total"] == "6"


async def test_a_run_keeps_its_assistant_and_runs_with_its_config_and_context(
    client: LangGraphClient,
) -> None:
    mine = await client.assistants.create(
        "reporter", context={"tone": "dry", "language": "en"}, config={"tags": ["mine"]}
    )
    thread = await client.threads.create()
    tid = thread["thread_id"]
    values: dict[str, Any] = await client.runs.wait(  # type: ignore[assignment]
        tid, mine["assistant_id"], input={"topic": "x"}, context={"language": "de"}
    )
    # The run's own context wins key by key over the assistant's.
    assert values["context"] == {"tone": "dry", "language": "de"}
    assert values["settings"]["assistant_id"] == mine["assistant_id"]
    assert values["settings"]["graph_id"] == "reporter"
    runs = await client.runs.list(tid)
    assert runs[0]["assistant_id"] == mine["assistant_id"]  # not the graph's name
    by_name: dict[str, Any] = await client.runs.create(  # type: ignore[assignment]
        tid, "reporter", input={"topic": "y"}
    )
    assert by_name["assistant_id"] == REPORTER  # a graph name is its default assistant's id
    await client.runs.join(tid, by_name["run_id"])
    state: dict[str, Any] = await client.threads.get_state(tid)  # type: ignore[assignment]
    assert state["values"]["context"] == {}  # the default assistant adds nothing


async def test_delete_threads_deletes_the_callers_threads_that_name_the_assistant(
    assistants_stack: LocalStack, client: LangGraphClient
) -> None:
    mine = await client.assistants.create("reporter")
    named = await client.threads.create(metadata={"assistant_id": mine["assistant_id"]})
    other = await client.threads.create(metadata={"assistant_id": REPORTER})
    stranger = get_client(url=assistants_stack.url, headers=auth(_user()))
    theirs = await stranger.threads.create(metadata={"assistant_id": mine["assistant_id"]})
    await client.assistants.delete(mine["assistant_id"], delete_threads=True)
    with pytest.raises(NotFoundError):
        await client.threads.get(named["thread_id"])
    assert (await client.threads.get(other["thread_id"]))["thread_id"] == other["thread_id"]
    assert (await stranger.threads.get(theirs["thread_id"]))["thread_id"] == theirs["thread_id"]


async def test_an_unknown_or_deleted_assistant_runs_nothing(client: LangGraphClient) -> None:
    mine = await client.assistants.create("reporter")
    await client.assistants.delete(mine["assistant_id"])
    thread = await client.threads.create()
    for gone in (mine["assistant_id"], UNKNOWN, "no-such-graph"):
        with pytest.raises(NotFoundError):
            await client.runs.create(thread["thread_id"], gone, input={"topic": "x"})
    assert await client.runs.list(thread["thread_id"]) == []


async def test_another_users_assistant_is_not_found(
    assistants_stack: LocalStack, client: LangGraphClient
) -> None:
    mine = await client.assistants.create("reporter", name="private")
    other = get_client(url=assistants_stack.url, headers=auth(_user()))
    aid = mine["assistant_id"]
    for call in (
        other.assistants.get(aid),
        other.assistants.update(aid, name="taken"),
        other.assistants.delete(aid),
        other.assistants.get_versions(aid),
        other.assistants.set_latest(aid, 1),
        other.assistants.get_graph(aid),
        other.assistants.get_schemas(aid),
        other.assistants.get_subgraphs(aid),
    ):
        with pytest.raises(NotFoundError):
            await call
    assert [a["name"] for a in await other.assistants.search()] == ["agent", "reporter", "nested"]
    assert await other.assistants.count() == 3
    thread = await other.threads.create()
    with pytest.raises(NotFoundError):
        await other.runs.create(thread["thread_id"], aid, input={"topic": "x"})
    assert (await client.assistants.get(aid))["name"] == "private"


async def test_default_assistants_are_shared_and_read_only(client: LangGraphClient) -> None:
    default = await client.assistants.get(REPORTER)
    assert default["metadata"] == {"created_by": "system"} and default["graph_id"] == "reporter"
    assert await client.assistants.get("reporter") == default
    assert await client.assistants.get_versions(REPORTER) == [
        {k: v for k, v in default.items() if k != "updated_at"}
    ]
    with pytest.raises(ConflictError):
        await client.assistants.update(REPORTER, name="mine now")
    with pytest.raises(ConflictError):
        await client.assistants.delete(REPORTER)
    with pytest.raises(ConflictError):
        await client.assistants.create("reporter", assistant_id=REPORTER)
    assert await client.assistants.get(REPORTER) == default


async def test_subgraphs_and_xray(client: LangGraphClient) -> None:
    top = await client.assistants.get_subgraphs(NESTED)
    assert list(top) == ["middle"]
    assert set(top["middle"]) == {
        "input_schema", "output_schema", "state_schema", "config_schema", "context_schema"
    }
    assert list(await client.assistants.get_subgraphs(NESTED, recurse=True)) == [
        "middle", "middle|inner"
    ]
    under = await client.assistants.get_subgraphs(NESTED, namespace="middle", recurse=True)
    assert list(under) == ["middle"]
    assert await client.assistants.get_subgraphs(NESTED, namespace="nowhere") == {}
    flat = await client.assistants.get_graph(NESTED)
    deep = await client.assistants.get_graph(NESTED, xray=True)
    one = await client.assistants.get_graph(NESTED, xray=1)
    assert "middle" in {n["id"] for n in flat["nodes"]}
    assert "middle:inner:leaf" in {n["id"] for n in deep["nodes"]}
    assert "middle:inner" in {n["id"] for n in one["nodes"]}
    assert all("id" not in (n.get("data") or {}) for n in flat["nodes"])
    schemas: dict[str, Any] = await client.assistants.get_schemas(  # type: ignore[assignment]
        REPORTER
    )
    assert schemas["graph_id"] == "reporter"
    assert set(schemas["context_schema"]["properties"]) == {"tone", "language"}
    assert set(schemas["state_schema"]["properties"]) >= {"topic", "context", "settings"}


def test_bad_input_gets_langgraphs_status_and_writes_nothing(http: httpx.Client) -> None:
    cases: list[tuple[str, str, dict[str, Any] | None, int, str]] = [
        ("POST", "/assistants", {"graph_id": "nope"}, 404, "nope"),
        ("POST", "/assistants", {"graph_id": "reporter", "assistant_id": "x"}, 422, "UUID"),
        (
            "POST", "/assistants",
            {"graph_id": "reporter", "config": {"configurable": {"a": 1}}, "context": {"b": 2}},
            400, "both configurable and context",
        ),
        ("POST", "/assistants", {"graph_id": "reporter", "metadata": "x"}, 422, "metadata"),
        ("POST", "/assistants/search", {"graph_id": "nope"}, 404, "nope"),
        ("POST", "/assistants/search", {"sort_by": "owner"}, 422, "sort_by"),
        ("POST", "/assistants/search", {"select": ["owner"]}, 422, "select"),
        ("POST", "/assistants/count", {"graph_id": "nope"}, 404, "nope"),
        ("PATCH", f"/assistants/{UNKNOWN}", {}, 404, UNKNOWN),
        ("POST", f"/assistants/{REPORTER}/latest", {"version": "one"}, 422, "version"),
        ("GET", f"/assistants/{REPORTER}/graph?xray=0", None, 422, "xray"),
        ("GET", f"/assistants/{REPORTER}/graph?xray=abc", None, 422, "xray"),
    ]
    for method, path, body, status, detail in cases:
        response = http.request(method, path, json=body)
        assert response.status_code == status, (method, path, response.text)
        assert detail in response.json()["detail"], (method, path, response.text)
    assert http.post("/assistants/count", json={}).json() == 3


async def test_deleting_an_assistant_cancels_its_active_runs(tables: Tables) -> None:
    settings = stack_settings(tables, graphs=GATE_GRAPH)
    GATE.clear()
    try:
        with running_stack(settings=settings, authenticator=TokenIsUser()) as stack:
            client = get_client(url=stack.url, headers=auth("alice"))
            mine = await client.assistants.create("gate")
            held = await client.threads.create()
            other = await client.threads.create()
            doomed = await client.runs.create(held["thread_id"], mine["assistant_id"], input={})
            spared = await client.runs.create(other["thread_id"], "gate", input={})
            await client.assistants.delete(mine["assistant_id"])
            await client.runs.join(held["thread_id"], doomed["run_id"])
            ended = await client.runs.get(held["thread_id"], doomed["run_id"])
            assert ended["status"] == "interrupted"
            assert (await client.runs.get(other["thread_id"], spared["run_id"]))["status"] in {
                "pending", "running"
            }
            GATE.set()
            await client.runs.join(other["thread_id"], spared["run_id"])
            finished = await client.runs.get(other["thread_id"], spared["run_id"])
            assert finished["status"] == "success"
    finally:
        GATE.set()
