"""Choosing the demo agent's chat model from settings."""

from __future__ import annotations

from langchain_core.language_models import BaseChatModel

from lambdagraph.agents.scripted import ScriptedChatModel
from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import Settings

MODEL_CHOICES = ("scripted", "bedrock")


def create_chat_model(settings: Settings) -> BaseChatModel:
    """The chat model ``settings.model`` names.

    Reads (through ``settings``) ``LAMBDAGRAPH_MODEL``, ``LAMBDAGRAPH_SCRIPTED_DELAY_MS`` and
    ``LAMBDAGRAPH_BEDROCK_MODEL_ID``.

    Args:
        settings: lambdagraph settings.

    Returns:
        A :class:`ScriptedChatModel` or a streaming ``ChatBedrockConverse``.

    Raises:
        ConfigurationError: unknown model name, a negative delay, or ``bedrock`` without the
            ``bedrock`` extra.
    """
    choice = settings.model.strip().lower()
    if choice == "scripted":
        if settings.scripted_delay_ms < 0:
            raise ConfigurationError(
                f"LAMBDAGRAPH_SCRIPTED_DELAY_MS={settings.scripted_delay_ms} is negative"
            )
        return ScriptedChatModel(delay_ms=settings.scripted_delay_ms)
    if choice == "bedrock":
        try:
            from lambdagraph.agents.bedrock import create_bedrock_model  # noqa: PLC0415
        except ImportError as exc:
            raise ConfigurationError(
                "LAMBDAGRAPH_MODEL=bedrock needs the bedrock extra: "
                "pip install 'lambdagraph[bedrock]'"
            ) from exc
        return create_bedrock_model(settings.bedrock_model_id)
    raise ConfigurationError(
        f"LAMBDAGRAPH_MODEL={settings.model!r} is not one of: {', '.join(MODEL_CHOICES)}"
    )
