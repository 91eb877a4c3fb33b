"""The drafting steps: prepare (recipient, sender, dates, notes, the internal figures to keep out — all by
code) → write (the template, plus the model's checked sentence or mail) → store (in review) → review (the
``interrupt``: a person approves, edits or rejects) → apply (an edit is checked again; nothing is sent)."""

from __future__ import annotations

import json
import re
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any, Literal

from langchain_core.messages import HumanMessage, SystemMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from sqlalchemy import select

from agents.escalation_drafter import prompts, texts
from agents.escalation_drafter.schemas import (
    Audience,
    Decision,
    Mail,
    Recipient,
    ReviewRequest,
    Trigger,
)
from agents.escalation_drafter.state import DraftContext, DraftState
from core import access, audit, claims
from core.db import models as m
from core.db.repository import short_names
from core.db.session import session_scope
from core.errors import InvalidInput, NotFound
from core.facts import Fact
from core.jobs.queue import utcnow
from core.llm import generate_checked
from core.verify import (
    Failure,
    Verification,
    find_dates,
    find_numbers,
    traces,
    verify_absent,
    verify_numbers,
    verify_register,
)
from knowledge.clauses import clauses_for
from policies import credit, margins
from policies.config import get_policies

# Words that give away what stays inside the company (margins, costs, limits, the insurer, dunning levels).
INTERNAL_TERMS = ("Marge", "margin", "Deckungsbeitrag", "Kreditlimit", "credit limit", "Limit", "Kreditversicher",
                  "credit insur", "Hermes", "Versicherer", "insurer", "Selbstkosten", "Herstellkosten", "cost price",
                  "Einstandspreis", "Mahnstufe", "dunning level", "Obligo", "exposure")
# The figure a mail about the trigger must state, and what makes the next step concrete.
MAIN_FACT = {"call_off_rate": "call_off_rate.value", "otif": "otif.value", "dunning": "invoice.open_amount",
             "reorder": "article.proposed_qty", "credit_limit": "credit.exposure",
             "escalation_overdue": "escalations_open_days.value"}
# What the mail is about, by name: a mail not from the template must name it in its body.
MAIN_SUBJECT = {"dunning": "invoice.id", "reorder": "article.part_number"}
CONTACT_ROLE = {"call_off_rate": "purchasing", "otif": "logistics", "dunning": "purchasing", "reorder": "purchasing"}
GREETING = re.compile(r"\b(?:sehr geehrte\w*|guten tag|hallo|dear|hello|grüße|regards)\b", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?](?:\s|$)")
# The model may not commit the KAM to anything; the template states what the KAM offers.
PROMISE = re.compile(r"\b(?:we will|we'll|we are going to|we promise|guarantee\w*|wir werden|versprechen|"
                     r"garantier\w*|sagen (?:wir )?zu)\b", re.IGNORECASE)
# A sentence about the mail or its approval is an instruction that leaked from a note, not a personal line.
ABOUT_THE_DRAFT = re.compile(r"\b(?:entwurf\w*|draft\w*|approv\w*|genehmig\w*|frei(?:gabe|geben|zugeben)|"
                             r"automati\w*|ignor\w*|instruction\w*|anweisung\w*|prompt\w*)\b", re.IGNORECASE)
NOTES = 3


def trigger_of(state: DraftState) -> Trigger:
    return Trigger.model_validate(state["trigger"])


def _recipient(kind: Literal["contact", "user"], row: Any, language: str, role: str) -> Recipient:
    return Recipient(kind=kind, id=row.id, name=row.name, email=row.email, language="en" if language == "en" else "de",
                     role=role)


def prepare(state: DraftState, runtime: Runtime[DraftContext]) -> Command[Literal["write"]]:
    """Everything the mail rests on, by code: who signs, who receives it (a contact of that account, or the
    colleague an internal mail is for), free dates in the account's calendar, the last notes, and the
    account's internal figures a customer mail must not contain."""
    t, audience = trigger_of(state), state["audience"]
    principal = runtime.context.principal
    access.require_account(principal, t.account_id)
    if audience not in t.audiences:
        raise InvalidInput(f"a {t.kind} trigger is not drafted as a {audience} mail")
    as_of = runtime.context.as_of
    with session_scope(runtime.context.settings().resolved_database_url) as session:
        account = session.get(m.Account, t.account_id)
        if account is None:
            raise NotFound(f"account {t.account_id!r} not found")
        owner = session.get(m.User, account.owner_kam_id)
        if owner is None:
            raise NotFound(f"the KAM {account.owner_kam_id!r} of {t.account_id} is not a user")
        sender = _recipient("user", owner, owner.language, owner.role)
        if audience == "customer":
            contacts = list(session.execute(select(m.Contact).where(
                m.Contact.account_id == t.account_id, m.Contact.is_relevant.is_(True))
                .order_by(m.Contact.id)).scalars())
            if not contacts:
                raise InvalidInput(f"account {t.account_id} has no contact to write to")
            wanted = CONTACT_ROLE.get(t.kind)
            first_by_role = {c.role: c for c in reversed(contacts)}
            contact = first_by_role.get(wanted or "", contacts[0])
            recipient = _recipient("contact", contact, contact.language, contact.role)
        else:
            partner = t.kind in ("dunning", "reorder") and account.inside_sales_id
            to_role = "inside_sales" if partner else "head_of_sales"
            user = (session.get(m.User, account.inside_sales_id) if to_role == "inside_sales"
                    else access.escalation_manager(session))
            if user is None:
                raise InvalidInput(f"no {to_role} user to send an internal mail about {t.account_id} to")
            recipient = _recipient("user", user, user.language, user.role)
        busy = list(session.execute(select(m.Meeting.planned_date).where(
            m.Meeting.account_id == t.account_id, m.Meeting.planned_date >= as_of)).scalars())
        notes = [n for n in session.execute(select(m.Interaction.note).where(
            m.Interaction.account_id == t.account_id, m.Interaction.interaction_date <= as_of)
            .order_by(m.Interaction.interaction_date.desc(), m.Interaction.id.desc()).limit(NOTES)).scalars() if n]
        policy = get_policies()
        position = credit.credit_position(session, t.account_id, as_of=as_of, policy=policy.credit)
        margin = margins.account_level_margins(session, period=None, as_of=as_of, account_ids=[t.account_id],
                                               policy=policy.margins).get(t.account_id)
    internal = [f for f in position.facts() if f.unit in ("currency", "ratio") and f.value]
    if margin is not None and margin.value is not None:
        internal.append(Fact("margin.value", margin.value, "ratio", "policies.margins"))
    dates = texts.proposed_dates(as_of, busy)
    # the contract clauses behind the breach, for the reviewer (keywords: no embedding model to load)
    clauses = clauses_for(runtime.context.settings(), runtime.context.principal, t.account_id, t.kind, mode="bm25")
    return Command(goto="write", update={
        "as_of": as_of.isoformat(), "clauses": [c.model_dump() for c in clauses],
        "sender": sender.model_dump(), "recipient": recipient.model_dump(), "currency": account.currency,
        "dates": [d.isoformat() for d in dates], "notes": notes,
        "internal": [{"id": f.id, "value": f.value, "unit": f.unit} for f in internal]})


def _context(state: DraftState) -> tuple[Trigger, Audience, Recipient, Recipient, list[date]]:
    return (trigger_of(state), state["audience"], Recipient.model_validate(state["sender"]),  # type: ignore[return-value]
            Recipient.model_validate(state["recipient"]), [date.fromisoformat(d) for d in state["dates"]])


def _internal_facts(state: DraftState) -> list[Fact]:
    return [Fact(f["id"], f["value"], f["unit"], "internal") for f in state.get("internal", [])]


JUDGED = {"call_off_rate": "call_off_rate", "otif": "otif", "escalation_overdue": "escalations_open_days",
          "credit_limit": "credit_utilisation"}  # the trigger kinds that judge a KPI against its threshold


def claim_context(state: DraftState) -> claims.ClaimContext:
    """What the model's mail or sentence may claim: the trigger's facts (and its judgement), the proposed
    dates, the sender and recipient, and the latest notes (which alone can support a cause or an event).
    Mail text carries no markers: each sentence is bound by what it names."""
    t, audience, sender, recipient, dates = _context(state)
    allowed = texts.facts_for(t, dates, audience)
    assessments: tuple[claims.Assessment, ...] = ()
    if (metric := JUDGED.get(t.kind)) is not None:
        value, threshold = t.value(f"{metric}.value"), t.value(f"{metric}.threshold")
        if metric == "credit_utilisation":
            threshold = 1.0
        assessments = (claims.Assessment(metric, value, threshold, "breach", t.direction),)
    trigger = claims.Source("trigger", "computed", t.account_id, t.explanation, tuple(allowed), assessments,
                            names=(t.account_name, sender.name, recipient.name))
    notes = [claims.Source(f"note:{n}", "note", t.account_id, note, tuple(claims.text_facts(f"note:{n}", note)))
             for n, note in enumerate(state.get("notes", []))]
    return claims.ClaimContext(sources=[trigger, *notes], language=recipient.language, as_of=_as_of(state, dates),
                               marked=False, default_account=t.account_id, statements_need_support=False,
                               account_names={t.account_id: short_names(t.account_name)})


def _as_of(state: DraftState, dates: list[date]) -> date:
    """The run's as-of date (a draft stored before it was kept: the day before its first proposed date)."""
    return date.fromisoformat(state["as_of"]) if state.get("as_of") else dates[0] - timedelta(days=1)


def check_mail(mail: Mail, state: DraftState, *, whole: bool, model: bool = True) -> Verification:
    """The model's mail: every sentence's claims against the trigger (core.claims); a person's edit: every
    figure and date traced to the trigger's facts. Both: the recipient's language, formal, no placeholder; to a
    customer no internal figure or word; a mail not from the template (``whole``) must still state the
    trigger's main figure, name what it is about and propose a date."""
    t, audience, _sender, recipient, dates = _context(state)
    allowed = texts.facts_for(t, dates, audience)
    text = f"{mail.subject}\n{mail.body}"
    checked = (claims.check_text(text, claim_context(state)).verification() if model
               else verify_numbers(text, allowed))
    result = checked + verify_register(mail.body, recipient.language)
    if audience == "customer":
        result += verify_absent(text, _internal_facts(state), terms=INTERNAL_TERMS, allowed=allowed)
    if whole:
        numbers = find_numbers(text)
        main = next((f.as_fact() for f in t.facts if f.id == MAIN_FACT[t.kind]), None)
        if main is not None and not any(traces(n, [main]) for n in numbers):
            result.failures.append(Failure("number", MAIN_FACT[t.kind], "the mail does not state it"))
        named = t.value(MAIN_SUBJECT.get(t.kind, ""))
        if named and str(named) not in mail.body:
            result.failures.append(Failure("quote", str(named), "the body does not name what the mail is about"))
        date_facts = [f for f in allowed if f.id.startswith("proposed_date:")]
        if not any(d in {f.value for f in date_facts} for _text, _at, d in find_dates(text)):
            result.failures.append(Failure("date", "next step", "no proposed date: a mail needs a concrete next step"))
    return result


def first_sentence(text: str) -> str:
    """The answer's first sentence: small models add a second one however they are asked; only one is used."""
    text = text.strip()
    end = SENTENCE_END.search(text)
    return text[:end.end()].strip() if end else text


def check_sentence(sentence: str, state: DraftState) -> Verification:
    """The model's one sentence: no figure, one sentence, no greeting, the recipient's language and register,
    nothing internal, no promise; what it claims supported by a note, and it takes up a topic of the notes."""
    _t, audience, _sender, recipient, _dates = _context(state)
    result = claims.check_text(sentence, claim_context(state)).verification()
    result += verify_numbers(sentence, []) + verify_register(sentence, recipient.language, max_chars=240)
    if audience == "customer":
        result += verify_absent(sentence, terms=INTERNAL_TERMS)
    if promise := PROMISE.search(sentence):
        result.failures.append(Failure("forbidden", promise.group(0), "a promise: the sentence may not commit the "
                                                                      "KAM to anything"))
    if meta := ABOUT_THE_DRAFT.search(sentence):
        result.failures.append(Failure("forbidden", meta.group(0), "about the mail or its approval: not a personal "
                                                                   "sentence"))
    if greeting := GREETING.search(sentence):
        result.failures.append(Failure("language", greeting.group(0), "a greeting or sign-off; the template has them"))
    if not grounded(sentence, state.get("notes", [])):
        result.failures.append(Failure("quote", sentence[:60], "takes up no topic of the notes"))
    return result


# A personal sentence takes up a topic of one note: this share of its content words occur in it (the same
# measure as the claim checker's support, a lower bar: the sentence refers to the note, it need not restate it).
TOPIC_SUPPORT = 0.3


def grounded(sentence: str, notes: list[str]) -> bool:
    """Does the sentence take up a topic of one of the notes?"""
    return any(claims.support(sentence, note)[0] >= TOPIC_SUPPORT for note in notes)


def write(state: DraftState, runtime: Runtime[DraftContext]) -> Command[Literal["store"]]:
    """The template mail; the model adds its checked sentence (or writes the whole mail in ``mail`` mode).
    What fails the checks twice is dropped: the template stands, flagged with the reason."""
    t, audience, sender, recipient, dates = _context(state)
    template = texts.mail(t, audience, sender, recipient, dates, state["currency"])
    gateway = runtime.context.llm_gateway()
    sentence_wanted = (audience == "customer"  # an internal mail is the facts; a personal line adds nothing
                       and recipient.language in runtime.context.settings().escalation_sentence_languages)
    if gateway is None or (runtime.context.llm_mode == "sentence" and not sentence_wanted):
        return Command(goto="store", update={"mail": template.model_dump(), "prose_source": "template"})
    usage: list[dict[str, Any]]
    if runtime.context.llm_mode == "mail":
        system, human = prompts.mail_messages(t, audience, sender, recipient, dates, state["currency"],
                                              state.get("notes", []))
        checked = generate_checked(gateway, [SystemMessage(content=system), HumanMessage(content=human)],
                                   check=lambda x: check_mail(x, state, whole=True), fallback=lambda: template,
                                   schema=Mail, purpose="drafting")
        usage = [asdict(c) for c in checked.calls]
        return Command(goto="store", update={
            "mail": checked.value.model_dump(), "prose_source": checked.source, "usage": usage,
            "check_record": checked.record(), "fallback_reason": "; ".join(checked.failures)[:500] or None})
    system, human = prompts.sentence_messages(recipient.language, state.get("notes", []))
    answer = generate_checked(gateway, [SystemMessage(content=system), HumanMessage(content=human)],
                              check=lambda x: check_sentence(first_sentence(x.sentence), state),
                              fallback=lambda: None, schema=prompts.PersonalSentence, purpose="drafting")
    usage = [asdict(c) for c in answer.calls]
    if answer.source != "llm":
        return Command(goto="store", update={"mail": template.model_dump(), "prose_source": "fallback",
                                             "usage": usage, "check_record": answer.record(),
                                             "fallback_reason": "; ".join(answer.failures)[:500]})
    assert answer.value is not None  # the checked answer
    personal = first_sentence(answer.value.sentence)
    mail = texts.mail(t, audience, sender, recipient, dates, state["currency"], personal=personal)
    return Command(goto="store", update={"mail": mail.model_dump(), "prose_source": "llm", "check_record":
                                         answer.record(), "personal_sentence": personal, "usage": usage})


def _log(session: Any, draft_id: str, actor: str, action: str, detail: dict[str, Any], model: str | None = None,
         prompt_version: str | None = None) -> None:
    text = json.dumps(detail, ensure_ascii=False, default=str)
    session.add(m.DraftEvent(draft_id=draft_id, at=utcnow(), actor=actor, action=action, detail=text, model=model,
                             prompt_version=prompt_version))
    audit.record(session, actor=actor, action=f"draft_{action}", subject=f"draft:{draft_id}", model=model,
                 prompt_version=prompt_version, input_sha256=audit.input_hash(text), detail=detail)


def _new_row(session: Any, state: DraftState, principal: access.Principal) -> m.MailDraft:
    """The draft's row when the run was started outside the service (LangGraph Server): keyed by the run's
    own thread, so the decision goes back through the same server."""
    t = trigger_of(state)
    drafted = session.execute(select(m.MailDraft.id).where(m.MailDraft.trigger_key == t.key,
                                                           m.MailDraft.audience == state["audience"])).scalar()
    if drafted is not None:
        raise InvalidInput(f"{t.key} is already drafted for the {state['audience']} as draft {drafted}")
    row = m.MailDraft(id=state["draft_id"], trigger_key=t.key, audience=state["audience"], account_id=t.account_id,
                      kind=t.kind, status="drafting", language=state["recipient"]["language"], recipient="",
                      subject="", body="", content="{}", thread_id=str(get_config()["configurable"]["thread_id"]),
                      created_by=principal.user_id, created_at=utcnow())
    session.add(row)
    session.flush()  # before its log entry, which refers to it
    return row


def store(state: DraftState, runtime: Runtime[DraftContext]) -> Command[Literal["review"]]:
    """The draft is in review: its text, how it was written and what it rests on, logged once."""
    usage = state.get("usage", [])
    gateway = runtime.context.llm_gateway()
    model = gateway.model_name if gateway is not None and usage else None
    mail = Mail.model_validate(state["mail"])
    content = {"trigger": state["trigger"], "sender": state["sender"], "recipient": state["recipient"],
               "dates": state["dates"], "clauses": state.get("clauses", []),
               "prose_source": state.get("prose_source", "template"),
               "fallback_reason": state.get("fallback_reason"), "personal_sentence": state.get("personal_sentence"),
               "check_record": state.get("check_record", []),
               "model": model, "prompt_version": prompts.PROMPT_VERSION,
               "llm_calls": len(usage), "prompt_tokens": sum(u["prompt_tokens"] for u in usage),
               "completion_tokens": sum(u["completion_tokens"] for u in usage)}
    with session_scope(runtime.context.settings().resolved_database_url) as session:
        row = session.get(m.MailDraft, state["draft_id"]) or _new_row(session, state, runtime.context.principal)
        if row.status == "drafting":  # a resumed run does not log twice
            row.status, row.subject, row.body = "in_review", mail.subject, mail.body
            row.recipient, row.language = state["recipient"]["email"], state["recipient"]["language"]
            row.content = json.dumps(content, ensure_ascii=False)
            _log(session, row.id, runtime.context.principal.user_id, "drafted",
                 {"subject": mail.subject, "body": mail.body, "prose_source": content["prose_source"],
                  "fallback_reason": content["fallback_reason"]}, model, prompts.PROMPT_VERSION)
    return Command(goto="review", update={"status": "in_review"})


def review(state: DraftState) -> Command[Literal["apply"]]:
    """Wait for a person. Only the interrupt is here: this node runs again when the decision arrives."""
    mail = Mail.model_validate(state["mail"])
    request = ReviewRequest(draft_id=state["draft_id"], subject=mail.subject, body=mail.body,
                            recipient=state["recipient"]["email"], failures=state.get("failures", []))
    decision = interrupt(request.model_dump())
    return Command(goto="apply", update={"decision": Decision.model_validate(decision).model_dump()})


ESCALATION_KINDS = ("call_off_rate", "otif")  # an approved customer mail about these opens a recorded escalation


def apply(state: DraftState, runtime: Runtime[DraftContext]) -> Command[Literal["review", "__end__"]]:
    """Approve (the text as it stands), edit (checked again; a failing edit goes back to the reviewer with
    the failures, the last checked text unchanged) or reject with a reason. Every decision is logged."""
    decision = Decision.model_validate(state["decision"])
    actor = runtime.context.principal.user_id
    current = Mail.model_validate(state["mail"])
    with session_scope(runtime.context.settings().resolved_database_url) as session:
        row = session.get(m.MailDraft, state["draft_id"])
        if row is None:
            raise NotFound(f"draft {state['draft_id']!r} not found")
        if decision.action == "reject":
            row.status, row.decided_by, row.decided_at = "rejected", actor, utcnow()
            _log(session, row.id, actor, "rejected", {"reason": decision.reason})
            return Command(goto="__end__", update={"status": "rejected"})
        mail = current
        if decision.action == "edit":
            mail = Mail(subject=decision.subject or current.subject, body=decision.body or current.body)
            result = check_mail(mail, state, whole=True, model=False)  # a person's text: figures and dates
            if not result.ok:
                failures = [str(f) for f in result.failures]
                _log(session, row.id, actor, "refused", {"subject": mail.subject, "body": mail.body,
                                                          "failures": failures})
                return Command(goto="review", update={"failures": failures})
            _log(session, row.id, actor, "edited", {"subject": mail.subject, "body": mail.body})
        row.status, row.subject, row.body = "approved", mail.subject, mail.body
        row.decided_by, row.decided_at = actor, utcnow()
        _log(session, row.id, actor, "approved", {"subject": mail.subject})
        t = trigger_of(state)
        if state["audience"] == "customer" and t.kind in ESCALATION_KINDS:
            escalation_id = f"ESC-{row.id[:8]}"
            if session.get(m.Escalation, escalation_id) is None:
                session.add(m.Escalation(id=escalation_id, account_id=t.account_id, opened_on=runtime.context.as_of,
                                         closed_on=None, cause=f"{t.kind}: {t.explanation}"[:500], documented=True))
    return Command(goto="__end__", update={"status": "approved", "mail": mail.model_dump(), "failures": []})
