"""Hybrid retrieval and access control enforced inside the retriever."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import chromadb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from core.access import principal_for_user
from core.db.session import get_engine
from knowledge.retriever import AccessScope, Retriever, chroma_where, fts_query, trigram_query
from knowledge.store import COLLECTION, KnowledgeStore, chroma_client, trigram_code

KAM1_ACCOUNTS = {f"A-{n:05d}" for n in range(1, 13, 2)}  # U-KAM-001 owns the odd demo accounts


def _scope(demo_db: str, user_id: str) -> AccessScope:
    with Session(get_engine(demo_db)) as session:
        return AccessScope.for_principal(principal_for_user(session, user_id))


def test_exact_clause_words_are_found(knowledge_store: KnowledgeStore) -> None:
    retriever = Retriever(knowledge_store)
    hits = retriever.search("Vertragsstrafe", AccessScope.everything(), k=5)
    assert hits and all("Vertragsstrafe" in h.chunk.text for h in hits)
    residuals = retriever.search("residuals", AccessScope.everything(), doc_types=["contract"], k=3)
    assert residuals and all("esiduals" in h.chunk.text for h in residuals)


def test_hits_carry_citations_that_point_back(knowledge_store: KnowledgeStore) -> None:
    hit = Retriever(knowledge_store).search("Haftung leichte Fahrlässigkeit", AccessScope.everything(),
                                            account_id="A-00001", k=1)[0]
    citation = hit.citation()
    assert citation["account_id"] == "A-00001" and citation["clause"] and citation["heading"]
    assert citation["end"] - citation["start"] == len(hit.chunk.text)


def test_kam_sees_only_own_accounts(knowledge_store: KnowledgeStore, demo_db: str) -> None:
    scope = _scope(demo_db, "U-KAM-001")
    retriever = Retriever(knowledge_store)
    hits = retriever.search("Lieferverzug Vertragsstrafe late delivery penalty", scope, k=50)
    assert hits and {h.chunk.account_id for h in hits} <= KAM1_ACCOUNTS | {""}
    assert retriever.search("Vertragsstrafe", scope, account_id="A-00002") == []  # another KAM's account


def test_legal_sees_contracts_of_all_accounts_but_no_notes(knowledge_store: KnowledgeStore, demo_db: str) -> None:
    hits = Retriever(knowledge_store).search("Preisgespräch Kunde Besuch contract", _scope(demo_db, "U-LEGAL-1"), k=30)
    assert hits and {h.chunk.doc_type for h in hits} == {"contract"}
    assert len({h.chunk.account_id for h in hits}) > 1


def test_head_of_sales_sees_everything(knowledge_store: KnowledgeStore, demo_db: str) -> None:
    hits = Retriever(knowledge_store).search("Besuch visit", _scope(demo_db, "U-HOS-1"), k=50)
    assert len({h.chunk.account_id for h in hits}) > 6


words = st.sampled_from(["Vertragsstrafe", "Preis", "price", "delivery", "Lieferverzug", "NDA", "residuals",
                         "Besuch", "A-00002", "acct_a00002", "kind_note", "OR", "*", '"', "acct:", "(", "NEAR"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(query=st.lists(words, min_size=1, max_size=6).map(" ".join),
       account=st.sampled_from([None, "A-00002", "A-00004", "A-00001", ""]),
       doc_types=st.sampled_from([None, ["note"], ["contract", "mail"]]),
       mode=st.sampled_from(["hybrid", "vector", "bm25"]))
def test_no_query_or_filter_reaches_another_kams_chunks(knowledge_store: KnowledgeStore, demo_db: str, query: str,
                                                         account: str | None, doc_types: list[str] | None,
                                                         mode: str) -> None:
    scope = _scope(demo_db, "U-KAM-001")
    hits = Retriever(knowledge_store).search(query, scope, account_id=account, doc_types=doc_types, k=20,
                                             mode=mode)  # type: ignore[arg-type]
    assert {h.chunk.account_id for h in hits} <= KAM1_ACCOUNTS | {""}


def test_filters_are_built_from_the_scope() -> None:
    scope = AccessScope(frozenset({"A-00001"}), frozenset({"contract"}))
    assert chroma_where(scope) == {"$and": [{"account_id": {"$in": ["A-00001"]}}, {"doc_type": {"$in": ["contract"]}}]}
    match = fts_query('Vertragsstrafe" NEAR acct: x', scope)
    assert match is not None and match.endswith('acct: ("acct_a00001") AND kind: ("kind_contract")')
    assert '"near"' in match and '"acct"' in match  # user words are quoted terms, never FTS operators
    assert '"vertragsstraf"' in match  # stemmed
    trigrams = trigram_query('Vertragsstrafe" NEAR acct: x', scope)
    assert trigrams is not None and trigrams.endswith(
        f'acct: ("{trigram_code("acct_a00001")}") AND kind: ("{trigram_code("kind_contract")}")')


def test_reopened_collection_needs_no_embedding_function(knowledge_dir: Path) -> None:
    # the registered function is rebuilt from the collection's config
    collection = chroma_client(knowledge_dir, None).get_collection(COLLECTION)
    result = collection.query(query_texts=["contractual penalty"], n_results=1)
    assert result["ids"][0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_chroma_server_behaves_like_the_embedded_store(tmp_path: Path, demo_csv_dir: Path) -> None:
    port = _free_port()
    chroma = Path(sys.executable).with_name("chroma")
    server = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1",
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
                break
            except Exception:
                time.sleep(0.3)
        from knowledge.ingest import Ingestor

        remote = KnowledgeStore(tmp_path / "remote", chroma_url=f"http://127.0.0.1:{port}")
        local = KnowledgeStore(tmp_path / "local")
        for store in (remote, local):
            Ingestor(store).ingest_path(demo_csv_dir / "docs" / "A-00001")
        assert remote.counts() == local.counts()
        query = "what happens when the supplier delivers late"
        ids = [[h.chunk.chunk_id for h in Retriever(s).search(query, AccessScope.everything(), mode="vector", k=5)]
               for s in (remote, local)]
        assert ids[0] == ids[1]
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_exact_scope_search_agrees_with_the_hnsw_index(knowledge_store: KnowledgeStore) -> None:
    query = knowledge_store.embedding.encoder().queries(["late delivery penalty"])[0]
    exact = knowledge_store.exact_vector(query, ["A-00002"], None, 5)
    approximate = knowledge_store.vector(query, {"account_id": {"$in": ["A-00002"]}}, 5)
    assert [c for c, _ in exact] == [c for c, _ in approximate]
    assert [round(s, 4) for _, s in exact] == [round(s, 4) for _, s in approximate]


def test_an_outdated_store_is_emptied_for_reingest(tmp_path: Path, demo_csv_dir: Path) -> None:
    import sqlite3

    from knowledge.ingest import Ingestor

    store = KnowledgeStore(tmp_path)
    Ingestor(store).ingest_path(demo_csv_dir / "docs" / "A-00001")
    assert store.counts()["chunks"] > 0
    with sqlite3.connect(tmp_path / "knowledge.db") as conn:
        conn.execute("PRAGMA user_version = 1")
    reopened = KnowledgeStore(tmp_path)
    assert reopened.counts() == {"documents": 0, "chunks": 0, "vectors": 0}
    assert Ingestor(reopened).ingest_path(demo_csv_dir / "docs" / "A-00001").added == 5


def test_cached_account_vectors_see_writes_from_other_connections(tmp_path: Path) -> None:
    from core.pdf import write_text_pdf
    from knowledge.ingest import Ingestor

    docs = tmp_path / "docs" / "A-00001"
    write_text_pdf(docs / "contract_a.pdf", "Vertrag",
                   ["§ 1 Gegenstand. Lieferung von Dichtungen.", "§ 2 Preis. Fest."])
    api_side = KnowledgeStore(tmp_path / "var")  # e.g. the running API
    Ingestor(api_side).ingest_path(tmp_path / "docs")
    retriever = Retriever(api_side)
    scope = AccessScope(frozenset({"A-00001"}), None)
    # the title-only preamble is folded into § 1
    assert len(retriever.search("Zebrafisch Aquarium", scope, mode="vector", k=10)) == 2
    write_text_pdf(docs / "contract_b.pdf", "Notiz", ["§ 1 Zebrafisch. Aquarium im Foyer.", "§ 2 Ende. Schluss."])
    Ingestor(KnowledgeStore(tmp_path / "var")).ingest_path(tmp_path / "docs")  # e.g. a CLI ingest
    hits = retriever.search("Zebrafisch Aquarium", scope, mode="vector", k=10)
    assert len(hits) == 4 and hits[0].chunk.doc_id == "A-00001/contract_b.pdf"


def test_every_vector_carries_the_chunk_metadata(knowledge_store: KnowledgeStore) -> None:
    sample = knowledge_store.collection.get(limit=50, include=["metadatas"])
    for metadata in sample["metadatas"]:
        assert {"account_id", "doc_type", "doc_id", "source", "date", "language", "content_hash", "clause",
                "start", "end"} <= set(metadata)


def test_a_new_thread_sees_what_another_process_ingested(tmp_path: Path) -> None:
    """The cache was keyed on PRAGMA data_version of a per-thread connection, which starts afresh in every
    new thread: an API worker thread kept serving the matrix cached before a `kam ingest` in another process."""
    import threading

    from core.pdf import write_text_pdf
    from knowledge.ingest import Ingestor

    docs = tmp_path / "docs" / "A-00001"
    write_text_pdf(docs / "contract_a.pdf", "Vertrag",
                   ["§ 1 Gegenstand. Lieferung von Dichtungen.", "§ 2 Preis. Fest."])
    api_side = KnowledgeStore(tmp_path / "var")
    Ingestor(api_side).ingest_path(tmp_path / "docs")
    retriever = Retriever(api_side)
    scope = AccessScope(frozenset({"A-00001"}), None)
    assert len(retriever.search("Zebrafisch Aquarium", scope, mode="vector", k=10)) == 2  # cached now
    write_text_pdf(docs / "contract_b.pdf", "Notiz", ["§ 1 Zebrafisch. Aquarium im Foyer.", "§ 2 Pflege. Täglich.",
                                                      "§ 3 Ende. Schluss."])
    store_dir, docs_dir = str(tmp_path / "var"), str(tmp_path / "docs")
    ingest = ("from pathlib import Path; from knowledge.store import KnowledgeStore; "
              "from knowledge.ingest import Ingestor; "
              f"Ingestor(KnowledgeStore(Path({store_dir!r}))).ingest_path(Path({docs_dir!r}))")
    subprocess.run([sys.executable, "-c", ingest], check=True, cwd=Path(__file__).parents[1], timeout=300)
    seen: list[int] = []
    worker = threading.Thread(target=lambda: seen.append(len(retriever.search("Zebrafisch Aquarium", scope,
                                                                              mode="vector", k=10))))
    worker.start()
    worker.join()
    assert seen == [5]
    assert len(retriever.search("Zebrafisch Aquarium", scope, mode="vector", k=10)) == 5
