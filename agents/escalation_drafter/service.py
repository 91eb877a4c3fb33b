"""Drafts as records: scan for triggers, draft one (idempotent per trigger and audience), decide on it
(resuming the graph at its interrupt, in any process), read drafts and their log, export an approved one
as ``.eml``. Nothing here sends mail."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.escalation_drafter.graph import builder
from agents.escalation_drafter.schemas import Audience, Decision, Trigger
from agents.escalation_drafter.state import DraftContext, LlmMode
from agents.escalation_drafter.triggers import scan
from agents.runner import run_graph
from core import access, audit
from core.access import Principal
from core.db import models as m
from core.db.session import session_scope
from core.errors import Conflict, InvalidInput, NotFound
from core.jobs.queue import utcnow
from core.llm import LlmGateway
from core.settings import Settings


@dataclass(frozen=True)
class TriggerStatus:
    trigger: Trigger
    drafts: dict[str, str]  # audience → draft id


def thread_id(draft_id: str) -> str:
    return f"draft:{draft_id}"


def current_triggers(session: Session, principal: Principal, as_of: date,
                     account_id: str | None = None) -> list[TriggerStatus]:
    """The triggers of the accounts the principal sees (or of one), each with the drafts already made for it."""
    access.require(principal, "rules")
    scope = access.narrow_accounts(principal, account_id)
    triggers = scan(session, as_of=as_of, account_ids=scope)
    drafted: dict[str, dict[str, str]] = {}
    if triggers:
        for row in session.execute(select(m.MailDraft.trigger_key, m.MailDraft.audience, m.MailDraft.id).where(
                m.MailDraft.trigger_key.in_([t.key for t in triggers]))):
            drafted.setdefault(row[0], {})[row[1]] = row[2]
    return [TriggerStatus(t, drafted.get(t.key, {})) for t in triggers]


def find_trigger(session: Session, principal: Principal, key: str, as_of: date) -> Trigger:
    parts = key.split(":")
    if len(parts) < 3:
        raise InvalidInput(f"{key!r} is not a trigger key (kind:account:subject)")
    access.require(principal, "rules")
    access.require_account(principal, parts[1])
    for t in scan(session, as_of=as_of, account_ids=[parts[1]]):
        if t.key == key:
            return t
    raise NotFound(f"no current trigger {key!r} on {as_of} (the rule is no longer breached, or the key is wrong)")


def _compiled(checkpointer: BaseCheckpointSaver[Any]) -> Any:
    return builder.compile(checkpointer=checkpointer)


def _context(settings: Settings, principal: Principal, as_of: date, gateway: LlmGateway | None,
             llm_mode: LlmMode) -> DraftContext:
    return DraftContext(principal=principal, as_of=as_of, gateway=gateway, llm_mode=llm_mode,
                        database_url=settings.resolved_database_url, data_dir=str(settings.data_dir))


def start_draft(settings: Settings, checkpointer: BaseCheckpointSaver[Any], principal: Principal, key: str, *,
                audience: Audience, as_of: date, gateway: LlmGateway | None = None,
                llm_mode: LlmMode = "sentence") -> m.MailDraft:
    """Draft the mail for a current trigger and stop at the review. A trigger already drafted for that
    audience is not drafted again: its draft comes back (a draft interrupted part-way is resumed)."""
    with session_scope(settings.resolved_database_url) as session:
        trigger = find_trigger(session, principal, key, as_of)
        if audience not in trigger.audiences:
            raise InvalidInput(f"a {trigger.kind} trigger is drafted as {' or '.join(trigger.audiences)} mail only")
        if audience == "internal" or trigger.kind == "dunning":
            access.require(principal, "finance")
        existing = session.execute(select(m.MailDraft).where(
            m.MailDraft.trigger_key == key, m.MailDraft.audience == audience)).scalar_one_or_none()
        if existing is None:
            draft_id = str(uuid.uuid4())
            session.add(m.MailDraft(
                id=draft_id, trigger_key=key, audience=audience, account_id=trigger.account_id, kind=trigger.kind,
                status="drafting", language="de", recipient="", subject="", body="",
                content=json.dumps({"trigger": trigger.model_dump(mode="json")}), thread_id=thread_id(draft_id),
                created_by=principal.user_id, created_at=utcnow()))
            try:
                session.flush()
            except IntegrityError:  # drafted by someone else a moment ago
                session.rollback()
                return _by_key(settings, key, audience)
        else:
            draft_id = existing.id
            if existing.status != "drafting":
                session.expunge(existing)
                return existing
    run_graph(_compiled(checkpointer), thread_id(draft_id),
              {"draft_id": draft_id, "trigger": trigger.model_dump(mode="json"), "audience": audience},
              _context(settings, principal, as_of, gateway, llm_mode))
    return _by_id(settings, draft_id)


def _by_key(settings: Settings, key: str, audience: str) -> m.MailDraft:
    with session_scope(settings.resolved_database_url) as session:
        row = session.execute(select(m.MailDraft).where(m.MailDraft.trigger_key == key,
                                                        m.MailDraft.audience == audience)).scalar_one()
        session.expunge(row)
        return row


def _by_id(settings: Settings, draft_id: str) -> m.MailDraft:
    with session_scope(settings.resolved_database_url) as session:
        row = session.get(m.MailDraft, draft_id)
        if row is None:
            raise NotFound(f"draft {draft_id!r} not found")
        session.expunge(row)
        return row


def get_draft(session: Session, principal: Principal, draft_id: str) -> m.MailDraft:
    """A draft carries the breach's figures: the roles that see KPIs and rules read it, for visible accounts."""
    access.require(principal, "rules")
    row = session.get(m.MailDraft, draft_id)
    if row is None or not access.can_see_account(principal, row.account_id):
        raise NotFound(f"draft {draft_id!r} not found")
    return row


def list_drafts(session: Session, principal: Principal, *, status: str | None = None,
                limit: int = 200) -> list[m.MailDraft]:
    access.require(principal, "rules")
    query = select(m.MailDraft)
    if principal.account_ids is not None:
        query = query.where(m.MailDraft.account_id.in_(sorted(principal.account_ids)))
    if status is not None:
        query = query.where(m.MailDraft.status == status)
    return list(session.execute(query.order_by(m.MailDraft.created_at.desc()).limit(limit)).scalars())


def events(session: Session, draft_id: str) -> list[m.DraftEvent]:
    return list(session.execute(select(m.DraftEvent).where(m.DraftEvent.draft_id == draft_id)
                                .order_by(m.DraftEvent.id)).scalars())


def decide(settings: Settings, checkpointer: BaseCheckpointSaver[Any], principal: Principal, draft_id: str,
           decision: Decision, *, as_of: date) -> tuple[m.MailDraft, list[str]]:
    """Resume the draft's graph with a person's decision; (the draft, the failures of an edit that did not
    pass — the draft then stays in review)."""
    with session_scope(settings.resolved_database_url) as session:
        row = get_draft(session, principal, draft_id)
        if row.audience == "internal" or row.kind == "dunning":
            access.require(principal, "finance")
        if row.status != "in_review":
            raise Conflict(f"draft {draft_id} is {row.status}; only a draft in review can be decided")
    result = run_graph(_compiled(checkpointer), thread_id(draft_id), None,
                       _context(settings, principal, as_of, None, "sentence"), resume=decision.model_dump())
    failures = list(result.values.get("failures", [])) if result.status == "interrupted" else []
    return _by_id(settings, draft_id), failures


def eml(row: m.MailDraft) -> bytes:
    """The approved mail as an RFC 5322 message for the KAM's mail client (the service sends nothing)."""
    if row.status != "approved":
        raise Conflict(f"draft {row.id} is {row.status}; only an approved draft is exported")
    content = json.loads(row.content)
    sender, recipient = content["sender"], content["recipient"]
    message = EmailMessage()
    message["From"] = formataddr((sender["name"], sender["email"]))
    message["To"] = formataddr((recipient["name"], recipient["email"]))
    message["Subject"] = row.subject
    message["Date"] = format_datetime((row.decided_at or utcnow()).replace(tzinfo=UTC))
    message["Message-ID"] = make_msgid(domain=sender["email"].split("@")[-1] or "kam.local")
    message["X-Kam-Draft"] = row.id
    message.set_content(row.body)
    return bytes(message)


def close_escalation(session: Session, principal: Principal, escalation_id: str, closed_on: date) -> m.Escalation:
    """Close a recorded escalation (the 14-day KPI counts it from opened to closed)."""
    access.require(principal, "rules")
    row = session.get(m.Escalation, escalation_id)
    if row is None or not access.can_see_account(principal, row.account_id):
        raise NotFound(f"escalation {escalation_id!r} not found")
    if row.closed_on is not None:
        raise Conflict(f"escalation {escalation_id} was closed on {row.closed_on}")
    if closed_on < row.opened_on:
        raise InvalidInput(f"an escalation opened on {row.opened_on} cannot close on {closed_on}")
    row.closed_on = closed_on
    audit.record(session, actor=principal.user_id, action="escalation_closed", subject=f"escalation:{escalation_id}",
                 account_id=row.account_id, detail={"closed_on": closed_on})
    return row
