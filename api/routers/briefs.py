"""Account briefs: the latest (or a date's) brief as JSON or one HTML page, the list of a day's briefs, a
regeneration on request (a durable job), and the hand-over brief."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import HTMLResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from agents.account_brief import nodes, render, service
from agents.account_brief.schemas import Brief
from api.deps import AsOfDep, JobQueueDep, PrincipalDep, SessionDep, SettingsDep, VisibleAccountDep
from core import access

router = APIRouter(tags=["briefs"])
Lang = Annotated[Literal["de", "en"] | None, Query(description="Reader language (default: the caller's)")]


class BriefListItem(BaseModel):
    account_id: str
    brief_date: date
    language: str
    prose_source: str
    input_hash: str
    created_at: datetime


class BriefRequested(BaseModel):
    job_id: str
    account_id: str
    brief_date: date
    language: str


def _language(session: Session, principal: access.Principal, lang: str | None) -> str:
    return lang or service.language_of(session, principal)


@router.get("/accounts/{account_id}/brief", response_model=Brief)
def account_brief(account: VisibleAccountDep, principal: PrincipalDep, session: SessionDep, lang: Lang = None,
                  on: Annotated[date | None, Query(alias="date")] = None) -> Brief:
    """The latest brief of the account (or the one of ``date``) in the reader's language."""
    return service.latest(session, principal, account.id, language=_language(session, principal, lang), on=on)


@router.get("/accounts/{account_id}/brief.html", response_class=HTMLResponse, response_model=str)
def account_brief_html(account: VisibleAccountDep, principal: PrincipalDep, session: SessionDep, lang: Lang = None,
                       on: Annotated[date | None, Query(alias="date")] = None) -> HTMLResponse:
    brief = service.latest(session, principal, account.id, language=_language(session, principal, lang), on=on)
    return HTMLResponse(render.html(brief))


@router.get("/briefs", response_model=list[BriefListItem])
def briefs(principal: PrincipalDep, session: SessionDep, on: Annotated[date | None, Query(alias="date")] = None,
           limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[BriefListItem]:
    """The briefs of the caller's accounts (of one date), newest first."""
    return [BriefListItem(account_id=r.account_id, brief_date=r.brief_date, language=r.language,
                          prose_source=r.prose_source, input_hash=r.input_hash, created_at=r.created_at)
            for r in service.list_briefs(session, principal, on=on, limit=limit)]


@router.post("/accounts/{account_id}/brief", status_code=202, response_model=BriefRequested)
def regenerate(account: VisibleAccountDep, principal: PrincipalDep, session: SessionDep, queue: JobQueueDep,
               as_of: AsOfDep, lang: Lang = None,
               llm: Annotated[bool, Query(description="Let the model write the summary")] = True) -> BriefRequested:
    """Write the account's brief now, as a job (the model's summary takes a while on a small model); poll
    ``GET /jobs/{job_id}``, then read ``GET /accounts/{id}/brief``."""
    access.require(principal, "finance")
    language = _language(session, principal, lang)
    job, _ = queue.enqueue(service.JOB_KIND, {"account_id": account.id, "brief_date": as_of.isoformat(),
                                              "language": language, "use_llm": llm}, principal,
                           key=f"brief-request:{account.id}:{uuid.uuid4()}")
    return BriefRequested(job_id=job.id, account_id=account.id, brief_date=as_of, language=language)


@router.get("/accounts/{account_id}/handover", response_model=Brief)
def handover(account: VisibleAccountDep, principal: PrincipalDep, session: SessionDep, as_of: AsOfDep,
             settings: SettingsDep, lang: Lang = None) -> Brief:
    """The hand-over brief for whoever takes the account over: open items, contacts and their language,
    running escalations and re-orders, the last notes to read for commitments (from the templates, now)."""
    access.require(principal, "finance")
    language = _language(session, principal, lang)
    facts = service.gathered_one(session, account.id, as_of, settings.data_dir)
    previous = service.previous_facts(session, [account.id], as_of).get((account.id, language))
    brief = nodes.template_brief(facts, previous[1] if previous else None, language, as_of,  # type: ignore[arg-type]
                                 kind="handover")
    service.store(session, brief, principal.user_id)
    return brief
