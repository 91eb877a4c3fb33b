"""Hybrid retrieval with access control enforced here, not by callers.

Three ranked lists, each *already filtered* to the chunks the user may see: vectors (multilingual, so an
English question finds a German clause), BM25 over Snowball stems ("Vertragsstrafe" finds "Vertragsstrafen")
and BM25 over trigrams (a word inside a compound: "Preis" in "Preisanpassung"). Weighted reciprocal rank
fusion merges them, and no document type may fill the whole result while others have candidates.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from core import access
from core.access import Principal
from knowledge import keywords
from knowledge.store import ANY_TIME, DateRange, KnowledgeStore, StoredChunk, account_token, kind_token, trigram_code

Mode = Literal["hybrid", "vector", "bm25"]
T = TypeVar("T")
DOC_TYPES = access.DOC_TYPES
# Up to this many accounts in scope (a KAM's portfolio), vectors are scored exactly from the registry;
# beyond it (head of sales, legal) Chroma's HNSW index answers. Measured: benchmarks/knowledge_store.py.
EXACT_SEARCH_MAX_ACCOUNTS = 200


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


def _any_of(terms: Sequence[str]) -> str:
    return " OR ".join(f'"{term}"' for term in terms)


def _filters(scope: AccessScope, wrap: Callable[[str], str] = lambda token: token) -> list[str]:
    parts = []
    if scope.account_ids is not None:
        parts.append("acct: (" + " OR ".join(f'"{wrap(account_token(a))}"' for a in sorted(scope.account_ids)) + ")")
    if scope.doc_types is not None:
        parts.append("kind: (" + " OR ".join(f'"{wrap(kind_token(t))}"' for t in sorted(scope.doc_types)) + ")")
    return parts


def fts_query(text: str, scope: AccessScope) -> str | None:
    """A MATCH expression for the stemmed word index: any stem of the content words (German or English),
    restricted to the scope's accounts and types."""
    terms = keywords.query_stems(text)
    if not terms:
        return None
    return " AND ".join([f"({{stems hstems}}: ({_any_of(terms)}))", *_filters(scope)])


def trigram_query(text: str, scope: AccessScope) -> str | None:
    """A MATCH expression for the trigram index: the content words as substrings (inside compounds)."""
    terms = keywords.trigram_words(text)
    if not terms:
        return None
    return " AND ".join([f"(body: ({_any_of(terms)}))", *_filters(scope, trigram_code)])


def chroma_where(scope: AccessScope, period: DateRange = ANY_TIME) -> dict[str, Any] | None:
    clauses: list[dict[str, Any]] = []
    if scope.account_ids is not None:
        clauses.append({"account_id": {"$in": sorted(scope.account_ids)}})
    if scope.doc_types is not None:
        clauses.append({"doc_type": {"$in": sorted(scope.doc_types)}})
    if period.since is not None:
        clauses.append({"date_ord": {"$gte": int(period.since.strftime("%Y%m%d"))}})
    if period.until is not None:
        clauses.append({"date_ord": {"$lte": int(period.until.strftime("%Y%m%d"))}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass(frozen=True)
class Fusion:
    """Weighted reciprocal rank fusion: score = Σ weight / (k + rank) over the ranked lists a chunk is in.

    The constants come from a grid search on the retrieval golden set's dev split
    (``benchmarks/fusion_tuning.py``); the holdout split was scored once, with the chosen ones."""

    k: int = 10
    vector: float = 1.5
    words: float = 0.5
    trigrams: float = 0.5
    type_share: float = 0.625  # of the k hits, at most ⌈type_share·k⌉ of one document type (see diversify)

    def fuse(self, rankings: dict[str, list[tuple[str, float]]]) -> list[tuple[str, dict[str, Any]]]:
        """Chunk ids best first, each with its fused score ("rrf") and its rank and score per source."""
        fused: dict[str, dict[str, Any]] = {}
        for name, hits in rankings.items():
            weight = getattr(self, name)
            if not weight:
                continue  # a source weighted 0 is switched off, not ranked last
            for rank, (chunk_id, score) in enumerate(hits, start=1):
                entry = fused.setdefault(chunk_id, {"rrf": 0.0})
                entry["rrf"] += weight / (self.k + rank)
                entry[f"{name}_rank"] = rank
                entry[name] = score
        return sorted(fused.items(), key=lambda item: -item[1]["rrf"])

    def diversify(self, ranked: Sequence[T], doc_type: Callable[[T], str], k: int) -> list[T]:
        """The k best, taking at most ⌈type_share·k⌉ of one document type while other types have candidates:
        an account's dozens of similar CRM notes must not push the one contract clause that answers out."""
        cap = max(1, math.ceil(self.type_share * k))
        picked: list[T] = []
        held: list[T] = []
        taken: Counter[str] = Counter()
        for item in ranked:
            kind = doc_type(item)
            if taken[kind] < cap:
                picked.append(item)
                taken[kind] += 1
                if len(picked) == k:
                    return picked
            else:
                held.append(item)
        return (picked + held)[:k]


FUSION = Fusion()
SOURCES = ("vector", "words", "trigrams")


class Retriever:
    def __init__(self, store: KnowledgeStore, *, candidates: int = 40, fusion: Fusion = FUSION) -> None:
        self.store = store
        self.candidates = candidates
        self.fusion = fusion

    def search(self, query: str, scope: AccessScope, *, account_id: str | None = None,
               doc_types: Sequence[str] | None = None, k: int = 8, mode: Mode = "hybrid",
               period: DateRange = ANY_TIME) -> list[Hit]:
        """The k best chunks the scope may see (vector, keywords or both fused), optionally dated in a period."""
        narrowed = scope.narrow(account_id, doc_types)
        if narrowed is None or not query.strip():
            return []
        ordered = self.fusion.fuse(self.rankings(query, narrowed, mode, period))
        chunks = self.store.chunks_by_id([chunk_id for chunk_id, _ in ordered])
        found = []
        for chunk_id, entry in ordered:
            chunk = chunks.get(chunk_id)
            if chunk is None or not _allowed(chunk, narrowed) or not period.contains(chunk.doc_date):
                continue  # the registry is the truth; the scope is checked once more on every hit
            keyword_rank = min((r for r in (entry.get("words_rank"), entry.get("trigrams_rank")) if r), default=None)
            found.append(Hit(chunk, round(entry["rrf"], 6), entry.get("vector_rank"), keyword_rank,
                             {key: round(value, 6) for key, value in entry.items() if key in SOURCES}))
        return self.fusion.diversify(found, lambda hit: hit.chunk.doc_type, k)

    def rankings(self, query: str, scope: AccessScope, mode: Mode = "hybrid", period: DateRange = ANY_TIME
                 ) -> dict[str, list[tuple[str, float]]]:
        """Each source's ranked (chunk id, score) candidates for an already narrowed scope."""
        if scope.account_ids is not None and not scope.account_ids:
            return {}
        ranked: dict[str, list[tuple[str, float]]] = {}
        if mode in ("hybrid", "vector"):
            self.store.check_model()
            embedding = self.store.embedding.encoder().queries([query])[0]
            if scope.account_ids is not None and len(scope.account_ids) <= EXACT_SEARCH_MAX_ACCOUNTS:
                ranked["vector"] = self.store.exact_vector(
                    embedding, sorted(scope.account_ids), sorted(scope.doc_types) if scope.doc_types else None,
                    self.candidates, period)
            else:
                ranked["vector"] = self.store.vector(embedding, chroma_where(scope, period), self.candidates)
        if mode in ("hybrid", "bm25"):
            if (match := fts_query(query, scope)) is not None:
                ranked["words"] = self.store.bm25(match, self.candidates, period)
            if (match := trigram_query(query, scope)) is not None:
                if scope.account_ids is not None and len(scope.account_ids) <= EXACT_SEARCH_MAX_ACCOUNTS:
                    ranked["trigrams"] = self.store.trigram_in_scope(match, keywords.trigram_words(query),
                                                                     self.candidates, period)
                else:
                    ranked["trigrams"] = self.store.trigram(match, self.candidates, period)
        return ranked

    def timeline(self, scope: AccessScope, *, account_id: str | None = None,
                 doc_types: Sequence[str] | None = ("note", "mail"), period: DateRange = ANY_TIME,
                 limit: int = 100) -> list[StoredChunk]:
        """An account's dated notes and mails (or other types), newest first, within what the scope may see."""
        narrowed = scope.narrow(account_id, doc_types)
        if narrowed is None:
            return []
        accounts = None if narrowed.account_ids is None else sorted(narrowed.account_ids)
        types = None if narrowed.doc_types is None else sorted(narrowed.doc_types)
        return [c for c in self.store.timeline(accounts, types, period, limit) if _allowed(c, narrowed)]


def _allowed(chunk: StoredChunk, scope: AccessScope) -> bool:
    return ((scope.account_ids is None or chunk.account_id in scope.account_ids)
            and (scope.doc_types is None or chunk.doc_type in scope.doc_types))
