"""How long the deterministic NDA review takes as the text grows, to set the submit limits and the job's
time limit (issue 16: a 20 MB text used to pass the parse sandbox, then hold the only worker for ~45 min).

Usage: .venv/bin/python benchmarks/nda_bounds.py [--sizes 25000 100000 400000] [--linear]

Builds texts of the given sizes from a golden NDA (its clauses repeated with new numbers), runs the
patterns, the policy and the hypotheses (no LLM) on each, and prints seconds, sentences and seconds per
1,000 sentences. ``--linear`` also times the old linear sentence lookup of ``NdaText.around`` for
comparison (ratio old ÷ new).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from agents.nda_review import nli
from agents.nda_review.extractors import extract_facts
from agents.nda_review.service import MAX_NDA_CHARS, MAX_NDA_SENTENCES
from agents.nda_review.text import NdaText
from policies.nda import get_nda_policy, judge

GOLDEN = Path(__file__).parents[1] / "evals" / "golden" / "nda" / "documents" / "nda-02.txt"


def grown(size: int) -> str:
    base = GOLDEN.read_text(encoding="utf-8")
    parts, number = [], 1
    while sum(map(len, parts)) < size:
        parts.append(base.replace("\n1.", f"\n{number}."))
        number += 1
    return "\n".join(parts)[:size]


def review_seconds(text: str) -> tuple[float, int]:
    started = time.perf_counter()
    doc = NdaText(text)
    extraction = extract_facts(doc, get_nda_policy().our_names)
    judge(extraction.facts, language="de")
    spans = [s.text for s in doc.sentences]
    nli.decide(spans, language="de", model=nli.shipped_model(), gateway=None, facts=extraction.facts,
               span_starts=[s.start for s in doc.sentences])
    return time.perf_counter() - started, len(doc.sentences)


def linear_around(self: NdaText, sentence: Any, *, before: int = 0, after: int = 2) -> str:
    index = next(i for i, s in enumerate(self.sentences) if s is sentence)
    window = [s for s in self.sentences[max(0, index - before):index + after + 1] if s.clause == sentence.clause]
    return " ".join(s.norm for s in window)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[25_000, 100_000, 400_000])
    parser.add_argument("--linear", action="store_true")
    args = parser.parse_args()
    print(f"limits at submit: {MAX_NDA_CHARS:,} characters, {MAX_NDA_SENTENCES:,} sentences")
    nli.shipped_model()  # loaded once, outside the timings
    header = f"{'chars':>9} {'sentences':>9} {'seconds':>8} {'s/1k sent':>9}"
    print(header + ("  linear s  ratio" if args.linear else ""))
    for size in args.sizes:
        text = grown(size)
        seconds, sentences = review_seconds(text)
        line = f"{len(text):>9,} {sentences:>9,} {seconds:>8.2f} {seconds / sentences * 1000:>9.3f}"
        if args.linear:
            indexed = NdaText.around
            NdaText.around = linear_around  # type: ignore[method-assign]
            try:
                old, _ = review_seconds(text)
            finally:
                NdaText.around = indexed  # type: ignore[method-assign]
            line += f"  {old:>8.2f}  {old / seconds:>5.1f}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
