"""Dollar cost of a call from a price table ($ per million tokens), and budget estimates.

The built-in table holds the vendors' published list prices for a few models at the time of
writing; prices change, so ``[llm.prices]`` entries override them. A model missing from the
table costs 0 (a local server, say) and logs one warning, so a forgotten price is visible but
never stops a run. A dated snapshot name (``gpt-4o-2024-08-06``, ``claude-haiku-4-5-20251001``)
or a ``-latest`` alias is priced as its base model; no other fuzzy matching is done.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping

from nader.llm.base import LLMRequest, Usage
from nader.llm.config import ModelPrice

log = logging.getLogger("nader.llm")

#: List prices in $/Mtok (input, output, cached input, cache write).
DEFAULT_PRICES: dict[str, ModelPrice] = {
    "gpt-4o": ModelPrice(input=2.50, output=10.00, cached_input=1.25),
    "gpt-4o-mini": ModelPrice(input=0.15, output=0.60, cached_input=0.075),
    "gpt-4.1": ModelPrice(input=2.00, output=8.00, cached_input=0.50),
    "gpt-4.1-mini": ModelPrice(input=0.40, output=1.60, cached_input=0.10),
    "gpt-5": ModelPrice(input=1.25, output=10.00, cached_input=0.125),
    "gpt-5-mini": ModelPrice(input=0.25, output=2.00, cached_input=0.025),
    "claude-sonnet-4-5": ModelPrice(input=3.00, output=15.00, cached_input=0.30, cache_write=3.75),
    "claude-haiku-4-5": ModelPrice(input=1.00, output=5.00, cached_input=0.10, cache_write=1.25),
    "claude-opus-4-5": ModelPrice(input=5.00, output=25.00, cached_input=0.50, cache_write=6.25),
}

_SNAPSHOT_SUFFIX = re.compile(r"-(\d{4}-\d{2}-\d{2}|\d{8}|latest)$")

#: Characters per token used to estimate a prompt's size before sending it. English prose and
#: block text run at about 3.5-4.5 characters per token with current tokenizers; 3.5 errs on
#: the side of stopping a little early.
CHARS_PER_TOKEN = 3.5
#: Per-message overhead (role markers, separators) in tokens.
TOKENS_PER_MESSAGE = 4


class PriceTable:
    """Looks up a model's price and turns usage into dollars."""

    def __init__(self, overrides: Mapping[str, ModelPrice] | None = None) -> None:
        self._prices: dict[str, ModelPrice] = {**DEFAULT_PRICES, **(overrides or {})}
        self._warned: set[str] = set()

    def price_for(self, model: str) -> ModelPrice | None:
        """The price of ``model``, or of its base model when ``model`` names a dated snapshot."""
        if model in self._prices:
            return self._prices[model]
        base = _SNAPSHOT_SUFFIX.sub("", model)
        return self._prices.get(base)

    def _known_price(self, model: str) -> ModelPrice | None:
        price = self.price_for(model)
        if price is None and model not in self._warned:
            self._warned.add(model)
            log.warning(
                "no price known for model %r: its calls are counted as $0 "
                "(add it under [llm.prices] to track dollars and dollar budgets)",
                model,
            )
        return price

    def cost_usd(self, model: str, usage: Usage) -> float:
        """Dollars billed for ``usage`` on ``model`` (0 for an unknown model)."""
        price = self._known_price(model)
        if price is None:
            return 0.0
        cached = price.cached_input if price.cached_input is not None else price.input
        written = price.cache_write if price.cache_write is not None else price.input
        plain_input = max(
            0, usage.input_tokens - usage.cached_input_tokens - usage.cache_creation_tokens
        )
        dollars = (
            plain_input * price.input
            + usage.cached_input_tokens * cached
            + usage.cache_creation_tokens * written
            + usage.output_tokens * price.output
        )
        return dollars / 1_000_000

    def input_cost_usd(self, model: str, tokens: int) -> float:
        """Dollars for ``tokens`` uncached input tokens on ``model`` (0 for an unknown model)."""
        price = self._known_price(model)
        return 0.0 if price is None else tokens * price.input / 1_000_000


def estimate_tokens(text: str) -> int:
    """The one tokenizer-free estimate of a text's tokens (budgets, the offline designer)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_input_tokens(request: LLMRequest) -> int:
    """A tokenizer-free estimate of the request's prompt size, used by the budget check."""
    characters = sum(len(message.content) for message in request.messages)
    return math.ceil(characters / CHARS_PER_TOKEN) + TOKENS_PER_MESSAGE * len(request.messages)
