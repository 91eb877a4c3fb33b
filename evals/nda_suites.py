"""Suites for the NDA reviewer: the hand-written NDA golden set (rendered as real PDF and DOCX files) and
ContractNLI with the reviewer's own hypothesis classifier, deterministic or with an LLM."""

from __future__ import annotations

import tempfile
import threading
from collections import Counter
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

from agents.nda_review import nli
from agents.nda_review.extractors import extract_facts
from agents.nda_review.text import NdaText
from core.llm import LlmGateway
from core.llm.runtime import LlmRuntime
from core.llm.usage import LlmCallRecord, total_tokens
from core.settings import Settings
from evals.documents import render
from evals.metrics import accuracy, macro_f1, prf
from evals.suites import GOLDEN_DIR, Case, CaseResult, ContractNliSuite, EvalAborted, load_cases, mean
from policies.nda import RULES, get_nda_policy

NDA_DOCUMENTS = GOLDEN_DIR / "nda" / "documents"
FOLD_MODELS = nli.MODEL_PATH.parent


def gateway_for(settings: Settings, llm_mode: str, stack: ExitStack) -> LlmGateway | None:
    if llm_mode == "off":
        return None
    runtime = stack.enter_context(LlmRuntime(settings))
    return runtime.gateway()


# --- the NDA golden set -----------------------------------------------------------------------------
class NdaReviewSuite:
    """Each case: one hand-written NDA, rendered in its format (kam/ReportLab/LibreOffice PDF, python-docx or
    LibreOffice DOCX, Word numbering, text), reviewed end to end as an upload is, against the expected
    status and severity of every rule and the verdict."""

    name = "nda_review"

    def __init__(self, work_dir: Path, *, settings: Settings, llm_mode: str = "off") -> None:
        from core.checkpoint import open_checkpointer
        from core.db.migrate import upgrade
        from evals.documents import SOFFICE

        if SOFFICE is None and any("libreoffice" in c.inputs["format"] for c in self.cases()):
            raise EvalAborted("LibreOffice (soffice) renders some of the golden NDAs; install it "
                              "(scripts/test-deps.sh does) or the score would leave those cases out")
        self._stack = ExitStack()
        work_dir.mkdir(parents=True, exist_ok=True)
        self.work = settings.model_copy(update={"data_dir": work_dir, "database_url": None})
        upgrade(self.work.resolved_database_url)
        self.checkpointer = self._stack.enter_context(open_checkpointer(self.work))
        self.llm_mode = llm_mode
        self.gateway = gateway_for(settings, llm_mode, self._stack)
        self._lock = threading.Lock()  # one review at a time: the checkpointer and the small model are shared
        self.settings = {"llm_mode": llm_mode, "model": self.gateway.model_name if self.gateway else None,
                         "documents": str(NDA_DOCUMENTS)}

    def cases(self) -> list[Case]:
        return load_cases(self.name)

    def run_case(self, case: Case) -> CaseResult:
        from agents.nda_review import service
        from core.access import Principal
        from core.db.session import session_scope

        text = (NDA_DOCUMENTS / case.inputs["document"]).read_text(encoding="utf-8")
        with tempfile.TemporaryDirectory() as tmp:
            data, file_name = render(text, case.inputs["format"], Path(tmp))
        principal = Principal.system("eval")
        with self._lock:
            with session_scope(self.work.resolved_database_url) as session:
                review_id = service.submit(session, self.work, principal, data, file_name, None).id
            report = service.run(self.work, self.checkpointer, review_id, principal, gateway=self.gateway,
                                 llm_mode=self.llm_mode)  # type: ignore[arg-type]
        got = {f.rule: {"status": f.status, "severity": f.severity} for f in report.findings}
        expected = case.expected["findings"]
        per_rule = {f"rule.{r}.correct": float(got[r] == expected[r]) for r in RULES}
        nli_labels = {h: item.label for h, item in report.nli.items()}
        nli_correct = mean([float(nli_labels.get(h) == label) for h, label in case.expected["nli"].items()])
        passed = report.verdict == case.expected["verdict"] and all(v == 1.0 for v in per_rule.values())
        return CaseResult(case.id, passed, {"verdict": float(report.verdict == case.expected["verdict"]), **per_rule,
                                            "nli.correct": nli_correct},
                          {"verdict": report.verdict, "findings": got, "nli": nli_labels,
                           "uncertain": report.uncertain}, case.expected,
                          {**case.tags, "format": case.inputs["format"]},
                          tokens={"calls": report.llm.calls, "prompt": report.llm.prompt_tokens,
                                  "completion": report.llm.completion_tokens})

    @staticmethod
    def _score(predicted: list[dict[str, Any]], expected: list[dict[str, Any]], languages: list[str]
               ) -> dict[str, float]:
        metrics = {"verdict.accuracy": round(mean([float(p["verdict"] == e["verdict"])
                                                   for p, e in zip(predicted, expected, strict=True)]), 4)}
        # the 17 ContractNLI hypotheses, labelled by hand for every golden NDA, overall and per language
        for language in ("all", *sorted(set(languages))):
            chosen = [i for i, lang in enumerate(languages) if language in ("all", lang)]
            got = [predicted[i].get("nli", {}).get(h, "<missing>") for i in chosen for h in expected[i]["nli"]]
            gold = [label for i in chosen for label in expected[i]["nli"].values()]
            suffix = "" if language == "all" else f".{language}"
            metrics[f"nli.accuracy{suffix}"] = round(accuracy(got, gold), 4)
            metrics[f"nli.macro_f1{suffix}"] = round(macro_f1(got, gold), 4)

        def flagged(findings: dict[str, Any], rule: str) -> bool:
            return findings.get(rule, {}).get("status", "compliant") != "compliant"

        pairs = list(zip(predicted, expected, strict=True))
        all_pred = {(i, r) for i, (p, _) in enumerate(pairs) for r in RULES if flagged(p["findings"], r)}
        all_exp = {(i, r) for i, (_, e) in enumerate(pairs) for r in RULES if flagged(e["findings"], r)}
        overall = prf(all_pred, all_exp)
        metrics.update({"flagged.precision": round(overall.precision, 4), "flagged.recall": round(overall.recall, 4),
                        "flagged.f1": round(overall.f1, 4)})
        metrics["findings.accuracy"] = round(mean([float(p["findings"].get(r) == e["findings"][r])
                                                   for p, e in pairs for r in RULES]), 4)
        both = [(p, e, r) for p, e in pairs for r in RULES if flagged(p["findings"], r) and flagged(e["findings"], r)]
        if both:
            metrics["severity.accuracy"] = round(mean([
                float(p["findings"][r]["severity"] == e["findings"][r]["severity"]) for p, e, r in both]), 4)
        for rule in RULES:
            result = prf({i for i, (p, _) in enumerate(pairs) if flagged(p["findings"], rule)},
                         {i for i, (_, e) in enumerate(pairs) if flagged(e["findings"], rule)})
            metrics[f"rule.{rule}.precision"] = round(result.precision, 4)
            metrics[f"rule.{rule}.recall"] = round(result.recall, 4)
        return metrics

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        return self._score([r.output or {"verdict": None, "findings": {}} for r in results],
                           [r.expected for r in results], [r.tags["language"] for r in results])

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """The most frequent verdict, per rule the most frequent outcome and per hypothesis the most frequent
        label, for every NDA."""
        expected = [r.expected for r in results]
        if not expected:
            return {}
        verdict = Counter(e["verdict"] for e in expected).most_common(1)[0][0]
        outcome = {rule: Counter(tuple(e["findings"][rule].items()) for e in expected).most_common(1)[0][0]
                   for rule in RULES}
        labels = {h: Counter(e["nli"][h] for e in expected).most_common(1)[0][0] for h in expected[0]["nli"]}
        constant = {"verdict": verdict, "findings": {rule: dict(outcome[rule]) for rule in RULES}, "nli": labels}
        return self._score([constant] * len(expected), expected, [r.tags["language"] for r in results])

    def close(self) -> None:
        self._stack.close()


# --- ContractNLI with the reviewer's classifier ---------------------------------------------------------
class ClassifierPredictor:
    """The reviewer's hypothesis layer for one cross-validation fold: the classifier fitted on the other
    folds (shipped with the package when it was fitted on exactly them, else fitted now), plus the LLM on
    the pairs it is unsure of when a gateway is given."""

    def __init__(self, fold: int, documents: list[dict[str, Any]], gateway: LlmGateway | None) -> None:
        training = tuple(str(d["id"]) for d in documents)
        shipped = FOLD_MODELS / f"contractnli-fold{fold}.npz"
        model = nli.NliModel.load(shipped) if shipped.is_file() else None
        if model is None or set(model.fitted_on) != set(training):
            model = nli.NliModel.fit(documents)
        self.model = model
        self.fitted_on = model.fitted_on
        self.gateway = gateway
        self.name = "policy facts + cues + span-selecting classifier" + (" + LLM on unsure pairs" if gateway else "")
        self.calls: dict[str, list[LlmCallRecord]] = {}

    def predict_document(self, document: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
        """As a review does it: the policy extractors read the whole text first, the classifier the rest."""
        spans = [document["text"][s:e] for s, e in document["spans"]]
        facts = extract_facts(NdaText(document["text"]), get_nda_policy().our_names).facts
        predictions, calls = nli.decide(spans, language="en", model=self.model, gateway=self.gateway, facts=facts,
                                        span_starts=[start for start, _ in document["spans"]])
        self.calls[str(document["id"])] = calls
        return {h: (p.label, p.evidence) for h, p in predictions.items()}


class ContractNliClassifierSuite(ContractNliSuite):
    name = "contractnli"

    def __init__(self, work_dir: Path, *, settings: Settings, llm_mode: str = "off") -> None:
        self._stack = ExitStack()
        gateway = gateway_for(settings, llm_mode, self._stack)
        super().__init__(work_dir, predictor_factory=lambda fold, docs: ClassifierPredictor(fold, docs, gateway))
        self.settings["llm_mode"] = llm_mode

    def run_case(self, case: Case) -> CaseResult:
        result = super().run_case(case)
        doc_id = case.inputs["document_id"]
        if case.inputs["hypothesis_id"] == min(self.hypotheses):  # a document's LLM calls, counted once
            predictor: Any = self.predictors[self.folds[doc_id]]
            calls = predictor.calls.get(doc_id, [])
            result.tokens = total_tokens(calls)
            result.output = {**(result.output or {}), "llm_calls": [asdict(c) for c in calls]}
        return result

    def close(self) -> None:
        self._stack.close()


def ship(dev_json: Path) -> None:
    """Fit the classifier on all of ContractNLI dev (the model the reviewer uses) and once per fold (the models
    the eval scores, each fitted without its fold), and write them into the package."""
    import json
    import time

    from evals.suites import CV_FOLDS, document_folds

    documents = json.loads(dev_json.read_text(encoding="utf-8"))["documents"]
    folds = document_folds([str(d["id"]) for d in documents])
    started = time.perf_counter()
    print(f"all {len(documents)} documents: {nli.MODEL_PATH} sha256 {nli.NliModel.fit(documents).save()}")
    for fold in range(CV_FOLDS):
        training = [d for d in documents if folds[str(d["id"])] != fold]
        path = FOLD_MODELS / f"contractnli-fold{fold}.npz"
        print(f"fold {fold} ({len(training)} documents): {path} sha256 {nli.NliModel.fit(training).save(path)}")
    print(f"fitted 6 models in {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] != ["ship"] or len(sys.argv) != 3:
        sys.exit("usage: python -m evals.nda_suites ship ../shared/data/contractnli/dev.json")
    ship(Path(sys.argv[2]))
