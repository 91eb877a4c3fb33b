"""Briefs as records: run the graph for one account, store it (idempotent per account, date, kind and
language), read the latest, and the nightly run over many accounts.

The nightly run gathers every account's facts in one batch; an account whose facts hash as at its last brief
is skipped; the others get their brief at once from the templates, except those where the model's summary
pays (a meeting within the window): those go through durable jobs that run the graph with the LLM. A run that
is killed and started again skips what it stored and resumes the jobs it queued.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.account_brief import facts as gathering
from agents.account_brief.graph import builder
from agents.account_brief.schemas import Brief, BriefFacts, BriefKind
from agents.account_brief.state import BriefContext, BriefInput
from agents.runner import run_graph
from core import access, audit
from core.access import Principal
from core.db import models
from core.db.session import session_scope
from core.errors import NotFound
from core.i18n import Language
from core.jobs import JobContext, JobQueue
from core.jobs.queue import utcnow
from core.llm import LlmGateway
from core.settings import Settings
from knowledge.clauses import ClauseRef, find_clauses

JOB_KIND = "account_brief"


def thread_id(account_id: str, brief_date: date, kind: str, language: str) -> str:
    return f"brief:{account_id}:{brief_date.isoformat()}:{kind}:{language}"


def previous_facts(session: Session, account_ids: Sequence[str], before: date,
                   kind: str = "brief") -> dict[tuple[str, str], tuple[str, BriefFacts]]:
    """(account, language) → (input hash, facts) of the newest brief before ``before``."""
    return {key: (digest, BriefFacts.model_validate_json(raw))
            for key, (digest, raw) in _previous(session, account_ids, before, kind).items()}


def _previous(session: Session, account_ids: Sequence[str], before: date,
              kind: str = "brief") -> dict[tuple[str, str], tuple[str, str]]:
    """(account, language) → (input hash, facts as JSON): parsed only for the briefs that are written."""
    newest = (select(models.Brief.account_id, models.Brief.language, func.max(models.Brief.brief_date).label("d"))
              .where(models.Brief.kind == kind, models.Brief.brief_date < before,
                     models.Brief.account_id.in_(list(account_ids)))
              .group_by(models.Brief.account_id, models.Brief.language).subquery())
    rows = session.execute(select(models.Brief.account_id, models.Brief.language, models.Brief.input_hash,
                                  models.Brief.facts)
                           .join(newest, (models.Brief.account_id == newest.c.account_id)
                                 & (models.Brief.language == newest.c.language)
                                 & (models.Brief.brief_date == newest.c.d) & (models.Brief.kind == kind)))
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def store(session: Session, brief: Brief, created_by: str, *, job: JobContext | None = None) -> bool:
    """Insert the brief, or replace one of the same key whose prose is not better; False when the stored one
    is kept (a model-written brief is not replaced by a template of the same facts)."""
    if job is not None:
        job.fence(session)
    existing = session.execute(select(models.Brief).where(
        models.Brief.account_id == brief.account_id, models.Brief.brief_date == brief.brief_date,
        models.Brief.kind == brief.kind, models.Brief.language == brief.language)).scalar_one_or_none()
    if existing is not None:
        same_facts = existing.input_hash == brief.input_hash
        if same_facts and (existing.prose_source == "llm" or brief.prose_source != "llm"):
            return False
        session.delete(existing)
        session.flush()
    session.add(models.Brief(
        id=str(uuid.uuid4()), account_id=brief.account_id, brief_date=brief.brief_date, kind=brief.kind,
        language=brief.language, input_hash=brief.input_hash, facts=brief.facts.model_dump_json(),
        content=brief.model_dump_json(), prose_source=brief.prose_source, model=brief.model,
        prompt_version=brief.prompt_version, prompt_tokens=brief.prompt_tokens,
        completion_tokens=brief.completion_tokens, created_by=created_by, created_at=utcnow()))
    audit.record(session, actor=created_by, action="brief_written", subject=f"brief:{brief.account_id}:"
                 f"{brief.brief_date}:{brief.kind}:{brief.language}", account_id=brief.account_id, model=brief.model,
                 prompt_version=brief.prompt_version, input_sha256=brief.input_hash,
                 detail={"prose_source": brief.prose_source})
    return True


def run_one(settings: Settings, checkpointer: BaseCheckpointSaver[Any], principal: Principal, account_id: str, *,
            brief_date: date, language: Language, kind: BriefKind = "brief", gateway: LlmGateway | None = None,
            use_llm: bool = False, facts: BriefFacts | None = None, previous: BriefFacts | None = None,
            job: JobContext | None = None) -> Brief:
    """Run the graph for one brief (resuming its thread) and store the result."""
    if previous is None:
        with session_scope(settings.resolved_database_url) as session:
            found = previous_facts(session, [account_id], brief_date, kind)
            previous = found[(account_id, language)][1] if (account_id, language) in found else None
    inputs: BriefInput = {"account_id": account_id, "brief_date": brief_date.isoformat(), "kind": kind,
                          "language": language, "use_llm": use_llm,
                          "facts": facts.model_dump(mode="json") if facts else None,
                          "previous": previous.model_dump(mode="json") if previous else None}
    context = BriefContext(principal=principal, as_of=brief_date, gateway=gateway,
                           database_url=settings.resolved_database_url, data_dir=str(settings.data_dir))
    result = run_graph(builder.compile(checkpointer=checkpointer), thread_id(account_id, brief_date, kind, language),
                       dict(inputs), context, job=job)
    brief = Brief.model_validate(result.values["brief"])
    with session_scope(settings.resolved_database_url) as session:
        store(session, brief, principal.user_id, job=job)
    return brief


def latest(session: Session, principal: Principal, account_id: str, *, kind: str = "brief",
           language: str | None = None, on: date | None = None) -> Brief:
    """The newest stored brief of the account (on a date, in a language when given)."""
    access.require_account(principal, account_id)
    access.require(principal, "finance")
    query = select(models.Brief).where(models.Brief.account_id == account_id, models.Brief.kind == kind)
    if on is not None:
        query = query.where(models.Brief.brief_date == on)
    if language is not None:
        query = query.where(models.Brief.language == language)
    row = session.execute(query.order_by(models.Brief.brief_date.desc(), models.Brief.created_at.desc())
                          .limit(1)).scalar_one_or_none()
    if row is None:
        raise NotFound(f"no {kind} for account {account_id!r}" + (f" on {on}" if on else ""))
    return Brief.model_validate_json(row.content)


def list_briefs(session: Session, principal: Principal, *, on: date | None = None, limit: int = 200
                ) -> list[models.Brief]:
    access.require(principal, "finance")
    query = select(models.Brief).where(models.Brief.kind == "brief")
    if principal.account_ids is not None:
        query = query.where(models.Brief.account_id.in_(sorted(principal.account_ids)))
    if on is not None:
        query = query.where(models.Brief.brief_date == on)
    return list(session.execute(query.order_by(models.Brief.brief_date.desc(), models.Brief.account_id)
                                .limit(limit)).scalars())


def reader_languages(session: Session, account_ids: Sequence[str]) -> dict[str, list[Language]]:
    """Each account's brief languages: its KAM's and its inside-sales partner's (the tandem reads both)."""
    users = {u.id: u.language for u in session.execute(select(models.User)).scalars()}
    out: dict[str, list[Language]] = {}
    for account in session.execute(select(models.Account).where(models.Account.id.in_(list(account_ids)))).scalars():
        wanted = [users.get(account.owner_kam_id, "de"), users.get(account.inside_sales_id or "")]
        out[account.id] = list(dict.fromkeys(x for x in wanted if x in ("de", "en")))  # type: ignore[misc]
    return out


def language_of(session: Session, principal: Principal) -> Language:
    """The language the principal reads (the user's setting; German for operators and system runs)."""
    user = session.get(models.User, principal.user_id)
    return "en" if user is not None and user.language == "en" else "de"


def gathered_one(session: Session, account_id: str, as_of: date, data_dir: Path | None = None) -> BriefFacts:
    found = gathering.gather(session, as_of=as_of, account_ids=[account_id], data_dir=data_dir)
    if account_id not in found:
        raise NotFound(f"account {account_id!r} not found")
    return found[account_id]


# --- the nightly run ----------------------------------------------------------------------------------
@dataclass
class RunSummary:
    brief_date: date
    accounts: int = 0
    generated: int = 0  # stored from the templates now
    queued_llm: int = 0  # handed to jobs for the model's summary
    unchanged: int = 0  # facts as at the last brief: skipped
    llm: int = 0  # model summaries that passed the checks
    fallback: int = 0  # model summaries replaced by the template
    failed: dict[str, str] = field(default_factory=dict)  # job or account → reason
    handovers: int = 0
    gather_s: float = 0.0
    compose_s: float = 0.0


def plan_and_write(settings: Settings, principal: Principal, *, brief_date: date,
                   account_ids: Sequence[str] | None = None, meetings_within_days: int | None = 7,
                   llm_for_all: bool = False, force: bool = False, use_llm: bool = True,
                   queue: JobQueue | None = None, progress: Callable[[int], None] | None = None) -> RunSummary:
    """The deterministic part for every account (batched), and the jobs for the model's summaries."""
    from agents.account_brief import nodes

    summary = RunSummary(brief_date)
    started = time.perf_counter()
    with session_scope(settings.resolved_database_url) as session:
        scope = access.narrow_accounts(principal, None)
        wanted = scope if account_ids is None else [a for a in account_ids if access.can_see_account(principal, a)]
        gathered = gathering.gather(session, as_of=brief_date, account_ids=wanted, with_trends=False,
                                    data_dir=settings.data_dir)
        languages = reader_languages(session, list(gathered))
        before = _previous(session, list(gathered), brief_date)
        stored_today = {(r[0], r[1]): r[2] for r in session.execute(select(
            models.Brief.account_id, models.Brief.language, models.Brief.input_hash).where(
            models.Brief.brief_date == brief_date, models.Brief.kind == "brief",
            models.Brief.account_id.in_(list(gathered))))}
    summary.accounts = len(gathered)
    horizon = brief_date + timedelta(days=meetings_within_days) if meetings_within_days is not None else None
    planned: list[tuple[str, Language, bool, BriefFacts | None]] = []  # account, language, by the model, previous
    for number, (account_id, current) in enumerate(gathered.items(), start=1):
        digest = current.input_hash()
        readers: list[Language] = languages.get(account_id) or ["de"]
        for position, language in enumerate(readers):
            previous = before.get((account_id, language))
            if not force and (stored_today.get((account_id, language)) == digest
                              or (previous is not None and previous[0] == digest)):
                summary.unchanged += 1
                continue
            meeting_soon = bool(current.next_meeting and horizon and current.next_meeting.date <= horizon)
            by_model = use_llm and position == 0 and (llm_for_all or meeting_soon)  # the owner's language only
            planned.append((account_id, language, by_model,
                            BriefFacts.model_validate_json(previous[1]) if previous else None))
        if progress is not None:
            progress(number)
    written = sorted({account for account, *_ in planned})
    if written:
        with session_scope(settings.resolved_database_url) as session:
            series = gathering.trends(session, brief_date, written)
        for account in written:
            gathered[account] = gathered[account].model_copy(update={"trends": series.get(account, [])})
    clauses = _keyword_clauses(settings, principal, [gathered[a] for a in written if gathered[a].documents])
    summary.gather_s = time.perf_counter() - started
    compose_started = time.perf_counter()
    to_store: list[Brief] = []
    jobs: list[tuple[dict[str, Any], str]] = []
    for account_id, language, by_model, previous_facts_ in planned:
        current = gathered[account_id]
        if by_model:
            jobs.append(({"account_id": account_id, "brief_date": brief_date.isoformat(), "language": language,
                          "facts": current.model_dump(mode="json"),
                          "previous": previous_facts_.model_dump(mode="json") if previous_facts_ else None},
                         f"{thread_id(account_id, brief_date, 'brief', language)}:llm"))
            continue
        to_store.append(nodes.template_brief(current, previous_facts_, language, brief_date,
                                             clauses=clauses.get(account_id)))
        if previous_facts_ is not None and (previous_facts_.owner.id, getattr(previous_facts_.partner, "id", None)) != (
                current.owner.id, getattr(current.partner, "id", None)):
            to_store.append(nodes.template_brief(current, previous_facts_, language, brief_date, kind="handover"))
            summary.handovers += 1
    with session_scope(settings.resolved_database_url) as session:
        for brief in to_store:
            summary.generated += store(session, brief, principal.user_id) and brief.kind == "brief"
    summary.compose_s = time.perf_counter() - compose_started
    if queue is not None:
        for payload, key in jobs:
            queue.enqueue(JOB_KIND, payload, principal, key=key)
        summary.queued_llm = len(jobs)
    return summary


def _keyword_clauses(settings: Settings, principal: Principal, facts: Sequence[BriefFacts]
                     ) -> dict[str, list[ClauseRef]]:
    """The contract clauses of the template briefs, found by keywords (no embedding: milliseconds each)."""
    from agents.account_brief import nodes
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever

    if not facts:
        return {}
    try:
        retriever = get_retriever(settings)
    except Exception:  # the brief does not depend on the knowledge store
        return {}
    scope = AccessScope.for_principal(principal)
    return {f.account_id: find_clauses(retriever, scope, f.account_id, nodes.worst_finding(f), mode="bm25")
            for f in facts}


def brief_job(ctx: JobContext) -> dict[str, Any]:
    """One model-written brief of the nightly run, or one regenerated on request (no facts in the payload)."""
    services, payload = ctx.services, ctx.job.payload
    facts = BriefFacts.model_validate(payload["facts"]) if payload.get("facts") else None
    previous = BriefFacts.model_validate(payload["previous"]) if payload.get("previous") else None
    gateway = services.llm.lazy_gateway() if payload.get("use_llm", True) else None
    brief = run_one(services.settings, services.checkpointer, ctx.principal, payload["account_id"],
                    brief_date=date.fromisoformat(payload["brief_date"]), language=payload["language"],
                    kind=payload.get("kind", "brief"), gateway=gateway, use_llm=gateway is not None, facts=facts,
                    previous=previous, job=ctx)
    return {"account_id": brief.account_id, "prose_source": brief.prose_source,
            "fallback_reason": brief.fallback_reason, "prompt_tokens": brief.prompt_tokens,
            "completion_tokens": brief.completion_tokens}


def brief_failed(job: Any, services: Any) -> None:
    """A brief whose job failed for good still gets its template brief, marked as a fallback."""
    from agents.account_brief import nodes

    payload = job.payload
    if not payload.get("facts"):
        return
    brief = nodes.template_brief(BriefFacts.model_validate(payload["facts"]),
                                 BriefFacts.model_validate(payload["previous"]) if payload.get("previous") else None,
                                 payload["language"], date.fromisoformat(payload["brief_date"]))
    brief = brief.model_copy(update={"prose_source": "fallback",
                                     "fallback_reason": f"the brief job failed: {(job.error or '')[:300]}"})
    with session_scope(services.settings.resolved_database_url) as session:
        store(session, brief, job.principal.user_id)


def content_of(row: models.Brief) -> dict[str, Any]:
    return json.loads(row.content)
