"""Demo data at scale: generation and import wall time, rows and database size.

Usage: .venv/bin/python benchmarks/demo_data_scale.py --accounts 10000 [--dir /tmp/kam-bench]
"""

from __future__ import annotations

import argparse
import shutil
import time
from datetime import date
from pathlib import Path

from core.crm import demo
from core.crm.importer import import_directory
from core.db.migrate import upgrade
from core.db.session import get_engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/kam-bench"))
    args = parser.parse_args()
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    db_path = args.dir / "kam.db"
    url = f"sqlite:///{db_path}"

    started = time.perf_counter()
    summary = demo.generate(args.dir / "csv", accounts=args.accounts, seed=7, as_of=date(2026, 11, 26))
    generated = time.perf_counter() - started
    upgrade(url)
    started = time.perf_counter()
    report = import_directory(args.dir / "csv", url)
    imported = time.perf_counter() - started
    rows = report.total_rows
    engine = get_engine(url)
    with engine.connect() as conn:  # fold the WAL into the file before measuring it
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size = sum(p.stat().st_size for p in args.dir.glob("kam.db*"))
    print(f"accounts            {args.accounts:,}")
    print(f"rows                {rows:,}  ({rows / args.accounts:.0f} per account)")
    print(f"generate            {generated:.1f}s  ({rows / generated:,.0f} rows/s)")
    print(f"import              {imported:.1f}s  ({rows / imported:,.0f} rows/s, validated + upserted)")
    print(f"total               {generated + imported:.1f}s")
    print(f"database size       {size / 1e6:,.0f} MB  ({size / rows:.0f} bytes/row)")
    print(f"csv size            {sum(p.stat().st_size for p in summary.out_dir.glob('*.csv')) / 1e6:,.0f} MB")


if __name__ == "__main__":
    main()
