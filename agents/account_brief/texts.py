"""The fixed parts of a brief, in German and English, filled in by code: labels, risks, opportunities,
talking points, what changed, the hand-over list and the template summary. Every statement cites the facts it
states; every figure comes from the facts (no threshold is written here)."""

from __future__ import annotations

import re
from typing import Any

from agents.account_brief.schemas import BriefFacts, KpiLight, Statement
from core.i18n import Language, day, money, number
from policies import labels
from policies.labels import rule_label as label
from policies.labels import rule_title as title
from policies.labels import status_word
from policies.results import RuleResult

SECTION = {
    "de": {"title": "Kundenbrief", "handover_title": "Übergabe", "kpis": "Kennzahlen", "trends": "Verlauf (12 Monate)",
           "summary": "Lage", "changes": "Seit dem letzten Brief", "history": "Letzte Kontakte",
           "clauses": "Vertragsklauseln", "risks": "Risiken", "opportunities": "Chancen",
           "talking_points": "Gesprächspunkte", "handover": "Für die Übergabe", "next_meeting": "Nächster Termin",
           "contacts": "Ansprechpartner", "owner": "KAM", "partner": "Innendienst", "none": "keine",
           "suggestion": "Vorschlag", "template": "Vorlage (Text ohne KI)",
           "fallback": "Vorlage: der KI-Text hat die Prüfung nicht bestanden", "llm": "KI-Text, geprüft"},
    "en": {"title": "Account brief", "handover_title": "Hand-over", "kpis": "KPIs", "trends": "Trends (12 months)",
           "summary": "Situation", "changes": "Since the last brief", "history": "Recent interactions",
           "clauses": "Contract clauses", "risks": "Risks", "opportunities": "Opportunities",
           "talking_points": "Talking points", "handover": "For the hand-over", "next_meeting": "Next meeting",
           "contacts": "Contacts", "owner": "KAM", "partner": "Inside sales", "none": "none",
           "suggestion": "suggestion", "template": "template (no AI text)",
           "fallback": "template: the AI text failed the checks", "llm": "AI text, checked"},
}


def _i(language: Language) -> int:
    return 0 if language == "de" else 1


def shown(kpi: KpiLight, value: float | None, language: Language, currency: str | None = None) -> str:
    """A KPI figure as the panel shows it (policies.labels.shown)."""
    return labels.shown(value, kpi.unit, language, currency)


def kpi_sentence(k: KpiLight, language: Language, currency: str | None = None) -> Statement:
    """The KPI's value, on which side of its target and by how much, in words (policies.labels.reason)."""
    result = RuleResult(k.rule, "", k.value, k.threshold, k.status, "", k.unit, "",  # type: ignore[arg-type]
                        dict(k.inputs), direction=k.direction)
    return Statement(text=labels.reason(result, language, currency) + ".", cites=[k.cite])


def risks(f: BriefFacts, language: Language) -> list[Statement]:
    out = [kpi_sentence(k, language, f.currency) for k in f.kpis if k.status in ("breach", "warn")]
    for e in f.escalations:
        out.append(Statement(
            text=(f"Eskalation {e.id} seit {day(e.opened_on, language)} offen ({e.age_days} Tage): {e.cause}"
                  if language == "de" else f"Escalation {e.id} open since {day(e.opened_on, language)} "
                                           f"({e.age_days} days): {e.cause}"), cites=[f"escalation:{e.id}"]))
    for r in f.reorders:
        if r.empty:
            what = f"{r.part_number} ({r.description})"
            qty = number(r.proposed_qty, language)
            out.append(Statement(text=(f"Artikel {what} ist leer gelaufen: kein Bestand mehr, die Abrufe laufen "
                                       f"weiter; Nachbestellung von {qty} Stück vorgeschlagen." if language == "de"
                                       else f"Article {what} ran empty: no stock left while call-offs go on; "
                                            f"a re-order of {qty} pieces is proposed."),
                                 cites=[f"article:{r.article_id}"]))
    return out


def opportunities(f: BriefFacts, language: Language) -> list[Statement]:
    out = [Statement(text=f"{o.title} ({o.kind.replace('_', '-')}, {o.status}, "
                          f"{money(o.value, f.currency, language)})",
                     cites=[f"opportunity:{o.id}"]) for o in f.opportunities]
    identified = f.kpi("opportunities_identified")
    if identified and identified.status in ("breach", "warn"):
        out.append(Statement(suggestion=True, cites=[identified.cite], text=(
            f"Weitere Cross-/Up-Sell-Chancen erheben: {shown(identified, identified.value, language)} erkannt, "
            f"Ziel {shown(identified, identified.threshold, language)} pro Jahr." if language == "de" else
            f"Identify more cross-/up-sell opportunities: {shown(identified, identified.value, language)} found, "
            f"target {shown(identified, identified.threshold, language)} a year.")))
    coverage = f.kpi("contract_coverage")
    if coverage and coverage.status in ("breach", "warn"):
        out.append(Statement(suggestion=True, cites=[coverage.cite], text=(
            "Artikel mit Bedarf, aber ohne Abrufplan, in den Rahmenvertrag aufnehmen." if language == "de" else
            "Bring articles with demand but no call-off plan under the framework contract.")))
    return out


TALKING: dict[str, tuple[str, str]] = {  # rule in breach or warning: what to raise in the meeting
    "call_off_rate": ("Abrufplan und Abrufmengen neu verhandeln (Eskalationsgespräch).",
                      "Renegotiate the call-off plan and quantities (escalation meeting)."),
    "otif": ("Lieferperformance besprechen: Ursachen und Maßnahmen.",
             "Review delivery performance: causes and actions."),
    "forecast_deviation": ("Prognosequalität abstimmen.", "Align on forecast quality."),
    "emergency_air_share": ("Notfall-Luftfrachten vermeiden: Planung prüfen.",
                            "Avoid emergency air freight: check planning."),
    "contact_cadence": ("Regelmäßigen Kontakt vereinbaren.", "Agree a regular contact rhythm."),
    "nps_score": ("Zufriedenheit ansprechen: Rückmeldungen aus der NPS-Umfrage.",
                  "Discuss satisfaction: NPS feedback."),
    "receivables": ("Offene Posten ansprechen (nach Abstimmung mit der Buchhaltung).",
                    "Raise overdue invoices (after checking with finance)."),
    "account_margin": ("Preise prüfen, bevor Zugeständnisse gemacht werden.",
                       "Check prices before making concessions."),
    "credit_utilisation": ("Auftragsvolumen und Kreditrahmen intern klären.",
                           "Clarify order volume and credit internally."),
    "escalations_open_days": ("Offene Eskalationen abschließen.", "Close the open escalations."),
}


def talking_points(f: BriefFacts, language: Language) -> list[Statement]:
    points = [Statement(text=TALKING[k.rule][_i(language)], cites=[k.cite])
              for k in f.kpis if k.status in ("breach", "warn") and k.rule in TALKING]
    confirm = [r for r in f.reorders if not r.empty][:3]
    if confirm:
        parts = ", ".join(r.part_number for r in confirm)
        points.append(Statement(text=(f"Nachbestellungen bestätigen lassen: {parts}." if language == "de"
                                      else f"Have the re-orders confirmed: {parts}."),
                                cites=[f"article:{r.article_id}" for r in confirm]))
    open_opps = [o for o in f.opportunities if o.status in ("identified", "qualified")]
    if open_opps:
        points.append(Statement(text=(f"Chance nachfassen: {open_opps[0].title}." if language == "de"
                                      else f"Follow up the opportunity: {open_opps[0].title}."),
                                cites=[f"opportunity:{open_opps[0].id}"]))
    if len(points) < 3 and f.interactions:
        last = f.interactions[0]
        points.append(Statement(text=(f"An den letzten Kontakt vom {day(last.date, language)} anknüpfen."
                                      if language == "de" else
                                      f"Follow up on the last contact of {day(last.date, language)}."),
                                cites=[f"interaction:{last.id}"]))
    if len(points) < 3:
        points.append(Statement(text=("Bedarf der nächsten Monate abfragen." if language == "de"
                                      else "Ask about demand for the coming months."), cites=[]))
    return points[:5]


def summary(f: BriefFacts, language: Language) -> list[Statement]:
    breaches = [k for k in f.kpis if k.status == "breach"]
    warnings = [k for k in f.kpis if k.status == "warn"]
    worst = breaches[0] if breaches else warnings[0] if warnings else None
    if language == "de":
        head = (f"{f.name} (Segment {f.segment}): {len(breaches)} Regelverstöße, {len(warnings)} Warnungen, "
                f"{len(f.escalations)} offene Eskalationen.")
    else:
        head = (f"{f.name} (segment {f.segment}): {len(breaches)} rule breaches, {len(warnings)} warnings, "
                f"{len(f.escalations)} open escalations.")
    out = [Statement(text=head, cites=[k.cite for k in [*breaches, *warnings]][:6])]
    if worst is not None:
        out.append(kpi_sentence(worst, language, f.currency))
    if f.next_meeting:
        m = f.next_meeting
        out.append(Statement(text=(f"Nächster Termin am {day(m.date, language)}: {m.title}." if language == "de"
                                   else f"Next meeting on {day(m.date, language)}: {m.title}."),
                             cites=[f"meeting:{m.id}"]))
    return out


def changes(current: BriefFacts, previous: BriefFacts | None, language: Language) -> list[Statement]:
    """What changed since the last brief, from a diff of the stored facts."""
    if previous is None:
        return [Statement(text="Erster Brief für diesen Kunden." if language == "de"
                          else "First brief for this account.")]
    out: list[Statement] = []
    before = {k.rule: k for k in previous.kpis}
    for k in current.kpis:
        old = before.get(k.rule)
        if old is not None and old.status != k.status:
            was, now = status_word(old.status, language), status_word(k.status, language)
            out.append(Statement(text=(f"{label(k.rule, language)}: {was} → {now} ({shown(k, k.value, language)})."
                                       if language == "de" else
                                       f"{title(k.rule, language)}: {was} → {now} "
                                       f"({shown(k, k.value, language)})."), cites=[k.cite]))
    def new(items: list[Any], old: list[Any], key: str, prefix: str) -> list[str]:
        seen = {getattr(o, key) for o in old}
        return [f"{prefix}:{getattr(i, key)}" for i in items if getattr(i, key) not in seen]

    for de, en, ids in (
            ("neue Kontakte", "new interactions",
             new(current.interactions, previous.interactions, "id", "interaction")),
            ("neue Eskalationen", "new escalations",
             new(current.escalations, previous.escalations, "id", "escalation")),
            ("neue Aufträge", "new orders", new(current.orders, previous.orders, "id", "order")),
            ("neue Chancen", "new opportunities",
             new(current.opportunities, previous.opportunities, "id", "opportunity")),
            ("neue Nachbestellvorschläge", "new re-order proposals",
             new(current.reorders, previous.reorders, "article_id", "article"))):
        if ids:
            out.append(Statement(text=f"{len(ids)} {de if language == 'de' else en}.", cites=ids))
    known = {d.id: d.content_hash for d in previous.documents}
    for d in current.documents:
        if known.get(d.id) != d.content_hash:
            status = (("Neues Dokument", "New document") if d.id not in known
                      else ("Neue Fassung", "New version"))[_i(language)]
            out.append(Statement(text=f"{status}: {d.title} ({day(d.date, language)}).", cites=[f"document:{d.id}"]))
    closed = [e for e in previous.escalations if e.id not in {c.id for c in current.escalations}]
    if closed:
        out.append(Statement(text=(f"{len(closed)} Eskalationen abgeschlossen." if language == "de"
                                   else f"{len(closed)} escalations closed."),
                             cites=[]))
    return out or [Statement(text="Keine Änderungen." if language == "de" else "No changes.")]


def handover(f: BriefFacts, language: Language) -> list[Statement]:
    """For the person taking over: contacts and their language, running escalations and re-orders, open
    opportunities, and the last notes (where commitments were made) to read in full."""
    out = [Statement(text=(f"{c.name} ({c.role}, spricht {c.language})" if language == "de"
                           else f"{c.name} ({c.role}, speaks {c.language})"), cites=[f"contact:{c.id}"])
           for c in f.contacts]
    out += [Statement(text=(f"Laufende Eskalation {e.id}: {e.cause}" if language == "de"
                            else f"Running escalation {e.id}: {e.cause}"), cites=[f"escalation:{e.id}"])
            for e in f.escalations]
    out += [Statement(text=(f"Nachbestellung offen: {r.part_number}" if language == "de"
                            else f"Re-order pending: {r.part_number}"), cites=[f"article:{r.article_id}"])
            for r in f.reorders]
    for i in f.interactions[:RECENT_NOTES]:
        said = commitments(i.note)
        if said:
            out += [Statement(text=(f"Zusage laut Notiz vom {day(i.date, language)}" if language == "de"
                                    else f"Commitment in the note of {day(i.date, language)}"),
                              cites=[f"interaction:{i.id}"], quote=sentence) for sentence in said]
        else:
            out.append(Statement(text=(f"Notiz vom {day(i.date, language)} lesen" if language == "de"
                                       else f"Read the note of {day(i.date, language)}"),
                                 cites=[f"interaction:{i.id}"], quote=i.note[:160]))
    return out


RECENT_NOTES = 3
# What a KAM or the inside-sales partner promised, in the notes' languages: the successor must keep it.
COMMITMENT = re.compile(
    r"\b(?:zugesagt|sagen?\s+zu|sicherte?n?\s+zu|versprochen|vereinbart|verbindlich|wir\s+(?:liefern|schicken|senden|"
    r"melden|prüfen|klären)|bis\s+(?:zum|spätestens|Ende|KW)|promised|agreed|committed|will\s+(?:send|deliver|"
    r"check|call|provide|confirm)|by\s+(?:the\s+end|next|Monday|Tuesday|Wednesday|Thursday|Friday|week))\b",
    re.IGNORECASE)
SENTENCE = re.compile(r"(?<=[.!?])\s+")


def commitments(note: str) -> list[str]:
    """The note's sentences that record a commitment, verbatim."""
    return [s.strip() for s in SENTENCE.split(note) if COMMITMENT.search(s)]
