"""KPI computation speed: all KPIs for every account, and for single accounts.

Usage: .venv/bin/python benchmarks/kpis.py --db /tmp/kam-bench/kam.db [--period R12] [--repeat 3]
(build the database first: benchmarks/demo_data_scale.py --accounts 10000)
Goals (issue 4): all accounts ≤ 3 s, one account ≤ 20 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.db import models
from core.db.session import get_engine
from policies import health, kpis


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", type=Path, default=Path("/tmp/kam-bench/kam.db"))
    parser.add_argument("--period", default="R12")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    as_of = date(2026, 11, 26)
    engine = get_engine(f"sqlite:///{args.db}")
    with Session(engine) as session:
        accounts = list(session.execute(select(models.Account.id)).scalars())
        kpis.compute(session, period=args.period, as_of=as_of)  # warm the page cache
        batch = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            results = kpis.compute(session, period=args.period, as_of=as_of)
            batch.append(time.perf_counter() - started)
        count = sum(len(r) for r in results.values())
        started = time.perf_counter()
        health.health(session, period=args.period, as_of=as_of)
        health_all = time.perf_counter() - started
        singles = []
        for account_id in accounts[:: max(1, len(accounts) // 50)]:
            started = time.perf_counter()
            kpis.compute_account(session, account_id, period=args.period, as_of=as_of)
            singles.append(time.perf_counter() - started)
    singles.sort()
    print(f"accounts                       {len(accounts):,}")
    print(f"all KPIs, all accounts          median {statistics.median(batch):.2f}s  runs "
          f"{[round(b, 2) for b in batch]}  ({count:,} results)")
    print(f"health roll-up, all accounts    {health_all:.2f}s")
    print(f"all KPIs, one account           p50 {statistics.median(singles) * 1000:.1f}ms  "
          f"p95 {singles[int(len(singles) * 0.95) - 1] * 1000:.1f}ms  ({len(singles)} accounts)")


if __name__ == "__main__":
    main()
