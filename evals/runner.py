"""Run a suite over its golden set, write results and a report, and compare with the committed baseline.

Every metric has a direction (higher or lower is better), so quality, model calls and tokens gate; wall time
is reported beside them and never gates (shared machines vary several-fold in load: it is a benchmark figure,
see ``benchmarks/``). Every metric the suite can compute a trivial baseline for (majority label, all-null) is
reported beside it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from evals.suites import Case, CaseResult, EvalAborted, Suite

BASELINE_DIR = Path(__file__).parent / "baselines"
DEFAULT_TOLERANCE = 0.02  # absolute, for scores in [0, 1]
COST_TOLERANCE = 0.25  # relative, for tokens and calls per case
# reported, never a regression: wall time varies with the machine's load (CI machines are shared)
REPORT_ONLY = frozenset({"cost.wall_s_per_case"})
Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class BaselineMetric:
    value: float
    direction: Direction = "higher"
    tolerance: float = DEFAULT_TOLERANCE
    relative: bool = False  # tolerance as a fraction of the value (cost metrics)

    def regressed(self, current: float | None) -> bool:
        if current is None:
            return True
        allowed = self.tolerance * abs(self.value) if self.relative else self.tolerance
        return current < self.value - allowed if self.direction == "higher" else current > self.value + allowed


@dataclass
class Regression:
    metric: str
    baseline: BaselineMetric
    current: float | None

    def __str__(self) -> str:
        b = self.baseline
        allowed = f"{b.tolerance:.0%} of it" if b.relative else f"{b.tolerance}"
        worse = "below" if b.direction == "higher" else "above"
        return f"{self.metric}: {self.current} is {worse} the baseline {b.value} by more than {allowed}"


@dataclass
class EvalRun:
    agent: str
    split: str
    metrics: dict[str, float]
    trivial: dict[str, float]
    by_split: dict[str, dict[str, float]]
    results: list[CaseResult]
    regressions: list[Regression]
    out_dir: Path
    wall_s: float
    baseline_metrics: dict[str, BaselineMetric] = field(default_factory=dict)
    directions: dict[str, Direction] = field(default_factory=dict)
    trivial_by_split: dict[str, dict[str, float]] = field(default_factory=dict)  # fitted on each split itself


def cost_metrics(results: list[CaseResult]) -> dict[str, float]:
    """Per-case LLM calls, tokens and wall time: lower is better."""
    count = max(len(results), 1)
    return {"cost.llm_calls_per_case": round(sum(r.tokens.get("calls", 0) for r in results) / count, 3),
            "cost.prompt_tokens_per_case": round(sum(r.tokens.get("prompt", 0) for r in results) / count, 1),
            "cost.completion_tokens_per_case": round(sum(r.tokens.get("completion", 0) for r in results) / count, 1),
            "cost.wall_s_per_case": round(sum(r.wall_s for r in results) / count, 3)}


def directions_for(metrics: dict[str, float], suite: Suite) -> dict[str, Direction]:
    declared: dict[str, Direction] = getattr(suite, "directions", {})
    # a declared direction holds for the metric's breakdowns too ("true_rejected.de")
    return {name: "lower" if name.startswith("cost.") else
            declared.get(name, declared.get(name.split(".")[0], "higher")) for name in metrics}


def run_cases(suite: Suite, cases: list[Case], *, concurrency: int = 2,
              on_case: Callable[[CaseResult], None] | None = None) -> list[CaseResult]:
    def one(case: Case) -> CaseResult:
        started = time.perf_counter()
        try:
            result = suite.run_case(case)
        except EvalAborted:
            raise  # the run as a whole cannot measure anything (e.g. a stale cassette)
        except Exception as exc:  # a crashing case is a failed case, reported, not a crashed run
            result = CaseResult(case.id, False, {}, None, case.expected, case.tags,
                                error=f"{type(exc).__name__}: {exc}")
        result.split = case.split
        result.wall_s = round(time.perf_counter() - started, 3)
        if on_case:
            on_case(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, cases))


def load_baseline(agent: str, baseline_dir: Path = BASELINE_DIR, split: str = "all") -> dict[str, BaselineMetric]:
    """The committed metrics of a run over all cases, or of one split of it."""
    path = baseline_dir / f"{agent}.json"
    if not path.is_file():
        return {}
    raw = json.loads(path.read_text(encoding="utf-8"))
    tolerance = float(raw.get("tolerance", DEFAULT_TOLERANCE))
    section = raw.get("metrics", {}) if split == "all" else raw.get("splits", {}).get(split, {})
    metrics = {}
    for name, entry in section.items():
        if isinstance(entry, dict):
            metrics[name] = BaselineMetric(float(entry["value"]), entry.get("direction", "higher"),
                                           float(entry.get("tolerance", tolerance)), bool(entry.get("relative", False)))
        else:  # a plain number: higher is better, the file's tolerance
            metrics[name] = BaselineMetric(float(entry), "higher", tolerance)
    return metrics


def compare(metrics: dict[str, float], baseline: dict[str, BaselineMetric]) -> list[Regression]:
    """A metric that moved the wrong way beyond its tolerance (or went missing) is a regression."""
    return [Regression(name, expected, metrics.get(name)) for name, expected in baseline.items()
            if name not in REPORT_ONLY and expected.regressed(metrics.get(name))]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4f}"


def write_report(run: EvalRun, suite: Suite) -> None:
    run.out_dir.mkdir(parents=True, exist_ok=True)
    with (run.out_dir / "results.jsonl").open("w", encoding="utf-8") as handle:
        for result in run.results:
            handle.write(json.dumps(asdict(result), ensure_ascii=False, default=str) + "\n")
    base = run.baseline_metrics
    lines = [f"# Eval report: {run.agent}", "",
             f"- run: {run.out_dir.name}, split {run.split}, {len(run.results)} cases, wall time {run.wall_s:.1f}s",
             f"- settings: {json.dumps(suite.settings, ensure_ascii=False)}", "",
             "| metric | better | value | trivial baseline | committed baseline | Δ baseline |",
             "|---|---|---:|---:|---:|---:|"]
    for name, value in sorted(run.metrics.items()):
        committed = base.get(name)
        delta = f"{value - committed.value:+.4f}" if committed else "–"
        lines.append(f"| {name} | {run.directions.get(name, 'higher')} | {value:.4f} | "
                     f"{_fmt(run.trivial.get(name))} | {_fmt(committed.value if committed else None)} | {delta} |")
    if len(run.by_split) > 1:
        names = sorted(next(iter(run.by_split.values())))
        splits = list(run.by_split)
        lines += ["", "## By split (holdout cases were not looked at while tuning; trivial baselines fitted on each "
                  "split)", "", "| metric | " + " | ".join(f"{s} | {s} trivial" for s in splits) + " |",
                  "|---|" + "---:|" * 2 * len(splits)]
        lines += [f"| {n} | " + " | ".join(f"{_fmt(run.by_split[s].get(n))} | "
                                           f"{_fmt(run.trivial_by_split.get(s, {}).get(n))}" for s in splits) + " |"
                  for n in names]
    lines += ["", "## Regressions", ""]
    lines += [f"- **{r.metric}**: {r}" for r in run.regressions] or ["none"]
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


def _metrics(suite: Suite, results: list[CaseResult]) -> dict[str, float]:
    metrics = suite.aggregate(results)
    metrics["pass_rate"] = round(sum(r.passed for r in results) / len(results), 4) if results else 0.0
    if any(r.tokens for r in results):
        metrics.update(cost_metrics(results))
    return metrics


def run_eval(agent: str, suite: Suite, out_root: Path, *, concurrency: int = 2,
             on_case: Callable[[CaseResult], None] | None = None, cases: list[Case] | None = None,
             baseline_dir: Path = BASELINE_DIR, split: str = "all", compare_baseline: bool = True) -> EvalRun:
    """Run the cases; only a measurement over all cases is compared with the committed baseline."""
    cases = cases if cases is not None else suite.cases()
    started = time.perf_counter()
    results = run_cases(suite, cases, concurrency=concurrency, on_case=on_case)
    metrics = _metrics(suite, results)
    trivial = suite.trivial(results)
    splits = sorted({r.split for r in results})
    by_split = {name: _metrics(suite, [r for r in results if r.split == name]) for name in splits} \
        if len(splits) > 1 else {}
    trivial_by_split = {name: suite.trivial([r for r in results if r.split == name]) for name in by_split}
    baseline = load_baseline(agent, baseline_dir, split) if compare_baseline else {}
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    run = EvalRun(agent, split, metrics, trivial, by_split, results, compare(metrics, baseline),
                  out_root / f"{stamp}-{agent}", round(time.perf_counter() - started, 2), baseline,
                  directions_for(metrics, suite), trivial_by_split)
    write_report(run, suite)
    return run


def _entries(metrics: dict[str, float], directions: dict[str, Direction]) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = {}
    for name, value in sorted(metrics.items()):
        entry: dict[str, Any] = {"value": value, "direction": "lower" if name.startswith("cost.")
                                 else directions.get(name, "higher")}
        if name in REPORT_ONLY:
            entry.update(gate=False)
        elif name.startswith("cost."):
            entry.update(tolerance=COST_TOLERANCE, relative=True)
        entries[name] = entry
    return entries


def write_baseline(run: EvalRun, baseline_dir: Path = BASELINE_DIR) -> Path:
    """A run over all cases as the committed baseline: its metrics and each split's, with directions and
    tolerances (so a later run of one split, e.g. the holdout in CI, has something to compare with)."""
    if run.split != "all":
        raise ValueError("only a run over all cases can become the baseline")
    baseline_dir.mkdir(parents=True, exist_ok=True)
    body: dict[str, Any] = {"tolerance": DEFAULT_TOLERANCE, "metrics": _entries(run.metrics, run.directions)}
    if run.by_split:
        body["splits"] = {name: _entries(metrics, run.directions) for name, metrics in run.by_split.items()}
    path = baseline_dir / f"{run.agent}.json"
    path.write_text(json.dumps(body, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
