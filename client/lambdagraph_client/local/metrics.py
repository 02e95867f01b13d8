"""The local stack's metrics: the EMF lines the app writes, served as Prometheus text.

On Lambda each EMF line goes to stdout and CloudWatch makes metrics of it; locally the same
lines reach a :class:`PrometheusCollector` (a listener of ``lambdagraph.observability``),
and :class:`MetricsRoute` answers ``GET /metrics`` with them in Prometheus' text format
(``curl http://127.0.0.1:8000/metrics``), next to the app, outside its OpenAPI schema:

* a ``Count`` metric is a counter: ``lambdagraph_runs_ended_total{status="success"} 3``;
* any other unit is a summary of its values: ``lambdagraph_time_to_first_token_ms_sum``
  and ``_count`` (their quotient is the mean).

Each of a document's dimension sets is one labelled series, as in CloudWatch.
"""

from __future__ import annotations

import json
import re
import threading
from typing import Any, Final

from starlette.types import ASGIApp, Receive, Scope, Send

PATH: Final = "/metrics"
PREFIX: Final = "lambdagraph_"
CONTENT_TYPE: Final = b"text/plain; version=0.0.4; charset=utf-8"
_SUFFIX: Final = {"Milliseconds": "_ms", "Count/Second": "_per_second", "Seconds": "_seconds"}

Labels = tuple[tuple[str, str], ...]


def snake(name: str) -> str:
    """``TimeToFirstToken`` → ``time_to_first_token``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


def _values(raw: Any) -> list[float]:
    items = raw if isinstance(raw, list) else [raw]
    return [float(v) for v in items if isinstance(v, (int, float))]


class PrometheusCollector:
    """Adds up EMF documents (:meth:`take`) and renders them (:meth:`render`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[tuple[str, Labels], float] = {}
        self._summaries: dict[tuple[str, Labels], tuple[float, int]] = {}

    def take(self, line: str) -> None:
        """Take one EMF line (a listener of the process's metrics emitter)."""
        document = json.loads(line)
        with self._lock:
            for directive in document["_aws"]["CloudWatchMetrics"]:
                for definition in directive["Metrics"]:
                    self._add(document, directive["Dimensions"], definition)

    def _add(self, document: dict[str, Any], sets: list[list[str]], definition: Any) -> None:
        unit = str(definition.get("Unit", "None"))
        values = _values(document.get(definition["Name"]))
        base = PREFIX + snake(definition["Name"]) + _SUFFIX.get(unit, "")
        for dimensions in sets:
            labels = tuple(sorted((d, str(document.get(d, ""))) for d in dimensions))
            if unit == "Count":
                key = (base + "_total", labels)
                self._counters[key] = self._counters.get(key, 0.0) + sum(values)
            else:
                total, count = self._summaries.get((base, labels), (0.0, 0))
                self._summaries[(base, labels)] = (total + sum(values), count + len(values))

    def render(self) -> str:
        """Every series so far, in Prometheus' text exposition format."""
        lines: list[str] = []
        with self._lock:
            counters = sorted(self._counters.items())
            summaries = sorted(self._summaries.items())
        typed: set[str] = set()
        for (name, labels), value in counters:
            if name not in typed:
                typed.add(name)
                lines.append(f"# TYPE {name} counter")
            lines.append(f"{name}{_labels(labels)} {_number(value)}")
        for (name, labels), (total, count) in summaries:
            if name not in typed:
                typed.add(name)
                lines.append(f"# TYPE {name} summary")
            lines.append(f"{name}_sum{_labels(labels)} {_number(total)}")
            lines.append(f"{name}_count{_labels(labels)} {count}")
        return "\n".join(lines) + "\n"


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (
        f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"'
        for k, v in labels
    )
    return "{" + ",".join(escaped) + "}"


def _number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


class MetricsRoute:
    """Serves ``GET /metrics`` from ``collector``; every other request goes to ``app``."""

    def __init__(self, app: ASGIApp, collector: PrometheusCollector) -> None:
        self.app = app
        self.collector = collector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") != PATH:
            await self.app(scope, receive, send)
            return
        if scope.get("method") not in ("GET", "HEAD"):
            await _answer(send, 405, b"Method Not Allowed\n", allow=b"GET, HEAD")
            return
        body = self.collector.render().encode()
        await _answer(send, 200, b"" if scope["method"] == "HEAD" else body, length=len(body))


async def _answer(
    send: Send, status: int, body: bytes, *, length: int | None = None, allow: bytes | None = None
) -> None:
    headers = [
        (b"content-type", CONTENT_TYPE),
        (b"content-length", str(len(body) if length is None else length).encode()),
    ]
    if allow is not None:
        headers.append((b"allow", allow))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
