"""How German and English texts name what the service computes: the metrics (KPIs, credit, receivables,
margins, re-orders, counts), the kinds of dated things, and the words for a target. The claim checker
(``core.claims``) binds every figure and date of a sentence to the fact of the name it stands next to, so
"Its OTIF is 70 %" fails when 70 % is the call-off target; the chat reads the same names to know what was
asked. Names are regular expressions, matched case-insensitively as whole words with their inflections.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache


@dataclass(frozen=True)
class Metric:
    key: str
    names: tuple[str, ...]  # regex fragments, DE and EN


# German nouns take -e/-en/-n/-s/-es/-er, English ones -s; adjectives before them are matched separately.
_INFLECTION = r"(?:e|en|n|s|es|er|ern)?"

METRICS: tuple[Metric, ...] = (
    # KPIs (policies/files/kpis.yaml)
    Metric("otif", (r"OTIF", r"on[- ]time[- ](?:and[- ])?in[- ]full", r"Liefertreue", r"Termintreue",
                    r"delivery performance", r"on[- ]time delivery", r"Lieferperformance", r"Lieferleistung")),
    Metric("call_off_rate", (r"call[- ]?off rate", r"call[- ]?off ratio", r"call[- ]?off quote", r"call[- ]?off share",
                             r"Abrufquote", r"Abrufrate", r"Abruf-?Quote", r"Abrufanteil")),
    Metric("forecast_deviation", (r"forecast deviation", r"forecast error", r"forecast variance",
                                  r"Prognoseabweichung", r"Forecast-?Abweichung", r"Prognosefehler",
                                  r"Abweichung (?:von|vom|zur) (?:der )?Prognose")),
    Metric("emergency_air_share", (r"emergency air(?:[- ]freight)?(?: share| rate| quota)?", r"air[- ]freight share",
                                   r"air freight", r"Luftfrachtanteil", r"Luftfrachtquote", r"Notfall-?Luftfracht\w*",
                                   r"Eilluftfracht\w*", r"Luftfracht")),
    Metric("contact_cadence", (r"contact cadence", r"contact rhythm", r"contact frequency", r"Kontaktfrequenz",
                               r"Kontaktrhythmus", r"Kontakthäufigkeit")),
    Metric("qualified_interactions", (r"qualified (?:contacts|interactions)", r"qualifizierte\w* Kontakt\w*",
                                      r"qualifizierte\w* Interaktion\w*")),
    Metric("nps_response_rate", (r"NPS[- ]response rate", r"NPS-?Rücklaufquote", r"response rate", r"Rücklaufquote",
                                 r"Antwortquote")),
    Metric("nps_score", (r"NPS(?![- ](?:response|Rücklauf))(?: score)?", r"net promoter score",
                         r"Net-?Promoter-?Score", r"Weiterempfehlungs\w*")),
    Metric("escalations_documented", (r"documented escalations", r"escalations documented",
                                      r"dokumentierte\w* Eskalation\w*", r"Dokumentationsquote")),
    Metric("escalations_open_days", (r"escalation age", r"age of (?:the )?(?:oldest )?(?:open )?escalations?",
                                     r"days (?:the )?escalation\w* (?:has|have) been open", r"Eskalationsdauer",
                                     r"Alter (?:der )?(?:ältesten )?(?:offene[nr]? )?Eskalation\w*")),
    Metric("nda_status", (r"NDA[- ]status", r"status of the NDA", r"Status de[sr] NDA")),
    Metric("contract_coverage", (r"contract coverage", r"Vertragsabdeckung", r"Vertragsdeckung")),
    Metric("opportunities_identified", (r"identified (?:cross-/up-sell )?opportunit(?:y|ies)",
                                        r"opportunities identified",
                                        r"(?:cross|up)[- ]?(?:/ ?up-)?sell opportunit(?:y|ies)",
                                        r"cross-/up-sell opportunit(?:y|ies)",
                                        r"erkannte\w* (?:Cross-/Up-Sell-)?Chancen?", r"identifizierte\w* Chancen?",
                                        r"Cross-/Up-Sell-Chancen?", r"(?:Cross|Up)-Sell-Chancen?")),
    Metric("revenue_growth", (r"revenue growth", r"sales growth", r"growth in revenue", r"Umsatzwachstum",

                              r"Umsatzsteigerung", r"Umsatzentwicklung", r"growth", r"Wachstum")),
    Metric("account_margin", (r"account margin", r"Kundenmarge", r"Accountmarge", r"gross margin", r"Bruttomarge",
                              r"Deckungsbeitrag\w*", r"margin", r"Marge")),
    Metric("line_margin", (r"line margin", r"article margin", r"Artikelmarge", r"margin", r"Marge")),
    # credit (policies/credit.py)
    Metric("credit_utilisation", (r"(?:credit |limit )?utili[sz]ation", r"Auslastung", r"Limitauslastung",
                                  r"Ausschöpfung", r"Limitausschöpfung")),
    Metric("exposure", (r"(?:total )?exposure", r"Gesamtobligo", r"Obligo", r"Kreditrisiko")),
    Metric("effective_limit", (r"effective (?:credit )?limit", r"wirksame\w* (?:Kredit)?limit", r"credit limit",
                               r"Kreditlimit", r"Kreditrahmen", r"credit line")),
    Metric("kam_limit", (r"KAM[- ]limit", r"KAM[- ]set limit", r"internal limit", r"KAM-?Limit",
                         r"interne\w* Limit")),
    Metric("insured_limit", (r"insured limit", r"insurance limit", r"Hermes[- ]limit", r"credit insurance limit",
                             r"cover(?:age)? of the (?:credit )?insur\w+", r"versicherte\w* Limit",
                             r"Versicherungslimit", r"Hermes-?Limit", r"Versicherungsdeckung", r"insured",
                             r"versichert")),
    Metric("receivables", (r"overdue receivables", r"receivables overdue", r"overdue amounts?", r"overdue invoices",
                           r"(?:invoices?|receivables?|Rechnung\w*|Forderung\w*)\s+(?:(?:is|are|was|were|ist|sind|war|"
                           r"waren)\s+)?(?:\w+\s+)?(?:overdue|past due|überfällig)",
                           r"überfällige\w* Forderung\w*", r"überfällige\w* Rechnung\w*", r"überfällige\w* Beträge",
                           r"Überfälligkeit\w*", r"receivables", r"Forderung\w*")),
    Metric("open_receivables", (r"open receivables", r"outstanding receivables", r"receivables",
                                r"offene\w* Forderung\w*", r"Forderung\w*", r"Außenstände", r"offene\w* Posten")),
    Metric("open_order_value", (r"open orders?", r"order backlog", r"offene\w* Aufträge\w*", r"Auftragsbestand")),
    # invoices and dunning (policies/receivables.py)
    Metric("open_amount", (r"open amount", r"amount (?:still )?open", r"outstanding amount", r"offene\w* Betrag",
                           r"Restbetrag", r"amount", r"Betrag")),
    Metric("days_overdue", (r"days? (?:past due|overdue|late)", r"Tage\w* überfällig", r"Tage\w* im Verzug",
                            r"Tage\w* über Fälligkeit", r"überfällig")),
    Metric("dunning_level", (r"dunning level", r"dunning stage", r"reminder level", r"Mahnstufe",
                             r"Mahnebene")),
    # margins and prices (policies/margins.py)
    Metric("min_margin", (r"minimum margin", r"margin floor", r"Mindestmarge", r"Mindest-?Deckungsbeitrag")),
    Metric("target_margin", (r"target margin", r"Zielmarge")),
    Metric("floor_price", (r"price floor", r"floor price", r"minimum price", r"Preisuntergrenze", r"Mindestpreis")),
    Metric("proposed_price", (r"proposed price", r"new price", r"discounted price", r"vorgeschlagene\w* Preis",
                              r"neue\w* Preis", r"Preis nach (?:dem )?Nachlass")),
    Metric("last_price", (r"last price", r"current price", r"letzte\w* Preis", r"aktuelle\w* Preis")),
    Metric("discount", (r"discount", r"price reduction", r"Nachlass", r"Rabatt", r"Preisreduktion",
                        r"Preisnachlass")),
    # re-orders (policies/replenishment.py)
    Metric("proposed_qty", (r"re-?order quantity", r"proposed quantity", r"re-?order proposals?", r"re-?order",
                            r"Nachbestell\w*", r"Bestellvorschlag", r"Vorschlag", r"vorgeschlagen\w*", r"proposed",
                            r"to re-?order", r"nachzubestellen")),
    Metric("coverage_weeks", (r"coverage", r"stock cover", r"weeks of stock", r"Reichweite")),
    Metric("stock_on_hand", (r"stock on hand", r"stock", r"inventory", r"Bestand", r"Lagerbestand")),
    Metric("lead_time_weeks", (r"lead time", r"Lieferzeit", r"Wiederbeschaffungszeit")),
    # money and counts from the CRM
    Metric("revenue", (r"(?<!growth in )revenue", r"monthly revenue", r"sales", r"turnover", r"Umsatz", r"Umsätze",
                       r"Monatsumsatz\w*", r"Umsatzes")),
    Metric("order_value", (r"order value", r"Auftragswert", r"orders?", r"Auftr(?:ag|äge)", r"Bestellung")),
    Metric("orders", (r"orders?", r"Auftr(?:ag|äge)", r"Bestellung")),
    Metric("opportunity_value", (r"opportunit(?:y|ies)", r"Chancen?", r"Potenzial", r"Potential")),
    Metric("opportunities", (r"opportunit(?:y|ies)", r"Chancen?")),
    Metric("reorders", (r"re-?order proposals?", r"re-?orders?", r"Nachbestell\w*")),
    Metric("breaches", (r"(?:rule )?breach(?:es)?", r"violations?", r"Regelverstöße\w*", r"Verstöße\w*",
                        r"Verstoß")),
    Metric("warnings", (r"warnings?", r"Warnung\w*")),
    Metric("escalations", (r"(?:open )?escalations?", r"Eskalation\w*")),
    Metric("interactions", (r"interactions?", r"contacts?", r"touchpoints?", r"Kontakt\w*", r"Interaktion\w*")),
    Metric("invoices", (r"invoices?", r"Rechnung\w*")),
    Metric("documents", (r"documents?", r"Dokument\w*")),
)
BY_KEY: dict[str, Metric] = {m.key: m for m in METRICS}

# A metric name that is the start of a longer one: "limit" inside "KAM limit" is the KAM limit.
# Matching takes the longest name at a position, so generic names only count where nothing longer matched.

# A figure written next to one of these is the target of the metric the clause is about.
TARGET_WORDS = (r"targets?", r"goals?", r"thresholds?", r"policy", r"benchmark", r"(?:the )?minimum",
                r"(?:the )?maximum",
                r"at least", r"at most", r"no more than", r"not more than", r"max\.?", r"min\.?", r"required",
                r"Ziel\w*", r"Zielwert\w*", r"Soll\w*", r"Sollwert\w*", r"Schwelle\w*", r"Schwellenwert\w*",
                r"Grenze\w*", r"Grenzwert\w*", r"Vorgabe\w*", r"mindestens", r"höchstens", r"maximal", r"minimal",
                r"limit", r"Limit", r"erlaubt\w*", r"allowed", r"permitted", r"zulässig\w*")

# The kinds of dated things a text names, so a date binds to a date of that kind.
DATE_KINDS: dict[str, tuple[str, ...]] = {
    "meeting": (r"meetings?", r"appointments?", r"annual review", r"review meeting", r"scheduled", r"Termin\w*",
                r"Meeting\w*", r"Jahresgespräch\w*", r"geplant für", r"angesetzt"),
    "interaction": (r"contacts?", r"visits?", r"calls?", r"e-?mails?", r"mails?", r"notes?", r"conversations?",
                    r"Kontakt\w*", r"Besuch\w*", r"Anruf\w*", r"Telefonat\w*", r"Notiz\w*", r"Gespräch\w*",
                    r"E-?Mail\w*"),
    "due": (r"due", r"payable", r"fällig\w*", r"Fälligkeit\w*", r"Zahlungsziel\w*"),
    "escalation": (r"escalations?", r"opened", r"Eskalation\w*", r"eröffnet\w*", r"offen seit"),
    "order": (r"orders?", r"ordered", r"Auftr(?:ag|äge)\w*", r"Bestellung\w*", r"bestellt\w*"),
    "document": (r"contracts?", r"agreements?", r"documents?", r"Vertr(?:ag|äge)\w*", r"Dokument\w*",
                 r"Vereinbarung\w*", r"Reklamation\w*", r"complaints?", r"Beschwerde\w*"),
    "brief": (r"brief", r"Brief\w*"),
    "as_of": (r"today", r"as of", r"as at", r"currently", r"now", r"heute", r"Stand", r"per", r"zum Stichtag",
              r"derzeit", r"aktuell", r"Stichtag"),
}


def _compile(fragments: tuple[str, ...], inflect: bool = True) -> re.Pattern[str]:
    suffix = _INFLECTION if inflect else ""
    body = "|".join(f"(?:{f}){suffix}" for f in sorted(fragments, key=len, reverse=True))
    tail = r"(?:-(?:Quote|Rate|Wert|Anteil|Ziel|Zielwert|Kennzahl|KPI|Niveau|Stand)\w*)?" if inflect else ""
    return re.compile(rf"(?<![\w-])(?:{body}){tail}(?![\w-])", re.IGNORECASE)


@cache
def metric_pattern(key: str) -> re.Pattern[str]:
    return _compile(BY_KEY[key].names)


TARGET = _compile(TARGET_WORDS, inflect=False)
DATE_KIND_PATTERNS: dict[str, re.Pattern[str]] = {kind: _compile(words, inflect=False)
                                                 for kind, words in DATE_KINDS.items()}


@dataclass(frozen=True)
class Mention:
    keys: frozenset[str]  # a name may stand for several metrics ("margin": the account's or an article's)
    start: int
    end: int


def _mentions(text: str, patterns: dict[str, re.Pattern[str]]) -> list[Mention]:
    """Every name in ``text``; where names overlap the longest wins ("KAM limit" over "limit"), and a span
    several metrics name carries all their keys."""
    spans: dict[tuple[int, int], set[str]] = {}
    for key, pattern in patterns.items():
        for match in pattern.finditer(text):
            spans.setdefault((match.start(), match.end()), set()).add(key)
    kept: list[Mention] = []
    for (start, end), keys in sorted(spans.items(), key=lambda item: item[0][0] - item[0][1]):
        if not any(start < k.end and k.start < end for k in kept):
            kept.append(Mention(frozenset(keys), start, end))
    return sorted(kept, key=lambda m: m.start)


# A German compound is named by its last part ("Kreditauslastung" is an "Auslastung"): a word ending in a German
# name of at least five letters counts as that name where no name matched it whole.
COMPOUND_WORD = re.compile(r"(?<![\w-])[A-ZÄÖÜ][a-zäöüß]{2,}(?:-?[a-zäöüß]+|-[A-ZÄÖÜ][a-zäöüß]+)+(?![\w-])")


@cache
def _german_heads() -> list[tuple[str, str]]:
    return [(name.lower(), m.key) for m in METRICS for name in m.names
            if re.fullmatch(r"[A-ZÄÖÜ][a-zäöüß]{4,}", name)]


def metric_mentions(text: str) -> list[Mention]:
    found = _mentions(text, {m.key: metric_pattern(m.key) for m in METRICS})
    for word in COMPOUND_WORD.finditer(text):
        if any(word.start() < m.end and m.start < word.end() for m in found):
            continue
        lowered = word.group(0).lower().replace("-", "")
        keys = frozenset(key for head, key in _german_heads() if lowered.endswith(head) and lowered != head)
        if keys:
            found.append(Mention(keys, word.start(), word.end()))
    return sorted(found, key=lambda m: m.start)


def date_kind_mentions(text: str) -> list[Mention]:
    return _mentions(text, DATE_KIND_PATTERNS)


def names_metric(text: str, key: str) -> bool:
    return bool(metric_pattern(key).search(text))


# A figure named by one metric that another stores as its threshold: the minimum margin is the margin rule's
THRESHOLD_OF = {"min_margin": "account_margin"}
# The rule that judges a metric: "the credit limit is exceeded" is the credit utilisation's breach
JUDGED_BY = {"effective_limit": "credit_utilisation", "exposure": "credit_utilisation",
             "min_margin": "account_margin", "line_margin": "account_margin"}

# How a reason names a metric to the model and the reader (English: reasons go to the repair prompt and logs).
LABELS: dict[str, str] = {
    "otif": "OTIF", "call_off_rate": "the call-off rate", "forecast_deviation": "the forecast deviation",
    "emergency_air_share": "the emergency air freight share", "contact_cadence": "the contact cadence",
    "qualified_interactions": "qualified interactions", "nps_response_rate": "the NPS response rate",
    "nps_score": "the NPS", "escalations_documented": "documented escalations",
    "escalations_open_days": "the age of open escalations", "contract_coverage": "the contract coverage",
    "opportunities_identified": "identified opportunities", "revenue_growth": "revenue growth",
    "account_margin": "the margin", "line_margin": "the margin", "credit_utilisation": "the credit utilisation",
    "exposure": "the exposure", "effective_limit": "the credit limit", "kam_limit": "the KAM limit",
    "insured_limit": "the insured limit", "open_receivables": "open receivables", "open_order_value": "open orders",
    "open_amount": "the open amount", "days_overdue": "days overdue", "dunning_level": "the dunning level",
    "min_margin": "the minimum margin", "target_margin": "the target margin", "floor_price": "the price floor",
    "proposed_price": "the proposed price", "last_price": "the last price", "discount": "the discount",
    "proposed_qty": "the re-order quantity", "coverage_weeks": "the stock coverage", "stock_on_hand": "the stock",
    "lead_time_weeks": "the lead time", "revenue": "revenue", "order_value": "the order value", "orders": "orders",
    "opportunity_value": "the opportunity's value", "opportunities": "opportunities",
    "reorders": "re-order proposals", "breaches": "rule breaches", "warnings": "warnings",
    "escalations": "open escalations", "interactions": "interactions", "invoices": "invoices",
    "documents": "documents", "nda_status": "the NDA status", "receivables": "overdue receivables",
}


def describe(keys: frozenset[str] | set[str]) -> str:
    """"the call-off rate", or "the margin" for a name several metrics share."""
    return " / ".join(sorted({LABELS.get(k, k.replace("_", " ")) for k in keys}))
