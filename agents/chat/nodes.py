"""The chat steps: understand (code: language, account, intent, arguments) → choose (the model picks a tool,
only when the keywords did not tell) → act (code: the tools, as the caller) → answer (the model phrases from
numbered sources, streamed; code checks every figure, citation, account and the language; one retry with the
failures shown, then the template) → finish (the turn joins the thread)."""

from __future__ import annotations

import contextlib
import re
from datetime import UTC, datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage
from langgraph.config import get_stream_writer
from langgraph.runtime import Runtime
from langgraph.types import Command
from pydantic import BaseModel, Field
from sqlalchemy import select

from agents.chat import prompts, resolve, texts
from agents.chat.schemas import Answer, Citation, Evidence, Language, ToolCall, ToolStep, Turn
from agents.chat.state import ChatContext, ChatState
from agents.chat.tools import TOOLS, ToolContext, run_tool
from core import access
from core.db import models as m
from core.db.session import session_scope
from core.errors import Forbidden, KamError
from core.facts import Fact
from core.llm.structured import StructuredOutputError
from core.verify import (
    DEFAULT_MASKS,
    Failure,
    Verification,
    find_dates,
    find_numbers,
    traces,
    verify_numbers,
    verify_register,
)

CITE = re.compile(r"\[(\d{1,2})\]")
MONTH = re.compile(r"\b\d{4}-\d{2}\b(?!-\d)")  # a month label of a trend (2026-10) names a month, it states no figure
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
    rows = session.execute(select(m.Account.id, m.Account.name).order_by(m.Account.id)).all()
    refs = [resolve.AccountRef(r[0], r[1]) for r in rows]
    return ([a for a in refs if access.can_see_account(principal, a.id)],
            [a for a in refs if not access.can_see_account(principal, a.id)])


def understand(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["act", "choose", "finish"]]:
    """Everything code can read from the question; the model is asked only what code could not tell."""
    ctx = runtime.context
    question = state["question"]
    language = resolve.detect_language(question, "de" if ctx.default_language == "de" else "en")
    update: dict[str, Any] = {"language": language}
    with session_scope(ctx.settings().resolved_database_url) as session:
        visible, others = _accounts(session, ctx.principal)
    match = resolve.match_accounts(question, visible, others)
    if match.foreign:
        return _reply(texts.foreign_account(language), "refusal", language, update)
    if len(match.visible) > 1 and not resolve.is_portfolio(question):
        return _reply(texts.which_account([(a.id, a.name) for a in match.visible[:CLARIFY_ACCOUNTS]], language),
                      "clarify", language, update)
    portfolio = resolve.is_portfolio(question)
    account_id = match.one.id if match.one else (None if portfolio else state.get("account_id"))
    update["account_id"] = account_id if account_id else state.get("account_id")
    tools = resolve.intents(question)
    if tools == ["kpis"] and WHY.search(question):
        tools.append("notes")
    if not tools:
        if ctx.llm_gateway() is None:
            return _reply(texts.not_understood(language), "clarify", language, update)
        return Command(goto="choose", update=update)
    calls = _plan(tools, question, account_id, named=match.one.id if match.one else None)
    if calls is None:
        return _reply(texts.which_account([(a.id, a.name) for a in visible[:CLARIFY_ACCOUNTS]], language),
                      "clarify", language, update)
    return Command(goto="act", update={**update, "calls": [c.model_dump() for c in calls]})


def _plan(tools: list[str], question: str, account_id: str | None, *, named: str | None = None
          ) -> list[ToolCall] | None:
    """Typed calls for the tools; None when a tool needs an account and none is known. A part number is
    looked up in every account of the caller unless the question itself names the account."""
    calls = []
    for name in tools:
        tool = TOOLS[name]
        if tool.scope == "account" and account_id is None:
            return None
        args: dict[str, Any] = {}
        target = account_id
        if name == "kpis":
            args["kpi"] = resolve.kpi_focus(question)
        elif name == "price_check":
            args = {"part_number": resolve.part_number(question), "discount": resolve.discount(question)}
            target = named if args["part_number"] else account_id
        elif name == "contract":
            args["query"] = question
        calls.append(ToolCall(tool=name, account_id=target, args=args))
    return calls


class ToolChoice(BaseModel):
    tool: str = Field(description="one tool name, or none")
    query: str | None = None


def choose(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["act", "finish"]]:
    """The model picks one tool from the short list (no account, no figures: code has them)."""
    language = _language(state)
    gateway = runtime.context.llm_gateway()
    listing = "\n".join(f"- {t.name}: {t.description}" for t in TOOLS.values())
    messages = [SystemMessage(content=prompts.CHOOSE_SYSTEM.format(tools=listing)),
                HumanMessage(content=state["question"])]

    def known(choice: ToolChoice) -> Verification:
        ok = choice.tool in TOOLS or choice.tool == "none"
        return Verification([] if ok else [Failure("citation", choice.tool, "no such tool")], 1)

    try:
        assert gateway is not None
        choice = gateway.structured(messages, ToolChoice, validator=known).value
    except StructuredOutputError:
        choice = ToolChoice(tool="none")
    account_id = state.get("account_id")
    _emit("step", tool="choose", chosen=choice.tool)
    calls = None if choice.tool == "none" else _plan([choice.tool], state["question"], account_id)
    if calls is None:
        return _reply(texts.not_understood(language), "clarify", language)
    if choice.query and calls[0].tool == "contract":
        calls[0].args["query"] = choice.query
    return Command(goto="act", update={"calls": [c.model_dump() for c in calls]})


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
    return [Fact(f["id"], f["value"] if f["unit"] != "date" else _day(f["value"]), f["unit"], f["source"],
                 tuple(f.get("terms") or ())) for e in evidence for f in e.facts]


def _day(value: Any) -> Any:
    from datetime import date

    return date.fromisoformat(value) if isinstance(value, str) else value


# a sentence ends at . ! ? before a space or the end ("62.0 %" and "591.1027-01" do not end one)
SENTENCE = re.compile(r"(?:[^.!?\n]|[.!?](?![\s\[]|$))+(?:[.!?]+(?:\s*\[\d{1,2}\])*|$)")
# what names a thing in a source: an account, article, invoice or clause id
IDENTIFIER = re.compile(r"\b[A-Z][A-Za-z]*-\d[\w-]*|\b\d{3}\.\d{4}-\d{2}\b|§\s?\d+")
MIN_STATEMENT_WORDS = 3  # "Ja." or "Laut den Daten:" states nothing that needs a source


def cite_by_figures(text: str, evidence: list[Evidence], language: Language) -> str:
    """A sentence the model left without a source marker gets the sources its figures come from (code knows
    which tool computed which figure), else the sources that name the same ids (an account, an article); a
    sentence with neither is left as it is, and fails the check."""
    facts = [facts_of([e]) for e in evidence]
    named = [set(IDENTIFIER.findall(e.text(language))) for e in evidence]
    out, last = [], 0
    for match in SENTENCE.finditer(text):
        sentence = match.group(0)
        if CITE.search(sentence):
            continue
        numbers = find_numbers(MONTH.sub(" ", sentence))
        sources = [n for n, known in enumerate(facts, start=1) if any(traces(x, known) for x in numbers)]
        ids = set(IDENTIFIER.findall(sentence))
        sources = sources or [n for n, names in enumerate(named, start=1) if ids & names]
        if not sources:
            continue
        body = sentence.rstrip()
        end = len(body.rstrip(".!?"))
        marked = body[:end] + " " + "".join(f"[{n}]" for n in sources[:3]) + body[end:]
        out += [text[last:match.start()], marked, sentence[len(body):]]
        last = match.end()
    return "".join(out) + text[last:]


def left_out(text: str, source: Evidence, language: Language) -> list[str]:
    """The points of the first (most relevant) source the answer does not state: its key figures and names."""
    facts = {f.id: f for f in facts_of([source])}
    numbers = find_numbers(MONTH.sub(" ", text))
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
            missing.append(key if fact is None else _display(fact, language))
    return missing


def _display(fact: Fact, language: Language) -> str:
    shown = fact.display()
    return shown.replace(",", "X").replace(".", ",").replace("X", ".") if language == "de" else shown


def check_answer(text: str, evidence: list[Evidence], language: Language, principal: access.Principal,
                 as_of: Any) -> Verification:
    """The answer's figures trace to the tools' facts, it cites existing sources (at least one), names no
    account the caller may not see, and is in the reader's language."""
    result = verify_numbers(text, [*facts_of(evidence), as_of], masks=(*DEFAULT_MASKS, MONTH, CITE))
    cited = [int(n) for n in CITE.findall(text)]
    if not cited:
        result.failures.append(Failure("citation", "[n]", "no source cited"))
    result.failures += [Failure("citation", sentence.strip()[:60], "a statement without a source: cite it or leave "
                                "it out") for sentence in SENTENCE.findall(text)
                        if len(sentence.split()) > MIN_STATEMENT_WORDS and not CITE.search(sentence)]
    result.failures += [Failure("citation", f"[{n}]", "there is no such source") for n in cited
                        if not 1 <= n <= len(evidence)]
    result.failures += [Failure("number", point, "the answer leaves this out; state it as the source writes it")
                        for point in left_out(text, evidence[0], language)] if evidence else []
    result.failures += [Failure("forbidden", a, "an account the reader may not see")
                        for a in resolve.ACCOUNT_ID.findall(text) if not access.can_see_account(principal, a.upper())]
    return result + verify_register(CITE.sub("", text), language)  # a source marker is no placeholder


def answer(state: ChatState, runtime: Runtime[ChatContext]) -> Command[Literal["finish"]]:
    """The model phrases the answer from the numbered sources (streamed); code checks it; one retry with the
    failures shown; else the template answer, flagged."""
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
    sources = "\n".join(f"[{n}] {e.text(language)}" for n, e in enumerate(evidence, start=1))
    messages: list[Any] = [SystemMessage(content=prompts.ANSWER_SYSTEM[language]),
                           HumanMessage(content=prompts.ANSWER_USER.format(
                               question=state["question"], as_of=ctx.as_of.isoformat(), sources=sources))]
    failures: list[str] = []
    for attempt in range(2):
        _emit("attempt", n=attempt + 1)
        try:
            reply = gateway.stream(messages, purpose="chat")
            text = ""
            for chunk in reply:
                text += chunk
                _emit("token", text=chunk)
        except Exception as exc:  # an endpoint down after the gateway's retries: the template answers
            failures = [f"LLM unavailable: {type(exc).__name__}: {exc}"[:300]]
            break
        text = cite_by_figures(text.strip(), evidence, language)
        check = check_answer(text, evidence, language, ctx.principal, ctx.as_of)
        if check.ok:
            return _done(Answer(text=text, source="llm", **base))
        failures = [str(f) for f in check.failures]
        _emit("rejected", failures=failures)
        messages += [AIMessage(content=text or "(empty)"),
                     HumanMessage(content=prompts.RETRY.format(failures=check.feedback(),
                                                               language="German" if language == "de" else "English"))]
    return _done(Answer(text=template, source="fallback", failures=failures, **base))


def _done(result: Answer) -> Command[Literal["finish"]]:
    return Command(goto="finish", update={"answer": result.model_dump()})


def finish(state: ChatState) -> dict[str, Any]:
    """The turn joins the thread (question, answer, sources, steps)."""
    result = Answer.model_validate(state["answer"])
    turn = Turn(question=state["question"], answer=result, asked_at=datetime.now(UTC))
    _emit("answer", **result.model_dump(mode="json"))
    return {"turns": [turn.model_dump(mode="json")]}
