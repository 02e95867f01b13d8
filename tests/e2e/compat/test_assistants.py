"""Assistants as ``langgraph-sdk`` users see them: defaults per graph, CRUD, versions, search."""

from __future__ import annotations

import uuid

from langgraph_sdk.client import SyncLangGraphClient
from langgraph_sdk.schema import Assistant, Config

from tests.e2e.compat.checks import default_id, refused


def test_every_graph_has_its_default_assistant(sdk: SyncLangGraphClient) -> None:
    found = sdk.assistants.search(graph_id="agent", metadata={"created_by": "system"})
    assert [a["assistant_id"] for a in found] == [default_id("agent")]
    assert found[0]["graph_id"] == "agent"


def test_default_assistant_is_found_by_graph_name_and_by_id(sdk: SyncLangGraphClient) -> None:
    by_id = sdk.assistants.get(default_id("nested"))
    assert by_id["graph_id"] == "nested"
    assert sdk.assistants.get_graph("nested")["nodes"]


def test_unknown_assistant_is_404(sdk: SyncLangGraphClient) -> None:
    assert refused(lambda: sdk.assistants.get(str(uuid.uuid4()))) == 404


def test_create_then_get(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    config: Config = {"configurable": {"tag": "blue"}}
    made = sdk.assistants.create("nested", config, metadata=tag, name="blue nested")
    got = sdk.assistants.get(made["assistant_id"])
    assert got["graph_id"] == "nested"
    assert got["config"]["configurable"] == {"tag": "blue"}
    assert got["metadata"] == tag
    assert got["name"] == "blue nested"
    assert got["version"] == 1


def test_create_for_an_unknown_graph_is_refused(sdk: SyncLangGraphClient) -> None:
    assert refused(lambda: sdk.assistants.create("no-such-graph")) in (404, 422)


def test_create_with_a_taken_id(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = sdk.assistants.create("nested", metadata=tag, name="first")
    aid = made["assistant_id"]
    again = sdk.assistants.create("nested", assistant_id=aid, if_exists="do_nothing", name="x")
    assert again["assistant_id"] == aid and again["name"] == "first"
    assert refused(lambda: sdk.assistants.create("nested", assistant_id=aid)) == 409


def test_update_makes_a_new_version(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = sdk.assistants.create("nested", {"configurable": {"tag": "v1"}}, metadata=tag)
    updated = sdk.assistants.update(
        made["assistant_id"], config={"configurable": {"tag": "v2"}}, metadata={"more": "yes"}
    )
    assert updated["version"] == 2
    got = sdk.assistants.get(made["assistant_id"])
    assert got["config"]["configurable"] == {"tag": "v2"}
    # Metadata merges, as in LangGraph Server: the tag stays, the new key is added.
    assert got["metadata"] == {**tag, "more": "yes"}


def test_versions_newest_first_and_set_latest(
    sdk: SyncLangGraphClient, tag: dict[str, str]
) -> None:
    aid = sdk.assistants.create("nested", {"configurable": {"tag": "v1"}}, metadata=tag)[
        "assistant_id"
    ]
    sdk.assistants.update(aid, config={"configurable": {"tag": "v2"}})
    versions = sdk.assistants.get_versions(aid)
    assert [v["version"] for v in versions] == [2, 1]
    assert versions[1]["config"]["configurable"] == {"tag": "v1"}
    latest = sdk.assistants.set_latest(aid, 1)
    assert latest["version"] == 1
    assert sdk.assistants.get(aid)["config"]["configurable"] == {"tag": "v1"}


def test_set_latest_to_a_missing_version_is_404(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("nested")["assistant_id"]
    assert refused(lambda: sdk.assistants.set_latest(aid, 7)) == 404


def test_delete(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    aid = sdk.assistants.create("nested", metadata=tag)["assistant_id"]
    sdk.assistants.delete(aid)
    assert refused(lambda: sdk.assistants.get(aid)) == 404
    assert refused(lambda: sdk.assistants.delete(aid)) == 404
    assert sdk.assistants.search(metadata=tag) == []


def _three(sdk: SyncLangGraphClient, tag: dict[str, str]) -> list[Assistant]:
    return [sdk.assistants.create("nested", metadata=tag, name=name) for name in ("b", "c", "a")]


def test_search_by_metadata_and_count(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    made = _three(sdk, tag)
    found = sdk.assistants.search(metadata=tag, limit=10)
    assert {a["assistant_id"] for a in found} == {a["assistant_id"] for a in made}
    assert sdk.assistants.count(metadata=tag) == 3
    assert sdk.assistants.count(metadata=tag, graph_id="agent") == 0


def test_search_pages_are_disjoint(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    _three(sdk, tag)
    pages = [sdk.assistants.search(metadata=tag, limit=2, offset=o) for o in (0, 2)]
    ids = [a["assistant_id"] for page in pages for a in page]
    assert [len(page) for page in pages] == [2, 1]
    assert len(set(ids)) == 3


def test_search_sorted_by_name(sdk: SyncLangGraphClient, tag: dict[str, str]) -> None:
    _three(sdk, tag)
    up = sdk.assistants.search(metadata=tag, sort_by="name", sort_order="asc")
    down = sdk.assistants.search(metadata=tag, sort_by="name", sort_order="desc")
    assert [a["name"] for a in up] == ["a", "b", "c"]
    assert [a["name"] for a in down] == ["c", "b", "a"]


def test_assistant_config_reaches_its_runs(sdk: SyncLangGraphClient) -> None:
    aid = sdk.assistants.create("nested", {"configurable": {"tag": "green"}})["assistant_id"]
    thread = sdk.threads.create()
    result = sdk.runs.wait(thread["thread_id"], aid, input={"trail": []})
    assert result == {"trail": ["start:green", "step"]}
    runs = sdk.runs.list(thread["thread_id"])
    assert runs[0]["assistant_id"] == aid


def test_graph_with_xray_shows_subgraph_nodes(sdk: SyncLangGraphClient) -> None:
    flat = {node["id"] for node in sdk.assistants.get_graph("nested")["nodes"]}
    deep = {node["id"] for node in sdk.assistants.get_graph("nested", xray=True)["nodes"]}
    assert "inner" in flat and not any("step" in node for node in flat)
    assert any("step" in node for node in deep)


def test_subgraphs(sdk: SyncLangGraphClient) -> None:
    subgraphs = sdk.assistants.get_subgraphs(default_id("nested"))
    assert set(subgraphs) == {"inner"}
    assert "trail" in (subgraphs["inner"]["state_schema"] or {})["properties"]
    assert sdk.assistants.get_subgraphs(default_id("agent")) == {}
    assert set(sdk.assistants.get_subgraphs(default_id("nested"), recurse=True)) == {"inner"}


def test_schemas(sdk: SyncLangGraphClient) -> None:
    schemas = sdk.assistants.get_schemas(default_id("agent"))
    assert schemas["graph_id"] == "agent"
    assert "messages" in (schemas["state_schema"] or {})["properties"]
