"""The knowledge store: a SQLite registry with keyword indexes (stemmed words and trigrams), and Chroma for
vectors.

SQLite is the source of truth: a chunk is retrievable only while the registry lists it, and a document's
registry rows change in one transaction. Chroma holds the vectors under the same chunk ids (upserted before
the registry commits, stale ids deleted after), so a failed ingest leaves the previous version intact.

The store records which embedding model made its vectors. Opened with another model it refuses to mix
vector spaces: new documents and vector searches wait for ``kam ingest --reembed``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
import httpx
import numpy as np
from chromadb.config import Settings as ChromaSettings

from core.errors import InvalidInput, KamError
from knowledge import keywords
from knowledge.chunking import Chunk
from knowledge.embeddings import DIMENSIONS, KamEmbedding

log = logging.getLogger(__name__)

COLLECTION = "kam_chunks"
VECTOR_CACHE_ACCOUNTS = 5000  # per-account vector matrices kept in memory (~75 kB each at 50 chunks)
SCHEMA_VERSION = 4  # v3 → v4 rebuilds the keyword indexes from the registry; older stores are emptied
CHROMA_BATCH = 4000  # below Chroma's max batch size
SCOPED_TRIGRAM_ROWS = 20_000  # bounds the Python scoring of a wide match in a narrow scope
CJK_START, CJK_SIZE = 0x4E00, 20_992  # CJK Unified Ideographs
LEGACY_MODEL = "all-MiniLM-L6-v2 ONNX (a store from before models were recorded)"

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY, source TEXT NOT NULL, doc_type TEXT NOT NULL, doc_subtype TEXT NOT NULL,
    account_id TEXT NOT NULL, title TEXT NOT NULL, doc_date TEXT, language TEXT NOT NULL,
    content_hash TEXT NOT NULL, chunk_count INTEGER NOT NULL, pages INTEGER NOT NULL DEFAULT 1,
    ingested_at TEXT NOT NULL DEFAULT (datetime('now'))
);
CREATE INDEX IF NOT EXISTS ix_documents_source ON documents(source);
CREATE INDEX IF NOT EXISTS ix_documents_account_date ON documents(account_id, doc_date);
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
-- words as Snowball stems of the chunk's language; account and type as tokens, so filters intersect postings
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(
    stems, hstems, acct, kind, chunk_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2'
);
-- trigrams of the raw text: a word found inside a compound; account and type as one-trigram codes
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_tri USING fts5(body, acct, kind, chunk_id UNINDEXED, tokenize = 'trigram');
-- bumped inside every write transaction: readers in any process or thread compare it with what they cached
CREATE TABLE IF NOT EXISTS store_meta (key TEXT PRIMARY KEY, value NOT NULL);
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


@dataclass(frozen=True)
class DateRange:
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since is not None and self.until is not None and self.since > self.until:
            raise InvalidInput(f"the period is empty: since {self.since} is after until {self.until}")

    @property
    def open(self) -> bool:
        return self.since is None and self.until is None

    def sql(self, column: str) -> tuple[str, list[str]]:
        """A WHERE fragment (without WHERE) and its parameters; documents without a date fall outside a range."""
        clauses, params = [], []
        if self.since is not None:
            clauses.append(f"{column} >= ?")
            params.append(self.since.isoformat())
        if self.until is not None:
            clauses.append(f"{column} <= ?")
            params.append(self.until.isoformat())
        return " AND ".join(clauses), params

    def contains(self, day: str | None) -> bool:
        if self.open:
            return True
        if not day:
            return False
        return (self.since is None or day >= self.since.isoformat()) and (
            self.until is None or day <= self.until.isoformat())


ANY_TIME = DateRange()


def account_token(account_id: str) -> str:
    """An FTS token per account, so the account filter is a posting-list intersection, not a post-filter."""
    return "acct_" + re.sub(r"[^0-9a-z]", "", account_id.lower()) if account_id else "acct_shared"


def kind_token(doc_type: str) -> str:
    return f"kind_{doc_type}"


def trigram_code(token: str) -> str:
    """The token as the trigram index holds it: three CJK characters, i.e. exactly one trigram of its own.
    Spelled out ("|acct_a00001|"), its trigrams ("acc", "a00") would be in every row, and the account
    filter would read posting lists as long as the table (measured: 98 vs 15 ms p95 for 40 accounts at 100k)."""
    value = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "big")
    code = ""
    for _ in range(3):
        value, digit = divmod(value, CJK_SIZE)
        code += chr(CJK_START + digit)
    return code  # a collision only adds rows the retriever drops: every hit is re-checked against the registry


def bm25_ranked(rows: Sequence[tuple[str, str]], terms: Sequence[str], limit: int, k1: float = 1.2,
                b: float = 0.75) -> list[tuple[str, float]]:
    """(id, lower-cased text) ranked by Okapi BM25 of the terms as substrings, statistics from these rows."""
    if not rows:
        return []
    counts = [[text.count(term) for term in terms] for _, text in rows]
    lengths = [len(text) for _, text in rows]
    average = sum(lengths) / len(rows)
    frequency = [sum(1 for row in counts if row[i]) for i in range(len(terms))]
    idf = [math.log(1 + (len(rows) - n + 0.5) / (n + 0.5)) for n in frequency]
    scored = []
    for (chunk_id, _), row, length in zip(rows, counts, lengths, strict=True):
        norm = k1 * (1 - b + b * length / average)
        scored.append((chunk_id, sum(w * tf * (k1 + 1) / (tf + norm) for w, tf in zip(idf, row, strict=True) if tf)))
    return sorted(scored, key=lambda hit: -hit[1])[:limit]


def chroma_client(data_dir: Path, chroma_url: str | None) -> Any:
    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
    if chroma_url:
        parsed = urlparse(chroma_url)
        return chromadb.HttpClient(host=parsed.hostname or "127.0.0.1", port=parsed.port or 8000,
                                   ssl=parsed.scheme == "https", settings=settings)
    return chromadb.PersistentClient(path=str(data_dir / "chroma"), settings=settings)


def recent_documents(data_dir: Path, account_ids: Sequence[str] | None, doc_types: Sequence[str], until: date,
                     per_account: int) -> dict[str, list[sqlite3.Row]]:
    """account → its newest documents of the types, dated (or ingested) up to ``until``, read from the registry
    alone (no vector store needed); empty when no store exists yet."""
    path = data_dir / "knowledge.db"
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        accounts = "" if account_ids is None else f"AND account_id IN ({','.join('?' * len(account_ids))})"
        rows = conn.execute(
            f"SELECT * FROM (SELECT doc_id, account_id, doc_type, doc_subtype, title, content_hash, "
            f"COALESCE(doc_date, substr(ingested_at, 1, 10)) AS day, row_number() OVER (PARTITION BY account_id "
            f"ORDER BY COALESCE(doc_date, substr(ingested_at, 1, 10)) DESC, doc_id) AS n FROM documents "
            f"WHERE doc_type IN ({','.join('?' * len(doc_types))}) {accounts} "
            f"AND COALESCE(doc_date, substr(ingested_at, 1, 10)) <= ?) WHERE n <= ? ORDER BY account_id, n",
            [*doc_types, *(account_ids or []), until.isoformat(), per_account]).fetchall()
    except sqlite3.OperationalError:  # a store being created has no registry yet
        return {}
    finally:
        conn.close()
    out: dict[str, list[sqlite3.Row]] = {}
    for row in rows:
        out.setdefault(row["account_id"], []).append(row)
    return out


def _date_ord(day: date | None) -> int:
    return int(day.strftime("%Y%m%d")) if day else 0


class _Guarded:
    """The Chroma collection, whose connection failures become :class:`StoreError` (503 with the reason)
    instead of a 500: a Chroma server that went away after the store was opened."""

    def __init__(self, collection: Any, where: str) -> None:
        self._collection, self._where = collection, where

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return attribute(*args, **kwargs)
            except (ConnectionError, TimeoutError, httpx.TransportError) as exc:
                raise StoreError(f"vector store unavailable ({self._where}): {exc}") from exc

        return call


class KnowledgeStore:
    def __init__(self, data_dir: Path, *, chroma_url: str | None = None,
                 embedding: KamEmbedding | None = None) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / "knowledge.db"
        self._local = threading.local()
        self._vector_cache: dict[str, tuple[int, tuple[list[str], np.ndarray, np.ndarray, np.ndarray]]] = {}
        self._cache_lock = threading.Lock()
        self.embedding = embedding or KamEmbedding()
        self._where = chroma_url or str(data_dir / "chroma")
        try:
            self.client = chroma_client(data_dir, chroma_url)
            emptied = self._prepare_schema()
            if emptied:
                self.client.delete_collection(COLLECTION)
            self.collection = _Guarded(self._open_collection(), self._where)
        except Exception as exc:  # the Chroma server may be down: say so, with the URL
            raise StoreError(f"vector store unavailable ({chroma_url or data_dir / 'chroma'}): {exc}") from exc

    def _open_collection(self) -> Any:
        if COLLECTION in [c.name for c in self.client.list_collections()]:
            return self.client.get_collection(COLLECTION)  # its embedding function comes from its own config
        return self.client.create_collection(COLLECTION, embedding_function=self.embedding,
                                             configuration={"hnsw": {"space": "cosine"}})

    def _prepare_schema(self) -> bool:
        """Create or upgrade the registry; True when an older schema was emptied (re-ingest to fill it)."""
        with self._connect() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            has_tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'documents'").fetchone()[0]
            emptied = bool(has_tables) and version < 3
            if emptied:
                log.warning("knowledge store schema %s is outdated; emptied it, re-run kam ingest", version)
                conn.executescript("DROP TABLE IF EXISTS chunks_fts; DROP TABLE IF EXISTS vectors; "
                                   "DROP TABLE IF EXISTS chunks; DROP TABLE IF EXISTS documents;")
            elif has_tables and version == 3:  # keyword indexes changed: rebuild them from the registry's text
                conn.executescript("DROP TABLE IF EXISTS chunks_fts;")
            conn.executescript(SCHEMA)
            if has_tables and version == 3:
                rows = conn.execute("SELECT c.*, d.language FROM chunks c JOIN documents d USING (doc_id)")
                self._index_keywords(conn, [(r["chunk_id"], r["text"], r["heading"], r["account_id"],
                                             r["doc_type"], r["language"]) for r in rows])
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        return emptied and COLLECTION in [c.name for c in self.client.list_collections()]

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

    # --- the model that made the vectors -------------------------------------------------------------
    def _meta(self, key: str) -> Any:
        row = self.db.execute("SELECT value FROM store_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else row[0]

    @property
    def vectors_model(self) -> str | None:
        """The model the stored vectors come from (None for an empty store)."""
        recorded = self._meta("embedding_model")
        if recorded is not None:
            return str(recorded)
        return LEGACY_MODEL if self.db.execute("SELECT 1 FROM chunks LIMIT 1").fetchone() else None

    def check_model(self) -> None:
        """Raise when the stored vectors come from another model than the configured one."""
        stored = self.vectors_model
        if stored is not None and stored != self.embedding.model_id:
            raise StoreError(f"the knowledge store's vectors come from {stored}, the configured model is "
                             f"{self.embedding.model_id}; run `kam ingest --reembed` (vector spaces must not mix)")

    def reembed(self, progress: Callable[[int], None] | None = None, batch: int = 256) -> int:
        """Embed every chunk again with the configured model and record it; returns the number of chunks."""
        encoder = self.embedding.encoder()
        rows = self.db.execute("SELECT c.chunk_id, c.account_id, c.doc_type, c.doc_id, c.clause, c.start, "
                               'c."end", c.text, d.source, d.doc_date, d.language, d.content_hash '
                               "FROM chunks c JOIN documents d USING (doc_id) ORDER BY c.account_id").fetchall()
        if COLLECTION in [c.name for c in self.client.list_collections()]:
            self.client.delete_collection(COLLECTION)
        self.collection = _Guarded(self.client.create_collection(
            COLLECTION, embedding_function=self.embedding, configuration={"hnsw": {"space": "cosine"}}), self._where)
        for start in range(0, len(rows), batch):
            part = rows[start:start + batch]
            vectors = encoder.passages([r["text"] for r in part])
            self.collection.upsert(
                ids=[r["chunk_id"] for r in part], embeddings=[v.tolist() for v in vectors],
                documents=[r["text"] for r in part],
                metadatas=[self._metadata(r["account_id"], r["doc_type"], r["doc_id"], r["source"],
                                          date.fromisoformat(r["doc_date"]) if r["doc_date"] else None,
                                          r["language"], r["content_hash"], r["clause"], r["start"], r["end"])
                           for r in part])
            with self.db:
                self.db.executemany("UPDATE vectors SET embedding = ? WHERE account_id = ? AND doc_type = ? AND "
                                    "chunk_id = ?", [(np.asarray(v, dtype=np.float32).tobytes(), r["account_id"],
                                                      r["doc_type"], r["chunk_id"]) for r, v in zip(part, vectors,
                                                                                                     strict=True)])
                self._count_write()
            if progress:
                progress(len(part))
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('embedding_model', ?)",
                            (self.embedding.model_id,))
            self._count_write()
        return len(rows)

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

    def timeline(self, account_ids: Sequence[str] | None, doc_types: Sequence[str] | None, period: DateRange,
                 limit: int = 100) -> list[StoredChunk]:
        """Dated documents, newest first, each as its first chunk (notes and mails are one chunk)."""
        clauses: list[str] = ["d.doc_date IS NOT NULL"]
        params: list[object] = []
        if account_ids is not None:
            clauses.append(f"d.account_id IN ({','.join('?' * len(account_ids))})")
            params.extend(account_ids)
        if doc_types is not None:
            clauses.append(f"d.doc_type IN ({','.join('?' * len(doc_types))})")
            params.extend(doc_types)
        if not period.open:
            where, values = period.sql("d.doc_date")
            clauses.append(where)
            params.extend(values)
        rows = self.db.execute(
            f"SELECT c.chunk_id FROM documents d JOIN chunks c ON c.doc_id = d.doc_id AND c.seq = 0 "
            f"WHERE {' AND '.join(clauses)} ORDER BY d.doc_date DESC, d.doc_id LIMIT ?", (*params, limit)).fetchall()
        found = self.chunks_by_id([r[0] for r in rows])
        return [found[r[0]] for r in rows if r[0] in found]

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
    @staticmethod
    def _metadata(account_id: str, doc_type: str, doc_id: str, source: str, doc_date: date | None, language: str,
                  content_hash: str, clause: str | None, start: int, end: int) -> dict[str, Any]:
        return {"account_id": account_id, "doc_type": doc_type, "doc_id": doc_id, "source": source,
                "date": doc_date.isoformat() if doc_date else "", "date_ord": _date_ord(doc_date),
                "language": language, "content_hash": content_hash, "clause": clause or "", "start": start,
                "end": end}

    def put_document(self, record: DocumentRecord, chunks: Sequence[Chunk], embeddings: Sequence[Any]) -> None:
        self.put_documents([(record, chunks, embeddings)])

    def put_documents(self, items: Sequence[tuple[DocumentRecord, Sequence[Chunk], Sequence[Any]]]) -> None:
        """Replace documents and their chunks in one batch; the previous versions stay if anything fails."""
        self.check_model()
        doc_ids = [record.doc_id for record, _, _ in items]
        marks = ",".join("?" * len(doc_ids))
        old_ids = {r[0] for r in self.db.execute(f"SELECT chunk_id FROM chunks WHERE doc_id IN ({marks})", doc_ids)}
        ids, vectors, texts, metadatas = [], [], [], []
        for record, chunks, embeddings in items:
            for chunk, embedding in zip(chunks, embeddings, strict=True):
                ids.append(chunk.chunk_id)
                vectors.append([float(x) for x in embedding])
                texts.append(chunk.text)
                metadatas.append(self._metadata(record.account_id, record.doc_type, record.doc_id, record.source,
                                                record.doc_date, record.language, record.content_hash, chunk.clause,
                                                chunk.start, chunk.end))
        for start in range(0, len(ids), CHROMA_BATCH):
            window = slice(start, start + CHROMA_BATCH)
            self.collection.upsert(ids=ids[window], embeddings=vectors[window], documents=texts[window],
                                   metadatas=metadatas[window])
        try:
            with self.db:  # one transaction for the whole batch
                for record, chunks, embeddings in items:
                    self._delete_rows(record.doc_id)
                    self._insert_rows(record, chunks, embeddings)
                self.db.execute("INSERT OR REPLACE INTO store_meta (key, value) VALUES ('embedding_model', ?)",
                                (self.embedding.model_id,))
                self._count_write()
        except Exception:
            stale = [i for i in ids if i not in old_ids]
            if stale:
                self.collection.delete(ids=stale)
            raise
        stale_ids = sorted(old_ids - set(ids))
        if stale_ids:
            self.collection.delete(ids=stale_ids)

    @staticmethod
    def _index_keywords(conn: sqlite3.Connection, rows: Iterable[tuple[str, str, str | None, str, str, str]]) -> None:
        """(chunk_id, text, heading, account_id, doc_type, language) into both keyword indexes."""
        rows = list(rows)
        conn.executemany(
            "INSERT INTO chunks_fts (stems, hstems, acct, kind, chunk_id) VALUES (?,?,?,?,?)",
            [(keywords.stems(text, language), keywords.stems(heading or "", language), account_token(account),
              kind_token(kind), chunk_id) for chunk_id, text, heading, account, kind, language in rows])
        conn.executemany(
            "INSERT INTO chunks_tri (body, acct, kind, chunk_id) VALUES (?,?,?,?)",
            [(f"{heading or ''}\n{text}", trigram_code(account_token(account)), trigram_code(kind_token(kind)),
              chunk_id)
             for chunk_id, text, heading, account, kind, _language in rows])

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
        self._index_keywords(self.db, [(c.chunk_id, c.text, c.heading, record.account_id, record.doc_type,
                                        record.language) for c in chunks])

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
        for table in ("chunks_fts", "chunks_tri"):
            self.db.execute(f"DELETE FROM {table} WHERE chunk_id IN (SELECT chunk_id FROM chunks WHERE doc_id = ?)",
                            (doc_id,))
        self.db.execute("DELETE FROM vectors WHERE (account_id, doc_type, chunk_id) IN "
                        "(SELECT account_id, doc_type, chunk_id FROM chunks WHERE doc_id = ?)", (doc_id,))
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE doc_id = ?", (doc_id,))

    # --- search primitives (access filtering is the retriever's job) ----------------------------
    def _keyword_matches(self, table: str, selected: str, match: str, period: DateRange, tail: str,
                         tail_params: Sequence[Any]) -> list[sqlite3.Row]:
        if period.open:
            return self.db.execute(f"SELECT {table}.chunk_id, {selected} FROM {table} WHERE {table} MATCH ? {tail}",
                                   (match, *tail_params)).fetchall()
        where, params = period.sql("d.doc_date")
        return self.db.execute(
            f"SELECT {table}.chunk_id, {selected} FROM {table} "
            f"JOIN chunks c ON c.chunk_id = {table}.chunk_id JOIN documents d ON d.doc_id = c.doc_id "
            f"WHERE {table} MATCH ? AND {where} {tail}", (match, *params, *tail_params)).fetchall()

    def _keyword_search(self, table: str, ranking: str, match: str, limit: int, period: DateRange
                        ) -> list[tuple[str, float]]:
        rows = self._keyword_matches(table, f"{ranking} AS score", match, period, "ORDER BY score LIMIT ?", (limit,))
        return [(r[0], -r[1]) for r in rows]  # FTS5's bm25 is lower-is-better

    def bm25(self, match: str, limit: int, period: DateRange = ANY_TIME) -> list[tuple[str, float]]:
        return self._keyword_search("chunks_fts", "bm25(chunks_fts, 1.0, 0.5, 0.0, 0.0)", match, limit, period)

    def trigram(self, match: str, limit: int, period: DateRange = ANY_TIME) -> list[tuple[str, float]]:
        return self._keyword_search("chunks_tri", "bm25(chunks_tri, 1.0, 0.0, 0.0)", match, limit, period)

    def trigram_in_scope(self, match: str, terms: Sequence[str], limit: int, period: DateRange = ANY_TIME
                         ) -> list[tuple[str, float]]:
        """Trigram hits for a narrow scope (a KAM's accounts), ranked by BM25 over the rows the filter leaves.

        FTS5's bm25() first counts each phrase over the whole table for its IDF, whatever the filter: at 100k
        chunks that alone took 16 ms p95 for one account, against 2 ms to fetch the account's matching rows.
        So the statistics (document frequency, length) come from the scope's matching rows instead."""
        rows = self._keyword_matches("chunks_tri", "body", match, period, "LIMIT ?", (SCOPED_TRIGRAM_ROWS,))
        return bm25_ranked([(r[0], r[1].lower()) for r in rows], [t.lower() for t in terms], limit)

    def exact_vector(self, query_embedding: Sequence[float], account_ids: Sequence[str],
                     doc_types: Sequence[str] | None, limit: int, period: DateRange = ANY_TIME
                     ) -> list[tuple[str, float]]:
        """Exact cosine over the chunks of a few accounts (an HNSW search with a very selective filter is
        slow and approximate; scoring a KAM's few thousand vectors exactly is fast)."""
        ids: list[str] = []
        blocks = []
        version = self.write_count()
        for account_id in account_ids:
            account_ids_, matrix, types, days = self._account_vectors(account_id, version)
            keep = np.ones(len(account_ids_), dtype=bool)
            if doc_types:
                keep &= np.isin(types, list(doc_types))
            if not period.open:
                keep &= np.array([period.contains(d) for d in days], dtype=bool)
            if not keep.all():
                account_ids_, matrix = [i for i, k in zip(account_ids_, keep, strict=True) if k], matrix[keep]
            ids.extend(account_ids_)
            blocks.append(matrix)
        if not ids:
            return []
        scores = np.concatenate(blocks) @ np.asarray(query_embedding, dtype=np.float32)
        top = np.argsort(-scores)[:limit]
        return [(ids[i], float(scores[i])) for i in top]

    def _account_vectors(self, account_id: str, version: int
                         ) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
        """(chunk ids, vectors, doc types, dates) of one account, cached until any connection writes the store."""
        cached = self._vector_cache.get(account_id)
        if cached is not None and cached[0] == version:
            return cached[1]
        cursor = self.db.cursor()
        cursor.row_factory = None  # plain tuples: thousands of rows
        rows = cursor.execute("SELECT v.chunk_id, v.doc_type, d.doc_date, v.embedding FROM vectors v "
                              "JOIN chunks c ON c.chunk_id = v.chunk_id JOIN documents d ON d.doc_id = c.doc_id "
                              "WHERE v.account_id = ?", (account_id,)).fetchall()
        matrix = (np.frombuffer(b"".join(r[3] for r in rows), dtype=np.float32).reshape(len(rows), -1)
                  if rows else np.zeros((0, DIMENSIONS), dtype=np.float32))
        entry = ([r[0] for r in rows], matrix, np.array([r[1] for r in rows], dtype=object),
                 np.array([r[2] for r in rows], dtype=object))
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
