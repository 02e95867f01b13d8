"""LangGraph's 5-field crontab → EventBridge Scheduler's 6-field ``cron()``, and next runs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lambdagraph.engine.crontab import check_timezone, next_run, normalize, to_eventbridge
from lambdagraph.errors import InvalidInput


@pytest.mark.parametrize(
    ("crontab", "expected"),
    [
        ("* * * * *", "cron(* * * * ? *)"),
        ("*/15 9-17 * * *", "cron(0,15,30,45 9-17 * * ? *)"),
        ("0 9 * * 1-5", "cron(0 9 ? * MON-FRI *)"),
        ("0 9 * * 0", "cron(0 9 ? * SUN *)"),
        ("0 9 * * 7", "cron(0 9 ? * SUN *)"),  # crontab's other Sunday
        ("0 9 * * 5-7", "cron(0 9 ? * SUN,FRI-SAT *)"),  # wraps past Saturday
        ("30 2 1,15 * *", "cron(30 2 1,15 * ? *)"),
        ("0 0 1 jan *", "cron(0 0 1 1 ? *)"),
        ("0 12 * * mon,wed,fri", "cron(0 12 ? * MON,WED,FRI *)"),
        ("@daily", "cron(0 0 * * ? *)"),
        ("@hourly", "cron(0 * * * ? *)"),
        ("0 0 * * 0-6", "cron(0 0 * * ? *)"),  # every day of the week is no restriction
    ],
)
def test_crontab_becomes_the_eventbridge_expression_that_fires_at_the_same_times(
    crontab: str, expected: str
) -> None:
    assert to_eventbridge(crontab) == expected


@pytest.mark.parametrize(
    ("crontab", "reason"),
    [
        ("not a schedule", "Invalid cron schedule"),
        ("* * * *", "Invalid cron schedule"),
        ("* * * * * *", "Invalid cron schedule"),  # croniter's seconds field
        ("61 * * * *", "Invalid cron schedule"),
        ("0 0 1 * 1", "either matches"),  # crontab ORs the two day fields
        ("0 0 L * *", "croniter extension"),
        ("0 0 * * 5#2", "nth weekday"),
    ],
)
def test_what_scheduler_cannot_express_is_refused_with_the_reason(
    crontab: str, reason: str
) -> None:
    with pytest.raises(InvalidInput) as raised:
        to_eventbridge(crontab)
    assert f"Invalid cron schedule: '{crontab}'" in raised.value.message
    assert reason in raised.value.message


def test_next_run_is_strictly_after_and_honours_the_timezone() -> None:
    at_nine = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
    assert next_run("0 9 * * 1-5", at_nine) == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)
    # 09:00 in Paris is 08:00 UTC in winter.
    paris = next_run("0 9 * * *", at_nine, "Europe/Paris")
    assert paris == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)


def test_macros_and_spacing_normalize_to_five_fields() -> None:
    assert normalize("  0   9 * *  * ") == "0 9 * * *"
    assert normalize("@weekly") == "0 0 * * 0"


def test_an_unknown_timezone_is_refused() -> None:
    assert check_timezone("America/New_York") == "America/New_York"
    assert check_timezone(None) is None
    with pytest.raises(InvalidInput, match="Invalid timezone"):
        check_timezone("Mars/Olympus")
