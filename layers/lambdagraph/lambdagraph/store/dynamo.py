"""DynamoDB plumbing for the app store: error translation, attribute values, off-loop calls."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final

import orjson
from botocore.exceptions import BotoCoreError, ClientError

from lambdagraph.errors import (
    ConfigurationError,
    InvalidInput,
    LambdagraphError,
    Unavailable,
)
from lambdagraph.protocol.codec import dumps

ErrorFactory = Callable[[ClientError], LambdagraphError]

# botocore error code → our error. The most specific entry wins: a caller passes overrides
# (e.g. a failed condition meaning "thread not found") that take precedence over this table.
CLIENT_ERRORS: Final[Mapping[str, ErrorFactory]] = {
    "ResourceNotFoundException": lambda exc: ConfigurationError(
        "The app table does not exist; check LAMBDAGRAPH_APP_TABLE"
    ),
    "ProvisionedThroughputExceededException": lambda exc: Unavailable(),
    "ThrottlingException": lambda exc: Unavailable(),
    "RequestLimitExceeded": lambda exc: Unavailable(),
    "InternalServerError": lambda exc: Unavailable(),
    "ServiceUnavailable": lambda exc: Unavailable(),
    "TransactionConflictException": lambda exc: Unavailable(),
    "ItemCollectionSizeLimitExceededException": lambda exc: InvalidInput(
        "The thread holds too much data"
    ),
}


def error_code(exc: ClientError) -> str:
    """The botocore error code of ``exc``."""
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def translate_errors(overrides: Mapping[str, ErrorFactory] | None = None) -> Iterator[None]:
    """Turn botocore errors raised inside the block into :mod:`lambdagraph.errors` types.

    Args:
        overrides: code → factory entries that take precedence over :data:`CLIENT_ERRORS`.

    Raises:
        LambdagraphError: the mapped error, chained to the botocore one. Unmapped client
            errors are re-raised unchanged (a bug to fix, reported as an internal error).
    """
    try:
        yield
    except ClientError as exc:
        code = error_code(exc)
        if code == "ValidationException" and "size" in str(exc).lower():
            raise InvalidInput("The request is too large to store") from exc
        factory = (overrides or {}).get(code) or CLIENT_ERRORS.get(code)
        if factory is None:
            raise
        raise factory(exc) from exc
    except BotoCoreError as exc:
        raise Unavailable(f"DynamoDB request failed: {type(exc).__name__}") from exc


async def call(method: Callable[..., Any], /, **kwargs: Any) -> Any:
    """Run one blocking boto3 call in a worker thread so the event loop keeps serving."""
    return await asyncio.to_thread(method, **kwargs)


def s(value: str) -> dict[str, str]:
    """A string attribute value."""
    return {"S": value}


def n(value: float) -> dict[str, str]:
    """A number attribute value."""
    return {"N": str(value)}


def j(value: Any) -> dict[str, str]:
    """A JSON document stored as a string attribute."""
    return {"S": dumps(value).decode()}


def string_list(values: list[str]) -> dict[str, list[dict[str, str]]]:
    """A list-of-strings attribute value."""
    return {"L": [s(v) for v in values]}


def get_s(item: Mapping[str, Any], name: str, default: str | None = None) -> str | None:
    """A string attribute of ``item``, or ``default``."""
    value = item.get(name)
    return str(value["S"]) if value is not None and "S" in value else default


def get_j(item: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A JSON-string attribute of ``item``, decoded, or ``default``."""
    raw = get_s(item, name)
    return default if raw is None else orjson.loads(raw)


def get_list(item: Mapping[str, Any], name: str) -> list[str]:
    """A list-of-strings attribute of ``item`` (empty when absent)."""
    value = item.get(name)
    return [str(v["S"]) for v in value["L"]] if value is not None and "L" in value else []
