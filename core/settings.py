"""Service settings, read from the environment (prefix ``KAM_``) and an optional ``.env`` file."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, computed_field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

LlmPurpose = Literal["extraction", "drafting", "chat"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KAM_", env_file=".env", extra="ignore")

    # --- storage -------------------------------------------------------------------------------
    data_dir: Path = Field(Path("./var"), description="All state lives below this directory.")
    database_url: str | None = Field(None, description="SQLAlchemy URL; default: SQLite file in data_dir.")
    chroma_url: str | None = Field(None, description="Chroma server URL; default: embedded store in data_dir.")
    embedding_model: Literal["e5-small", "minilm"] = Field(
        "e5-small", description="e5-small: multilingual-e5-small 4-bit (German and English in one space); minilm: "
        "all-MiniLM-L6-v2 (English-trained). Changing it needs `kam ingest --reembed`.")
    embedding_variant: Literal["int8", "fp32"] = Field(
        "fp32", description="MiniLM ONNX variant. int8 embeds ~2x faster (cosine 0.994 to fp32) but loses 5 points "
        "of vector-only recall@8 in the retrieval eval (hybrid: no loss); see README.")

    # --- LLM -----------------------------------------------------------------------------------
    llm_base_url: str | None = Field(
        None, description="OpenAI-compatible endpoint. Unset: start the embedded llama.cpp server."
    )
    llm_model: str = Field("qwen2.5-coder-1.5b-instruct", description="Model name sent to the endpoint.")
    llm_api_key: str = Field("not-needed", description="API key for the endpoint (filtered from cassettes).")
    llm_timeout_s: float = Field(120.0, description="Per-request timeout in seconds.")
    llm_temperature: float = Field(0.0, description="Sampling temperature; 0 keeps evals reproducible.")
    llm_max_tokens_extraction: int = 512
    llm_max_tokens_drafting: int = 700
    llm_max_tokens_chat: int = 400
    llm_retry_attempts: int = Field(4, description="Attempts per call on timeouts, 429 and 5xx.")
    llm_retry_budget_s: float = Field(60.0, description="Give up retrying after this many seconds.")
    llm_structured_mode: Literal["auto", "json_object", "json_schema", "function_calling"] = Field(
        "auto",
        description="How structured output is requested. auto: json_object+schema for the embedded "
        "llama.cpp server (it rejects json_schema), json_schema for any other endpoint.",
    )
    llm_ledger_size: int = Field(10_000, ge=100, description="LLM call records kept in memory for audit look-ups.")
    llm_autostart: bool = Field(True, description="Start the embedded server when no base URL is set.")
    llm_embedded_model: Literal["qwen2.5-1.5b", "smollm2-135m"] = "qwen2.5-1.5b"
    llm_model_cache: Path = Field(
        Path("~/.cache/kam/models").expanduser(),
        description="Where assembled GGUF files are kept (outside the clone, so fresh clones reuse it).",
    )
    llm_threads: int = 2
    llm_ctx: int = 8192
    llm_start_timeout_s: float = 180.0

    # --- documents -----------------------------------------------------------------------------
    document_parse_cpu_s: float = Field(20.0, gt=0, description="CPU seconds an uploaded document may take to read.")
    document_parse_memory_mb: int = Field(1024, ge=128, description="Memory an uploaded document may take to read.")

    # --- API -----------------------------------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    log_level: str = "INFO"
    auth_mode: Literal["token", "trusted_proxy"] = Field(
        "token", description="How callers prove who they are: a bearer token issued by `kam token issue` (token), "
        "or the X-User-Id header set by an SSO proxy (trusted_proxy; honoured only from trusted_proxy_ips).")
    trusted_proxy_ips: list[str] = Field(
        default_factory=list, description="Client addresses whose X-User-Id header is believed in trusted_proxy "
        "mode; a request from anywhere else answers 401.")
    max_request_mb: int = Field(25, ge=1, le=1024, description="Request bodies above this are refused with 413 "
                                "before they are read.")
    uploads_per_minute: int = Field(20, ge=1, description="Uploads one user may make per minute (429 above).")

    # --- background jobs -----------------------------------------------------------------------
    job_worker: bool = Field(True, description="Run a job worker thread inside the API process.")
    job_lease_s: float = Field(60.0, gt=1, description="A job whose worker stopped renewing this long is taken over.")
    job_poll_s: float = Field(1.0, gt=0, description="How often an idle worker looks for new jobs.")
    job_modules: list[str] = Field(default_factory=list, description="Extra modules that register job handlers.")

    # --- account briefs ---------------------------------------------------------------------------
    briefs_cron: str | None = Field(None, description="Crontab line (local time) on which the API process queues "
                                                      "the nightly briefs run, e.g. '30 2 * * *'; unset: no schedule.")
    briefs_meetings_within_days: int = Field(7, ge=0, le=90, description="The model writes the summary of accounts "
                                                                         "with a meeting within this many days.")

    # --- escalation mails ---------------------------------------------------------------------------
    escalation_llm_mode: Literal["sentence", "mail"] = Field(
        "sentence", description="sentence: the reviewed template plus one checked sentence of the model (the "
                                "embedded default; its German is not fit for customers); mail: the model writes "
                                "the whole mail under the same checks (a stronger configured endpoint).")
    escalation_sentence_languages: list[Literal["de", "en"]] = Field(
        ["en"], description="Languages in which the model adds its personal sentence to a "
                                                    "customer mail (sentence mode); the embedded model's German "
                                                    "sentences were measured unfit to send (README), so: en.")

    # --- chat ------------------------------------------------------------------------------------------
    chat_llm: bool = Field(True, description="Let the model phrase chat answers (checked; the template answers "
                                             "when it fails or is off).")
    chat_retrieval_mode: Literal["hybrid", "vector", "bm25"] = Field(
        "hybrid", description="How the chat finds contract passages: hybrid (vectors and keywords), vector or bm25.")
    chat_answer_budget_s: float = Field(18.0, gt=0, description="Seconds a chat answer may take with the model: "
                                        "the repair round is skipped when the first attempt used half of it.")
    chat_messages_per_minute: int = Field(30, ge=1, description="Chat questions one user may ask per minute (429 "
                                                                "above).")

    @field_validator("briefs_cron")
    @classmethod
    def _valid_cron(cls, value: str | None) -> str | None:
        if value:
            from apscheduler.triggers.cron import CronTrigger

            CronTrigger.from_crontab(value)  # raises ValueError with the reason
        return value or None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'kam.db').resolve()}"

    def max_tokens_for(self, purpose: LlmPurpose) -> int:
        return {
            "extraction": self.llm_max_tokens_extraction,
            "drafting": self.llm_max_tokens_drafting,
            "chat": self.llm_max_tokens_chat,
        }[purpose]


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the env."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return settings


def env_example() -> str:
    """The text of ``.env.example``: every setting with its description and default (a test keeps the file
    in step with this model)."""
    lines = ["# Copy to .env and change what you need. Every setting has the prefix KAM_; defaults shown."]
    home = str(Path("~").expanduser())
    for name, field in Settings.model_fields.items():
        if field.description:
            lines.append(f"# {field.description}")
        default = field.get_default(call_default_factory=True)
        if isinstance(default, list):
            value = json.dumps(default)
        else:
            value = "" if default is None else str(default).replace(home, "~", 1)
        lines.append(f"# KAM_{name.upper()}={value}")
    return "\n".join(lines) + "\n"
