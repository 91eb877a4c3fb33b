"""The chat steps: understand (code: language, account, intent, arguments) → choose (the model picks a tool,
only when the keywords did not tell) → act (code: the tools, as the caller) → answer (the model phrases from
numbered sources; every sentence's claims are checked against the sources it cites, one repair round with the
reasons, then the template; only checked text is streamed) → finish (the turn joins the thread)."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, date, datetime
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field
from sqlalchemy import select

from agents.chat import prompts, resolve, texts
from agents.chat.schemas import Answer, Citation, Evidence, ToolCall, ToolStep, Turn
from agents.chat.state import ChatContext, ChatState
from agents.chat.tools import DRAFT_WORDS, TOOLS, ToolContext, run_tool
from core import access, claims
from core.db import models as m
from core.db.repository import account_names, known_names
from core.db.session import session_scope
from core.errors import Forbidden, KamError
from core.facts import Fact
from core.i18n import Language
from core.llm import generate_checked
from core.llm.structured import StructuredOutputError
from core.verify import Failure, Verification, find_dates, find_numbers, traces, verify_register
from policies.labels import RULES

CLARIFY_ACCOUNTS = 6
# the question asks why: the notes may say (what the customer told the KAM)
WHY = re.compile(r"\b(?:why|warum|wieso|weshalb|reason|grund)\b", re.IGNORECASE)


def _emit(event: str, **data: Any) -> None:
    """A step for whoever streams the run (SSE); nothing when the run is not streamed."""
    with contextlib.suppress(RuntimeError):  # not inside a streamed run
        get_stream_writer()({"event": event, **data})


def _language(state: ChatState) -> Language:
    return "de" if state.get("language") == "de" else "en"


def _reply(text: str, source: Literal["refusal", "clarify"], language: Language,
           update: dict[str, Any] | None = None) -> Command[Any]:
    """An answer code gives without tools or model (a refusal, a question back); the run goes to finish."""
    answer = Answer(text=text, language=language, source=source)
    return Command(goto="finish", update={**(update or {}), "answer": answer.model_dump(), "calls": [],
                                          "evidence": [], "steps": []})


def _accounts(session: Any, principal: access.Principal) -> tuple[list[resolve.AccountRef], list[resolve.AccountRef]]:
    rows = session.execute(select(m.Account.id, m.Account.name, m.Account.country).order_by(m.Account.id)).all()
    refs = [resolve.AccountRef(r[0], r[1], r[2] or "") for r in rows]
    return ([a for a in refs if access.can_see_account(principal, a.id)],
            [a for a in refs if not access.can_see_account(principal, a.id)])


def understand(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["act", "choose", "finish"]]:
    """Everything code can read from the question; the model is asked only what code could not tell. A reply
    to a question back ("Gerster Komponenten", "I mean A-00007") answers the question that was pending."""
    ctx = runtime.context
    question = state["question"]
    language = resolve.detect_language(question, "de" if ctx.default_language == "de" else "en")
    update: dict[str, Any] = {"language": language, "pending": None}
    with session_scope(ctx.settings().resolved_database_url) as session:
        visible, others = _accounts(session, ctx.principal)
    if resolve.ROLE_CHANGE.search(question):
        return _reply(texts.role_unchanged(language), "refusal", language, update)
    match = resolve.match_accounts(question, visible, others)
    if match.foreign:
        return _reply(texts.foreign_account(language), "refusal", language, update)
    pending = state.get("pending")
    if pending and match.visible and not resolve.intents(question) and resolve.metric_focus(question) is None:
        language = resolve.detect_language(pending, language)
        update["language"] = language
        if len(match.visible) == 1:
            question = pending
        else:
            match = resolve.AccountMatch([a for a in match.visible
                                          if a in resolve.match_accounts(pending, visible, others).visible]
                                         or match.visible)
    compare = resolve.is_compare(question, len(match.visible))
    # a ranking or count of a named rule with no account named is about the portfolio ("wo ist die OTIF am
    # schlechtesten?"), not about the account of the thread
    portfolio = resolve.is_portfolio(question) or (not match.visible and resolve.metric_focus(question) is not None
                                                   and resolve.operation(question) in RANKING)
    if len(match.visible) > 1 and not portfolio and not compare:
        return _reply(texts.which_account([(a.id, a.name) for a in match.visible[:CLARIFY_ACCOUNTS]], language),
                      "clarify", language, {**update, "pending": question})
    account_id = match.one.id if match.one else (None if portfolio or compare else state.get("account_id"))
    update["account_id"] = account_id if account_id else state.get("account_id")
    tools = _tools(question, portfolio=portfolio or compare, single=account_id is not None)
    last = state.get("last_question")
    # a follow-up that changes only the account, the discount or the time ("und bei Brenner?", "and at 8 %?",
    # "and last month?") asks the last question again; anything else goes to the model's choice
    if not tools and last and (match.visible or portfolio or resolve.discount(question) is not None
                               or resolve.asked_period(question, ctx.as_of).any):
        question = f"{question} {last}"  # its own words first: they win over the last question's
        tools = _tools(question, portfolio=portfolio or compare, single=account_id is not None)
    if tools:
        update["last_question"] = question
    if compare and resolve.metric_focus(question) is None:  # "Dalton vs Brenner": each account's health
        each = [ToolCall(tool="health", account_id=a.id) for a in match.visible[:2]]
        return Command(goto="act", update={**update, "calls": [c.model_dump() for c in each]})
    if not tools:
        if ctx.llm_gateway() is None:
            return _reply(texts.not_understood(language), "clarify", language, update)
        return Command(goto="choose", update=update)
    calls = _plan(tools, question, account_id, ctx.as_of, named=match.one.id if match.one else None,
                  compared=[a.id for a in match.visible] if compare else None)
    if calls is None:
        return _reply(texts.which_account([(a.id, a.name) for a in visible[:CLARIFY_ACCOUNTS]], language),
                      "clarify", language, {**update, "pending": question})
    return Command(goto="act", update={**update, "calls": [c.model_dump() for c in calls]})


# what the model may ask of a portfolio
ChosenOperation = Literal["list", "count", "worst", "best", "lowest", "highest", "filter"]
RANKING = ("worst", "best", "lowest", "highest", "count", "filter")
# a rule asked by name is answered by the tool that holds it; these tools answer more than the rule
SPECIFIC = ("price_check", "contract", "receivables", "replenishment", "nda", "brief", "escalations")
CONTACTS = re.compile(r"\b(?:contacts?|touchpoints?|visits?|calls?|meetings?|kontakte?n?|besuche?n?|anrufe?n?|"
                      r"termine?n?|gespräche?n?|interactions?)\b", re.IGNORECASE)


def _tools(question: str, *, portfolio: bool, single: bool) -> list[str]:
    """The tools a question asks for: the keywords' tools, a rule named by name (the KPI dictionary), a
    count of contacts, and a rule over all accounts when the question is about the portfolio."""
    tools = resolve.intents(question)
    focus = resolve.metric_focus(question)
    counting = resolve.COUNT.search(question) or resolve.SINCE_MEETING.search(question)
    asked_alone = not tools and not portfolio  # "contacts at Dalton?"
    if CONTACTS.search(question) and (counting or resolve.THIS_YEAR.search(question) or asked_alone) and focus in (
            None, "contact_cadence", "qualified_interactions"):
        return ["contacts"]
    if focus == "escalations_open_days" or "escalations" in tools:
        return ["escalations"]
    if focus and focus != "credit_utilisation" and not any(t in SPECIFIC for t in tools):
        tools = ["portfolio"] if portfolio and not single else ["kpis", *(["notes"] if WHY.search(question) else [])]
    elif focus == "credit_utilisation" and portfolio and not single:
        tools = ["portfolio"]
    elif portfolio and not single and tools == ["credit"]:
        return ["portfolio"]
    return tools


def _plan(tools: list[str], question: str, account_id: str | None, as_of: date, *, named: str | None = None,
          compared: list[str] | None = None, metric: str | None = None,
          operation: ChosenOperation | None = None) -> list[ToolCall] | None:
    """Typed calls for the tools; None when a tool needs an account and none is known. A part number is
    looked up in every account of the caller unless the question itself names the account. What the question
    says wins over the model's ``metric`` and ``operation`` (given only when the model chose the tool)."""
    period = resolve.asked_period(question, as_of)
    focus = resolve.metric_focus(question) or metric
    asked = resolve.operation(question)
    if asked == "list" and operation is not None:
        asked = operation
    calls = []
    for name in tools:
        tool = TOOLS[name]
        if tool.scope == "account" and account_id is None:
            return None
        args: dict[str, Any] = {}
        target = None if tool.scope == "portfolio" else account_id
        if name == "kpis":
            args = {"kpi": focus, "period": period.label,
                    "since": period.since.isoformat() if period.since else None}
        elif name == "portfolio":
            rule = focus or ("credit_utilisation" if "credit" in resolve.intents(question) else None)
            if rule is None:  # the model chose the portfolio for a question naming no rule: ask, don't guess
                return None
            args = {"metric": rule, "operation": asked, "period": period.label, "accounts": compared}
        elif name == "contacts":
            args = {"period": period.label, "since": period.since.isoformat() if period.since else None,
                    "since_meeting": period.since_meeting}
        elif name == "receivables":
            args = {"overdue": bool(resolve.OVERDUE.search(question))}
        elif name == "escalations":
            args = {"drafts": any(w in question.lower() for w in DRAFT_WORDS)}
        elif name == "price_check":
            args = {"part_number": resolve.part_number(question), "discount": resolve.discount(question)}
            target = named if args["part_number"] else account_id
        elif name == "contract":
            args["query"] = question
        calls.append(ToolCall(tool=name, account_id=target, args=args))
    return calls


class ToolChoice(BaseModel):
    """The model's choice when code could not tell the tool: one tool and its arguments, each validated."""
    tool: str = Field(description="one tool name, or none")
    account: str | None = Field(None, description="the customer's name or id as the question writes it")
    metric: str | None = Field(None, description="a rule name from the list")
    operation: ChosenOperation | None = None
    query: str | None = None


def choose(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["act", "finish"]]:
    """The model picks one tool and its arguments from the tools' schemas. Code validates each (a known tool
    and rule; an account resolved among the caller's own, so a name outside the scope is refused as code
    would refuse it) and fills what the question itself says."""
    language = _language(state)
    ctx = runtime.context
    gateway = ctx.llm_gateway()
    listing = "\n".join(f"- {t.name}({prompts.TOOL_ARGUMENTS.get(t.name, '')}): {t.description}"
                        for t in TOOLS.values())
    messages = [SystemMessage(content=prompts.CHOOSE_SYSTEM.format(tools=listing, metrics=", ".join(RULES))),
                HumanMessage(content=state["question"])]
    with session_scope(ctx.settings().resolved_database_url) as session:
        visible, others = _accounts(session, ctx.principal)

    def known(choice: ToolChoice) -> Verification:
        failures = []
        if choice.tool not in TOOLS and choice.tool != "none":
            failures.append(Failure("citation", choice.tool, "no such tool"))
        if choice.metric is not None and choice.metric not in RULES:
            failures.append(Failure("citation", choice.metric, "no such rule; use a name from the list or null"))
        return Verification(failures, 1)

    try:
        assert gateway is not None
        choice = gateway.structured(messages, ToolChoice, validator=known).value
    except StructuredOutputError:
        choice = ToolChoice(tool="none")
    account_id = state.get("account_id")
    if choice.account:
        named = resolve.match_accounts(choice.account, visible, others)
        if named.foreign:  # the model named a customer outside the caller's scope: refused, never looked up
            return _reply(texts.foreign_account(language), "refusal", language)
        account_id = named.one.id if named.one else account_id
    _emit("step", tool="choose", chosen=choice.tool)
    calls = None if choice.tool == "none" else _plan([choice.tool], state["question"], account_id, ctx.as_of,
                                                     metric=choice.metric, operation=choice.operation)
    if calls is None:
        return _reply(texts.not_understood(language), "clarify", language)
    if choice.query and calls[0].tool == "contract":
        calls[0].args["query"] = choice.query
    return Command(goto="act", update={"account_id": account_id, "calls": [c.model_dump() for c in calls]})


def act(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["answer", "finish"]]:
    """Run the planned tools as the caller; each step is streamed."""
    ctx = runtime.context
    language = _language(state)
    evidence: list[Evidence] = []
    steps: list[ToolStep] = []
    refused: list[str] = []
    with session_scope(ctx.settings().resolved_database_url) as session:
        tool_ctx = ToolContext(session, ctx.principal, ctx.as_of, ctx.settings(), state["question"])
        for raw in state.get("calls", []):
            call = ToolCall.model_validate(raw)
            step = ToolStep(tool=call.tool, account_id=call.account_id, args=call.args)
            try:
                found = run_tool(call.tool, tool_ctx, call.account_id, call.args)
                step.evidence = len(found)
                evidence += found
            except Forbidden as exc:
                step.refused = exc.message
                refused.append(exc.message)
            except KamError as exc:  # not found, invalid, or a store that is down: said, not guessed around
                step.refused = exc.message
            steps.append(step)
            _emit("step", **step.model_dump())
    update = {"evidence": [e.model_dump() for e in evidence], "steps": [s.model_dump() for s in steps]}
    account_id = state.get("account_id")
    if not evidence:
        if refused:
            text = texts.forbidden(refused[0], language)
            source: Literal["refusal", "template"] = "refusal"
        else:
            missing = next((s.refused for s in steps if s.refused), None)
            text, source = texts.nothing_found(ctx.as_of, language, missing), "template"
        answer = Answer(text=text, language=language, source=source, steps=steps, account_id=account_id)
        return Command(goto="finish", update={**update, "answer": answer.model_dump()})
    return Command(goto="answer", update=update)


def citations(evidence: list[Evidence]) -> list[Citation]:
    return [Citation(n=n, kind=e.kind, ref=e.ref, label=e.label, account_id=e.account_id, detail=e.detail)
            for n, e in enumerate(evidence, start=1)]


def facts_of(evidence: list[Evidence]) -> list[Fact]:
    return [f for e in evidence for f in e.fact_list()]


def left_out(text: str, source: Evidence, language: Language) -> list[str]:
    """The points of the first (most relevant) source the answer does not state: its key figures and names."""
    facts = {f.id: f for f in facts_of([source])}
    numbers = find_numbers(claims.YEAR_MONTH.sub(" ", text))
    days = {d for _t, _o, d in find_dates(text) if d is not None}
    missing = []
    for key in source.key:
        fact = facts.get(key)
        if fact is None:
            stated = key in text
        elif fact.unit == "date":
            stated = fact.value in days
        else:
            stated = any(traces(n, [fact]) for n in numbers)
        if not stated:
            missing.append(key if fact is None else fact.display(language))
    return missing


def claim_context(evidence: list[Evidence], language: Language, as_of: Any, session: Any) -> claims.ClaimContext:
    """How the answer is checked: each sentence against the sources it cites, names against the CRM."""
    accounts = sorted({e.account_id for e in evidence if e.account_id})
    return claims.ClaimContext(
        sources=[e.claim_source(str(n), language) for n, e in enumerate(evidence, start=1)], language=language,
        as_of=as_of, marked=True, default_account=accounts[0] if len(accounts) == 1 else None,
        account_names=account_names(session, accounts),
        known=[claims.KnownName(name, account) for name, account in known_names(session)])


def check_answer(text: str, evidence: list[Evidence], language: Language, principal: access.Principal,
                 context: claims.ClaimContext) -> Verification:
    """Every sentence's claims against the sources it cites (core.claims); the whole answer cites at least one
    source, states the first source's point, names no account the caller may not see, and is in the reader's
    language."""
    result = claims.check_text(text, context).verification()
    if not claims.MARKER.search(text):
        result.failures.append(Failure("citation", "[n]", "no source cited"))
    result.failures += [Failure("number", point, "the answer leaves this out; state it as the source writes it")
                        for point in left_out(text, evidence[0], language)] if evidence else []
    result.failures += [Failure("forbidden", a, "an account the reader may not see")
                        for a in resolve.ACCOUNT_ID.findall(text) if not access.can_see_account(principal, a.upper())]
    return result + verify_register(claims.MARKER.sub("", text), language)  # a source marker is no placeholder


def answer(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["finish"]]:
    """The model phrases the answer from the numbered sources through the one checked path: while it writes,
    only progress is streamed (never its text); each sentence is checked, one repair round with the reasons,
    else the template answer, flagged."""
    ctx = runtime.context
    language = _language(state)
    evidence = [Evidence.model_validate(e) for e in state.get("evidence", [])]
    steps = [ToolStep.model_validate(s) for s in state.get("steps", [])]
    template = texts.template_answer(evidence, ctx.as_of, language)
    gateway = ctx.llm_gateway() if ctx.settings().chat_llm else None
    base = {"language": language, "citations": citations(evidence), "steps": steps,
            "account_id": state.get("account_id")}
    if gateway is None:
        return _done(Answer(text=template, source="template", **base))
    with session_scope(ctx.settings().resolved_database_url) as session:
        context = claim_context(evidence, language, ctx.as_of, session)
    sources = "\n".join(f"[{n}] {e.text(language)}" for n, e in enumerate(evidence, start=1))
    messages: list[Any] = [SystemMessage(content=prompts.ANSWER_SYSTEM[language]),
                           HumanMessage(content=prompts.ANSWER_USER.format(
                               question=state["question"], as_of=ctx.as_of.isoformat(), sources=sources))]
    rounds = 0

    def check(text: str) -> Verification:
        nonlocal rounds
        rounds += 1
        _emit("checking", attempt=rounds)
        verification = check_answer(text, evidence, language, ctx.principal, context)
        if not verification.ok:
            _emit("rejected", attempt=rounds, sentences=sum(not s["accepted"] for s in verification.sentences))
        return verification

    result = generate_checked(
        gateway, messages, check=check, fallback=lambda: template, schema=None, purpose="chat",
        repair=lambda v: prompts.RETRY.format(failures=v.feedback(),
                                              language="German" if language == "de" else "English"),
        progress=_progress(), budget_s=ctx.settings().chat_answer_budget_s)
    if result.source == "llm":
        return _done(Answer(text=result.value, source="llm", check_record=result.record(), **base))
    return _done(Answer(text=template, source="fallback", failures=_reasons(result), check_record=result.record(),
                        **base))


PROGRESS_EVERY = 40  # characters: a progress event says how far the model got, never what it wrote


def _progress() -> Any:
    """A progress event on the first characters and every ``PROGRESS_EVERY`` more (never the text)."""
    shown = [-PROGRESS_EVERY]

    def heard(chars: int) -> None:
        if chars - shown[0] >= PROGRESS_EVERY:
            shown[0] = chars
            _emit("progress", chars=chars)
    return heard


def _reasons(result: Any) -> list[str]:
    """Why the model's text was not used, without the text itself (that stays in the run record)."""
    if result.unavailable:
        return list(result.failures)
    last = result.rounds[-1] if result.rounds else None
    if last is None:
        return list(result.failures)
    reasons = [f"sentence {n}: {'; '.join(s['reasons'])}" for n, s in enumerate(last.sentences, start=1)
               if not s["accepted"]]
    others = [f for f in last.failures if not f.startswith("claim ")]
    return (reasons + others)[:12]


def _done(result: Answer) -> Command[Literal["finish"]]:
    return Command(goto="finish", update={"answer": result.model_dump()})


def finish(state: ChatState) -> dict[str, Any]:
    """The turn joins the thread (question, answer, sources, steps)."""
    result = Answer.model_validate(state["answer"])
    turn = Turn(question=state["question"], answer=result, asked_at=datetime.now(UTC))
    _emit("answer", **result.model_dump(mode="json"))
    return {"turns": [turn.model_dump(mode="json")]}
