"""The price table: the shipped data, lookups by inference-profile id, overrides, bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdagraph.errors import ConfigurationError
from lambdagraph.pricing import Price, PriceTable, add_totals, empty_totals


def test_the_shipped_table_names_its_source_and_date_and_prices_documented_models() -> None:
    table = PriceTable.load()
    assert table.source.startswith("https://aws.amazon.com/bedrock/pricing/")
    assert table.checked
    default = table.price("us.anthropic.claude-haiku-4-5-20251001-v1:0")
    assert default == Price(input=1.1, output=5.5, cache_read=0.11, cache_write=1.375)
    assert table.price("scripted") is not None


def test_a_profile_id_without_its_own_entry_falls_back_to_the_model_id() -> None:
    table = PriceTable.load()
    nova = table.price("amazon.nova-pro-v1:0")
    assert table.price("us.amazon.nova-pro-v1:0") == nova
    assert table.price("eu.amazon.nova-pro-v1:0") == nova
    arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
    assert table.price(arn) == nova
    assert table.price("no-such-model") is None and table.price(None) is None


def test_cost_is_fresh_input_output_and_cache_at_their_prices() -> None:
    price = Price(input=3.0, output=15.0, cache_read=0.3, cache_write=3.75)
    counts = {
        "input_tokens": 1_000_000,
        "output_tokens": 100_000,
        "cache_read_tokens": 500_000,
        "cache_write_tokens": 250_000,
    }
    assert price.cost(counts) == pytest.approx(0.75 + 1.5 + 0.15 + 0.9375)


def test_an_override_file_replaces_and_adds(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"models": {"scripted": {"input": 0, "output": 0}, "m": {
        "input": 1, "output": 2, "cache_read": 0.5, "cache_write": 1}}}))
    table = PriceTable.load(path)
    assert table.price("scripted") == Price(0, 0)
    assert table.price("m") == Price(1, 2, 0.5, 1)
    assert table.price("amazon.nova-lite-v1:0") is not None


@pytest.mark.parametrize(
    "text", ["not json", '{"models": 1}', '{"models": {"m": {"input": "x"}}}',
             '{"models": {"m": {"input": -1, "output": 1}}}', '{"models": {"m": {"inp": 1}}}']
)
def test_a_bad_override_file_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ConfigurationError, match=r"p\.json"):
        PriceTable.load(path)
    with pytest.raises(ConfigurationError, match="nowhere"):
        PriceTable.load(tmp_path / "nowhere.json")


def test_totals_add_and_an_unknown_cost_stays_unknown() -> None:
    totals = empty_totals()
    add_totals(totals, {"input_tokens": 3, "output_tokens": 1, "total_tokens": 4, "cost_usd": 0.1})
    add_totals(totals, {"input_tokens": 1, "total_tokens": 1, "cost_usd": 0.2})
    assert totals["total_tokens"] == 5 and totals["cost_usd"] == pytest.approx(0.3)
    add_totals(totals, {"input_tokens": 1, "total_tokens": 1, "cost_usd": None})
    assert totals["total_tokens"] == 6 and totals["cost_usd"] is None
