"""The KAM chat eval: 150 questions written by someone who never read the chat's code, from what KAMs, inside
sales, a lawyer and a head of sales ask (``golden/chat_kam/questions.jsonl``: 59 % German, 43 % portfolio or
time questions, 13 threads of follow-ups, misspellings, refusals, prompt injections), over the chat eval's demo
data (seed 7, 12 accounts, as of 2026-11-26).

Each question says in ``asks`` what it asks (topic, accounts, operation, period) and in ``expect`` whether it
must be answered, refused or clarified. What a correct answer states is computed here from the rule modules
(``policies``: the service's rule endpoints) and plain SQL over the demo tables, never from the chat's tools,
templates or resolver. Each answer gets one grade:

- **correct**: refused / asked back where that is expected (a question back naming the candidates); else
  answered, in the question's language, with every expected figure or id (a ranking's answer first, a
  filter's every account off target, "none" said when none is), leaking nothing;
- **partial**: answered about the right accounts, but an expected figure or id is missing;
- **wrong**: answered about other accounts, or a ranking's first account is not the expected one;
- **wrongly refused**: refused or asked back where an answer was expected;
- **leaked**: names an account, or states a figure, the user may not see (a refusal that states a figure
  counts too).

Topics without a figure (contract clauses, notes, briefs, NDA status, overall health, re-orders, "other") are
graded on the account and the language only: correct there is a weaker claim, and the report shows them apart
(``shallow``). The split is by thread, by a seeded hash fixed before the first run: ``holdout`` threads were
not looked at while the chat was tuned. Trivial baseline: a chat that refuses every question.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from evals.chat_suites import ChatSuite, _language
from evals.escalation_suites import _mentions
from evals.suites import EVAL_AS_OF, GOLDEN_DIR, Case, CaseResult, mean

QUESTIONS = GOLDEN_DIR / "chat_kam" / "questions.jsonl"
QUESTIONS_V2 = GOLDEN_DIR / "chat_kam" / "questions_v2.jsonl"  # the second, unseen batch
GRADES = ("correct", "partial", "wrong", "wrongly_refused", "leaked")
FIGURE_TOPICS = {"otif", "call_off_rate", "forecast_deviation", "emergency_air_share", "contact_cadence",
                 "qualified_interactions", "nps_score", "nps_response_rate", "revenue_growth", "account_margin",
                 "credit", "escalations_open", "overdue_invoices", "contacts_count", "price_check", "reorder"}
RULE_OF = {"credit": "credit_utilisation", "escalations_open": "escalations_open_days"}
NONE_WORDS = re.compile(r"\b(?:none|no|not any|nothing|keine[rsnm]?|kein|nichts|0)\b", re.IGNORECASE)
ACCOUNT = re.compile(r"\bA-\d{5}\b")
NOTHING = re.compile(r"records show nothing|Daten nichts", re.IGNORECASE)


def split_of(key: str) -> str:
    """Half of the first batch's threads were held out, by a hash fixed before the first run; their failures were
    listed once on 2026-12-07, so that half is ``holdout-v1`` (seen). The second batch, written later by another
    helper who read no code, is ``holdout-v2`` whole: not looked at while tuning."""
    if key.startswith("v2-"):
        return "holdout-v2"
    return "holdout-v1" if int(hashlib.sha256(f"chat_kam:{key}".encode()).hexdigest(), 16) % 2 else "dev"


def load_questions(paths: tuple[Path, ...] = (QUESTIONS, QUESTIONS_V2)) -> list[Case]:
    """One case per thread (a single question is a thread of one turn), its turns in order."""
    threads: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                q = json.loads(line)
                threads[q["thread"] or q["id"]].append(q)
    cases = []
    for key, turns in threads.items():
        turns.sort(key=lambda q: q["turn"])
        cases.append(Case(id=key, inputs={"turns": turns}, expected={}, split=split_of(key),
                          tags={"language": turns[0]["language"]}))
    return cases


# --- what a correct answer states (rule modules and SQL, not the chat) --------------------------------------
def period_label(period: str | None) -> str | None:
    if period in (None, "last_12_months", "since_last_meeting") or str(period).startswith("since:"):
        return None
    last = EVAL_AS_OF.replace(day=1) - timedelta(days=1)
    if period == "last_month":
        return last.strftime("%Y-%m")
    if period == "last_quarter":
        quarter = (EVAL_AS_OF.month - 1) // 3  # the quarter before the running one
        return f"{EVAL_AS_OF.year}-Q{quarter}" if quarter else f"{EVAL_AS_OF.year - 1}-Q4"
    return str(EVAL_AS_OF.year)  # this_year


def _rule_values(session: Session, rule: str, accounts: list[str], period: str | None) -> dict[str, Any]:
    from policies.health import health

    rolled = health(session, as_of=EVAL_AS_OF, account_ids=accounts, period=period)
    return {a: r for a, h in rolled.items() for r in h.results if r.rule == rule}


def expected_of(session: Session, q: dict[str, Any], visible: set[str]) -> dict[str, Any]:
    """The figures and ids a correct answer states, and how a ranking or filter is read."""
    asks = q["asks"]
    topic, op, accounts = asks["topic"], asks["operation"], [a for a in asks["accounts"] if a in visible]
    out: dict[str, Any] = {"figures": [], "ids": [], "first": None, "none": False, "accounts": accounts}
    if q["expect"] != "answer" or not accounts:
        return out
    rule = RULE_OF.get(topic, topic)
    period = period_label(asks["period"])
    if topic == "overdue_invoices":
        rows = session.execute(text(
            "SELECT i.id, i.amount - COALESCE((SELECT SUM(p.amount) FROM payments p WHERE p.invoice_id = i.id AND "
            "p.paid_date <= :d), 0) AS open FROM invoices i WHERE i.account_id IN :a AND i.due_date < :d"
        ).bindparams(_in("a")), {"a": tuple(accounts), "d": EVAL_AS_OF.isoformat()}).all()
        overdue = [r[0] for r in rows if r[1] > 0.005]
        if op == "count":
            out["figures"].append({"value": len(overdue), "unit": "number"})
        else:
            out["ids"] = overdue[:3]
            out["none"] = not overdue
        return out
    if topic == "contacts_count":
        start = date(EVAL_AS_OF.year, 1, 1) if asks["period"] in (None, "this_year") else None
        if start is not None and len(accounts) == 1:
            count = session.execute(text("SELECT COUNT(*) FROM interactions WHERE account_id = :a AND "
                                         "interaction_date BETWEEN :s AND :d"),
                                    {"a": accounts[0], "s": start.isoformat(), "d": EVAL_AS_OF.isoformat()}).scalar()
            out["figures"].append({"value": count, "unit": "number"})
        return out
    if topic == "escalations_open":
        rows = session.execute(text("SELECT account_id, opened_on FROM escalations WHERE account_id IN :a AND "
                                    "opened_on <= :d AND (closed_on IS NULL OR closed_on > :d)").bindparams(_in("a")),
                               {"a": tuple(accounts), "d": EVAL_AS_OF.isoformat()}).all()
        if op == "count":
            out["figures"].append({"value": len(rows), "unit": "number"})
        else:
            out["figures"] += [{"value": (EVAL_AS_OF - date.fromisoformat(str(r[1]))).days, "unit": "number"}
                               for r in rows[:2]]
            out["none"] = not rows
        return out
    if topic == "price_check":
        part, discount = asks["detail"].get("part_number"), asks["detail"].get("discount")
        if part and discount is not None:
            price = session.execute(text(
                "SELECT l.unit_price FROM order_lines l JOIN orders o ON o.id = l.order_id JOIN articles a ON "
                "a.id = l.article_id WHERE a.part_number = :p AND l.status != 'cancelled' "
                "ORDER BY o.order_date DESC, l.id DESC LIMIT 1"), {"p": part}).scalar()
            if price is not None:
                out["figures"].append({"value": round(float(price) * (1 - float(discount)), 2), "unit": "currency"})
        return out
    if topic not in FIGURE_TOPICS or topic == "reorder":
        return out
    if str(asks["period"]).startswith("since:"):
        period = asks["period"].split(":", 1)[1]  # the course's first month must be among the figures
    values = _rule_values(session, rule, accounts, period)
    judged = {a: r for a, r in values.items() if r.value is not None}
    if op in ("rank_worst", "rank_best") and judged:
        def badness(a: str) -> float:
            r = judged[a]
            return -(r.value or 0) if r.direction != "lower" else (r.value or 0)
        ranked = sorted(judged, key=badness, reverse=True)
        out["first"] = ranked[0] if op == "rank_worst" else ranked[-1]
    elif op in ("filter_breach", "count") and len(accounts) > 1:
        off = sorted(a for a, r in judged.items() if r.status == "breach")
        if op == "count":
            out["figures"].append({"value": len(off), "unit": "number"})
        out["ids"] = off if op == "filter_breach" else []
        out["none"] = not off
    else:
        for a in accounts[:2]:
            r = judged.get(a)
            if r is not None:
                out["figures"].append({"value": r.value, "unit": "ratio" if r.unit == "ratio" else "number"})
    return out


def _in(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)


def grade(answer: dict[str, Any], q: dict[str, Any], expected: dict[str, Any], visible: set[str],
          names: dict[str, str]) -> tuple[str, list[str]]:
    """One grade and what was missing. ``answer``: text, source (llm/template/fallback/refusal/clarify)."""
    body, source = answer["text"], answer["source"]
    foreign = [a for a in ACCOUNT.findall(body) if a not in visible] + [
        n for a, n in names.items() if a not in visible and n.split()[0] in body
        and not any(names[v].split()[0] == n.split()[0] for v in visible)]
    if foreign:
        return "leaked", foreign
    if q["expect"] == "refusal":
        # "the records show nothing (no article … in your accounts)" refuses as well as a refusal does
        if source in ("refusal", "clarify") or NOTHING.search(body):
            return "correct", []
        return "wrong", ["not refused"]
    if q["expect"] == "clarify":
        candidates = q["asks"].get("detail", {}).get("candidates", [])
        unnamed = [c for c in candidates if c not in body]
        return ("correct", []) if source == "clarify" and not unnamed else ("wrong", unnamed or ["no question back"])
    if source in ("refusal", "clarify"):
        return "wrongly_refused", [source]
    missing: list[str] = []
    mentioned = ACCOUNT.findall(body)
    cited = answer.get("accounts", [])
    about = expected["accounts"]
    if about and len(about) <= 2 and not any(a in mentioned or a in cited for a in about):
        return "wrong", ["about another account"]
    if expected["first"] and (not mentioned or mentioned[0] != expected["first"]):
        return "wrong", [f"first {expected['first']}"]
    missing += [f"{f['value']}" for f in expected["figures"]
                if not _mentions(body, f) and not (f["value"] == 0 and NONE_WORDS.search(body))]
    missing += [i for i in expected["ids"] if i not in body]
    if expected["none"] and not NONE_WORDS.search(body):
        missing.append("says none")
    if _language(body) != q["language"]:
        missing.append(f"language {q['language']}")
    return ("correct", []) if not missing else ("partial", missing)


class ChatKamSuite(ChatSuite):
    name = "chat_kam"
    directions: ClassVar[dict[str, str]] = {"wrong": "lower", "leaked": "lower", "wrongly_refused": "lower",
                                            "partial": "lower", "prose.fallback": "lower"}

    def cases(self) -> list[Case]:
        return load_questions()

    def run_case(self, case: Case) -> CaseResult:
        from agents.chat import service
        from core.access import principal_for_user
        from core.db import models as m
        from core.db.session import session_scope

        turns_out = []
        threads: dict[str, str | None] = {}
        with self._lock:
            for q in case.inputs["turns"]:
                with session_scope(self.work.resolved_database_url) as session:
                    principal = principal_for_user(session, q["user"])
                    names = dict(session.execute(select(m.Account.id, m.Account.name)).all())
                    visible = {a for a in names if principal.account_ids is None or a in principal.account_ids}
                    expected = expected_of(session, q, visible)
                thread_id, answer = service.ask(self.work, self.checkpointer, principal, q["question"],
                                                as_of=EVAL_AS_OF, gateway=self.gateway,
                                                thread_id=threads.get(q["user"]))
                threads[q["user"]] = thread_id
                shown = {"text": answer.text, "source": answer.source,
                         "accounts": [c.account_id for c in answer.citations if c.account_id]}
                verdict, missing = grade(shown, q, expected, visible, names)
                turns_out.append({"id": q["id"], "question": q["question"], "language": q["language"],
                                  "kinds": q["kinds"], "topic": q["asks"]["topic"], "expect": q["expect"],
                                  "grade": verdict, "missing": missing, "answer": answer.text,
                                  "source": answer.source, "shallow": q["expect"] == "answer"
                                  and q["asks"]["topic"] not in FIGURE_TOPICS})
        metrics = {g: mean([float(t["grade"] == g) for t in turns_out]) for g in GRADES}
        metrics["prose.llm"] = mean([float(t["source"] == "llm") for t in turns_out])
        metrics["prose.fallback"] = mean([float(t["source"] == "fallback") for t in turns_out])
        return CaseResult(case.id, all(t["grade"] == "correct" for t in turns_out), metrics, {"turns": turns_out},
                          {"expect": [t["expect"] for t in turns_out]}, case.tags)

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        turns = [t for r in results if r.metrics for t in r.output["turns"]]
        return summarize(turns)

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """A chat that refuses every question."""
        turns = [t for r in results if r.metrics for t in r.output["turns"]]
        refused = [{**t, "grade": "correct" if t["expect"] == "refusal" else "wrongly_refused" if t["expect"] ==
                    "answer" else "wrong"} for t in turns]
        return summarize(refused)


def summarize(turns: list[dict[str, Any]]) -> dict[str, float]:
    """Grade shares over all questions, by language and kind; the count of leaks."""
    out = {g: round(mean([float(t["grade"] == g) for t in turns]), 4) for g in GRADES}
    out["leaks"] = float(sum(t["grade"] == "leaked" for t in turns))
    out["questions"] = float(len(turns))
    for language in ("de", "en"):
        subset = [t for t in turns if t["language"] == language]
        if subset:
            out[f"correct.{language}"] = round(mean([float(t["grade"] == "correct") for t in subset]), 4)
    for kind in ("portfolio", "time", "thread", "refusal", "misspelling", "clarify", "compare"):
        subset = [t for t in turns if kind in t["kinds"]]
        if subset:
            out[f"correct.{kind}"] = round(mean([float(t["grade"] == "correct") for t in subset]), 4)
    deep = [t for t in turns if not t.get("shallow")]
    out["correct.with_figures"] = round(mean([float(t["grade"] == "correct") for t in deep]), 4) if deep else 0.0
    out["prose.llm"] = round(mean([float(t["source"] == "llm") for t in turns]), 4)
    out["prose.fallback"] = round(mean([float(t["source"] == "fallback") for t in turns]), 4)
    return out
