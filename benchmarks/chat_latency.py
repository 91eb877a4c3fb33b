"""Chat latency on the KAMs' golden questions (evals/golden/chat_kam, the chat_kam eval's world: demo data seed
7, as of 2026-11-26), each thread asked in order as its user would, once from the records only (template) and
once with the model phrasing the answer.

Usage: .venv/bin/python benchmarks/chat_latency.py [--threads 20] [--seed 7]
Uses KAM_LLM_BASE_URL if set, else starts the embedded server. Prints per question the time to the first tool
step, to the first streamed token and to the checked answer, then p50 / p95 / max of both modes, the share of
answers from the model and the model/template ratio. Targets (issue 27): p95 ≤ 20 s with a tool on the embedded
default, template answers < 0.2 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from agents.chat import service
from core.access import principal_for_user
from core.db.session import session_scope
from core.settings import get_settings
from evals.chat_kam_suites import QUESTIONS, ChatKamSuite, load_questions

AS_OF = date(2026, 11, 26)


def timed(suite: Any, question: dict[str, Any], thread_id: str | None) -> dict[str, Any]:
    with session_scope(suite.work.resolved_database_url) as session:
        principal = principal_for_user(session, question["user"])
    started = time.perf_counter()
    marks: dict[str, Any] = {"source": "?", "thread_id": thread_id}
    for event in service.stream(suite.work, suite.checkpointer, principal, question["question"], as_of=AS_OF,
                                gateway=suite.gateway, thread_id=thread_id):
        now = time.perf_counter() - started
        if event["event"] == "thread":
            marks["thread_id"] = event["thread_id"]
        elif event["event"] == "step":
            marks.setdefault("first_step_s", now)
        elif event["event"] in ("token", "progress"):
            marks.setdefault("first_token_s", now)
        elif event["event"] == "answer":
            marks.update(total_s=now, source=event["source"])
    return marks


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def line(label: str, values: list[float]) -> str:
    return (f"{label}: n={len(values)} p50 {statistics.median(values):.2f}s  p95 {percentile(values, 0.95):.2f}s  "
            f"max {max(values):.2f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--threads", type=int, default=20, help="golden threads drawn at random (all turns each)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cases = load_questions((QUESTIONS,))  # the first batch: the second stays unseen
    random.Random(args.seed).shuffle(cases)
    cases = cases[:args.threads]
    work = Path(tempfile.mkdtemp(prefix="kam-chat-bench-"))
    started = time.perf_counter()
    template = ChatKamSuite(work / "template", settings=get_settings(), llm_mode="off")
    model = ChatKamSuite(work / "model", settings=get_settings(), llm_mode="all")
    print(f"model {model.settings['model']}; worlds ready in {time.perf_counter() - started:.0f}s", flush=True)
    rows = []
    try:
        for case in cases:
            threads: dict[str, dict[str, str | None]] = {"template": {}, "model": {}}
            for q in case.inputs["turns"]:
                plain = timed(template, q, threads["template"].get(q["user"]))
                phrased = timed(model, q, threads["model"].get(q["user"]))
                threads["template"][q["user"]], threads["model"][q["user"]] = plain["thread_id"], phrased["thread_id"]
                rows.append((q, plain, phrased))
                print(f"{q['question'][:56]:56s} step {phrased.get('first_step_s', 0):5.2f}s  first token "
                      f"{phrased.get('first_token_s', float('nan')):5.1f}s  answer {phrased['total_s']:5.1f}s "
                      f"({phrased['source']:8s})  template {plain['total_s']:5.2f}s ({plain['source']})", flush=True)
    finally:
        template.close()
        model.close()
    plain_s = [p["total_s"] for _, p, _ in rows]
    model_s = [m["total_s"] for _, _, m in rows]
    with_tool = [m["total_s"] for _, _, m in rows if "first_step_s" in m]
    print(line("template answers", plain_s))
    print(line("with the model, every question", model_s))
    if with_tool:
        print(line("with the model, questions that ran a tool", with_tool))
    from_model = sum(m["source"] == "llm" for _, _, m in rows)
    print(f"answers from the model (passed the checks): {from_model} of {len(rows)}; model/template median ratio "
          f"{statistics.median(model_s) / max(statistics.median(plain_s), 1e-6):.0f}x")


if __name__ == "__main__":
    main()
