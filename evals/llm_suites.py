"""Suites that call an LLM through the gateway: live against any endpoint, or replayed from cassettes in CI.

``nda_facts`` is the runtime's extraction probe (the skill the NDA reviewer builds on): five facts from an
NDA's text, checked field by field against the generator's ground truth.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from core.llm import LlmGateway, StructuredOutputError
from core.llm.model_files import QWEN
from core.llm.runtime import LlmRuntime
from core.llm.usage import tagged
from core.settings import Settings
from evals.metrics import micro_prf
from evals.suites import Case, CaseResult, mean

CASSETTE_DIR = Path(__file__).parent / "cassettes"
CassetteMode = Literal["off", "replay", "record"]
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens: only the cassette can answer

NDA_FACTS_PROMPT = (
    "You read a non-disclosure agreement (German or English) and extract five facts as JSON:\n"
    "- term_years: how many years the confidentiality obligations last (integer), null if not stated\n"
    "- governing_law: germany, england_wales, new_york, other, or not_stated\n"
    "- residuals_clause: true only if a clause lets the receiving party freely use information retained in "
    "its employees' memory (it is titled Residuals); false if no such clause exists\n"
    "- contractual_penalty_eur: the contractual penalty per breach in euros (integer), null if there is none\n"
    "- mutual: true if information disclosed by each party / both parties (beide Parteien) is protected; "
    "false if only the Supplier (der Lieferant) discloses\n"
    "Answer with the JSON object only."
)


class NdaFacts(BaseModel):
    term_years: int | None = Field(None, ge=0, le=99)
    governing_law: Literal["germany", "england_wales", "new_york", "other", "not_stated"]
    residuals_clause: bool
    contractual_penalty_eur: int | None = Field(None, ge=0, le=100_000_000)
    mutual: bool


FIELDS = tuple(NdaFacts.model_fields)


def _cassette(mode: CassetteMode, name: str) -> Any:
    import vcr  # a test-time dependency; only needed when cassettes are used

    return vcr.VCR(cassette_library_dir=str(CASSETTE_DIR), record_mode="none" if mode == "replay" else "all",
                   match_on=("method", "path", "body"), decode_compressed_response=True,
                   filter_headers=["authorization", "api-key", "x-api-key", "cookie"]).use_cassette(f"{name}.yaml")


class NdaFactsSuite:
    name = "nda_facts"

    def __init__(self, work_dir: Path, *, settings: Settings, cassette: CassetteMode = "off",
                 gateway: LlmGateway | None = None) -> None:
        self._stack = ExitStack()
        if gateway is None:
            if cassette == "replay":
                replay = settings.model_copy(update={"llm_model": QWEN.alias, "llm_retry_attempts": 1})
                gateway = LlmGateway.from_settings(replay, REPLAY_BASE_URL, embedded=True)
            else:
                runtime = self._stack.enter_context(LlmRuntime(settings))
                gateway = runtime.gateway()
        if cassette != "off":
            self._stack.enter_context(_cassette(cassette, self.name))
        self.gateway = gateway
        self.settings = {"model": gateway.model_name, "structured_mode": gateway.structured_mode,
                         "cassette": cassette, "temperature": settings.llm_temperature}

    def run_case(self, case: Case) -> CaseResult:
        messages = [SystemMessage(content=NDA_FACTS_PROMPT), HumanMessage(content=case.inputs["text"])]
        with tagged(case.id):  # cases run concurrently: attribute tokens by tag, not by position
            try:
                facts = self.gateway.structured(messages, NdaFacts, purpose="extraction").model_dump()
                error = None
            except StructuredOutputError as exc:
                facts, error = {}, f"invalid output after one repair: {exc.error}"
        records = self.gateway.ledger.for_tag(case.id)
        per_field = {f"field.{f}": float(facts.get(f, "<missing>") == case.expected[f]) for f in FIELDS}
        return CaseResult(
            case.id, all(v == 1.0 for v in per_field.values()), per_field, facts, case.expected, case.tags,
            error=error,
            tokens={"prompt": sum(r.prompt_tokens for r in records),
                    "completion": sum(r.completion_tokens for r in records)},
        )

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        def facts(values: dict[str, Any]) -> set[str]:
            return {f"{k}={values.get(k)!r}" for k in FIELDS if k in values}

        extraction = micro_prf((facts(r.output or {}), facts(r.expected)) for r in results)
        metrics = {f"field.{f}": round(mean([r.metrics.get(f"field.{f}", 0.0) for r in results]), 4) for f in FIELDS}
        metrics.update({"facts.precision": round(extraction.precision, 4), "facts.recall": round(extraction.recall, 4),
                        "facts.f1": round(extraction.f1, 4),
                        "exact_match": round(mean([float(r.passed) for r in results]), 4),
                        "valid_output_rate": round(mean([float(r.error is None) for r in results]), 4)})
        return metrics

    def close(self) -> None:
        self._stack.close()
