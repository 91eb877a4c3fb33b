"""The review's steps. Each reads the state and the runtime context and returns a typed route.

extract (patterns) → ask_llm (only the rules the patterns are unsure of, only their clauses) → hypotheses
(ContractNLI labels) → judge (the policy, no LLM) → report.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command

from agents.nda_review import nli, prompts, questions
from agents.nda_review.extractors import extract_facts
from agents.nda_review.schemas import LlmUse, NdaReport, NliItem
from agents.nda_review.state import ReviewContext, ReviewState
from agents.nda_review.text import NdaText
from core.llm import LlmGateway, generate_checked
from core.llm.usage import LlmCallRecord
from core.verify import Failure, Verification, locate_quote, verify_quotes
from knowledge.extract import ExtractedDocument
from policies.nda import RULES, Evidence, NdaFacts, RuleFacts, get_nda_policy, judge

# Rules whose clauses sit near the top of an NDA: asked about the preamble and first clauses when the
# patterns found nothing to point at.
OPENING_CLAUSES = 3


def document_of(state: ReviewState) -> ExtractedDocument:
    raw = dict(state["document"])
    raw["page_starts"] = tuple(raw["page_starts"])
    raw["doc_date"] = None
    return ExtractedDocument(**raw)


def nda_text(state: ReviewState) -> NdaText:
    document = document_of(state)
    return NdaText(document.text, document.page_of)


def _record(calls: tuple[LlmCallRecord, ...] | list[LlmCallRecord]) -> list[dict[str, Any]]:
    return [asdict(c) for c in calls]


# --- nodes -------------------------------------------------------------------------------------------
def extract(state: ReviewState, runtime: Runtime[ReviewContext]) -> Command[Literal["ask_llm", "hypotheses"]]:
    doc = nda_text(state)
    policy = get_nda_policy()
    extraction = extract_facts(doc, policy.our_names)
    mode = runtime.context.llm_mode if runtime.context.llm_gateway() is not None else "off"
    asked: list[dict[str, Any]] = []
    for rule in RULES:
        facts = extraction.facts.of(rule)
        clauses = extraction.candidates.get(rule) or []
        if rule == "mutuality" and not clauses:
            clauses = doc.clauses[:OPENING_CLAUSES]
        wanted = mode == "all" or (mode == "uncertain" and facts.uncertain)
        if wanted and clauses:
            asked.append({"rule": rule, "clause_starts": [c.start for c in clauses]})
    update = {"facts": extraction.facts.model_dump(mode="json"), "questions": asked}
    return Command(goto="ask_llm" if asked else "hypotheses", update=update)


def _evidence(doc: NdaText, quote: str) -> Evidence | None:
    found = locate_quote(quote, doc.text) if quote.strip() else None
    if found is None:
        return None
    start, end = found
    clause = next((c for c in reversed(doc.clauses) if c.start <= start), None)
    return Evidence(quote=doc.text[start:end], start=start, end=end, page=doc.page_of(start),
                    clause=doc.clause_label(clause) if clause else None)


def _validator(rule: str, source: str, pattern_reading: RuleFacts, doc: NdaText) -> Any:
    confident = pattern_reading.found and not pattern_reading.uncertain

    def check(answer: Any) -> Verification:
        result = Verification()
        if answer.quote.strip():
            result += verify_quotes([answer.quote], source)
        elif not questions.answered_absent(answer):
            result.failures.append(Failure("quote", "", "an answer needs the sentence it comes from"))
        years = getattr(answer, "years", None)
        if years is not None and answer.quote.strip() and float(years) not in questions.years_in(answer.quote):
            result.failures.append(Failure("number", str(years), "the quoted sentence does not state this duration"))
        result.failures += [Failure("quote", answer.quote[:80], why) for why in questions.unsupported(rule, answer)]
        if not result.ok:
            return result
        evidence = _evidence(doc, answer.quote)
        stated = questions.stated_facts(rule, answer, evidence)
        read = questions.read_quote(rule, answer, evidence)
        if read is not None and questions.key(rule, stated) != questions.key(rule, read):
            result.failures.append(Failure("quote", answer.quote[:80],
                                           f"the answer says {questions.describe(rule, stated)}, the quoted "
                                           f"sentence says {questions.describe(rule, read)}"))
        elif confident and questions.key(rule, read or stated) != questions.key(rule, pattern_reading):
            result.failures.append(Failure(
                "quote", answer.quote[:80] or rule,
                f"contradicts the clause as code reads it ({questions.describe(rule, pattern_reading)})"))
        return result

    return check


def ask(gateway: LlmGateway, doc: NdaText, rule: str, clause_starts: list[int], pattern_reading: RuleFacts,
        our_name: str) -> tuple[RuleFacts, tuple[LlmCallRecord, ...]]:
    """One rule, its clauses only; a verified answer becomes the rule's facts, else the patterns' reading
    stands, flagged as uncertain."""
    texts = [doc.text[c.start:c.end] for c in doc.clauses if c.start in clause_starts]
    source = "\n\n".join(texts)
    messages = [SystemMessage(content=prompts.SYSTEM),
                HumanMessage(content=prompts.question(rule, texts, our_name))]
    schema = questions.SCHEMAS[rule]
    answer = generate_checked(gateway, messages, check=_validator(rule, source, pattern_reading, doc),
                              fallback=lambda: None, schema=schema, purpose="extraction")
    if answer.source == "fallback":
        why = "the model could not be reached" if answer.unavailable else "the model's reading failed the checks"
        return pattern_reading.model_copy(update={"uncertain": True, "source": "fallback",
                                                  "note": f"{why}: {'; '.join(answer.failures)}"[:500]}), answer.calls
    if pattern_reading.found and not pattern_reading.uncertain:
        return pattern_reading, answer.calls  # confirmed: the patterns' reading, with the model agreeing
    value: Any = answer.value
    if questions.answered_absent(value) and not value.quote.strip() and pattern_reading.uncertain:
        # absence the model cannot point at is no evidence: the patterns' reading stands, still flagged
        return pattern_reading.model_copy(update={
            "uncertain": True, "note": "the model found no such clause but quoted nothing to show it"}), answer.calls
    reading = questions.to_facts(rule, value, _evidence(doc, value.quote))
    return reading.model_copy(update={"uncertain": not reading.found and pattern_reading.uncertain}), answer.calls


def ask_llm(state: ReviewState, runtime: Runtime[ReviewContext]) -> Command[Literal["hypotheses"]]:
    gateway = runtime.context.llm_gateway()
    assert gateway is not None  # extract only routes here with a gateway
    doc = nda_text(state)
    facts = NdaFacts.model_validate(state["facts"])
    our_name = get_nda_policy().our_names[0]
    calls: list[LlmCallRecord] = []
    for item in state.get("questions", []):
        reading, used = ask(gateway, doc, item["rule"], item["clause_starts"], facts.of(item["rule"]), our_name)
        setattr(facts, item["rule"], reading)
        calls.extend(used)
    return Command(goto="hypotheses", update={"facts": facts.model_dump(mode="json"), "usage": _record(calls)})


def hypotheses(state: ReviewState, runtime: Runtime[ReviewContext]) -> Command[Literal["judge"]]:
    doc = nda_text(state)
    spans = [s.text for s in doc.sentences]
    language = document_of(state).language
    gateway = runtime.context.llm_gateway() if runtime.context.nli_llm else None
    predictions, calls = nli.decide(spans, language=language, model=nli.shipped_model(), gateway=gateway,
                                    facts=NdaFacts.model_validate(state["facts"]),
                                    span_starts=[s.start for s in doc.sentences])
    items = {h: NliItem(label=p.label, hypothesis=nli.HYPOTHESES[h], evidence=[spans[i] for i in p.evidence],
                        source=p.source).model_dump() for h, p in predictions.items()}
    return Command(goto="judge", update={"nli": items, "usage": _record(calls)})


def judge_policy(state: ReviewState) -> Command[Literal["report"]]:
    language = document_of(state).language
    judgement = judge(NdaFacts.model_validate(state["facts"]), language="de" if language == "de" else "en")
    return Command(goto="report", update={"judgement": judgement.model_dump(mode="json")})


def report(state: ReviewState, runtime: Runtime[ReviewContext]) -> Command[Literal["__end__"]]:
    document = document_of(state)
    judgement = state["judgement"]
    usage = state.get("usage", [])
    gateway = runtime.context.llm_gateway()
    findings = judgement["findings"]
    uncertain = [f["rule"] for f in findings if f["uncertain"]] + [
        f"nli:{h}" for h, item in state["nli"].items() if item["source"] == "fallback"]
    built = NdaReport(
        review_id=state["review_id"], file_name=state["file_name"], account_id=state.get("account_id"),
        language=judgement["language"], source_format=document.source_format, pages=document.pages,
        policy_version=judgement["policy_version"], verdict=judgement["verdict"],
        verdict_basis="provisional" if judgement["unverified"] else "verified", unverified=judgement["unverified"],
        findings=findings,
        nli=state["nli"], uncertain=uncertain,
        llm=LlmUse(model=gateway.model_name if gateway and usage else None, calls=len(usage),
                   prompt_tokens=sum(u["prompt_tokens"] for u in usage),
                   completion_tokens=sum(u["completion_tokens"] for u in usage),
                   seconds=round(sum(u["latency_s"] for u in usage), 2)),
        wall_s=0.0, reviewed_at=datetime.now(UTC))
    return Command(goto="__end__", update={"report": built.model_dump(mode="json")})
