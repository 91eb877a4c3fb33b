"""Which endpoint the service talks to: the configured one, or the embedded server it starts itself."""

from __future__ import annotations

import time

from langchain_core.messages import HumanMessage

from core.errors import LlmUnavailable
from core.llm.embedded import EmbeddedServer, is_healthy
from core.llm.gateway import LlmGateway
from core.llm.model_files import MODELS
from core.settings import Settings


class LlmRuntime:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.server: EmbeddedServer | None = None
        self._gateway: LlmGateway | None = None

    @property
    def embedded(self) -> bool:
        return not self.settings.llm_base_url

    @property
    def base_url(self) -> str | None:
        if self.settings.llm_base_url:
            return self.settings.llm_base_url
        return self.server.base_url if self.server and self.server.running else None

    @property
    def model_name(self) -> str:
        return MODELS[self.settings.llm_embedded_model].alias if self.embedded else self.settings.llm_model

    def start(self) -> LlmRuntime:
        if self.embedded and self.server is None:
            self.server = EmbeddedServer(self.settings).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._gateway = None

    def gateway(self) -> LlmGateway:
        """One gateway per runtime, so clients (and their connection pools) and the usage ledger are shared."""
        if self._gateway is None:
            base_url = self.base_url
            if base_url is None:
                raise LlmUnavailable("no LLM endpoint: set KAM_LLM_BASE_URL or start the embedded server")
            settings = self.settings.model_copy(update={"llm_model": self.model_name})
            self._gateway = LlmGateway.from_settings(settings, base_url, embedded=self.embedded)
        return self._gateway

    def lazy_gateway(self) -> LlmGateway:
        """A gateway that starts the embedded server only when its first call is made (a review whose
        patterns were sure of everything never needs it)."""
        if not self.embedded or self.server is not None:
            return self.gateway()
        settings = self.settings.model_copy(update={"llm_model": self.model_name})
        return LlmGateway.from_settings(settings, "", embedded=True,
                                        base_url_provider=lambda: self.start().base_url or "")

    def status(self, *, measure: bool = False) -> dict[str, object]:
        base_url = self.base_url
        healthy = bool(base_url) and is_healthy(base_url)  # type: ignore[arg-type]
        info: dict[str, object] = {"endpoint": base_url, "model": self.model_name, "embedded": self.embedded,
                                   "healthy": healthy}
        if measure and healthy:
            info.update(measure_throughput(self.gateway()))
        return info

    def __enter__(self) -> LlmRuntime:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def measure_throughput(gateway: LlmGateway, *, prompt_words: int = 300, generate_tokens: int = 128,
                       salt: str = "") -> dict[str, float]:
    """Prompt tokens/s (one non-streamed call), time to first token and generation tokens/s (one streamed).

    The two prompts differ from the first word on, so the server's prompt cache cannot help the second.
    """
    filler = " ".join(["supply"] * prompt_words)
    started = time.perf_counter()
    # max_tokens=1: the call's latency is (almost) all prompt processing.
    prompt_record = gateway.invoke([HumanMessage(content=f"{salt}A. Reply with OK. {filler}")], purpose="chat",
                                   extra_body={"max_tokens": 1}).usage
    prompt_rate = prompt_record.prompt_tokens / max(time.perf_counter() - started, 1e-6)

    started = time.perf_counter()
    first_token_at = None
    request = [HumanMessage(content=f"{salt}B. Write a long story about: {filler}")]
    reply = gateway.stream(request, extra_body={"max_tokens": generate_tokens})
    for _text in reply:
        if first_token_at is None:
            first_token_at = time.perf_counter()
    ended = time.perf_counter()
    stream_record = reply.usage
    assert stream_record is not None
    first_token_at = first_token_at or ended
    return {
        "prompt_tokens": prompt_record.prompt_tokens,
        "prompt_tokens_per_s": round(prompt_rate, 1),
        "time_to_first_token_s": round(first_token_at - started, 3),
        "completion_tokens": stream_record.completion_tokens,
        "generation_tokens_per_s": round(max(stream_record.completion_tokens - 1, 0)
                                         / max(ended - first_token_at, 1e-6), 1),
    }
