"""An embedded DynamoDB (and S3) for the local stack: moto's threaded server on loopback.

:func:`embedded_aws` runs it in this process (tests); :func:`moto_process` in a child process
of its own (``lambdagraph dev``), so that moto's request handling never competes with the
app's event loop for this process's GIL. ``python -m lambdagraph_client.local.dynamo HOST
PORT`` is that child: it prints its endpoint, serves until its standard input closes (its
parent exited, however it exited), then stops.
"""

from __future__ import annotations

import copy
import functools
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any
from unittest.mock import patch

from moto.dynamodb import models as moto_dynamodb
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
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


_ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_S3")
_CHILD_START_TIMEOUT = 60.0
_CHILD_STOP_TIMEOUT = 10.0


@contextmanager
def moto_process(host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Like :func:`embedded_aws`, but moto (serialized the same way) runs in a child process.

    The child has a session of its own, so Ctrl-C on the terminal stops the stack first and
    its DynamoDB last; it exits when its standard input closes, which also happens when this
    process dies without cleaning up.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", __name__, host, str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert process.stdout is not None
        endpoint = process.stdout.readline().strip()
        if not endpoint.startswith("http"):
            raise RuntimeError(f"the embedded DynamoDB did not start (exit {process.poll()})")
        with _pointed_at(endpoint):
            yield endpoint
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(_CHILD_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(_CHILD_STOP_TIMEOUT)


def _serve_until_stdin_closes(host: str, port: int) -> None:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto logs every request
    with embedded_aws(host, port) as endpoint:
        print(endpoint, flush=True)
        sys.stdin.read()


@contextmanager
def _pointed_at(endpoint: str) -> Iterator[None]:
    """boto3 (``AWS_ENDPOINT_URL_*``) pointed at ``endpoint`` for the block."""
    saved = {key: os.environ.get(key) for key in _ENDPOINT_VARIABLES}
    for key in _ENDPOINT_VARIABLES:
        os.environ[key] = endpoint
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def _moto_server(host: str, port: int) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    endpoint = f"http://{bound_host}:{bound_port}"
    try:
        with _pointed_at(endpoint):
            yield endpoint
    finally:
        server.stop()


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
            if name == "transact_write_items":
                original = _item_level_rollback(original)
            stack.enter_context(patch.object(DynamoDBBackend, name, serialized(original)))
        stack.enter_context(patch.object(moto_dynamodb, "copy", _TableSparingCopy))
        stack.enter_context(
            patch.object(
                DomainDispatcherApplication, "get_backend_for_host",
                _cached_backend(DomainDispatcherApplication.get_backend_for_host),
            )
        )
        stack.enter_context(patch.object(Table, "query", _partition_query(Table.query)))
        yield


class _TableSparingCopy:
    """moto's ``copy`` module inside its DynamoDB backend, except that a whole table is not copied.

    moto snapshots every table a transaction touches with ``deepcopy`` (in case it must roll
    back), so each ``TransactWriteItems`` costs time in proportion to everything stored: a
    long ``make dev`` session or benchmark got slower with every run. Under the lock above, a
    snapshot of the items the transaction names is enough (``_item_level_rollback``).
    """

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)


def _cached_backend(lookup: Callable[..., Any]) -> Callable[..., Any]:
    """moto's dispatcher's host → service lookup, remembered per host.

    moto answers it for every request by listing its package directory (a ``stat`` per
    service, ~170) and trying each service's URL patterns, all under the dispatcher's one
    lock: every DynamoDB request of a busy local stack queued there. The answer depends on
    the host alone (the patterns and the package never change while serving).
    """
    cache: dict[str | None, Any] = {}

    @functools.wraps(lookup)
    def call(app: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in cache:
            cache[host] = lookup(app, host)
        return cache[host]

    return call


def _partition_query(query: Callable[..., Any]) -> Callable[..., Any]:
    """moto's ``Table.query`` reading only the queried partition.

    moto answers a key query by sorting every item of the table and keeping the partition's,
    so a checkpoint read got slower with every thread ever stored. Index queries keep moto's
    path. Runs under the lock above (``DynamoDBBackend.query``), so the instance attribute
    that narrows ``all_items`` is seen by this query alone.
    """

    @functools.wraps(query)
    def call(table: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = args[6] if len(args) > 6 else kwargs.get("index_name")
        if hash_key is None or index_name or not table.has_range_key:
            return query(table, hash_key, *args, **kwargs)
        partition = list(table.items.get(hash_key, {}).values())
        table.all_items = lambda: partition  # type: ignore[method-assign]
        try:
            return query(table, hash_key, *args, **kwargs)
        finally:
            del table.all_items

    return call


_Saved = tuple[Table, DynamoType, DynamoType | None, Any]


def _item_level_rollback(operation: Callable[..., Any]) -> Callable[..., Any]:
    """``transact_write_items`` that restores the items it names when it fails."""

    @functools.wraps(operation)
    def call(backend: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> Any:
        saved = [s for s in (_snapshot(backend, entry) for entry in transact_items) if s]
        try:
            return operation(backend, transact_items)
        except Exception:
            for table, hash_key, range_key, item in reversed(saved):
                _restore(table, hash_key, range_key, item)
            raise

    return call


def _snapshot(backend: DynamoDBBackend, entry: dict[str, Any]) -> _Saved | None:
    try:
        op = next(iter(entry.values()))
        table = backend.tables[op["TableName"]]
        key = op.get("Key") or op["Item"]
        hash_key = DynamoType(key[table.hash_key_attr])
        range_key = DynamoType(key[table.range_key_attr]) if table.has_range_key else None
    except (KeyError, TypeError, StopIteration, AttributeError):
        return None  # malformed: moto rejects it before writing anything for it
    return table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
    elif item is None:
        table.items.get(hash_key, {}).pop(range_key, None)
    else:
        table.items[hash_key][range_key] = item


if __name__ == "__main__":
    _serve_until_stdin_closes(sys.argv[1], int(sys.argv[2]))
