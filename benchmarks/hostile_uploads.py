"""Worst-case time and memory of the upload reader on the hostile corpus (tests/hostile.py, ≥ 100 files).

Usage: .venv/bin/python benchmarks/hostile_uploads.py [--cpu 20] [--memory 1024]

The corpus is written to a temporary folder by a separate process, so this process stays small; then each
file is read by the same sandboxed child the service uses (``python -m knowledge.extract``, with the CPU
and address-space limits), and ``os.wait4`` gives that child's own peak RSS and CPU time. Prints the worst
file per category, the worst overall, and the verdict (rejected or read) of each.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WRITE_CORPUS = """
import json, sys
from pathlib import Path
from tests.hostile import corpus
index = []
for number, (category, name, data) in enumerate(corpus()):
    path = Path(sys.argv[1]) / f"{number:03d}-{name}"
    path.write_bytes(data)
    index.append([category, name, str(path)])
print(json.dumps(index))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cpu", type=int, default=20, help="CPU seconds per file (the service's default)")
    parser.add_argument("--memory", type=int, default=1024, help="MB of address space per file (default)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        index = json.loads(subprocess.run([sys.executable, "-c", WRITE_CORPUS, folder], cwd=ROOT, check=True,
                                          capture_output=True, text=True).stdout)
        env = {**os.environ, "KAM_SANDBOX_CPU_S": str(args.cpu), "KAM_SANDBOX_MEMORY_MB": str(args.memory)}
        worst: dict[str, tuple[float, float, str]] = {}
        outcomes = {"rejected": 0, "read": 0, "killed": 0}
        for category, name, path in index:
            started = time.perf_counter()
            with tempfile.TemporaryFile() as out:
                child = subprocess.Popen([sys.executable, "-m", "knowledge.extract", path, name], cwd=ROOT, env=env,
                                         stdout=out, stderr=subprocess.DEVNULL)
                _, status, usage = os.wait4(child.pid, 0)
                child.returncode = os.waitstatus_to_exitcode(status)
                out.seek(0)
                answer = out.read(200)
            seconds, peak_mb = time.perf_counter() - started, usage.ru_maxrss / 1024
            outcome = "killed" if child.returncode else "rejected" if b'"rejected"' in answer else "read"
            outcomes[outcome] += 1
            if seconds > worst.get(category, (0.0, 0.0, ""))[0] or peak_mb > worst.get(category, (0.0, 0.0, ""))[1]:
                previous = worst.get(category, (0.0, 0.0, ""))
                worst[category] = (max(seconds, previous[0]), max(peak_mb, previous[1]), name)
        print(f"{len(index)} files; budget {args.cpu} CPU s and {args.memory} MB each; outcomes: "
              + ", ".join(f"{k} {v}" for k, v in outcomes.items()))
        print(f"{'category':<20} {'worst s':>8} {'peak MB':>8}  file")
        for category, (seconds, peak_mb, name) in sorted(worst.items(), key=lambda item: -item[1][0]):
            print(f"{category:<20} {seconds:8.2f} {peak_mb:8.0f}  {name}")
        print(f"worst time {max(w[0] for w in worst.values()):.2f} s, worst peak RSS "
              f"{max(w[1] for w in worst.values()):.0f} MB")


if __name__ == "__main__":
    main()
