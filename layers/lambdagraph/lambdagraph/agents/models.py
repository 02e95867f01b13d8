"""Choosing the demo agent's chat model from settings."""

from __future__ import annotations

from typing import get_args

from langchain_core.language_models import BaseChatModel

from lambdagraph.agents.scripted import ScriptedChatModel
from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import ModelName, Settings

#: The values ``LAMBDAGRAPH_MODEL`` accepts (``Settings`` validates them).
MODEL_CHOICES: tuple[str, ...] = get_args(ModelName)


def create_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model ``settings.model`` names.

    Reads (through ``settings``, which has validated them) ``LAMBDAGRAPH_MODEL``,
    ``LAMBDAGRAPH_SCRIPTED_DELAY_MS`` and ``LAMBDAGRAPH_BEDROCK_MODEL_ID``.

    Args:
        settings: lambdagraph settings.

    Returns:
        A :class:`ScriptedChatModel` or a streaming ``ChatBedrockConverse``.

    Raises:
        ConfigurationError: ``bedrock`` without the ``bedrock`` extra.
    """
    if settings.model == "scripted":
        return ScriptedChatModel(delay_ms=settings.scripted_delay_ms)
    try:
        from lambdagraph.agents.bedrock import create_bedrock_model  # lazy: the bedrock extra
    except ImportError as exc:
        raise ConfigurationError(
            "LAMBDAGRAPH_MODEL=bedrock needs the bedrock extra: pip install 'lambdagraph[bedrock]'"
        ) from exc
    return create_bedrock_model(settings.bedrock_model_id)
