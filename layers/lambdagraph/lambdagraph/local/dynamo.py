"""An embedded DynamoDB (and S3) for the local stack: moto's threaded server on loopback."""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

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
    no code change) and yields the endpoint URL.
    """
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
