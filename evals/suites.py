"""Eval suites: one per agent, each turning golden cases into per-case results and aggregate metrics.

A suite is prepared once (corpus, graph, model) and then runs cases, possibly from several threads. Each
case belongs to a split: ``dev`` cases may be looked at while tuning prompts and rules, ``holdout`` cases
may not, so their score says how the system does on text nobody tuned it for. ``holdout-v1`` marks a first
holdout that was (found to be) used while tuning: it is reported beside the new holdout, no longer as one.
Agents that are not built yet have no suite; the runner says so instead of pretending.
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol

from core.errors import KamError
from evals.metrics import accuracy, macro_f1, recall_at_k, reciprocal_rank

GOLDEN_DIR = Path(__file__).parent / "golden"
EVAL_AS_OF = date(2026, 11, 26)
EVAL_SEED = 7
EVAL_ACCOUNTS = 12


Split = Literal["dev", "holdout", "holdout-v1", "holdout-v2"]
SPLITS: tuple[str, ...] = ("dev", "holdout", "holdout-v1", "holdout-v2")


class EvalAborted(KamError):
    """The run cannot measure anything (e.g. a replayed cassette no longer matches the prompt)."""


@dataclass
class Case:
    id: str
    inputs: dict[str, Any]
    expected: dict[str, Any]
    tags: dict[str, Any] = field(default_factory=dict)
    split: str = "dev"


@dataclass
class CaseResult:
    case_id: str
    passed: bool
    metrics: dict[str, float]
    output: Any
    expected: Any
    tags: dict[str, Any]
    error: str | None = None
    wall_s: float = 0.0
    tokens: dict[str, int] = field(default_factory=dict)
    split: str = "dev"


class Suite(Protocol):
    name: str
    settings: dict[str, Any]  # what the report prints as "model and settings used"

    def cases(self) -> list[Case]: ...

    def run_case(self, case: Case) -> CaseResult: ...

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]: ...

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """The same metrics for a trivial predictor (majority label, all-null, query-blind), from the
        expected values only: a score means something only where it beats this."""
        ...

    def close(self) -> None: ...


def load_cases(agent: str, golden_dir: Path = GOLDEN_DIR) -> list[Case]:
    path = golden_dir / agent / "cases.jsonl"
    if not path.is_file():
        raise FileNotFoundError(f"no golden set for {agent!r} at {path}")
    cases = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            split = raw.get("split", "dev")
            if split not in SPLITS:
                raise KeyError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
            cases.append(Case(raw["id"], raw["inputs"], raw["expected"], raw.get("tags", {}), split))
        except (json.JSONDecodeError, KeyError) as exc:
            raise ValueError(f"{path}:{number}: not a valid case ({exc})") from None
    return cases


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


class DemoAgentSuite:
    """What the agent suites on the demo data share: the eval's demo database (seed, accounts, as-of date),
    the agent's earlier output and checkpoints cleared (an earlier run's result would be returned, not
    measured), one checkpointer, and the model when ``llm_mode`` is not "off"."""

    name: str
    accounts: int
    stored: tuple[str, ...] = ()  # the ORM models holding the agent's output, cleared before each run

    def __init__(self, work_dir: Path, *, settings: Any, llm_mode: str = "off") -> None:
        from contextlib import ExitStack

        from core.checkpoint import CHECKPOINT_FILE, open_checkpointer
        from core.crm import demo
        from core.crm.importer import import_directory
        from core.db import models
        from core.db.migrate import upgrade
        from core.db.session import session_scope
        from evals.nda_suites import gateway_for

        self._stack = ExitStack()
        work_dir.mkdir(parents=True, exist_ok=True)
        self.work = settings.model_copy(update={"data_dir": work_dir, "database_url": None})
        corpus = work_dir / "corpus"
        if not (corpus / "accounts.csv").is_file():
            demo.generate(corpus, accounts=self.accounts, seed=EVAL_SEED, as_of=EVAL_AS_OF, document_accounts=0)
        upgrade(self.work.resolved_database_url)
        import_directory(corpus, self.work.resolved_database_url)
        for stale in work_dir.glob(f"{CHECKPOINT_FILE}*"):
            stale.unlink()
        with session_scope(self.work.resolved_database_url) as session:
            for model in self.stored:
                session.query(getattr(models, model)).delete()
        self.checkpointer = self._stack.enter_context(open_checkpointer(self.work))
        self.llm_mode = llm_mode
        # "off": templates only; any other mode needs the model
        self.gateway = gateway_for(settings, "off" if llm_mode == "off" else "all", self._stack)
        self._lock = threading.Lock()  # the checkpointer and the small model are shared
        self.settings = {"llm_mode": llm_mode, "model": self.gateway.model_name if self.gateway else None,
                         "corpus": f"demo seed {EVAL_SEED}, {self.accounts} accounts, as of {EVAL_AS_OF}"}

    def cases(self) -> list[Case]:
        return load_cases(self.name)

    def close(self) -> None:
        self._stack.close()


# --- retrieval -----------------------------------------------------------------------------------
class RetrievalSuite:
    """Vector-only, BM25-only and hybrid retrieval over the demo corpus (12 accounts, seed 7): contracts,
    mails and CRM notes, as in production. Trivial baseline: query-blind, the scope's first k chunks."""

    name = "retrieval"
    modes = ("hybrid", "vector", "bm25")
    k = 8

    def __init__(self, work_dir: Path) -> None:
        from core.crm import demo
        from core.crm.importer import import_directory
        from core.db.migrate import upgrade
        from core.db.session import session_scope
        from core.settings import get_settings
        from knowledge.embeddings import KamEmbedding
        from knowledge.ingest import Ingestor
        from knowledge.retriever import Retriever
        from knowledge.store import KnowledgeStore

        corpus = work_dir / "corpus"
        if not (corpus / "docs").is_dir():
            demo.generate(corpus, accounts=EVAL_ACCOUNTS, seed=EVAL_SEED, as_of=EVAL_AS_OF)
        database_url = f"sqlite:///{work_dir / 'crm.db'}"
        upgrade(database_url)
        import_directory(corpus, database_url)  # upsert: a re-run changes nothing
        settings = get_settings()
        embedding = KamEmbedding(variant=settings.embedding_variant, model=settings.embedding_model)
        store = KnowledgeStore(work_dir / f"store-{settings.embedding_model}-{settings.embedding_variant}",
                               embedding=embedding)
        ingestor = Ingestor(store)
        ingestor.ingest_path(corpus / "docs")  # incremental: unchanged documents are skipped
        with session_scope(database_url) as session:
            ingestor.ingest_crm_notes(session)
        self.store = store
        self.retriever = Retriever(store)
        self.settings = {"corpus": f"demo seed {EVAL_SEED}, {EVAL_ACCOUNTS} accounts, as of {EVAL_AS_OF}",
                         "k": self.k, "embedding": embedding.model_id,
                         "chunks": store.counts()["chunks"]}

    def cases(self) -> list[Case]:
        return load_cases(self.name)

    def run_case(self, case: Case) -> CaseResult:
        from knowledge.retriever import AccessScope

        expected = case.expected["chunk_ids"]
        metrics: dict[str, float] = {}
        output: dict[str, list[str]] = {}
        for mode in self.modes:
            hits = self.retriever.search(case.inputs["query"], AccessScope.everything(),
                                         account_id=case.inputs.get("account_id"),
                                         doc_types=case.inputs.get("doc_types"), k=self.k,
                                         mode=mode)  # type: ignore[arg-type]
            ranked = [h.chunk.chunk_id for h in hits]
            output[mode] = ranked
            metrics[f"{mode}.recall@{self.k}"] = recall_at_k(ranked, expected, self.k)
            metrics[f"{mode}.mrr"] = reciprocal_rank(ranked, expected)
        blind = self._query_blind(case)
        metrics["trivial.recall"] = recall_at_k(blind, expected, self.k)
        metrics["trivial.mrr"] = reciprocal_rank(blind, expected)
        return CaseResult(case.id, metrics[f"hybrid.recall@{self.k}"] > 0, metrics, output, expected, case.tags)

    def _query_blind(self, case: Case) -> list[str]:
        """The first k chunks of the case's scope in stored order: what a search that ignores the query finds."""
        clauses, params = [], []
        if case.inputs.get("account_id"):
            clauses.append("account_id = ?")
            params.append(case.inputs["account_id"])
        if case.inputs.get("doc_types"):
            clauses.append(f"doc_type IN ({','.join('?' * len(case.inputs['doc_types']))})")
            params.extend(case.inputs["doc_types"])
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self.store.db.execute(f"SELECT chunk_id FROM chunks {where} ORDER BY doc_id, seq LIMIT ?",
                                     (*params, self.k)).fetchall()
        return [r[0] for r in rows]

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        keys = sorted({k for r in results for k in r.metrics if not k.startswith("trivial.")})
        # a crashed case has no metrics and counts as a miss
        metrics = {key: round(mean([r.metrics.get(key, 0.0) for r in results]), 4) for key in keys}
        for group, members in self._groups(results).items():
            for key in (f"hybrid.recall@{self.k}", "hybrid.mrr"):
                metrics[f"group.{group}.{key.split('.', 1)[1]}"] = round(
                    mean([r.metrics.get(key, 0.0) for r in members]), 4)
        return metrics

    @staticmethod
    def _groups(results: list[CaseResult]) -> dict[str, list[CaseResult]]:
        """By query style, plus every case whose query language differs from its document's (cross-language)."""
        groups: dict[str, list[CaseResult]] = {}
        for result in results:
            groups.setdefault(str(result.tags.get("query_style", "other")), []).append(result)
            language, document = result.tags.get("query_language"), result.tags.get("doc_language")
            if language and document and language != document:
                groups.setdefault("cross_language", []).append(result)
        return groups

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        recall = round(mean([r.metrics.get("trivial.recall", 0.0) for r in results]), 4)
        mrr = round(mean([r.metrics.get("trivial.mrr", 0.0) for r in results]), 4)
        return {**{f"{m}.recall@{self.k}": recall for m in self.modes}, **{f"{m}.mrr": mrr for m in self.modes}}

    def close(self) -> None:
        return None


# --- ContractNLI ----------------------------------------------------------------------------------
CONTRACTNLI_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "contractnli" / "dev.json"
NLI_LABELS = ("Entailment", "Contradiction", "NotMentioned")
CV_FOLDS = 5


def document_folds(document_ids: list[str], folds: int = CV_FOLDS) -> dict[str, int]:
    """Each document's fold (deterministic): a predictor fitted on the other folds scores this one."""
    return {doc_id: index % folds for index, doc_id in enumerate(sorted(document_ids, key=int))}


class DocumentPredictor(Protocol):
    name: str
    fitted_on: tuple[str, ...]  # ids of the documents it was fitted on (the suite checks it never scores them)

    def predict_document(self, document: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
        """hypothesis id -> (label, evidence span indices)."""
        ...


class MostFrequentLabel:
    """Each hypothesis's most frequent label among the documents it was fitted on."""

    name = "most frequent label per hypothesis"

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        self.fitted_on = tuple(str(d["id"]) for d in documents)
        counts: dict[str, dict[str, int]] = {}
        for doc in documents:
            for hypothesis, annotation in doc["annotation_sets"][0]["annotations"].items():
                per = counts.setdefault(hypothesis, {})
                per[annotation["choice"]] = per.get(annotation["choice"], 0) + 1
        self.labels = {h: max(sorted(c), key=lambda label: c[label]) for h, c in counts.items()}

    def predict_document(self, document: dict[str, Any]) -> dict[str, tuple[str, tuple[int, ...]]]:
        return {h: (label, ()) for h, label in self.labels.items()}


def span_overlap(predicted: tuple[int, ...], gold: list[int]) -> float:
    """Jaccard overlap of evidence span sets."""
    a, b = set(predicted), set(gold)
    return len(a & b) / len(a | b) if a | b else 1.0


class ContractNliSuite:
    """NDA hypotheses (ContractNLI dev split, CC BY 4.0): accuracy and macro-F1 pooled over all pairs and per
    hypothesis, and evidence-span overlap.

    Anything fitted is scored in document-level cross-validation: the predictor for a document's fold is
    fitted on the other folds only (``predictor_factory(fold, training_documents)``), and the suite refuses a
    predictor that was fitted on a document it scores. The trivial baseline is the per-hypothesis majority
    label fitted on all documents, the strongest constant predictor there is."""

    name = "contractnli"

    def __init__(self, work_dir: Path, path: Path | None = None, predictor_factory: Any = None) -> None:
        path = path or Path(os.environ.get("KAM_CONTRACTNLI_PATH", CONTRACTNLI_PATH))
        if not path.is_file():
            raise FileNotFoundError(f"ContractNLI data not found at {path} (set KAM_CONTRACTNLI_PATH)")
        data = json.loads(path.read_text(encoding="utf-8"))
        self.documents = {str(d["id"]): d for d in data["documents"]}
        self.hypotheses = {k: v["hypothesis"] for k, v in data["labels"].items()}
        self.folds = document_folds(list(self.documents))
        factory = predictor_factory or (lambda _fold, docs: MostFrequentLabel(docs))
        self.predictors = {fold: factory(fold, [d for i, d in self.documents.items() if self.folds[i] != fold])
                           for fold in range(CV_FOLDS)}
        for fold, predictor in self.predictors.items():
            scored = {i for i, f in self.folds.items() if f == fold}
            if scored & set(predictor.fitted_on):
                raise EvalAborted(f"the predictor for fold {fold} was fitted on documents it would score")
        self.floor = MostFrequentLabel(list(self.documents.values()))
        self._cache: dict[str, dict[str, tuple[str, tuple[int, ...]]]] = {}
        self._lock = threading.Lock()
        name = getattr(self.predictors[0], "name", type(self.predictors[0]).__name__)
        self.settings = {"data": str(path), "predictor": name, "documents": len(self.documents),
                         "evaluation": f"document-level {CV_FOLDS}-fold cross-validation"}

    def cases(self) -> list[Case]:
        # the whole set is external and never used for tuning: it counts as holdout
        return [Case(f"cnli-{doc_id}-{h}", {"document_id": doc_id, "hypothesis_id": h},
                     {"label": doc["annotation_sets"][0]["annotations"][h]["choice"],
                      "spans": doc["annotation_sets"][0]["annotations"][h]["spans"]},
                     {"hypothesis": h, "fold": self.folds[doc_id]}, "holdout")
                for doc_id, doc in self.documents.items() for h in sorted(self.hypotheses)]

    def _predictions(self, doc_id: str) -> dict[str, tuple[str, tuple[int, ...]]]:
        with self._lock:  # one document's hypotheses are predicted together, once
            if doc_id not in self._cache:
                self._cache[doc_id] = self.predictors[self.folds[doc_id]].predict_document(self.documents[doc_id])
            return self._cache[doc_id]

    def run_case(self, case: Case) -> CaseResult:
        label, evidence = self._predictions(case.inputs["document_id"])[case.inputs["hypothesis_id"]]
        correct = label == case.expected["label"]
        metrics = {"correct": float(correct)}
        if label != "NotMentioned" and case.expected["label"] != "NotMentioned":
            metrics["span_overlap"] = span_overlap(evidence, case.expected["spans"])
        return CaseResult(case.id, correct, metrics, {"label": label, "spans": list(evidence)}, case.expected,
                          case.tags)

    @staticmethod
    def _scores(results: list[CaseResult], predicted: list[str]) -> dict[str, float]:
        expected = [r.expected["label"] for r in results]
        metrics = {"accuracy": round(accuracy(predicted, expected), 4),
                   "macro_f1": round(macro_f1(predicted, expected), 4)}
        for hypothesis in sorted({r.tags["hypothesis"] for r in results}):
            index = [i for i, r in enumerate(results) if r.tags["hypothesis"] == hypothesis]
            metrics[f"accuracy.{hypothesis}"] = round(accuracy([predicted[i] for i in index],
                                                               [expected[i] for i in index]), 4)
            metrics[f"macro_f1.{hypothesis}"] = round(macro_f1([predicted[i] for i in index],
                                                               [expected[i] for i in index]), 4)
        return metrics

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        metrics = self._scores(results, [(r.output or {}).get("label", "<error>") for r in results])
        overlaps = [r.metrics["span_overlap"] for r in results if "span_overlap" in r.metrics]
        if overlaps:
            metrics["evidence.span_overlap"] = round(mean(overlaps), 4)
        return metrics

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        return self._scores(results, [self.floor.labels[r.tags["hypothesis"]] for r in results])

    def close(self) -> None:
        return None
