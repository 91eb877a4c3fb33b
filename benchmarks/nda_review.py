"""NDA review cost: LLM calls, tokens and wall time per NDA, against the server's throughput and against a
one-call-per-rule baseline (every rule asked about the whole NDA).

Usage: .venv/bin/python benchmarks/nda_review.py [--ndas nda-01.txt nda-02.txt ...] [--modes uncertain all]
                                                [--real 8]

Prints, per mode: calls, prompt and completion tokens and wall time per NDA; the time those tokens take at
the server's measured prompt and generation rates; and the ratio wall ÷ that time (goal ≤ 1.15). The golden
NDAs (dev split) are read by the patterns with certainty, so ``--real N`` also reviews the first N real NDAs of
ContractNLI dev (English, from EDGAR and the web) in the same modes. Then the prompt tokens per NDA of a
one-call-per-rule baseline (each of the 16 rules asked about the whole NDA) and the ratio of the reviewer's
tokens to it (goal ≤ 0.5).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import httpx
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
CONTRACTNLI = Path(__file__).parents[2] / "shared" / "data" / "contractnli" / "dev.json"
DEFAULT = ["nda-01.txt", "nda-02.txt", "nda-03.txt", "nda-06.txt", "nda-07.txt", "nda-10.txt", "nda-11.txt",
           "nda-14.txt"]  # the dev split


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ndas", nargs="+", default=DEFAULT)
    parser.add_argument("--modes", nargs="+", default=["uncertain", "all"])
    parser.add_argument("--real", type=int, default=0, help="also review this many real NDAs from ContractNLI dev")
    args = parser.parse_args()
    ndas = {name: (NDAS / name).read_bytes() for name in args.ndas}
    if args.real:
        documents = json.loads(CONTRACTNLI.read_text(encoding="utf-8"))["documents"][: args.real]
        ndas.update({f"contractnli-{d['id']}.txt": d["text"].encode() for d in documents})
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
            for name, data in ndas.items():
                with session_scope(settings.resolved_database_url) as session:
                    review_id = service.submit(session, settings, principal, data, name, None).id
                started = time.perf_counter()
                report = service.run(settings, saver, review_id, principal, gateway=gateway, llm_mode=mode)
                wall = time.perf_counter() - started
                expected = (report.llm.prompt_tokens / rates["prompt_tokens_per_s"]
                            + report.llm.completion_tokens / max(rates["generation_tokens_per_s"], 1e-6))
                rows.append((report.llm.calls, report.llm.prompt_tokens, report.llm.completion_tokens, wall, expected))
                print(f"  {mode} {name}: {report.llm.calls} calls, {report.llm.prompt_tokens} + "
                      f"{report.llm.completion_tokens} tokens, wall {wall:.2f}s (tokens at the rates {expected:.1f}s), "
                      f"verdict {report.verdict}", flush=True)
            calls, prompt, completion, wall, expected = (statistics.mean(r[i] for r in rows) for i in range(5))
            totals[mode] = prompt + completion
            ratio = f"{sum(r[3] for r in rows) / sum(r[4] for r in rows):.2f}" if sum(r[4] for r in rows) else "–"
            print(f"mode {mode}: per NDA {calls:.1f} calls, {prompt:.0f} prompt + {completion:.0f} completion tokens, "
                  f"wall {wall:.2f}s; tokens at the measured rates {expected:.1f}s; wall ÷ token time {ratio}")
        # The baseline sends each rule's question with the whole NDA: 16 × the NDA's tokens plus each question's
        # own template tokens. The questions' tokens come from 16 real calls over a one-word text, the NDA's
        # from the server's tokenizer, so the baseline costs 16 calls instead of 16 per NDA.
        questions = {rule: gateway.invoke([SystemMessage(content=prompts.SYSTEM), HumanMessage(
            content=prompts.question(rule, ["x"], "Nordwerk Komponenten GmbH"))], purpose="extraction",
            extra_body={"max_tokens": 1}).usage.prompt_tokens for rule in RULES}
        word = count_tokens(runtime.base_url or "", "x")
        baseline = {name: sum(questions.values()) + len(RULES) * (count_tokens(runtime.base_url or "", data.decode())
                                                                   - word) for name, data in ndas.items()}
        print(f"one-call-per-rule baseline: {len(RULES)} calls per NDA, {statistics.mean(baseline.values()):.0f} "
              f"prompt tokens per NDA (min {min(baseline.values())}, max {max(baseline.values())}; its completions "
              "not counted)")
        for mode, used in totals.items():
            print(f"mode {mode}: {used:.0f} tokens per NDA = {used / statistics.mean(baseline.values()):.3f} × the "
                  "baseline (goal ≤ 0.5)")


def count_tokens(base_url: str, text: str) -> int:
    """The server's own token count of a text (llama.cpp's tokenizer endpoint)."""
    response = httpx.post(f"{base_url.removesuffix('/v1')}/extras/tokenize/count", json={"input": text}, timeout=120)
    response.raise_for_status()
    return int(response.json()["count"])


if __name__ == "__main__":
    main()
