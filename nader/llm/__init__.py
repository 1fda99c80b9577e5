"""The agents' only way to talk to a model: providers, recording/replay, usage and budgets."""

from nader.llm.base import LLMProvider, LLMRequest, LLMResponse, Message, Usage

__all__ = ["LLMProvider", "LLMRequest", "LLMResponse", "Message", "Usage"]
