"""Eval metrics, the runner (results, report, baseline diff) and the CI gate on the deterministic suites."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from evals import metrics
from evals.runner import BaselineMetric, compare, load_baseline, run_eval, write_baseline
from evals.suites import Case, CaseResult, load_cases
from tests.conftest import require_contractnli


# --- metrics -------------------------------------------------------------------------------------
def test_prf_and_micro() -> None:
    result = metrics.prf({"a", "b", "c"}, {"b", "c", "d", "e"})
    assert (result.precision, result.recall) == (2 / 3, 2 / 4)
    assert result.f1 == pytest.approx(2 * (2 / 3) * 0.5 / (2 / 3 + 0.5))
    assert metrics.prf([], []).f1 == 1.0 and metrics.prf(["x"], []).precision == 0.0
    micro = metrics.micro_prf([({"a"}, {"a", "b"}), ({"c", "d"}, {"c"})])
    assert (micro.precision, micro.recall) == (2 / 3, 2 / 3)


def test_accuracy_and_macro_f1() -> None:
    predicted = ["E", "E", "N", "C"]
    expected = ["E", "N", "N", "N"]
    assert metrics.accuracy(predicted, expected) == 0.5
    # E: p=1/2 r=1 f=2/3; N: p=1 r=1/3 f=1/2; C: p=0 r=0 f=0
    assert metrics.macro_f1(predicted, expected) == pytest.approx((2 / 3 + 1 / 2 + 0) / 3)


def test_ranking_metrics() -> None:
    ranked = ["x", "a", "y", "b"]
    assert metrics.recall_at_k(ranked, ["a", "b"], 2) == 0.5
    assert metrics.recall_at_k(ranked, ["a", "b"], 8) == 1.0
    assert metrics.reciprocal_rank(ranked, ["b", "a"]) == 0.5
    assert metrics.reciprocal_rank(ranked, ["z"]) == 0.0


@pytest.mark.parametrize(("text", "facts", "score", "untraced"), [
    ("OTIF lag bei 93,3 % (Ziel 98 %).", [0.9333, 0.98], 1.0, []),
    ("Call-off rate 62 %, planned 69,760 pcs.", [0.62, 69760], 1.0, []),
    ("Die Abrufquote liegt bei 80%.", [0.62], 0.0, ["80"]),
    ("Meeting on 2026-12-01 about 3 open invoices.", [3, date(2026, 12, 1)], 1.0, []),
    ("Meeting on 2026-12-02 about 3 open invoices.", [3, date(2026, 12, 1)], 0.5, ["2026-12-02"]),
    # precision as written: a figure with more decimals than the fact has is not that fact ...
    ("Die Abrufquote liegt bei 62,4 %.", [0.62], 0.0, ["62,4"]),
    # ... a one-digit rounding is no trace of a fraction ...
    ("Es ist 1 offener Punkt.", [0.6], 0.0, ["1"]),
    # ... and a correct half-up rounding is fine
    ("Die Quote liegt bei 63 %.", [0.625], 1.0, []),
    ("Exposure 1.234.567,89 EUR vs limit 1,000,000.", [1234567.89, 1_000_000], 1.0, []),
    ("No numbers here.", [], 1.0, []),
])
def test_numeric_faithfulness(text: str, facts: list[float], score: float, untraced: list[str]) -> None:
    result = metrics.numeric_faithfulness(text, facts)
    assert result.score == score and result.untraced == untraced


def test_faithfulness_catches_the_recorded_local_model_answer() -> None:
    """The cassette holds the 1.5B model's real answer to a tool result of 0.62."""
    cassette = yaml.safe_load((Path(__file__).parent / "cassettes" / "tool_round_trip.yaml").read_text())
    answer = json.loads(cassette["interactions"][-1]["response"]["body"]["string"])["choices"][0]["message"]["content"]
    result = metrics.numeric_faithfulness(answer, [0.62])
    assert result.score < 1.0 and result.untraced  # the model invented a figure; code catches it


def test_citation_validity() -> None:
    source = "§ 6 Vertragsstrafe. Bei schuldhaftem   Lieferverzug zahlt der Lieferant"
    assert metrics.citation_validity(["schuldhaftem Lieferverzug"], source) == 1.0
    assert metrics.citation_validity(["schuldhafter Verzug", "zahlt der Lieferant"], source) == 0.5
    assert metrics.citation_validity(["Lieferant"], source) == 0.0  # one word points at no passage


def test_refusal_rate() -> None:
    answers = ["I can't answer that from the account data.", "Dazu liegt mir nicht vor, welche Marge geplant ist.",
               "The call-off rate is 62 %.", "Keine Informationen zu diesem Kunden."]
    assert [metrics.is_refusal(a) for a in answers] == [True, True, False, True]
    assert metrics.refusal_rate(answers) == 0.75


# --- runner --------------------------------------------------------------------------------------
class EchoSuite:
    name = "echo"
    settings = {"model": "none"}

    def cases(self) -> list[Case]:
        return []

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        return {"accuracy": 0.5}

    def close(self) -> None:
        return None

    def run_case(self, case: Case) -> CaseResult:
        if case.inputs.get("boom"):
            raise RuntimeError("agent crashed")
        ok = case.inputs["answer"] == case.expected["answer"]
        return CaseResult(case.id, ok, {"correct": float(ok)}, case.inputs["answer"], case.expected, case.tags,
                          tokens={"prompt": 10, "completion": 2})

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        return {"accuracy": sum(r.metrics.get("correct", 0.0) for r in results) / len(results)}


def _cases(answers: list[str]) -> list[Case]:
    return [Case(f"c{i}", {"answer": a}, {"answer": "yes"}, {"lang": "de"}) for i, a in enumerate(answers)]


def test_runner_writes_results_report_and_diffs_against_the_baseline(tmp_path: Path) -> None:
    baselines = tmp_path / "baselines"
    good = run_eval("echo", EchoSuite(), tmp_path / "runs", cases=_cases(["yes", "yes", "no", "yes"]),
                    baseline_dir=baselines)
    assert good.metrics["accuracy"] == 0.75 and good.regressions == []
    lines = (good.out_dir / "results.jsonl").read_text().splitlines()
    assert len(lines) == 4 and json.loads(lines[2])["passed"] is False
    report = (good.out_dir / "report.md").read_text()
    assert "| accuracy | higher | 0.7500 | 0.5000 |" in report and "### c2" in report  # with its trivial baseline
    assert "| cost.prompt_tokens_per_case | lower | 10.0000 |" in report
    write_baseline(good, baselines)
    worse = run_eval("echo", EchoSuite(), tmp_path / "runs", cases=_cases(["yes", "no", "no", "no"]),
                     baseline_dir=baselines)
    assert [r.metric for r in worse.regressions] == ["accuracy", "pass_rate"]
    assert "**accuracy**: accuracy: 0.25 is below the baseline 0.75" in (worse.out_dir / "report.md").read_text()


def test_a_crashing_case_is_a_failed_case(tmp_path: Path) -> None:
    cases = [*_cases(["yes"]), Case("boom", {"boom": True, "answer": "yes"}, {"answer": "yes"})]
    run = run_eval("echo", EchoSuite(), tmp_path, cases=cases, baseline_dir=tmp_path)
    crashed = next(r for r in run.results if r.case_id == "boom")
    assert not crashed.passed and "agent crashed" in crashed.error and run.metrics["pass_rate"] == 0.5


def test_compare_tolerance_direction_and_missing_metric() -> None:
    baseline = {"a": BaselineMetric(0.8, tolerance=0.05), "b": BaselineMetric(0.5, tolerance=0.05),
                "cost.prompt_tokens_per_case": BaselineMetric(1000, "lower", 0.25, relative=True)}
    assert compare({"a": 0.76, "b": 0.5, "cost.prompt_tokens_per_case": 1200}, baseline) == []
    assert [r.metric for r in compare({"a": 0.74, "cost.prompt_tokens_per_case": 1300}, baseline)] == [
        "a", "b", "cost.prompt_tokens_per_case"]  # fewer tokens are better: 30 % more is a regression


def test_baselines_round_trip_with_directions(tmp_path: Path) -> None:
    run = run_eval("echo", EchoSuite(), tmp_path / "runs", cases=_cases(["yes", "no"]), baseline_dir=tmp_path)
    write_baseline(run, tmp_path)
    loaded = load_baseline("echo", tmp_path)
    assert loaded["accuracy"] == BaselineMetric(0.5, "higher")
    assert loaded["cost.wall_s_per_case"].direction == "lower"


def test_wall_time_is_reported_but_never_gates() -> None:
    """A shared CI machine ran the NDA eval 3.2 times slower than the baseline's (1.406 s against 0.436 s a
    case): that is load, not a regression. Model calls and tokens still gate."""
    baseline = {"cost.wall_s_per_case": BaselineMetric(0.436, "lower", 1.5, relative=True),
                "cost.llm_calls_per_case": BaselineMetric(0.33, "lower", 0.25, relative=True)}
    assert compare({"cost.wall_s_per_case": 1.406, "cost.llm_calls_per_case": 0.33}, baseline) == []
    assert compare({"cost.wall_s_per_case": 99.0, "cost.llm_calls_per_case": 0.5}, baseline)[0].metric == (
        "cost.llm_calls_per_case")


def test_golden_sets_are_well_formed() -> None:
    cases = load_cases("retrieval")
    assert len(cases) >= 40 and len({c.id for c in cases}) == len(cases)
    assert {c.tags["query_language"] for c in cases} == {"de", "en"}
    from agents.nda_review.nli import HYPOTHESES, LABELS

    ndas = load_cases("nda_review")  # every golden NDA has a hand label for each ContractNLI hypothesis
    assert all(set(c.expected["nli"]) == set(HYPOTHESES) and set(c.expected["nli"].values()) <= set(LABELS)
               for c in ndas)
    assert {c.tags["language"] for c in ndas} == {"de", "en"}
    assert {c.split for c in ndas} == {"dev", "holdout", "holdout-v1"}
    fresh = [c for c in ndas if c.split == "holdout"]  # written after the first holdout was found used in tuning
    assert len(fresh) >= 8 and {c.tags["language"] for c in fresh} == {"de", "en"}


# --- the CI gate: deterministic suites against their committed baselines --------------------------
def test_gate_retrieval_has_not_regressed(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "retrieval"])
    assert result.exit_code == 0, result.output
    assert "hybrid.recall@8" in result.output


def test_contractnli_predictors_are_never_scored_on_documents_they_were_fitted_on(tmp_path: Path) -> None:
    from evals.suites import ContractNliSuite, EvalAborted, MostFrequentLabel

    require_contractnli()
    suite = ContractNliSuite(tmp_path, predictor_factory=lambda _fold, docs: MostFrequentLabel(docs))
    for case in suite.cases()[::17]:
        document = case.inputs["document_id"]
        assert document not in suite.predictors[suite.folds[document]].fitted_on
    assert all(len(p.fitted_on) < len(suite.documents) for p in suite.predictors.values())
    with pytest.raises(EvalAborted, match="fitted on documents it would score"):
        ContractNliSuite(tmp_path, predictor_factory=lambda _fold, docs: MostFrequentLabel(
            list(suite.documents.values())))  # fitted on everything: refused


def test_gate_contractnli_in_cross_validation_beside_the_trivial_floor(settings) -> None:
    from api.cli import app

    require_contractnli()
    result = CliRunner().invoke(app, ["eval", "--agent", "contractnli"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    value, floor = float(lines["accuracy"][2]), float(lines["accuracy"][3])
    assert floor == 0.704 and value > floor  # the reviewer's classifier, out of fold, beats the majority floor
    assert float(lines["macro_f1"][2]) > float(lines["macro_f1"][3]) == 0.6617
    assert "evidence.span_overlap" in lines


def test_gate_nda_review_on_real_files(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "nda_review"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    assert float(lines["verdict.accuracy"][2]) > float(lines["verdict.accuracy"][3])  # beats "always escalate"
    for language in ("de", "en"):  # the hypotheses beat the most frequent label per hypothesis, in both languages
        assert float(lines[f"nli.accuracy.{language}"][2]) > float(lines[f"nli.accuracy.{language}"][3])


def test_gate_account_brief_beside_an_empty_brief(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "account_brief"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    assert float(lines["fact_recall"][2]) > float(lines["fact_recall"][3])  # an empty brief states nothing
    assert float(lines["numeric_faithfulness"][2]) == 1.0 and float(lines["must_not_violations"][2]) == 0.0


def test_account_brief_expectations_come_from_the_data_not_the_agent(tmp_path: Path) -> None:
    """The committed cases are what plain SQL over the demo tables and the planted situations say; a change of
    the demo generator that moves them shows here, not as a silent drop in the score."""
    from sqlalchemy.orm import Session

    from core.crm import demo
    from core.crm.importer import import_directory
    from core.db.migrate import upgrade
    from core.db.session import get_engine
    from evals.brief_suites import BRIEF_ACCOUNTS, derive_expected
    from evals.suites import EVAL_AS_OF, EVAL_SEED

    demo.generate(tmp_path / "corpus", accounts=BRIEF_ACCOUNTS, seed=EVAL_SEED, as_of=EVAL_AS_OF, document_accounts=0)
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    upgrade(url)
    import_directory(tmp_path / "corpus", url)
    cases = load_cases("account_brief")
    assert len(cases) >= 15 and {c.tags["language"] for c in cases} == {"de", "en"}
    assert {c.split for c in cases} == {"dev", "holdout"}
    with Session(get_engine(url)) as session:
        assert all(c.expected == derive_expected(session, c.inputs["account_id"]) for c in cases)


def test_gate_escalation_drafter_beside_a_mail_that_says_nothing(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "escalation_drafter"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    assert float(lines["required_facts"][2]) > float(lines["required_facts"][3])
    assert float(lines["next_step"][2]) > float(lines["next_step"][3])
    assert float(lines["internal_leaks"][2]) == 0.0 and float(lines["numeric_faithfulness"][2]) == 1.0
    assert CliRunner().invoke(app, ["eval", "--agent", "escalation_drafter", "--llm", "all"]).exit_code == 2


def _assert_cases_rewritten(tmp_path: Path, agent: str, accounts: int, write_cases: Any) -> None:
    """The suite's ``write_cases`` over a fresh database of the eval's demo data gives the committed file."""
    from core.crm import demo
    from core.crm.importer import import_directory
    from core.db.migrate import upgrade
    from evals.suites import EVAL_AS_OF, EVAL_SEED

    demo.generate(tmp_path / "corpus", accounts=accounts, seed=EVAL_SEED, as_of=EVAL_AS_OF, document_accounts=0)
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    upgrade(url)
    import_directory(tmp_path / "corpus", url)
    write_cases(url, tmp_path / "cases.jsonl")
    committed = Path(__file__).parents[1] / "evals" / "golden" / agent / "cases.jsonl"
    assert (tmp_path / "cases.jsonl").read_text(encoding="utf-8") == committed.read_text(encoding="utf-8")


def test_escalation_expectations_come_from_sql_not_the_rule_modules(tmp_path: Path) -> None:
    """The committed cases are what plain SQL over the demo tables says (the suite's own queries, not
    ``policies``), for every trigger kind, customer and internal, German and English recipients."""
    from evals.escalation_suites import ESCALATION_ACCOUNTS, write_cases

    _assert_cases_rewritten(tmp_path, "escalation_drafter", ESCALATION_ACCOUNTS, write_cases)
    cases = load_cases("escalation_drafter")
    assert len(cases) >= 12 and {c.split for c in cases} == {"dev", "holdout"}
    assert {c.tags["kind"] for c in cases} == {"call_off_rate", "otif", "credit_limit", "escalation_overdue",
                                               "dunning", "reorder"}
    assert {c.tags["language"] for c in cases if c.tags["audience"] == "customer"} == {"de", "en"}
    source = (Path(__file__).parents[1] / "evals" / "escalation_suites.py").read_text(encoding="utf-8")
    assert "from policies" not in source and "agents.escalation_drafter import texts" not in source


def test_gate_chat_beside_a_chat_that_refuses_everything(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "chat"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    assert float(lines["answer_correctness"][2]) >= 0.9 > float(lines["answer_correctness"][3])
    assert float(lines["citation_precision"][2]) > float(lines["citation_precision"][3])
    assert float(lines["refusal_out_of_scope"][2]) == 1.0 and float(lines["wrong_refusals"][2]) == 0.0
    assert float(lines["numeric_faithfulness"][2]) == 1.0


def test_chat_expectations_come_from_sql_not_the_chat(tmp_path: Path) -> None:
    """The committed questions' expectations are what plain SQL over the demo tables says (the escalation
    eval's queries and the chat suite's own), not what the chat's tools or templates compute."""
    from evals.chat_suites import write_cases
    from evals.suites import EVAL_ACCOUNTS

    _assert_cases_rewritten(tmp_path, "chat", EVAL_ACCOUNTS, write_cases)
    cases = load_cases("chat")
    assert len(cases) >= 30 and {c.split for c in cases} == {"dev", "holdout"}
    assert {c.tags["language"] for c in cases} == {"de", "en"} and sum(c.expected["refusal"] for c in cases) >= 6
    source = (Path(__file__).parents[1] / "evals" / "chat_suites.py").read_text(encoding="utf-8")
    assert "from policies" not in source and "agents.chat.tools" not in source and "import texts" not in source


# --- the LLM probe suite -------------------------------------------------------------------------
def test_nda_facts_golden_set_is_independent_of_the_demo_generator() -> None:
    from core.crm import documents
    from evals.llm_suites import NDA_DOCUMENTS, NDA_FACTS_PROMPT

    cases = load_cases("nda_facts")
    assert len(cases) >= 16 and {c.split for c in cases} == {"dev", "holdout"}
    template = [clause for lang in ("de", "en") for law in documents.LAW_TEXT for mutual in (True, False)
                for clause in documents.nda_clauses(lang, "X", documents.NdaTerms(3, law, True, 25_000, mutual))]
    sentences = {s.strip() for clause in template for s in clause.split(".") if len(s.strip()) > 30}
    for case in cases:
        text = (NDA_DOCUMENTS / case.inputs["document"]).read_text(encoding="utf-8")
        assert not [s for s in sentences if s in text], case.id
    for phrase in ("beide Parteien", "der Lieferant", "Residuals", "titled"):
        assert phrase not in NDA_FACTS_PROMPT


def test_nda_facts_suite_scores_fields_against_a_trivial_baseline(tmp_path: Path) -> None:
    from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
    from langchain_core.messages import AIMessage

    from core.llm import LlmGateway
    from core.settings import Settings
    from evals.llm_suites import NdaFactsSuite

    facts = {"agreement_term_years": 3, "confidentiality_years": 5, "governing_law": "germany",
             "residuals_clause": False, "contractual_penalty_eur": None, "mutual": True}
    right = json.dumps(facts)
    wrong_law = json.dumps({**facts, "governing_law": "new_york"})
    responses = [AIMessage(content=right), AIMessage(content=wrong_law), AIMessage(content="no idea"),
                 AIMessage(content="still no JSON")]
    gateway = LlmGateway(lambda p: FakeMessagesListChatModel(responses=responses))
    suite = NdaFactsSuite(tmp_path, settings=Settings(), gateway=gateway)
    cases = [Case(f"n{i}", {"document": "nda-01.txt"}, facts) for i in range(3)]
    run = run_eval("nda_facts", suite, tmp_path / "runs", cases=cases, concurrency=1, baseline_dir=tmp_path)
    assert run.metrics["field.governing_law"] == pytest.approx(1 / 3, abs=1e-3)  # right, wrong, invalid
    assert run.metrics["field.agreement_term_years"] == pytest.approx(2 / 3, abs=1e-3)
    assert run.metrics["valid_output_rate"] == pytest.approx(2 / 3, abs=1e-3)
    assert run.metrics["exact_match"] == pytest.approx(1 / 3, abs=1e-3)
    # present facts: 3 per NDA (two durations, the law); the invalid answer asserts nothing
    assert run.metrics["present.precision"] == pytest.approx(5 / 6, abs=1e-4)
    assert run.metrics["present.recall"] == pytest.approx(5 / 9, abs=1e-4)
    assert run.trivial["field.governing_law"] == 1.0  # every case expects germany: a constant predictor is perfect
    assert [r.error is not None for r in run.results] == [False, False, True]
    assert run.metrics["cost.llm_calls_per_case"] == pytest.approx(4 / 3, abs=1e-3)


def test_nda_facts_replay_with_a_changed_prompt_aborts_with_the_reason(settings, monkeypatch) -> None:
    from api.cli import app
    from evals import llm_suites

    monkeypatch.setattr(llm_suites, "NDA_FACTS_PROMPT", llm_suites.NDA_FACTS_PROMPT + " Be careful.")
    result = CliRunner().invoke(app, ["eval", "--agent", "nda_facts", "--cassette", "replay", "--concurrency", "1"])
    assert result.exit_code == 2
    assert "does not hold this request" in result.output and "--cassette off" in result.output


def test_nda_facts_recorded_answers_still_parse(settings) -> None:
    """Plumbing only: the recorded answers of the embedded model go through parsing and scoring. The
    measurement is the live run in tests/test_evals_live.py."""
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "nda_facts", "--cassette", "replay", "--concurrency", "1"])
    assert result.exit_code == 0, result.output
    assert "field.governing_law" in result.output and "present.f1" in result.output
    assert "not compared with the baseline" in result.output


def test_each_brief_metric_drops_for_a_wrong_brief(tmp_path: Path) -> None:
    """The brief eval's metrics are its own (not the agent's claim checker): a wrong figure, a citation of
    another account's note and a summary that leaves out the next meeting each lower one of them."""
    from agents.account_brief import nodes
    from agents.account_brief.facts import gather
    from core.crm import demo
    from core.crm.importer import import_directory
    from core.db.migrate import upgrade
    from core.db.session import session_scope
    from evals.brief_suites import BRIEF_ACCOUNTS, derive_expected, score
    from evals.suites import EVAL_AS_OF, EVAL_SEED

    demo.generate(tmp_path / "corpus", accounts=BRIEF_ACCOUNTS, seed=EVAL_SEED, as_of=EVAL_AS_OF, document_accounts=0)
    url = f"sqlite:///{tmp_path / 'kam.db'}"
    upgrade(url)
    import_directory(tmp_path / "corpus", url)
    with session_scope(url) as session:
        f = gather(session, as_of=EVAL_AS_OF, account_ids=["A-00001"])["A-00001"]
        good = nodes.template_brief(f, None, "de", EVAL_AS_OF).model_dump(mode="json")
        expected = derive_expected(session, "A-00001")
        right, _ = score(good, expected, session)
        assert right["numeric_faithfulness"] == right["citation_validity"] == right["fact_recall"] == 1.0
        wrong_figure = {**good, "summary": [{**s, "text": s["text"].replace("62,0", "63,0")} for s in good["summary"]]}
        assert score(wrong_figure, expected, session)[0]["numeric_faithfulness"] < 1.0
        foreign = {**good, "summary": [*good["summary"], {"text": "Siehe Notiz.", "cites": ["interaction:A-00002-N001",
                                                                                            "kpi:made_up"]}]}
        assert score(foreign, expected, session)[0]["citation_validity"] < 1.0
        without_meeting = {**good, "summary": [s for s in good["summary"] if "Termin" not in s["text"]],
                           "talking_points": []}
        assert score(without_meeting, expected, session)[0]["fact_recall"] < 1.0  # the facts panel does not count


def test_gate_claims_beside_accept_all(settings) -> None:
    """The whole corpus (about 5 s): the checker has not regressed against its committed baseline."""
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "claims"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    assert float(lines["false_rejected"][2]) > 0.95 > float(lines["false_rejected"][3])  # accept-all catches none


def test_the_claims_metrics_move_with_the_checker_not_with_the_labels() -> None:
    """A checker that accepts everything catches no false sentence; one that rejects everything rejects every
    true one: the metrics read only the labels and the checker's verdicts."""
    from core import claims
    from evals.claims_suites import ClaimsSuite

    def accept_all(text: str, _ctx: claims.ClaimContext) -> claims.ClaimReport:
        return claims.ClaimReport([claims.SentenceVerdict(text, True)])

    def reject_all(text: str, _ctx: claims.ClaimContext) -> claims.ClaimReport:
        return claims.ClaimReport([claims.SentenceVerdict(text, False, ("no",))])

    cases = ClaimsSuite().cases()[::7]
    for checker, false_rejected, true_rejected in ((accept_all, 0.0, 0.0), (reject_all, 1.0, 1.0)):
        suite = ClaimsSuite(checker=checker)
        metrics = suite.aggregate([suite.run_case(c) for c in cases])
        assert (metrics["false_rejected"], metrics["true_rejected"]) == (false_rejected, true_rejected)
    real = ClaimsSuite()
    metrics = real.aggregate([real.run_case(c) for c in cases])
    assert metrics["false_rejected"] > 0.9 and metrics["true_rejected"] < 0.2


def test_the_claims_corpus_is_large_split_and_bilingual() -> None:
    cases = load_cases("claims")
    false = [c for c in cases if c.expected["verdict"] == "reject"]
    true = [c for c in cases if c.expected["verdict"] == "accept"]
    assert len(false) >= 250 and len(true) >= 150 and len({c.id for c in cases}) == len(cases)
    assert {c.tags["language"] for c in cases} == {"de", "en"}
    from evals.claims_suites import holdout as chosen

    first = [c for c in cases if not c.tags.get("batch")]  # split by the seeded hash before any tuning
    assert all(c.split == ("holdout-v1" if chosen(c.id) else "dev") for c in first)
    # each later batch was written after the one before had been used in tuning: the newest is the unseen part
    assert all(c.split == "holdout-v2" for c in cases if c.tags.get("batch") == 2)
    unseen = [c for c in cases if c.split == "holdout"]
    assert all(c.tags.get("batch") == 3 for c in unseen) and len(unseen) * 4 >= len(cases)
    assert {a for c in unseen for a in c.inputs["accounts"]} >= {"A-00011", "A-00012", "A-00013", "A-00014"}


# --- the KAM chat eval (questions nobody here wrote for the chat) ------------------------------------------
def test_gate_chat_kam_beside_a_chat_that_refuses_everything(settings) -> None:
    from api.cli import app

    result = CliRunner().invoke(app, ["eval", "--agent", "chat_kam"])
    assert result.exit_code == 0, result.output
    lines = {line.split("│")[1].strip(): line.split("│") for line in result.output.splitlines()
             if line.count("│") >= 4}
    assert float(lines["correct"][2]) > float(lines["correct"][3]) + 0.4
    assert float(lines["leaks"][2]) == 0.0


def test_chat_kam_golden_set_is_what_kams_ask_and_independent_of_the_chat() -> None:
    import json

    from evals.chat_kam_suites import QUESTIONS, QUESTIONS_V2, load_questions

    questions = [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    second = [json.loads(line) for line in QUESTIONS_V2.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(questions) >= 120 and len({q["id"] for q in questions}) == len(questions)
    assert sum(q["language"] == "de" for q in questions) >= 0.4 * len(questions)
    assert sum(bool({"portfolio", "time"} & set(q["kinds"])) for q in questions) >= 0.25 * len(questions)
    assert sum(q["expect"] == "refusal" for q in questions) >= 15
    assert sum("thread" in q["kinds"] for q in questions) >= 16
    cases = load_questions()
    assert {c.split for c in cases} == {"dev", "holdout-v1", "holdout-v2"}
    held = sum(len(c.inputs["turns"]) for c in cases if c.split == "holdout-v1")
    assert 0.35 * len(questions) <= held <= 0.65 * len(questions)
    # the second batch (another writer, after the first holdout was seen) is unseen whole, with the same mix
    assert len(second) >= 60 and all(q["id"].startswith("v2-") for q in second)
    assert sum(q["language"] == "de" for q in second) >= 0.4 * len(second)
    assert sum(bool({"portfolio", "time"} & set(q["kinds"])) for q in second) >= 0.25 * len(second)
    assert sum(len(c.inputs["turns"]) for c in cases if c.split == "holdout-v2") == len(second)
    source = (Path(__file__).parents[1] / "evals" / "chat_kam_suites.py").read_text(encoding="utf-8")
    imports = [line for line in source.splitlines() if line.lstrip().startswith(("from agents", "import agents"))]
    assert imports == ["        from agents.chat import service"]  # only to ask; never its tools or resolver


def test_chat_kam_grades_drop_for_wrong_answers() -> None:
    """Each grade can fail: a wrong first account, a missing figure, a refusal of an answerable question, another
    KAM's account named, an answer where a refusal was due."""
    from evals.chat_kam_suites import grade

    names = {"A-00001": "Mercer Antriebstechnik AG", "A-00004": "Kessler Hydraulik GmbH",
             "A-00005": "Vogel Hydraulik GmbH"}
    visible = {"A-00001", "A-00005"}
    rank = {"expect": "answer", "language": "en", "asks": {"topic": "otif"}}
    expected = {"figures": [{"value": 0.912, "unit": "ratio"}], "ids": [], "first": "A-00005", "none": False,
                "accounts": ["A-00001", "A-00005"]}
    right = {"text": "Worst on OTIF of your accounts: A-00005 at 91.2% (breach) [1]", "source": "template"}
    assert grade(right, rank, expected, visible, names)[0] == "correct"
    swapped = {**right, "text": "Worst on OTIF of your accounts: A-00001 at 91.2% (breach) [1]"}
    assert grade(swapped, rank, expected, visible, names)[0] == "wrong"
    unfigured = {**right, "text": "Worst on OTIF of your accounts: A-00005 (breach) [1]"}
    assert grade(unfigured, rank, expected, visible, names)[0] == "partial"
    german = {**right, "text": "Am schlechtesten bei der OTIF ist A-00005 mit 91,2 % [1]"}
    assert grade(german, rank, expected, visible, names)[0] == "partial"
    back = {"text": "Which account?", "source": "clarify"}
    assert grade(back, rank, expected, visible, names)[0] == "wrongly_refused"
    leak = {**right, "text": "A-00005 at 91.2%, better than Kessler Hydraulik [1]"}
    assert grade(leak, rank, expected, visible, names)[0] == "leaked"
    refuse = {"expect": "refusal", "language": "en", "asks": {"topic": "credit"}}
    assert grade(right, refuse, {**expected, "first": None}, visible, names)[0] == "wrong"


def test_real_nda_labels_are_complete_and_follow_the_policys_verdict_rule() -> None:
    """The 61 ContractNLI dev NDAs labelled against policies/files/nda.yaml by helpers who read no reviewer
    code (issue 28), 20 of them drawn as unseen before any labelling (split.json records the seed)."""
    import json
    import random

    import yaml

    root = Path(__file__).parents[1] / "evals" / "golden" / "nda_real"
    split = json.loads((root / "split.json").read_text(encoding="utf-8"))
    assert sorted(random.Random(split["seed"]).sample(split["all"], 20)) == split["unseen"]
    rules = set(yaml.safe_load((Path(__file__).parents[1] / "policies/files/nda.yaml").read_text())["rules"])
    rank = {None: 0, "low": 1, "medium": 2, "high": 3}
    for doc_id in split["all"]:
        label = json.loads((root / "labels" / f"{doc_id}.json").read_text(encoding="utf-8"))
        assert label["id"] == doc_id and set(label["rules"]) == rules, doc_id
        worst = max(rank[r["severity"]] for r in label["rules"].values())
        assert label["verdict"] == ("escalate" if worst == 3 else "negotiate" if worst == 2 else "accept"), doc_id
        for name, r in label["rules"].items():
            assert r["status"] in ("compliant", "deviation", "not_found"), (doc_id, name)
            assert (r["status"] == "compliant") == (r["severity"] is None) or r["status"] == "not_found", (doc_id, name)


def test_real_nda_label_evidence_is_quoted_verbatim() -> None:
    import json

    texts = {d["id"]: " ".join(d["text"].split())
             for d in json.loads(require_contractnli().read_text(encoding="utf-8"))["documents"]}
    root = Path(__file__).parents[1] / "evals" / "golden" / "nda_real" / "labels"
    missing = []
    for path in sorted(root.glob("*.json")):
        label = json.loads(path.read_text(encoding="utf-8"))
        for name, r in label["rules"].items():
            if r["evidence"] and " ".join(r["evidence"].split()) not in texts[label["id"]]:
                missing.append((label["id"], name, r["evidence"][:60]))
    assert not missing, missing
