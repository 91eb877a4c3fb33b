"""The brief's steps: gather (batched facts, or one account's) → retrieve (contract clauses the principal may
see) → draft (the LLM's short summary through the one checked path: every sentence's claims checked against
the facts it cites, one repair round with the reasons) → compose (templates for everything else, and for the
summary when the model's failed)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field

from agents.account_brief import facts as gathering
from agents.account_brief import prompts, texts
from agents.account_brief.schemas import Brief, BriefFacts, Statement
from agents.account_brief.sources import claim_context
from agents.account_brief.state import BriefContext, BriefState
from core import access, claims
from core.db.session import session_scope
from core.errors import NotFound
from core.i18n import Language
from core.llm import generate_checked
from core.verify import Verification, verify_register
from knowledge.clauses import CLAUSE_QUERIES, ClauseRef, clauses_for

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


def draft(state: BriefState, runtime: Runtime[BriefContext]) -> Command[Literal["compose"]]:
    """The model's summary through the one checked path (core.llm.checked): each sentence checked against
    the facts it cites (core.claims), one repair round, else the template summary, flagged."""
    gateway = runtime.context.llm_gateway()
    if not state.get("use_llm") or gateway is None:
        return Command(goto="compose", update={"prose_source": "template"})
    language: Language = state["language"]  # type: ignore[assignment]
    f = facts_of(state)
    clauses = [ClauseRef.model_validate(c) for c in state.get("clauses", [])]
    context = claim_context(f, language, clauses)
    citable = f.citable() | {c.cite for c in clauses}

    def cited(answer: SummaryAnswer) -> list[dict[str, Any]]:
        return [{"text": s.text, "cites": [full_id(c, citable) for c in s.cites]} for s in answer.sentences]

    result = generate_checked(
        gateway, [SystemMessage(content=prompts.SYSTEM), HumanMessage(content=prompts.human(f, language))],
        check=lambda answer: check(cited(answer), context), fallback=lambda: None, schema=SummaryAnswer,
        purpose="drafting")
    update: dict[str, Any] = {"usage": [asdict(c) for c in result.calls], "check_record": result.record()}
    if result.source == "llm" and result.value is not None:
        return Command(goto="compose", update={**update, "prose_source": "llm", "draft": cited(result.value)})
    reason = ("the model could not be reached: " if result.unavailable else "the checks failed: ") + "; ".join(
        result.failures)
    return Command(goto="compose", update={**update, "prose_source": "fallback", "fallback_reason": reason[:500]})


def full_id(cite: str, citable: set[str]) -> str:
    """A cited id as the facts name it: the small model drops the prefix ("otif" for "kpi:otif",
    "A-1-N4" for "interaction:A-1-N4"); where exactly one known id ends so, that one is meant."""
    if cite in citable:
        return cite
    matches = [c for c in citable if c.endswith(f":{cite}")]
    return matches[0] if len(matches) == 1 else cite


def check(sentences: list[dict[str, Any]], context: claims.ClaimContext) -> Verification:
    """Each sentence against the facts it cites (figures, comparisons, trends, dates, content, names), the
    whole summary in the reader's language and register, short."""
    report = claims.check_cited([(s["text"], s["cites"]) for s in sentences], context)
    text = " ".join(s["text"] for s in sentences)
    return report.verification() + verify_register(text, context.language, max_chars=MAX_SUMMARY_CHARS)


def assemble(f: BriefFacts, previous: BriefFacts | None, language: Language, brief_date: date, *,
             kind: str = "brief", summary: list[Statement] | None = None, prose_source: str = "template",
             fallback_reason: str | None = None, clauses: list[ClauseRef] | None = None, model: str | None = None,
             usage: list[dict[str, Any]] | None = None, check_record: list[dict[str, Any]] | None = None) -> Brief:
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
        completion_tokens=sum(u["completion_tokens"] for u in usage), check_record=check_record or [])


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
        model=gateway.model_name if gateway is not None and usage else None, usage=usage,
        check_record=state.get("check_record"))
    return Command(goto="__end__", update={"brief": brief.model_dump(mode="json")})
