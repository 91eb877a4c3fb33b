"""Documents in, cited search results out; access rules are enforced inside the retriever."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.responses import JSONResponse

from api.deps import AccessScopeDep, CurrentUserDep, RetrieverDep, SessionDep, require_visible_account
from knowledge.extract import MAX_BYTES, SUPPORTED_SUFFIXES
from knowledge.ingest import IngestReport, Ingestor
from knowledge.retriever import DOC_TYPES

router = APIRouter(tags=["knowledge"])


@router.post("/documents", status_code=201)
async def upload_document(
    retriever: RetrieverDep, session: SessionDep, user: CurrentUserDep,
    file: Annotated[UploadFile, File(description=f"One of {', '.join(SUPPORTED_SUFFIXES)}")],
    account_id: Annotated[str | None, Form(max_length=64)] = None,
    doc_type: Annotated[Literal["contract", "note", "mail", "document"] | None, Form()] = None,
) -> JSONResponse:
    """Upload and ingest a document; a rejected document answers 422 with the reason and stores nothing."""
    if account_id:
        require_visible_account(account_id, session, user)
    data = await file.read(MAX_BYTES + 1)
    name = file.filename or "upload"
    report = IngestReport()
    doc_id = Ingestor(retriever.store).ingest_bytes(
        data, name, doc_id=f"upload/{account_id or 'shared'}/{name}", source=f"upload:{account_id or ''}/{name}",
        account_id=account_id or "", report=report, doc_type=doc_type)
    if doc_id is None:
        return JSONResponse({"detail": report.rejected[0]}, status_code=422)
    status = "unchanged" if report.skipped else "updated" if report.updated else "added"
    return JSONResponse({"doc_id": doc_id, "status": status, "chunks": report.chunks}, status_code=201)


@router.get("/search")
def search(
    retriever: RetrieverDep, scope: AccessScopeDep,
    q: Annotated[str, Query(min_length=1, max_length=500)],
    account_id: Annotated[str | None, Query(max_length=64)] = None,
    doc_type: Annotated[list[Literal["contract", "note", "mail", "document"]] | None, Query()] = None,
    k: Annotated[int, Query(ge=1, le=50)] = 8,
    mode: Literal["hybrid", "vector", "bm25"] = "hybrid",
) -> dict[str, Any]:
    """Scored, cited hits (hybrid vector + BM25), only from chunks the user may see."""
    hits = retriever.search(q, scope, account_id=account_id, doc_types=doc_type or None, k=k, mode=mode)
    return {"query": q, "mode": mode, "doc_types": list(doc_type or DOC_TYPES),
            "hits": [{"score": h.score, "text": h.chunk.text, "citation": h.citation(),
                      "ranks": {"vector": h.vector_rank, "bm25": h.bm25_rank}} for h in hits]}
