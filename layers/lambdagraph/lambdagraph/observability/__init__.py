"""Metrics, traces and log context: what a team operating lambdagraph watches.

* :mod:`.emf`: CloudWatch EMF lines (Powertools' EMF provider), counted in memory and
  written at a run's end or an invocation's end; never an API call.
* :mod:`.runs`: :class:`RunMeter`, the executor's per-run measurements.
* :mod:`.aws_calls`: DynamoDB throttles and WebSocket posts, from botocore's events.
* :mod:`.tracing`: Powertools ``Tracer`` (X-Ray), off unless ``LAMBDAGRAPH_TRACING``.
* :mod:`.logs`: ``run_id``, ``thread_id``, ``user_id`` on every log line of a run.

The README's "Observability" section lists every metric, the dashboard and the alarms.
"""

from lambdagraph.observability.emf import MetricsEmitter, configure, metrics
from lambdagraph.observability.logs import RunContextFilter, bind_run, run_keys, unbind
from lambdagraph.observability.runs import RunMeter, transport_of

__all__ = [
    "MetricsEmitter",
    "RunContextFilter",
    "RunMeter",
    "bind_run",
    "configure",
    "metrics",
    "run_keys",
    "transport_of",
    "unbind",
]
