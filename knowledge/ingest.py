"""Incremental ingestion of files (PDF, text, Markdown, e-mail) and of the CRM notes in the database.

Unchanged content is skipped by hash, changed documents are replaced, documents gone from the source are
removed. A rejected document is reported with its reason and never half-ingested.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import models
from knowledge.chunking import Chunk, chunk_contract, chunk_plain
from knowledge.extract import (
    MAX_UPLOAD_CHARS,
    SUPPORTED_SUFFIXES,
    ExtractedDocument,
    RejectedDocument,
    extract,
    extract_sandboxed,
    guess_language,
)
from knowledge.store import DocumentRecord, KnowledgeStore

CRM_SOURCE = "crm:interactions"
ACCOUNT_DIR = re.compile(r"^A-\d{3,}$")
CONTRACT_SUBTYPES = {"framework_contract", "nda", "quality_agreement", "contract"}


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    skipped: int = 0
    removed: int = 0
    chunks: int = 0
    rejected: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (f"added {self.added}, updated {self.updated}, skipped {self.skipped} unchanged, removed "
                f"{self.removed}, rejected {len(self.rejected)}; {self.chunks} chunks written")


Progress = Callable[[str], None]


def classify(path: Path) -> tuple[str, str]:
    """(doc_type, doc_subtype) from the file name."""
    suffix = path.suffix.lower()
    stem = path.stem.lower()
    if suffix == ".eml":
        return "mail", "eml"
    if suffix == ".docx" and ("nda" in stem or "vertrag" in stem or "agreement" in stem or "contract" in stem):
        return "contract", "nda" if "nda" in stem else "contract"
    for subtype in ("framework_contract", "nda", "quality_agreement"):
        if subtype in stem:
            return "contract", subtype
    if suffix == ".pdf" and ("contract" in stem or "vertrag" in stem or "agreement" in stem):
        return "contract", "contract"
    return "document", suffix.lstrip(".") or "text"


def infer_account(path: Path, root: Path, explicit: str | None) -> str:
    if explicit:
        return explicit
    for part in path.relative_to(root).parts[:-1]:
        if ACCOUNT_DIR.match(part):
            return part
    return ""


def _hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chunks(doc_id: str, doc_type: str, text: str) -> list[Chunk]:
    return chunk_contract(doc_id, text) if doc_type == "contract" else chunk_plain(doc_id, text)


class Ingestor:
    def __init__(self, store: KnowledgeStore, *, batch_chunks: int = 256) -> None:
        self.store = store
        self.batch_chunks = batch_chunks

    def _encode(self, texts: list[str]) -> list[object]:
        return list(self.store.embedding.encoder().passages(texts))


    # --- files ---------------------------------------------------------------------------------
    def ingest_bytes(self, data: bytes, name: str, *, doc_id: str, source: str, account_id: str,
                     report: IngestReport, doc_type: str | None = None, sandbox: tuple[float, int] | None = None,
                     extracted: ExtractedDocument | None = None) -> str | None:
        """Ingest one document; returns its doc_id, or None when rejected (reason in the report).

        ``sandbox`` (CPU seconds, memory MB) parses in a child process with that budget (uploads from users);
        ``extracted`` passes text a caller has already read (the NDA review)."""
        content_hash = _hash(data)
        existing = self.store.document(doc_id)
        if existing is not None and existing["content_hash"] == content_hash and existing["account_id"] == account_id:
            report.skipped += 1
            return doc_id
        if extracted is None:
            try:
                extracted = (extract_sandboxed(data, name, cpu_s=sandbox[0], memory_mb=sandbox[1]) if sandbox
                             else extract(data, name))
            except RejectedDocument as exc:
                report.rejected.append(exc.message)
                return None
            if sandbox and len(extracted.text) > MAX_UPLOAD_CHARS:
                report.rejected.append(f"{name}: its text has {len(extracted.text):,} characters; an upload may "
                                       f"have at most {MAX_UPLOAD_CHARS:,}")
                return None
        kind, subtype = classify(Path(name))
        if doc_type:
            kind = doc_type
        record = DocumentRecord(doc_id=doc_id, source=source, doc_type=kind, doc_subtype=subtype,
                                account_id=account_id, title=extracted.title, doc_date=extracted.doc_date,
                                language=guess_language(extracted.text), content_hash=content_hash,
                                pages=extracted.pages)
        self._flush([(record, _chunks(doc_id, kind, extracted.text), existing is not None)], report, None)
        return doc_id

    def ingest_path(self, path: Path, *, account_id: str | None = None, progress: Progress | None = None
                    ) -> IngestReport:
        """Ingest a file or a folder (recursively); documents that disappeared from the folder are removed."""
        report = IngestReport()
        path = path.resolve()
        if not path.exists():
            raise RejectedDocument(f"{path} does not exist")
        root = path if path.is_dir() else path.parent
        files = sorted(p for p in ([path] if path.is_file() else path.rglob("*"))
                       if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)
        if path.is_file() and not files:
            raise RejectedDocument(f"{path.name}: unsupported file type; supported: {', '.join(SUPPORTED_SUFFIXES)}")
        seen = set()
        for file in files:
            source = f"file:{file}"
            seen.add(source)
            # identity: the path below the ingested folder (e.g. A-00001/nda.pdf), stable across machines
            self.ingest_bytes(file.read_bytes(), file.name, doc_id=file.relative_to(root).as_posix(), source=source,
                              account_id=infer_account(file, root, account_id), report=report)
            if progress:
                progress(file.name)
        if path.is_dir():
            known = self.store.sources_under(f"file:{path}/")
            gone = {doc_id for doc_id, source in known.items() if source not in seen}
            report.removed += self.store.delete_documents(sorted(gone))
        return report

    def count_files(self, path: Path) -> int:
        path = path.resolve()
        if path.is_file():
            return 1
        return sum(1 for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES)

    # --- CRM notes -----------------------------------------------------------------------------
    def _interactions(self, session: Session) -> Iterator[models.Interaction]:
        yield from session.execute(select(models.Interaction).where(models.Interaction.note != "")
                                   .order_by(models.Interaction.id)).scalars()

    def ingest_crm_notes(self, session: Session, *, progress: Progress | None = None) -> IngestReport:
        """Each interaction note is one document (one chunk unless long); batched through the encoder."""
        report = IngestReport()
        known = self.store.hashes_under(f"{CRM_SOURCE}/")
        pending: list[tuple[DocumentRecord, list[Chunk], bool]] = []
        seen = set()
        for note in self._interactions(session):
            doc_id = f"{CRM_SOURCE}/{note.id}"
            seen.add(doc_id)
            text = f"{note.interaction_date.isoformat()} {note.interaction_type}: {note.note}"
            content_hash = _hash(f"{note.account_id}|{text}".encode())
            if known.get(doc_id) == content_hash:
                report.skipped += 1
                continue
            record = DocumentRecord(doc_id=doc_id, source=doc_id, doc_type="note", doc_subtype="interaction",
                                    account_id=note.account_id,
                                    title=f"{note.interaction_type} {note.interaction_date}",
                                    doc_date=note.interaction_date, language=note.language, content_hash=content_hash)
            pending.append((record, chunk_plain(doc_id, text), doc_id in known))
            if sum(len(c) for _, c, _ in pending) >= self.batch_chunks:
                self._flush(pending, report, progress)
        self._flush(pending, report, progress)
        report.removed += self.store.delete_documents(sorted(set(known) - seen))
        return report

    def _flush(self, pending: list[tuple[DocumentRecord, list[Chunk], bool]], report: IngestReport,
               progress: Progress | None) -> None:
        if not pending:
            return
        vectors = self._encode([c.text for _, chunks, _ in pending for c in chunks])
        batch, offset = [], 0
        for record, chunks, _existed in pending:
            batch.append((record, chunks, vectors[offset : offset + len(chunks)]))
            offset += len(chunks)
        self.store.put_documents(batch)
        for record, chunks, existed in pending:
            report.chunks += len(chunks)
            if existed:
                report.updated += 1
            else:
                report.added += 1
            if progress:
                progress(record.doc_id)
        pending.clear()
