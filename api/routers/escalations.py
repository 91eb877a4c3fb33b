"""Escalations: the current rule breaches that call for a mail (with their drafts), drafting one, a person's
decision on a draft (approve, edit, reject), the approved mail as ``.eml``. The service never sends mail."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel

from agents.escalation_drafter import service
from agents.escalation_drafter.schemas import Decision, Trigger
from api.deps import (
    AccountFilterDep,
    AsOfDep,
    CheckpointerDep,
    OptionalLlmGatewayDep,
    PrincipalDep,
    SessionDep,
    SettingsDep,
)
from core.db import models
from knowledge.clauses import ClauseRef

router = APIRouter(tags=["escalations"])


class TriggerItem(BaseModel):
    trigger: Trigger
    drafts: dict[str, str]  # audience → draft id


class DraftEventOut(BaseModel):
    at: datetime
    actor: str
    action: str
    detail: dict[str, Any]
    model: str | None
    prompt_version: str | None


class DraftOut(BaseModel):
    id: str
    trigger_key: str
    audience: str
    account_id: str
    kind: str
    status: str
    recipient: str
    subject: str
    body: str
    explanation: str | None  # the rule module's finding with its figures
    proposed_dates: list[date] = []
    clauses: list[ClauseRef] = []  # the contract clauses behind the breach, from the knowledge store
    prose_source: str | None
    fallback_reason: str | None
    personal_sentence: str | None = None
    model: str | None = None
    prompt_version: str | None = None
    failures: list[str] = []  # an edit that did not pass: the draft stays in review with its last checked text
    created_by: str
    decided_by: str | None
    decided_at: datetime | None
    events: list[DraftEventOut] = []


class DraftRequest(BaseModel):
    audience: Literal["customer", "internal"] = "customer"


def _out(row: models.MailDraft, events: list[models.DraftEvent] | None = None,
         failures: list[str] | None = None) -> DraftOut:
    content = json.loads(row.content or "{}")
    return DraftOut(
        id=row.id, trigger_key=row.trigger_key, audience=row.audience, account_id=row.account_id, kind=row.kind,
        status=row.status, recipient=row.recipient, subject=row.subject, body=row.body,
        explanation=content.get("trigger", {}).get("explanation"), proposed_dates=content.get("dates", []),
        clauses=content.get("clauses", []),
        prose_source=content.get("prose_source"), fallback_reason=content.get("fallback_reason"),
        personal_sentence=content.get("personal_sentence"), model=content.get("model"),
        prompt_version=content.get("prompt_version"),
        failures=failures or [], created_by=row.created_by, decided_by=row.decided_by, decided_at=row.decided_at,
        events=[DraftEventOut(at=e.at, actor=e.actor, action=e.action, detail=json.loads(e.detail), model=e.model,
                              prompt_version=e.prompt_version) for e in events or []])


@router.get("/escalations", response_model=list[TriggerItem])
def escalations(principal: PrincipalDep, session: SessionDep, as_of: AsOfDep,
                account_id: AccountFilterDep = None) -> list[TriggerItem]:
    """The current triggers of the caller's accounts, each with the drafts made for it."""
    return [TriggerItem(trigger=s.trigger, drafts=s.drafts)
            for s in service.current_triggers(session, principal, as_of, account_id)]


@router.post("/escalations/{trigger_key}/draft", response_model=DraftOut)
def draft(trigger_key: str, request: DraftRequest, principal: PrincipalDep, settings: SettingsDep,
          checkpointer: CheckpointerDep, gateway: OptionalLlmGatewayDep, as_of: AsOfDep,
          llm: Annotated[bool, Query(description="let the model add its checked sentence")] = True) -> DraftOut:
    """Draft the mail for a current trigger; it waits for a person's decision. Drafting a trigger again
    returns its existing draft."""
    row = service.start_draft(settings, checkpointer, principal, trigger_key, audience=request.audience, as_of=as_of,
                              gateway=gateway if llm else None, llm_mode=settings.escalation_llm_mode)
    return _out(row)


@router.get("/drafts", response_model=list[DraftOut])
def drafts(principal: PrincipalDep, session: SessionDep,
           status: Annotated[Literal["in_review", "approved", "rejected"] | None, Query()] = None) -> list[DraftOut]:
    return [_out(row) for row in service.list_drafts(session, principal, status=status)]


@router.get("/drafts/{draft_id}.eml", response_class=Response, response_model=None,
            responses={200: {"content": {"message/rfc822": {}}}})
def draft_eml(draft_id: str, principal: PrincipalDep, session: SessionDep) -> Response:
    """The approved mail for the KAM's mail client (409 until it is approved)."""
    row = service.get_draft(session, principal, draft_id)
    return Response(service.eml(row), media_type="message/rfc822",
                    headers={"Content-Disposition": f'attachment; filename="{draft_id}.eml"'})


@router.get("/drafts/{draft_id}", response_model=DraftOut)
def get_draft(draft_id: str, principal: PrincipalDep, session: SessionDep) -> DraftOut:
    row = service.get_draft(session, principal, draft_id)
    return _out(row, service.events(session, draft_id))


@router.post("/drafts/{draft_id}/decision", response_model=DraftOut)
def decide(draft_id: str, decision: Decision, principal: PrincipalDep, settings: SettingsDep,
           checkpointer: CheckpointerDep, session: SessionDep, as_of: AsOfDep) -> DraftOut:
    """Approve, edit (checked again: a failing edit is refused with the failures and the draft stays in
    review) or reject with a reason. Logged with who and when."""
    row, failures = service.decide(settings, checkpointer, principal, draft_id, decision, as_of=as_of)
    return _out(row, service.events(session, draft_id), failures)


@router.post("/escalations/records/{escalation_id}/close", response_model=dict[str, str])
def close(escalation_id: str, principal: PrincipalDep, session: SessionDep, as_of: AsOfDep,
          on: Annotated[date | None, Query(alias="date")] = None) -> dict[str, str]:
    """Close a recorded escalation (the 14-day KPI runs from opened to closed)."""
    row = service.close_escalation(session, principal, escalation_id, on or as_of)
    return {"id": row.id, "closed_on": str(row.closed_on)}
