"""The agents' only way to talk to a model: providers, recording/replay, usage and budgets.

Agents build an :class:`LLMRequest` and call :meth:`LLMClient.complete`; the client picks the
configured provider (``anthropic``, ``openai``, ``replay`` or a plugin's), retries what is worth
retrying, records every call in the run directory, and keeps the token and dollar accounts.
"""

from nader.llm.base import (
    BudgetExhausted,
    LLMConnectionError,
    LLMEmptyResponse,
    LLMError,
    LLMMalformedResponse,
    LLMProvider,
    LLMProviderError,
    LLMRateLimited,
    LLMRefusal,
    LLMRequest,
    LLMRequestRejected,
    LLMResponse,
    LLMServerError,
    LLMTimeout,
    LLMTruncated,
    Message,
    ReplayMiss,
    Usage,
)
from nader.llm.client import LLMClient
from nader.llm.config import LLMConfig, ModelPrice

__all__ = [
    "BudgetExhausted",
    "LLMClient",
    "LLMConfig",
    "LLMConnectionError",
    "LLMEmptyResponse",
    "LLMError",
    "LLMMalformedResponse",
    "LLMProvider",
    "LLMProviderError",
    "LLMRateLimited",
    "LLMRefusal",
    "LLMRequest",
    "LLMRequestRejected",
    "LLMResponse",
    "LLMServerError",
    "LLMTimeout",
    "LLMTruncated",
    "Message",
    "ModelPrice",
    "ReplayMiss",
    "Usage",
]
