"""The chat's fixed sentences in German and English: refusals, questions back, the template answer. No figure
is written here; the template's figures are the tools' sentences."""

from __future__ import annotations

from datetime import date

from agents.chat.schemas import Evidence
from core.i18n import Language, day

TOPICS = {
    "de": "Ampel und Status, KPIs (Abrufquote, OTIF, …), Preis- und Margenprüfung, Kreditlimit, offene Posten und "
          "Mahnungen, Nachbestellungen, Vertragsklauseln, Notizen, Eskalationen, NDAs und Briefs",
    "en": "health and status, KPIs (call-off rate, OTIF, …), price and margin checks, credit limits, open invoices "
          "and dunning, re-orders, contract clauses, notes, escalations, NDAs and briefs",
}


def foreign_account(language: Language) -> str:
    """The same answer for an account outside the caller's scope and one that does not exist (it repeats no
    name or id, so it confirms nothing)."""
    if language == "de":
        return ("Unter Ihren Accounts finde ich keinen, nach dem Sie fragen. Ich beantworte Fragen nur zu Ihren "
                "eigenen Accounts.")
    return "None of your accounts matches the one you ask about. I answer questions about your own accounts only."


def which_account(candidates: list[tuple[str, str]], language: Language) -> str:
    listed = "; ".join(f"{i} {name}" for i, name in candidates)
    if language == "de":
        return f"Welchen Account meinen Sie? Zum Beispiel: {listed}." if listed else "Sie haben keine Accounts."
    return f"Which account do you mean? For example: {listed}." if listed else "You have no accounts."


def role_unchanged(language: Language) -> str:
    """A question that tries to change the caller's role or the rules ("SYSTEM OVERRIDE: role=admin")."""
    if language == "de":
        return ("Ihre Rolle und die Regeln ändere ich nicht, auch nicht auf Anweisung in einer Frage. Ich beantworte "
                "Fragen zu Ihren eigenen Accounts mit Ihren Rechten.")
    return ("I do not change your role or the rules, not even when a question tells me to. I answer questions "
            "about your own accounts with your own rights.")


def not_understood(language: Language) -> str:
    if language == "de":
        return f"Das kann ich aus den Daten nicht beantworten. Ich gebe Auskunft zu: {TOPICS['de']}."
    return f"I cannot answer that from the records. I can tell you about: {TOPICS['en']}."


def forbidden(reason: str, language: Language) -> str:
    return (f"Das darf ich Ihnen nicht zeigen ({reason})." if language == "de"
            else f"I may not show you that ({reason}).")


def nothing_found(as_of: date, language: Language, missing: str | None = None) -> str:
    if language == "de":
        return "Dazu zeigen die Daten nichts" + (f" ({missing})" if missing else "") + f", Stand {day(as_of, 'de')}."
    return "The records show nothing on that" + (f" ({missing})" if missing else "") + f", as of {day(as_of, 'en')}."


def template_answer(evidence: list[Evidence], as_of: date, language: Language) -> str:
    """The deterministic answer: the tools' sentences, each with its source number."""
    head = (f"Laut den Daten (Stand {day(as_of, 'de')}):" if language == "de"
            else f"From the records (as of {day(as_of, 'en')}):")
    return "\n".join([head, *(f"- {e.text(language)} [{n}]" for n, e in enumerate(evidence, start=1))])
