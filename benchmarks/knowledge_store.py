"""Knowledge store: ingest throughput and query latency at 10k and 100k chunks.

Usage: .venv/bin/python benchmarks/knowledge_store.py [--dir /tmp/kam-knowledge-bench] [--sizes 10000 100000]

1. Ingest throughput: the real pipeline (PDF extraction, chunking, embedding, Chroma + FTS5 writes) over the
   demo documents and CRM notes of 40 accounts, for each embedding variant.
2. Query latency: stores of N chunks spread over N/50 accounts. Chunk texts are real demo chunks; to build
   100k chunks in minutes, each unique text is embedded once and repeated with a little noise on its vector
   (the index size and the filters are what matter for latency). Queries are hybrid searches with a
   one-account filter and with a KAM's 40-account scope, embedding of the query included.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from datetime import date
from pathlib import Path

import numpy as np

from core.crm import demo
from core.crm.importer import import_directory
from core.db.migrate import upgrade
from core.db.session import session_scope
from knowledge.chunking import Chunk
from knowledge.embeddings import KamMiniLmEmbedding, get_encoder
from knowledge.ingest import Ingestor
from knowledge.retriever import AccessScope, Retriever
from knowledge.store import DocumentRecord, KnowledgeStore

QUERIES = ["Vertragsstrafe Lieferverzug", "contractual penalty for late delivery", "Preisreduktion Einkauf",
           "payment terms invoice", "Haftung Höchstbetrag", "complaint 8D report", "forecast call demand",
           "Abrufplan weniger abgerufen", "residuals", "governing law jurisdiction"]
CHUNKS_PER_ACCOUNT = 50


def ingest_throughput(root: Path, variant: str) -> tuple[int, float]:
    corpus = root / "corpus"
    store_dir = root / f"ingest-{variant}"
    shutil.rmtree(store_dir, ignore_errors=True)
    store = KnowledgeStore(store_dir, embedding=KamMiniLmEmbedding(variant=variant))  # type: ignore[arg-type]
    ingestor = Ingestor(store)
    url = f"sqlite:///{root / 'crm.db'}"
    started = time.perf_counter()
    files = ingestor.ingest_path(corpus / "docs")
    with session_scope(url) as session:
        notes = ingestor.ingest_crm_notes(session)
    return files.chunks + notes.chunks, time.perf_counter() - started


def build_scaled_store(root: Path, size: int, texts: list[str], vectors: np.ndarray) -> KnowledgeStore:
    """One document of 50 chunks per account, written through the normal put_document path."""
    store_dir = root / f"scale-{size}"
    shutil.rmtree(store_dir, ignore_errors=True)
    store = KnowledgeStore(store_dir)
    rng = np.random.default_rng(7)
    for doc_start in range(0, size, CHUNKS_PER_ACCOUNT):
        account = f"A-{doc_start // CHUNKS_PER_ACCOUNT + 1:05d}"
        doc_id = f"bench/{account}"
        chunks, embeddings = [], []
        for i in range(min(CHUNKS_PER_ACCOUNT, size - doc_start)):
            text = texts[(doc_start + i) % len(texts)]
            chunks.append(Chunk(f"{doc_id}#{i}", doc_id, i, text, 0, len(text)))
            noisy = vectors[(doc_start + i) % len(texts)] + rng.normal(0, 0.02, vectors.shape[1]).astype(np.float32)
            embeddings.append(noisy / np.linalg.norm(noisy))
        store.put_document(DocumentRecord(doc_id, f"bench:{account}", "note", "bench", account, "bench", None,
                                          "de", doc_id), chunks, embeddings)
    return store


def latency(store: KnowledgeStore, scope: AccessScope, account: str | None, mode: str = "hybrid") -> list[float]:
    retriever = Retriever(store)
    timings = []
    for _round in range(3):
        for query in QUERIES:
            started = time.perf_counter()
            retriever.search(query, scope, account_id=account, k=8, mode=mode)  # type: ignore[arg-type]
            timings.append((time.perf_counter() - started) * 1000)
    return sorted(timings)


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/kam-knowledge-bench"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--ingest-accounts", type=int, default=40)
    parser.add_argument("--skip-ingest", action="store_true", help="Only the query latency part.")
    args = parser.parse_args()
    root = args.dir
    shutil.rmtree(root, ignore_errors=True)
    demo.generate(root / "corpus", accounts=args.ingest_accounts, seed=7, as_of=date(2026, 11, 26),
                  document_accounts=args.ingest_accounts)
    upgrade(f"sqlite:///{root / 'crm.db'}")
    import_directory(root / "corpus", f"sqlite:///{root / 'crm.db'}")
    for variant in () if args.skip_ingest else ("fp32", "int8"):
        chunks, seconds = ingest_throughput(root, variant)
        print(f"ingest {variant}: {chunks} chunks in {seconds:.1f}s = {chunks / seconds:.0f} chunks/s")

    if args.skip_ingest:
        source = KnowledgeStore(root / "ingest-fp32")
        Ingestor(source).ingest_path(root / "corpus" / "docs")
        with session_scope(f"sqlite:///{root / 'crm.db'}") as session:
            Ingestor(source).ingest_crm_notes(session)
    else:
        source = KnowledgeStore(root / "ingest-fp32")
    texts = [r[0] for r in source.db.execute("SELECT text FROM chunks ORDER BY chunk_id")]
    vectors = get_encoder(variant="fp32").encode(texts)
    print(f"unique chunk texts for scaling: {len(texts)}")
    for size in args.sizes:
        started = time.perf_counter()
        store = build_scaled_store(root, size, texts, vectors)
        print(f"\n{size:,} chunks: built in {time.perf_counter() - started:.0f}s "
              f"({store.counts()['vectors']:,} vectors)")
        accounts = max(1, size // CHUNKS_PER_ACCOUNT)
        one = AccessScope(frozenset({"A-00007"}), None)
        kam = AccessScope(frozenset(f"A-{n:05d}" for n in range(1, min(accounts, 40) + 1)), None)
        for label, scope, account in (("one account", one, "A-00007"), ("KAM scope, 40 accounts", kam, None),
                                      ("no filter (head of sales)", AccessScope.everything(), None)):
            for mode in ("hybrid", "vector", "bm25"):
                t = latency(store, scope, account, mode)
                print(f"  {label:28s} {mode:7s} p50 {statistics.median(t):6.1f} ms  p95 {pct(t, 0.95):6.1f} ms")


if __name__ == "__main__":
    main()
