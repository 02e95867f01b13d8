"""``run.start``'s multitask strategy, read from the command's params."""

from __future__ import annotations

from typing import Any

import pytest

from lambdagraph.engine.agent_commands import run_start_strategy
from lambdagraph.protocol.agent import ProtocolError


@pytest.mark.parametrize(("params", "strategy"), [
    ({}, "enqueue"),
    ({"multitaskStrategy": None}, "enqueue"),
    ({"multitaskStrategy": "reject"}, "reject"),
    ({"multitaskStrategy": "interrupt"}, "interrupt"),
    ({"multitaskStrategy": "rollback"}, "rollback"),
    ({"multitaskStrategy": "enqueue"}, "enqueue"),
    ({"multitask_strategy": "reject"}, "reject"),
])
def test_the_strategy_or_enqueue(params: dict[str, Any], strategy: str) -> None:
    assert run_start_strategy(params) == strategy


@pytest.mark.parametrize("value", ["later", "REJECT", 1, ["reject"], True])
def test_anything_else_is_an_invalid_argument(value: Any) -> None:
    with pytest.raises(ProtocolError) as caught:
        run_start_strategy({"multitaskStrategy": value})
    assert caught.value.code == "invalid_argument"
    assert repr(value) in caught.value.message
