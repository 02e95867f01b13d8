"""Amazon Bedrock through ``langchain-aws`` (the ``bedrock`` extra), streaming ConverseStream."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_aws import ChatBedrockConverse

if TYPE_CHECKING:
    from mypy_boto3_bedrock_runtime import BedrockRuntimeClient


def create_bedrock_model(
    model_id: str,
    *,
    client: BedrockRuntimeClient | None = None,
    region_name: str | None = None,
    **kwargs: Any,
) -> ChatBedrockConverse:
    """A streaming ``ChatBedrockConverse`` for ``model_id``.

    ``streaming=True`` makes even ``invoke`` use ConverseStream, so tokens reach the
    ``messages`` stream mode as Bedrock produces them.

    Args:
        model_id: a Bedrock model or inference profile id, e.g.
            ``us.anthropic.claude-haiku-4-5-20251001-v1:0``.
        client: a boto3 ``bedrock-runtime`` client; built from the default session if None.
        region_name: region for a client built here (default: the session's, ``AWS_REGION``
            in Lambda).
        **kwargs: further ``ChatBedrockConverse`` options (``temperature``, ``max_tokens``…).

    Returns:
        The chat model.
    """
    return ChatBedrockConverse(
        model=model_id,
        client=client,
        region_name=region_name,
        streaming=True,
        **kwargs,
    )
