"""The demo tools: safe arithmetic and deterministic weather."""

from __future__ import annotations

import pytest

from lambdagraph.agents.tools import evaluate, fake_weather, format_number


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-4 + +2", -2),
        ("7 // 2 + 7 % 2", 4),
        ("2 ^ 10", 1024),
        ("6 × 7 ÷ 2", 21.0),
        ("1.5 * 2", 3.0),
    ],
)
def test_evaluates_arithmetic(expression: str, value: float) -> None:
    assert evaluate(expression) == value


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os').system('true')", "unsupported"),
        ("x + 1", "unsupported"),
        ("(1).__class__", "unsupported"),
        ("[1, 2]", "unsupported"),
        ("'a' * 3", "unsupported"),
        ("True + 1", "unsupported"),
        ("1 +", "not an arithmetic expression"),
        ("1 / 0", "division by zero"),
        ("9 ** 9 ** 9", "exponent"),
        ("10 ** 200", "too large"),
        ("(-1) ** 0.5", "not a real number"),
        ("1" * 201, "longer than"),
    ],
)
def test_rejects_anything_but_bounded_arithmetic(expression: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evaluate(expression)


@pytest.mark.parametrize(
    ("value", "text"), [(4, "4"), (4.0, "4"), (0.5, "0.5"), (1 / 3, "0.333333333333")]
)
def test_formats_numbers_for_people(value: float, text: str) -> None:
    assert format_number(value) == text


def test_weather_is_deterministic_and_case_blind() -> None:
    assert fake_weather("Paris") == fake_weather(" paris ")
    assert fake_weather("Paris").endswith("°C")
