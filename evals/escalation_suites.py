"""The escalation drafter eval: demo data (seed 7, 20 accounts, as of 2026-11-26), each case one trigger and
one audience, scored on a written rubric:

- **required facts**: the figures and references a reader needs, derived by plain SQL over the demo tables
  (:func:`derive_expected`), never by the rule modules or the drafter;
- **internal facts**: a customer mail names no credit limit, insured limit, exposure, insurer decision, margin
  or dunning level, as a figure or a word (goal 0);
- **language and register**: the recipient's language (the eval's own word lists, not the drafter's check),
  formal address in German ("Sie", no "du"), a formal greeting and sign-off, no placeholder left;
- **next step**: a concrete date within three weeks of the as-of date;
- **numeric faithfulness**: every figure traces to a value from :func:`derive_expected`, the policy thresholds
  or a date in the mail's proposals;
- **recipient**: a contact of the account (customer mails), the tandem partner or the Head of Sales (internal).

Grammar is not scored by code: the model's sentences are in each case's output for a person to rate (the
README reports that rating). The trivial baseline is a mail with a greeting and a sign-off only.
"""

from __future__ import annotations

import math
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import text
from sqlalchemy.orm import Session

from core.settings import Settings
from evals.suites import EVAL_AS_OF, Case, CaseResult, DemoAgentSuite, EvalAborted, mean

ESCALATION_ACCOUNTS = 20
NEXT_STEP_DAYS = 21
# Words a customer must not read (the eval's own list): limits, insurance, margins, internal dunning stages.
INTERNAL_WORDS = re.compile(r"kreditlimit|credit limit|limit|versicher|insur|hermes|marge|margin|deckungsbeitrag|"
                            r"mahnstufe|dunning level|obligo|exposure|utilisation|auslastung", re.IGNORECASE)
GERMAN_WORDS = frozenset("und der die das ist nicht wir ich sie ihnen ihr ihre mit für bei von zu den dem auf "
                         "gern bitte können möchte einen eine noch wann".split())
ENGLISH_WORDS = frozenset("and the is not we i you your with for at of to on please would could our this "
                          "that which when".split())
INFORMAL = re.compile(r"\b(?:du|dich|dir|dein\w*|euch|euer|eure\w*|hallo|hi|hey|cheers|lg)\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{[^}]*\}|<[^>@]*>|\bXX+\b|\bTODO\b|\.\.\.")
GREETINGS = {"de": re.compile(r"^(?:Sehr geehrte[r]? |Guten Tag )"), "en": re.compile(r"^(?:Dear )")}
SIGN_OFFS = {"de": re.compile(r"Mit freundlichen Grüßen|Freundliche Grüße|Beste Grüße"),
             "en": re.compile(r"Kind regards|Best regards|Yours sincerely|Sincerely")}


# The targets as the role description states them and the re-order parameters as the policy file documents
# them (written here, not read from the rule modules under test).
ROLE_POLICY = {"call_off_rate": 0.70, "otif": 0.98, "otif_tolerance_days": 1, "otif_in_full": 0.02,
               "escalation_days": 14.0, "demand_weeks": 12, "horizon_weeks": 8.0}
# The cases: a trigger of the demo data (every kind, DE and EN contacts), the audience, the split (chosen
# before the first run; holdout cases are not looked at while prompts are tuned).
CASE_TRIGGERS = [
    ("call_off_rate:A-00001:R12", "customer", "dev"), ("call_off_rate:A-00001:R12", "internal", "holdout"),
    ("otif:A-00002:2026-10", "customer", "dev"), ("otif:A-00009:2026-10", "customer", "holdout"),
    ("otif:A-00002:2026-10", "internal", "dev"), ("credit_limit:A-00003:2026-11-26", "internal", "dev"),
    ("escalation_overdue:A-00005:2026-11-06", "internal", "holdout"),
    ("dunning:A-00004:A-00004-I2026-08:2", "customer", "dev"),
    ("dunning:A-00004:A-00004-I2026-08:2", "internal", "holdout"),
    ("reorder:A-00007:A-00007-P1:2026-11-26", "customer", "dev"),
    ("reorder:A-00002:A-00002-P4:2026-11-26", "customer", "dev"),
    ("reorder:A-00012:A-00012-P5:2026-11-26", "customer", "holdout"),
    ("reorder:A-00010:A-00010-P3:2026-11-26", "customer", "dev"),
    ("reorder:A-00018:A-00018-P4:2026-11-26", "customer", "holdout"),
    ("reorder:A-00014:A-00014-P1:2026-11-26", "internal", "dev"),
    ("reorder:A-00019:A-00019-P2:2026-11-26", "customer", "holdout"),
]


def write_cases(database_url: str, path: Path) -> None:
    """Derive the expectations of :data:`CASE_TRIGGERS` from a database of the eval's demo data."""
    import json

    from core.db.session import session_scope

    lines = []
    with session_scope(database_url) as session:
        for number, (key, audience, split) in enumerate(CASE_TRIGGERS, start=1):
            kind, account_id, *rest = key.split(":")
            subject = rest[0] if kind in ("dunning", "reorder") else account_id
            expected = derive_expected(session, kind, account_id, subject, audience, ROLE_POLICY)
            languages = set(expected["recipients"].values())
            lines.append(json.dumps({
                "id": f"esc-{number:02d}", "split": split, "inputs": {"trigger": key, "audience": audience},
                "expected": expected, "tags": {"kind": kind, "audience": audience,
                                               "language": languages.pop() if len(languages) == 1 else "mixed"}},
                ensure_ascii=False))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _complete_months(as_of: date, count: int = 12) -> list[str]:
    months, year, month = [], as_of.year, as_of.month
    for _ in range(count):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(f"{year:04d}-{month:02d}")
    return months


def _figure(name: str, value: float | str, unit: str) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit}


def derive_expected(session: Session, kind: str, account_id: str, subject: str, audience: str,
                    policy: dict[str, float]) -> dict[str, Any]:
    """What the mail about a trigger must state, to whom and in which language, from plain SQL over the demo
    tables; ``policy`` holds the targets and parameters as the role description and the policy file's
    documentation state them (call-off, OTIF and its tolerances, escalation days, re-order weeks)."""
    one = session.execute
    as_of = EVAL_AS_OF
    required: list[dict[str, Any]] = []
    allowed: list[dict[str, Any]] = []  # figures a mail may state but need not
    if kind == "call_off_rate":
        months = _complete_months(as_of)
        marks = ",".join(f"'{m}'" for m in months)
        planned = one(text(f"SELECT SUM(p.planned_qty) FROM call_off_plans p JOIN contracts c ON c.id = p.contract_id "
                           f"WHERE p.account_id = :a AND c.status = 'active' AND p.period IN ({marks})"),
                      {"a": account_id}).scalar() or 0
        called = one(text(f"SELECT SUM(qty) FROM call_offs WHERE account_id = :a AND period IN ({marks})"),
                     {"a": account_id}).scalar() or 0
        required = [_figure("call-off rate", called / planned, "ratio"),
                    _figure("target", policy["call_off_rate"], "ratio")]
    elif kind == "otif":
        first = date(as_of.year, as_of.month, 1) - timedelta(days=1)
        start, end = first.replace(day=1), first
        rows = one(text("SELECT actual_date, promised_date, actual_qty, promised_qty FROM deliveries "
                        "WHERE account_id = :a AND promised_date BETWEEN :s AND :e"),
                   {"a": account_id, "s": start.isoformat(), "e": end.isoformat()}).all()
        good = sum(1 for actual, promised, qty, promised_qty in rows
                   if actual is not None and (date.fromisoformat(str(actual)) - date.fromisoformat(str(promised))).days
                   <= policy["otif_tolerance_days"] and qty >= promised_qty * (1 - policy["otif_in_full"]))
        required = [_figure("OTIF", good / len(rows), "ratio"), _figure("target", policy["otif"], "ratio")]
    elif kind == "dunning":
        amount, due, currency = one(text("SELECT amount, due_date, currency FROM invoices WHERE id = :i"),
                                    {"i": subject}).one()
        paid = one(text("SELECT COALESCE(SUM(amount), 0) FROM payments WHERE invoice_id = :i AND paid_date <= :d"),
                   {"i": subject, "d": as_of.isoformat()}).scalar()
        required = [_figure("invoice", subject, "text"), _figure("open amount", round(amount - paid, 2), "currency"),
                    _figure("due date", str(due), "date"), _figure("currency", currency, "text")]
    elif kind == "escalation_overdue":
        opened = one(text("SELECT MIN(opened_on) FROM escalations WHERE account_id = :a AND opened_on <= :d AND "
                          "(closed_on IS NULL OR closed_on > :d)"), {"a": account_id, "d": as_of.isoformat()}).scalar()
        required = [_figure("opened on", str(opened), "date"),
                    _figure("days open", float((as_of - date.fromisoformat(str(opened))).days), "number"),
                    _figure("limit days", policy["escalation_days"], "number")]
    elif kind == "credit_limit":
        kam_limit, insured, decision = one(text("SELECT kam_credit_limit, insured_limit, insurer_decision "
                                                "FROM accounts WHERE id = :a"), {"a": account_id}).one()
        limit = min(kam_limit, insured) if decision in ("approved", "reduced") else 0.0
        billed = one(text("SELECT COALESCE(SUM(amount), 0) FROM invoices WHERE account_id = :a AND issue_date <= :d"),
                     {"a": account_id, "d": as_of.isoformat()}).scalar_one()
        paid = one(text("SELECT COALESCE(SUM(amount), 0) FROM payments WHERE account_id = :a AND paid_date <= :d"),
                   {"a": account_id, "d": as_of.isoformat()}).scalar_one()
        ordered = one(text("SELECT COALESCE(SUM(l.qty * l.unit_price), 0) FROM order_lines l JOIN orders o "
                           "ON o.id = l.order_id WHERE l.account_id = :a AND l.status = 'open' AND o.order_date <= :d"),
                      {"a": account_id, "d": as_of.isoformat()}).scalar_one()
        exposure = round(billed - paid + ordered, 2)
        required = [_figure("exposure", exposure, "currency"), _figure("effective limit", limit, "currency"),
                    _figure("insurer decision", decision, "text")]
        allowed = [_figure("utilisation", exposure / limit if limit else 0.0, "ratio"),
                   _figure("open receivables", round(billed - paid, 2), "currency"),
                   _figure("open orders", round(ordered, 2), "currency")]
    elif kind == "reorder":
        part, description, stock, lead = one(text("SELECT part_number, description, stock_on_hand, lead_time_weeks "
                                                  "FROM articles WHERE id = :i"), {"i": subject}).one()
        since = as_of - timedelta(weeks=int(policy["demand_weeks"])) + timedelta(days=1)
        called = one(text("SELECT COALESCE(SUM(qty), 0) FROM call_offs WHERE article_id = :i AND call_off_date "
                          "BETWEEN :s AND :d"),
                     {"i": subject, "s": since.isoformat(), "d": as_of.isoformat()}).scalar_one()
        per_week = called / policy["demand_weeks"]
        proposed = max(0, math.ceil(per_week * (lead + policy["horizon_weeks"]) - stock))
        required = [_figure("part number", part, "text"), _figure("description", description, "text"),
                    _figure("proposed quantity", float(proposed), "number")]
        allowed = [_figure("stock", float(stock), "number"), _figure("lead time weeks", float(lead), "number")]
        if per_week > 0 and stock > 0:
            allowed.append(_figure("coverage weeks", round(stock / per_week, 1), "number"))
    account = one(text("SELECT name, inside_sales_id, kam_credit_limit, insured_limit FROM accounts WHERE id = :a"),
                  {"a": account_id}).one()
    if audience == "customer":
        contacts = one(text("SELECT email, language FROM contacts WHERE account_id = :a AND is_relevant"),
                       {"a": account_id}).all()
        recipients = {c.email: c.language for c in contacts}
    else:
        users = one(text("SELECT email, language FROM users WHERE role = 'head_of_sales' OR id = :p"),
                    {"p": account.inside_sales_id}).all()
        recipients = {u.email: u.language for u in users}
    valid_from = one(text("SELECT valid_from FROM contracts WHERE account_id = :a AND contract_type = 'framework' "
                          "AND status = 'active'"), {"a": account_id}).scalar()
    forbidden = [] if audience == "internal" else [
        _figure("KAM credit limit", account.kam_credit_limit, "currency"),
        _figure("insured limit", account.insured_limit, "currency")]
    return {"required": required, "allowed": allowed, "recipients": recipients, "forbidden": forbidden,
            "contract_from": str(valid_from) if valid_from else None, "account_name": account.name}


CURRENCY_SIGNS = {"EUR": ("€",), "GBP": ("£",), "USD": ("$",), "CHF": ("CHF", "Fr.")}


def _mentions(body: str, figure: dict[str, Any]) -> bool:
    """Does the mail state the figure (a percentage within a tenth of a point, an amount to the cent)?"""
    from core.verify import find_dates, find_numbers

    value, unit = figure["value"], figure["unit"]
    if unit == "text":  # a currency may be written as its code or its sign
        return any(form in body for form in (str(value), *CURRENCY_SIGNS.get(str(value), ())))
    if unit == "date":
        return any(d == date.fromisoformat(value) for _t, _at, d in find_dates(body) if d is not None)
    readings = [r for n in find_numbers(body) for r, _places in n.readings
                if unit != "ratio" or n.marker == "percent"]
    target = value * 100 if unit == "ratio" else value
    tolerance = 0.051 if unit == "ratio" else 0.005 if unit == "currency" else 0.5
    return any(abs(r - target) <= tolerance for r in readings)


def _language(body: str) -> str:
    words = re.findall(r"[a-zäöüß]+", body.lower())
    german, english = sum(w in GERMAN_WORDS for w in words), sum(w in ENGLISH_WORDS for w in words)
    return "de" if german > english else "en"


def score(subject: str, body: str, recipient: str, expected: dict[str, Any]) -> dict[str, Any]:
    """The rubric over one mail: per-criterion results and the figures that did not trace."""
    from core.facts import Fact
    from core.verify import find_dates, verify_numbers

    text_all = f"{subject}\n{body}"
    language = expected["recipients"].get(recipient)
    found = [_mentions(text_all, f) for f in expected["required"]]
    leaked = [f["name"] for f in expected["forbidden"] if f["value"] and _mentions(text_all, f)]
    if expected["forbidden"] and (word := INTERNAL_WORDS.search(text_all)):
        leaked.append(word.group(0))
    opening = body.lstrip().splitlines()[0] if body.strip() else ""
    register_ok = (language is not None and bool(GREETINGS[language].match(opening))
                   and bool(SIGN_OFFS[language].search(body)) and not INFORMAL.search(body)
                   and not PLACEHOLDER.search(text_all)
                   and (language == "en" or bool(re.search(r"\b(?:Sie|Ihnen|Ihr\w*)\b", body))))
    dates = [d for _t, _at, d in find_dates(body) if d is not None]
    next_step = any(EVAL_AS_OF < d <= EVAL_AS_OF + timedelta(days=NEXT_STEP_DAYS) for d in dates)
    known = expected["required"] + expected.get("allowed", [])
    facts = [Fact(f"expected:{i}", f["value"] if f["unit"] != "date" else date.fromisoformat(f["value"]),
                  f["unit"], "eval") for i, f in enumerate(known) if f["unit"] != "text"]
    facts += [Fact(f"proposed:{i}", d, "date", "eval") for i, d in enumerate(dates)
              if EVAL_AS_OF < d <= EVAL_AS_OF + timedelta(days=NEXT_STEP_DAYS)]
    if expected.get("contract_from"):
        facts.append(Fact("contract.valid_from", date.fromisoformat(expected["contract_from"]), "date", "eval"))
    facts.append(Fact("as_of.year", EVAL_AS_OF.year, "number", "eval"))
    masked = text_all  # figures inside names (an invoice number, "Rillenkugellager 6205") are not claims
    for f in known:
        if f["unit"] == "text":
            masked = masked.replace(str(f["value"]), "#")
    untraced = verify_numbers(masked, facts)
    return {"found": found, "leaked": leaked, "language": _language(body), "expected_language": language,
            "register_ok": register_ok, "next_step": next_step, "recipient_ok": language is not None,
            "figures": untraced.checked, "untraced": [str(f) for f in untraced.failures]}


class EscalationDrafterSuite(DemoAgentSuite):
    name = "escalation_drafter"
    accounts = ESCALATION_ACCOUNTS
    stored = ("DraftEvent", "MailDraft")
    directions: ClassVar[dict[str, str]] = {"internal_leaks": "lower", "prose.fallback": "lower"}

    def __init__(self, work_dir: Path, *, settings: Settings, llm_mode: str = "off") -> None:
        if llm_mode not in ("off", "sentence", "mail"):
            raise ValueError("the escalation drafter runs with --llm off (templates), sentence or mail")
        super().__init__(work_dir, settings=settings, llm_mode=llm_mode)

    def run_case(self, case: Case) -> CaseResult:
        import json

        from agents.escalation_drafter import service
        from core.access import Principal

        with self._lock:
            row = service.start_draft(self.work, self.checkpointer, Principal.system("eval"), case.inputs["trigger"],
                                      audience=case.inputs["audience"], as_of=EVAL_AS_OF, gateway=self.gateway,
                                      llm_mode="mail" if self.llm_mode == "mail" else "sentence")
        content = json.loads(row.content)
        if str(content.get("fallback_reason") or "").startswith("LLM unavailable"):
            raise EvalAborted(f"{case.id}: {content['fallback_reason']} (a mode with the model measures nothing "
                              "without it)")
        rubric = score(row.subject, row.body, row.recipient, case.expected)
        found = rubric["found"]
        metrics = {
            "required_facts": mean([float(x) for x in found]) if found else 1.0,
            "internal_leaks": float(len(rubric["leaked"])),
            "language_correct": float(rubric["language"] == rubric["expected_language"]),
            "formal_register": float(rubric["register_ok"]),
            "next_step": float(rubric["next_step"]),
            "recipient_valid": float(rubric["recipient_ok"]),
            "numeric_faithfulness": (1.0 - len(rubric["untraced"]) / rubric["figures"]) if rubric["figures"] else 1.0,
            "prose.llm": float(content.get("prose_source") == "llm"),
            "prose.fallback": float(content.get("prose_source") == "fallback"),
        }
        passed = (metrics["required_facts"] == 1.0 and not rubric["leaked"] and metrics["language_correct"] == 1.0
                  and rubric["register_ok"] and rubric["next_step"] and rubric["recipient_ok"]
                  and not rubric["untraced"])
        output = {"subject": row.subject, "body": row.body, "recipient": row.recipient,
                  "prose_source": content.get("prose_source"), "fallback_reason": content.get("fallback_reason"),
                  "personal_sentence": content.get("personal_sentence"),
                  "missing": [f["name"] for f, ok in zip(case.expected["required"], found, strict=True) if not ok],
                  "leaked": rubric["leaked"], "untraced": rubric["untraced"]}
        return CaseResult(case.id, passed, metrics, output, case.expected, case.tags,
                          tokens={"calls": content.get("llm_calls", 0),
                                  "prompt": content.get("prompt_tokens", 0),
                                  "completion": content.get("completion_tokens", 0)})

    def aggregate(self, results: list[CaseResult]) -> dict[str, float]:
        results = [r for r in results if r.metrics]  # a crashed case is reported as failed, not scored
        names = ("required_facts", "language_correct", "formal_register", "next_step", "recipient_valid",
                 "numeric_faithfulness", "prose.llm", "prose.fallback")
        out = {name: round(mean([r.metrics[name] for r in results]), 4) for name in names}
        out["internal_leaks"] = sum(r.metrics["internal_leaks"] for r in results)
        for group in ("de", "en", "customer", "internal"):
            subset = [r for r in results if group in (r.tags.get("language"), r.tags.get("audience"))]
            if subset:
                out[f"required_facts.{group}"] = round(mean([r.metrics["required_facts"] for r in subset]), 4)
                out[f"prose.llm.{group}"] = round(mean([r.metrics["prose.llm"] for r in subset]), 4)
        return out

    def trivial(self, results: list[CaseResult]) -> dict[str, float]:
        """A greeting and a sign-off only: formal and faithful, but states nothing and proposes nothing."""
        return {"required_facts": 0.0, "internal_leaks": 0.0, "language_correct": 1.0, "formal_register": 1.0,
                "next_step": 0.0, "recipient_valid": 1.0, "numeric_faithfulness": 1.0, "prose.llm": 0.0,
                "prose.fallback": 0.0}
