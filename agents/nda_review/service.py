"""NDA reviews as records: submit an upload, run the graph (resuming from its checkpoint), publish the result.

The upload's bytes are written under ``<data dir>/uploads/`` and read (sandboxed: time and memory budget)
before anything is queued, so a bad file is answered at once with the reason and a good one is never lost.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.nda_review.graph import builder
from agents.nda_review.prompts import PROMPT_VERSION
from agents.nda_review.schemas import NdaReport
from agents.nda_review.state import LlmMode, ReviewContext, ReviewInput
from agents.nda_review.text import NdaText
from agents.runner import run_graph
from core import access, audit
from core.access import Principal
from core.db import models
from core.db.repository import get_account
from core.db.session import session_scope
from core.errors import InvalidInput, NotFound
from core.jobs import JobContext, JobQueue
from core.jobs.queue import utcnow
from core.llm import LlmGateway
from core.settings import Settings
from knowledge.extract import MAX_UPLOAD_CHARS, ExtractedDocument, RejectedDocument, extract_sandboxed
from knowledge.ingest import Ingestor, IngestReport

JOB_KIND = "nda_review"
NDA_SUFFIXES = (".pdf", ".docx", ".txt", ".md")
# About 120 pages of dense text; the longest NDA of the golden and ContractNLI sets has a fraction of it.
MAX_NDA_CHARS = MAX_UPLOAD_CHARS
MAX_NDA_SENTENCES = 5_000


def _document_json(document: ExtractedDocument) -> str:
    return json.dumps({**document.__dict__, "doc_date": None, "page_starts": list(document.page_starts)},
                      ensure_ascii=False)


def submit(session: Session, settings: Settings, principal: Principal, data: bytes, file_name: str,
           account_id: str | None, *, llm_mode: LlmMode = "uncertain", queue: JobQueue | None = None
           ) -> models.NdaReview:
    """Store and read the upload, then record the review and queue its job (unless ``queue`` is None)."""
    access.require(principal, "nda_review")
    if account_id:
        access.require_account(principal, account_id)
        get_account(session, account_id)
    if Path(file_name).suffix.lower() not in NDA_SUFFIXES:
        raise InvalidInput(f"{file_name}: an NDA must be a PDF, a Word document (.docx) or text")
    document = extract_sandboxed(data, file_name, cpu_s=settings.document_parse_cpu_s,
                                 memory_mb=settings.document_parse_memory_mb)  # else 422 with the reason
    _within_bounds(document, file_name)
    digest = hashlib.sha256(data).hexdigest()
    uploads = settings.data_dir / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    path = uploads / f"{digest}{Path(file_name).suffix.lower()}"
    if not path.exists():
        path.write_bytes(data)
    now = utcnow()
    review = models.NdaReview(id=str(uuid.uuid4()), account_id=account_id, file_name=Path(file_name).name,
                              content_sha256=digest, upload_path=str(path), status="queued", verdict=None,
                              language=document.language, document=_document_json(document), report=None,
                              error=None, created_by=principal.user_id, created_at=now, updated_at=now)
    session.add(review)
    session.commit()  # the review is stored before its job can be claimed
    if queue is not None:
        job, _ = queue.enqueue(JOB_KIND, {"review_id": review.id, "llm_mode": llm_mode}, principal,
                               key=f"{JOB_KIND}:{review.id}")
        review.job_id = job.id
        session.commit()
    return review


def _within_bounds(document: ExtractedDocument, file_name: str) -> None:
    """An NDA is a few pages: a text far beyond that would tie up the only worker for long (the hypotheses
    read every sentence), so it is refused at the door with the limits."""
    if len(document.text) > MAX_NDA_CHARS:
        raise RejectedDocument(f"{file_name}: {len(document.text):,} characters of text is over the limit of "
                               f"{MAX_NDA_CHARS:,} for an NDA")
    sentences = len(NdaText(document.text).sentences)
    if sentences > MAX_NDA_SENTENCES:
        raise RejectedDocument(f"{file_name}: {sentences:,} sentences is over the limit of {MAX_NDA_SENTENCES:,} "
                               "for an NDA")


def get_review(session: Session, principal: Principal, review_id: str) -> models.NdaReview:
    review = session.get(models.NdaReview, review_id)
    if review is None or not access.can_see_nda_review(principal, review.account_id, review.created_by):
        raise NotFound(f"NDA review {review_id!r} not found")
    return review


def list_reviews(session: Session, principal: Principal, *, account_id: str | None = None,
                 limit: int = 50) -> list[models.NdaReview]:
    query = select(models.NdaReview).where(access.nda_reviews_visible(principal))
    if account_id:
        access.require_account(principal, account_id)
        query = query.where(models.NdaReview.account_id == account_id)
    return list(session.execute(query.order_by(models.NdaReview.created_at.desc()).limit(limit)).scalars())


def report_of(review: models.NdaReview) -> NdaReport | None:
    return NdaReport.model_validate_json(review.report) if review.report else None


def run(settings: Settings, checkpointer: BaseCheckpointSaver[Any], review_id: str, principal: Principal, *,
        gateway: LlmGateway | None, llm_mode: LlmMode = "uncertain", as_of: date | None = None,
        job: JobContext | None = None) -> NdaReport:
    """Run (or resume) the review's graph on its checkpoint thread, then store and publish the report. A
    review whose thread already finished is published from its checkpoint (no model is asked again)."""
    started = time.perf_counter()
    with session_scope(settings.resolved_database_url) as session:
        review = session.get(models.NdaReview, review_id)
        if review is None:
            raise NotFound(f"NDA review {review_id!r} not found")
        if review.status != "done":
            review.status, review.updated_at = "running", utcnow()
        payload: ReviewInput = {"review_id": review.id, "file_name": review.file_name,
                                "account_id": review.account_id, "document": json.loads(review.document)}
    context = ReviewContext(principal=principal, as_of=as_of or date.today(), gateway=gateway, llm_mode=llm_mode)
    result = run_graph(builder.compile(checkpointer=checkpointer), f"nda-review:{review_id}", dict(payload), context,
                       job=job)
    report = NdaReport.model_validate(result.values["report"])
    if not result.replayed:
        report = report.model_copy(update={"wall_s": round(time.perf_counter() - started, 3)})
    publish(settings, review_id, report, job=job)
    return report


def publish(settings: Settings, review_id: str, report: NdaReport, *, job: JobContext | None = None) -> None:
    """Store the report, mark the account's NDA as reviewed, and add the NDA to the knowledge store. Fenced by
    the job's claim (a worker that lost its lease writes nothing) and idempotent (a review already published
    stays as it is)."""
    with session_scope(settings.resolved_database_url) as session:
        if job is not None:
            job.fence(session)
        review = session.get(models.NdaReview, review_id)
        assert review is not None
        if review.status == "done":
            return
        review.status, review.verdict, review.updated_at = "done", report.verdict, utcnow()
        review.error = None
        review.report = report.model_dump_json()
        audit.record(session, actor=review.created_by, action="nda_reviewed", subject=f"nda_review:{review_id}",
                     account_id=review.account_id, model=report.llm.model if report.llm.calls else None,
                     prompt_version=PROMPT_VERSION, input_sha256=review.content_sha256,
                     detail={"verdict": report.verdict, "verdict_basis": report.verdict_basis,
                             "policy_version": report.policy_version, "llm_calls": report.llm.calls})
        if review.account_id:
            _mark_nda_reviewed(session, review)
        account_id, upload, name, document = review.account_id, Path(review.upload_path), review.file_name, \
            json.loads(review.document)
        # one knowledge document per NDA text and account: two NDAs of the same file name stay apart
        doc_id = f"nda-review/{account_id}/{review.content_sha256[:16]}"
    if account_id:
        from knowledge.service import get_store

        document["page_starts"] = tuple(document["page_starts"])
        Ingestor(get_store(settings)).ingest_bytes(
            upload.read_bytes(), name, doc_id=doc_id, source=f"nda-review:{review_id}",
            account_id=account_id, report=IngestReport(), doc_type="contract", extracted=ExtractedDocument(**document))


def _mark_nda_reviewed(session: Session, review: models.NdaReview) -> None:
    """pending → reviewed on the account's NDA contract (created when the CRM has none)."""
    ndas = list(session.execute(select(models.Contract).where(
        models.Contract.account_id == review.account_id, models.Contract.contract_type == "nda")).scalars())
    open_ones = [c for c in ndas if c.status in ("pending", "draft")]
    for contract in open_ones:
        contract.status = "reviewed"
    if not ndas:
        session.add(models.Contract(id=f"{review.account_id}-NDA-R{review.id[:8]}", account_id=review.account_id,
                                    contract_type="nda", title=review.file_name[:200], valid_from=None,
                                    valid_to=None, status="reviewed"))


def fail(settings: Settings, review_id: str, error: str) -> None:
    """Mark the review failed with the reason; a review already published stays done."""
    with session_scope(settings.resolved_database_url) as session:
        session.execute(update(models.NdaReview).where(
            models.NdaReview.id == review_id, models.NdaReview.status != "done").values(
            status="failed", error=error[:2000], updated_at=utcnow()))
