"""The ``lambdagraph`` command: ``dev`` runs the local stack, ``chat`` talks to a server,
``token`` prints a token from the local stack's OIDC issuer (``dev --auth jwt``)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, get_args

from lambdagraph.errors import ConfigurationError
from lambdagraph.settings import AuthMode, Settings

if TYPE_CHECKING:
    from lambdagraph_client.chat import Decide


def _dev(args: argparse.Namespace) -> int:
    # lazy: cold start — the local stack's dependencies are an extra, never on Lambda.
    from lambdagraph_client.local.server import serve

    settings = Settings.from_env()
    if args.auth is not None:
        settings = settings.replace(auth_mode=args.auth)
    # boto's "found credentials/endpoint" notes are noise in a terminal running the stack.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        serve(
            host=args.host, port=args.port, dynamodb_port=args.dynamodb_port, settings=settings
        )
    return 0


def _token(args: argparse.Namespace) -> int:
    from lambdagraph_client.local.oidc import request_token  # lazy: the `local` extra

    print(request_token(args.url, args.user, expires_in=args.expires_in))
    return 0


def _dynamodb(args: argparse.Namespace) -> int:
    from lambdagraph_client.local.server import serve_dynamodb  # lazy: the `local` extra

    logging.getLogger("botocore").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        serve_dynamodb(host=args.host, port=args.port)
    return 0


def _chat(args: argparse.Namespace) -> int:
    from lambdagraph_client.chat import ask, chat, connect

    if args.yes or args.no:
        approved = bool(args.yes)

        def answer_all(value: object) -> bool:
            return approved

        decide: Decide = answer_all
    else:
        decide = ask(sys.stdout)
    if args.message is None and args.thread is None:
        print(
            "error: give a message (leaving it out only answers a pending approval, with --thread)",
            file=sys.stderr,
        )
        return 2
    if args.protocol == "v2":
        return _chat_v2(args, decide)
    if args.ws:
        from lambdagraph_client.ws_chat import run_chat  # lazy: the `local` extra (websockets)

        options = {"decide": decide, "out": sys.stdout, "token": args.token}
        try:
            return run_chat(
                args.url,
                args.message,
                thread_id=args.thread,
                assistant_id=args.assistant,
                **options,
            )
        except Exception as exc:  # noqa: BLE001 - refused handshake, server error: say so
            print(f"error: {exc}", file=sys.stderr)
            return 1
    headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
    client = connect(args.url, headers=headers)
    try:
        return chat(
            client,
            args.message,
            decide=decide,
            out=sys.stdout,
            thread_id=args.thread,
            assistant_id=args.assistant,
        )
    except Exception as exc:  # noqa: BLE001 - SDK HTTP errors, refused connections: say so
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        print(f"error: {detail}", file=sys.stderr)
        return 1


def _chat_v2(args: argparse.Namespace, decide: Decide) -> int:
    from lambdagraph_client.chat import connect
    from lambdagraph_client.v2_chat import run_chat

    headers = {"Authorization": f"Bearer {args.token}"} if args.token else None
    try:
        return run_chat(
            connect(args.url, headers=headers),
            args.message,
            decide=decide,
            out=sys.stdout,
            thread_id=args.thread,
            assistant_id=args.assistant,
            websocket=args.ws,
        )
    except Exception as exc:  # noqa: BLE001 - SDK HTTP errors, refused connections: say so
        detail = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        print(f"error: {detail}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``lambdagraph``."""
    parser = argparse.ArgumentParser(prog="lambdagraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    dev = sub.add_parser("dev", help="run the local stack (DynamoDB + HTTP API)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=8000)
    dev.add_argument("--dynamodb-port", type=int, default=0, help="0 picks a free port")
    dev.add_argument(
        "--auth", choices=get_args(AuthMode), default=None,
        help="auth mode (default: LAMBDAGRAPH_AUTH_MODE); jwt without LAMBDAGRAPH_JWT_ISSUER "
        "runs a local OIDC issuer whose tokens `lambdagraph token` prints",
    )
    dev.set_defaults(func=_dev)
    token = sub.add_parser(
        "token", help="print a token for a user from `lambdagraph dev --auth jwt`'s local issuer"
    )
    token.add_argument("--user", required=True, help="the token's subject: the user id")
    token.add_argument("--url", default="http://127.0.0.1:8000", help="the local stack")
    token.add_argument(
        "--expires-in", type=int, default=3600, metavar="SECONDS", help="lifetime (3600)"
    )
    token.set_defaults(func=_token)
    dynamodb = sub.add_parser(
        "dynamodb", help="run only the embedded DynamoDB, so `dev` can restart without losing state"
    )
    dynamodb.add_argument("--host", default="127.0.0.1")
    dynamodb.add_argument("--port", type=int, default=8001)
    dynamodb.set_defaults(func=_dynamodb)
    chat = sub.add_parser("chat", help="send a message to a running server and stream the reply")
    chat.add_argument(
        "message", nargs="?", default=None,
        help="what to say; may be left out with --thread to answer a pending approval",
    )
    chat.add_argument("--url", default="http://127.0.0.1:8000")
    chat.add_argument(
        "--thread", default=None,
        help="continue this thread id (a pending approval on it is asked first)",
    )
    chat.add_argument("--assistant", default="agent", help="graph name or assistant id")
    chat.add_argument("--token", default=None, help="bearer token for a server with auth")
    chat.add_argument(
        "--ws", action="store_true",
        help="use the WebSocket API (ws://…/ws); with --protocol v2, the protocol's WebSocket",
    )
    chat.add_argument(
        "--protocol", choices=["v1", "v2"], default="v1",
        help="v1: LangGraph's run API (default); v2: the Agent Streaming Protocol "
        "(/threads/{id}/commands and /stream/events)",
    )
    answer = chat.add_mutually_exclusive_group()
    answer.add_argument("--yes", action="store_true", help="approve every interrupt")
    answer.add_argument("--no", action="store_true", help="reject every interrupt")
    chat.set_defaults(func=_chat)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lambdagraph`` console script."""
    # Ctrl-C (SIGINT) always stops a command, leaving pending approvals pending: a process
    # started in the background by a non-interactive shell (a script, CI) inherits SIGINT
    # ignored, and Python then never raises KeyboardInterrupt. (Only the main thread may
    # set handlers; tests call main() from others.)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
    # The terminal is for tokens and the stack's banner; request logs only when asked for.
    logging.basicConfig(level=os.environ.get("LAMBDAGRAPH_LOG_LEVEL", "WARNING"))
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except ConfigurationError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
