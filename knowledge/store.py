"""The knowledge store: a SQLite registry with an FTS5 (BM25) index, and Chroma for vectors.

SQLite is the source of truth: a chunk is retrievable only while the registry lists it, and a document's
registry rows change in one transaction. Chroma holds the vectors under the same chunk ids (upserted before
the registry commits, stale ids deleted after), so a failed ingest leaves the previous version intact.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings

from core.errors import KamError
from knowledge.chunking import Chunk
from knowledge.embeddings import KamMiniLmEmbedding

log = logging.getLogger(__name__)

COLLECTION = "kam_chunks"
VECTOR_CACHE_ACCOUNTS = 5000  # per-account vector matrices kept in memory (~75 kB each at 50 chunks)
SCHEMA_VERSION = 3  # bump when SCHEMA changes: an older store is emptied and re-ingested
CHROMA_BATCH = 4000  # below Chroma's max batch size

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, doc_type TEXT NOT NULL, doc_subtype TEXT NOT NULL,
    account_id TEXT NOT NULL, title TEXT NOT NULL, doc_date TEXT, language TEXT NOT NULL,
    content_hash TEXT NOT NULL, chunk_count INTEGER NOT NULL, pages INTEGER NOT NULL DEFAULT 1,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS ix_documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    seq INTEGER NOT NULL, account_id TEXT NOT NULL, doc_type TEXT NOT NULL, clause TEXT, heading TEXT,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ix_chunks_doc ON chunks(doc_id);
-- float32 vectors clustered by account: exact search inside a narrow scope reads a few contiguous pages
CREATE TABLE IF NOT EXISTS vectors (
    account_id TEXT NOT NULL, doc_type TEXT NOT NULL, chunk_id TEXT NOT NULL, embedding BLOB NOT NULL,
    PRIMARY KEY (account_id, doc_type, chunk_id)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    text, heading, acct, kind, chunk_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
-- bumped inside every write transaction: readers in any process or thread compare it with what they cached
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO store_meta (key, value) VALUES ('writes', 0);
"""


class StoreError(KamError):
    status_code = 503


@dataclass(frozen=True)
class DocumentRecord:
    doc_id: str
    source: str
    doc_type: str  # contract | note | mail | document
    doc_subtype: str  # framework_contract | nda | quality_agreement | interaction | eml | text
    account_id: str  # "" for documents not tied to an account
    title: str
    doc_date: date | None
    language: str
    content_hash: str
    pages: int = 1


@dataclass(frozen=True)
class StoredChunk:
    chunk_id: str
    doc_id: str
    account_id: str
    doc_type: str
    doc_subtype: str
    source: str
    title: str
    clause: str | None
    heading: str | None
    start: int
    end: int
    text: str
    doc_date: str | None


def account_token(account_id: str) -> str:
    """An FTS token per account, so the account filter is a posting-list intersection, not a post-filter."""
    return "acct_" + re.sub(r"[^0-9a-z]", "", account_id.lower()) if account_id else "acct_shared"


def kind_token(doc_type: str) -> str:
    return f"kind_{doc_type}"


def chroma_client(data_dir: Path, chroma_url: str | None) -> Any:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    if chroma_url:
        parsed = urlparse(chroma_url)
        return chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                   ssl=parsed.scheme == "https", settings=settings)
    return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)


class KnowledgeStore:
    def __init__(self, data_dir: Path, *, chroma_url: str | None = None,
                 embedding: KamMiniLmEmbedding | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "knowledge.db"
        self._local = threading.local()
        self._vector_cache: dict[str, tuple[int, tuple[list[str], np.ndarray, np.ndarray]]] = {}
        self._cache_lock = threading.Lock()
        self.embedding = embedding or KamMiniLmEmbedding()
        try:
            self.client = chroma_client(data_dir, chroma_url)
            outdated = self._prepare_schema()
            if outdated:
                self.client.delete_collection(COLLECTION)
            self.collection = self.client.get_or_create_collection(
                COLLECTION, embedding_function=self.embedding, configuration={"hnsw": {"space": "cosine"}})
        except Exception as exc:  # the Chroma server may be down: say so, with the URL
            raise StoreError(f"vector store unavailable ({chroma_url or data_dir / 'chroma'}): {exc}") from exc

    def _prepare_schema(self) -> bool:
        """Create the registry; True when an older schema was found and dropped (re-ingest to fill it)."""
        with self._connect() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            has_tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'documents'").fetchone()[0]
            outdated = bool(has_tables) and version < SCHEMA_VERSION
            if outdated:
                log.warning("knowledge store schema %s is outdated; emptied it, re-run kam ingest", version)
                conn.executescript("DROP TABLE IF EXISTS chunks_fts; DROP TABLE IF EXISTS vectors; "
                                   "DROP TABLE IF EXISTS chunks; DROP TABLE IF EXISTS documents;")
            conn.executescript(SCHEMA)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return outdated and COLLECTION in [c.name for c in self.client.list_collections()]

    # --- connections ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.row_factory = sqlite3.Row
        return conn

    @property
    def db(self) -> sqlite3.Connection:
        """One connection per thread (the API serves requests from a thread pool)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        return conn

    # --- reads ---------------------------------------------------------------------------------
    def document(self, doc_id: str) -> sqlite3.Row | None:
        return self.db.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()

    def _under(self, source_prefix: str) -> list[sqlite3.Row]:
        pattern = source_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        return self.db.execute("SELECT doc_id, source, content_hash FROM documents WHERE source LIKE ? ESCAPE '\\'",
                               (pattern,)).fetchall()

    def hashes_under(self, source_prefix: str) -> dict[str, str]:
        """doc_id -> content hash of the documents whose source starts with the prefix."""
        return {r["doc_id"]: r["content_hash"] for r in self._under(source_prefix)}

    def sources_under(self, source_prefix: str) -> dict[str, str]:
        """doc_id -> source of the documents whose source starts with the prefix."""
        return {r["doc_id"]: r["source"] for r in self._under(source_prefix)}

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, StoredChunk]:
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        rows = self.db.execute(
            f"SELECT c.*, d.source, d.title, d.doc_subtype, d.doc_date FROM chunks c JOIN documents d USING (doc_id) "
            f"WHERE c.chunk_id IN ({marks})", list(chunk_ids))
        return {r["chunk_id"]: StoredChunk(r["chunk_id"], r["doc_id"], r["account_id"], r["doc_type"],
                                           r["doc_subtype"], r["source"], r["title"], r["clause"], r["heading"],
                                           r["start"], r["end"], r["text"], r["doc_date"]) for r in rows}

    def write_count(self) -> int:
        """How many write transactions the store has seen, from any process (the vector cache's version)."""
        return int(self.db.execute("SELECT value FROM store_meta WHERE key = 'writes'").fetchone()[0])

    def _count_write(self) -> None:
        self.db.execute("UPDATE store_meta SET value = value + 1 WHERE key = 'writes'")

    def counts(self) -> dict[str, int]:
        documents = self.db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        chunks = self.db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]
        return {"documents": documents, "chunks": chunks, "vectors": self.collection.count()}

    # --- writes --------------------------------------------------------------------------------
    def put_document(self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: Sequence[Any]) -> None:
        self.put_documents([(record, chunks, embeddings)])

    def put_documents(self, items: Sequence[tuple[DocumentRecord, Sequence[Chunk], Sequence[Any]]]) -> None:
        """Replace documents and their chunks in one batch; the previous versions stay if anything fails."""
        doc_ids = [record.doc_id for record, _, _ in items]
        marks = ",".join("?" * len(doc_ids))
        old_ids = {r[0] for r in self.db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", doc_ids)}
        ids, vectors, texts, metadatas = [], [], [], []
        for record, chunks, embeddings in items:
            for chunk, embedding in zip(chunks, embeddings, strict=True):
                ids.append(chunk.chunk_id)
                vectors.append([float(x) for x in embedding])
                texts.append(chunk.text)
                metadatas.append({"account_id": record.account_id, "doc_type": record.doc_type,
                                  "doc_id": record.doc_id, "source": record.source,
                                  "date": record.doc_date.isoformat() if record.doc_date else "",
                                  "language": record.language, "content_hash": record.content_hash,
                                  "clause": chunk.clause or "", "start": chunk.start, "end": chunk.end})
        for start in range(0, len(ids), CHROMA_BATCH):
            window = slice(start, start + CHROMA_BATCH)
            self.collection.upsert(ids=ids[window], embeddings=vectors[window], documents=texts[window],
                                   metadatas=metadatas[window])
        try:
            with self.db:  # one transaction for the whole batch
                for record, chunks, embeddings in items:
                    self._delete_rows(record.doc_id)
                    self._insert_rows(record, chunks, embeddings)
                self._count_write()
        except Exception:
            stale = [i for i in ids if i not in old_ids]
            if stale:
                self.collection.delete(ids=stale)
            raise
        stale_ids = sorted(old_ids - set(ids))
        if stale_ids:
            self.collection.delete(ids=stale_ids)

    def _insert_rows(self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: Sequence[Any]) -> None:
        self.db.execute(
            "INSERT INTO documents (doc_id, source, doc_type, doc_subtype, account_id, title, doc_date, "
            "language, content_hash, chunk_count, pages) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (record.doc_id, record.source, record.doc_type, record.doc_subtype, record.account_id,
             record.title, record.doc_date.isoformat() if record.doc_date else None, record.language,
             record.content_hash, len(chunks), record.pages))
        self.db.executemany(
            'INSERT INTO chunks (chunk_id, doc_id, seq, account_id, doc_type, clause, heading, start, "end", '
            "text) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [(c.chunk_id, record.doc_id, c.seq, record.account_id, record.doc_type, c.clause, c.heading,
              c.start, c.end, c.text) for c in chunks])
        self.db.executemany(
            "INSERT INTO vectors (account_id, doc_type, chunk_id, embedding) VALUES (?,?,?,?)",
            [(record.account_id, record.doc_type, c.chunk_id, np.asarray(e, dtype=np.float32).tobytes())
             for c, e in zip(chunks, embeddings, strict=True)])
        self.db.executemany(
            "INSERT INTO chunks_fts (text, heading, acct, kind, chunk_id) VALUES (?,?,?,?,?)",
            [(c.text, c.heading or "", account_token(record.account_id), kind_token(record.doc_type),
              c.chunk_id) for c in chunks])

    def delete_documents(self, doc_ids: Iterable[str]) -> int:
        removed = 0
        for doc_id in doc_ids:
            chunk_ids = [r[0] for r in self.db.execute("SELECT chunk_id FROM chunks WHERE doc_id = ?", (doc_id,))]
            with self.db:
                self._delete_rows(doc_id)
                self._count_write()
            if chunk_ids:
                self.collection.delete(ids=chunk_ids)
            removed += 1
        return removed

    def _delete_rows(self, doc_id: str) -> None:
        self.db.execute("DELETE FROM chunks_fts WHERE chunk_id IN (SELECT chunk_id FROM chunks WHERE doc_id = ?)",
                        (doc_id,))
        self.db.execute("DELETE FROM vectors WHERE (account_id, doc_type, chunk_id) IN "
                        "(SELECT account_id, doc_type, chunk_id FROM chunks WHERE doc_id = ?)", (doc_id,))
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    # --- search primitives (access filtering is the retriever's job) ----------------------------
    def bm25(self, match: str, limit: int) -> list[tuple[str, float]]:
        rows = self.db.execute(
            "SELECT chunk_id, bm25(chunks_fts, 1.0, 0.5, 0.0, 0.0) AS score FROM chunks_fts "
            "WHERE chunks_fts MATCH ? ORDER BY score LIMIT ?", (match, limit))
        return [(r[0], -r[1]) for r in rows]  # FTS5's bm25 is lower-is-better

    def exact_vector(self, query_embedding: Sequence[float], account_ids: Sequence[str],
                     doc_types: Sequence[str] | None, limit: int) -> list[tuple[str, float]]:
        """Exact cosine over the chunks of a few accounts (an HNSW search with a very selective filter is
        slow and approximate; scoring a KAM's few thousand vectors exactly is fast)."""
        ids: list[str] = []
        blocks = []
        version = self.write_count()
        for account_id in account_ids:
            account_ids_, matrix, types = self._account_vectors(account_id, version)
            if doc_types:
                keep = np.isin(types, list(doc_types))
                account_ids_, matrix = [i for i, k in zip(account_ids_, keep, strict=True) if k], matrix[keep]
            ids.extend(account_ids_)
            blocks.append(matrix)
        if not ids:
            return []
        scores = np.concatenate(blocks) @ np.asarray(query_embedding, dtype=np.float32)
        top = np.argsort(-scores)[:limit]
        return [(ids[i], float(scores[i])) for i in top]

    def _account_vectors(self, account_id: str, version: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """(chunk ids, vectors, doc types) of one account, cached until any connection writes the store."""
        cached = self._vector_cache.get(account_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        cursor = self.db.cursor()
        cursor.row_factory = None  # plain tuples: thousands of rows
        rows = cursor.execute("SELECT chunk_id, doc_type, embedding FROM vectors WHERE account_id = ?",
                              (account_id,)).fetchall()
        matrix = (np.frombuffer(b"".join(r[2] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                  if rows else np.zeros((0, 384), dtype=np.float32))
        entry = ([r[0] for r in rows], matrix, np.array([r[1] for r in rows], dtype=object))
        with self._cache_lock:
            if len(self._vector_cache) >= VECTOR_CACHE_ACCOUNTS:
                self._vector_cache.pop(next(iter(self._vector_cache)))
            self._vector_cache[account_id] = (version, entry)
        return entry

    def vector(self, query_embedding: Sequence[float], where: dict[str, Any] | None, limit: int
               ) -> list[tuple[str, float]]:
        result = self.collection.query(query_embeddings=[list(map(float, query_embedding))], n_results=limit,
                                       where=where, include=["distances"])
        return list(zip(result["ids"][0], [1.0 - d for d in result["distances"][0]], strict=True))

    def ping(self) -> None:
        self.client.heartbeat()
        self.db.execute("SELECT 1")
