"""What every Lambda entry point in ``functions/`` sets up once per cold start.

Each ``functions/<name>/app.py`` builds one :class:`LambdaEntry` at module level, decorates
its ``handler`` with ``entry.logger.inject_lambda_context(clear_state=True)`` and runs the
package's coroutine with :meth:`LambdaEntry.run`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

from lambdagraph.settings import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class LambdaEntry:
    """The settings, the one Powertools logger and the event loop of a Lambda instance.

    Example:
        entry = LambdaEntry.from_env("lambdagraph-ws")
        api = build_ws_api(entry.settings)

        @entry.logger.inject_lambda_context(clear_state=True)
        def handler(event, context):
            return entry.run(api.handle(event, context))
    """

    settings: Settings
    logger: Logger
    loop: asyncio.AbstractEventLoop

    @classmethod
    def from_env(cls, service: str) -> LambdaEntry:
        """Read the settings (every ``LAMBDAGRAPH_*`` variable) and set up logging.

        Args:
            service: the ``service`` key of every log line.
        """
        settings = Settings.from_env()
        logger = Logger(service=service, level=settings.log_level)
        # Package modules log through `logging`; this gives them the same JSON handler.
        copy_config_to_registered_loggers(source_logger=logger, include={"lambdagraph"})
        # One loop for the life of the instance: clients built on it stay usable warm.
        return cls(settings, logger, asyncio.new_event_loop())

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to completion on the instance's loop."""
        return self.loop.run_until_complete(coroutine)
