"""The engine: the run service every transport adapts to, and the executor under it.

Transports use what this package exports: the run request model (:class:`RunRequest`), the
run service (:class:`RunService`), sinks and results; the worker function calls
:func:`handle_worker_event`. Everything else is internal.
"""

from lambdagraph.engine.assistants import (
    AssistantService,
    Search,
    assistant_id,
    resolve_graph,
    sort_assistants,
    thread_graph_id,
)
from lambdagraph.engine.chunks import config_checkpoint, interrupt_dict
from lambdagraph.engine.commands import COMMANDS, RUN_RECORDING_COMMANDS
from lambdagraph.engine.crons import CRON_FIELDS, CronCreate, CronPatch, CronService, CronSort
from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.erase import ThreadEraser
from lambdagraph.engine.executor import GraphRegistry, RunExecutor
from lambdagraph.engine.graph_call import check_checkpoint_ref
from lambdagraph.engine.invoker import Invoker, LambdaInvoker, WorkerPayload, parse_payload
from lambdagraph.engine.requests import (
    STRICT,
    CommandRequest,
    RunRequest,
    describe_errors,
    parse_uuid,
)
from lambdagraph.engine.results import INTERRUPT_KEY, SERVER_FAULT, RunResult
from lambdagraph.engine.resumable import EventLogSink, SequencedSink
from lambdagraph.engine.runs import RunService
from lambdagraph.engine.schedules import schedules_from_settings
from lambdagraph.engine.sinks import SLOW_CONSUMER, MemorySink, QueueSink, Sink
from lambdagraph.engine.thread_hub import THREAD_HUB, ThreadHub
from lambdagraph.engine.thread_streams import CommandContext, Handler, ThreadStreams, protocol_code
from lambdagraph.engine.worker import handle_worker_event

__all__ = [
    "COMMANDS",
    "CRON_FIELDS",
    "INTERRUPT_KEY",
    "RUN_RECORDING_COMMANDS",
    "SERVER_FAULT",
    "SLOW_CONSUMER",
    "STRICT",
    "THREAD_HUB",
    "AssistantService",
    "CommandContext",
    "CommandRequest",
    "CronCreate",
    "CronPatch",
    "CronService",
    "CronSort",
    "DurableRuns",
    "EventLogSink",
    "GraphRegistry",
    "Handler",
    "Invoker",
    "LambdaInvoker",
    "MemorySink",
    "QueueSink",
    "RunExecutor",
    "RunRequest",
    "RunResult",
    "RunService",
    "Search",
    "SequencedSink",
    "Sink",
    "ThreadEraser",
    "ThreadHub",
    "ThreadStreams",
    "WorkerPayload",
    "assistant_id",
    "check_checkpoint_ref",
    "config_checkpoint",
    "describe_errors",
    "handle_worker_event",
    "interrupt_dict",
    "parse_payload",
    "parse_uuid",
    "protocol_code",
    "resolve_graph",
    "schedules_from_settings",
    "sort_assistants",
    "thread_graph_id",
]
