"""An embedded DynamoDB (and S3) for the local stack: moto's threaded server on loopback."""

from __future__ import annotations

import functools
import os
import threading
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator
from unittest.mock import patch

from moto.dynamodb.models import DynamoDBBackend
from moto.server import ThreadedMotoServer

_FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def use_fake_credentials() -> None:
    """Make boto3 work offline: fake credentials and a region, unless some are already set."""
    for key, value in _FAKE_CREDENTIALS.items():
        os.environ.setdefault(key, value)


@contextmanager
def embedded_aws(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Run moto's server for the duration of the block and point boto3 at it.

    Sets ``AWS_ENDPOINT_URL_DYNAMODB`` and ``AWS_ENDPOINT_URL_S3`` (honoured by botocore with
    no code change) and yields the endpoint URL. DynamoDB requests are serialized (see
    ``serialized_dynamodb``).
    """
    with serialized_dynamodb(), _moto_server(host, port) as endpoint:
        yield endpoint


@contextmanager
def _moto_server(host: str, port: int) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    saved = {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3")}
    os.environ["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
    os.environ["AWS_ENDPOINT_URL_S3"] = endpoint
    try:
        yield endpoint
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# moto's DynamoDB operations that read or write items; see ``serialized_dynamodb``.
_DYNAMODB_OPERATIONS = (
    "put_item",
    "update_item",
    "delete_item",
    "transact_write_items",
    "get_item",
    "query",
    "scan",
)


@contextmanager
def serialized_dynamodb() -> Iterator[None]:
    """Run moto's DynamoDB operations one at a time, as DynamoDB's isolation promises.

    moto 5.2 applies ``TransactWriteItems`` without a lock: it checks the conditions, then
    writes, and on failure restores a deep copy of the whole table taken at the start. Under
    concurrent requests two transactions can both pass a condition (breaking the checkpoint
    saver's fencing) or a failed one can undo another request's write. One lock around the
    backend (the server runs in this process) restores serializable behaviour.
    """
    lock = threading.RLock()

    def serialized(operation: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(operation)
        def call(*args: Any, **kwargs: Any) -> Any:
            with lock:
                return operation(*args, **kwargs)

        return call

    with ExitStack() as stack:
        for name in _DYNAMODB_OPERATIONS:
            original = getattr(DynamoDBBackend, name)
            stack.enter_context(patch.object(DynamoDBBackend, name, serialized(original)))
        yield
