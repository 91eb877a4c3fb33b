"""Suites that call an LLM through the gateway: live against any endpoint, or replayed from cassettes.

``nda_facts`` is the runtime's extraction probe: six facts from a whole NDA in one call, on the 16
hand-written NDAs of ``evals/golden/nda/`` (German and English, written independently of the demo
generator). A replayed cassette only proves the plumbing still parses what the model once said; it is no
measurement. The measurement is a live run (``--cassette off``), which CI makes on the embedded model.
"""

from __future__ import annotations

from collections import Counter
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
from evals.suites import GOLDEN_DIR, Case, CaseResult, EvalAborted, load_cases, mean

CASSETTE_DIR = Path(__file__).parent / "cassettes"
NDA_DOCUMENTS = GOLDEN_DIR / "nda" / "documents"
CassetteMode = Literal["off", "replay", "record"]
REPLAY_BASE_URL = "http://127.0.0.1:9/v1"  # nothing listens: only the cassette can answer

NDA_FACTS_PROMPT = (
    "You read a non-disclosure agreement (German or English) and extract six facts as JSON:\n"
    "- agreement_term_years: the agreement's own duration in years (integer); null if it runs until "
    "terminated or no duration is stated\n"
    "- confidentiality_years: for how many years the confidentiality obligations continue after the "
    "agreement ends (integer); null if they last without time limit or no period is stated\n"
    "- governing_law: germany, england_wales, new_york, other, or not_stated\n"
    "- residuals_clause: true if a clause lets the recipient use information retained in its staff's "
    "memory; false otherwise\n"
    "- contractual_penalty_eur: a fixed penalty or liquidated damages amount per breach in euros (integer), "
    "null if there is none\n"
    "- mutual: true if both parties may disclose and both are bound; false if only one party discloses\n"
    "Answer with the JSON object only."
)


class NdaFacts(BaseModel):
    agreement_term_years: int | None = Field(None, ge=0, le=99)
    confidentiality_years: int | None = Field(None, ge=0, le=99)
    governing_law: Literal["germany", "england_wales", "new_york", "other", "not_stated"]
    residuals_clause: bool
    contractual_penalty_eur: int | None = Field(None, ge=0, le=100_000_000)
    mutual: bool


FIELDS = tuple(NdaFacts.model_fields)
# A "present" fact asserts that the NDA says something (a duration, a law, a residuals clause, a penalty);
# predicting null or false everywhere scores recall 0 on these, whatever its accuracy.
ABSENT = {"agreement_term_years": None, "confidentiality_years": None, "governing_law": "not_stated",
          "residuals_clause": False, "contractual_penalty_eur": None}


def present_facts(values: dict[str, Any]) -> set[str]:
    return {f"{k}={values[k]!r}" for k, absent in ABSENT.items() if k in values and values[k] != absent}


def _cassette(mode: CassetteMode, name: str) -> Any:
    import vcr  # a test-time dependency; only needed when cassettes are used

    return vcr.VCR(cassette_library_dir=str(CASSETTE_DIR), record_mode="none" if mode == "replay" else "all",
                   match_on=("method", "path", "body"), decode_compressed_response=True,
                   filter_headers=["authorization", "api-key", "x-api-key", "cookie"]).use_cassette(f"{name}.yaml")


def _cassette_miss(exc: BaseException) -> bool:
    current: BaseException | None = exc
    while current is not None:
        if type(current).__name__ == "CannotOverwriteExistingCassetteException":
            return True
        current = current.__cause__ or current.__context__
    return False


class NdaFactsSuite:
    name = "nda_facts"

    def __init__(self, work_dir: Path, *, settings: Settings, cassette: CassetteMode = "off",
                 gateway: LlmGateway | None = None) -> None:
        self._stack = ExitStack()
        self.cassette = cassette
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
                         "cassette": cassette, "temperature": settings.llm_temperature,
                         "measurement": cassette != "replay"}

    def cases(self) -> list[Case]:
        return load_cases(self.name)

    def run_case(self, case: Case) -> CaseResult:
        text = (NDA_DOCUMENTS / case.inputs["document"]).read_text(encoding="utf-8")
        messages = [SystemMessage(content=NDA_FACTS_PROMPT), HumanMessage(content=text)]
        with tagged(case.id):  # cases run concurrently: attribute tokens by tag, not by position
            try:
                facts = self.gateway.structured(messages, NdaFacts, purpose="extraction").value.model_dump()
                error = None
            except StructuredOutputError as exc:
                facts, error = {}, f"invalid output after one repair: {exc.error}"
            except Exception as exc:
                if self.cassette == "replay" and _cassette_miss(exc):
                    raise EvalAborted(
                        "the cassette does not hold this request: the prompt, the schema or a case changed since "
                        "it was recorded. Re-record with `kam eval --agent nda_facts --cassette record` (a replay "
                        "proves only that the recorded answers still parse; measure with --cassette off)") from exc
                raise
        records = self.gateway.ledger.for_tag(case.id)
        per_field = {f"field.{f}": float(facts.get(f, "<missing>") == case.expected[f]) for f in FIELDS}
        return CaseResult(
            case.id, all(v == 1.0 for v in per_field.values()), per_field, facts, case.expected, case.tags,
            error=error,
            tokens={"calls": len(records), "prompt": sum(r.prompt_tokens for r in records),
                    "completion": sum(r.completion_tokens for r in records)},
        )

    @staticmethod
    def _score(predictions: list[dict[str, Any]], expectations: list[dict[str, Any]],
               valid: list[bool]) -> dict[str, float]:
        metrics = {f"field.{f}": round(mean([float(p.get(f, "<missing>") == e[f])
                                             for p, e in zip(predictions, expectations, strict=True)]), 4)
                   for f in FIELDS}
        metrics["fields.accuracy"] = round(mean([metrics[f"field.{f}"] for f in FIELDS]), 4)
        present = micro_prf((present_facts(p), present_facts(e)) for p, e in zip(predictions, expectations,
                                                                                   strict=True))
        metrics.update({"present.precision": round(present.precision, 4), "present.recall": round(present.recall, 4),
                        "present.f1": round(present.f1, 4),
                        "exact_match": round(mean([float(all(p.get(f, "<missing>") == e[f] for f in FIELDS))
                                                   for p, e in zip(predictions, expectations, strict=True)]), 4),
                        "valid_output_rate": round(mean([float(v) for v in valid]), 4)})
        return metrics

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        return self._score([r.output or {} for r in results], [r.expected for r in results],
                           [r.error is None for r in results])

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """Each field's most frequent expected value, the same for every NDA (e.g. mutual always True)."""
        expectations = [r.expected for r in results]
        majority = {f: Counter(repr(e[f]) for e in expectations).most_common(1)[0][0] for f in FIELDS} \
            if expectations else {}
        constant = {f: next(e[f] for e in expectations if repr(e[f]) == majority[f]) for f in majority}
        return self._score([dict(constant)] * len(results), expectations, [True] * len(results))

    def close(self) -> None:
        self._stack.close()
