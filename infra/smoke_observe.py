"""The smoke test's observability checks: a run's metrics and its trace arrived.

After the WebSocket run of ``smoke.py`` ended (the worker executed it):

1. its EMF lines are in the worker's log group (CloudWatch Logs ``FilterLogEvents`` on the
   line's ``run_id`` property); their metrics are printed;
2. CloudWatch has the ``RunsEnded`` metric in the stack's namespace (``ListMetrics``; a
   metric shows there a minute or two after its first EMF line);
3. when the stack's ``Tracing`` parameter is ``Active``: X-Ray has a trace of the worker in
   the run's time window annotated with the run's id (``GetTraceSummaries``).

Each check polls until ``wait`` seconds have passed. The boto3 clients are passed in, so
the logic runs in tests on botocore ``Stubber`` answers, never against AWS.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


class ObservabilityError(Exception):
    """A metric or trace did not arrive in time; the message says which."""


@dataclass
class ObservabilityChecks:
    """Args: the ``logs``, ``cloudwatch`` and ``xray`` clients; the stack's name (its
    metrics namespace; the worker is ``{stack}-worker``); ``tracing``: the stack traces."""

    logs: Any
    cloudwatch: Any
    xray: Any
    stack: str
    tracing: bool = False
    wait: float = 180.0
    interval: float = 10.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    printed: list[str] = field(default_factory=list)

    @property
    def log_group(self) -> str:
        """The worker's log group (template.yaml's ``WorkerLogGroup``)."""
        return f"/aws/lambda/{self.stack}-worker"

    def run_metrics(self, run_id: str, since: float) -> dict[str, float]:
        """The metrics of ``run_id``'s EMF lines written since ``since`` (epoch seconds)."""
        answer = self.logs.filter_log_events(
            logGroupName=self.log_group,
            startTime=int(since * 1000),
            filterPattern=f'{{ $.run_id = "{run_id}" }}',
        )
        found: dict[str, float] = {}
        for event in answer.get("events", []):
            try:
                document = json.loads(event["message"])
            except ValueError:
                continue
            if not isinstance(document, dict) or "_aws" not in document:
                continue
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for metric in directive["Metrics"]:
                    value = document.get(metric["Name"])
                    values = value if isinstance(value, list) else [value]
                    found[metric["Name"]] = float(sum(v for v in values if v is not None))
        return found

    def metric_arrived(self, name: str = "RunsEnded") -> bool:
        """Whether CloudWatch lists ``name`` in the stack's namespace."""
        answer = self.cloudwatch.list_metrics(Namespace=self.stack, MetricName=name)
        return bool(answer.get("Metrics"))

    def trace_arrived(self, run_id: str, since: float) -> bool:
        """Whether X-Ray has a trace annotated with ``run_id`` since ``since``."""
        answer = self.xray.get_trace_summaries(
            StartTime=datetime.fromtimestamp(since - 60, UTC),
            EndTime=datetime.fromtimestamp(self.clock() + 60, UTC),
            FilterExpression=f'annotation.run_id = "{run_id}"',
        )
        return bool(answer.get("TraceSummaries"))

    def check(self, run_id: str, since: float) -> str:
        """Every check for ``run_id`` (started at ``since``); a summary line when all passed.

        Raises:
            ObservabilityError: one did not pass within ``wait`` seconds.
        """
        metrics = self._poll(lambda: self.run_metrics(run_id, since), "the run's EMF lines")
        shown = ", ".join(f"{name}={value:g}" for name, value in sorted(metrics.items()))
        self.printed.append(f"run {run_id} metrics: {shown}")
        print(self.printed[-1])
        if metrics.get("RunsEnded") != 1:
            raise ObservabilityError(f"run {run_id} wrote no RunsEnded metric")
        self._poll(self.metric_arrived, "the RunsEnded metric in CloudWatch")
        if not self.tracing:
            return f"{len(metrics)} metrics, in CloudWatch; tracing off (Tracing=Disabled)"
        self._poll(lambda: self.trace_arrived(run_id, since), "the run's X-Ray trace")
        return f"{len(metrics)} metrics, in CloudWatch; trace in X-Ray"

    def _poll(self, probe: Callable[[], Any], what: str) -> Any:
        deadline = self.clock() + self.wait
        while True:
            result = probe()
            if result:
                return result
            if self.clock() >= deadline:
                raise ObservabilityError(f"{what} did not arrive within {self.wait:g} s")
            self.sleep(self.interval)


def stack_traces(cloudformation: Any, stack: str) -> bool:
    """Whether the stack was deployed with ``Tracing=Active``."""
    (description,) = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    given = {p["ParameterKey"]: p.get("ParameterValue") for p in description.get("Parameters", [])}
    return given.get("Tracing") == "Active"
