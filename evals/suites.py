"""Eval suites: one per agent, each turning golden cases into per-case results and aggregate metrics.

A suite is prepared once (corpus, graph, model) and then runs cases, possibly from several threads.
Agents that are not built yet have no suite; the runner says so instead of pretending.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from evals.metrics import accuracy, macro_f1, reciprocal_rank, recall_at_k

GOLDEN_DIR = Path(__file__).parent / "golden"
EVAL_AS_OF = date(2026, 11, 26)
EVAL_SEED = 7
EVAL_ACCOUNTS = 12


@dataclass
class Case:
    id: str
    inputs: dict[str, Any]
    expected: dict[str, Any]
    tags: dict[str, Any] = field(default_factory=dict)


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


class Suite(Protocol):
    """Optionally also ``cases() -> list[Case]`` for suites whose cases come from external data."""

    name: str
    settings: dict[str, Any]  # what the report prints as "model and settings used"

    def run_case(self, case: Case) -> CaseResult: ...

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]: ...


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
            cases.append(Case(raw["id"], raw["inputs"], raw["expected"], raw.get("tags", {})))
        except (json.JSONDecodeError, KeyError) as exc:
            raise ValueError(f"{path}:{number}: not a valid case ({exc})") from None
    return cases


def mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


# --- retrieval -----------------------------------------------------------------------------------
class RetrievalSuite:
    """Vector-only, BM25-only and hybrid retrieval over the demo corpus (12 accounts, seed 7): contracts,
    mails and CRM notes, as in production."""

    name = "retrieval"
    modes = ("hybrid", "vector", "bm25")
    k = 8

    def __init__(self, work_dir: Path) -> None:
        from core.crm import demo
        from core.crm.importer import import_directory
        from core.db.migrate import upgrade
        from core.db.session import session_scope
        from core.settings import get_settings
        from knowledge.embeddings import KamMiniLmEmbedding
        from knowledge.ingest import Ingestor
        from knowledge.retriever import Retriever
        from knowledge.store import KnowledgeStore

        corpus = work_dir / "corpus"
        if not (corpus / "docs").is_dir():
            demo.generate(corpus, accounts=EVAL_ACCOUNTS, seed=EVAL_SEED, as_of=EVAL_AS_OF)
        database_url = f"sqlite:///{work_dir / 'crm.db'}"
        upgrade(database_url)
        import_directory(corpus, database_url)  # upsert: a re-run changes nothing
        variant = get_settings().embedding_variant
        store = KnowledgeStore(work_dir / f"store-{variant}", embedding=KamMiniLmEmbedding(variant=variant))
        ingestor = Ingestor(store)
        ingestor.ingest_path(corpus / "docs")  # incremental: unchanged documents are skipped
        with session_scope(database_url) as session:
            ingestor.ingest_crm_notes(session)
        self.retriever = Retriever(store)
        self.settings = {"corpus": f"demo seed {EVAL_SEED}, {EVAL_ACCOUNTS} accounts, as of {EVAL_AS_OF}",
                         "k": self.k, "embedding": f"all-MiniLM-L6-v2 ONNX {store.embedding.variant}",
                         "chunks": store.counts()["chunks"]}

    def run_case(self, case: Case) -> CaseResult:
        from knowledge.retriever import AccessScope

        expected = case.expected["chunk_ids"]
        metrics: dict[str, float] = {}
        output: dict[str, list[str]] = {}
        for mode in self.modes:
            hits = self.retriever.search(case.inputs["query"], AccessScope.everything(),
                                         account_id=case.inputs.get("account_id"),
                                         doc_types=case.inputs.get("doc_types"), k=self.k, mode=mode)
            ranked = [h.chunk.chunk_id for h in hits]
            output[mode] = ranked
            metrics[f"{mode}.recall@{self.k}"] = recall_at_k(ranked, expected, self.k)
            metrics[f"{mode}.mrr"] = reciprocal_rank(ranked, expected)
        return CaseResult(case.id, metrics[f"hybrid.recall@{self.k}"] > 0, metrics, output, expected, case.tags)

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        keys = sorted({k for r in results for k in r.metrics})
        # a crashed case has no metrics and counts as a miss
        return {key: round(mean([r.metrics.get(key, 0.0) for r in results]), 4) for key in keys}


# --- ContractNLI ----------------------------------------------------------------------------------
CONTRACTNLI_PATH = Path(__file__).resolve().parents[2] / "shared" / "data" / "contractnli" / "dev.json"
NLI_LABELS = ("Entailment", "Contradiction", "NotMentioned")


class MostFrequentLabel:
    """Reference predictor: each hypothesis's most frequent label (the README's 0.704 floor).

    Fitted on the evaluated file itself, so it is a floor to beat, not a result to report as skill."""

    name = "most-frequent-label reference"

    def __init__(self, documents: list[dict[str, Any]]) -> None:
        counts: dict[str, dict[str, int]] = {}
        for doc in documents:
            for hypothesis, annotation in doc["annotation_sets"][0]["annotations"].items():
                per = counts.setdefault(hypothesis, {})
                per[annotation["choice"]] = per.get(annotation["choice"], 0) + 1
        self.labels = {h: max(sorted(c), key=lambda label: c[label]) for h, c in counts.items()}

    def predict(self, text: str, hypothesis_id: str, hypothesis: str) -> str:
        return self.labels[hypothesis_id]


class ContractNliSuite:
    """NDA hypotheses (ContractNLI dev split, CC BY 4.0): accuracy and macro-F1, overall and per hypothesis."""

    name = "contractnli"

    def __init__(self, work_dir: Path, path: Path | None = None, predictor: Any = None) -> None:
        path = path or Path(os.environ.get("KAM_CONTRACTNLI_PATH", CONTRACTNLI_PATH))
        if not path.is_file():
            raise FileNotFoundError(f"ContractNLI data not found at {path} (set KAM_CONTRACTNLI_PATH)")
        data = json.loads(path.read_text(encoding="utf-8"))
        self.documents = {str(d["id"]): d for d in data["documents"]}
        self.hypotheses = {k: v["hypothesis"] for k, v in data["labels"].items()}
        self.predictor = predictor or MostFrequentLabel(data["documents"])
        self.settings = {"data": str(path), "predictor": getattr(self.predictor, "name", type(self.predictor).__name__),
                         "documents": len(self.documents)}

    def cases(self) -> list[Case]:
        return [Case(f"cnli-{doc_id}-{h}", {"document_id": doc_id, "hypothesis_id": h},
                     {"label": doc["annotation_sets"][0]["annotations"][h]["choice"]}, {"hypothesis": h})
                for doc_id, doc in self.documents.items() for h in sorted(self.hypotheses)]

    def run_case(self, case: Case) -> CaseResult:
        doc = self.documents[case.inputs["document_id"]]
        hypothesis_id = case.inputs["hypothesis_id"]
        label = self.predictor.predict(doc["text"], hypothesis_id, self.hypotheses[hypothesis_id])
        correct = label == case.expected["label"]
        return CaseResult(case.id, correct, {"correct": float(correct)}, {"label": label}, case.expected, case.tags)

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        predicted = [(r.output or {}).get("label", "<error>") for r in results]
        expected = [r.expected["label"] for r in results]
        metrics = {"accuracy": round(accuracy(predicted, expected), 4),
                   "macro_f1": round(macro_f1(predicted, expected), 4)}
        for hypothesis in sorted({r.tags["hypothesis"] for r in results}):
            mine = [r for r in results if r.tags["hypothesis"] == hypothesis]
            metrics[f"accuracy.{hypothesis}"] = round(mean([r.metrics.get("correct", 0.0) for r in mine]), 4)
            metrics[f"macro_f1.{hypothesis}"] = round(macro_f1([(r.output or {}).get("label", "<error>") for r in mine],
                                                               [r.expected["label"] for r in mine]), 4)
        return metrics


