"""Account briefs: facts from the rule modules, templates in German and English, the model's summary verified
(retried once, else the template, flagged), incremental and resumable nightly runs, the API and the CLI."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import AIMessage
from sqlalchemy import func, select

from agents.account_brief import nodes, render, service
from agents.account_brief.facts import gather
from agents.account_brief.schemas import Brief, BriefFacts
from agents.account_brief.sources import claim_context, claim_sources
from core import i18n
from core.access import Principal
from core.checkpoint import open_checkpointer
from core.db import models
from core.db.session import session_scope
from core.llm import LlmGateway
from core.settings import Settings
from core.verify import verify_citations, verify_numbers, verify_register
from tests.auth import bearer
from tests.conftest import AS_OF

ROOT = Path(__file__).parents[1]
SYSTEM = Principal.system("test-briefs")
KAM1 = Principal(user_id="U-KAM-001", role="kam", account_ids=frozenset({"A-00001", "A-00003"}))


def facts_of(db: str, account: str = "A-00001") -> Any:
    with session_scope(db) as session:
        return gather(session, as_of=AS_OF, account_ids=[account])[account]


def fake_gateway(*answers: str) -> LlmGateway:
    model = FakeMessagesListChatModel(responses=[AIMessage(content=a) for a in answers])
    return LlmGateway(lambda _purpose: model, model_name="fake")


def answer(*sentences: tuple[str, list[str]]) -> str:
    return json.dumps({"sentences": [{"text": t, "cites": c} for t, c in sentences]})


def all_facts(f: BriefFacts) -> list[Any]:
    """Every figure and date the brief's sources hold (what a template may state)."""
    return [fact for source in claim_sources(f, "de") for fact in source.facts]


# --- facts and templates ------------------------------------------------------------------------------------
def test_the_kpi_panel_is_the_rule_modules_output(demo_db: str) -> None:
    from policies.health import account_health

    f = facts_of(demo_db)
    with session_scope(demo_db) as session:
        rolled = account_health(session, "A-00001", as_of=AS_OF)
    assert {(k.rule, k.value, k.status) for k in f.kpis} == {(r.rule, r.value, r.status) for r in rolled.results}
    call_off = f.kpi("call_off_rate")
    assert call_off.status == "breach" and round(call_off.value, 2) == 0.62  # planted in the demo data
    assert {t.metric for t in f.trends} == {"call_off_rate", "otif", "revenue", "margin"}
    assert all(len(t.points) == 12 for t in f.trends) and f.trends[0].points[-1].month == "2026-10"
    assert f.next_meeting is not None and f.next_meeting.date == AS_OF + timedelta(days=2)


@pytest.mark.parametrize("language", ["de", "en"])
def test_template_briefs_state_only_computed_figures_and_cite_what_exists(demo_db: str, language: str) -> None:
    for account in ("A-00001", "A-00002", "A-00004", "A-00005"):
        f = facts_of(demo_db, account)
        brief = nodes.template_brief(f, None, language, AS_OF)  # type: ignore[arg-type]
        text = " ".join(s.text for s in brief.statements())
        assert verify_numbers(text, all_facts(f)).ok, verify_numbers(text, all_facts(f)).feedback()
        assert verify_citations([c for s in brief.statements() for c in s.cites], f.citable()).ok
        assert verify_register(" ".join(s.text for s in brief.talking_points + brief.summary), language).ok  # type: ignore[arg-type]
        assert 3 <= len(brief.talking_points) <= 5 and brief.prose_source == "template"
    f = facts_of(demo_db, "A-00001")
    risks = " ".join(s.text for s in nodes.template_brief(f, None, language, AS_OF).risks)  # type: ignore[arg-type]
    wanted = ("Abrufquote 62,0\xa0%: 8,0 Prozentpunkte unter dem Ziel von 70,0\xa0%" if language == "de"
              else "Call-off rate 62.0%: 8.0 percentage points below the target of 70.0%")
    assert wanted in risks


def test_suggestions_are_marked_and_recorded_opportunities_are_not(demo_db: str) -> None:
    brief = nodes.template_brief(facts_of(demo_db), None, "de", AS_OF)
    recorded = [s for s in brief.opportunities if not s.suggestion]
    assert recorded and all(c.startswith("opportunity:") for s in recorded for c in s.cites)
    assert any(s.suggestion for s in brief.opportunities)  # A-00001 is below the yearly opportunity target
    assert "Vorschlag:" in render.markdown(brief)


def test_the_html_brief_is_one_page_with_its_trend_charts(demo_db: str) -> None:
    page = render.html(nodes.template_brief(facts_of(demo_db), None, "en", AS_OF))
    assert page.count("<svg") == 4 and "stroke-dasharray" in page  # four charts, the threshold dashed
    assert "<script" not in page and not re.search(r"(?:src|href)=\"https?:", page)  # nothing to fetch
    assert "KPIs (R12: 1 Nov 2025 – 31 Oct 2026)" in page.replace("\u00a0", " ")  # the period with its dates


# --- the model's summary ------------------------------------------------------------------------------------
def run(settings: Settings, gateway: LlmGateway | None, language: str = "de", account: str = "A-00001") -> Brief:
    with open_checkpointer(settings) as saver:
        return service.run_one(settings, saver, SYSTEM, account, brief_date=AS_OF, language=language,  # type: ignore[arg-type]
                               gateway=gateway, use_llm=gateway is not None)


def test_a_verified_summary_is_kept(demo_db: str, settings: Settings) -> None:
    good = answer(("Die Abrufquote liegt bei 62,0 % und damit unter dem Ziel von 70,0 %.",
                   ["kpi:call_off_rate"]),
                  ("Der nächste Termin ist am 28.11.2026.", ["meeting:A-00001-MNEXT"]))
    brief = run(settings, fake_gateway(good))
    assert brief.prose_source == "llm" and brief.summary[0].text.startswith("Die Abrufquote liegt bei 62,0 %")
    assert brief.model == "fake" and brief.changes[0].text == "Erster Brief für diesen Kunden."


def test_an_invented_figure_is_retried_once_then_replaced_by_the_template(demo_db: str, settings: Settings) -> None:
    """The 1.5B model's measured mistake: given 0.62 it wrote "80 %". Shown the failure, it gets one more try;
    if that fails too the template summary stands and the brief says why."""
    invented = answer(("Die Abrufquote liegt bei 80 %.", ["kpi:call_off_rate"]))
    fixed = answer(("Die Abrufquote liegt bei 62,0 % und ist damit unter dem Ziel.", ["kpi:call_off_rate"]))
    assert run(settings, fake_gateway(invented, fixed)).prose_source == "llm"
    brief = run(settings, fake_gateway(invented, invented), account="A-00003")
    assert brief.prose_source == "fallback" and "80" in (brief.fallback_reason or "")
    assert brief.summary == nodes.template_brief(brief.facts, None, "de", AS_OF).summary


@pytest.mark.parametrize(("bad", "why"), [
    (answer(("Hallo, deine Abrufquote liegt bei 62,0 % und ist unter dem Ziel.", ["kpi:call_off_rate"])), "informal"),
    (answer(("Die Abrufquote liegt bei 62,0 % und ist damit unter dem Ziel.", ["kpi:made_up"])),
     "not a source of this answer"),
    (answer(("Die Abrufquote liegt bei 62,0 % und ist damit unter dem Ziel.", [])), "cites no source"),
    (answer(("The call-off rate is 62.0 % and below the target of 70.0 %.", ["kpi:call_off_rate"])),
     "not written in de"),
    (answer(("Die Abrufquote liegt bei 70,0 % und das Ziel bei 62,0 %.", ["kpi:call_off_rate"])), "written for"),
    (answer(("Die Abrufquote liegt über dem Ziel.", ["kpi:call_off_rate"])), "is above the target"),
    (answer(("The call-off rate is 62.0 %, which is above the target of 70.0 %.", ["kpi:call_off_rate"])),
     "is above the target"),  # the relative clause belongs to the KPI before the comma
    (answer(("Die Liefertreue (OTIF) ist ein Verstoß.", ["kpi:otif"])), "is a breach"),  # OTIF is a warning
    (answer(("Die Abrufquote liegt bei 62,0 %.", ["kpi:otif"])), "no cited source states"),  # an uncited fact
    (answer(("Die Abrufquote ist seit Juni gestiegen.", ["kpi:call_off_rate"])), "rose"),  # it stayed at 62 %
    (answer(("Der Kunde wird den Rahmenvertrag kündigen.", ["kpi:call_off_rate"])), "note or mail"),
])
def test_what_the_checks_reject(demo_db: str, bad: str, why: str) -> None:
    f = facts_of(demo_db)
    result = nodes.check(json.loads(bad)["sentences"], claim_context(f, "de"))
    assert not result.ok and why in result.feedback(), result.feedback()


def test_without_a_model_the_brief_is_the_template(demo_db: str, settings: Settings) -> None:
    brief = run(settings, None, language="en")
    assert brief.prose_source == "template" and brief.model is None and brief.prompt_tokens == 0


# --- the nightly run ------------------------------------------------------------------------------------------
def count_briefs(db: str) -> int:
    with session_scope(db) as session:
        return int(session.execute(select(func.count()).select_from(models.Brief)).scalar_one())


def test_nightly_runs_are_incremental_and_report_changes(demo_db: str, settings: Settings) -> None:
    first = service.plan_and_write(settings, SYSTEM, brief_date=AS_OF, use_llm=False)
    assert first.generated == first.accounts == 12 and first.unchanged == 0
    assert service.plan_and_write(settings, SYSTEM, brief_date=AS_OF, use_llm=False).unchanged == 12  # same day
    with session_scope(demo_db) as session:
        session.add(models.Interaction(id="A-00003-NEW", account_id="A-00003", contact_id=None, user_id="U-KAM-001",
                                       interaction_date=AS_OF, interaction_type="call", qualified=True,
                                       language="de", note="Kunde erhöht den Bedarf für 2027."))
    later = AS_OF + timedelta(days=1)
    second = service.plan_and_write(settings, SYSTEM, brief_date=later, use_llm=False)
    changed = {b.account_id for b in _briefs_on(demo_db, later)}
    assert "A-00003" in changed and second.generated == len(changed) < 12  # the others' facts did not change
    with session_scope(demo_db) as session:
        brief = service.latest(session, SYSTEM, "A-00003", on=later)
    assert any("interaction:A-00003-NEW" in s.cites for s in brief.changes)


def _briefs_on(db: str, on: date) -> list[models.Brief]:
    with session_scope(db) as session:
        return list(session.execute(select(models.Brief).where(models.Brief.brief_date == on)).scalars())


def test_a_new_owner_gets_a_handover_brief(demo_db: str, settings: Settings) -> None:
    service.plan_and_write(settings, SYSTEM, brief_date=AS_OF, use_llm=False, account_ids=["A-00001"])
    with session_scope(demo_db) as session:
        session.get(models.Account, "A-00001").inside_sales_id = "U-ISP-002"  # type: ignore[union-attr]
    summary = service.plan_and_write(settings, SYSTEM, brief_date=AS_OF + timedelta(days=1), use_llm=False,
                                     account_ids=["A-00001"])
    assert summary.handovers == 1
    with session_scope(demo_db) as session:
        handover = service.latest(session, SYSTEM, "A-00001", kind="handover")
    cited = {c.split(":")[0] for s in handover.handover for c in s.cites}
    assert {"contact", "interaction"} <= cited


def test_a_handover_quotes_the_commitments_made_in_notes(demo_db: str) -> None:
    note = ("Termin mit dem Einkauf zu den Abrufen. Wir liefern die Muster für 4711-B bis KW 12 nach Ulm. "
            "Preisthema vertagt.")
    with session_scope(demo_db) as session:
        session.add(models.Interaction(id="A-00001-PROMISE", account_id="A-00001", contact_id=None,
                                       user_id="U-KAM-001", interaction_date=AS_OF, interaction_type="visit",
                                       qualified=True, language="de", note=note))
    f = facts_of(demo_db)
    items = [s for s in nodes.template_brief(f, None, "en", AS_OF, kind="handover").handover
             if s.cites == ["interaction:A-00001-PROMISE"]]
    assert [s.quote for s in items] == ["Wir liefern die Muster für 4711-B bis KW 12 nach Ulm."]
    assert items[0].text == f"Commitment in the note of {i18n.day(AS_OF, 'en')}"  # the figures stay in the quote
    assert all(s.quote in note for s in items)


def test_documents_in_the_knowledge_store_are_listed_and_new_ones_reported(demo_db: str, knowledge_dir: Path,
                                                                              settings: Settings) -> None:
    with session_scope(demo_db) as session:
        current = gather(session, as_of=AS_OF, account_ids=["A-00001"], data_dir=knowledge_dir)["A-00001"]
    assert current.documents and {f"document:{d.id}" for d in current.documents} <= current.citable()
    newest, *older = current.documents
    bumped = [d.model_copy(update={"content_hash": "0" * 16}) for d in older[:1]]
    previous = current.model_copy(update={"documents": bumped + older[1:]})
    changes = nodes.template_brief(current, previous, "en", AS_OF).changes
    reported = {c for s in changes for c in s.cites if c.startswith("document:")}
    assert f"document:{newest.id}" in reported and (not older or f"document:{older[0].id}" in reported)
    assert current.input_hash() != previous.input_hash()
    text = " ".join(s.text for s in changes)
    assert verify_numbers(text, all_facts(current)).ok, verify_numbers(text, all_facts(current)).feedback()


def test_nightly_template_briefs_carry_the_contract_clauses(demo_db: str, knowledge_dir: Path,
                                                            settings: Settings) -> None:
    import shutil

    from knowledge.service import reset

    shutil.copytree(knowledge_dir, settings.data_dir, dirs_exist_ok=True)
    reset()
    service.plan_and_write(settings, SYSTEM, brief_date=AS_OF, use_llm=False)
    with session_scope(demo_db) as session:
        briefs = [service.latest(session, SYSTEM, a, language="de") for a in ("A-00001", "A-00002", "A-00003")]
    with_clauses = [b for b in briefs if b.clauses]
    assert with_clauses, "no template brief got a contract clause"
    for brief in with_clauses:
        assert all(c.chunk_id and c.text for c in brief.clauses)
        assert {d.id for d in brief.facts.documents}
    reset()


def _brief_run(settings: Settings, stub_url: str, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KAM_DATA_DIR": str(settings.data_dir), "KAM_LLM_BASE_URL": stub_url,
           "KAM_LLM_AUTOSTART": "false", "KAM_JOB_LEASE_S": "2", "KAM_LLM_RETRY_ATTEMPTS": "1"}
    return subprocess.Popen([sys.executable, "-m", "api.cli", "briefs", "run", "--date", AS_OF.isoformat(), "--all",
                             *extra], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def test_a_killed_run_resumes_and_writes_each_brief_once(demo_db: str, settings: Settings, llm_stub: Any) -> None:
    """`kill -9` in the middle of the model summaries; the next run finishes the rest. Every account gets one
    brief, every job runs to success once, and no finished brief asks the model again."""
    llm_stub.default_delay_s = 0.5  # a slow model; its "ok" is no JSON answer, so every summary falls back
    first = _brief_run(settings, llm_stub.base_url)
    deadline = time.monotonic() + 60
    while count_briefs(demo_db) < 2:
        assert time.monotonic() < deadline and first.poll() is None
        time.sleep(0.1)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    done_before = count_briefs(demo_db)
    assert 0 < done_before < 12
    asked_before = len(llm_stub.requests)
    time.sleep(2.5)  # the killed run's lease runs out
    second = _brief_run(settings, llm_stub.base_url)
    output = second.communicate(timeout=120)[0].decode()
    assert second.returncode == 0, output
    assert count_briefs(demo_db) == 12
    with session_scope(demo_db) as session:
        jobs = list(session.execute(select(models.Job).where(models.Job.kind == service.JOB_KIND)).scalars())
    assert len(jobs) == 12 and all(j.status == "succeeded" for j in jobs), [
        (j.status, j.attempts, j.idempotency_key, (j.error or "")[-300:]) for j in jobs if j.status != "succeeded"]
    assert sum(j.attempts for j in jobs) <= 13  # only the job killed mid-way ran twice
    assert len(llm_stub.requests) - asked_before <= 2 * (12 - done_before + 1)  # finished briefs asked nothing
    assert {b.prose_source for b in _briefs_on(demo_db, AS_OF)} == {"fallback"}


# --- API and CLI --------------------------------------------------------------------------------------------
def test_api_serves_briefs_within_the_callers_scope(client: TestClient, settings: Settings) -> None:
    kam = bearer("U-KAM-001")
    assert client.get("/accounts/A-00001/brief", headers=kam).status_code == 404  # none written yet
    service.plan_and_write(settings, SYSTEM, brief_date=AS_OF, use_llm=False)
    brief = client.get("/accounts/A-00001/brief", headers=kam, params={"date": AS_OF.isoformat()})
    assert brief.status_code == 200 and brief.json()["facts"]["account_id"] == "A-00001"
    assert client.get("/accounts/A-00002/brief", headers=kam).status_code == 404  # not theirs
    assert client.get("/accounts/A-00001/brief", headers=bearer("U-LEGAL-1")).status_code == 403
    page = client.get("/accounts/A-00001/brief.html", headers=kam)
    assert page.status_code == 200 and page.text.count("<svg") == 4
    listed = client.get("/briefs", headers=kam, params={"date": AS_OF.isoformat()}).json()
    assert {b["account_id"] for b in listed} == {f"A-{n:05d}" for n in range(1, 13, 2)}
    handover = client.get("/accounts/A-00001/handover", headers=kam, params={"as_of": AS_OF.isoformat()})
    assert handover.status_code == 200 and handover.json()["kind"] == "handover" and handover.json()["handover"]
    requested = client.post("/accounts/A-00001/brief", headers=kam, params={"llm": "false",
                                                                             "as_of": AS_OF.isoformat()})
    assert requested.status_code == 202 and client.get(f"/jobs/{requested.json()['job_id']}",
                                                       headers=kam).status_code == 200


def test_cli_shows_a_brief(demo_db: str, settings: Settings, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from api.cli import app

    runner = CliRunner()
    ran = runner.invoke(app, ["briefs", "run", "--date", AS_OF.isoformat(), "--no-llm", "--accounts", "A-00001"])
    assert ran.exit_code == 0 and "1 accounts" in ran.output, ran.output
    shown = runner.invoke(app, ["briefs", "show", "A-00001", "--html", str(tmp_path / "b.html")])
    assert shown.exit_code == 0 and "Abrufquote" in shown.output
    assert (tmp_path / "b.html").read_text().count("<svg") == 4
    missing = runner.invoke(app, ["briefs", "show", "A-00002"])
    assert missing.exit_code == 2 and "no brief" in missing.output


# --- one run at a time, and the schedule --------------------------------------------------------------------
def test_one_run_per_date_at_a_time_and_a_crashed_holder_lets_go(demo_db: str, settings: Settings) -> None:
    from types import SimpleNamespace

    from agents.account_brief import jobs
    from core.errors import Conflict
    from core.jobs import JobQueue, held_lock

    queue = JobQueue(demo_db)
    services = SimpleNamespace(settings=settings, jobs=queue)
    with held_lock(queue, jobs.run_lock_name(AS_OF)) as held:  # another run holds the date
        assert held
        with pytest.raises(Conflict, match="in progress"):
            jobs.nightly(services, SYSTEM, brief_date=AS_OF, use_llm=False)
    assert queue.acquire_lock(jobs.run_lock_name(AS_OF), "a-run-that-crashed", lease_s=0.2)  # never released
    time.sleep(0.3)
    assert jobs.nightly(services, SYSTEM, brief_date=AS_OF, use_llm=False).generated == 12


def test_the_schedule_queues_one_run_per_day_which_the_worker_runs(demo_db: str, settings: Settings,
                                                                   llm_stub: Any) -> None:
    from pydantic import ValidationError

    from api.services import open_services, queue_nightly_briefs

    with pytest.raises(ValidationError, match="briefs_cron"):
        Settings(briefs_cron="61 * * * *")
    configured = settings.model_copy(update={"briefs_cron": "30 2 * * *", "job_poll_s": 0.1,
                                             "llm_base_url": llm_stub.base_url, "llm_retry_attempts": 1})
    with open_services(configured, start_llm=False, run_worker=True) as services:
        planned = services.extras["briefs_scheduler"].get_job("nightly-briefs").next_run_time
        assert (planned.hour, planned.minute) == (2, 30)
        first, again = queue_nightly_briefs(services, AS_OF), queue_nightly_briefs(services, AS_OF)
        assert first == again  # one run per date
        deadline = time.monotonic() + 60
        while services.jobs.get(first).status != "succeeded":
            assert time.monotonic() < deadline, services.jobs.get(first)
            time.sleep(0.2)
    assert count_briefs(demo_db) == 12 and services.jobs.get(first).result["accounts"] == 12


def test_a_cited_id_without_its_prefix_is_completed_only_when_unambiguous() -> None:
    citable = {"kpi:otif", "interaction:A-1-N4", "order:X", "opportunity:X"}
    assert nodes.full_id("otif", citable) == "kpi:otif"
    assert nodes.full_id("A-1-N4", citable) == "interaction:A-1-N4"
    assert nodes.full_id("X", citable) == "X"  # an order or an opportunity: not decidable, left to fail
    assert nodes.full_id("nps_score", citable) == "nps_score"
