"""Metrics as CloudWatch embedded metric format (EMF) lines: no API call, no agent.

Each :meth:`MetricsEmitter.emit` serialises one EMF document with Powertools'
``AmazonCloudWatchEMFProvider`` (its own metric and dimension sets, not the shared ones of
``Metrics``, so concurrent runs in one process never mix their dimensions) and writes it as
one JSON line: to stdout on Lambda, where CloudWatch Logs turns it into metrics, and to every
listener (the local stack's ``/metrics`` collector, tests).

High-frequency events are counted, never emitted one by one: :class:`Counters` adds them up
in memory (AWS calls made from worker threads, hence the lock) and :meth:`MetricsEmitter.flush`
writes their sums in one document, at a run's end and at the end of each invocation.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable, Mapping
from typing import Final

from aws_lambda_powertools.metrics.functions import is_metrics_disabled
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
    AmazonCloudWatchEMFProvider,
)

COUNT: Final = "Count"
MILLISECONDS: Final = "Milliseconds"
PER_SECOND: Final = "Count/Second"
NONE: Final = "None"

Listener = Callable[[str], None]
"""Takes each EMF line as written (a JSON document without the newline)."""

Values = Mapping[str, tuple[float, str]]
"""Metric name → (value, CloudWatch unit)."""


class Counters:
    """Counts by (metric name, dimensions), summed until :meth:`take`; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}

    def add(self, name: str, value: float = 1, **dimensions: str) -> None:
        """Add ``value`` to the count of ``name`` under ``dimensions``."""
        key = (name, tuple(sorted(dimensions.items())))
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + value

    def take(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        """Every count so far, which start again from zero."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts


class MetricsEmitter:
    """Writes EMF documents in one namespace; each line names its ``service`` (the function).

    Args:
        namespace: the CloudWatch namespace (``LAMBDAGRAPH_METRICS_NAMESPACE``).
        service: the function (``lambdagraph-worker``, ...): a property of each line, and
            a dimension of the counts (a run's metrics are published per transport).
        stdout: print each line (Lambda); off where nothing reads stdout as logs.

    Reads ``POWERTOOLS_METRICS_DISABLED`` (and ``POWERTOOLS_DEV``) as Powertools does: when
    they disable metrics nothing is printed (listeners still hear every line).
    """

    def __init__(self, namespace: str, service: str, *, stdout: bool = False) -> None:
        self.namespace = namespace
        self.service = service
        self.stdout = stdout
        self.counters = Counters()
        self.listeners: list[Listener] = []

    def emit(
        self,
        values: Values,
        *dimension_sets: Mapping[str, str],
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Write one document holding ``values``, published under each dimension set.

        Args:
            values: metric name → (value, unit).
            *dimension_sets: the sets each metric is published under; ``{}`` (the default
                when none is given) publishes it with no dimension, the series an alarm
                reads; ``{"transport": "websocket"}`` adds one series per transport.
            metadata: properties of the log line only (``run_id``): searchable in CloudWatch
                Logs Insights, never dimensions (they would make one series per run).
        """
        if not values:
            return
        provider = AmazonCloudWatchEMFProvider(
            namespace=self.namespace, metric_set={}, dimension_set={}, metadata_set={}
        )
        primary, *more = dimension_sets or ({},)
        for name, text in primary.items():
            provider.add_dimension(name=name, value=text)
        for extra in more:
            provider.add_dimensions(**extra)
        provider.add_metadata("service", self.service)
        for key, text in (metadata or {}).items():
            provider.add_metadata(key, text)
        for name, (value, unit) in values.items():
            provider.add_metric(name=name, unit=unit, value=value)
        line = json.dumps(provider.serialize_metric_set(), separators=(",", ":"))
        if self.stdout and not is_metrics_disabled():
            sys.stdout.write(line + "\n")
            sys.stdout.flush()
        for listener in list(self.listeners):
            listener(line)

    def count(self, name: str, value: float = 1, **dimensions: str) -> None:
        """Count an occurrence now; it is written by the next :meth:`flush`."""
        self.counters.add(name, value, **dimensions)

    def flush(self) -> None:
        """Write the counts so far, one document per set of dimensions."""
        grouped: dict[tuple[tuple[str, str], ...], dict[str, tuple[float, str]]] = {}
        for (name, dims), value in self.counters.take().items():
            grouped.setdefault(dims, {})[name] = (value, COUNT)
        for dims, values in grouped.items():
            self.emit(values, {}, {"service": self.service, **dict(dims)})


_emitter = MetricsEmitter("lambdagraph", "lambdagraph")


def configure(namespace: str, service: str, *, stdout: bool) -> MetricsEmitter:
    """Set the process's emitter (once per cold start; the local stack once per process).

    Listeners of the previous emitter carry over, so a collector outlives reconfiguration.
    """
    global _emitter
    previous = _emitter
    _emitter = MetricsEmitter(namespace, service, stdout=stdout)
    _emitter.listeners = previous.listeners
    return _emitter


def metrics() -> MetricsEmitter:
    """The process's emitter."""
    return _emitter
