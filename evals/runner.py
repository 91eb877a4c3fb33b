"""Run a suite over its golden set, write results and a report, and compare with the committed baseline."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from evals.suites import Case, CaseResult, Suite, load_cases

BASELINE_DIR = Path(__file__).parent / "baselines"
DEFAULT_TOLERANCE = 0.02


@dataclass
class Regression:
    metric: str
    baseline: float
    current: float | None
    tolerance: float


@dataclass
class EvalRun:
    agent: str
    metrics: dict[str, float]
    results: list[CaseResult]
    regressions: list[Regression]
    out_dir: Path
    wall_s: float
    baseline: dict[str, Any] | None


def run_cases(suite: Suite, cases: list[Case], *, concurrency: int = 2,
              on_case: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    def one(case: Case) -> CaseResult:
        started = time.perf_counter()
        try:
            result = suite.run_case(case)
        except Exception as exc:  # a crashing case is a failed case, reported, not a crashed run
            result = CaseResult(case.id, False, {}, None, case.expected, case.tags, error=f"{type(exc).__name__}: {exc}")
        result.wall_s = round(time.perf_counter() - started, 3)
        if on_case:
            on_case(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, cases))


def load_baseline(agent: str, baseline_dir: Path = BASELINE_DIR) -> dict[str, Any] | None:
    path = baseline_dir / f"{agent}.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def compare(metrics: dict[str, float], baseline: dict[str, Any] | None) -> list[Regression]:
    """Metrics are higher-is-better; a drop beyond the tolerance (or a missing metric) is a regression."""
    if not baseline:
        return []
    tolerance = float(baseline.get("tolerance", DEFAULT_TOLERANCE))
    regressions = []
    for name, expected in baseline.get("metrics", {}).items():
        current = metrics.get(name)
        if current is None or current < expected - tolerance:
            regressions.append(Regression(name, expected, current, tolerance))
    return regressions


def write_report(run: EvalRun, suite: Suite) -> None:
    run.out_dir.mkdir(parents=True, exist_ok=True)
    with (run.out_dir / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in run.results:
            handle.write(json.dumps(asdict(result), ensure_ascii=False, default=str) + "\n")
    base = (run.baseline or {}).get("metrics", {})
    lines = [f"# Eval report: {run.agent}", "",
             f"- run: {run.out_dir.name}, {len(run.results)} cases, wall time {run.wall_s:.1f}s",
             f"- settings: {json.dumps(suite.settings, ensure_ascii=False)}", "",
             "| metric | value | baseline | Δ |", "|---|---:|---:|---:|"]
    for name, value in sorted(run.metrics.items()):
        if name in base:
            lines.append(f"| {name} | {value:.4f} | {base[name]:.4f} | {value - base[name]:+.4f} |")
        else:
            lines.append(f"| {name} | {value:.4f} | – | – |")
    tokens = {key: sum(r.tokens.get(key, 0) for r in run.results) for key in ("prompt", "completion")}
    if any(tokens.values()):
        lines += ["", f"Tokens: {tokens['prompt']:,} prompt, {tokens['completion']:,} completion."]
    lines += ["", "## Regressions", ""]
    lines += [f"- **{r.metric}**: {r.current} vs baseline {r.baseline} (tolerance {r.tolerance})"
              for r in run.regressions] or ["none"]
    failed = [r for r in run.results if not r.passed]
    lines += ["", f"## Failed cases ({len(failed)})", ""]
    for result in failed:
        lines += [f"### {result.case_id} {json.dumps(result.tags, ensure_ascii=False)}",
                  f"- expected: `{json.dumps(result.expected, ensure_ascii=False)}`",
                  f"- got: `{json.dumps(result.output, ensure_ascii=False, default=str)[:1500]}`"]
        if result.error:
            lines.append(f"- error: {result.error}")
        lines.append("")
    (run.out_dir / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_eval(agent: str, suite: Suite, out_root: Path, *, concurrency: int = 2,
             on_case: Callable[[CaseResult], None] | None = None, cases: list[Case] | None = None,
             baseline_dir: Path = BASELINE_DIR) -> EvalRun:
    cases = cases if cases is not None else load_cases(agent)
    started = time.perf_counter()
    results = run_cases(suite, cases, concurrency=concurrency, on_case=on_case)
    metrics = suite.aggregate(results)
    metrics["pass_rate"] = round(sum(r.passed for r in results) / len(results), 4) if results else 0.0
    baseline = load_baseline(agent, baseline_dir)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
    run = EvalRun(agent, metrics, results, compare(metrics, baseline), out_root / f"{stamp}-{agent}",
                  round(time.perf_counter() - started, 2), baseline)
    write_report(run, suite)
    return run


def write_baseline(run: EvalRun, baseline_dir: Path = BASELINE_DIR, tolerance: float = DEFAULT_TOLERANCE) -> Path:
    baseline_dir.mkdir(parents=True, exist_ok=True)
    path = baseline_dir / f"{run.agent}.json"
    path.write_text(json.dumps({"tolerance": tolerance, "metrics": run.metrics}, indent=2, sort_keys=True) + "\n",
                    encoding="utf-8")
    return path
