"""Extraction, chunking and incremental ingestion: clear rejections, exact offsets, nothing half-ingested."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfWriter

from core.pdf import render_text_pdf, write_text_pdf
from knowledge import extract as extract_module
from knowledge.chunking import MAX_CHUNK_CHARS, chunk_contract, chunk_plain
from knowledge.extract import RejectedDocument, extract
from knowledge.ingest import Ingestor
from knowledge.store import KnowledgeStore

CONTRACT = ["§ 1 Gegenstand. Lieferung von Serienteilen.", "§ 2 Vertragsstrafe. 1 % je Woche, höchstens 5 %.",
            "§ 3 Haftung. Begrenzt auf EUR 1.000.000."]


def _encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.append(io.BytesIO(render_text_pdf("Secret", ["hidden text"])))
    writer.encrypt("pw")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _blank_pdf(pages: int = 2) -> bytes:
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(("data", "name", "reason"), [
    (_encrypted_pdf(), "x.pdf", "encrypted"),
    (_blank_pdf(), "scan.pdf", "no text layer"),
    (b"%PDF-1.4 garbage", "broken.pdf", "not a readable PDF"),
    (b"hello", "x.doc", "unsupported file type"),
    (b"hello", "x.docx", "not a Word document"),
    (b"", "empty.txt", "empty"),
    (b"\xff\xfe\x00bad", "latin.txt", "not UTF-8"),
])
def test_rejections_have_a_reason(data: bytes, name: str, reason: str) -> None:
    with pytest.raises(RejectedDocument, match=reason):
        extract(data, name)


def test_size_and_page_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    data = render_text_pdf("T", ["x" * 200] * 200)
    monkeypatch.setattr(extract_module, "MAX_PAGES", 2)
    with pytest.raises(RejectedDocument, match="pages is over the limit"):
        extract(data, "long.pdf")
    monkeypatch.setattr(extract_module, "MAX_BYTES", 100)
    with pytest.raises(RejectedDocument, match="bytes is over the limit"):
        extract(data, "big.pdf")


def test_pdf_and_mail_extraction() -> None:
    doc = extract(render_text_pdf("Rahmenvertrag", CONTRACT), "v.pdf")
    assert "Vertragsstrafe" in doc.text and doc.title == "Rahmenvertrag"
    mail = (b"From: Anna <a@x.example>\r\nSubject: Abruf\r\nDate: Mon, 02 Nov 2026 10:00:00 +0000\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\nBitte Liefertermin best\xc3\xa4tigen.\r\n")
    parsed = extract(mail, "m.eml")
    assert parsed.title == "Abruf" and parsed.doc_date.isoformat() == "2026-11-02" and "bestätigen" in parsed.text


def test_contract_chunks_keep_clause_heading_and_exact_offsets() -> None:
    text = extract(render_text_pdf("Rahmenvertrag", CONTRACT), "v.pdf").text
    chunks = chunk_contract("doc", text)
    # the title-only preamble ("Rahmenvertrag") carries no content: it is folded into § 1, not a chunk of its own
    assert [c.chunk_id for c in chunks] == ["doc#§1", "doc#§2", "doc#§3"]
    assert chunks[0].start == 0 and chunks[0].text.startswith("Rahmenvertrag") and chunks[0].heading != "preamble"
    penalty = chunks[1]
    assert (penalty.clause, penalty.heading) == ("§2", "Vertragsstrafe")
    for chunk in chunks:
        assert text[chunk.start : chunk.end] == chunk.text
    parties = "Vertrag zwischen der Nordwerk Komponenten GmbH, Bremen, und der Halvorsen GmbH, Osnabrück, über " \
              "die Lieferung von Dichtungen für Getriebegehäuse und die Abstimmung der Abrufe.\n"
    kept = chunk_contract("nda", parties + "§ 1 Zweck. Prüfung.\n§ 2 Laufzeit. Zwei Jahre.")
    assert kept[0].chunk_id == "nda#preamble"  # parties and recitals are worth citing on their own


def test_long_texts_are_split_with_offsets() -> None:
    text = ". ".join(f"Satz {i} über Abrufe und Liefertermine" for i in range(200))
    chunks = chunk_plain("note", text)
    assert len(chunks) > 1 and all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert all(text[c.start : c.end] == c.text for c in chunks)
    long_clause = "§ 1 Gegenstand. " + "Wort " * 800 + "\n§ 2 Ende. Schluss."
    parts = chunk_contract("c", long_clause)
    assert [c.chunk_id for c in parts][:2] == ["c#§1/1", "c#§1/2"] and parts[-1].chunk_id == "c#§2"


def test_incremental_ingest_skips_replaces_and_removes(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "A-00001"
    write_text_pdf(docs / "framework_contract.pdf", "Vertrag", CONTRACT)
    (docs / "notes.md").write_text("# Besuch\nKunde plant neue Plattform.", encoding="utf-8")
    (docs / "scan.pdf").write_bytes(_blank_pdf())
    store = KnowledgeStore(tmp_path / "var")
    ingestor = Ingestor(store)
    first = ingestor.ingest_path(tmp_path / "docs")
    assert (first.added, first.skipped, len(first.rejected)) == (2, 0, 1) and "scan.pdf" in first.rejected[0]
    assert store.document("A-00001/framework_contract.pdf")["account_id"] == "A-00001"
    again = ingestor.ingest_path(tmp_path / "docs")
    assert (again.added, again.updated, again.skipped) == (0, 0, 2)
    write_text_pdf(docs / "framework_contract.pdf", "Vertrag", CONTRACT[:2])  # § 3 removed
    (docs / "notes.md").unlink()
    changed = ingestor.ingest_path(tmp_path / "docs")
    assert (changed.updated, changed.removed) == (1, 1)
    counts = store.counts()
    assert counts["documents"] == 1 and counts["chunks"] == counts["vectors"] == 2  # § 1 (with the title), § 2
    assert store.document("A-00001/notes.md") is None


def test_a_failed_write_keeps_the_previous_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    write_text_pdf(docs / "A-00001" / "nda.pdf", "NDA", CONTRACT)
    store = KnowledgeStore(tmp_path / "var")
    ingestor = Ingestor(store)
    ingestor.ingest_path(docs)
    before = store.counts()
    write_text_pdf(docs / "A-00001" / "nda.pdf", "NDA", [*CONTRACT, "§ 4 Neu. Zusatz."])

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_delete_rows", broken)  # fails inside the registry transaction
    with pytest.raises(RuntimeError, match="disk full"):
        ingestor.ingest_path(docs)
    assert store.counts() == before  # old chunks and vectors intact, the new § 4 vector rolled back
    assert store.document("A-00001/nda.pdf")["chunk_count"] == 3  # § 1 (with the title), § 2, § 3


def test_demo_corpus_is_ingested(knowledge_store: KnowledgeStore) -> None:
    counts = knowledge_store.counts()
    assert counts["chunks"] == counts["vectors"] > 500
    kinds = {r[0] for r in knowledge_store.db.execute("SELECT DISTINCT doc_type FROM chunks")}
    assert kinds == {"contract", "note", "mail"}


def test_crm_notes_resync_is_incremental(knowledge_dir: Path, demo_db: str, tmp_path: Path) -> None:
    from sqlalchemy import update
    from sqlalchemy.orm import Session

    from core.db import models
    from core.db.session import get_engine

    copy = tmp_path / "k"
    shutil.copytree(knowledge_dir, copy)
    ingestor = Ingestor(KnowledgeStore(copy))
    with Session(get_engine(demo_db)) as session:
        session.execute(update(models.Interaction).where(models.Interaction.id == "A-00001-N001")
                        .values(note="Neue Notiz zum Preisgespräch."))
        session.execute(models.Interaction.__table__.delete().where(models.Interaction.id == "A-00001-N002"))
        session.commit()
        report = ingestor.ingest_crm_notes(session)
    assert (report.added, report.updated, report.removed) == (0, 1, 1) and report.skipped > 100
