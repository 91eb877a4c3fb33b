"""The claim checker's eval: hand-written false and true sentences about fourteen demo accounts, each checked
against the accounts' sources as ``kam verify`` gathers them.

The sentences (``evals/golden/claims/cases.jsonl``) were written by people who never saw the checker, from the
numbered source lists and the KPI policy only. The sources are a snapshot (``world.json``, written by
``kam verify --sources --json`` over the demo data, seed 7, 20 accounts, as of 2026-11-26), so the score
measures the checker, not the rule modules: a later change of a rule does not silently turn a true sentence
false. The corpus came in three batches, each written after the one before had been used in tuning: the first
was split by a seeded hash of the id into ``dev`` and ``holdout-v1``; the second (``holdout-v2``) was measured
once unseen, then tuned on; the third (``holdout``, four accounts no earlier batch was about) stays unseen.
The report gives every part.

Metrics: ``false_rejected`` (of the sentences that must be rejected, the share rejected; higher is better) and
``true_rejected`` (of the true sentences, the share wrongly rejected; lower is better), overall, per language
and per category. Trivial baselines: accept everything (0 and 0) and reject everything (1 and 1).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

from core import claims
from evals.suites import GOLDEN_DIR, Case, CaseResult, load_cases, mean

WORLD_PATH = GOLDEN_DIR / "claims" / "world.json"
HOLDOUT_SEED = "claims-2026-12-07"  # recorded when the corpus was split, before any tuning on it
Checker = Callable[[str, claims.ClaimContext], claims.ClaimReport]


def holdout(case_id: str) -> bool:
    """A third of the cases, by a seeded hash of the id (stable, and independent of what the case says)."""
    return int(hashlib.sha256(f"{HOLDOUT_SEED}:{case_id}".encode()).hexdigest(), 16) % 3 == 0


class World:
    """The snapshot of sources per account and language, and the names the CRM knows."""

    def __init__(self, path: Path = WORLD_PATH) -> None:
        raw = json.loads(path.read_text(encoding="utf-8"))
        self.as_of = date.fromisoformat(raw["as_of"])
        self.known = [claims.KnownName(name, account) for name, account in raw["known"]]
        self.accounts: dict[str, dict[str, Any]] = raw["accounts"]

    def context(self, account_ids: list[str], language: str, *, marked: bool) -> claims.ClaimContext:
        sources: list[claims.Source] = []
        for account_id in account_ids:
            for raw in self.accounts[account_id]["sources"]:
                sources.append(claims.source_from_dict({**raw, "text": raw["text"][language]}))
        profiles = tuple(s.ref for s in sources if s.facts and s.facts[0].id == "as_of")
        return claims.ClaimContext(sources=sources, language=language, as_of=self.as_of,  # type: ignore[arg-type]
                                   marked=marked, always=profiles if len(account_ids) == 1 else (),
                                   default_account=account_ids[0] if len(account_ids) == 1 else None,
                                   account_names={a: tuple(self.accounts[a]["names"]) for a in account_ids},
                                   known=self.known)


class ClaimsSuite:
    name = "claims"
    directions: ClassVar[dict[str, str]] = {"true_rejected": "lower"}

    def __init__(self, work_dir: Path | None = None, *, checker: Checker | None = None,
                 world: World | None = None) -> None:
        self.world = world or World()
        self.checker = checker or claims.check_text
        self.settings = {"world": f"{WORLD_PATH.name}, as of {self.world.as_of}", "holdout_seed": HOLDOUT_SEED}

    def cases(self) -> list[Case]:
        return load_cases(self.name)

    def run_case(self, case: Case) -> CaseResult:
        text = case.inputs["text"]
        marked = bool(claims.MARKER.search(text))
        context = self.world.context(case.inputs["accounts"], case.inputs["language"], marked=marked)
        report = self.checker(text, context)
        rejected = not report.accepted
        must_reject = case.expected["verdict"] == "reject"
        metrics = {"false_rejected" if must_reject else "true_rejected": float(rejected)}
        return CaseResult(case.id, rejected == must_reject, metrics,
                          {"rejected": rejected, "sentences": [s.as_dict() for s in report.sentences]},
                          case.expected, case.tags)

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        out: dict[str, float] = {}
        groups: dict[str, list[CaseResult]] = {"": results}
        for r in results:
            groups.setdefault(f".{r.tags.get('language')}", []).append(r)
            groups.setdefault(f".{r.tags.get('category')}", []).append(r)
        for suffix, members in groups.items():
            for metric in ("false_rejected", "true_rejected"):
                values = [r.metrics[metric] for r in members if metric in r.metrics]
                if values and (not suffix or suffix.count(".") == 1):
                    out[f"{metric}{suffix}"] = round(mean(values), 4)
        out["cases.false"] = float(sum("false_rejected" in r.metrics for r in results))
        out["cases.true"] = float(sum("true_rejected" in r.metrics for r in results))
        return out

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """Accept everything: no false sentence is caught (false_rejected 0, true_rejected 0). The other
        trivial checker, reject everything, scores 1 and 1; the report names both."""
        return {"false_rejected": 0.0, "true_rejected": 0.0}

    def close(self) -> None:
        return None
