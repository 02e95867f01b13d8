"""The run executor: the one place that drives a compiled graph and emits protocol events."""

from lambdagraph.engine.durable import DurableRuns
from lambdagraph.engine.erase import ThreadEraser
from lambdagraph.engine.executor import GraphRegistry, RunExecutor
from lambdagraph.engine.invoker import Invoker, LambdaInvoker
from lambdagraph.engine.resumable import EventLogSink, SequencedSink
from lambdagraph.engine.sinks import MemorySink, QueueSink, Sink

__all__ = [
    "DurableRuns",
    "EventLogSink",
    "GraphRegistry",
    "Invoker",
    "LambdaInvoker",
    "MemorySink",
    "QueueSink",
    "RunExecutor",
    "SequencedSink",
    "Sink",
    "ThreadEraser",
]
