"""How a person reads a rule result, in German and English: the rule's name, its status, and one reason in
words that says on which side of the target the value is and by how much. A warning is a value inside the
target but close to it, so "Umsatzwachstum 4,7 %, Ziel 3,0 % (Warnung)" reads as a contradiction; the reason
says "nur 1,7 Prozentpunkte über dem Ziel von 3,0 %" instead. The web page, briefs and chat read these; rule
ids never reach a person raw.
"""

from __future__ import annotations

from core.i18n import Language, day, figure, money, number, percent, pick, points
from policies.periods import Period
from policies.results import RuleResult

RULES: dict[str, tuple[str, str]] = {  # rule: (de, en)
    "otif": ("Liefertreue (OTIF)", "OTIF"), "call_off_rate": ("Abrufquote", "call-off rate"),
    "forecast_deviation": ("Prognoseabweichung", "forecast deviation"),
    "emergency_air_share": ("Anteil Notfall-Luftfracht", "emergency air freight share"),
    "contact_cadence": ("Kontaktfrequenz", "contact cadence"), "nps_score": ("NPS", "NPS"),
    "nps_response_rate": ("NPS-Rücklaufquote", "NPS response rate"),
    "escalations_open_days": ("Alter offener Eskalationen", "age of open escalations"),
    "escalations_documented": ("dokumentierte Eskalationen", "documented escalations"),
    "credit_utilisation": ("Kreditlimit-Auslastung", "credit utilisation"),
    "receivables": ("überfällige Forderungen", "overdue receivables"),
    "account_margin": ("Marge", "margin"), "line_margin": ("Artikelmarge", "line margin"),
    "contract_coverage": ("Vertragsabdeckung", "contract coverage"),
    "revenue_growth": ("Umsatzwachstum", "revenue growth"),
    "qualified_interactions": ("qualifizierte Kontakte", "qualified interactions"),
    "opportunities_identified": ("erkannte Cross-/Up-Sell-Chancen", "cross-/up-sell opportunities identified"),
    "nda_status": ("NDA-Status", "NDA status"),
}
STATUSES: dict[str, tuple[str, str]] = {"breach": ("Verstoß", "breach"), "warn": ("Warnung", "warning"),
                                        "ok": ("in Ordnung", "ok"), "not_enough_data": ("zu wenig Daten",
                                                                                         "not enough data")}
NDA_RULES: dict[str, tuple[str, str]] = {
    "mutuality": ("Gegenseitigkeit", "Mutuality"), "term": ("Laufzeit", "Term"),
    "survival": ("Nachwirkung", "Survival"), "governing_law": ("Anwendbares Recht", "Governing law"),
    "jurisdiction": ("Gerichtsstand", "Jurisdiction"),
    "ci_definition": ("Definition vertraulicher Informationen", "Definition of confidential information"),
    "exclusions": ("Ausnahmen", "Exclusions"), "permitted_recipients": ("Zulässige Empfänger", "Permitted recipients"),
    "return_destroy": ("Rückgabe und Vernichtung", "Return and destruction"), "residuals": ("Residuals", "Residuals"),
    "non_solicitation": ("Abwerbeverbot", "Non-solicitation"), "non_compete": ("Wettbewerbsverbot", "Non-compete"),
    "penalty": ("Vertragsstrafe", "Penalty"), "ip": ("Schutzrechte", "Intellectual property"),
    "liability": ("Haftung/Freistellung", "Liability/indemnity"), "assignment": ("Übertragung", "Assignment"),
}


def _i(language: Language) -> int:
    return 0 if language == "de" else 1


def rule_label(rule: str, language: Language) -> str:
    """"call_off_rate" → "Abrufquote" / "call-off rate"; an unknown id as words, never with underscores."""
    pair = RULES.get(rule) or NDA_RULES.get(rule)
    return pair[_i(language)] if pair else rule.replace("_", " ")


def rule_title(rule: str, language: Language) -> str:
    """The label at the start of a sentence ("OTIF", "Call-off rate")."""
    text = rule_label(rule, language)
    return text[:1].upper() + text[1:]


def status_word(status: str, language: Language) -> str:
    return STATUSES.get(status, (status, status))[_i(language)]


def period_words(period: Period, language: Language) -> str:
    """A period with its dates, so a reader knows what "R12" covers: "R12: 01.11.2025 – 31.10.2026"."""
    return f"{period.label}: {day(period.start, language)} – {day(period.end, language)}"


def shown(value: float | None, unit: str, language: Language, currency: str | None = None) -> str:
    """One figure of a rule as a person reads it: ratios as percentages, counts whole, money with currency."""
    if value is None:
        return "–"
    if unit == "ratio":
        return percent(value, language)
    if unit == "currency":
        return money(value, currency, language) if currency else number(value, language, 2)
    if unit == "count":  # counts, and yearly count targets pro-rated to the period, are whole
        return number(round(value), language)
    return figure(value, language)


def _gap(result: RuleResult, language: Language) -> str:
    assert result.value is not None and result.threshold is not None
    difference = abs(result.value - result.threshold)
    if result.unit == "ratio":
        return points(difference * 100, language)
    if result.unit == "days":
        return f"{figure(difference, language)} {pick(language, 'Tage', 'days')}"
    return shown(difference, result.unit, language)


def reason(result: RuleResult, language: Language, currency: str | None = None) -> str:
    """One rule result in words: the value, the side of the target it is on and how far, the status.

    "Abrufquote 62,0 %: 8,0 Prozentpunkte unter dem Ziel von 70,0 % (Verstoß)";
    "Revenue growth 4.7%: only 1.7 percentage points above the target of 3.0% (warning band)".
    """
    name = rule_title(result.rule, language)
    status = status_word(result.status, language)
    value = shown(result.value, result.unit, language, currency)
    inputs = result.inputs
    if result.rule == "receivables":
        level = int(inputs.get("due_dunning_level") or 0)
        days = int(inputs.get("days_overdue") or 0)
        return (f"{name} {value}, ältester Posten {days} Tage überfällig, Mahnstufe {level} fällig ({status})"
                if language == "de" else
                f"{name} {value}, oldest item {days} days overdue, dunning level {level} due ({status})")
    if result.rule == "nda_status":
        verdict = inputs.get("verdict")
        if verdict is None:
            return pick(language, f"NDA {inputs.get('contract_id', '')} noch nicht geprüft ({status})",
                        f"NDA {inputs.get('contract_id', '')} not reviewed yet ({status})")
        words = {"accept": ("annehmen", "accept"), "negotiate": ("nachverhandeln", "negotiate"),
                 "escalate": ("an Legal eskalieren", "escalate to legal")}.get(verdict, (verdict, verdict))
        return pick(language, f"NDA geprüft: {words[0]} ({status})", f"NDA reviewed: {words[1]} ({status})")
    if result.value is None or result.threshold is None or result.direction is None:
        return f"{name} {value} ({status})"
    target = shown(result.threshold, result.unit, language, currency)
    if result.unit == "days":
        value += pick(language, " Tage", " days")
        target += pick(language, " Tagen", " days")
    if result.rule in ("account_margin", "line_margin") and result.status == "warn" and "target_margin" in inputs:
        goal = shown(float(inputs["target_margin"]), "ratio", language)
        return pick(language, f"{name} {value}: über der Mindestmarge von {target}, aber unter der Zielmarge von "
                              f"{goal} (Warnbereich)",
                    f"{name} {value}: above the {target} minimum but below the {goal} target margin (warning band)")
    # a "lower is better" threshold is a limit; a "higher is better" one a target
    kind = pick(language, "der Grenze" if result.direction == "lower" else "dem Ziel",
                "limit" if result.direction == "lower" else "target")
    gap = _gap(result, language)
    band = pick(language, "Warnbereich", "warning band") if result.status == "warn" else status
    if not any(ch in "123456789" for ch in gap):  # no distance at the precision shown (6 against 5.93)
        return pick(language, f"{name} {value}: genau auf {kind} von {target} ({band})",
                    f"{name} {value}: right at the {kind} of {target} ({band})")
    above = result.value > result.threshold
    side = pick(language, "über" if above else "unter", "above" if above else "below")
    if result.status == "warn":
        return pick(language, f"{name} {value}: nur {gap} {side} {kind} von {target} (Warnbereich)",
                    f"{name} {value}: only {gap} {side} the {kind} of {target} (warning band)")
    if language == "de":
        return f"{name} {value}: {gap} {side} {kind} von {target} ({status})"
    return f"{name} {value}: {gap} {side} the {kind} of {target} ({status})"
