"""Chat latency: time to the first tool step, to the first streamed token of the model and to the checked
answer, per question, on the demo data (seed 7, 12 accounts, as of 2026-11-26), as U-KAM-001 would ask.

Usage: .venv/bin/python benchmarks/chat_latency.py [--runs 1]
Uses KAM_LLM_BASE_URL if set, else starts the embedded server. Prints the template answer's time beside each
question (what the chat costs without the model) and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from agents.chat import service
from core.access import principal_for_user
from core.checkpoint import open_checkpointer
from core.crm import demo
from core.crm.importer import import_directory
from core.db.migrate import upgrade
from core.db.session import session_scope
from core.llm.runtime import LlmRuntime
from core.settings import get_settings

AS_OF = date(2026, 11, 26)
QUESTIONS = [
    "Why is Mercer's call-off rate down?",
    "Wie hoch ist die Abrufquote bei Mercer Antriebstechnik?",
    "Which of my accounts need a re-order this week?",
    "Hermes limit and exposure for Vogel?",
    "Was wurde beim letzten Kontakt mit Hollmann besprochen?",
    "Can I offer 4 % off on 591.1027-01 and stay in the corridor?",
]


def timed(settings: Any, saver: Any, principal: Any, question: str, gateway: Any) -> dict[str, Any]:
    started = time.perf_counter()
    marks: dict[str, Any] = {}
    for event in service.stream(settings, saver, principal, question, as_of=AS_OF, gateway=gateway):
        now = time.perf_counter() - started
        if event["event"] == "step":
            marks.setdefault("first_step_s", now)
        elif event["event"] == "token":
            marks.setdefault("first_token_s", now)
        elif event["event"] == "answer":
            marks.update(total_s=now, source=event["source"])
    return marks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kam-chat-bench-"))
    settings = get_settings().model_copy(update={"data_dir": work, "database_url": None})
    demo.generate(work / "corpus", accounts=12, seed=7, as_of=AS_OF, document_accounts=0)
    upgrade(settings.resolved_database_url)
    import_directory(work / "corpus", settings.resolved_database_url)
    with session_scope(settings.resolved_database_url) as session:
        kam = principal_for_user(session, "U-KAM-001")
    started = time.perf_counter()
    with LlmRuntime(settings) as runtime, open_checkpointer(settings) as saver:
        print(f"endpoint {runtime.base_url}  model {runtime.model_name}  ready in {time.perf_counter() - started:.1f}s")
        gateway = runtime.gateway()
        rows = []
        for question in QUESTIONS:
            for _ in range(args.runs):
                template = timed(settings, saver, kam, question, None)
                model = timed(settings, saver, kam, question, gateway)
                rows.append((question, template, model))
                print(f"{question[:58]:58s} step {model.get('first_step_s', 0):5.2f}s  first token "
                      f"{model.get('first_token_s', float('nan')):5.1f}s  answer {model['total_s']:5.1f}s "
                      f"({model['source']:8s})  template {template['total_s']:5.2f}s")
    first = [m["first_token_s"] for _, _, m in rows if "first_token_s" in m]
    total = [m["total_s"] for _, _, m in rows]
    plain = [t["total_s"] for _, t, _ in rows]
    ratio = statistics.median(total) / statistics.median(plain)
    from_model = sum(m["source"] == "llm" for _, _, m in rows)
    print(f"median: first token {statistics.median(first):.1f}s, answer {statistics.median(total):.1f}s, "
          f"template answer {statistics.median(plain):.3f}s; model/template {ratio:.0f}x; answers from the model "
          f"{from_model} of {len(rows)}")


if __name__ == "__main__":
    main()
