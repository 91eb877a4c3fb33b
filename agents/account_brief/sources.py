"""The brief's facts as the claim checker reads them: one source per id a statement may cite, plus the
account itself (its name and counts), which every sentence may state."""

from __future__ import annotations

from agents.account_brief import texts
from agents.account_brief.schemas import BriefFacts
from core import claims
from core.db.repository import short_names
from core.facts import Fact, Unit
from core.i18n import Language, day, money, month, number, percent
from knowledge.clauses import ClauseRef

ACCOUNT_REF = "account"
# the inputs of a rule that its reason in words names (policies.labels.reason), with their units
REASON_INPUTS: tuple[tuple[str, Unit], ...] = (("min_margin", "ratio"), ("target_margin", "ratio"),
                                              ("days_overdue", "days"), ("due_dunning_level", "count"))
TREND_METRICS = {"call_off_rate": "call_off_rate", "otif": "otif", "margin": "account_margin", "revenue": "revenue"}


def _source(ref: str, kind: claims.SourceKind, f: BriefFacts, text: str, facts: list[Fact], **extra: object
            ) -> claims.Source:
    return claims.Source(ref=ref, kind=kind, account_id=f.account_id, text=text, facts=tuple(facts),
                         **extra)  # type: ignore[arg-type]


def claim_sources(f: BriefFacts, language: Language, clauses: list[ClauseRef] | None = None) -> list[claims.Source]:
    """Every source a brief sentence may cite, by the id it cites, each with a sentence saying what it states."""
    de = language == "de"
    a = f.account_id
    counts = {"breaches": sum(k.status == "breach" for k in f.kpis),
              "warnings": sum(k.status == "warn" for k in f.kpis),
              "escalations": len(f.escalations), "orders": len(f.orders),
              "opportunities": len(f.opportunities), "reorders": len(f.reorders), "documents": len(f.documents)}
    words = COUNT_WORDS["de" if de else "en"]
    names = [f.name, f.owner.name, *([f.partner.name] if f.partner else []), *(c.name for c in f.contacts)]
    profile = (f"{a} {f.name} (Segment {f.segment}, {f.country}, {f.currency}); KAM {f.owner.name}"
               + (f", {'Innendienst' if de else 'inside sales'} {f.partner.name}" if f.partner else "")
               + f"; {'Stand' if de else 'as of'} {day(f.as_of, language)}: "
               + ", ".join(f"{value} {words[name]}" for name, value in counts.items()))
    out = [_source(ACCOUNT_REF, "computed", f, profile,
                   [Fact("as_of", f.as_of, "date", "run", "as_of"),
                    *(Fact(f"count:{name}", value, "count", "crm", name) for name, value in counts.items())],
                   names=tuple(names))]
    trends = {TREND_METRICS[t.metric]: t for t in f.trends}
    for k in f.kpis:
        unit = KPI_UNITS.get(k.unit, "number")
        facts = []
        if k.value is not None:
            facts.append(Fact(f"kpi:{k.rule}", k.value, unit, "policies", k.rule))
        if k.threshold is not None:  # a yearly count target pro-rated to the period is shown whole
            threshold = round(k.threshold) if k.unit == "count" else k.threshold
            facts.append(Fact(f"kpi:{k.rule}.threshold", threshold, unit, "policies", k.rule,
                              "threshold"))
        if k.value is not None and k.threshold is not None:  # how far from the target (policies.labels.reason)
            ratio = k.unit == "ratio"
            facts.append(Fact(f"kpi:{k.rule}.gap", round(abs(k.value - k.threshold) * (100 if ratio else 1), 6),
                              "points" if ratio else unit, "policies", k.rule, "input"))
        facts += [Fact(f"kpi:{k.rule}.{name}", value, kind, "policies", name, "input")  # what a reason names
                  for name, kind in REASON_INPUTS if isinstance(value := k.inputs.get(name), int | float)]
        series: tuple[claims.Series, ...] = ()
        text = f"{a} {texts.kpi_sentence(k, language).text}"
        if (trend := trends.get(k.rule)) is not None:
            points = tuple((p.month, p.value) for p in trend.points if p.value is not None)
            series = (claims.Series(k.rule, points, k.direction),)
            facts += [Fact(f"kpi:{k.rule}.{m}", v, unit, "policies", k.rule, period=m)
                      for m, v in points]
            text += (" Je Monat: " if de else " By month: ") + _course(points, "ratio", f.currency, language)
        out.append(_source(k.cite, "computed", f, text, facts,
                           assessments=(claims.Assessment(k.rule, k.value, k.threshold, k.status, k.direction),),
                           series=series))
    if (trend := trends.get("revenue")) is not None:
        points = tuple((p.month, p.value) for p in trend.points if p.value is not None)
        out.append(_source("trend:revenue", "computed", f,
                           f"{a} {'Umsatz je Monat' if de else 'revenue by month'}: "
                           + _course(points, "currency", f.currency, language),
                           [Fact(f"trend:revenue.{m}", v, "currency", "crm", "revenue", period=m) for m, v in points],
                           series=(claims.Series("revenue", points, None),)))
    if f.next_meeting:
        meeting = f.next_meeting
        out.append(_source(f"meeting:{meeting.id}", "computed", f,
                           f"{a} {'nächster Termin' if de else 'next meeting'} {day(meeting.date, language)}: "
                           f"{meeting.title} ({', '.join(meeting.attendees)})",
                           [Fact(f"meeting:{meeting.id}", meeting.date, "date", "crm", "meeting")],
                           names=tuple(meeting.attendees)))
    for i in f.interactions:
        out.append(_source(f"interaction:{i.id}", "note", f, f"{a} {day(i.date, language)} ({i.type}): {i.note}",
                           [Fact(f"interaction:{i.id}", i.date, "date", "crm", "interaction"),
                            *claims.text_facts(f"interaction:{i.id}", i.note)]))
    for e in f.escalations:
        out.append(_source(f"escalation:{e.id}", "note", f,  # its cause is what a person wrote
                           (f"{a} Eskalation {e.id} offen seit {day(e.opened_on, language)} ({e.age_days} Tage): "
                            if de else f"{a} escalation {e.id} open since {day(e.opened_on, language)} "
                                       f"({e.age_days} days): ") + e.cause,
                           [Fact(f"escalation:{e.id}", e.opened_on, "date", "crm", "escalation", subject=e.id),
                            Fact(f"escalation:{e.id}.age_days", e.age_days, "days", "crm", "escalations_open_days",
                                 subject=e.id)]))
    for o in f.orders:
        out.append(_source(f"order:{o.id}", "computed", f,
                           f"{a} {'Auftrag' if de else 'order'} {o.id} {'vom' if de else 'of'} "
                           f"{day(o.date, language)}: {money(o.value, f.currency, language)}",
                           [Fact(f"order:{o.id}", o.value, "currency", "crm", "order_value", subject=o.id),
                            Fact(f"order:{o.id}.date", o.date, "date", "crm", "order", subject=o.id)]))
    for p in f.opportunities:
        out.append(_source(f"opportunity:{p.id}", "computed", f,
                           f"{a} {'Chance' if de else 'opportunity'} {p.id} „{p.title}“ ({p.kind}, {p.status}, "
                           f"{'erkannt am' if de else 'identified on'} {day(p.identified_on, language)}): "
                           f"{money(p.value, f.currency, language)}",
                           [Fact(f"opportunity:{p.id}", p.value, "currency", "crm", "opportunity_value", subject=p.id),
                            Fact(f"opportunity:{p.id}.date", p.identified_on, "date", "crm", "document",
                                 subject=p.id)]))
    for r in f.reorders:
        facts = [Fact(f"article:{r.article_id}.proposed_qty", r.proposed_qty, "qty", "policies", "proposed_qty",
                      subject=r.article_id)]
        coverage = ""
        if r.coverage_weeks is not None:
            facts.append(Fact(f"article:{r.article_id}.coverage_weeks", r.coverage_weeks, "weeks", "policies",
                              "coverage_weeks", subject=r.article_id))
            coverage = (f", Reichweite {number(r.coverage_weeks, language, 1)} Wochen" if de
                        else f", coverage {number(r.coverage_weeks, language, 1)} weeks")
        out.append(_source(f"article:{r.article_id}", "computed", f,
                           (f"{a} Nachbestellung {r.part_number} {r.description}: Vorschlag "
                            f"{number(r.proposed_qty, language)} Stück" if de else
                            f"{a} re-order {r.part_number} {r.description}: propose {number(r.proposed_qty, language)} "
                            "pcs") + coverage + (" (leer)" if de and r.empty else " (empty)" if r.empty else ""),
                           facts))
    for c in f.contacts:
        out.append(_source(f"contact:{c.id}", "computed", f,
                           f"{a} {'Ansprechpartner' if de else 'contact'} {c.name} ({c.role}, {c.language})", [],
                           names=(c.name,)))
    for d in f.documents:
        out.append(_source(f"document:{d.id}", "note", f,
                           f"{a} {'Dokument' if de else 'document'} „{d.title}“ ({d.type}) {'vom' if de else 'of'} "
                           f"{day(d.date, language)}",
                           [Fact(f"document:{d.id}", d.date, "date", "knowledge", "document")]))
    for clause in clauses or []:
        where = ", ".join(x for x in (clause.title, clause.clause) if x)
        text = " ".join(clause.text.split())
        out.append(_source(clause.cite, "clause", f, f"{a} ({where}): {text}", claims.text_facts(clause.cite, text)))
    return out


KPI_UNITS: dict[str, Unit] = {"ratio": "ratio", "days": "days", "count": "count", "currency": "currency",
                              "score": "score", "weeks": "weeks"}
COUNT_WORDS = {
    "de": {"breaches": "Regelverstöße", "warnings": "Warnungen", "escalations": "offene Eskalationen",
           "orders": "Aufträge in 90 Tagen", "opportunities": "Chancen",
           "reorders": "Nachbestellvorschläge", "documents": "Dokumente"},
    "en": {"breaches": "rule breaches", "warnings": "warnings", "escalations": "open escalations",
           "orders": "orders in 90 days", "opportunities": "opportunities",
           "reorders": "re-order proposals", "documents": "documents"},
}


def _course(points: tuple[tuple[str, float], ...], unit: str, currency: str, language: Language) -> str:
    shown = (lambda v: percent(v, language)) if unit == "ratio" else (lambda v: money(v, currency, language))
    return ", ".join(f"{month(m, language)} {shown(v)}" for m, v in points)


def claim_context(f: BriefFacts, language: Language, clauses: list[ClauseRef] | None = None) -> claims.ClaimContext:
    """How a brief's sentences are checked: each cites ids; the account (name, counts, as-of) is always bound."""
    return claims.ClaimContext(sources=claim_sources(f, language, clauses), language=language, as_of=f.as_of,
                               marked=True, always=(ACCOUNT_REF,), default_account=f.account_id,
                               account_names={f.account_id: short_names(f.name)})
