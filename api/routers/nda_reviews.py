"""NDA reviews: upload (stored, read, then reviewed as a durable job), status and report, HTML report."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import HTMLResponse
from pydantic import BaseModel

from agents.nda_review import service
from agents.nda_review.report import render_html
from agents.nda_review.schemas import NdaReport
from api.deps import AccountFilterDep, JobQueueDep, PrincipalDep, SessionDep, SettingsDep, UploaderDep
from core.db import models
from core.errors import Conflict
from knowledge.extract import MAX_BYTES, safe_file_name

router = APIRouter(prefix="/nda-reviews", tags=["nda-reviews"])


class NdaReviewOut(BaseModel):
    id: str
    account_id: str | None
    file_name: str
    status: Literal["queued", "running", "done", "failed"]
    verdict: Literal["accept", "negotiate", "escalate"] | None
    language: str
    created_by: str
    created_at: datetime
    job_id: str | None
    error: str | None
    report: NdaReport | None = None

    @classmethod
    def of(cls, review: models.NdaReview, *, with_report: bool = True) -> NdaReviewOut:
        return cls(id=review.id, account_id=review.account_id, file_name=review.file_name,
                   status=review.status, verdict=review.verdict,
                   language=review.language, created_by=review.created_by, created_at=review.created_at,
                   job_id=review.job_id, error=review.error,
                   report=service.report_of(review) if with_report else None)


@router.post("", status_code=202, response_model=NdaReviewOut,
             responses={422: {"description": "the file was rejected (encrypted, scanned, broken, too large, too "
                                             "deep, too slow to read); detail says why"}})
def submit_review(
    principal: UploaderDep, session: SessionDep, settings: SettingsDep, queue: JobQueueDep,
    file: Annotated[UploadFile, File(description="The NDA: PDF, Word (.docx) or text")],
    account_id: Annotated[str | None, Form(max_length=64)] = None,
    llm: Annotated[Literal["off", "uncertain", "all"], Form(description="Which rules the LLM reads: none, "
                                                                        "the ones the patterns are unsure of, all")
                   ] = "uncertain",
) -> NdaReviewOut:
    """Store and read the upload (a bad file answers 422 with the reason), then queue the review; poll
    ``GET /nda-reviews/{id}`` for the result."""
    data = file.file.read(MAX_BYTES + 1)
    review = service.submit(session, settings, principal, data, safe_file_name(file.filename), account_id, llm_mode=llm,
                            queue=queue)
    return NdaReviewOut.of(review, with_report=False)


@router.get("", response_model=list[NdaReviewOut])
def list_reviews(principal: PrincipalDep, session: SessionDep,
                 account_id: AccountFilterDep = None,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[NdaReviewOut]:
    return [NdaReviewOut.of(r, with_report=False)
            for r in service.list_reviews(session, principal, account_id=account_id, limit=limit)]


@router.get("/{review_id}", response_model=NdaReviewOut)
def review_detail(review_id: str, principal: PrincipalDep, session: SessionDep) -> NdaReviewOut:
    return NdaReviewOut.of(service.get_review(session, principal, review_id))


@router.get("/{review_id}/report.html", response_class=HTMLResponse, response_model=str)
def review_html(review_id: str, principal: PrincipalDep, session: SessionDep) -> HTMLResponse:
    review = service.get_review(session, principal, review_id)
    report = service.report_of(review)
    if report is None:
        raise Conflict(f"the review is {review.status}; the report is not ready yet")
    return HTMLResponse(render_html(report))
