"""NDA review cost: LLM calls, tokens and wall time per NDA, against the server's throughput and against a
one-call-per-rule baseline (every rule asked about the whole NDA).

Usage: .venv/bin/python benchmarks/nda_review.py [--ndas nda-01.txt nda-02.txt ...] [--modes uncertain all]
                                                [--baseline-ndas 2]

Prints, per mode: calls, prompt and completion tokens and wall time per NDA; the time those tokens take at
the server's measured prompt and generation rates; and the ratio wall ÷ that time (goal ≤ 1.15). Then the
baseline's prompt tokens per NDA (16 calls over the whole text, counted by the server with max_tokens=1) and
the ratio of the reviewer's tokens to it (goal ≤ 0.5).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from langchain_core.messages import HumanMessage, SystemMessage

from agents.nda_review import prompts, service
from core.access import Principal
from core.checkpoint import open_checkpointer
from core.db.migrate import upgrade
from core.db.session import session_scope
from core.llm.runtime import LlmRuntime, measure_throughput
from core.settings import Settings
from policies.nda import RULES

NDAS = Path(__file__).parents[1] / "evals" / "golden" / "nda" / "documents"
DEFAULT = ["nda-01.txt", "nda-02.txt", "nda-03.txt", "nda-06.txt", "nda-07.txt", "nda-10.txt", "nda-11.txt",
           "nda-14.txt"]  # the dev split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ndas", nargs="+", default=DEFAULT)
    parser.add_argument("--modes", nargs="+", default=["uncertain", "all"])
    parser.add_argument("--baseline-ndas", type=int, default=2, help="NDAs the one-call-per-rule baseline reads")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kam-nda-bench-"))
    settings = Settings(data_dir=work, llm_autostart=True)
    upgrade(settings.resolved_database_url)
    principal = Principal.system("benchmark")
    with LlmRuntime(settings) as runtime, open_checkpointer(settings) as saver:
        gateway = runtime.gateway()
        rates = measure_throughput(gateway, prompt_words=400, salt=str(time.time()))
        print(f"server: prompt {rates['prompt_tokens_per_s']} tok/s, generation {rates['generation_tokens_per_s']} "
              f"tok/s ({runtime.model_name})")
        totals: dict[str, float] = {}
        for mode in args.modes:
            rows = []
            for name in args.ndas:
                data = (NDAS / name).read_bytes()
                with session_scope(settings.resolved_database_url) as session:
                    review_id = service.submit(session, settings, principal, data, name, None).id
                started = time.perf_counter()
                report = service.run(settings, saver, review_id, principal, gateway=gateway, llm_mode=mode)
                wall = time.perf_counter() - started
                expected = (report.llm.prompt_tokens / rates["prompt_tokens_per_s"]
                            + report.llm.completion_tokens / max(rates["generation_tokens_per_s"], 1e-6))
                rows.append((report.llm.calls, report.llm.prompt_tokens, report.llm.completion_tokens, wall, expected))
            calls, prompt, completion, wall, expected = (statistics.mean(r[i] for r in rows) for i in range(5))
            totals[mode] = prompt + completion
            ratio = f"{sum(r[3] for r in rows) / sum(r[4] for r in rows):.2f}" if sum(r[4] for r in rows) else "–"
            print(f"mode {mode}: per NDA {calls:.1f} calls, {prompt:.0f} prompt + {completion:.0f} completion tokens, "
                  f"wall {wall:.1f}s; tokens at the measured rates {expected:.1f}s; wall ÷ token time {ratio}")
        baseline = []
        for name in args.ndas[: args.baseline_ndas]:
            text = (NDAS / name).read_text(encoding="utf-8")
            tokens = 0
            for rule in RULES:
                messages = [SystemMessage(content=prompts.SYSTEM),
                            HumanMessage(content=prompts.question(rule, [text], "Nordwerk Komponenten GmbH"))]
                reply = gateway.invoke(messages, purpose="extraction", extra_body={"max_tokens": 1})
                tokens += reply.usage.prompt_tokens
            baseline.append(tokens)
            print(f"one-call-per-rule baseline, {name}: {len(RULES)} calls, {tokens} prompt tokens")
        per_nda = statistics.mean(baseline)
        for mode, used in totals.items():
            print(f"mode {mode}: {used:.0f} tokens per NDA = {used / per_nda:.3f} × the baseline's {per_nda:.0f} "
                  "prompt tokens (its completions not even counted)")


if __name__ == "__main__":
    main()
