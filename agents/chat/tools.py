"""The chat's tools: thin wrappers over the rule modules, the CRM, the knowledge store and the other agents'
records. Each runs as the caller's principal (``core.access`` decides, here and inside the wrapped code), and
returns :class:`Evidence`: sentences written by code in German and English, with the facts they state and the
source they cite. Nothing here asks a model."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.account_brief import service as briefs
from agents.account_brief.facts import trends
from agents.account_brief.texts import STATUS_WORDS, label, number
from agents.chat.schemas import Evidence, Language
from agents.escalation_drafter import service as drafts
from agents.nda_review import service as nda_reviews
from core import access
from core.access import Capability, Principal
from core.db import models as m
from core.errors import NotFound
from core.facts import Fact
from core.settings import Settings
from core.verify import find_dates, find_numbers
from policies import credit, kpis, margins, receivables, replenishment
from policies.config import get_policies
from policies.health import health
from policies.results import RULE_TERMS, RuleResult, worst_first

Scope = Literal["account", "portfolio", "both"]
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
    return [{"id": f.id, "value": f.value.isoformat() if isinstance(f.value, date) else f.value, "unit": f.unit,
             "source": f.source, "terms": list(f.terms)} for f in facts]


def _i(language: Language) -> int:
    return 0 if language == "de" else 1


def pct(value: float | None, language: Language) -> str:
    return "–" if value is None else f"{number(value * 100, 1, language)} %"


def money(value: float, currency: str, language: Language) -> str:
    return f"{number(value, 2, language)} {currency}"


def day(value: date, language: Language) -> str:
    return value.strftime("%d.%m.%Y") if language == "de" else value.isoformat()


def _shown(r: RuleResult, value: float | None, language: Language) -> str:
    if value is None:
        return "–"
    if r.unit == "ratio":
        return pct(value, language)
    if r.unit == "currency":
        return number(value, 2, language)
    return number(value, 0 if float(value).is_integer() else 1, language)


def _both(fn: Callable[[Language], str]) -> dict[str, str]:
    return {"de": fn("de"), "en": fn("en")}


def rule_evidence(r: RuleResult, account_id: str) -> Evidence:
    def text(lang: Language) -> str:
        status = STATUS_WORDS[r.status][_i(lang)]
        value = _shown(r, r.value, lang)
        target = "" if r.threshold is None else (f", Ziel {_shown(r, r.threshold, lang)}" if lang == "de"
                                                 else f", target {_shown(r, r.threshold, lang)}")
        return f"{account_id} {label(r.rule, lang)}: {value}{target} ({status})"

    return Evidence(**_both(text), kind="rule", ref=f"rule:{r.rule}:{r.subject}",
                    label=f"{label(r.rule, 'en')} · {r.subject} · policy {r.policy_version}", account_id=account_id,
                    detail=r.explanation, facts=_facts(r.facts()),
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
            why = ", ".join(label(r.rule, lang) for r in h.reasons[:3])
            return f"{h.account_id} {names.get(h.account_id, '')}: {STATUS_WORDS[h.status][_i(lang)]}" + (
                f" ({why})" if why else "")
        out.append(Evidence(**_both(text), kind="rule", ref=f"health:{h.account_id}",
                            label=f"health · {h.account_id}", account_id=h.account_id,
                            detail="; ".join(r.explanation for r in h.reasons[:3]) or "all rules ok",
                            facts=[f for r in h.reasons[:3] for f in _facts(r.facts())]))
    return out


TREND_MONTHS = 6


def tool_kpis(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """The account's KPIs (the asked one first, with its last months)."""
    assert account_id is not None
    results = worst_first(kpis.compute_account(ctx.session, account_id, as_of=ctx.as_of))
    focus = args.get("kpi")
    if focus:
        results = sorted(results, key=lambda r: r.rule != focus)
    chosen = [r for r in results if r.rule == focus] or [r for r in results if r.status in ("breach", "warn")]
    out = [rule_evidence(r, account_id) for r in (chosen or results)[:MAX_EVIDENCE - 1]]
    if focus in ("call_off_rate", "otif"):
        series = next(t for t in trends(ctx.session, ctx.as_of, [account_id])[account_id] if t.metric == focus)
        points = [p for p in series.points if p.value is not None][-TREND_MONTHS:]
        if points:
            facts = [Fact(f"trend.{focus}.{account_id}.{p.month}", p.value, "ratio", "policies.kpis",
                          RULE_TERMS.get(focus, ())) for p in points if p.value is not None]

            def text(lang: Language) -> str:
                values = ", ".join(f"{p.month} {pct(p.value, lang)}" for p in points)
                return (f"{account_id} {label(focus, lang)} je Monat: {values}" if lang == "de"
                        else f"{account_id} {label(focus, lang)} by month: {values}")
            out.append(Evidence(**_both(text), kind="rule", ref=f"trend:{focus}:{account_id}",
                                label=f"{label(focus, 'en')} by month · {account_id}", account_id=account_id,
                                detail="monthly values from policies.kpis", facts=_facts(facts)))
    return out


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
        facts = [*check.facts(subject), Fact(f"price.{subject}.last", price, "currency", "crm.order_lines"),
                 Fact(f"price.{subject}.discount", float(discount or 0.0), "ratio", "question")]
        currency = ctx.session.get(m.Account, article.account_id).currency  # type: ignore[union-attr]

        def text(lang: Language, a: Any = article, c: Any = check, p: float = price, cur: str = currency) -> str:
            inside = CORRIDOR_WORDS[c.status][_i(lang)]
            approval = "" if not c.needs_approval else (f"; Freigabe durch {c.needs_approval.replace('_', ' ')}"
                                                        if lang == "de" else
                                                        f"; needs approval by the {c.needs_approval.replace('_', ' ')}")
            if lang == "de":
                return (f"{a.account_id} {a.part_number}: letzter Preis {money(p, cur, lang)}, mit "
                        f"{pct(float(discount or 0), lang)} Nachlass {money(c.proposed_price, cur, lang)}; Marge "
                        f"{pct(c.margin, lang)}, Mindestmarge {pct(c.min_margin, lang)}, Preisuntergrenze "
                        f"{money(c.floor_price, cur, lang)}: {inside}{approval}")
            return (f"{a.account_id} {a.part_number}: last price {money(p, cur, lang)}, with "
                    f"{pct(float(discount or 0), lang)} off {money(c.proposed_price, cur, lang)}; margin "
                    f"{pct(c.margin, lang)}, minimum margin {pct(c.min_margin, lang)}, price floor "
                    f"{money(c.floor_price, cur, lang)}: {inside}{approval}")
        out.append(Evidence(**_both(text), kind="rule", ref=f"price_check:{article.id}",
                            label=f"price check · {article.part_number} · policy {check.policy_version}",
                            account_id=article.account_id, detail=check.explanation, facts=_facts(facts),
                            key=[f"price_check.{subject}.proposed_price", f"price_check.{subject}.margin"]))
    return out


def tool_credit(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    assert account_id is not None
    p = credit.credit_position(ctx.session, account_id, as_of=ctx.as_of, policy=get_policies().credit)

    def text(lang: Language) -> str:
        status = STATUS_WORDS[p.status][_i(lang)]
        if lang == "de":
            return (f"{account_id} Obligo {money(p.exposure, p.currency, lang)} (offene Forderungen "
                    f"{money(p.open_receivables, p.currency, lang)}, offene Aufträge "
                    f"{money(p.open_order_value, p.currency, lang)}); wirksames Limit "
                    f"{money(p.effective_limit, p.currency, lang)} (KAM-Limit {money(p.kam_limit, p.currency, lang)}, "
                    f"versichert {money(p.insured_limit, p.currency, lang)}, {p.insurer_decision}); Auslastung "
                    f"{pct(p.utilisation, lang)} ({status})")
        return (f"{account_id} exposure {money(p.exposure, p.currency, lang)} (open receivables "
                f"{money(p.open_receivables, p.currency, lang)}, open orders "
                f"{money(p.open_order_value, p.currency, lang)}); effective limit "
                f"{money(p.effective_limit, p.currency, lang)} (KAM limit {money(p.kam_limit, p.currency, lang)}, "
                f"insured {money(p.insured_limit, p.currency, lang)}, {p.insurer_decision}); utilisation "
                f"{pct(p.utilisation, lang)} ({status})")
    result = p.as_rule_result()
    return [Evidence(**_both(text), kind="rule", ref=f"rule:credit_utilisation:{account_id}",
                     label=f"credit position · {account_id} · policy {p.policy_version}", account_id=account_id,
                     detail=result.explanation, facts=_facts(p.facts()),
                     key=[f"credit.{account_id}.exposure", f"credit.{account_id}.effective_limit"])]


def tool_receivables(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    invoices = receivables.open_invoices(ctx.session, as_of=ctx.as_of, account_ids=_scope(ctx, account_id))
    ranked = sorted(invoices, key=lambda i: (-i.due_dunning_level, -i.days_overdue, i.invoice_id))
    out = []
    for inv in ranked[:MAX_EVIDENCE]:
        facts = [Fact(f"invoice.{inv.invoice_id}.open_amount", inv.open_amount, "currency", "policies.receivables"),
                 Fact(f"invoice.{inv.invoice_id}.days_overdue", inv.days_overdue, "days", "policies.receivables"),
                 Fact(f"invoice.{inv.invoice_id}.dunning_level", inv.due_dunning_level, "count",
                      "policies.receivables"),
                 Fact(f"invoice.{inv.invoice_id}.due_date", inv.due_date, "date", "crm.invoices")]

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


def tool_replenishment(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    lines = replenishment.replenishment(ctx.session, as_of=ctx.as_of, account_ids=_scope(ctx, account_id),
                                        only_reorder=True)
    ranked = sorted(lines, key=lambda r: (r.coverage_weeks if r.coverage_weeks is not None else 0.0, r.article_id))
    out = []
    for line in ranked[:MAX_EVIDENCE]:
        coverage = None if line.coverage_weeks is None else round(line.coverage_weeks, 1)
        facts = [Fact(f"reorder.{line.article_id}.proposed_qty", line.proposed_qty, "qty", "policies.replenishment"),
                 Fact(f"reorder.{line.article_id}.stock_on_hand", line.stock_on_hand, "qty", "policies.replenishment"),
                 Fact(f"reorder.{line.article_id}.lead_time_weeks", line.lead_time_weeks, "weeks", "crm.articles")]
        if coverage is not None:
            facts.append(Fact(f"reorder.{line.article_id}.coverage_weeks", coverage, "weeks", "policies.replenishment"))

        def text(lang: Language, r: Any = line, cov: float | None = coverage) -> str:
            shown = "–" if cov is None else number(cov, 1, lang)
            if lang == "de":
                return (f"{r.account_id} {r.part_number} {r.description}: Bestand {number(r.stock_on_hand, 0, lang)}, "
                        f"Reichweite {shown} Wochen, Lieferzeit {r.lead_time_weeks} Wochen"
                        f"{' (leer)' if r.empty else ''}; Vorschlag {number(r.proposed_qty, 0, lang)} Stück "
                        "nachbestellen")
            return (f"{r.account_id} {r.part_number} {r.description}: stock {number(r.stock_on_hand, 0, lang)}, "
                    f"coverage {shown} weeks, lead time {r.lead_time_weeks} weeks{' (empty)' if r.empty else ''}; "
                    f"re-order {number(r.proposed_qty, 0, lang)} pcs")
        out.append(Evidence(**_both(text), kind="rule", ref=f"reorder:{line.article_id}",
                            label=f"re-order · {line.part_number} · policy {line.policy_version}",
                            account_id=line.account_id, detail=line.explanation, facts=_facts(facts),
                            key=[line.part_number, f"reorder.{line.article_id}.proposed_qty"]))
    return out


def _text_facts(prefix: str, text: str) -> list[Fact]:
    """The figures and dates a quoted text contains: quoting them is stating the source, not a claim of ours."""
    facts: list[Fact] = []
    for n, token in enumerate(find_numbers(text)):
        for value, _decimals in token.readings:
            facts.append(Fact(f"{prefix}.n{n}", value, "number", "quoted"))
    facts += [Fact(f"{prefix}.d{n}", d, "date", "quoted") for n, (_t, _o, d) in enumerate(find_dates(text)) if d]
    return facts


def tool_contract(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """The contract passages (hybrid retrieval: vectors and keywords) that answer the question."""
    from knowledge.retriever import AccessScope
    from knowledge.service import get_retriever

    retriever = get_retriever(ctx.settings)
    hits = retriever.search(args.get("query") or ctx.question, AccessScope.for_principal(ctx.principal),
                            account_id=account_id, doc_types=["contract"], k=3, mode=ctx.settings.chat_retrieval_mode)
    out = []
    for hit in hits:
        c = hit.chunk
        excerpt = " ".join(c.text.split())[:EXCERPT_CHARS]
        where = ", ".join(x for x in (c.title, c.clause) if x)
        out.append(Evidence(de=f"{c.account_id or ''} «{excerpt}» ({where})".strip(),
                            en=f"{c.account_id or ''} “{excerpt}” ({where})".strip(), kind="chunk",
                            ref=f"chunk:{c.chunk_id}", label=where or c.doc_id, account_id=c.account_id or None,
                            detail=c.text, facts=_facts(_text_facts(f"chunk.{c.chunk_id}", c.text))))
    return out


RECENT_NOTES = 4


def tool_notes(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    assert account_id is not None
    rows = ctx.session.execute(select(m.Interaction).where(
        m.Interaction.account_id == account_id, m.Interaction.interaction_date <= ctx.as_of)
        .order_by(m.Interaction.interaction_date.desc(), m.Interaction.id.desc()).limit(RECENT_NOTES)).scalars()
    out = []
    for row in rows:
        note = " ".join(row.note.split())[:NOTE_CHARS]
        facts = [Fact(f"interaction.{row.id}.date", row.interaction_date, "date", "crm.interactions"),
                 *_text_facts(f"interaction.{row.id}", note)]
        out.append(Evidence(de=f"{account_id} {day(row.interaction_date, 'de')} ({row.interaction_type}): «{note}»",
                            en=f"{account_id} {day(row.interaction_date, 'en')} ({row.interaction_type}): “{note}”",
                            kind="interaction", ref=f"interaction:{row.id}",
                            label=f"{row.interaction_type} · {row.interaction_date.isoformat()} · {row.id}",
                            account_id=account_id, detail=row.note, facts=_facts(facts),
                            key=[f"interaction.{row.id}.date"]))
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
        return pct(value, language)
    if unit == "currency":
        return number(value, 2, language)
    return number(value, 0 if float(value).is_integer() else 1, language)


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


def tool_escalations(ctx: ToolContext, account_id: str | None, args: dict[str, Any]) -> list[Evidence]:
    """Current rule breaches that call for a mail, with the drafts already made for them."""
    out = []
    for status in drafts.current_triggers(ctx.session, ctx.principal, ctx.as_of, account_id)[:MAX_EVIDENCE]:
        t = status.trigger
        facts = [Fact(f"trigger.{t.key}.{f.id}", f.value, f.unit, "escalation_drafter.triggers", f.terms)  # type: ignore[arg-type]
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
                            facts=_facts([Fact(f"nda_review.{review.id}.date", when, "date", "nda_reviews")])))
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
    """The account's latest brief: its summary as it was checked when it was written."""
    assert account_id is not None
    out = []
    for lang in ("de", "en"):
        try:
            brief = briefs.latest(ctx.session, ctx.principal, account_id, language=lang)
        except NotFound:
            continue
        summary = " ".join(s.text for s in brief.summary)
        facts = [*_text_facts(f"brief.{account_id}", summary),
                 Fact(f"brief.{account_id}.date", brief.brief_date, "date", "briefs")]
        out.append(Evidence(de=f"{account_id} Brief vom {day(brief.brief_date, 'de')}: {summary}",
                            en=f"{account_id} brief of {day(brief.brief_date, 'en')}: {summary}", kind="brief",
                            ref=f"brief:{account_id}:{brief.brief_date.isoformat()}:{lang}",
                            label=f"brief · {account_id} · {brief.brief_date.isoformat()}", account_id=account_id,
                            detail=json.dumps([s.text for s in brief.statements()], ensure_ascii=False)[:4000],
                            facts=_facts(facts)))
        break
    return out


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
    Tool("notes", "the latest notes of visits, calls and mails with an account", "crm_details", "account",
         tool_notes),
    Tool("escalations", "KPI breaches that call for an escalation mail, and their drafts", "rules", "both",
         tool_escalations),
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
