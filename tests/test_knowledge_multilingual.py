"""Retrieval between German and English: multilingual vectors, stems and compounds, the model record,
dates and the timeline."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.pdf import write_text_pdf
from knowledge.embeddings import KamEmbedding
from knowledge.ingest import Ingestor
from knowledge.retriever import AccessScope, Retriever
from knowledge.store import DateRange, KnowledgeStore, StoreError, account_token, bm25_ranked, trigram_code
from tests.auth import bearer

EVERYTHING = AccessScope.everything()


@pytest.fixture()
def small_store(tmp_path: Path) -> KnowledgeStore:
    docs = tmp_path / "docs" / "A-00001"
    write_text_pdf(docs / "framework_contract.pdf", "Rahmenliefervertrag", [
        "§ 1 Gegenstand. Lieferung von Dichtungen für Getriebegehäuse.",
        "§ 2 Preisanpassung. Steigen die Rohstoffkosten um mehr als fünf Prozent, verhandeln die Parteien neu.",
        "§ 3 Vertragsstrafen. Bei Lieferverzug werden Vertragsstrafen fällig."])
    write_text_pdf(docs / "quality_agreement.pdf", "Quality Assurance Agreement", [
        "1. Scope. This agreement covers all series parts.", "2. Liability. Liability follows the framework."])
    store = KnowledgeStore(tmp_path / "var")
    Ingestor(store).ingest_path(tmp_path / "docs")
    return store


def _flat(output: str) -> str:
    return " ".join(output.split())  # rich wraps long lines


def _ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.chunk.chunk_id for h in hits]


def test_a_word_inside_a_compound_and_an_inflected_word_are_found(small_store: KnowledgeStore) -> None:
    retriever = Retriever(small_store)
    assert _ids(retriever.search("Preis", EVERYTHING, mode="bm25", k=3))[0] == "A-00001/framework_contract.pdf#§2"
    assert _ids(retriever.search("Vertragsstrafe", EVERYTHING, mode="bm25", k=3))[0] == \
        "A-00001/framework_contract.pdf#§3"  # the text says "Vertragsstrafen"
    assert retriever.search("der die das und", EVERYTHING, mode="bm25") == []  # function words find nothing


def test_a_kams_scope_ranks_compound_hits_like_the_whole_store(small_store: KnowledgeStore) -> None:
    # up to EXACT_SEARCH_MAX_ACCOUNTS accounts the trigram hits are scored in Python, beyond by FTS5's bm25()
    retriever = Retriever(small_store)
    own, other = AccessScope(frozenset({"A-00001"}), None), AccessScope(frozenset({"A-00002"}), None)
    for query in ("Preis", "Strafe Lieferverzug", "Rohstoff"):
        scoped = retriever.rankings(query, own, mode="bm25")["trigrams"]
        everything = retriever.rankings(query, EVERYTHING, mode="bm25")["trigrams"]
        assert [chunk_id for chunk_id, _ in scoped][:1] == [chunk_id for chunk_id, _ in everything][:1]
        assert retriever.rankings(query, other, mode="bm25")["trigrams"] == []


def test_scoped_bm25_weighs_rare_terms_and_short_texts() -> None:
    rows = [("common, short", "preisanpassung nach index"), ("rarer", "lieferzeit laut plan"),
            ("common, long", "preisanpassung " + "füllwort " * 40), ("neither", "nichts davon")]
    ranked = bm25_ranked(rows, ["preis", "liefer"], limit=3)
    assert [chunk_id for chunk_id, _ in ranked] == ["rarer", "common, short", "common, long"]
    assert bm25_ranked([], ["preis"], limit=3) == []


def test_an_account_is_one_trigram_in_the_trigram_index() -> None:
    codes = {trigram_code(account_token(f"A-{n:05d}")) for n in range(1, 10_001)}
    assert len(codes) == 10_000 and all(len(code) == 3 for code in codes)  # one posting list per account


def test_no_title_only_chunks(small_store: KnowledgeStore) -> None:
    texts = [r[0] for r in small_store.db.execute("SELECT text FROM chunks")]
    assert all(len(t) > 40 for t in texts)
    assert texts[0].startswith("Rahmenliefervertrag\n§ 1 Gegenstand.")  # the title is folded into § 1


def test_a_german_word_finds_the_english_clause_not_a_title(knowledge_store: KnowledgeStore) -> None:
    english = next(r[0] for r in knowledge_store.db.execute(
        "SELECT account_id FROM chunks WHERE text LIKE '7. Liability.%'"))
    hits = Retriever(knowledge_store).search("Haftung", EVERYTHING, account_id=english, k=3)
    assert f"{english}/framework_contract.pdf#7" in _ids(hits)
    assert all(len(h.chunk.text) > 60 for h in hits)


def test_an_english_question_finds_the_german_clause(knowledge_store: KnowledgeStore) -> None:
    hits = Retriever(knowledge_store).search("price adjustment in the framework contract", EVERYTHING,
                                             account_id="A-00001", mode="vector", k=3)
    assert "A-00001/framework_contract.pdf#§3" in _ids(hits)


def test_the_store_refuses_to_mix_vector_spaces_until_reembedded(tmp_path: Path) -> None:
    docs = tmp_path / "docs" / "A-00001"
    write_text_pdf(docs / "contract_a.pdf", "Vertrag", ["§ 1 Gegenstand. Dichtungen.", "§ 2 Preis. Fest."])
    old = KnowledgeStore(tmp_path / "var", embedding=KamEmbedding(model="minilm"))
    Ingestor(old).ingest_path(tmp_path / "docs")
    assert old.vectors_model == "all-MiniLM-L6-v2 ONNX fp32"
    new = KnowledgeStore(tmp_path / "var", embedding=KamEmbedding(model="e5-small"))
    with pytest.raises(StoreError, match="--reembed"):
        Retriever(new).search("Preis", EVERYTHING, mode="vector")
    with pytest.raises(StoreError, match="vector spaces must not mix"):
        write_text_pdf(docs / "contract_b.pdf", "Notiz", ["§ 1 Neu. Text.", "§ 2 Ende. Schluss."])
        Ingestor(new).ingest_path(tmp_path / "docs")
    assert Retriever(new).search("Preis", EVERYTHING, mode="bm25")  # keywords need no vectors
    seen: list[int] = []
    assert new.reembed(progress=seen.append) == 2 and sum(seen) == 2
    assert new.vectors_model == new.embedding.model_id
    assert Retriever(new).search("Preis", EVERYTHING, mode="vector")
    assert new.counts()["vectors"] == 2


def test_a_store_from_the_previous_schema_keeps_its_chunks(small_store: KnowledgeStore, tmp_path: Path) -> None:
    """The keyword indexes changed (stems, trigrams): opening a version-3 store rebuilds them from the
    registry's text instead of emptying it."""
    chunks = small_store.counts()["chunks"]
    with sqlite3.connect(small_store.path) as conn:
        conn.executescript("DROP TABLE chunks_fts; DROP TABLE chunks_tri; CREATE VIRTUAL TABLE chunks_fts USING "
                           "fts5(text, heading, acct, kind, chunk_id UNINDEXED); PRAGMA user_version = 3;")
    reopened = KnowledgeStore(tmp_path / "var")
    assert reopened.counts()["chunks"] == chunks
    assert Retriever(reopened).search("Preis", EVERYTHING, mode="bm25")


def test_dates_filter_search_and_order_the_timeline(knowledge_store: KnowledgeStore) -> None:
    retriever = Retriever(knowledge_store)
    period = DateRange(date(2026, 9, 1), date(2026, 10, 31))
    hits = retriever.search("Abruf Liefertermin call-off", EVERYTHING, account_id="A-00001", k=20, period=period)
    assert hits and all(period.contains(h.chunk.doc_date) for h in hits)
    timeline = retriever.timeline(EVERYTHING, account_id="A-00001", period=DateRange(since=date(2026, 8, 28)))
    days = [c.doc_date for c in timeline]
    assert days and days == sorted(days, reverse=True) and min(days) >= "2026-08-28"  # type: ignore[type-var]
    assert {c.doc_type for c in timeline} <= {"note", "mail"}


def test_api_timeline_and_dated_search(client: TestClient, knowledge_dir: Path, settings) -> None:
    import shutil

    from knowledge import service

    shutil.copytree(knowledge_dir / "chroma", settings.data_dir / "chroma", dirs_exist_ok=True)
    for source in knowledge_dir.glob("knowledge.db*"):
        shutil.copy(source, settings.data_dir / source.name)
    service.reset()
    kam = bearer("U-KAM-001")
    items = client.get("/accounts/A-00001/timeline", headers=kam, params={"since": "2026-06-01"}).json()
    assert items and items[0]["date"] >= items[-1]["date"] >= "2026-06-01"
    assert client.get("/accounts/A-00002/timeline", headers=kam).status_code == 404
    assert client.get("/accounts/A-00001/timeline", headers=bearer("U-LEGAL-1")).json() == []  # no notes
    dated = client.get("/search", headers=kam, params={"q": "Besuch", "account_id": "A-00001", "until": "2025-12-31"})
    assert all(h["citation"]["date"] <= "2025-12-31" for h in dated.json()["hits"])
    service.reset()


def test_one_document_type_cannot_fill_the_whole_result() -> None:
    from knowledge.retriever import Fusion

    ranked = ["note"] * 10 + ["contract", "mail"]
    fusion = Fusion(type_share=0.625)  # at most 5 of 8 hits of one type
    assert fusion.diversify(ranked, str, 8) == ["note"] * 5 + ["contract", "mail"] + ["note"]
    assert fusion.diversify(["note"] * 10, str, 8) == ["note"] * 8  # nothing else to show: notes fill up
    assert Fusion(type_share=1.0).diversify(ranked, str, 8) == ["note"] * 8


def test_a_source_weighted_zero_is_switched_off() -> None:
    from knowledge.retriever import Fusion

    rankings = {"vector": [("a", 0.9), ("b", 0.8)], "words": [("c", 3.0)]}
    assert [c for c, _ in Fusion(words=0).fuse(rankings)] == ["a", "b"]
    assert [c for c, _ in Fusion(k=10, vector=1, words=1).fuse(rankings)] == ["a", "c", "b"]


def test_an_empty_period_is_refused(client: TestClient, tmp_path: Path, settings) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    reply = client.get("/search", params={"q": "Preis", "since": "2026-10-01", "until": "2026-01-01"})
    assert reply.status_code == 422 and "since 2026-10-01 is after until 2026-01-01" in reply.json()["detail"]
    result = CliRunner().invoke(app, ["timeline", "--account", "A-00001", "--since", "2026-10-01",
                                      "--until", "2026-01-01"])
    assert result.exit_code != 0 and "the period is empty" in _flat(result.output)


def test_cli_reembeds_after_a_model_change(tmp_path: Path, settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from api.cli import app
    from core.settings import get_settings
    from knowledge import service

    docs = tmp_path / "docs" / "A-00001"
    write_text_pdf(docs / "contract.pdf", "Vertrag", ["§ 1 Gegenstand. Dichtungen.", "§ 2 Preis. Fest."])
    monkeypatch.setenv("KAM_EMBEDDING_MODEL", "minilm")
    get_settings.cache_clear()
    service.reset()
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(tmp_path / "docs")]).exit_code == 0
    monkeypatch.setenv("KAM_EMBEDDING_MODEL", "e5-small")
    get_settings.cache_clear()
    service.reset()
    refused = runner.invoke(app, ["search", "Preis", "--mode", "vector"])
    assert refused.exit_code != 0 and "run `kam ingest --reembed`" in _flat(refused.output)
    done = runner.invoke(app, ["ingest", "--reembed"])
    assert done.exit_code == 0, done.output
    assert "re-embedded 2 chunks: all-MiniLM-L6-v2 ONNX fp32 → multilingual-e5-small" in _flat(done.output)
    assert "§ 2" in runner.invoke(app, ["search", "Preis", "--mode", "vector"]).output
    service.reset()
