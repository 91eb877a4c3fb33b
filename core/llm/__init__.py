"""The one way to talk to an LLM: an injectable gateway over ``langchain-openai``'s ``ChatOpenAI``."""

from core.llm.checked import Checked, CheckRound, generate_checked
from core.llm.gateway import LlmGateway, LlmReply, Structured, build_chat_model
from core.llm.structured import StructuredOutputError
from core.llm.usage import LlmCallRecord, UsageLedger

__all__ = [
           "CheckRound",
           "Checked",
           "LlmCallRecord",
           "LlmGateway",
           "LlmReply",
           "Structured",
           "StructuredOutputError",
           "UsageLedger",
           "build_chat_model",
           "generate_checked",
]
