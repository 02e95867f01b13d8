"""LangGraph's 5-field crontab schedules: validation, next run dates, EventBridge ``cron()``.

LangGraph Server (langgraph-api 0.16.7, ``langgraph_runtime_inmem.ops.Crons``) validates a
schedule with ``croniter.is_valid`` and answers 422 ``Invalid cron schedule: '<s>'...``;
next run dates come from croniter in the cron's timezone (UTC when none). We do the same.

EventBridge Scheduler takes ``cron(minutes hours day-of-month month day-of-week year)``:
day-of-week counts 1-7 from Sunday (crontab: 0-7, both 0 and 7 are Sunday), and one of
day-of-month and day-of-week must be ``?``. Crontab fires when *either* a restricted
day-of-month or a restricted day-of-week matches; Scheduler cannot say "either", so a
schedule restricting both is refused (422), as are croniter extensions (``L``, ``#``, ``W``,
``H``, a seconds field); LangGraph Server itself accepts such a schedule (checked with
``langgraph dev``: ``0 0 1 * 1`` fires on the 1st and on Mondays). Each field is expanded
by croniter and written back as plain values and ranges, so what fires in the cloud is
exactly what croniter computes locally.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lambdagraph.errors import InvalidInput

_MACROS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DAY_NAMES: Final = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_FIELD_BOUNDS: Final = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_FIELD_NAMES: Final = ("minute", "hour", "day of month", "month", "day of week")
_MAX_EXPRESSION_CHARS: Final = 256
"""EventBridge Scheduler's limit on ``ScheduleExpression``."""


def _invalid(schedule: str, reason: str = "Invalid cron schedule") -> InvalidInput:
    # LangGraph Server's wording, so clients matching on it keep working.
    return InvalidInput(
        f"Invalid cron schedule: '{schedule}'. Reason: {reason}. Ensure the schedule uses the "
        "standard cron format (minute hour day_of_month month day_of_week). "
        "Example: '*/5 * * * *' for every 5 minutes."
    )


def normalize(schedule: str) -> str:
    """The schedule as five fields (macros such as ``@daily`` spelled out).

    Raises:
        InvalidInput: not a valid 5-field crontab schedule.
    """
    text = " ".join(schedule.split())
    text = _MACROS.get(text.lower(), text)
    from croniter import croniter  # lazy: ~30 ms of import the stream function's start skips

    if len(text.split(" ")) != 5 or not croniter.is_valid(text):
        raise _invalid(schedule)
    return text


def check_timezone(timezone: str | None) -> str | None:
    """``timezone`` if it names an IANA zone (``None``: UTC).

    Raises:
        InvalidInput: an unknown zone.
    """
    if timezone is None:
        return None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            # LangGraph Server's words (langgraph-api 0.16.7, checked with langgraph dev).
            f"Invalid timezone: '{timezone}'. Use IANA timezone format (e.g. 'America/New_York')."
        ) from None
    return timezone


def next_run(schedule: str, after: datetime, timezone: str | None = None) -> datetime:
    """The first time strictly after ``after`` that ``schedule`` fires, in UTC."""
    from croniter import CroniterError, croniter

    zone = ZoneInfo(timezone) if timezone else UTC
    start = after.astimezone(zone)
    try:
        found = croniter(normalize(schedule), start).get_next(datetime)
    except CroniterError:
        raise _invalid(schedule) from None
    if not isinstance(found, datetime):
        raise _invalid(schedule)
    return found.astimezone(UTC)


def to_eventbridge(schedule: str) -> str:
    """EventBridge Scheduler's ``cron(...)`` expression firing when ``schedule`` does.

    Raises:
        InvalidInput: invalid, or a schedule Scheduler cannot express (see the module doc).
    """
    from croniter import CroniterError, croniter

    fields = normalize(schedule).split(" ")
    try:
        expanded, nth = croniter.expand(" ".join(fields))
    except CroniterError:
        raise _invalid(schedule) from None
    if nth:
        raise _invalid(schedule, "'#' (nth weekday) has no EventBridge Scheduler equivalent")
    parts = [_field(schedule, i, values) for i, values in enumerate(expanded)]
    minute, hour, dom, month, dow = parts
    if dom != "*" and dow != "*":
        raise _invalid(
            schedule,
            "a schedule restricting both day of month and day of week fires when either "
            "matches, which EventBridge Scheduler cannot express; restrict only one",
        )
    if dow == "*":
        dow = "?"
    else:
        dom = "?"
    expression = f"cron({minute} {hour} {dom} {month} {dow} *)"
    if len(expression) > _MAX_EXPRESSION_CHARS:
        raise _invalid(schedule, "too long for an EventBridge Scheduler expression")
    return expression


def _field(schedule: str, index: int, values: Sequence[int | str]) -> str:
    if list(values) == ["*"]:
        return "*"
    if not all(isinstance(v, int) for v in values):
        name = _FIELD_NAMES[index]
        raise _invalid(schedule, f"the {name} field uses a croniter extension ('L', 'W' or 'H')")
    numbers = sorted({int(v) % 7 if index == 4 else int(v) for v in values})
    low, high = _FIELD_BOUNDS[index]
    if numbers == list(range(low, high + 1)):
        return "*"
    names = _DAY_NAMES if index == 4 else None
    return ",".join(_ranges(numbers, names))


def _ranges(numbers: list[int], names: Sequence[str] | None) -> list[str]:
    """``[1, 2, 3, 5]`` → ``["1-3", "5"]`` (day names for day of week)."""

    def label(value: int) -> str:
        return names[value] if names else str(value)

    out: list[str] = []
    start = prev = numbers[0]
    for value in [*numbers[1:], None]:
        if value is not None and value == prev + 1:
            prev = value
            continue
        out.append(label(start) if start == prev else f"{label(start)}-{label(prev)}")
        if value is not None:
            start = prev = value
    return out


__all__ = ["check_timezone", "next_run", "normalize", "to_eventbridge"]
