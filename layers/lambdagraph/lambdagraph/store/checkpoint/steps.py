"""The I/O vocabulary between the saver's plans (no I/O) and its sync and async drivers.

Every saver operation is written once, in ``base.py``, as a *plan*: a generator that yields
steps and receives their results. ``DynamoDBSaver`` runs a plan with blocking calls and
``AsyncDynamoDBSaver`` runs the same plan with awaits, so the two faces cannot drift; each
public method body is one line that hands a plan to a driver.

* ``Call``: one boto3 call. The driver sends back the response or throws the ``ClientError``
  into the plan.
* ``Parallel``: several independent calls at once. The driver sends back one entry per
  call, in order: the response, or the ``ClientError`` as a value (the plan decides).
* ``Sleep``: back off before a retry (``time.sleep`` or ``asyncio.sleep``).
* ``Emit``: hand one result to the caller of an iterator (``list``/``alist``).
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Literal, NamedTuple, TypeVar, Union

from botocore.exceptions import ClientError

T = TypeVar("T")


class Call(NamedTuple):
    """One boto3 client call: ``getattr(client_for(service), operation)(**params)``."""

    service: Literal["dynamodb", "s3"]
    operation: str
    params: dict[str, Any]


class Parallel(NamedTuple):
    """Independent calls the driver may run concurrently."""

    calls: tuple[Call, ...]


class Sleep(NamedTuple):
    """Wait before retrying."""

    seconds: float


class Emit(NamedTuple):
    """One value for the consumer of an iterating plan."""

    value: Any


Step = Union[Call, Parallel, Sleep, Emit]
Plan = Generator[Step, Any, T]
CallResult = Union[dict[str, Any], ClientError]
# What a driver got for one step: a call's result, a parallel step's results, or nothing.
Outcome = Union[CallResult, list[CallResult], None]


def resume(plan: Plan[Any], outcome: Outcome) -> Step:
    """Hand a step's outcome back to its plan: a lone call's error is thrown into it."""
    if isinstance(outcome, ClientError):
        return plan.throw(outcome)
    return plan.send(outcome)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a botocore ``ClientError``."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def raise_first_error(results: list[CallResult]) -> list[dict[str, Any]]:
    """Results of a ``Parallel`` step, raising the first error among them."""
    responses: list[dict[str, Any]] = []
    for result in results:
        if isinstance(result, ClientError):
            raise result
        responses.append(result)
    return responses
