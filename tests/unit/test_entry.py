"""Lambda entry points: one logger and settings per instance, a loop only where we own it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from aws_lambda_powertools import Logger

from lambdagraph.entry import LambdaEntry
from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings


async def _answer() -> int:
    return 42


def test_an_entry_with_its_own_loop_runs_coroutines_on_it() -> None:
    loop = asyncio.new_event_loop()
    entry = LambdaEntry(Settings(), Logger(service="test"), loop)
    try:
        assert entry.run(_answer()) == 42
    finally:
        loop.close()


def test_an_entry_whose_server_owns_the_loop_refuses_to_run_one() -> None:
    entry = LambdaEntry(Settings(), Logger(service="test"), None)
    coroutine = _answer()

    with pytest.raises(ConfigurationError, match="belongs to its server"):
        entry.run(coroutine)
    assert coroutine.cr_frame is None  # closed, not left to warn "never awaited"


def test_from_env_makes_a_loop_only_when_asked() -> None:
    # In a subprocess: from_env hands the package loggers to Powertools (no propagation).
    code = (
        "from lambdagraph.entry import LambdaEntry;"
        "print(LambdaEntry.from_env('a').loop is not None,"
        " LambdaEntry.from_env('b', own_loop=False).loop is None)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=os.environ
    )
    assert out.stdout.split() == ["True", "True"]
