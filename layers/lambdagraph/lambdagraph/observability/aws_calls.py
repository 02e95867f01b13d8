"""What AWS calls tell the metrics, read from botocore's own events on each client.

:func:`instrument` registers two handlers on a client lambdagraph builds (``aws.client``):

* DynamoDB: ``needs-retry`` fires once per attempt with its parsed answer, so a throttle
  that botocore's standard retry mode then retried successfully still counts
  (``DynamoDBThrottles``), as CloudWatch's ``ThrottledRequests`` counts it per table.
* The API Gateway management API: ``after-call`` of ``PostToConnection`` fires once per post
  (after retries) with its answer: ``WebSocketPosts`` for a delivered message,
  ``WebSocketGone`` for a ``GoneException`` (the client left).

Both only add to the process's counters (no I/O, a lock and a dict update).
"""

from __future__ import annotations

from typing import Any, Final

from lambdagraph.observability.emf import metrics

THROTTLE_CODES: Final = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"}
)
DYNAMODB_THROTTLES: Final = "DynamoDBThrottles"
WEBSOCKET_POSTS: Final = "WebSocketPosts"
WEBSOCKET_GONE: Final = "WebSocketGone"


def _error_code(parsed: Any) -> str | None:
    if not isinstance(parsed, dict):
        return None
    error = parsed.get("Error")
    return str(error.get("Code")) if isinstance(error, dict) and error.get("Code") else None


def count_dynamodb_attempt(response: Any = None, **_: Any) -> None:
    """``needs-retry.dynamodb``: count a throttled attempt."""
    parsed = response[1] if isinstance(response, tuple) and len(response) == 2 else None
    if _error_code(parsed) in THROTTLE_CODES:
        metrics().count(DYNAMODB_THROTTLES)


def count_post(parsed: Any = None, http_response: Any = None, **_: Any) -> None:
    """``after-call`` of ``PostToConnection``: count a delivered post or a gone client."""
    code = _error_code(parsed)
    if code is None and getattr(http_response, "status_code", 200) < 300:
        metrics().count(WEBSOCKET_POSTS)
    elif code == "GoneException":
        metrics().count(WEBSOCKET_GONE)


def instrument(client: Any) -> Any:
    """Register the handlers that ``client``'s service has; returns ``client``."""
    events = getattr(getattr(client, "meta", None), "events", None)
    if events is None:
        return client
    service = client.meta.service_model.service_name
    if service == "dynamodb":
        events.register("needs-retry.dynamodb", count_dynamodb_attempt)
    elif service == "apigatewaymanagementapi":
        events.register("after-call.apigatewaymanagementapi.PostToConnection", count_post)
    return client
