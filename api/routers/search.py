"""Cited search over contracts, notes and mails; access rules are enforced inside the retriever."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.deps import AccessScopeDep, RetrieverDep
from api.schemas import Citation, SearchHit, SearchOut
from knowledge.retriever import DOC_TYPES

router = APIRouter(tags=["search"])


@router.get("/search", response_model=SearchOut)
def search(
    retriever: RetrieverDep, scope: AccessScopeDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    account_id: Annotated[str | None, Query(max_length=64)] = None,
    doc_type: Annotated[list[Literal["contract", "note", "mail", "document"]] | None, Query()] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 8,
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid",
) -> SearchOut:
    """Scored, cited hits (hybrid vector + BM25), only from chunks the principal may see."""
    hits = retriever.search(q, scope, account_id=account_id, doc_types=doc_type or None, k=k, mode=mode)
    return SearchOut(query=q, mode=mode, doc_types=list(doc_type or DOC_TYPES),
                     hits=[SearchHit(score=h.score, text=h.chunk.text, citation=Citation(**h.citation()),
                                     ranks={"vector": h.vector_rank, "bm25": h.bm25_rank}) for h in hits])
