"""Upload a document into the knowledge store.

A plain ``def`` route: FastAPI runs it in its thread pool, so parsing, embedding and writing never hold
the event loop (liveness probes and chat streams keep being answered while a large file is ingested)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, UploadFile

from api.deps import RetrieverDep, SessionDep, SettingsDep, UploaderDep, require_visible_account
from api.schemas import DocumentIngested
from core import access
from knowledge.extract import MAX_BYTES, SUPPORTED_SUFFIXES, RejectedDocument, safe_file_name
from knowledge.ingest import Ingestor, IngestReport

router = APIRouter(tags=["documents"])


@router.post("/documents", status_code=201, response_model=DocumentIngested,
             responses={422: {"description": "the document was rejected; the reason is in detail"}})
def upload_document(
    retriever: RetrieverDep, principal: UploaderDep, settings: SettingsDep, session: SessionDep,
    file: Annotated[UploadFile, File(description=f"One of {', '.join(SUPPORTED_SUFFIXES)}")],
    account_id: Annotated[str | None, Form(max_length=64)] = None,
    doc_type: Annotated[Literal["contract", "note", "mail", "document"] | None, Form()] = None,
) -> DocumentIngested:
    """Upload and ingest a document; a rejected document answers 422 with the reason and stores nothing. The
    caller may add only what its role may read, into its own accounts; a second upload of the same name by
    the same user updates that document, another user's upload of that name is a document of its own."""
    doc_type = access.require_document_write(principal, account_id, doc_type)  # type: ignore[assignment]
    if account_id:
        require_visible_account(account_id, session, principal)  # 404 for an account that does not exist
    data = file.file.read(MAX_BYTES + 1)
    name = safe_file_name(file.filename)
    scope = account_id or "shared"
    report = IngestReport()
    doc_id = Ingestor(retriever.store).ingest_bytes(
        data, name, doc_id=f"upload/{scope}/{principal.user_id}/{name}", source=f"upload:{scope}/{name}",
        account_id=account_id or "", report=report, doc_type=doc_type,
        sandbox=(settings.document_parse_cpu_s, settings.document_parse_memory_mb))
    if doc_id is None:
        raise RejectedDocument(report.rejected[0])
    status: Literal["added", "updated", "unchanged"] = (
        "unchanged" if report.skipped else "updated" if report.updated else "added")
    return DocumentIngested(doc_id=doc_id, status=status, chunks=report.chunks)
