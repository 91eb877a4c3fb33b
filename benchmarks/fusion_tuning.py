"""Fusion tuning: grid search of the reciprocal-rank-fusion constants on the retrieval golden set's dev split.

Usage: .venv/bin/python benchmarks/fusion_tuning.py [--work var/evals/work/retrieval]

Each case's ranked lists (vector, stemmed words, trigrams) are computed once; every grid point then only
re-fuses them. The grid point with the best dev score (recall@8 + MRR, ties to the smaller change from
equal weights) is printed with its holdout score, beside the current ``knowledge.retriever.FUSION`` and
each single source, so the holdout is read once, for the chosen constants, not searched.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
from dataclasses import replace
from pathlib import Path

from evals.metrics import recall_at_k, reciprocal_rank
from evals.suites import Case, RetrievalSuite
from knowledge.retriever import FUSION, AccessScope, Fusion

K = 8
GRID = {"k": (5, 10, 20, 40, 60, 100), "vector": (0.5, 1.0, 1.5, 2.0, 3.0), "words": (0.0, 0.5, 1.0, 1.5),
        "trigrams": (0.0, 0.25, 0.5, 1.0), "type_share": (1.0, 0.75, 0.625, 0.5, 0.375)}

Rankings = dict[str, list[tuple[str, float]]]


def case_rankings(suite: RetrievalSuite, cases: list[Case]) -> list[tuple[Case, Rankings]]:
    found = []
    for case in cases:
        scope = AccessScope.everything().narrow(case.inputs.get("account_id"), case.inputs.get("doc_types"))
        assert scope is not None
        found.append((case, suite.retriever.rankings(case.inputs["query"], scope)))
    return found


def score(fusion: Fusion, rankings: list[tuple[Case, Rankings]], doc_types: dict[str, str]
          ) -> tuple[float, float]:
    recalls, mrrs = [], []
    for case, ranked in rankings:
        fused = [chunk_id for chunk_id, _ in fusion.fuse(ranked)]
        top = fusion.diversify(fused, doc_types.__getitem__, K)
        ordered = top + [chunk_id for chunk_id in fused if chunk_id not in top]
        recalls.append(recall_at_k(ordered, case.expected["chunk_ids"], K))
        mrrs.append(reciprocal_rank(ordered, case.expected["chunk_ids"]))
    return statistics.mean(recalls), statistics.mean(mrrs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("var/evals/work/retrieval"))
    args = parser.parse_args()
    suite = RetrievalSuite(args.work)
    cases = suite.cases()
    dev = case_rankings(suite, [c for c in cases if c.split == "dev"])
    holdout = case_rankings(suite, [c for c in cases if c.split == "holdout"])
    doc_types = dict(suite.store.db.execute("SELECT chunk_id, doc_type FROM chunks").fetchall())
    print(f"embedding {suite.settings['embedding']}, {suite.settings['chunks']} chunks, "
          f"{len(dev)} dev and {len(holdout)} holdout cases, recall@{K} / MRR")

    def distance(f: Fusion) -> float:  # from equal weights: prefer the plainest of equally good points
        return abs(f.vector - 1) + abs(f.words - 1) + abs(f.trigrams - 1) + (1 - f.type_share)

    grid = [Fusion(k=k, vector=v, words=w, trigrams=t, type_share=share)
            for k, v, w, t, share in itertools.product(*GRID.values())]
    scored = sorted(((score(f, dev, doc_types), f) for f in grid), key=lambda item: (-sum(item[0]), distance(item[1])))
    (best_recall, best_mrr), best = scored[0]
    rows = [("chosen on dev", best), ("current FUSION", FUSION),
            ("vector only", Fusion(k=60, vector=1, words=0, trigrams=0)),
            ("words only", Fusion(k=60, vector=0, words=1, trigrams=0)),
            ("words + trigrams", Fusion(k=60, vector=0, words=1, trigrams=1)),
            ("equal weights, k=60", Fusion(k=60, vector=1, words=1, trigrams=1)),
            ("chosen, no type cap", replace(best, type_share=1.0))]
    print(f"{'':22} {'constants':60} {'dev recall':>10} {'dev MRR':>8} {'holdout recall':>15} {'holdout MRR':>12}")
    for label, fusion in rows:
        dev_recall, dev_mrr = score(fusion, dev, doc_types)
        hold_recall, hold_mrr = score(fusion, holdout, doc_types)
        constants = (f"k={fusion.k} vector={fusion.vector} words={fusion.words} trigrams={fusion.trigrams} "
                     f"type_share={fusion.type_share}")
        print(f"{label:22} {constants:60} {dev_recall:10.4f} {dev_mrr:8.4f} {hold_recall:15.4f} {hold_mrr:12.4f}")
    ties = sum(1 for (r, m), _ in scored if abs(r + m - best_recall - best_mrr) < 1e-9)
    print(f"{len(grid)} grid points; {ties} tie with the best dev score")


if __name__ == "__main__":
    main()
