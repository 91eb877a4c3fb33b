"""Throughput of the LLM endpoint: prompt tokens/s, generation tokens/s, time to first token.

Usage: .venv/bin/python benchmarks/llm_throughput.py [--runs 3] [--prompt-words 300]
Uses KAM_LLM_BASE_URL if set, else starts the embedded server (its start-up time is printed too).
"""

from __future__ import annotations

import argparse
import statistics
import time

from core.llm.runtime import LlmRuntime, measure_throughput
from core.settings import get_settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--prompt-words", type=int, default=300)
    args = parser.parse_args()
    started = time.perf_counter()
    with LlmRuntime(get_settings()) as runtime:
        print(f"endpoint {runtime.base_url}  model {runtime.model_name}  "
              f"ready in {time.perf_counter() - started:.1f}s")
        gateway = runtime.gateway()
        runs = [measure_throughput(gateway, prompt_words=args.prompt_words, salt=f"run {i}. ")
                for i in range(args.runs)]
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:26s} median {statistics.median(values):8.2f}   runs {values}")


if __name__ == "__main__":
    main()
