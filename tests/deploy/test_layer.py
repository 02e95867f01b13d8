"""The layer's requirements are the package's runtime dependencies, and sample events fit
the routes and payloads the template wires up."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from lambdagraph.engine.invoker import parse_payload
from tests.conftest import EVENTS_DIR
from tests.deploy.template import REPO_ROOT, websocket_routes

LAYER_REQUIREMENTS = REPO_ROOT / "layers" / "lambdagraph" / "requirements.txt"
# Extras a deployed function needs: Bedrock for the demo agent, JWT for AuthMode jwt,
# langgraph-sdk's Auth for AuthMode custom.
DEPLOYED_EXTRAS = ("bedrock", "jwt", "custom")


def layer_requirements() -> list[Requirement]:
    lines = LAYER_REQUIREMENTS.read_text().splitlines()
    return [Requirement(line) for line in lines if line.strip() and not line.startswith("#")]


def test_layer_installs_the_package_dependencies_and_deployed_extras() -> None:
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in DEPLOYED_EXTRAS:
        wanted += project["optional-dependencies"][extra]
    unconditional = {str(r) for r in layer_requirements() if r.marker is None}
    assert unconditional == {str(Requirement(w)) for w in wanted}


def test_layer_leaves_out_local_only_dependencies() -> None:
    names = {r.name for r in layer_requirements()}
    assert not names & {"moto", "websockets", "pytest"}


def test_version_pinned_lines_only_narrow_a_dependency_for_old_runtimes() -> None:
    for requirement in layer_requirements():
        if requirement.marker is not None:
            assert "python_version" in str(requirement.marker)


@pytest.mark.parametrize("path", sorted(EVENTS_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_sample_event_fits_its_function(path: Path) -> None:
    event = json.loads(path.read_text())
    routes = websocket_routes()
    if path.stem.startswith(("function_url", "http_api")):
        assert (
            event["version"] == "2.0"
            and event["requestContext"]["http"]["path"] == event["rawPath"]
        )
    elif path.stem == "ws_authorizer":
        assert event["type"] == "REQUEST" and event["queryStringParameters"]["token"]
    elif path.stem.startswith("ws_"):
        assert event["requestContext"]["routeKey"] in routes
        if (
            event["requestContext"]["eventType"] == "MESSAGE"
            and event["requestContext"]["routeKey"] != "$default"
        ):
            assert json.loads(event["body"])["action"] == event["requestContext"]["routeKey"]
    elif path.stem.startswith("worker_"):
        assert parse_payload(event)["kind"] == event["kind"]
    else:
        pytest.fail(f"{path.name}: no function takes this event; name it for its function")
