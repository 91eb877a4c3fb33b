"""The one way to talk to an LLM: an injectable gateway over ``langchain-openai``'s ``ChatOpenAI``."""

from core.llm.gateway import Checked, LlmGateway, LlmReply, Structured, build_chat_model
from core.llm.structured import StructuredOutputError
from core.llm.usage import LlmCallRecord, UsageLedger

__all__ = [
           "Checked",
           "LlmCallRecord",
           "LlmGateway",
           "LlmReply",
           "Structured",
           "StructuredOutputError",
           "UsageLedger",
           "build_chat_model",
]
