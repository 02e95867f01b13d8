"""The run executor: the one place that drives a compiled graph and emits protocol events."""

from lambdagraph.engine.executor import GraphRegistry, RunExecutor
from lambdagraph.engine.sinks import MemorySink, QueueSink, Sink

__all__ = ["GraphRegistry", "MemorySink", "QueueSink", "RunExecutor", "Sink"]
