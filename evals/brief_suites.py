"""The account brief eval: demo data (seed 7, 20 accounts, as of 2026-11-26), each case one account and one
reader language, scored on the facts a brief must state and must not, numeric faithfulness and citations.

What a brief must state comes from the data, never from the agent: the situations the demo generator plants
(``core.crm.demo.PLANTED``: a call-off rate in breach, an OTIF breach, an exposure over the limit, a dunning
level 2 invoice, an escalation open 20 days, a pending NDA) and plain SQL over the demo tables
(:func:`derive_expected`: the next meeting, the newest interactions, open escalations and opportunities).
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from evals.suites import EVAL_AS_OF, Case, CaseResult, DemoAgentSuite, mean

BRIEF_ACCOUNTS = 20
# The planted situation → the rule a brief must name as a risk (the generator's own words in PLANTED).
PLANTED_RISKS = {"A-00001": "kpi:call_off_rate", "A-00002": "kpi:otif", "A-00003": "kpi:credit_utilisation",
                 "A-00004": "kpi:receivables", "A-00005": "kpi:escalations_open_days", "A-00006": "kpi:nda_status"}


def derive_expected(session: Session, account_id: str) -> dict[str, Any]:
    """What the brief must cite and must not, from plain SQL over the demo tables (not the agent's code)."""
    as_of = EVAL_AS_OF.isoformat()
    meeting = session.execute(text("SELECT id FROM meetings WHERE account_id = :a AND planned_date >= :d "
                                   "ORDER BY planned_date LIMIT 1"), {"a": account_id, "d": as_of}).scalar()
    newest = session.execute(text("SELECT id FROM interactions WHERE account_id = :a AND interaction_date <= :d "
                                  "ORDER BY interaction_date DESC, id DESC LIMIT 3"),
                             {"a": account_id, "d": as_of}).scalars().all()
    escalations = session.execute(text("SELECT id FROM escalations WHERE account_id = :a AND opened_on <= :d AND "
                                       "(closed_on IS NULL OR closed_on > :d)"),
                                  {"a": account_id, "d": as_of}).scalars().all()
    opportunities = session.execute(text("SELECT id FROM opportunities WHERE account_id = :a AND status IN "
                                         "('identified', 'qualified') AND identified_on <= :d"),
                                    {"a": account_id, "d": as_of}).scalars().all()
    others = session.execute(text("SELECT id FROM accounts WHERE id <> :a ORDER BY id LIMIT 3"),
                             {"a": account_id}).scalars().all()
    return {
        "must_cite": sorted({*(f"meeting:{meeting}",) * bool(meeting), *(f"interaction:{i}" for i in newest),
                             *(f"escalation:{e}" for e in escalations), *(f"opportunity:{o}" for o in opportunities)}),
        "risk_cites": [PLANTED_RISKS[account_id]] if account_id in PLANTED_RISKS else [],
        "must_not_cite": ([] if escalations else ["escalation:"]) + [f"{kind}:{o}" for o in others
                                                                     for kind in ("interaction", "meeting")],
        "must_not_text": list(others),
    }


class AccountBriefSuite(DemoAgentSuite):
    name = "account_brief"
    accounts = BRIEF_ACCOUNTS
    stored = ("Brief",)
    directions: ClassVar[dict[str, str]] = {"must_not_violations": "lower", "prose.fallback": "lower"}

    def run_case(self, case: Case) -> CaseResult:
        from agents.account_brief import service
        from core.access import Principal
        from core.verify import find_numbers, verify_citations, verify_numbers

        with self._lock:
            brief = service.run_one(self.work, self.checkpointer, Principal.system("eval"), case.inputs["account_id"],
                                    brief_date=EVAL_AS_OF, language=case.inputs["language"], gateway=self.gateway,
                                    use_llm=self.gateway is not None)
        statements = brief.statements()
        cited = {c for s in statements for c in s.cites}
        shown = cited | {f"interaction:{i.id}" for i in brief.facts.interactions} | (
            {f"meeting:{brief.facts.next_meeting.id}"} if brief.facts.next_meeting else set())  # listed with ids
        risk_cited = {c for s in brief.risks for c in s.cites}
        body = " ".join(s.text for s in statements)
        expected = case.expected
        wanted = expected["must_cite"] + expected["risk_cites"]
        found = [c in shown for c in expected["must_cite"]] + [c in risk_cited for c in expected["risk_cites"]]
        violations = [x for x in expected["must_not_cite"] if any(c.startswith(x) for c in shown)]
        violations += [x for x in expected["must_not_text"] if x in body]
        figures = len(find_numbers(body))
        untraced = len(verify_numbers(body, brief.facts.as_facts()).failures)
        known = brief.facts.citable() | {c.cite for c in brief.clauses}
        bad_cites = len(verify_citations(sorted(cited), known).failures)
        metrics = {
            "fact_recall": mean([float(x) for x in found]) if wanted else 1.0,
            "must_not_violations": float(len(violations)),
            "numeric_faithfulness": 1.0 - untraced / figures if figures else 1.0,
            "citation_validity": 1.0 - bad_cites / len(cited) if cited else 1.0,
            "prose.llm": float(brief.prose_source == "llm"), "prose.fallback": float(brief.prose_source == "fallback"),
        }
        passed = metrics["fact_recall"] == 1.0 and not violations and untraced == 0 and bad_cites == 0
        return CaseResult(case.id, passed, metrics,
                          {"missing": [w for w, ok in zip(wanted, found, strict=True) if not ok],
                           "violations": violations,
                           "prose_source": brief.prose_source, "fallback_reason": brief.fallback_reason,
                           "summary": [s.text for s in brief.summary]},
                          expected, case.tags, tokens={"calls": int(bool(brief.prompt_tokens)),
                                                       "prompt": brief.prompt_tokens,
                                                       "completion": brief.completion_tokens})

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        results = [r for r in results if r.metrics]  # a crashed case is reported as failed, not scored
        out = {name: round(mean([r.metrics[name] for r in results]), 4)
               for name in ("fact_recall", "numeric_faithfulness", "citation_validity", "prose.llm", "prose.fallback")}
        out["must_not_violations"] = sum(r.metrics["must_not_violations"] for r in results)
        for language in ("de", "en"):
            subset = [r for r in results if r.tags.get("language") == language]
            if subset:
                out[f"fact_recall.{language}"] = round(mean([r.metrics["fact_recall"] for r in subset]), 4)
                out[f"prose.llm.{language}"] = round(mean([r.metrics["prose.llm"] for r in subset]), 4)
        return out

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """An empty brief: nothing stated, so nothing wrong and nothing found."""
        return {"fact_recall": 0.0, "numeric_faithfulness": 1.0, "citation_validity": 1.0,
                "must_not_violations": 0.0, "prose.llm": 0.0, "prose.fallback": 0.0}
