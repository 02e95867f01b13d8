"""Amazon Bedrock through ``langchain-aws`` (the ``bedrock`` extra), streaming ConverseStream."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from langchain_aws import ChatBedrockConverse

from lambdagraph.aws import client_config

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
        client: a boto3 ``bedrock-runtime`` client; built from the default session with
            ``lambdagraph.aws``'s configuration if None.
        region_name: region for a client built here (default: the session's, ``AWS_REGION``
            in Lambda).
        **kwargs: further ``ChatBedrockConverse`` options (``temperature``, ``max_tokens``…);
            a ``config`` is merged over ``lambdagraph.aws``'s.

    Returns:
        The chat model.
    """
    # langchain-aws builds the clients (runtime and control plane) itself; they get ours.
    kwargs["config"] = client_config("bedrock-runtime", kwargs.get("config"))
    return ChatBedrockConverse(
        model=model_id,
        client=client,
        region_name=region_name,
        streaming=True,
        **kwargs,
    )
