"""Choosing the chat model from settings."""

from __future__ import annotations

import sys

import pytest

from lambdagraph.agents import ScriptedChatModel, create_chat_model
from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings


def test_scripted_is_the_default_and_takes_the_delay() -> None:
    model = create_chat_model(Settings.from_env({"LAMBDAGRAPH_SCRIPTED_DELAY_MS": "5"}))

    assert isinstance(model, ScriptedChatModel)
    assert model.delay_ms == 5


def test_unknown_model_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="'gpt' is not one of: scripted, bedrock"):
        create_chat_model(Settings(model="gpt"))


def test_negative_delay_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="LAMBDAGRAPH_SCRIPTED_DELAY_MS=-5"):
        create_chat_model(Settings(scripted_delay_ms=-5))


def test_bedrock_without_the_extra_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import fail as if langchain-aws were missing.
    monkeypatch.setitem(sys.modules, "lambdagraph.agents.bedrock", None)

    with pytest.raises(ConfigurationError, match=r"lambdagraph\[bedrock\]"):
        create_chat_model(Settings(model="bedrock"))


def test_settings_read_the_agent_variables() -> None:
    settings = Settings.from_env(
        {
            "LAMBDAGRAPH_MODEL": "bedrock",
            "LAMBDAGRAPH_BEDROCK_MODEL_ID": "amazon.nova-pro-v1:0",
            "LAMBDAGRAPH_SCRIPTED_DELAY_MS": "0",
            "LAMBDAGRAPH_GRAPHS": "a=m:g",
        }
    )

    assert (settings.model, settings.bedrock_model_id) == ("bedrock", "amazon.nova-pro-v1:0")
    assert (settings.scripted_delay_ms, settings.graphs) == (0, "a=m:g")
