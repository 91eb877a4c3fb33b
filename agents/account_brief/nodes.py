"""The brief's steps: gather (batched facts, or one account's) → retrieve (contract clauses the principal may
see) → draft (the LLM's short summary) → verify (platform verifier; one retry with the failures shown) →
compose (templates for everything else, and for the summary when the model's failed)."""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.account_brief import facts as gathering
from agents.account_brief import prompts, texts
from agents.account_brief.schemas import Brief, BriefFacts, Language, Statement
from agents.account_brief.state import BriefContext, BriefState
from core import access
from core.db.session import session_scope
from core.errors import NotFound
from core.llm import StructuredOutputError
from core.verify import Failure, Verification, verify_citations, verify_numbers, verify_register
from knowledge.clauses import CLAUSE_QUERIES, ClauseRef, clauses_for
from policies.results import RULE_TERMS

MAX_SUMMARY_CHARS = 600
class SummarySentence(BaseModel):
    text: str = Field(max_length=400)
    cites: list[str] = Field(default_factory=list, max_length=6)


class SummaryAnswer(BaseModel):
    sentences: list[SummarySentence] = Field(min_length=1, max_length=4)


def facts_of(state: BriefState) -> BriefFacts:
    return BriefFacts.model_validate(state["facts"])


def gather(state: BriefState, runtime: Runtime[BriefContext]) -> Command[Literal["retrieve"]]:
    principal = runtime.context.principal
    access.require_account(principal, state["account_id"])
    access.require(principal, "finance")  # the KPI panel shows credit, receivables and margins
    if state.get("facts"):
        return Command(goto="retrieve")
    settings = runtime.context.settings()
    with session_scope(settings.resolved_database_url) as session:
        found = gathering.gather(session, as_of=date.fromisoformat(state["brief_date"]),
                                 account_ids=[state["account_id"]], data_dir=settings.data_dir)
    if state["account_id"] not in found:
        raise NotFound(f"account {state['account_id']!r} not found")
    return Command(goto="retrieve", update={"facts": found[state["account_id"]].model_dump(mode="json")})


def worst_finding(f: BriefFacts) -> str | None:
    """The first breached or warned KPI that contract clauses speak to: the brief cites those clauses."""
    return next((k.rule for k in f.kpis if k.status in ("breach", "warn") and k.rule in CLAUSE_QUERIES), None)


def retrieve(state: BriefState, runtime: Runtime[BriefContext]) -> Command[Literal["draft"]]:
    """The contract clauses behind the account's worst findings, within what the principal may see."""
    f = facts_of(state)
    clauses = clauses_for(runtime.context.settings(), runtime.context.principal, f.account_id, worst_finding(f))
    return Command(goto="draft", update={"clauses": [c.model_dump() for c in clauses]})


def draft(state: BriefState, runtime: Runtime[BriefContext]) -> Command[Literal["verify", "compose"]]:
    gateway = runtime.context.llm_gateway()
    if not state.get("use_llm") or gateway is None:
        return Command(goto="compose", update={"prose_source": "template"})
    language: Language = state["language"]  # type: ignore[assignment]
    messages = [SystemMessage(content=prompts.SYSTEM),
                HumanMessage(content=prompts.human(facts_of(state), language, state.get("failures", [])))]
    attempts = state.get("attempts", 0) + 1
    try:
        answer = gateway.structured(messages, SummaryAnswer, purpose="drafting")
    except StructuredOutputError as exc:
        return Command(goto="compose", update={
            "attempts": attempts, "prose_source": "fallback", "usage": [asdict(c) for c in exc.calls],
            "fallback_reason": ("the model could not be reached: " if exc.unavailable else "no valid answer: ")
            + exc.error[:300]})
    value: Any = answer.value
    citable = facts_of(state).citable()
    sentences = [{**s.model_dump(), "cites": [full_id(c, citable) for c in s.cites]} for s in value.sentences]
    return Command(goto="verify", update={"attempts": attempts, "draft": sentences,
                                          "usage": [asdict(c) for c in answer.calls]})


def full_id(cite: str, citable: set[str]) -> str:
    """A cited id as the facts name it: the small model drops the prefix ("otif" for "kpi:otif",
    "A-1-N4" for "interaction:A-1-N4"); where exactly one known id ends so, that one is meant."""
    if cite in citable:
        return cite
    matches = [c for c in citable if c.endswith(f":{cite}")]
    return matches[0] if len(matches) == 1 else cite


BELOW = re.compile(r"\b(?:below|under|short of|less than|unter(?:halb)?|niedriger als|verfehlt\w*)\b", re.I)
ABOVE = re.compile(r"\b(?:above|over|exceed\w*|more than|über(?:steigt|schreitet|trifft)?|oberhalb|höher als)\b",
                   re.I)
STATUS_WORDS = {"breach": re.compile(r"\b(?:breach\w*|verstoß\w*|verletz\w*)", re.I),
                "warn": re.compile(r"\b(?:warn\w*)", re.I)}
# Clauses split at ";", sentence ends and conjunctions, not at commas: "OTIF is 98.3 %, which is below the
# target" keeps the relative clause with the KPI it is about (the small model wrote exactly that).
CLAUSE = re.compile(r";|[.!?](?:\s|$)|\b(?:and|but|while|whereas|und|aber|während)\b", re.I)


def _claims(text: str, f: BriefFacts) -> list[Failure]:
    """What a clause says about a KPI it names must be what code computed: "below"/"above" its target, a
    breach or a warning (the small model wrote "OTIF 98.3 %, below the target of 98.0 %")."""
    failures = []
    for clause in CLAUSE.split(text):
        named = [k for k in f.kpis if k.value is not None and any(
            re.search(rf"(?<![^\W\d_]){re.escape(name)}(?![^\W\d_])", clause, re.I)
            for name in (*RULE_TERMS.get(k.rule, ()), *texts.LABELS.get(k.rule, ())))]
        if len(named) != 1:
            continue  # no KPI, or several: which one a word refers to is not decidable here
        k = named[0]
        value, threshold = k.value or 0.0, k.threshold
        if threshold is not None and BELOW.search(clause) and not value < threshold:
            failures.append(Failure("number", clause.strip()[:60], f"says {k.rule} is below its target; it is "
                                                                    f"{value:g} against {threshold:g}"))
        if threshold is not None and ABOVE.search(clause) and not value > threshold:
            failures.append(Failure("number", clause.strip()[:60], f"says {k.rule} is above its target; it is "
                                                                    f"{value:g} against {threshold:g}"))
        for status, words in STATUS_WORDS.items():
            if words.search(clause) and k.status != status:
                failures.append(Failure("number", clause.strip()[:60], f"calls {k.rule} a {status}; its status is "
                                                                        f"{k.status}"))
    return failures


def check(sentences: list[dict[str, Any]], f: BriefFacts, language: Language) -> Verification:
    """Every figure and date traced to a fact the sentence cites (bound to the fact it names), every citation
    a known id, every sentence cited, what it says about a KPI (below/above target, breach, warning) as
    computed, in the reader's language and register, short."""
    text = " ".join(s["text"] for s in sentences)
    facts = f.as_facts()
    always = [x for x in facts if x.id == "as_of" or x.id.startswith("count:")]
    result = verify_citations([c for s in sentences for c in s["cites"]], f.citable()) + verify_register(
        text, language, max_chars=MAX_SUMMARY_CHARS)
    for s in sentences:
        cited = [x for x in facts if any(x.id == c or x.id.startswith(f"{c}.") for c in s["cites"])]
        result += verify_numbers(s["text"], [*cited, *always])
        result.failures += _claims(s["text"], f)
        if not s["cites"]:
            result.failures.append(Failure("citation", s["text"][:60], "the sentence cites no fact"))
    return result


def verify(state: BriefState) -> Command[Literal["draft", "compose"]]:
    language: Language = state["language"]  # type: ignore[assignment]
    result = check(state["draft"], facts_of(state), language)
    if result.ok:
        return Command(goto="compose", update={"prose_source": "llm", "failures": []})
    failures = [str(x) for x in result.failures]
    if state.get("attempts", 0) < 2:
        return Command(goto="draft", update={"failures": failures})  # once more, with what failed
    return Command(goto="compose", update={"prose_source": "fallback", "failures": failures,
                                           "fallback_reason": "; ".join(failures)[:500]})


def assemble(f: BriefFacts, previous: BriefFacts | None, language: Language, brief_date: date, *,
             kind: str = "brief", summary: list[Statement] | None = None, prose_source: str = "template",
             fallback_reason: str | None = None, clauses: list[ClauseRef] | None = None, model: str | None = None,
             usage: list[dict[str, Any]] | None = None) -> Brief:
    """The brief from its facts: every part from the templates, the summary from the model when it passed."""
    usage = usage or []
    return Brief(
        account_id=f.account_id, brief_date=brief_date, kind=kind, language=language, facts=f,
        summary=summary if summary is not None else texts.summary(f, language),
        prose_source=prose_source, fallback_reason=fallback_reason,
        changes=texts.changes(f, previous, language), risks=texts.risks(f, language),
        opportunities=texts.opportunities(f, language), talking_points=texts.talking_points(f, language),
        handover=texts.handover(f, language) if kind == "handover" else [], clauses=clauses or [],
        input_hash=f.input_hash(), model=model, prompt_version=prompts.PROMPT_VERSION,
        prompt_tokens=sum(u["prompt_tokens"] for u in usage),
        completion_tokens=sum(u["completion_tokens"] for u in usage))


def template_brief(f: BriefFacts, previous: BriefFacts | None, language: Language, brief_date: date, *,
                   kind: str = "brief", clauses: list[ClauseRef] | None = None) -> Brief:
    """The deterministic brief (no model): what every account gets every night in milliseconds."""
    return assemble(f, previous, language, brief_date, kind=kind, clauses=clauses)


def compose(state: BriefState, runtime: Runtime[BriefContext]) -> Command[Literal["__end__"]]:
    f = facts_of(state)
    source = state.get("prose_source", "template")
    usage = state.get("usage", [])
    gateway = runtime.context.llm_gateway()
    brief = assemble(
        f, BriefFacts.model_validate(state["previous"]) if state.get("previous") else None,
        state["language"], date.fromisoformat(state["brief_date"]), kind=state["kind"],  # type: ignore[arg-type]
        summary=[Statement(text=s["text"], cites=s["cites"]) for s in state["draft"]] if source == "llm" else None,
        prose_source=source, fallback_reason=state.get("fallback_reason"),
        clauses=[ClauseRef.model_validate(c) for c in state.get("clauses", [])],
        model=gateway.model_name if gateway is not None and usage else None, usage=usage)
    return Command(goto="__end__", update={"brief": brief.model_dump(mode="json")})
