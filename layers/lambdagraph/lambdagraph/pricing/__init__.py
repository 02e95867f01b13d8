"""Model prices as data and the arithmetic of a run's token totals.

``prices.json`` (beside this module) holds USD per million tokens for each model id we
document, with its source and the date it was checked; a file named by
``LAMBDAGRAPH_PRICES_FILE`` adds or replaces entries (same ``{"models": {...}}`` shape), for
custom models or negotiated prices. An unknown model's tokens are counted and its cost is
``None``: never an error.

Totals everywhere have one shape, :data:`TOTAL_KEYS` plus ``cost_usd``.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from lambdagraph.errors import ConfigurationError

TOKEN_KEYS: Final = (
    "input_tokens",
    "output_tokens",
    "total_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
)
"""The token counts of a totals dict (its last key is ``cost_usd``)."""

_PROFILE_PREFIXES: Final = ("global.", "us.", "us-gov.", "eu.", "apac.", "jp.", "au.", "ca.")
"""Cross-region inference profile prefixes, tried away when an id has no entry of its own."""

_PER: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class Price:
    """USD per million tokens of one model."""

    input: float
    output: float
    cache_read: float = 0.0
    cache_write: float = 0.0

    def cost(self, counts: dict[str, Any]) -> float:
        """The USD cost of ``counts`` (a totals dict). ``input_tokens`` include the cache
        reads and writes (as LangChain reports them); only the rest is priced at ``input``."""
        read = int(counts.get("cache_read_tokens") or 0)
        write = int(counts.get("cache_write_tokens") or 0)
        fresh = max(0, int(counts.get("input_tokens") or 0) - read - write)
        output = int(counts.get("output_tokens") or 0)
        usd = (
            fresh * self.input
            + output * self.output
            + read * self.cache_read
            + write * self.cache_write
        ) / _PER
        return round(usd, 10)


class PriceTable:
    """Model id → :class:`Price`.

    Example:
        >>> table = PriceTable.load()
        >>> table.price("us.anthropic.claude-haiku-4-5-20251001-v1:0").output
        5.5
    """

    def __init__(self, prices: dict[str, Price], *, source: str = "", checked: str = "") -> None:
        self.prices = prices
        self.source = source
        self.checked = checked

    @classmethod
    def load(cls, override: str | Path | None = None) -> PriceTable:
        """The shipped table, with the entries of the file ``override`` over it.

        Raises:
            ConfigurationError: the override file is not a price table (named in the message).
        """
        shipped = json.loads(resources.files(__package__).joinpath("prices.json").read_text())
        prices = _parse(shipped, "prices.json")
        if override:
            path = Path(override)
            try:
                custom = json.loads(path.read_text())
            except (OSError, ValueError) as exc:  # unreadable, or not JSON
                raise ConfigurationError(f"LAMBDAGRAPH_PRICES_FILE {str(path)!r}: {exc}") from exc
            prices.update(_parse(custom, str(path)))
        return cls(prices, source=shipped.get("_source", ""), checked=shipped.get("_checked", ""))

    def price(self, model: str | None) -> Price | None:
        """The price of ``model``: its own entry, else without an inference-profile prefix or
        an ARN's path; ``None`` when unknown."""
        if not model:
            return None
        found = self.prices.get(model)
        if found is not None:
            return found
        bare = model.rsplit("/", 1)[-1]
        for prefix in _PROFILE_PREFIXES:
            if bare.startswith(prefix):
                bare = bare[len(prefix) :]
                break
        return self.prices.get(bare)

    def cost(self, model: str | None, counts: dict[str, Any]) -> float | None:
        """The USD cost of ``counts`` for ``model``; ``None`` for a model with no price."""
        price = self.price(model)
        return None if price is None else price.cost(counts)


def _parse(document: Any, name: str) -> dict[str, Price]:
    models = document.get("models") if isinstance(document, dict) else None
    if not isinstance(models, dict):
        raise ConfigurationError(f"{name}: expected {{'models': {{model_id: prices}}}}")
    out: dict[str, Price] = {}
    for model, entry in models.items():
        try:
            out[model] = Price(**{k: float(v) for k, v in entry.items()})
        except (TypeError, ValueError, AttributeError) as exc:
            raise ConfigurationError(f"{name}: bad price for {model!r}: {exc}") from exc
        if any(math.isnan(v) or v < 0 for v in vars_of(out[model])):
            raise ConfigurationError(f"{name}: negative or NaN price for {model!r}")
    return out


def vars_of(price: Price) -> tuple[float, float, float, float]:
    """The four prices of ``price``."""
    return (price.input, price.output, price.cache_read, price.cache_write)


def empty_totals() -> dict[str, Any]:
    """Zero counts and zero cost."""
    totals: dict[str, Any] = dict.fromkeys(TOKEN_KEYS, 0)
    totals["cost_usd"] = 0.0
    return totals


def add_totals(into: dict[str, Any], more: dict[str, Any]) -> None:
    """Add ``more``'s counts and cost to ``into``; an unknown cost (``None``) on either side
    leaves ``into``'s cost unknown."""
    for key in TOKEN_KEYS:
        into[key] = int(into.get(key) or 0) + int(more.get(key) or 0)
    cost, extra = into.get("cost_usd"), more.get("cost_usd")
    into["cost_usd"] = None if cost is None or extra is None else round(cost + extra, 10)
