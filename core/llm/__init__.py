"""The one way to talk to an LLM: an injectable gateway over ``langchain-openai``'s ``ChatOpenAI``."""

from core.llm.gateway import LlmGateway, build_chat_model
from core.llm.structured import StructuredOutputError
from core.llm.usage import LlmCallRecord, UsageLedger

__all__ = ["LlmGateway", "build_chat_model", "StructuredOutputError", "LlmCallRecord", "UsageLedger"]
