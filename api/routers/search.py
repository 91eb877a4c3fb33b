"""Cited search over contracts, notes and mails, and an account's timeline; access rules are enforced
inside the retriever."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import AccessScopeDep, AccountFilterDep, RetrieverDep, VisibleAccountDep
from api.schemas import Citation, SearchHit, SearchOut, TimelineItem
from knowledge.retriever import DOC_TYPES
from knowledge.store import DateRange

router = APIRouter(tags=["search"])
SinceQuery = Annotated[date | None, Query(description="Only documents dated on or after this day")]
UntilQuery = Annotated[date | None, Query(description="Only documents dated on or before this day")]


@router.get("/search", response_model=SearchOut)
def search(
    retriever: RetrieverDep, scope: AccessScopeDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    account_id: AccountFilterDep = None,
    doc_type: Annotated[list[Literal["contract", "note", "mail", "document"]] | None, Query()] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 8,
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid",
    since: SinceQuery = None, until: UntilQuery = None,
) -> SearchOut:
    """Scored, cited hits (multilingual vectors + stemmed and trigram keywords), only from chunks the
    principal may see; ``since``/``until`` keep documents dated in that period."""
    hits = retriever.search(q, scope, account_id=account_id, doc_types=doc_type or None, k=k, mode=mode,
                            period=DateRange(since, until))
    return SearchOut(query=q, mode=mode, doc_types=list(doc_type or DOC_TYPES),
                     hits=[SearchHit(score=h.score, text=h.chunk.text, citation=Citation(**h.citation()),
                                     ranks={"vector": h.vector_rank, "bm25": h.bm25_rank}) for h in hits])


@router.get("/accounts/{account_id}/timeline", response_model=list[TimelineItem])
def account_timeline(
    account: VisibleAccountDep, retriever: RetrieverDep, scope: AccessScopeDep,
    since: SinceQuery = None, until: UntilQuery = None,
    doc_type: Annotated[list[Literal["note", "mail", "contract", "document"]] | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[TimelineItem]:
    """The account's notes and mails (or the given types), newest first: "the last 90 days", "since the
    last brief"."""
    items = retriever.timeline(scope, account_id=account.id, doc_types=doc_type or ("note", "mail"),
                               period=DateRange(since, until), limit=limit)
    return [TimelineItem(date=c.doc_date or "", doc_type=c.doc_type, doc_id=c.doc_id, title=c.title, text=c.text,
                         chunk_id=c.chunk_id) for c in items]
