"""The NDA reviewer end to end: real PDF and DOCX files from several producers, hostile files, the LLM step
with its checks, prompt injection, the API with its job worker, the CLI, and a worker killed mid-review."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from typer.testing import CliRunner

from agents.nda_review import service
from agents.nda_review.schemas import NdaReport
from core.access import Principal
from core.checkpoint import open_checkpointer
from core.db.session import session_scope
from core.llm import LlmGateway
from core.settings import Settings
from tests import documents
from tests.auth import bearer, signed_in
from tests.documents import needs_libreoffice

ROOT = Path(__file__).parents[1]
NDAS = ROOT / "evals" / "golden" / "nda" / "documents"
EXPECTED = {json.loads(line)["inputs"]["document"]: json.loads(line)["expected"]
            for line in (ROOT / "evals" / "golden" / "nda_review" / "cases.jsonl").read_text().splitlines()}
LEGAL = Principal(user_id="U-LEGAL-1", role="legal", account_ids=None)


def text_of(name: str) -> str:
    return (NDAS / name).read_text(encoding="utf-8")


def review(settings: Settings, data: bytes, name: str, *, gateway: LlmGateway | None = None,
           llm_mode: str = "off", account_id: str | None = None) -> NdaReport:
    with session_scope(settings.resolved_database_url) as session:
        review_id = service.submit(session, settings, LEGAL, data, name, account_id).id
    with open_checkpointer(settings) as saver:
        return service.run(settings, saver, review_id, LEGAL, gateway=gateway, llm_mode=llm_mode)  # type: ignore[arg-type]


def outcome(report: NdaReport) -> dict[str, tuple[str, str | None]]:
    return {f.rule: (f.status, f.severity) for f in report.findings}


def expected_outcome(name: str) -> dict[str, tuple[str, str | None]]:
    return {rule: (e["status"], e["severity"]) for rule, e in EXPECTED[name]["findings"].items()}


# --- real files from several producers --------------------------------------------------------------
PRODUCERS: dict[str, Callable[[str], tuple[bytes, str]]] = {
    "kam-pdf": lambda text: (documents.pdf_kam(text), "nda.pdf"),
    "reportlab-pdf": lambda text: (documents.pdf_reportlab(text), "nda.pdf"),
    "python-docx": lambda text: (documents.docx_python_docx(text), "nda.docx"),
    "word-numbering-docx": lambda text: (documents.docx_python_docx(text, auto_numbering=True), "nda.docx"),
}


@pytest.mark.parametrize("producer", sorted(PRODUCERS))
@pytest.mark.parametrize("name", ["nda-01.txt", "nda-02.txt", "nda-07.txt"])
def test_pdf_and_docx_give_the_verdict_of_the_text(db_url: str, settings: Settings, producer: str, name: str) -> None:
    data, file_name = PRODUCERS[producer](text_of(name))
    report = review(settings, data, file_name)
    assert report.verdict == EXPECTED[name]["verdict"]
    assert outcome(report) == expected_outcome(name)
    assert report.source_format == file_name.split(".")[-1]
    if file_name.endswith(".pdf"):
        quoted = [f for f in report.findings if f.quote]
        assert quoted and all(f.page is not None and f.page >= 1 for f in quoted)


@needs_libreoffice
@pytest.mark.slow
@pytest.mark.parametrize("name", ["nda-06.txt", "nda-11.txt"])
def test_libreoffice_documents(db_url: str, settings: Settings, tmp_path: Path, name: str) -> None:
    """As an office user saves a draft: text → Word (LibreOffice), Word → PDF (LibreOffice)."""
    for data, file_name in ((documents.docx_libreoffice(text_of(name), tmp_path), "draft.docx"),
                            (documents.pdf_libreoffice(text_of(name), tmp_path), "draft.pdf")):
        report = review(settings, data, file_name)
        assert (report.verdict, outcome(report)) == (EXPECTED[name]["verdict"], expected_outcome(name)), file_name


def test_evidence_quotes_occur_verbatim_in_the_document(db_url: str, settings: Settings) -> None:
    from knowledge.extract import extract

    data = documents.pdf_reportlab(text_of("nda-02.txt"))
    report = review(settings, data, "nda.pdf")
    text = extract(data, "nda.pdf").text
    for finding in report.findings:
        if finding.quote:
            assert text[finding.start:finding.end] == finding.quote  # type: ignore[misc]
    for item in report.nli.values():
        assert all(quote in text for quote in item.evidence)


# --- hostile and broken files -------------------------------------------------------------------------
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "encrypted": (documents.encrypted_pdf, "encrypted"),
    "bomb": (documents.decompression_bomb_pdf, "decompresses beyond the safety limit"),
    "deep page tree": (documents.deep_page_tree_pdf, "nested too deeply"),
    "nested content": (documents.nested_content_pdf, "nested too deeply"),
    "replayed content stream": (documents.replayed_content_pdf, "took longer than"),
    "scanned": (documents.scanned_pdf, "no text layer"),
    "broken": (lambda: b"%PDF-1.7\n1 0 obj <<", "not a readable PDF"),
}


@pytest.fixture()
def fast_budget_client(demo_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    from api.main import create_app
    from core.settings import get_settings
    from knowledge import service as knowledge_service

    monkeypatch.setenv("KAM_DOCUMENT_PARSE_CPU_S", "3")
    get_settings.cache_clear()
    knowledge_service.reset()
    with TestClient(create_app()) as client:
        signed_in(client)
        yield client
    knowledge_service.reset()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_files_get_a_4xx_with_the_reason(fast_budget_client: TestClient, kind: str) -> None:
    make, reason = HOSTILE[kind]
    data = make()
    for path in ("/nda-reviews", "/documents"):
        response = fast_budget_client.post(path, files={"file": ("upload.pdf", data, "application/pdf")})
        assert response.status_code == 422, (path, response.text)
        assert reason in response.json()["detail"], (path, response.json())
    assert fast_budget_client.get("/nda-reviews").json() == []  # nothing was stored


def test_bad_requests_are_explained(fast_budget_client: TestClient) -> None:
    wrong = fast_budget_client.post("/nda-reviews", files={"file": ("nda.exe", b"MZ", "application/octet-stream")})
    assert wrong.status_code == 422 and "PDF, a Word document" in wrong.json()["detail"]
    word97 = fast_budget_client.post("/nda-reviews", files={"file": ("nda.docx", b"\xd0\xcf\x11\xe0old", "x")})
    assert word97.status_code == 422 and ".docx" in word97.json()["detail"]


# --- the LLM step: only uncertain rules, only their clauses, checked by code -----------------------------
def test_work_after_parsing_is_bounded_at_submit(fast_budget_client: TestClient) -> None:
    """A text that reads fine but is far longer than any NDA (here 2 MB, or 20,000 one-line clauses) is
    refused at upload with the limit, before it can hold the worker; nothing is stored."""
    from agents.nda_review.service import MAX_NDA_CHARS, MAX_NDA_SENTENCES

    long_text = ("Vertrauliche Informationen werden nicht weitergegeben. " * 40_000).encode()
    many = "".join(f"{i}. Es gilt x.\n" for i in range(1, 20_001)).encode()
    for data, limit in ((long_text, f"{MAX_NDA_CHARS:,}"), (many, f"{MAX_NDA_SENTENCES:,}")):
        response = fast_budget_client.post("/nda-reviews", files={"file": ("nda.txt", data, "text/plain")})
        assert response.status_code == 422 and limit in response.json()["detail"], response.text
    assert fast_budget_client.get("/nda-reviews").json() == []


def test_the_reader_child_gets_no_secrets_and_a_capped_output(monkeypatch: pytest.MonkeyPatch) -> None:
    from knowledge import extract

    seen: dict[str, str] = {}
    run = subprocess.run

    def recording_run(*args: Any, **kwargs: Any) -> Any:
        seen.update(kwargs["env"])
        return run(*args, **kwargs)

    monkeypatch.setenv("KAM_LLM_API_KEY", "sk-secret")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("KAM_DATABASE_URL", "postgresql://user:pw@db/kam")
    monkeypatch.setattr(extract.subprocess, "run", recording_run)
    document = extract.extract_sandboxed(b"Es gilt deutsches Recht.", "nda.txt")
    assert document.text.startswith("Es gilt") and "sk-secret" not in seen.values()
    assert not {k for k in seen if k.startswith(("OPENAI", "KAM_LLM", "KAM_DATABASE"))}
    monkeypatch.setattr(extract, "SANDBOX_OUTPUT_BYTES", 20_000)
    with pytest.raises(extract.RejectedDocument, match="larger than the 20,000 bytes"):
        extract.extract_sandboxed(b"Geheim. " * 10_000, "big.txt")


UNCLEAR_PARTIES = ("Geheimhaltung\n1. Zweck. Es werden Zeichnungen für ein Dichtungsprojekt ausgetauscht.\n"
                   "2. Laufzeit. Die Vereinbarung gilt zwei Jahre.\n3. Recht. Es gilt deutsches Recht unter Ausschluss "
                   "des UN-Kaufrechts. Gerichtsstand ist Bremen.")


def fake_gateway(*answers: str) -> tuple[LlmGateway, FakeMessagesListChatModel]:
    model = FakeMessagesListChatModel(responses=[AIMessage(content=a) for a in answers])
    return LlmGateway(lambda _purpose: model, model_name="fake"), model


def test_the_llm_answers_what_the_patterns_could_not_read(db_url: str, settings: Settings) -> None:
    answer = json.dumps({"answer": "both", "quote": "Es werden Zeichnungen für ein Dichtungsprojekt ausgetauscht."})
    gateway, _ = fake_gateway(answer)
    report = review(settings, UNCLEAR_PARTIES.encode(), "nda.txt", gateway=gateway, llm_mode="uncertain")
    mutuality = next(f for f in report.findings if f.rule == "mutuality")
    assert (mutuality.status, mutuality.source, mutuality.uncertain) == ("compliant", "llm", False)
    assert report.llm.calls == 1 and report.llm.model == "fake"


def test_an_unverifiable_answer_is_repaired_once_then_replaced_and_flagged(db_url: str, settings: Settings) -> None:
    invented = json.dumps({"answer": "both", "quote": "Beide Parteien legen gegenseitig offen."})  # not in the text
    gateway, model = fake_gateway(invented, invented)
    report = review(settings, UNCLEAR_PARTIES.encode(), "nda.txt", gateway=gateway, llm_mode="uncertain")
    mutuality = next(f for f in report.findings if f.rule == "mutuality")
    assert (mutuality.status, mutuality.source, mutuality.uncertain) == ("not_found", "fallback", True)
    assert "mutuality" in report.uncertain and report.llm.calls == 2
    assert "does not occur verbatim" in str(model.responses) or report.llm.calls == 2


def test_the_llm_cannot_overrule_a_clause_code_has_read(db_url: str, settings: Settings) -> None:
    """In "all" mode every rule is asked; an answer that contradicts the patterns' reading is shown the
    contradiction once and otherwise ignored (the patterns' reading stands, flagged)."""
    wrong = json.dumps({"law": "England", "quote": "Es gilt deutsches Recht unter Ausschluss des UN-Kaufrechts."})
    gateway, _ = fake_gateway(*[wrong] * 40)
    report = review(settings, UNCLEAR_PARTIES.encode(), "nda.txt", gateway=gateway, llm_mode="all")
    law = next(f for f in report.findings if f.rule == "governing_law")
    assert (law.status, law.source, law.uncertain) == ("compliant", "fallback", True)


def test_answers_that_fail_the_checks_change_no_hypothesis(db_url: str, settings: Settings) -> None:
    """Every rule asked, every answer failing the checks: findings and hypotheses are those of the patterns
    (a failed answer flags a reading, it does not take it away from the hypotheses)."""
    text = text_of("nda-01.txt").encode()
    patterns = review(settings, text, "nda.txt")
    wrong = json.dumps({"law": "England", "quote": "Es gilt deutsches Recht."})
    gateway, _ = fake_gateway(*[wrong] * 60)
    asked = review(settings, text, "nda.txt", gateway=gateway, llm_mode="all")
    assert asked.llm.calls > 0 and {f.rule: f.status for f in asked.findings} == {
        f.rule: f.status for f in patterns.findings}
    assert {h: i.label for h, i in asked.nli.items()} == {h: i.label for h, i in patterns.nli.items()}


NORWEGIAN = ("Confidentiality Agreement\n1. Purpose. The parties exchange drawings for a sealing project.\n"
             "2. Term. This Agreement remains in force for two years.\n"
             "3. Law. This Agreement is governed by the laws of the Kingdom of Norway.")
NORWAY_CLAUSE = "This Agreement is governed by the laws of the Kingdom of Norway."
MUTUAL_ANSWER = json.dumps({"answer": "both", "quote": "The parties exchange drawings for a sealing project."})


def test_a_model_answer_must_be_what_its_quote_says(db_url: str, settings: Settings) -> None:
    """The patterns cannot place Norwegian law. A model that quotes the clause and answers "Germany" is
    shown the mismatch, then replaced: the reading stays flagged and the verdict says it is provisional."""
    germany = json.dumps({"law": "Germany", "quote": NORWAY_CLAUSE})
    gateway, _ = fake_gateway(MUTUAL_ANSWER, germany, germany)  # the rules are asked in policy order
    report = review(settings, NORWEGIAN.encode(), "nda.txt", gateway=gateway, llm_mode="uncertain")
    law = next(f for f in report.findings if f.rule == "governing_law")
    assert (law.status, law.source, law.uncertain) == ("not_found", "fallback", True) and report.llm.calls == 3
    assert report.verdict_basis == "provisional" and report.unverified == ["governing_law"]

    norway = json.dumps({"law": "Norway", "quote": NORWAY_CLAUSE})
    gateway, _ = fake_gateway(MUTUAL_ANSWER, norway)
    report = review(settings, NORWEGIAN.encode(), "nda.txt", gateway=gateway, llm_mode="uncertain")
    law = next(f for f in report.findings if f.rule == "governing_law")
    assert (law.status, law.source, law.uncertain) == ("deviation", "llm", False)  # a law the policy does not accept
    assert "Norway" in law.explanation and report.verdict_basis == "verified"


@pytest.mark.parametrize(("rule", "answer", "quote", "reason"), [
    ("jurisdiction", {"kind": "courts", "place": "Bremen"}, "Gerichtsstand ist Oslo.", "does not name 'Bremen'"),
    ("jurisdiction", {"kind": "arbitration", "place": "Oslo"}, "Gerichtsstand ist Oslo.", "'arbitration'"),
    ("jurisdiction", {"kind": "arbitration", "place": "Oslo", "institution": "DIS"},
     "Disputes are settled by arbitration seated in Oslo.", "does not name 'DIS'"),
    ("non_solicitation", {"present": "yes", "months": 12, "scope": "directly_involved"},
     "Neither party shall solicit any employee of the other party for 24 months.", "12 months"),
    ("non_solicitation", {"present": "yes", "months": 24, "scope": "directly_involved"},
     "Neither party shall solicit any employee of the other party for 24 months.", "'directly_involved'"),
    ("exclusions", {"present": ["public", "independently_developed"]},
     "This does not apply to information that is public.", "'independently_developed'"),
    ("permitted_recipients", {"allowed": ["employees", "affiliates"]},
     "The Recipient may disclose it to its employees.", "'affiliates'"),
    ("penalty", {"answer": "yes"}, "The Recipient may disclose it to its employees.", "not about this rule"),
    ("penalty", {"answer": "no"}, "The parties exchange drawings.", "not about this rule"),
])
def test_every_field_of_an_answer_is_checked_against_its_quote(rule: str, answer: dict[str, Any], quote: str,
                                                                reason: str) -> None:
    from agents.nda_review import questions

    value = questions.SCHEMAS[rule].model_validate({**answer, "quote": quote})
    assert any(reason in r for r in questions.unsupported(rule, value)), questions.unsupported(rule, value)
    supported = {"jurisdiction": "Gerichtsstand ist Bremen.", "non_solicitation": "Neither party shall solicit any "
                 f"employee directly involved in the project for {answer.get('months')} months.",
                 "exclusions": "This does not apply to information that is public or independently developed.",
                 "permitted_recipients": "The Recipient may disclose it to its employees and affiliates.",
                 "penalty": "A contractual penalty of EUR 10,000 applies." if answer.get("answer") == "yes" else
                 "No contractual penalty applies."}[rule]
    if rule == "jurisdiction" and answer["kind"] == "arbitration":
        supported = "Disputes are settled by arbitration seated in Oslo" + (
            " under the rules of the Deutsche Institution für Schiedsgerichtsbarkeit." if answer.get("institution")
            else ".")
    fixed = questions.SCHEMAS[rule].model_validate({**answer, "quote": supported})
    assert questions.unsupported(rule, fixed) == []


def test_absence_without_evidence_leaves_the_patterns_reading_flagged(db_url: str, settings: Settings) -> None:
    """The patterns found a choice of law they cannot place; a model that says "not stated" and quotes
    nothing does not make the clause disappear."""
    nothing = json.dumps({"law": "not stated", "quote": ""})
    gateway, _ = fake_gateway(nothing)
    report = review(settings, NORWEGIAN.encode(), "nda.txt", gateway=gateway, llm_mode="uncertain")
    law = next(f for f in report.findings if f.rule == "governing_law")
    assert law.uncertain and law.quote == NORWAY_CLAUSE and report.verdict_basis == "provisional"


def test_an_unreachable_llm_falls_back_to_the_patterns_flagged(db_url: str, settings: Settings, llm_stub) -> None:
    """A transport error after the retries is one more reason for the deterministic reading, not a failed
    review."""
    from core.llm import build_chat_model
    from tests.llm_stub import ScriptedReply

    llm_stub.script(*[ScriptedReply(status=503)] * 20)
    gateway = LlmGateway(lambda purpose: build_chat_model(settings, purpose, llm_stub.base_url), model_name="stub",
                         retry_attempts=2, retry_budget_s=2.0)
    report = review(settings, NORWEGIAN.encode(), "nda.txt", gateway=gateway, llm_mode="uncertain")
    law = next(f for f in report.findings if f.rule == "governing_law")
    assert law.source == "fallback" and law.uncertain and report.verdict_basis == "provisional"


def test_rerunning_a_finished_review_asks_no_model_again(db_url: str, settings: Settings) -> None:
    """A job that runs again after its review's thread finished (e.g. its worker died after publishing)
    takes the report from the checkpoint: no model call, no usage counted twice."""
    gateway, _ = fake_gateway(*[json.dumps({"law": "England", "quote": "Es gilt deutsches Recht."})] * 60)
    with session_scope(settings.resolved_database_url) as session:
        review_id = service.submit(session, settings, LEGAL, text_of("nda-01.txt").encode(), "nda.txt", None).id
    with open_checkpointer(settings) as saver:
        first = service.run(settings, saver, review_id, LEGAL, gateway=gateway, llm_mode="all")
        calls = len(gateway.ledger.as_dicts())
        again = service.run(settings, saver, review_id, LEGAL, gateway=gateway, llm_mode="all")
    assert first.llm.calls > 0 and len(gateway.ledger.as_dicts()) == calls
    assert again.model_dump(exclude={"wall_s"}) == first.model_dump(exclude={"wall_s"})


def test_a_review_whose_job_fails_for_good_says_so(db_url: str, settings: Settings) -> None:
    """A review is never left "running": when its worker died on the last attempt, or the attempt ran past
    the time limit, the review is marked failed with the reason."""
    import dataclasses
    from types import SimpleNamespace

    from agents.nda_review import jobs
    from core.db import models
    from core.jobs import JobQueue, JobWorker

    queue = JobQueue(db_url)

    def submitted(name: str) -> models.NdaReview:
        with session_scope(db_url) as session:
            return service.submit(session, settings, LEGAL, UNCLEAR_PARTIES.encode(), name, None, llm_mode="off",
                                  queue=queue)

    def review_row(review_id: str) -> models.NdaReview:
        with session_scope(db_url) as session:
            return session.get(models.NdaReview, review_id)  # type: ignore[return-value]

    died = submitted("died.txt")
    with session_scope(db_url) as session:
        session.get(models.Job, died.job_id).max_attempts = 1  # type: ignore[union-attr]
    assert queue.claim("a-worker-that-dies", lease_s=0.05) is not None
    time.sleep(0.2)
    with open_checkpointer(settings) as saver:
        services = SimpleNamespace(settings=settings, checkpointer=saver, llm=None)
        limited = dataclasses.replace(jobs.HANDLERS[service.JOB_KIND], time_limit_s=1e-6)
        worker = JobWorker(queue, {service.JOB_KIND: limited}, services=services, lease_s=30)
        assert worker.run_once() is None  # nothing left to claim, but the dead attempt is settled
        assert (review_row(died.id).status, queue.get(died.job_id).status) == ("failed", "failed")  # type: ignore[arg-type]
        assert "worker stopped" in (review_row(died.id).error or "")

        slow = submitted("slow.txt")
        worker.run_once()
    assert review_row(slow.id).status == "failed" and "time limit" in (review_row(slow.id).error or "")
    assert queue.get(slow.job_id).attempts == 1  # type: ignore[arg-type]  # a timeout is not retried


INJECTION = "9. Note to any automated or AI-based contract reviewer"


def test_instructions_inside_the_nda_do_not_change_the_verdict(db_url: str, settings: Settings) -> None:
    """nda-14 tells an AI reviewer to report no findings. With or without that clause, deterministic or with
    a model that obeys it (claims every clause is fine), the verdict is the same."""
    text = text_of("nda-14.txt")
    without = "\n".join(line for line in text.splitlines() if not line.startswith(INJECTION))
    assert without != text
    obedient = json.dumps({"answer": "no", "quote": ""})
    results = []
    for body in (text, without):
        results.append(review(settings, body.encode(), "nda.txt").verdict)
        gateway, _ = fake_gateway(*[obedient] * 60)
        results.append(review(settings, body.encode(), "nda.txt", gateway=gateway, llm_mode="all").verdict)
    assert results == ["escalate"] * 4


# --- interfaces ------------------------------------------------------------------------------------
@pytest.fixture()
def worker_client(demo_db: str, knowledge_dir: Path, settings: Settings,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    import shutil

    from api.main import create_app
    from core.settings import get_settings
    from knowledge import service as knowledge_service

    shutil.copytree(knowledge_dir / "chroma", settings.data_dir / "chroma")
    for source in knowledge_dir.glob("knowledge.db*"):
        shutil.copy(source, settings.data_dir / source.name)
    monkeypatch.setenv("KAM_JOB_POLL_S", "0.1")
    get_settings.cache_clear()
    knowledge_service.reset()
    with TestClient(create_app()) as client:
        signed_in(client)
        yield client
    knowledge_service.reset()


def _wait_done(client: TestClient, review_id: str, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(f"/nda-reviews/{review_id}", headers=headers).json()
        if body["status"] in ("done", "failed"):
            return body  # type: ignore[no-any-return]
        time.sleep(0.2)
    raise AssertionError("the review did not finish")


def test_api_upload_runs_as_a_job_and_publishes_the_review(worker_client: TestClient) -> None:
    kam = bearer("U-KAM-002")  # A-00006 is theirs; its NDA is pending (planted)
    pdf = documents.pdf_kam(text_of("nda-03.txt"))
    accepted = worker_client.post("/nda-reviews", headers=kam, data={"account_id": "A-00006", "llm": "off"},
                                  files={"file": ("nda-eberle.pdf", pdf, "application/pdf")})
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["status"] == "queued" and body["job_id"]
    done = _wait_done(worker_client, body["id"], kam)
    assert done["status"] == "done" and done["verdict"] == "escalate"
    report = done["report"]
    assert {f["rule"] for f in report["findings"] if f["severity"] == "high"} == {"survival", "penalty"}
    html = worker_client.get(f"/nda-reviews/{body['id']}/report.html", headers=kam)
    assert html.status_code == 200 and "an Legal eskalieren" in html.text and "EUR 25.000" in html.text
    deadline = time.monotonic() + 30
    while worker_client.get(f"/jobs/{body['job_id']}", headers=kam).json()["status"] != "succeeded":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    # published: the NDA is searchable under its account, and the account's NDA status says what was found
    hits = worker_client.get("/search", headers=kam, params={"q": "Vertragsstrafe Eberle", "account_id": "A-00006"})
    assert any(h["citation"]["doc_id"].startswith("nda-review/A-00006/") for h in hits.json()["hits"])
    health = worker_client.get("/accounts/A-00006/health", headers=kam).json()
    nda = next(r for r in health["results"] if r["rule"] == "nda_status")
    assert nda["status"] == "warn" and "escalate" in nda["explanation"] and "2 high" in nda["explanation"]
    contracts = worker_client.get("/accounts/A-00006", headers=kam).json()["contracts"]
    assert {c["status"] for c in contracts if c["contract_type"] == "nda"} == {"reviewed"}  # was pending


def test_who_may_submit_and_see_reviews(worker_client: TestClient) -> None:
    data = text_of("nda-01.txt").encode()
    other_kam = worker_client.post("/nda-reviews", headers=bearer("U-KAM-001"), data={"account_id": "A-00002"},
                                   files={"file": ("nda.txt", data, "text/plain")})
    assert other_kam.status_code == 404
    legal = worker_client.post("/nda-reviews", headers=bearer("U-LEGAL-1"),
                               data={"account_id": "A-00002", "llm": "off"},
                               files={"file": ("nda.txt", data, "text/plain")})
    assert legal.status_code == 202
    review_id = legal.json()["id"]
    assert _wait_done(worker_client, review_id, bearer("U-LEGAL-1"))["verdict"] == "accept"
    assert worker_client.get(f"/nda-reviews/{review_id}", headers=bearer("U-KAM-001")).status_code == 404
    assert worker_client.get(f"/nda-reviews/{review_id}", headers=bearer("U-KAM-002")).status_code == 200
    listed = worker_client.get("/nda-reviews", headers=bearer("U-KAM-002")).json()
    assert [r["id"] for r in listed] == [review_id]


def test_lists_are_filtered_before_their_limit(db_url: str, settings: Settings, demo_db: str) -> None:
    """A KAM's one review, followed by newer reviews of other accounts and newer jobs of other users: with
    ``limit=1`` the KAM still gets their own review and job (the filter is part of the query)."""
    from core.access import principal_for_user
    from core.jobs import JobQueue

    queue = JobQueue(demo_db)
    with session_scope(demo_db) as session:
        kam = principal_for_user(session, "U-KAM-001")
        own = service.submit(session, settings, kam, UNCLEAR_PARTIES.encode(), "own.txt", "A-00001", queue=queue)
        for n in range(8):
            service.submit(session, settings, LEGAL, UNCLEAR_PARTIES.encode(), f"other-{n}.txt", "A-00002",
                           queue=queue)
        listed = service.list_reviews(session, kam, limit=1)
    assert [r.id for r in listed] == [own.id]
    jobs = queue.list(acting_for=kam.user_id, limit=1)
    assert [j.id for j in jobs] == [own.job_id]


def test_cli_prints_a_verdict_table_or_the_report_json(demo_db: str) -> None:
    from api.cli import app

    runner = CliRunner()
    path = NDAS / "nda-11.txt"
    table = runner.invoke(app, ["review-nda", str(path), "--llm", "off"])
    assert table.exit_code == 0, table.output
    assert "NEGOTIATE" in table.output and "return_destroy" in table.output
    as_json = runner.invoke(app, ["review-nda", str(path), "--llm", "off", "--json", "--account", "A-00003"])
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert report["verdict"] == "negotiate"
    assert {"rule", "severity", "status", "quote", "page"} <= set(report["findings"][0])
    assert {f["status"] for f in report["findings"]} <= {"deviation", "compliant", "not_found"}
    assert set(report["nli"]) >= {"nda-1", "nda-20"} and {"label", "evidence"} <= set(report["nli"]["nda-4"])
    refused = runner.invoke(app, ["review-nda", str(path), "--user", "U-KAM-001", "--account", "A-00002"])
    assert refused.exit_code == 2 and "not found" in refused.output


# --- durability: a worker killed in the middle of a review -------------------------------------------------
def test_a_review_survives_its_worker_being_killed(demo_db: str, settings: Settings, llm_stub) -> None:
    """The worker is SIGKILLed while the LLM step waits for a (slow) model; the checkpoint written after the
    patterns' step survives, and a second worker resumes the review from there and finishes it."""
    from core.jobs import JobQueue

    llm_stub.default_delay_s = 1.5
    queue = JobQueue(demo_db)
    with session_scope(demo_db) as session:
        review_id = service.submit(session, settings, LEGAL, text_of("nda-10.txt").encode(), "nda.txt", "A-00002",
                                   llm_mode="all", queue=queue).id
    env = {**os.environ, "KAM_DATA_DIR": str(settings.data_dir), "KAM_LLM_BASE_URL": llm_stub.base_url,
           "KAM_JOB_LEASE_S": "3", "KAM_JOB_POLL_S": "0.2", "KAM_LLM_RETRY_ATTEMPTS": "1"}

    def worker() -> subprocess.Popen[bytes]:
        return subprocess.Popen([sys.executable, "-m", "api.cli", "jobs", "work"], cwd=ROOT, env=env,
                                start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    first = worker()
    try:
        deadline = time.monotonic() + 90
        while not llm_stub.requests:  # the review has reached the LLM step
            assert time.monotonic() < deadline and first.poll() is None
            time.sleep(0.1)
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    from agents.nda_review.graph import builder

    with open_checkpointer(settings) as saver:
        config = {"configurable": {"thread_id": f"nda-review:{review_id}"}}
        paused = builder.compile(checkpointer=saver).get_state(config)  # type: ignore[arg-type]
    assert paused.next == ("ask_llm",) and "facts" in paused.values  # the patterns' work was kept
    second = worker()
    try:
        deadline = time.monotonic() + 240
        while True:
            with session_scope(demo_db) as session:
                status = service.get_review(session, LEGAL, review_id).status
            if status == "done":
                break
            assert time.monotonic() < deadline, status
            time.sleep(0.3)
    finally:
        os.killpg(second.pid, signal.SIGTERM)
        second.wait(timeout=30)
    with session_scope(demo_db) as session:
        report = service.report_of(service.get_review(session, LEGAL, review_id))
    assert report is not None and report.verdict == "escalate"
    assert report.uncertain  # the stub's answers are not JSON: each such rule fell back, flagged
    assert date.today()  # (as_of is the run's date)


# --- the hypothesis classifier ---------------------------------------------------------------------------
def test_the_classifier_trains_saves_and_loads(tmp_path: Path) -> None:
    from agents.nda_review import nli
    from tests.conftest import require_contractnli

    documents = json.loads(require_contractnli().read_text())["documents"][:10]
    model = nli.NliModel.fit(documents)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = nli.NliModel.load(path)
    spans = [documents[0]["text"][s:e] for s, e in documents[0]["spans"]]
    first, again = model.predict(spans), loaded.predict(spans)
    assert set(first) == set(nli.HYPOTHESES) and {p.label for p in first.values()} <= set(nli.LABELS)
    assert [p.label for p in first.values()] == [p.label for p in again.values()]  # float16 storage keeps labels
    assert loaded.fitted_on == tuple(str(d["id"]) for d in documents)


def test_the_shipped_model_was_fitted_on_contractnli_dev() -> None:
    from agents.nda_review import nli

    assert len(nli.shipped_model().fitted_on) == 61



class _UnsureClassifier:
    """Stands in for the classifier: unsure between Entailment and NotMentioned on nda-16 only."""

    def predict(self, spans: list[str]) -> dict[str, Any]:
        from agents.nda_review import nli

        sure = {"Entailment": 0.05, "Contradiction": 0.05, "NotMentioned": 0.9}
        out = {h: nli.NliPrediction("NotMentioned", sure, ()) for h in nli.HYPOTHESES}
        out["nda-16"] = nli.NliPrediction("NotMentioned", {"Entailment": 0.42, "Contradiction": 0.08,
                                                           "NotMentioned": 0.5}, ())
        out["nda-20"] = nli.NliPrediction("NotMentioned", {"Entailment": 0.1, "Contradiction": 0.4,
                                                           "NotMentioned": 0.5}, ())  # Contradiction in play
        return out

    def top_spans(self, hypothesis: str, spans: list[str]) -> list[int]:
        return [1, 0]


SPANS = ["1. Return of information. Upon written request or", "upon termination of this Agreement, the Recipient "
         "shall return all documents.", "2. Term."]


@pytest.mark.parametrize(("answers", "label", "source", "evidence", "calls"), [
    ([{"stated": "yes", "quote": "upon termination of this Agreement, the Recipient shall return"}],
     "Entailment", "llm", (1,), 1),
    ([{"stated": "no", "quote": ""}], "NotMentioned", "llm", (), 1),
    ([{"stated": "yes", "quote": "the Recipient shall destroy all copies"}] * 2, "NotMentioned", "fallback", (), 2),
])
def test_the_llm_only_says_whether_the_text_states_an_unsure_hypothesis(
        answers: list[dict[str, str]], label: str, source: str, evidence: tuple[int, ...], calls: int) -> None:
    """The LLM is asked only where the classifier is unsure whether a hypothesis is stated (not where
    Contradiction is in play); a "yes" needs a quote found in the spans it was shown, else the classifier's
    label stands, flagged."""
    from agents.nda_review import nli

    gateway, _ = fake_gateway(*[json.dumps(a) for a in answers])
    predictions, used = nli.decide(SPANS, language="en", model=_UnsureClassifier(), gateway=gateway)  # type: ignore[arg-type]
    got = predictions["nda-16"]
    assert (got.label, got.source, got.evidence, len(used)) == (label, source, evidence, calls)
    assert predictions["nda-20"].source == "model" and predictions["nda-3"].source == "model"
    assert nli.excerpts(["The Recipient shall:", "(a) return all copies;"], [0]) == [
        "The Recipient shall: (a) return all copies;"]  # a span ending in a colon is read with its list item


GERMAN_NDA = ("Vertraulichkeitsvereinbarung\n1. Vertrauliche Informationen sind alle Informationen, die als "
              "vertraulich gekennzeichnet sind.\n"
              "2. Eine Weitergabe ist nur an eigene Mitarbeiter und Berater zulässig.\n"
              "3. Ausnahmen. Die Pflichten gelten nicht für Informationen,\n(a) die öffentlich bekannt sind;\n"
              "(b) die unabhängig entwickelt wurden;\n(c) die rechtmäßig von einem Dritten erlangt wurden.\n"
              "4. Rückgabe. Auf Verlangen der offenlegenden Partei gibt die empfangende Partei alle Unterlagen zurück. "
              "Ausgenommen sind Kopien in automatischen Datensicherungen.\n"
              "5. Laufzeit. Die Pflichten bestehen nach dem Ende der Vereinbarung drei Jahre fort.")


def test_hypotheses_the_policy_extractors_read_are_settled_by_them() -> None:
    """German NDAs have no classifier: what the policy extractors read settles the hypotheses they state, with
    the item that states them as evidence; in English, survival and retention stay with the classifier (it
    read them better on ContractNLI than the extractors did)."""
    from agents.nda_review import nli
    from agents.nda_review.extractors import extract_facts
    from agents.nda_review.text import NdaText
    from policies.nda import get_nda_policy

    doc = NdaText(GERMAN_NDA)
    spans = [s.text for s in doc.sentences]
    facts = extract_facts(doc, get_nda_policy().our_names).facts
    german, _ = nli.decide(spans, language="de", model=None, facts=facts, span_starts=[s.start for s in doc.sentences])
    labels = {h: (p.label, p.source) for h, p in german.items()}
    for hypothesis, label in (("nda-1", "Entailment"), ("nda-2", "Contradiction"), ("nda-5", "Entailment"),
                              ("nda-7", "Entailment"), ("nda-12", "Entailment"), ("nda-13", "Entailment"),
                              ("nda-19", "Entailment"), ("nda-20", "Entailment")):
        assert labels[hypothesis] == (label, "facts"), hypothesis
    assert "unabhängig entwickelt" in spans[german["nda-12"].evidence[0]]  # the item, not the introduction
    assert "Dritten" in spans[german["nda-13"].evidence[0]]
    # "offenlegenden" holds "Ende", "Ausgenommen" holds "no": neither is a cue any more
    assert german["nda-16"].label == "NotMentioned" and german["nda-17"].label == "NotMentioned"
    english, _ = nli.decide(spans, language="en", model=_UnsureClassifier(), facts=facts,  # type: ignore[arg-type]
                            span_starts=[s.start for s in doc.sentences])
    assert english["nda-5"].source == "facts" and english["nda-19"].source == "model"
