"""Graph loading by import path and the assistant registry."""

from __future__ import annotations

import re
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from langgraph.checkpoint.memory import InMemorySaver
from langgraph.pregel import Pregel

from lambdagraph.agents import (
    DEMO_GRAPH,
    GraphRegistry,
    load_graph,
    parse_graph_specs,
    with_checkpointer,
)
from lambdagraph.errors import AssistantNotFound, ConfigurationError
from lambdagraph.settings import Settings

USER_GRAPHS = """
from typing import TypedDict

from langgraph.graph import START, StateGraph

CALLS = []


class State(TypedDict):
    value: int


def double(state: State) -> State:
    return {"value": state["value"] * 2}


def builder() -> StateGraph:
    graph = StateGraph(State)
    graph.add_node("double", double)
    graph.add_edge(START, "double")
    return graph


uncompiled = builder()
compiled = builder().compile()


def factory():
    CALLS.append(1)
    return builder().compile()


def uncompiled_factory():
    return builder()


def failing_factory():
    raise RuntimeError("no database")


def bad_factory():
    return 42


class Holder:
    graph = builder().compile()


not_a_graph = "hello"
broken = StateGraph(State)
"""


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh, uniquely named user module of graphs on ``sys.path``."""
    name = f"user_graphs_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(USER_GRAPHS))
    monkeypatch.syspath_prepend(str(tmp_path))
    return name


def run(graph: Pregel[Any, Any, Any, Any]) -> Any:
    return graph.invoke({"value": 21})


@pytest.mark.parametrize(
    "attr", ["compiled", "uncompiled", "factory", "uncompiled_factory", "Holder.graph"]
)
def test_loads_every_kind_of_graph(module: str, attr: str) -> None:
    graph = load_graph(f"{module}:{attr}")

    assert isinstance(graph, Pregel)
    assert run(graph) == {"value": 42}


@pytest.mark.parametrize(
    ("attr", "message"),
    [
        ("missing", "has no attribute 'missing'"),
        ("not_a_graph", "names a str, not a compiled graph"),
        ("failing_factory", "the factory failed: no database"),
        ("bad_factory", "the factory returned int, not a graph"),
        ("broken", "does not compile"),
    ],
)
def test_bad_targets_are_configuration_errors(module: str, attr: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        load_graph(f"{module}:{attr}")


@pytest.mark.parametrize("spec", ["", "module", "module:", ":attr", "a b:c", "mod:attr:x"])
def test_malformed_specs_are_configuration_errors(spec: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape("not of the form 'module.path:attr'")):
        load_graph(spec)


def test_missing_module_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="cannot import module 'no_such_module_xyz'"):
        load_graph("no_such_module_xyz:graph")


def test_parses_the_graphs_variable() -> None:
    specs = parse_graph_specs(" first = pkg.mod:graph , second=other:make_graph,")

    assert specs == {"first": "pkg.mod:graph", "second": "other:make_graph"}
    assert parse_graph_specs("") == {}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("pkg.mod:graph", "not of the form 'name=module.path:attr'"),
        ("x=pkg.mod", "not of the form"),
        ("bad name=pkg:graph", "not of the form"),
        ("a=m:g,a=n:h", "names graph 'a' twice"),
    ],
)
def test_malformed_graphs_variable_fails_at_startup(value: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        GraphRegistry.from_settings(Settings(graphs=value))


def test_an_unimportable_entry_fails_when_the_registry_is_built() -> None:
    entry = "mine=no_such_module_xyz:graph"

    with pytest.raises(ConfigurationError) as caught:
        GraphRegistry.from_settings(Settings(graphs=entry))

    assert str(caught.value).startswith(
        f"LAMBDAGRAPH_GRAPHS entry '{entry}': cannot import module 'no_such_module_xyz': "
    )


def test_an_entry_naming_a_missing_attribute_fails_when_the_registry_is_built(
    module: str,
) -> None:
    with pytest.raises(ConfigurationError) as caught:
        GraphRegistry.from_settings(Settings(graphs=f"mine={module}:nope"))

    assert str(caught.value) == (
        f"LAMBDAGRAPH_GRAPHS entry 'mine={module}:nope': {module!r} has no attribute 'nope'"
    )


def test_building_the_registry_imports_but_calls_no_factory(module: str) -> None:
    GraphRegistry.from_settings(Settings(graphs=f"doubler={module}:factory"))

    assert __import__(module).CALLS == []


def test_registry_serves_the_demo_and_user_graphs(module: str) -> None:
    registry = GraphRegistry.from_settings(
        Settings(graphs=f"doubler={module}:factory,other={module}:compiled", scripted_delay_ms=0)
    )

    assert registry.names() == [DEMO_GRAPH, "doubler", "other"]
    assert run(registry.get("doubler")) == {"value": 42}
    demo = registry.get(DEMO_GRAPH)
    answer = demo.invoke({"messages": [("user", "count to 3")]})["messages"][-1].content
    assert answer == "1 2 3"


def test_registry_loads_each_graph_once(module: str) -> None:
    registry = GraphRegistry.from_settings(Settings(graphs=f"doubler={module}:factory"))

    assert registry.get("doubler") is registry.get("doubler")
    assert __import__(module).CALLS == [1]


def test_unknown_assistant_is_not_found() -> None:
    registry = GraphRegistry.from_settings(Settings())

    with pytest.raises(AssistantNotFound) as caught:
        registry.get("nope")
    assert caught.value.assistant_id == "nope"


def test_a_user_graph_may_replace_the_demo(module: str) -> None:
    registry = GraphRegistry.from_settings(Settings(graphs=f"agent={module}:compiled"))

    assert registry.names() == [DEMO_GRAPH]
    assert run(registry.get(DEMO_GRAPH)) == {"value": 42}


def test_load_all_surfaces_a_bad_graph_before_any_request(module: str) -> None:
    registry = GraphRegistry.from_settings(Settings(graphs=f"bad={module}:not_a_graph"))

    with pytest.raises(ConfigurationError, match="not a compiled graph"):
        registry.load_all()


def test_with_checkpointer_leaves_the_cached_graph_alone(module: str) -> None:
    cached = load_graph(f"{module}:compiled")
    first, second = InMemorySaver(), InMemorySaver()

    one, two = with_checkpointer(cached, first), with_checkpointer(cached, second)
    one.invoke({"value": 1}, {"configurable": {"thread_id": "t"}})

    assert cached.checkpointer is None
    assert one.get_state({"configurable": {"thread_id": "t"}}).values == {"value": 2}
    assert two.get_state({"configurable": {"thread_id": "t"}}).values == {}
