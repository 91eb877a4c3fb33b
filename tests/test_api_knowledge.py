from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.pdf import render_text_pdf
from core.settings import Settings
from tests.auth import bearer, signed_in


@pytest.fixture()
def kclient(demo_db: str, knowledge_dir: Path, settings: Settings) -> Iterator[TestClient]:
    """API on a private copy of the demo database and knowledge store."""
    from api.main import create_app
    from knowledge import service

    shutil.copytree(knowledge_dir / "chroma", settings.data_dir / "chroma")
    for source in knowledge_dir.glob("knowledge.db*"):  # with the WAL, or recent writes are missing
        shutil.copy(source, settings.data_dir / source.name)
    service.reset()
    with TestClient(create_app()) as client:
        signed_in(client)
        yield client
    service.reset()


def test_readiness_includes_the_vector_store(kclient: TestClient) -> None:
    store = kclient.get("/readyz").json()["checks"]["vector_store"]
    assert store["ok"] is True and store["chunks"] == store["vectors"] > 0


def test_search_returns_scored_cited_hits(kclient: TestClient) -> None:
    body = kclient.get("/search", params={"q": "Vertragsstrafe", "account_id": "A-00001", "k": 3}).json()
    top = body["hits"][0]
    assert "Vertragsstrafe" in top["text"] and top["citation"]["clause"] == "§6"
    assert top["score"] > 0 and top["citation"]["doc_id"] == "A-00001/framework_contract.pdf"


def test_search_as_kam_never_shows_other_accounts(kclient: TestClient) -> None:
    kam = bearer("U-KAM-001")
    foreign = kclient.get("/search", params={"q": "Vertragsstrafe", "account_id": "A-00002"}, headers=kam)
    assert foreign.status_code == 404  # like an account that does not exist
    hits = kclient.get("/search", params={"q": "Lieferverzug", "k": 20}, headers=kam).json()["hits"]
    assert hits and all(int(h["citation"]["account_id"][2:]) % 2 == 1 for h in hits)


def test_search_rejects_bad_parameters(kclient: TestClient) -> None:
    assert kclient.get("/search", params={"q": ""}).status_code == 422
    assert kclient.get("/search", params={"q": "x", "mode": "magic"}).status_code == 422
    assert kclient.get("/search", params={"q": "x", "k": 500}).status_code == 422


def test_upload_ingests_and_is_searchable(kclient: TestClient) -> None:
    pdf = render_text_pdf("Qualitätsvereinbarung", ["§ 1 Ziel. Reklamationsquote höchstens 20 ppm Zebrafisch."])
    response = kclient.post("/documents", files={"file": ("qsv.pdf", pdf, "application/pdf")},
                            data={"account_id": "A-00003", "doc_type": "contract"})
    assert response.status_code == 201 and response.json()["status"] == "added"
    again = kclient.post("/documents", files={"file": ("qsv.pdf", pdf, "application/pdf")},
                         data={"account_id": "A-00003"})
    assert again.json()["status"] == "unchanged"
    hits = kclient.get("/search", params={"q": "Zebrafisch", "account_id": "A-00003"}).json()["hits"]
    assert hits[0]["citation"]["doc_id"] == "upload/A-00003/U-ADMIN-1/qsv.pdf"


def test_upload_rejections(kclient: TestClient) -> None:
    bad = kclient.post("/documents", files={"file": ("scan.pdf", b"%PDF-1.4 nothing", "application/pdf")})
    assert bad.status_code == 422 and "not a readable PDF" in bad.json()["detail"]
    other = kclient.post("/documents", headers=bearer("U-KAM-001"), data={"account_id": "A-00002"},
                         files={"file": ("n.txt", b"note", "text/plain")})
    assert other.status_code == 404
    wrong_type = kclient.post("/documents", files={"file": ("x.exe", b"MZ", "application/octet-stream")})
    assert wrong_type.status_code == 422 and "unsupported file type" in wrong_type.json()["detail"]


def test_uploads_write_only_what_the_role_may_read_where_it_may(kclient: TestClient) -> None:
    """Legal reads contracts only, so it writes contracts only (no notes or mails planted into an account's
    context); a KAM writes into its own accounts, not into the shared store every account retrieves."""
    legal, kam = bearer("U-LEGAL-1"), bearer("U-KAM-001")
    note = {"file": ("note.txt", b"Kunde wuenscht sofort 20 Prozent Rabatt.", "text/plain")}
    planted = kclient.post("/documents", headers=legal, data={"account_id": "A-00002", "doc_type": "note"}, files=note)
    assert planted.status_code == 403 and "only add documents of type contract" in planted.json()["detail"]
    contract = kclient.post("/documents", headers=legal, data={"account_id": "A-00002"}, files=note)
    assert contract.status_code == 201  # without a type, legal's upload is a contract
    hits = kclient.get("/search", headers=legal, params={"q": "Rabatt", "account_id": "A-00002"}).json()["hits"]
    assert hits and all(h["citation"]["doc_type"] == "contract" for h in hits if "note.txt" in h["citation"]["doc_id"])
    shared = kclient.post("/documents", headers=kam, files=note)
    assert shared.status_code == 403 and "own accounts" in shared.json()["detail"]


def test_two_users_uploading_the_same_file_name_keep_two_documents(kclient: TestClient) -> None:
    """The KAM and the tandem partner of A-00001 each upload "notes.txt": neither replaces the other."""
    kam, partner = bearer("U-KAM-001"), bearer("U-ISP-001")
    first = kclient.post("/documents", headers=kam, data={"account_id": "A-00001"},
                         files={"file": ("notes.txt", b"Besuch vereinbart: Zebrafisch-Projekt.", "text/plain")})
    second = kclient.post("/documents", headers=partner, data={"account_id": "A-00001"},
                          files={"file": ("notes.txt", b"Telefonat: Giraffen-Projekt verschoben.", "text/plain")})
    assert first.json()["status"] == second.json()["status"] == "added"
    assert first.json()["doc_id"] != second.json()["doc_id"]
    for word in ("Zebrafisch", "Giraffen"):
        assert kclient.get("/search", headers=kam, params={"q": word, "account_id": "A-00001"}).json()["hits"]
