"""The ``lambdagraph`` command: ``dev`` runs the local stack."""

from __future__ import annotations

import argparse
import logging
import os
import threading
from typing import Sequence

from lambdagraph.settings import Settings


def _dev(args: argparse.Namespace) -> int:
    # lazy: cold start — the local stack's dependencies are an extra, never on Lambda.
    import boto3

    from lambdagraph.local.dynamo import embedded_aws, use_fake_credentials
    from lambdagraph.local.tables import ensure_tables

    use_fake_credentials()
    settings = Settings.from_env()
    names = {"CheckpointsTable": settings.checkpoint_table, "AppTable": settings.app_table}
    if os.environ.get("AWS_ENDPOINT_URL_DYNAMODB"):
        created = ensure_tables(boto3.client("dynamodb"), names)
        print(f"DynamoDB  {os.environ['AWS_ENDPOINT_URL_DYNAMODB']} (created: {created or 'none'})")
        threading.Event().wait()
        return 0
    with embedded_aws(host=args.host, port=args.dynamodb_port) as endpoint:
        created = ensure_tables(boto3.client("dynamodb"), names)
        print(f"DynamoDB  {endpoint} (embedded moto; tables: {', '.join(created)})", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``lambdagraph``."""
    parser = argparse.ArgumentParser(prog="lambdagraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the local stack")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--dynamodb-port", type=int, default=0, help="0 picks a free port")
    dev.set_defaults(func=_dev)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lambdagraph`` console script."""
    logging.basicConfig(level=os.environ.get("LAMBDAGRAPH_LOG_LEVEL", "INFO"))
    args = build_parser().parse_args(argv)
    return int(args.func(args))
