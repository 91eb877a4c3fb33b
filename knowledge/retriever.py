"""Hybrid retrieval with access control enforced here, not by callers.

Vector search (Chroma) and BM25 (SQLite FTS5) each return candidates *already filtered* to the chunks the
user may see; reciprocal rank fusion merges them. Exact clause words ("Vertragsstrafe", "residuals") are
found by BM25 even where the English-trained embedding misses them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from core import access
from core.access import Principal
from knowledge.embeddings import get_encoder
from knowledge.store import KnowledgeStore, StoredChunk, account_token, kind_token

Mode = Literal["hybrid", "vector", "bm25"]
DOC_TYPES = access.DOC_TYPES
RRF_K = 60
# Up to this many accounts in scope (a KAM's portfolio), vectors are scored exactly from the registry;
# beyond it (head of sales, legal) Chroma's HNSW index answers. Measured: benchmarks/knowledge_store.py.
EXACT_SEARCH_MAX_ACCOUNTS = 200
MAX_QUERY_TERMS = 24


@dataclass(frozen=True)
class AccessScope:
    """What a user may retrieve: ``None`` means no restriction on that dimension."""

    account_ids: frozenset[str] | None
    doc_types: frozenset[str] | None
    user_id: str | None = None

    @classmethod
    def everything(cls) -> AccessScope:
        return cls(None, None)

    @classmethod
    def for_principal(cls, principal: Principal) -> AccessScope:
        """What the access policy lets the principal retrieve (core.access decides, not this module)."""
        return cls(access.document_accounts(principal), access.document_types(principal), principal.user_id)

    def narrow(self, account_id: str | None, doc_types: Sequence[str] | None) -> AccessScope | None:
        """The scope intersected with a request's filters; None when nothing is left to see."""
        accounts = self.account_ids
        if account_id is not None:
            if accounts is not None and account_id not in accounts:
                return None
            accounts = frozenset({account_id})
        types = self.doc_types
        if doc_types:
            requested = frozenset(doc_types)
            types = requested if types is None else types & requested
            if not types:
                return None
        return AccessScope(accounts, types, self.user_id)


@dataclass(frozen=True)
class Hit:
    chunk: StoredChunk
    score: float
    vector_rank: int | None = None
    bm25_rank: int | None = None
    scores: dict[str, float] = field(default_factory=dict)

    def citation(self) -> dict[str, Any]:
        c = self.chunk
        return {"chunk_id": c.chunk_id, "doc_id": c.doc_id, "source": c.source, "title": c.title,
                "clause": c.clause, "heading": c.heading, "start": c.start, "end": c.end,
                "account_id": c.account_id, "doc_type": c.doc_type, "date": c.doc_date}


# Function words carry no topic; left in, they let BM25 rank any chunk that shares "the" or "der".
STOPWORDS = frozenset("""
a an and are as at be by can do does for from has have how i if in is it its me must my of on or our shall
that the their there this to us was we what when where which who why will with you your
aber als am an auch auf aus bei bin bis das dass dem den der des die dies diese doch du ein eine einem einen
einer eines er es für hat hatte ich ihr im in ist ja kann mit muss nach nicht noch nur oder sein sich sie
sind so über um und uns unser von vor was wer wie wir wird zu zum zur
""".split())


def fts_query(text: str, scope: AccessScope) -> str | None:
    """An FTS5 MATCH expression: any of the content words, restricted to the scope's accounts and types."""
    words = [w for w in re.findall(r"\w+", text.lower()) if len(w) > 1 and w not in STOPWORDS][:MAX_QUERY_TERMS]
    if not words:
        return None
    terms = " OR ".join(f'"{w}"' for w in dict.fromkeys(words))
    parts = [f"({{text heading}}: {terms})"]
    if scope.account_ids is not None:
        parts.append("acct: (" + " OR ".join(sorted(account_token(a) for a in scope.account_ids)) + ")")
    if scope.doc_types is not None:
        parts.append("kind: (" + " OR ".join(sorted(kind_token(t) for t in scope.doc_types)) + ")")
    return " AND ".join(parts)


def chroma_where(scope: AccessScope) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if scope.account_ids is not None:
        clauses.append({"account_id": {"$in": sorted(scope.account_ids)}})
    if scope.doc_types is not None:
        clauses.append({"doc_type": {"$in": sorted(scope.doc_types)}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class Retriever:
    def __init__(self, store: KnowledgeStore, *, candidates: int = 40) -> None:
        self.store = store
        self.candidates = candidates

    def search(self, query: str, scope: AccessScope, *, account_id: str | None = None,
               doc_types: Sequence[str] | None = None, k: int = 8, mode: Mode = "hybrid") -> list[Hit]:
        narrowed = scope.narrow(account_id, doc_types)
        if narrowed is None or not query.strip():
            return []
        if narrowed.account_ids is not None and not narrowed.account_ids:
            return []
        vector_ranked: list[tuple[str, float]] = []
        bm25_ranked: list[tuple[str, float]] = []
        if mode in ("hybrid", "vector"):
            embedding = get_encoder(self.store.embedding.cache_dir, self.store.embedding.variant).encode([query])[0]
            if narrowed.account_ids is not None and len(narrowed.account_ids) <= EXACT_SEARCH_MAX_ACCOUNTS:
                vector_ranked = self.store.exact_vector(embedding, sorted(narrowed.account_ids),
                                                        sorted(narrowed.doc_types) if narrowed.doc_types else None,
                                                        self.candidates)
            else:
                vector_ranked = self.store.vector(embedding, chroma_where(narrowed), self.candidates)
        if mode in ("hybrid", "bm25"):
            match = fts_query(query, narrowed)
            bm25_ranked = self.store.bm25(match, self.candidates) if match else []
        fused: dict[str, dict[str, Any]] = {}
        for name, ranked in (("vector", vector_ranked), ("bm25", bm25_ranked)):
            for rank, (chunk_id, score) in enumerate(ranked, start=1):
                entry = fused.setdefault(chunk_id, {"rrf": 0.0})
                entry["rrf"] += 1.0 / (RRF_K + rank)
                entry[f"{name}_rank"] = rank
                entry[name] = score
        ordered = sorted(fused.items(), key=lambda item: -item[1]["rrf"])
        chunks = self.store.chunks_by_id([chunk_id for chunk_id, _ in ordered[: k * 2]])
        hits = []
        for chunk_id, entry in ordered:
            chunk = chunks.get(chunk_id)
            if chunk is None or not _allowed(chunk, narrowed):  # registry is the truth; re-check the scope
                continue
            hits.append(Hit(chunk, round(entry["rrf"], 6), entry.get("vector_rank"), entry.get("bm25_rank"),
                            {key: round(value, 6) for key, value in entry.items()
                             if key in ("vector", "bm25")}))
            if len(hits) == k:
                break
        return hits


def _allowed(chunk: StoredChunk, scope: AccessScope) -> bool:
    return ((scope.account_ids is None or chunk.account_id in scope.account_ids)
            and (scope.doc_types is None or chunk.doc_type in scope.doc_types))
