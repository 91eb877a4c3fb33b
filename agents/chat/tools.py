"""The chat's tools: thin wrappers over the rule modules, the CRM, the knowledge store and the other agents'
records. Each runs as the caller's principal (``core.access`` decides, here and inside the wrapped code), and
returns :class:`Evidence`: sentences written by code in German and English, with the facts they state and the
source they cite. Nothing here asks a model."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.account_brief import service as briefs
from agents.chat.schemas import Evidence, fact_dict
from agents.escalation_drafter import service as drafts
from agents.nda_review import service as nda_reviews
from core import access
from core.access import Capability, Principal
from core.claims import text_facts
from core.db import models as m
from core.errors import NotFound
from core.facts import Fact
from core.i18n import Language, day, figure, money, month, number, percent
from core.settings import Settings
from policies import credit, kpis, margins, receivables, replenishment
from policies.config import get_policies
from policies.health import health
from policies.labels import rule_label as label
from policies.labels import status_word
from policies.periods import add_months, month_start, parse_period
from policies.results import STATUS_RANK, RuleResult, worst_first

Scope = Literal["account", "portfolio", "both"]  # portfolio: all the caller's accounts, or those given
MAX_EVIDENCE = 8
NOTE_CHARS = 300
EXCERPT_CHARS = 400


@dataclass(frozen=True)
class ToolContext:
    session: Session
    principal: Principal
    as_of: date
    settings: Settings
    question: str


ToolFn = Callable[[ToolContext, "str | None", dict[str, Any]], list[Evidence]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str  # what the model reads when it chooses
    capability: Capability | None
    scope: Scope
    run: ToolFn


def _facts(facts: list[Fact]) -> list[dict[str, Any]]:
    return [fact_dict(f) for f in facts]


def _i(language: Language) -> int:
    return 0 if language == "de" else 1


def _shown(r: RuleResult, value: float | None, language: Language) -> str:
    if value is None:
        return "–"
    if r.unit == "ratio":
        return percent(value, language)
    if r.unit == "currency":
        return number(value, language, 2)
    return figure(value, language)


def assessment(r: RuleResult) -> dict[str, Any]:
    """The rule's judgement for the claim checker (core.claims.Assessment)."""
    return {"metric": r.rule, "value": r.value, "threshold": r.threshold, "status": r.status,
            "direction": r.direction}


def _both(fn: Callable[[Language], str]) -> dict[str, str]:
    return {"de": fn("de"), "en": fn("en")}


def period_words(label_: str | None, language: Language) -> str:
    """A rule period as a reader says it: "Oktober 2026", "Q3 2026", "2026"; nothing for the default."""
    if not label_ or label_.upper() == "R12":
        return ""
    if "-Q" in label_.upper():
        year, quarter = label_.upper().split("-Q")
        return f"Q{quarter} {year}"
    if len(label_) == 7 and label_[4] == "-":
        return month(label_, language)
    return label_


def rule_evidence(r: RuleResult, account_id: str, period: str | None = None) -> Evidence:
    when = period_words(period, "de"), period_words(period, "en")

    def text(lang: Language) -> str:
        status = status_word(r.status, lang)
        value = _shown(r, r.value, lang)
        target = "" if r.threshold is None else (f", Ziel {_shown(r, r.threshold, lang)}" if lang == "de"
                                                 else f", target {_shown(r, r.threshold, lang)}")
        during = f" ({when[_i(lang)]})" if when[0] else ""
        return f"{account_id} {label(r.rule, lang)}{during}: {value}{target} ({status})"

    return Evidence(**_both(text), kind="rule", ref=f"rule:{r.rule}:{r.subject}" + (f":{period}" if period else ""),
                    label=f"{label(r.rule, 'en')} · {r.subject} · policy {r.policy_version}", account_id=account_id,
                    detail=r.explanation, facts=_facts(r.facts()), assessments=[assessment(r)],
                    key=[] if r.value is None else [f"{r.rule}.{r.subject}.value"])


def _names(session: Session, ids: list[str]) -> dict[str, str]:
    if not ids:
        return {}
    return dict(session.execute(select(m.Account.id, m.Account.name).where(m.Account.id.in_(ids))).all())


def _scope(ctx: ToolContext, account_id: str | None) -> list[str] | None:
    return access.narrow_accounts(ctx.principal, account_id)


# --- the tools -------------------------------------------------------------------------------------------
def tool_health(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """One account: every rule that is not ok, worst first. The portfolio: the accounts by status."""
    rolled = health(ctx.session, as_of=ctx.as_of, account_ids=_scope(ctx, account_id))
    if account_id is not None:
        h = rolled[account_id]
        reasons = h.reasons or [r for r in h.results if r.status == "ok"][:3]
        return [rule_evidence(r, account_id) for r in reasons[:MAX_EVIDENCE]]
    names = _names(ctx.session, list(rolled))
    ordered = sorted(rolled.values(), key=lambda h: (["breach", "warn", "ok", "not_enough_data"].index(h.status),
                                                     -len(h.reasons), h.account_id))
    out = []
    for h in ordered[:MAX_EVIDENCE]:
        def text(lang: Language, h: Any = h) -> str:
            # each rule under its own status: "Verstoß (Marge); Warnung (NPS)", never a warning listed as a breach
            shown = h.reasons[:3]
            groups = [f"{status_word(status, lang)} "
                      f"({', '.join(label(r.rule, lang) for r in shown if r.status == status)})"
                      for status in dict.fromkeys(r.status for r in shown)]
            return f"{h.account_id} {names.get(h.account_id, '')}: " + ("; ".join(groups) or
                                                                       status_word(h.status, lang))
        out.append(Evidence(**_both(text), kind="rule", ref=f"health:{h.account_id}",
                            label=f"health · {h.account_id}", account_id=h.account_id,
                            detail="; ".join(r.explanation for r in h.reasons[:3]) or "all rules ok",
                            facts=[f for r in h.reasons[:3] for f in _facts(r.facts())],
                            assessments=[assessment(r) for r in h.reasons[:3]]))
    return out


TREND_MONTHS = 6


def _account_rules(ctx: ToolContext, account_ids: list[str] | None, period: str | None) -> dict[str, list[RuleResult]]:
    """Every rule of the accounts (KPIs, credit, receivables, margin, NDA) over the period, worst first."""
    rolled = health(ctx.session, as_of=ctx.as_of, account_ids=account_ids, period=period)
    return {a: h.results for a, h in rolled.items()}


def monthly(ctx: ToolContext, account_id: str, rule: str, since: date) -> list[tuple[str, float]]:
    """The rule's value in each complete month from ``since`` on, and the running month."""
    points = []
    start = month_start(since)
    while start <= ctx.as_of:
        key = start.strftime("%Y-%m")
        if rule == "account_margin":
            result = margins.account_level_margins(ctx.session, period=key, as_of=ctx.as_of,
                                                   account_ids=[account_id]).get(account_id)
        else:
            result = kpis.compute_rule(ctx.session, rule, as_of=ctx.as_of, period=key,
                                       account_ids=[account_id]).get(account_id)
        if result is not None and result.value is not None:
            points.append((key, float(result.value)))
        start = add_months(start, 1)
    return points


def tool_kpis(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """The account's KPIs over the asked period (the asked one first), with its monthly course when the
    question asks for a trend, a month or the time since a date."""
    assert account_id is not None
    period = args.get("period")
    results = worst_first(_account_rules(ctx, [account_id], period).get(account_id, []))
    focus = args.get("kpi")
    if focus:
        results = sorted(results, key=lambda r: r.rule != focus)
    chosen = [r for r in results if r.rule == focus] or [r for r in results if r.status in ("breach", "warn")
                                                         and r.rule in KPI_RULES]
    out = [rule_evidence(r, account_id, period) for r in (chosen or results)[:MAX_EVIDENCE - 1]]
    since = args.get("since")
    course = focus if focus in COURSE_RULES else None
    if course and (since or focus in ("call_off_rate", "otif")):
        start = date.fromisoformat(since) if since else add_months(month_start(ctx.as_of), -TREND_MONTHS)
        points = monthly(ctx, account_id, course, start)
        if points:
            direction = next((r.direction for r in results if r.rule == course), None)
            unit = next((r.unit for r in results if r.rule == course), "ratio")
            out.append(series_evidence(account_id, course, points, "ratio" if unit == "ratio" else "number",
                                       direction))
    return out


# rules with a value per month (a yearly count or a current age has no monthly course worth showing)
COURSE_RULES = frozenset({"otif", "call_off_rate", "forecast_deviation", "emergency_air_share", "nps_score",
                          "account_margin", "contact_cadence"})
KPI_RULES = frozenset({"otif", "call_off_rate", "forecast_deviation", "emergency_air_share", "contact_cadence",
                       "qualified_interactions", "nps_score", "nps_response_rate", "escalations_open_days",
                       "escalations_documented", "contract_coverage", "opportunities_identified", "revenue_growth"})


FINANCE_RULES = frozenset({"credit_utilisation", "account_margin", "receivables"})


def tool_portfolio(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """One rule over the caller's accounts (or the two compared): ranked, filtered to those off target, or
    counted; an empty result is said as such."""
    metric, op, period = args["metric"], args.get("operation", "list"), args.get("period")
    if metric in FINANCE_RULES:
        access.require(ctx.principal, "finance")
    scope = args.get("accounts") or _scope(ctx, None)
    for account in args.get("accounts") or []:
        access.require_account(ctx.principal, account)
    rules = _account_rules(ctx, scope, period)
    names = _names(ctx.session, list(rules))
    found = [(a, r) for a, results in rules.items() for r in results if r.rule == metric]
    valued = [(a, r) for a, r in found if r.value is not None]
    bad_first = sorted(valued, key=lambda ar: (STATUS_RANK[ar[1].status],
                                               (ar[1].value or 0) * (-1 if ar[1].direction == "lower" else 1), ar[0]))
    if op == "best":
        ordered = bad_first[::-1]
    elif op in ("lowest", "highest"):
        ordered = sorted(valued, key=lambda ar: (ar[1].value or 0) * (-1 if op == "highest" else 1))
    elif op in ("filter", "count"):
        ordered = [ar for ar in bad_first if ar[1].status in ("breach", "warn")]
    else:
        ordered = bad_first
    summary = portfolio_summary(metric, op, ordered, found, names, period)
    return [summary, *(rule_evidence(r, a, period) for a, r in ordered[:MAX_EVIDENCE - 1])]


def portfolio_summary(metric: str, op: str, ordered: list[tuple[str, RuleResult]],
                      everyone: list[tuple[str, RuleResult]], names: dict[str, str], period: str | None) -> Evidence:
    """The answer to the portfolio question in one sentence, with the count as a fact."""
    breaches = [a for a, r in ordered if r.status == "breach"]
    warnings = [a for a, r in ordered if r.status == "warn"]
    when = period_words(period, "de"), period_words(period, "en")

    def text(lang: Language) -> str:
        name = label(metric, lang)
        during = f" ({when[_i(lang)]})" if when[0] else ""
        if op in ("filter", "count"):
            if not ordered:
                return (f"Ihre Accounts bei {name}{during}: kein Verstoß, keine Warnung" if lang == "de"
                        else f"Your accounts on {name}{during}: no breach, no warning")
            if lang == "de":
                return (f"{len(breaches)} Verstöße bei {name}{during}"
                        + (f" ({', '.join(breaches)})" if breaches else "")
                        + (f"; {len(warnings)} Warnungen ({', '.join(warnings)})" if warnings else ""))
            return (f"{len(breaches)} breaches of {name}{during}" + (f" ({', '.join(breaches)})" if breaches else "")
                    + (f"; {len(warnings)} warnings ({', '.join(warnings)})" if warnings else ""))
        if not ordered:
            return (f"Für {name}{during} liegen keine Werte vor" if lang == "de"
                    else f"No account has a value for {name}{during}")
        first, result = ordered[0]
        words = {"worst": ("am schlechtesten", "worst"), "best": ("am besten", "best"),
                 "lowest": ("am niedrigsten", "lowest"), "highest": ("am höchsten", "highest")}.get(
            op, ("am schlechtesten", "worst"))
        if lang == "de":
            return (f"Ihre Accounts, {words[0]} bei {name}{during}: {first} {names.get(first, '')} mit "
                    f"{_shown(result, result.value, lang)} ({status_word(result.status, lang)})")
        return (f"Your accounts, {words[1]} on {name}{during}: {first} {names.get(first, '')} at "
                f"{_shown(result, result.value, lang)} ({status_word(result.status, lang)})")

    facts = [Fact(f"portfolio.{metric}.breaches", len(breaches), "count", f"policies.{metric}", "breaches"),
             Fact(f"portfolio.{metric}.warnings", len(warnings), "count", f"policies.{metric}", "warnings")]
    head = [fact_dict(f) for a, r in ordered[:1] for f in r.facts()]
    return Evidence(**_both(text), kind="rule", ref=f"portfolio:{metric}:{op}" + (f":{period}" if period else ""),
                    label=f"{label(metric, 'en')} · your accounts", detail="; ".join(
                        f"{a}: {r.explanation}" for a, r in ordered[:MAX_EVIDENCE]) or "no account off target",
                    facts=[*_facts(facts), *head], assessments=[assessment(r) for _a, r in ordered[:1]]
                    if op not in ("filter", "count") else [assessment(r) for _a, r in ordered if r.status == "breach"]
                    or [assessment(r) for _a, r in everyone],
                    key=[f"portfolio.{metric}.breaches"] if op in ("filter", "count") else
                    ([f"{ordered[0][1].rule}.{ordered[0][1].subject}.value"] if ordered else []))


def series_evidence(account_id: str, metric: str, points: list[tuple[str, float]], unit: str,
                    direction: str | None) -> Evidence:
    """A metric's monthly values, each a fact of its month, with the course for trend claims."""
    facts = [Fact(f"trend.{metric}.{account_id}.{month_}", value, unit, "policies.kpis", metric,  # type: ignore[arg-type]
                  period=month_) for month_, value in points]

    def shown(value: float, lang: Language) -> str:
        return percent(value, lang) if unit == "ratio" else number(value, lang, 2)

    def text(lang: Language) -> str:
        values = "; ".join(f"{month(m, lang)} {shown(v, lang)}" for m, v in points)  # "Juni 2026 80,0 %; …"
        return (f"{account_id} {label(metric, lang)} je Monat: {values}" if lang == "de"
                else f"{account_id} {label(metric, lang)} by month: {values}")
    return Evidence(**_both(text), kind="rule", ref=f"trend:{metric}:{account_id}",
                    label=f"{label(metric, 'en')} by month · {account_id}", account_id=account_id,
                    detail="monthly values from the rule modules", facts=_facts(facts),
                    series=[{"metric": metric, "points": points, "direction": direction}])


def _last_price(session: Session, article_id: str) -> tuple[float, int] | None:
    row = session.execute(select(m.OrderLine.unit_price, m.OrderLine.qty)
                          .join(m.Order, m.Order.id == m.OrderLine.order_id)
                          .where(m.OrderLine.article_id == article_id, m.OrderLine.status != "cancelled")
                          .order_by(m.Order.order_date.desc(), m.OrderLine.id.desc()).limit(1)).first()
    return None if row is None else (float(row[0]), int(row[1]))


CORRIDOR_WORDS = {"ok": ("im Korridor", "inside the corridor"),
                  "warn": ("im Korridor, unter der Zielmarge", "inside the corridor, below the target margin"),
                  "breach": ("unter der Mindestmarge", "below the minimum margin")}


def tool_price_check(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """A discount on an article's last price, checked against the margin corridor of the account's segment."""
    part, discount = args.get("part_number"), args.get("discount")
    query = select(m.Article).where(m.Article.part_number == part)
    scope = _scope(ctx, account_id)
    if scope is not None:
        query = query.where(m.Article.account_id.in_(scope))
    articles = list(ctx.session.execute(query.order_by(m.Article.account_id)).scalars())
    if not part or not articles:
        raise NotFound(f"no article {part!r} in your accounts" if part else "which article? give its part number")
    out = []
    for article in articles[:3]:
        last = _last_price(ctx.session, article.id)
        if last is None:
            continue
        price, qty = last
        proposed = round(price * (1 - float(discount or 0.0)), 4)
        check = margins.check_article_price(ctx.session, article.id, proposed, qty)
        subject = article.id
        facts = [*check.facts(subject), Fact(f"price.{subject}.last", price, "currency", "crm.order_lines",
                                             "last_price", subject=subject),
                 Fact(f"price.{subject}.discount", float(discount or 0.0), "ratio", "question", "discount",
                      subject=subject)]
        currency = ctx.session.get(m.Account, article.account_id).currency  # type: ignore[union-attr]

        def text(lang: Language, a: Any = article, c: Any = check, p: float = price, cur: str = currency) -> str:
            inside = CORRIDOR_WORDS[c.status][_i(lang)]
            approval = "" if not c.needs_approval else (f"; Freigabe durch {c.needs_approval.replace('_', ' ')}"
                                                        if lang == "de" else
                                                        f"; needs approval by the {c.needs_approval.replace('_', ' ')}")
            off = percent(float(discount or 0), lang)
            if lang == "de":
                return (f"{a.account_id} {a.part_number}: letzter Preis {money(p, cur, lang)}, neuer Preis "
                        f"{money(c.proposed_price, cur, lang)} ({off} Nachlass); Marge {percent(c.margin, lang)}, "
                        f"Mindestmarge {percent(c.min_margin, lang)}, Zielmarge {percent(c.target_margin, lang)}, "
                        f"Preisuntergrenze {money(c.floor_price, cur, lang)}: {inside}{approval}")
            return (f"{a.account_id} {a.part_number}: last price {money(p, cur, lang)}, new price "
                    f"{money(c.proposed_price, cur, lang)} ({off} discount); margin {percent(c.margin, lang)}, "
                    f"minimum margin {percent(c.min_margin, lang)}, target margin {percent(c.target_margin, lang)}, "
                    f"price floor {money(c.floor_price, cur, lang)}: {inside}{approval}")
        corridor = [  # the margin against the corridor's floor and its target, as the checker judges them
            {"metric": "line_margin", "value": check.margin, "threshold": check.min_margin,
             "status": "breach" if check.status == "breach" else "ok", "direction": "higher"},
            {"metric": "target_margin", "value": check.margin, "threshold": check.target_margin,
             "status": "ok" if check.status == "ok" else "warn", "direction": "higher"}]
        out.append(Evidence(**_both(text), kind="rule", ref=f"price_check:{article.id}",
                            label=f"price check · {article.part_number} · policy {check.policy_version}",
                            account_id=article.account_id, detail=check.explanation, facts=_facts(facts),
                            assessments=corridor,
                            key=[f"price_check.{subject}.proposed_price", f"price_check.{subject}.margin"]))
    return out


def tool_credit(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    assert account_id is not None
    p = credit.credit_position(ctx.session, account_id, as_of=ctx.as_of, policy=get_policies().credit)

    def text(lang: Language) -> str:
        status = status_word(p.status, lang)
        if lang == "de":
            return (f"{account_id} Obligo {money(p.exposure, p.currency, lang)} (offene Forderungen "
                    f"{money(p.open_receivables, p.currency, lang)}, offene Aufträge "
                    f"{money(p.open_order_value, p.currency, lang)}); wirksames Limit "
                    f"{money(p.effective_limit, p.currency, lang)} (KAM-Limit {money(p.kam_limit, p.currency, lang)}, "
                    f"versichert {money(p.insured_limit, p.currency, lang)}, {p.insurer_decision}); Auslastung "
                    f"{percent(p.utilisation, lang)} ({status})")
        return (f"{account_id} exposure {money(p.exposure, p.currency, lang)} (open receivables "
                f"{money(p.open_receivables, p.currency, lang)}, open orders "
                f"{money(p.open_order_value, p.currency, lang)}); effective limit "
                f"{money(p.effective_limit, p.currency, lang)} (KAM limit {money(p.kam_limit, p.currency, lang)}, "
                f"insured {money(p.insured_limit, p.currency, lang)}, {p.insurer_decision}); utilisation "
                f"{percent(p.utilisation, lang)} ({status})")
    result = p.as_rule_result()
    return [Evidence(**_both(text), kind="rule", ref=f"rule:credit_utilisation:{account_id}",
                     label=f"credit position · {account_id} · policy {p.policy_version}", account_id=account_id,
                     detail=result.explanation, facts=_facts(p.facts()), assessments=[assessment(result)],
                     key=[f"credit.{account_id}.exposure", f"credit.{account_id}.effective_limit"])]


def tool_receivables(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """Open invoices, worst dunning level first; only the overdue ones when the question asks for those, with a
    count first, and "none" said when there are none."""
    invoices = receivables.open_invoices(ctx.session, as_of=ctx.as_of, account_ids=_scope(ctx, account_id))
    overdue_only = bool(args.get("overdue"))
    shown = [i for i in invoices if i.days_overdue > 0] if overdue_only else invoices
    ranked = sorted(shown, key=lambda i: (-i.due_dunning_level, -i.days_overdue, i.invoice_id))
    out = [receivables_summary(account_id, invoices, ranked, overdue_only)]
    for inv in ranked[:MAX_EVIDENCE - 1]:
        sub = inv.invoice_id
        facts = [Fact(f"invoice.{sub}.open_amount", inv.open_amount, "currency", "policies.receivables", "open_amount",
                      subject=sub),
                 Fact(f"invoice.{sub}.days_overdue", inv.days_overdue, "days", "policies.receivables", "days_overdue",
                      subject=sub),
                 Fact(f"invoice.{sub}.dunning_level", inv.due_dunning_level, "count", "policies.receivables",
                      "dunning_level", subject=sub),
                 Fact(f"invoice.{sub}.due_date", inv.due_date, "date", "crm.invoices", "due", subject=sub)]

        def text(lang: Language, i: Any = inv) -> str:
            if lang == "de":
                return (f"{i.account_id} Rechnung {i.invoice_id}: offen {money(i.open_amount, i.currency, lang)}, "
                        f"fällig am {day(i.due_date, lang)}, {i.days_overdue} Tage überfällig, Mahnstufe "
                        f"{i.due_dunning_level}")
            return (f"{i.account_id} invoice {i.invoice_id}: {money(i.open_amount, i.currency, lang)} open, due "
                    f"{day(i.due_date, lang)}, {i.days_overdue} days overdue, dunning level {i.due_dunning_level}")
        out.append(Evidence(**_both(text), kind="rule", ref=f"invoice:{inv.invoice_id}",
                            label=f"open invoice · {inv.invoice_id}", account_id=inv.account_id,
                            detail=inv.explanation, facts=_facts(facts),
                            key=[inv.invoice_id, f"invoice.{inv.invoice_id}.open_amount"]))
    return out


def receivables_summary(account_id: str | None, invoices: list[Any], shown: list[Any], overdue_only: bool
                        ) -> Evidence:
    """How many invoices are open and how many overdue (per currency, the overdue sum); "none" when none."""
    overdue = [i for i in invoices if i.days_overdue > 0]
    sums: dict[str, float] = {}
    for inv in overdue:
        sums[inv.currency] = round(sums.get(inv.currency, 0.0) + inv.open_amount, 2)
    who = account_id or ""

    def text(lang: Language) -> str:
        total = ", ".join(money(v, c, lang) for c, v in sorted(sums.items()))
        if lang == "de":
            where = f"{who}: " if who else "Ihre Accounts: "
            return where + (f"offene Rechnungen: {len(invoices)}, überfällige Rechnungen: {len(overdue)}"
                            + (f"; überfällige Beträge {total}" if overdue else ""))
        where = f"{who}: " if who else "Your accounts: "
        return where + (f"open invoices: {len(invoices)}, overdue invoices: {len(overdue)}"
                        + (f"; overdue amounts {total}" if overdue else ""))

    # "overdue invoices: 2" counts invoices; the vocabulary also reads it as the overdue receivables
    facts = [Fact("receivables.overdue_invoices", len(overdue), "count", "policies.receivables", "invoices"),
             Fact("receivables.overdue_count", len(overdue), "count", "policies.receivables", "receivables"),
             Fact("receivables.open_invoices", len(invoices), "count", "policies.receivables", "invoices"),
             *(Fact(f"receivables.overdue.{c}", v, "currency", "policies.receivables", "receivables")
               for c, v in sorted(sums.items()))]
    return Evidence(**_both(text), kind="rule", ref=f"receivables:{who or 'portfolio'}",
                    label=f"open invoices · {who or 'your accounts'}", account_id=account_id,
                    detail=f"{len(overdue)} of {len(invoices)} open invoices past their due date"
                           + ("" if not overdue_only else "; the overdue ones follow, worst dunning level first"),
                    facts=_facts(facts), key=["receivables.overdue_invoices"])


def tool_replenishment(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    lines = replenishment.replenishment(ctx.session, as_of=ctx.as_of, account_ids=_scope(ctx, account_id),
                                        only_reorder=True)
    ranked = sorted(lines, key=lambda r: (r.coverage_weeks if r.coverage_weeks is not None else 0.0, r.article_id))
    out = []
    for line in ranked[:MAX_EVIDENCE]:
        coverage = None if line.coverage_weeks is None else round(line.coverage_weeks, 1)
        art = line.article_id
        facts = [Fact(f"reorder.{art}.proposed_qty", line.proposed_qty, "qty", "policies.replenishment", "proposed_qty",
                      subject=art),
                 Fact(f"reorder.{art}.stock_on_hand", line.stock_on_hand, "qty", "policies.replenishment",
                      "stock_on_hand", subject=art),
                 Fact(f"reorder.{art}.lead_time_weeks", line.lead_time_weeks, "weeks", "crm.articles",
                      "lead_time_weeks", subject=art)]
        if coverage is not None:
            facts.append(Fact(f"reorder.{art}.coverage_weeks", coverage, "weeks", "policies.replenishment",
                              "coverage_weeks", subject=art))

        def text(lang: Language, r: Any = line, cov: float | None = coverage) -> str:
            shown = "–" if cov is None else number(cov, lang, 1)
            if lang == "de":
                return (f"{r.account_id} {r.part_number} {r.description}: Bestand {number(r.stock_on_hand, lang)}, "
                        f"Reichweite {shown} Wochen, Lieferzeit {r.lead_time_weeks} Wochen"
                        f"{' (leer)' if r.empty else ''}; Vorschlag {number(r.proposed_qty, lang)} Stück "
                        "nachbestellen")
            return (f"{r.account_id} {r.part_number} {r.description}: stock {number(r.stock_on_hand, lang)}, "
                    f"coverage {shown} weeks, lead time {r.lead_time_weeks} weeks{' (empty)' if r.empty else ''}; "
                    f"re-order {number(r.proposed_qty, lang)} pcs")
        out.append(Evidence(**_both(text), kind="rule", ref=f"reorder:{line.article_id}",
                            label=f"re-order · {line.part_number} · policy {line.policy_version}",
                            account_id=line.account_id, detail=line.explanation, facts=_facts(facts),
                            key=[line.part_number, f"reorder.{line.article_id}.proposed_qty"],
                            names=[line.description]))
    return out


def tool_contract(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """The contract passages (hybrid retrieval: vectors and keywords) that answer the question."""
    if args.get("query"):
        ctx = dataclasses.replace(ctx, question=args["query"])
    return documents_evidence(ctx, account_id, ("contract",), 3)


RECENT_NOTES = 4


def tool_notes(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    assert account_id is not None
    rows = ctx.session.execute(select(m.Interaction).where(
        m.Interaction.account_id == account_id, m.Interaction.interaction_date <= ctx.as_of)
        .order_by(m.Interaction.interaction_date.desc(), m.Interaction.id.desc()).limit(RECENT_NOTES)).scalars()
    out = []
    for row in rows:
        note = " ".join(row.note.split())[:NOTE_CHARS]
        facts = [Fact(f"interaction.{row.id}.date", row.interaction_date, "date", "crm.interactions", "interaction"),
                 *text_facts(f"interaction.{row.id}", note)]
        out.append(Evidence(de=f"{account_id} {day(row.interaction_date, 'de')} ({row.interaction_type}): «{note}»",
                            en=f"{account_id} {day(row.interaction_date, 'en')} ({row.interaction_type}): “{note}”",
                            kind="interaction", ref=f"interaction:{row.id}",
                            label=f"{row.interaction_type} · {row.interaction_date.isoformat()} · {row.id}",
                            account_id=account_id, detail=row.note, facts=_facts(facts),
                            key=[f"interaction.{row.id}.date"]))
    return out + documents_evidence(ctx, account_id, ("document", "mail"), DOCUMENT_HITS)


DOCUMENT_HITS = 2


def documents_evidence(ctx: ToolContext, account_id: str | None, doc_types: tuple[str, ...], k: int
                       ) -> list[Evidence]:
    """The passages of the account's documents (uploaded visit reports, mails, contracts) that answer the
    question (hybrid retrieval, as the caller may see them)."""
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever

    retriever = get_retriever(ctx.settings)
    hits = retriever.search(ctx.question, AccessScope.for_principal(ctx.principal), account_id=account_id,
                            doc_types=list(doc_types), k=k, mode=ctx.settings.chat_retrieval_mode)
    out = []
    for hit in hits:
        c = hit.chunk
        excerpt = " ".join(c.text.split())[:EXCERPT_CHARS]
        where = ", ".join(x for x in (c.title, c.clause) if x)
        out.append(Evidence(de=f"{c.account_id or ''} «{excerpt}» ({where})".strip(),
                            en=f"{c.account_id or ''} “{excerpt}” ({where})".strip(), kind="chunk",
                            ref=f"chunk:{c.chunk_id}", label=where or c.doc_id, account_id=c.account_id or None,
                            detail=c.text, facts=_facts(text_facts(f"chunk.{c.chunk_id}", c.text))))
    return out


FIGURE_WORDS = {"threshold": ("Grenze", "limit"), "open_amount": ("offen", "open"),
                "days_overdue": ("Tage überfällig", "days overdue"), "dunning_level": ("Mahnstufe", "dunning level"),
                "proposed_qty": ("Vorschlag Stück", "proposed pcs"), "exposure": ("Obligo", "exposure"),
                "effective_limit": ("wirksames Limit", "effective limit"), "part_number": ("Artikel", "article"),
                "oldest_opened_on": ("offen seit", "open since")}
TRIGGER_FIGURES = 3


def _shown_fact(value: Any, unit: str, language: Language) -> str:
    if isinstance(value, date):
        return day(value, language)
    if isinstance(value, str):
        return value
    if unit == "ratio":
        return percent(value, language)
    if unit == "currency":
        return number(value, language, 2)
    return figure(value, language)


def _trigger_figures(t: Any, language: Language) -> str:
    """The trigger's first figures, named: "Abrufquote 62,0 %, Grenze 70,0 %"."""
    parts = []
    for f in t.facts:
        name = f.id.rsplit(".", 1)[-1]
        if name == "value":
            words = label(f.id.rsplit(".", 1)[0], language)
        elif name in FIGURE_WORDS:
            words = FIGURE_WORDS[name][_i(language)]
        else:
            continue
        parts.append(f"{words} {_shown_fact(f.value, f.unit, language)}")
    return ", ".join(parts[:TRIGGER_FIGURES])


DRAFT_WORDS = ("draft", "entwurf", "entwürfe", "mail", "trigger", "auslöser")


def tool_escalations(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """The open escalations (CRM) with how long each has been open against the policy's limit, worst first;
    "none" said when there are none. Asked for drafts or mails: the KPI breaches that call for a mail, with
    the drafts made for them."""
    if args.get("drafts"):
        return escalation_triggers(ctx, account_id)
    scope = _scope(ctx, account_id)
    query = select(m.Escalation).where(m.Escalation.opened_on <= ctx.as_of, (m.Escalation.closed_on.is_(None))
                                       | (m.Escalation.closed_on > ctx.as_of))
    if scope is not None:
        query = query.where(m.Escalation.account_id.in_(scope))
    rows = list(ctx.session.execute(query.order_by(m.Escalation.opened_on, m.Escalation.id)).scalars())
    limit_days = get_policies().kpis.escalations_open_days.target
    who = account_id or ""

    def summary(lang: Language) -> str:
        if lang == "de":
            return f"{who or 'Ihre Accounts'}: " + (f"{len(rows)} offene Eskalation(en)" if rows else
                                                    "keine offene Eskalation")
        return f"{who or 'Your accounts'}: " + (f"{len(rows)} open escalation(s)" if rows else "no open escalation")
    out = [Evidence(**_both(summary), kind="rule", ref=f"escalations:{who or 'portfolio'}",
                    label=f"open escalations · {who or 'your accounts'}", account_id=account_id,
                    detail=f"escalations open on {ctx.as_of.isoformat()}; open longer than {limit_days:g} days is "
                           "a breach",
                    facts=_facts([Fact("escalations.open", len(rows), "count", "crm.escalations", "escalations")]),
                    key=["escalations.open"])]
    for row in rows[:MAX_EVIDENCE - 1]:
        age = (ctx.as_of - row.opened_on).days
        status = "breach" if age > limit_days else "ok"
        cause = " ".join(row.cause.split())[:NOTE_CHARS]

        def text(lang: Language, r: Any = row, age: int = age, status: str = status, cause: str = cause) -> str:
            # the age under the rule's own name, so the checker binds it to the rule's limit
            if lang == "de":
                return (f"{r.account_id} Eskalation {r.id} (offen seit {day(r.opened_on, lang)}): Alter der "
                        f"Eskalation {age} Tage, Grenze {figure(limit_days, lang)} Tage ({status_word(status, lang)}); "
                        f"Anlass: «{cause}»")
            return (f"{r.account_id} escalation {r.id} (open since {day(r.opened_on, lang)}): age of the escalation "
                    f"{age} days, limit {figure(limit_days, lang)} days ({status_word(status, lang)}); "
                    f"cause: “{cause}”")
        facts = [Fact(f"escalation.{row.id}.opened_on", row.opened_on, "date", "crm.escalations", "escalation",
                      subject=row.account_id),
                 Fact(f"escalation.{row.id}.days_open", age, "days", "crm.escalations", "escalations_open_days",
                      subject=row.account_id),
                 Fact(f"escalation.{row.id}.limit_days", limit_days, "days", "policies.kpis",
                      "escalations_open_days", "threshold", subject=row.account_id)]
        out.append(Evidence(**_both(text), kind="record", ref=f"escalation:{row.id}",
                            label=f"escalation · {row.id}", account_id=row.account_id, detail=row.cause,
                            facts=_facts(facts),
                            assessments=[{"metric": "escalations_open_days", "value": age, "threshold": limit_days,
                                          "status": status, "direction": "lower"}],
                            key=[f"escalation.{row.id}.days_open"]))
    return out


def escalation_triggers(ctx: ToolContext, account_id: str | None) -> list[Evidence]:
    """Current rule breaches that call for a mail, with the drafts already made for them."""
    out = []
    for status in drafts.current_triggers(ctx.session, ctx.principal, ctx.as_of, account_id)[:MAX_EVIDENCE]:
        t = status.trigger
        facts = [dataclasses.replace(f.as_fact(), id=f"trigger.{t.key}.{f.id}", source="escalation_drafter.triggers")
                 for f in t.facts if f.unit != "text"]
        drafted = ", ".join(f"{aud}: {draft_id}" for aud, draft_id in sorted(status.drafts.items()))

        def text(lang: Language, t: Any = t, drafted: str = drafted) -> str:
            what = label(t.kind, lang) if t.kind in ("call_off_rate", "otif") else t.kind.replace("_", " ")
            figures = _trigger_figures(t, lang)
            if lang == "de":
                return f"{t.account_id} Auslöser {what} ({figures}): " + (
                    f"Entwurf vorhanden ({drafted})" if drafted else "noch kein Entwurf")
            return f"{t.account_id} trigger {what} ({figures}): " + (
                f"drafted ({drafted})" if drafted else "no draft yet")
        out.append(Evidence(**_both(text), kind="record", ref=f"trigger:{t.key}", label=f"escalation trigger · {t.key}",
                            account_id=t.account_id, detail=t.explanation, facts=_facts(facts),
                            key=[f.id for f in facts[:1]]))
    return out


def tool_contacts(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """How many contacts (visits, calls, mails, meetings) the account had in the asked period or since the
    last meeting, how many of them qualified, and the last one."""
    assert account_id is not None
    since, until, words = contact_window(ctx, account_id, args)
    rows = list(ctx.session.execute(select(m.Interaction).where(
        m.Interaction.account_id == account_id, m.Interaction.interaction_date >= since,
        m.Interaction.interaction_date <= until).order_by(m.Interaction.interaction_date)).scalars())
    qualified = sum(r.qualified for r in rows)
    by_type: dict[str, int] = {}
    for r in rows:
        by_type[r.interaction_type] = by_type.get(r.interaction_type, 0) + 1
    last = rows[-1].interaction_date if rows else None

    to_date = until >= ctx.as_of  # the as-of date is written as "to date", never as a dated event

    def text(lang: Language) -> str:
        kinds = ", ".join(f"{n} {k}" for k, n in sorted(by_type.items()))
        if lang == "de":
            window = f"seit {day(since, lang)}" if to_date else f"{day(since, lang)} bis {day(until, lang)}"
            return (f"{account_id} Kontakte {words[0]} ({window}): {len(rows)}"
                    + (f" ({kinds}), davon {qualified} qualifiziert; letzter Kontakt am {day(last, lang)}" if last
                       else ""))
        window = f"since {day(since, lang)}" if to_date else f"{day(since, lang)} to {day(until, lang)}"
        return (f"{account_id} contacts {words[1]} ({window}): {len(rows)}"
                + (f" ({kinds}), {qualified} of them qualified; last contact on {day(last, lang)}" if last else ""))
    # every count the sentence writes next to "contacts" is a count of contacts
    facts = [Fact(f"contacts.{account_id}.count", len(rows), "count", "crm.interactions", "interactions"),
             Fact(f"contacts.{account_id}.qualified", qualified, "count", "crm.interactions", "interactions"),
             *(Fact(f"contacts.{account_id}.{kind}", n, "count", "crm.interactions", "interactions")
               for kind, n in by_type.items()),
             Fact(f"contacts.{account_id}.since", since, "date", "question", "interaction")]
    if not to_date:
        facts.append(Fact(f"contacts.{account_id}.until", until, "date", "question", "interaction"))
    if last is not None:
        facts.append(Fact(f"contacts.{account_id}.last", last, "date", "crm.interactions", "interaction"))
    return [Evidence(**_both(text), kind="rule", ref=f"contacts:{account_id}:{since.isoformat()}",
                     label=f"contacts · {account_id} · {since.isoformat()}–{until.isoformat()}", account_id=account_id,
                     detail=f"interactions from {since.isoformat()} to {until.isoformat()}", facts=_facts(facts),
                     key=[f"contacts.{account_id}.count"])]


def contact_window(ctx: ToolContext, account_id: str, args: dict[str, Any]) -> tuple[date, date, tuple[str, str]]:
    """The dates a contact count covers: since the last meeting, since a month, over a rule period, or this
    year; with how to say it."""
    if args.get("since_meeting"):
        last = ctx.session.execute(select(m.Meeting.planned_date).where(
            m.Meeting.account_id == account_id, m.Meeting.planned_date < ctx.as_of)
            .order_by(m.Meeting.planned_date.desc()).limit(1)).scalar()
        if last is None:
            last = ctx.session.execute(select(m.Interaction.interaction_date).where(
                m.Interaction.account_id == account_id, m.Interaction.interaction_type.in_(("meeting", "visit")),
                m.Interaction.interaction_date < ctx.as_of)
                .order_by(m.Interaction.interaction_date.desc()).limit(1)).scalar()
        if last is not None:
            return last + timedelta(days=1), ctx.as_of, ("seit dem letzten Termin", "since the last meeting")
    if args.get("since"):
        return date.fromisoformat(args["since"]), ctx.as_of, ("seit", "since")
    if args.get("period"):
        p = parse_period(args["period"], ctx.as_of)
        return p.start, p.end, (period_words(p.label, "de"), period_words(p.label, "en"))
    return date(ctx.as_of.year, 1, 1), ctx.as_of, ("dieses Jahr", "this year")


def tool_nda(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    out = []
    for review in nda_reviews.list_reviews(ctx.session, ctx.principal, account_id=account_id, limit=MAX_EVIDENCE):
        when = review.created_at.date()

        def text(lang: Language, r: Any = review, when: date = when) -> str:
            verdict = r.verdict or r.status
            return (f"{r.account_id or ''} NDA-Prüfung {r.file_name} vom {day(when, lang)}: {verdict}" if lang == "de"
                    else f"{r.account_id or ''} NDA review {r.file_name} of {day(when, lang)}: {verdict}").strip()
        out.append(Evidence(**_both(text), kind="nda_review", ref=f"nda_review:{review.id}",
                            label=f"NDA review · {review.file_name}", account_id=review.account_id,
                            detail=f"status {review.status}, verdict {review.verdict or '–'}",
                            facts=_facts([Fact(f"nda_review.{review.id}.date", when, "date", "nda_reviews",
                                               "document")])))
    contracts = select(m.Contract).where(m.Contract.contract_type == "nda")
    scope = _scope(ctx, account_id)
    if scope is not None:
        contracts = contracts.where(m.Contract.account_id.in_(scope))
    for c in ctx.session.execute(contracts.order_by(m.Contract.account_id, m.Contract.id)
                                 .limit(MAX_EVIDENCE)).scalars():
        out.append(Evidence(de=f"{c.account_id} NDA {c.id} im CRM: Status {c.status}",
                            en=f"{c.account_id} NDA {c.id} in the CRM: status {c.status}", kind="record",
                            ref=f"contract:{c.id}", label=f"CRM contract · {c.id}", account_id=c.account_id,
                            detail=f"{c.title}; status {c.status}"))
    return out[:MAX_EVIDENCE]


def tool_brief(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """The account's latest brief: its summary as it was checked when it was written. Without one ("prep me
    for Dalton" before the nightly run wrote it): that said, and the account's health, which is what a brief
    opens with."""
    assert account_id is not None
    out = []
    for lang in ("de", "en"):
        try:
            brief = briefs.latest(ctx.session, ctx.principal, account_id, language=lang)
        except NotFound:
            continue
        summary = " ".join(s.text for s in brief.summary)
        facts = [*text_facts(f"brief.{account_id}", summary),
                 Fact(f"brief.{account_id}.date", brief.brief_date, "date", "briefs", "brief")]
        out.append(Evidence(de=f"{account_id} Brief vom {day(brief.brief_date, 'de')}: {summary}",
                            en=f"{account_id} brief of {day(brief.brief_date, 'en')}: {summary}", kind="brief",
                            ref=f"brief:{account_id}:{brief.brief_date.isoformat()}:{lang}",
                            label=f"brief · {account_id} · {brief.brief_date.isoformat()}", account_id=account_id,
                            detail=json.dumps([s.text for s in brief.statements()], ensure_ascii=False)[:4000],
                            facts=_facts(facts)))
        return out
    missing = Evidence(de=f"{account_id}: noch kein Brief geschrieben (der nächtliche Lauf oder „Brief jetzt "
                          "schreiben“ erstellt ihn); der Stand der Regeln:",
                       en=f"{account_id}: no brief written yet (the nightly run or “write the brief now” makes "
                          "it); where the rules stand:", kind="brief", ref=f"brief:{account_id}:none",
                       label=f"brief · {account_id} · none yet", account_id=account_id, facts=[])
    return [missing, *tool_health(ctx, account_id, {})]


TOOLS: dict[str, Tool] = {t.name: t for t in (
    Tool("health", "overall status of an account, or the caller's accounts sorted by status", "rules", "both",
         tool_health),
    Tool("kpis", "KPIs of an account: call-off rate, OTIF, forecast deviation, air freight, contacts", "rules",
         "account", tool_kpis),
    Tool("price_check", "check a discount on an article against the margin corridor", "finance", "both",
         tool_price_check),
    Tool("credit", "credit limit, insurance (Hermes) and exposure of an account", "finance", "account", tool_credit),
    Tool("receivables", "open and overdue invoices and dunning levels", "finance", "both", tool_receivables),
    Tool("replenishment", "articles to re-order before they run empty", "rules", "both", tool_replenishment),
    Tool("contract", "what the contracts say (clauses, terms, price adjustment)", None, "both", tool_contract),
    Tool("notes", "the latest notes of visits, calls and mails, and uploaded documents of an account", "crm_details",
         "account",
         tool_notes),
    Tool("escalations", "open escalations and how long they have been open; KPI breaches that call for an "
         "escalation mail, and their drafts", "rules", "both", tool_escalations),
    Tool("portfolio", "one KPI or rule over all of the caller's accounts: ranked, those off target, or counted",
         "rules", "portfolio", tool_portfolio),
    Tool("contacts", "how many contacts (visits, calls, mails) an account had in a period, since the last meeting",
         "crm_details", "account", tool_contacts),
    Tool("nda", "NDA reviews and NDA status", "nda_review", "both", tool_nda),
    Tool("brief", "the latest pre-meeting brief of an account", "finance", "account", tool_brief),
)}


def run_tool(name: str, ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """Run a tool as the caller: the capability and the account are checked here whatever asked for them (the
    model, the resolver or a test), and every source is checked once more on the way out."""
    tool = TOOLS[name]
    if tool.capability is not None:
        access.require(ctx.principal, tool.capability)
    if account_id is not None:
        access.require_account(ctx.principal, account_id)
    found = tool.run(ctx, account_id, args)
    return [e for e in found if e.account_id is None or access.can_see_account(ctx.principal, e.account_id)]
