"""The local stack on its own embedded moto server, as ``make dev`` runs it."""

from __future__ import annotations

import os

import httpx

from lambdagraph.settings import Settings
from lambdagraph_client.local.server import running_stack


def test_embedded_stack_creates_its_tables_serves_and_restores_the_environment(
    aws_endpoint: str,
) -> None:
    settings = Settings(app_table="dev-app", checkpoint_table="dev-checkpoints",
                        scripted_delay_ms=0)

    with running_stack(settings=settings, embedded=True) as stack:
        ok = httpx.get(f"{stack.url}/ok", timeout=10)
        thread = httpx.post(f"{stack.url}/threads", json={}, timeout=10)
        during = os.environ["AWS_ENDPOINT_URL_DYNAMODB"]

    assert ok.json() == {"ok": True}
    assert thread.status_code == 200
    assert stack.embedded and stack.dynamodb_endpoint == during != aws_endpoint
    assert sorted(stack.created_tables) == ["dev-app", "dev-checkpoints"]
    assert "embedded moto" in stack.describe()
    assert os.environ["AWS_ENDPOINT_URL_DYNAMODB"] == aws_endpoint
    try:
        httpx.get(f"{stack.url}/ok", timeout=2)
    except httpx.TransportError:
        pass
    else:
        raise AssertionError("the server is still answering after the stack stopped")
