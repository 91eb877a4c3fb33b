"""The account brief eval: demo data (seed 7, 20 accounts, as of 2026-11-26), each case one account and one
reader language, scored on what the brief's text says and must not, numeric faithfulness and citations.

Every metric is computed here, from the data, without the agent's own code: what a brief must say comes from
the situations the demo generator plants (``core.crm.demo.PLANTED``) and plain SQL over the demo tables
(:func:`derive_expected`: the next meeting's date, the open escalations, the open opportunities); figures are
read by this module's own parser and compared with the values the brief was given; a citation is valid when
plain SQL (or the KPI policy file read as YAML) finds what it names for this account. None of it calls the
agent's claim checker, so a checker that lets a wrong figure through is caught here.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any, ClassVar

import yaml
from sqlalchemy import text
from sqlalchemy.orm import Session

from evals.suites import EVAL_AS_OF, Case, CaseResult, DemoAgentSuite, mean

BRIEF_ACCOUNTS = 20
# The planted situation → the rule a brief must name as a risk (the generator's own words in PLANTED).
PLANTED_RISKS = {"A-00001": "call_off_rate", "A-00002": "otif", "A-00003": "credit_utilisation",
                 "A-00004": "receivables", "A-00005": "escalations_open_days", "A-00006": "nda_status"}
# How a text names each planted rule, written for this eval (not the agent's labels).
RISK_NAMES = {"call_off_rate": ("abrufquote", "call-off rate"), "otif": ("otif", "liefertreue"),
              "credit_utilisation": ("kreditlimit", "credit utilisation", "credit limit", "auslastung"),
              "receivables": ("forderungen", "receivables"), "escalations_open_days": ("eskalation", "escalation"),
              "nda_status": ("nda",)}
KPI_POLICY = Path(__file__).resolve().parents[1] / "policies" / "files" / "kpis.yaml"
# rules judged besides the KPI file's (credit, margins, receivables, NDA)
OTHER_RULES = {"credit_utilisation", "account_margin", "receivables", "nda_status", "revenue_growth"}


def derive_expected(session: Session, account_id: str) -> dict[str, Any]:
    """What the brief must say and must not, from plain SQL over the demo tables (not the agent's code)."""
    as_of = EVAL_AS_OF.isoformat()
    meeting = session.execute(text("SELECT planned_date FROM meetings WHERE account_id = :a AND planned_date >= :d "
                                   "ORDER BY planned_date LIMIT 1"), {"a": account_id, "d": as_of}).scalar()
    escalations = session.execute(text("SELECT id FROM escalations WHERE account_id = :a AND opened_on <= :d AND "
                                       "(closed_on IS NULL OR closed_on > :d)"),
                                  {"a": account_id, "d": as_of}).scalars().all()
    opportunities = session.execute(text("SELECT title FROM opportunities WHERE account_id = :a AND status IN "
                                         "('identified', 'qualified') AND identified_on <= :d ORDER BY title"),
                                    {"a": account_id, "d": as_of}).scalars().all()
    others = session.execute(text("SELECT id FROM accounts WHERE id <> :a ORDER BY id LIMIT 3"),
                             {"a": account_id}).scalars().all()
    return {
        "meeting_date": str(meeting)[:10] if meeting else None,
        "escalations": sorted(escalations), "opportunities": sorted(set(opportunities)),
        "risk_rule": PLANTED_RISKS.get(account_id),
        "must_not_cite": ([] if escalations else ["escalation:"]) + [f"{kind}:{o}" for o in others
                                                                     for kind in ("interaction", "meeting")],
        "must_not_text": list(others),
    }


# --- this eval's own reading of figures and dates (not core.verify) ------------------------------------------
DATES = (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
         re.compile(r"\b(\d{1,2})\.? ([A-Za-zä]{3,9})\.? (\d{4})\b"))
MONTHS = {m: n for n, names in enumerate(("jan", "feb", "mar mär", "apr", "may mai", "jun", "jul", "aug", "sep",
                                          "oct okt", "nov", "dec dez"), start=1) for m in names.split()}
IDS = re.compile(r"\b[A-Z]-\d{5}(?:-[A-Z0-9]+)*\b|\b\d{3}\.\d{4}-\d{2}\b|§\s*\d+")


def written_dates(body: str) -> list[date]:
    found = []
    for pattern in DATES:
        for m in pattern.finditer(body):
            try:
                if pattern is DATES[0]:
                    found.append(date(int(m[3]), int(m[2]), int(m[1])))
                elif pattern is DATES[1]:
                    found.append(date(int(m[1]), int(m[2]), int(m[3])))
                elif m[2][:3].lower() in MONTHS:
                    found.append(date(int(m[3]), MONTHS[m[2][:3].lower()], int(m[1])))
            except ValueError:
                continue
    return found


def written_figures(body: str) -> list[list[tuple[float, int]]]:
    """Every figure written in ``body`` (not part of a date or an id), each with its possible readings as
    (value, decimals): "1.887" is 1887 in German and 1.887 in English, so both are kept."""
    for pattern in (*DATES, IDS):
        body = pattern.sub(" ", body)
    out = []
    for match in re.finditer(r"(?<![\w.,/-])[-−]?\d[\d.,]*(?<![.,])(?![\w/-])", body):
        raw = match.group(0).replace("−", "-")
        readings = []
        for decimal, group in ((",", "."), (".", ",")):
            if raw.count(decimal) > 1:
                continue
            whole, _, fraction = raw.partition(decimal)
            grouped = re.fullmatch(rf"-?\d{{1,3}}(?:\{group}\d{{3}})+", whole)
            if (fraction and not fraction.isdigit()) or (group in whole and not grouped):
                continue
            readings.append((float(whole.replace(group, "") + (f".{fraction}" if fraction else "")), len(fraction)))
        out.append(readings)
    return [r for r in out if r]


def brief_values(facts: dict[str, Any]) -> list[float]:
    """Every figure the brief's facts hold, as it may be written (a fraction also as a percentage)."""
    values: list[float] = []

    def walk(node: Any) -> None:
        if isinstance(node, bool):
            return
        if isinstance(node, (int, float)):
            values.extend((float(node), float(node) * 100))
        elif isinstance(node, dict):
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            values.append(float(len(node)))  # "3 orders", "1 open escalation"
            for v in node:
                walk(v)
    walk(facts)
    for k in facts.get("kpis", []):  # "8.0 points below the target": a KPI's distance from its threshold
        if isinstance(k.get("value"), (int, float)) and isinstance(k.get("threshold"), (int, float)):
            gap = abs(float(k["value"]) - float(k["threshold"]))
            values.extend((gap, gap * 100))
    statuses = [k.get("status") for k in facts.get("kpis", [])]
    values += [float(statuses.count(status)) for status in set(statuses)]  # "2 rule breaches, 1 warning"
    return values


def numeric_faithfulness(body: str, facts: dict[str, Any]) -> float:
    """The share of the written figures that are a value of the facts at the precision written."""
    written = written_figures(body)
    values = brief_values(facts)
    if not written:
        return 1.0

    def matches(x: float, decimals: int) -> bool:
        return any(abs(round(abs(v), decimals) - abs(x)) < 10 ** -(decimals + 3) for v in values)
    return sum(any(matches(x, d) for x, d in readings) for readings in written) / len(written)


def citation_validity(session: Session, account_id: str, cited: list[str], clauses: set[str]) -> float:
    """The share of cited ids that plain SQL finds for this account (a KPI by the policy files' rules)."""
    if not cited:
        return 1.0
    rules = set(yaml.safe_load(KPI_POLICY.read_text(encoding="utf-8"))) | OTHER_RULES
    tables = {"interaction": "interactions", "escalation": "escalations", "order": "orders",
              "opportunity": "opportunities", "meeting": "meetings", "contact": "contacts", "article": "articles"}
    valid = 0
    for cite in cited:
        kind, _, ref = cite.partition(":")
        if kind == "kpi":
            valid += ref in rules
        elif kind in tables:
            valid += bool(session.execute(text(f"SELECT 1 FROM {tables[kind]} WHERE id = :i AND account_id = :a"),
                                          {"i": ref, "a": account_id}).scalar())
        else:
            valid += cite in clauses  # a contract clause (chunk) the brief lists
    return valid / len(cited)


def fact_recall(body: str, expected: dict[str, Any]) -> tuple[float, list[str]]:
    """The share of what the brief must say that its text says: the next meeting's date, each open
    escalation, each open opportunity by title, and the planted risk by name."""
    lowered = body.lower()
    wanted: list[tuple[str, bool]] = []
    if expected.get("meeting_date"):
        wanted.append((f"meeting {expected['meeting_date']}",
                       date.fromisoformat(expected["meeting_date"]) in written_dates(body)))
    wanted += [(f"escalation {e}", e in body) for e in expected.get("escalations", [])]
    wanted += [(f"opportunity {t}", t.lower() in lowered) for t in expected.get("opportunities", [])]
    if rule := expected.get("risk_rule"):
        wanted.append((f"risk {rule}", any(n in lowered for n in RISK_NAMES[rule])))
    if not wanted:
        return 1.0, []
    return mean([float(ok) for _w, ok in wanted]), [w for w, ok in wanted if not ok]


class AccountBriefSuite(DemoAgentSuite):
    name = "account_brief"
    accounts = BRIEF_ACCOUNTS
    stored = ("Brief",)
    directions: ClassVar[dict[str, str]] = {"must_not_violations": "lower", "prose.fallback": "lower"}

    def run_case(self, case: Case) -> CaseResult:
        from agents.account_brief import service
        from core.access import Principal
        from core.db.session import session_scope

        with self._lock:
            brief = service.run_one(self.work, self.checkpointer, Principal.system("eval"), case.inputs["account_id"],
                                    brief_date=EVAL_AS_OF, language=case.inputs["language"], gateway=self.gateway,
                                    use_llm=self.gateway is not None)
        with session_scope(self.work.resolved_database_url) as session:
            metrics, details = score(brief.model_dump(mode="json"), case.expected, session)
        passed = (metrics["fact_recall"] == 1.0 and not metrics["must_not_violations"]
                  and metrics["numeric_faithfulness"] == 1.0 and metrics["citation_validity"] == 1.0)
        return CaseResult(case.id, passed, metrics,
                          {**details, "prose_source": brief.prose_source, "fallback_reason": brief.fallback_reason,
                           "summary": [s.text for s in brief.summary]},
                          case.expected, case.tags,
                          tokens={"calls": len(brief.check_record) or int(bool(brief.prompt_tokens)),
                                  "prompt": brief.prompt_tokens, "completion": brief.completion_tokens})

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


def score(brief: dict[str, Any], expected: dict[str, Any], session: Session) -> tuple[dict[str, float], dict[str, Any]]:
    """A brief (as JSON) against its expectations: the metrics and what was missing or wrong."""
    statements = [s for part in ("summary", "changes", "risks", "opportunities", "talking_points", "handover")
                  for s in brief.get(part, [])]
    body = " ".join(s["text"] for s in statements)
    cited = [c for s in statements for c in s.get("cites", [])]
    recall, missing = fact_recall(body, expected)
    violations = [x for x in expected["must_not_cite"] if any(c.startswith(x) for c in cited)]
    violations += [x for x in expected["must_not_text"] if x in body]
    clauses = {f"chunk:{c['chunk_id']}" for c in brief.get("clauses", [])}
    metrics = {"fact_recall": recall, "must_not_violations": float(len(violations)),
               "numeric_faithfulness": numeric_faithfulness(body, brief["facts"]),
               "citation_validity": citation_validity(session, brief["account_id"], cited, clauses),
               "prose.llm": float(brief["prose_source"] == "llm"),
               "prose.fallback": float(brief["prose_source"] == "fallback")}
    return metrics, {"missing": missing, "violations": violations}
