"""Each Lambda function's cold start, imported as Lambda imports it: a bad setting stops it
with a message naming the variable, and every AWS client it holds carries the shared botocore
configuration (``lambdagraph.aws``), found by walking what the function module built."""

from __future__ import annotations

import gc
import importlib.util
from collections.abc import Iterator
from types import FunctionType, MethodType, ModuleType
from typing import Any, TypeVar

import pytest
from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer
from botocore.client import BaseClient

from lambdagraph.errors import ConfigurationError
from tests.deploy.template import REPO_ROOT, functions, resolved_environment

# What each function must hold: the stores and saver (DynamoDB, S3 for the bucket), the
# worker invoker (Lambda) and, in the worker, the WebSocket fan-out's management client.
EXPECTED = {
    "ApiFunction": {"dynamodb", "s3", "lambda"},
    "StreamFunction": {"dynamodb", "s3", "lambda"},
    "WorkerFunction": {"dynamodb", "s3", "lambda", "apigatewaymanagementapi"},
    # The ws function records runs and hands them to the worker: no saver, so no S3 at cold
    # start. It builds an S3 client only when it reads a run whose input an HTTP request
    # offloaded to the bucket (RunInputReadPolicy); a WebSocket message (128 KB) never is.
    "WsFunction": {"dynamodb", "lambda"},
    "AuthorizerFunction": set(),
}
T = TypeVar("T")
_LEAVES = (str, bytes, int, float, complex, bool, type(None), type, ModuleType)


def reachable(roots: list[Any], kind: type[T]) -> Iterator[T]:
    """Instances of ``kind`` reachable from ``roots`` through attributes, containers and
    closures (not through module globals, so the walk stays in what the function built)."""
    seen: set[int] = set()
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen or isinstance(obj, _LEAVES):
            continue
        seen.add(id(obj))
        if isinstance(obj, kind):
            yield obj
        if isinstance(obj, BaseClient):
            continue
        if isinstance(obj, dict):
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset)):
            stack.extend(obj)
        elif isinstance(obj, MethodType):
            stack.extend([obj.__self__, obj.__func__])
        elif isinstance(obj, FunctionType):
            stack.extend(cell.cell_contents for cell in obj.__closure__ or () if _filled(cell))
            stack.append(getattr(obj, "__wrapped__", None))
        stack.extend(getattr(obj, "__dict__", {}).values())
        for slot in getattr(type(obj), "__slots__", ()):
            stack.append(getattr(obj, slot, None))


def _filled(cell: Any) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises
    except ValueError:
        return False
    return True


def load_function(logical_id: str, monkeypatch: pytest.MonkeyPatch, **overrides: str) -> ModuleType:
    """Import ``functions/<name>/app.py`` under the template's environment for the function,
    with ``overrides`` on top."""
    # AuthMode iam: a mode that builds no client of its own and needs no issuer to reach.
    environment = resolved_environment(logical_id, {"AuthMode": "iam"})
    for name, value in {**environment, **overrides}.items():
        monkeypatch.setenv(name, value)
    # The api and stream modules freeze the collector's view of the process for the
    # instance's life; in the test process that would pin every later test's garbage.
    monkeypatch.setattr(gc, "freeze", lambda: None)
    path = REPO_ROOT / functions()[logical_id]["CodeUri"] / "app.py"
    spec = importlib.util.spec_from_file_location(f"cold_start_{logical_id}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_a_bad_setting_stops_the_cold_start_naming_the_variable(
    logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {"LAMBDAGRAPH_RUN_LEASE_SECONDS": "30s"}

    with pytest.raises(ConfigurationError) as caught:
        load_function(logical_id, monkeypatch, **bad)

    assert str(caught.value) == "LAMBDAGRAPH_RUN_LEASE_SECONDS='30s' is not a number"


@pytest.mark.parametrize("logical_id", sorted(set(EXPECTED) - {"AuthorizerFunction"}))
def test_an_unimportable_graph_stops_the_cold_start_of_every_function_serving_graphs(
    logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {"LAMBDAGRAPH_GRAPHS": "mine=no_such_module_xyz:graph"}

    with pytest.raises(ConfigurationError) as caught:
        load_function(logical_id, monkeypatch, **bad)

    assert str(caught.value).startswith(
        "LAMBDAGRAPH_GRAPHS entry 'mine=no_such_module_xyz:graph': "
        "cannot import module 'no_such_module_xyz'"
    )


def built_by(module: ModuleType) -> list[Any]:
    """The objects a function module holds at module level: what its cold start built."""
    return [value for value in vars(module).values() if not isinstance(value, _LEAVES)]


@pytest.mark.parametrize("logical_id", sorted(EXPECTED))
def test_each_functions_clients_carry_the_shared_config(
    logical_id: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clients = list(reachable(built_by(load_function(logical_id, monkeypatch)), BaseClient))

    services = {client.meta.service_model.service_name for client in clients}
    assert services == EXPECTED[logical_id]
    for client in clients:
        config = client.meta.config
        assert config.retries == {"mode": "standard", "total_max_attempts": 3}, client
        assert (config.connect_timeout, config.read_timeout) == (5, 20), client
        assert config.max_pool_connections == 50, client


def test_the_ws_idempotency_layer_uses_a_client_with_the_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    module = load_function("WsFunction", monkeypatch)

    layers = list(reachable(built_by(module), DynamoDBPersistenceLayer))

    assert len(layers) == 1
    assert layers[0].client.meta.config.retries == {"mode": "standard", "total_max_attempts": 3}
