"""The composition root: each process gets what it needs, built once from Settings."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings
from lambdagraph.wiring import build_http_app, build_worker, build_ws_api

WORKER = Settings(worker_function="lambdagraph-worker", cancel_wait_seconds=7.0)


def test_the_ws_function_builds_no_executor_and_no_saver() -> None:
    code = (
        "import sys; from lambdagraph.settings import Settings;"
        "from lambdagraph.wiring import build_ws_api;"
        "api = build_ws_api(Settings(worker_function='w'));"
        "print(api.runs.durable.executor, 'lambdagraph.store.checkpoint' in sys.modules)"
    )
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )

    assert out.stdout.split() == ["None", "False"]


def test_the_ws_function_needs_a_worker_to_hand_runs_to() -> None:
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_WORKER_FUNCTION"):
        build_ws_api(Settings())


def test_every_transport_gets_the_one_cancel_wait_setting() -> None:
    app = build_http_app(WORKER)
    api = build_ws_api(WORKER)

    assert app.state.context.runs.cancel_wait_seconds == 7.0
    assert api.runs.cancel_wait_seconds == 7.0


def test_cancel_wait_is_read_from_the_environment() -> None:
    env = {"LAMBDAGRAPH_CANCEL_WAIT_SECONDS": "12.5"}
    assert Settings.from_env(env).cancel_wait_seconds == 12.5
    assert Settings().cancel_wait_seconds == 20.0


def test_the_worker_fans_out_to_websocket_subscribers_only_with_an_endpoint() -> None:
    plain = build_worker(WORKER)
    posting = build_worker(Settings(worker_function="w", ws_endpoint="https://example/ws"))

    assert plain.executor is not None and plain.worker_sinks is None
    assert posting.worker_sinks is not None


def test_the_worker_needs_its_own_function_name_for_continuations() -> None:
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_WORKER_FUNCTION"):
        build_worker(Settings())


def test_the_worker_and_the_http_app_erase_deleted_threads_and_the_ws_function_does_not() -> None:
    worker = build_worker(WORKER)
    context = build_http_app(WORKER).state.context
    api = build_ws_api(WORKER)

    # The worker handles erase payloads, and continues an erasure through its own invoker.
    assert worker.eraser is not None and worker.eraser.invoker is worker.invoker
    # The app's deletes hand erasures to the same worker its runs go to.
    assert context.eraser.invoker is context.runs.durable.invoker is not None
    assert api.runs.durable.eraser is None  # the ws function never deletes a thread


def test_without_a_worker_the_http_app_erases_deleted_threads_itself() -> None:
    context = build_http_app(Settings()).state.context

    assert context.eraser.invoker is None
