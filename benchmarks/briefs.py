"""The nightly briefs run at scale: the deterministic part for every account, the model's part per budget, and
an incremental rerun after a share of the accounts changed.

Usage: .venv/bin/python benchmarks/briefs.py --db /tmp/kam-bench/kam.db [--changed 0.05] [--llm]
(build the database first: benchmarks/demo_data_scale.py --accounts 1000 --dir /tmp/kam-bench)

Prints, for the nightly run as `kam briefs run` does it (facts in one batch, trends only for the briefs written,
template briefs stored, the model's summary for accounts with a meeting within 7 days when ``--llm``): accounts,
wall time, accounts/min, model summaries with their tokens; then the same run again after ``--changed`` of the
accounts (drawn at random, seed 7) got a new interaction, and its wall time as a share of the full run.
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from agents.account_brief import jobs
from api.services import open_services
from core.access import Principal
from core.db import models
from core.db.migrate import upgrade
from core.db.session import session_scope
from core.settings import get_settings

AS_OF = date(2026, 11, 26)
SYSTEM = Principal.system("benchmark")


def run(services: object, use_llm: bool) -> tuple[float, jobs.service.RunSummary, tuple[int, int]]:
    started = time.perf_counter()
    summary = jobs.nightly(services, SYSTEM, brief_date=AS_OF, use_llm=use_llm)
    seconds = time.perf_counter() - started
    settings = services.settings  # type: ignore[attr-defined]
    with session_scope(settings.resolved_database_url) as session:
        tokens = session.execute(select(func.coalesce(func.sum(models.Brief.prompt_tokens), 0),
                                        func.coalesce(func.sum(models.Brief.completion_tokens), 0))).one()
    return seconds, summary, (int(tokens[0]), int(tokens[1]))


def report(label: str, seconds: float, summary: jobs.service.RunSummary) -> None:
    print(f"{label}: {summary.accounts:,} accounts in {seconds:.1f} s ({summary.accounts / seconds * 60:,.0f} "
          f"accounts/min): {summary.generated} template briefs, {summary.llm} model summaries, {summary.fallback} "
          f"fallbacks, {summary.unchanged} unchanged; facts {summary.gather_s:.1f} s, templates and storing "
          f"{summary.compose_s:.1f} s", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("/tmp/kam-bench/kam.db"))
    parser.add_argument("--changed", type=float, default=0.05)
    parser.add_argument("--llm", action="store_true", help="the model writes the summaries of its budget")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kam-briefs-"))
    shutil.copy(args.db, work / "kam.db")
    settings = get_settings().model_copy(update={"data_dir": work, "database_url": None})
    upgrade(settings.resolved_database_url)
    with open_services(settings, start_llm=False, run_worker=False) as services:
        full_s, full, tokens = run(services, args.llm)
        report("full run", full_s, full)
        if args.llm:
            print(f"model: {tokens[0]:,} prompt + {tokens[1]:,} completion tokens for {full.llm + full.fallback} "
                  "summaries")
        with session_scope(settings.resolved_database_url) as session:
            accounts = list(session.execute(select(models.Account.id).order_by(models.Account.id)).scalars())
            changed = random.Random(7).sample(accounts, max(1, int(len(accounts) * args.changed)))
            for account in changed:
                session.add(models.Interaction(id=f"{account}-BENCH", account_id=account, contact_id=None,
                                               user_id=None, interaction_date=AS_OF, interaction_type="call",
                                               qualified=False, language="de", note="Rückruf vereinbart."))
        again_s, again, _ = run(services, args.llm)
        report(f"incremental run, {len(changed)} accounts changed ({args.changed:.0%})", again_s, again)
        print(f"incremental ÷ full: {again_s / full_s:.1%}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
