"""What code can read from a question without a model: its language, the account it is about (fuzzy match
over the caller's own accounts), what it asks for (keywords, German and English) and the typed arguments
(article part number, discount). The small model fills arguments badly; this does not."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from difflib import SequenceMatcher

from core.i18n import Language
from core.vocabulary import metric_mentions
from policies.periods import add_months, month_start

GERMAN = frozenset("der die das und ist nicht mit von zu den dem ein eine einen bei für auf im sind wird wurde wie "
                   "was wer wann warum wieso welche welcher welches meiner meine mein kann können ich wir sie es "
                   "gibt haben hat noch stand beim zum zur über diese dieser diesem letzte letzten".split())
ENGLISH = frozenset("the and is not with of to a an for on in are was has have what why which who when how can "
                    "could my our do does did this that there any about at last quarter month year since many much "
                    "me show growth revenue margin account accounts customers overdue invoices rate share "
                    "worst best lowest highest health check prep contacts need get".split())
UMLAUT = re.compile(r"[äöüß]", re.IGNORECASE)
WORD = re.compile(r"[^\W_]+(?:[-.'’][^\W_]+)*", re.UNICODE)
ACCOUNT_ID = re.compile(r"\bA-\d{5}\b", re.IGNORECASE)
# legal forms and filler words of company names: they name no one
NAME_STOPWORDS = frozenset("ag gmbh kg kgaa se co plc ltd limited inc llc sa sas sarl srl s.r.l s.r.o a.s sp z o.o "
                           "oy ab nv bv spa s.p.a. & und and the der die das".split())
MIN_NAME_TOKEN = 4
FUZZY = 0.84  # a misspelt name ("Hartman", "Merser") still matches; "Vogel" does not match "Vogt"
PART_NUMBER = re.compile(r"\b(?:\d{3}\.\d{4}-\d{2}|[A-Z]{1,4}-\d{3,6}(?:-\d{1,3})?)\b")
DISCOUNT = re.compile(r"(\d{1,2}(?:[.,]\d{1,2})?)\s?(?:%|prozent|percent|per cent)", re.IGNORECASE)
PORTFOLIO = re.compile(r"\b(?:my accounts|my customers|all (?:my )?accounts|which (?:of my )?(?:accounts?|customers?)|"
                       r"meine[rn]? (?:accounts|kunden)|welche[rnms]? (?:meiner |von meinen )?(?:accounts?|kunden)|"
                       r"alle[n]? (?:meine[n]? )?(?:accounts|kunden)|portfolio|per account|per customer|"
                       r"je (?:account|kunde)|pro (?:account|kunde)|bei welchem kunden|wo liegen wir|where are we|"
                       r"across (?:my |all )?accounts|über alle (?:accounts|kunden))\b", re.IGNORECASE)


def detect_language(text: str, default: Language = "en") -> Language:
    """German or English by function words and umlauts; the reader's language when the question tells nothing."""
    words = [w.lower() for w in WORD.findall(text)]
    de = sum(w in GERMAN for w in words) + 2 * len(UMLAUT.findall(text))
    en = sum(w in ENGLISH for w in words)
    if de == en:
        return default
    return "de" if de > en else "en"


def _fold(text: str) -> str:
    """Lower case, accents dropped (Strojírny → strojirny), ß → ss: how names are compared."""
    text = text.lower().replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def name_tokens(name: str) -> list[str]:
    return [t for t in (_fold(w) for w in WORD.findall(name)) if t not in NAME_STOPWORDS and len(t) >= MIN_NAME_TOKEN]


def _question_tokens(question: str) -> list[str]:
    tokens = []
    for word in WORD.findall(question):
        folded = _fold(word).rstrip("'’")
        tokens.append(folded)
        for suffix in ("'s", "’s", "s"):  # genitive: "Hartmanns", "Mercer's"
            if folded.endswith(suffix) and len(folded) - len(suffix) >= MIN_NAME_TOKEN:
                tokens.append(folded[: -len(suffix)])
    return tokens


def _similar(a: str, b: str) -> bool:
    return a == b or (min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= FUZZY) or (
        min(len(a), len(b)) >= 4 and a[0] == b[0] and _one_edit(a, b))


def _one_edit(a: str, b: str) -> bool:
    """One letter left out, added, changed or two swapped: "Vogl", "Dalten", "Merser"."""
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
        return len(diff) == 1 or (len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]]
                                  and a[diff[1]] == b[diff[0]])
    short, long_ = sorted((a, b), key=len)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


@dataclass(frozen=True)
class AccountRef:
    id: str
    name: str
    country: str = ""  # ISO code: "the UK one", "die österreichische" pick the account by its country


@dataclass
class AccountMatch:
    """The accounts a question names: ``visible`` among the caller's own (best first, ties kept), ``foreign``
    when it names only an account outside the caller's scope (or an id that does not exist)."""

    visible: list[AccountRef] = field(default_factory=list)
    foreign: bool = False

    @property
    def one(self) -> AccountRef | None:
        return self.visible[0] if len(self.visible) == 1 else None


def _score(tokens: Sequence[str], account: AccountRef) -> int:
    """How many of the account's distinctive name words the question contains (fuzzily)."""
    return sum(any(_similar(t, name_token) for t in tokens) for name_token in name_tokens(account.name))


# "bei Kessler", "with Hartmann", "Hartmann's": a name the question is about. When it matches none of the
# caller's accounts the answer is the refusal, whether or not another customer has that name (no existence leak).
NAMED = re.compile(r"\b(?i:bei|with|for|of|von|mit|about|um|für|at|on|how is|how's|how are)\s+"
                   r"(?:der |die |dem |den |the )?"
                   r"([A-ZÄÖÜ][^\W\d_]{2,}(?:[- ][A-ZÄÖÜ][^\W\d_]+)*)|\b([A-ZÄÖÜ][^\W\d_]{2,})(?:'s|’s)\b")
NOT_A_NAME = frozenset("otif kpi kpis nda ndas hermes accounts account kunden kunde customer customers portfolio "
                       "monat month woche week jahr year quartal quarter einkauf logistik purchasing logistics "
                       "team sales vertrieb innendienst".split())


def unknown_name(question: str) -> str | None:
    """A name the question is about ("bei Kessler"), unless it is a word of the domain (a KPI, a document)."""
    for match in NAMED.finditer(question):
        name = match.group(1) or match.group(2)
        first = _fold(name.split()[0])
        if first in NOT_A_NAME or first in GERMAN or first in ENGLISH or any(
                pattern.search(name) for _, pattern in INTENTS):
            continue
        return name
    return None


def match_accounts(question: str, visible: Iterable[AccountRef], others: Iterable[AccountRef]) -> AccountMatch:
    """Resolve the account a question is about. ``others`` are accounts the caller may not see: a question
    that names one of them (better than any own account) is refused the same way as an id that does not exist,
    so the reply tells nothing about other customers."""
    own = list(visible)
    own_ids = {a.id.upper(): a for a in own}
    ids = [i.upper() for i in ACCOUNT_ID.findall(question)]
    if ids:
        found = [own_ids[i] for i in dict.fromkeys(ids) if i in own_ids]
        if len(found) < len(set(ids)):
            return AccountMatch(found, foreign=not found)
        return AccountMatch(found)
    folded = f" {' '.join(_question_tokens(question))} "
    exact = [a for a in own if name_tokens(a.name) and f" {' '.join(name_tokens(a.name))} " in folded]
    if exact:  # a name written out in full beats every fuzzy match ("Gerster Komponenten" is not ambiguous)
        longest = max(len(name_tokens(a.name)) for a in exact)
        return AccountMatch([a for a in exact if len(name_tokens(a.name)) == longest])
    tokens = _question_tokens(question)
    scored = [(_score(tokens, a), a) for a in own]
    best = max((s for s, _ in scored), default=0)
    foreign_best = max((_score(tokens, a) for a in others), default=0)
    if foreign_best > best or (not best and not is_portfolio(question) and unknown_name(question)):
        return AccountMatch([], foreign=True)
    if not best and (countries := described_countries(question)):  # "the UK one": own accounts only
        return AccountMatch([a for a in own if a.country in countries])
    return AccountMatch([a for s, a in scored if s == best and best])


# "the UK one", "die österreichische", "in Austria": an account described by its country, not its name
COUNTRY_WORDS: dict[str, str] = {
    r"uk|u\.k\.|british|britische\w*|england|englische\w*|großbritannien|gb": "GB",
    r"austria|austrian|österreich|österreichische\w*|österr\.": "AT",
    r"czech\w*|tschechien|tschechische\w*": "CZ",
    r"usa|u\.s\.|american|amerika\w*|amerikanische\w*|us-amerikanische\w*": "US",  # not "us": a pronoun
    r"ital(?:y|ian|ien|ienische\w*)": "IT",
    r"deutschland": "DE",  # not "German(y)": "answer in German" names a language
}
_COUNTRIES = [(re.compile(rf"\b(?:{words})\b", re.IGNORECASE), code) for words, code in COUNTRY_WORDS.items()]


def described_countries(question: str) -> set[str]:
    return {code for pattern, code in _COUNTRIES if pattern.search(question)}


# --- what is asked --------------------------------------------------------------------------------------
# tool: words that ask for it (German and English); checked in this order, the first hits win
INTENTS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((tool, re.compile(pattern, re.IGNORECASE))
                                                         for tool, pattern in (
    ("price_check", r"\b(?:\d+(?:[.,]\d+)?\s?%\s?(?:off|rabatt|nachlass|discount)|rabatt\w*|nachlass|discount\w*|"
                    r"corridor|korridor|price floor|preisuntergrenze|offer .* off)\b"),
    ("contract", r"\b(?:contract\w*|vertrag\w*|rahmenvertrag\w*|agree\w*|vereinbar\w*|clause\w*|klausel\w*|"
                 r"price adjustment|preisanpassung\w*|preisgleit\w*|payment terms|zahlungsbedingung\w*|"
                 r"kündigung\w*|termination)\b"),
    ("receivables", r"\b(?:dunning|mahnung\w*|mahnstufe\w*|receivable\w*|forderung\w*|overdue|überfällig\w*|"
                    r"invoice\w*|rechnung\w*|offene posten|zahlungsrückstand\w*|debtor\w*|debitor\w*)\b"),
    ("credit", r"\b(?:credit|kredit\w*|hermes|limit\w*|exposure|obligo|kreditversicher\w*)\b"),
    ("replenishment", r"\b(?:re-?order\w*|nachbestell\w*|nachschub|run(?:s|ning)? (?:empty|out)|leer\w*|"
                      r"stock\w*|bestand\w*|reichweite|coverage|replenish\w*)\b"),
    ("escalations", r"\b(?:escalat\w*|eskalat\w*|drafts?|entw[üu]rfe?|entwurf)\b"),
    ("nda", r"\b(?:nda\w*|geheimhaltung\w*|confidentiality|vertraulichkeit\w*)\b"),
    ("notes", r"\b(?:notes?|notiz\w*|last (?:contact|visit|call|meeting)|"
              r"letzte[nrs]? (?:kontakt|besuch|anruf|termin)\w*|"
              r"discuss\w*|besprochen|gesprochen|promised|zugesagt|commitment\w*|zusage\w*|complain\w*|"
              r"last time|letzte[ns]? mal|zuletzt|talk(?:ed)? (?:about|to|with)|sprachen|geredet|"
              r"reklamation\w*|beschwer\w*|visit report|besuchsbericht\w*)\b"),
    ("kpis", r"\b(?:kpis?|kennzahl\w*|call-?off|abruf\w*|otif|liefertreue|on time|forecast\w*|prognose\w*|"
             r"air freight|luftfracht|contact cadence|kontaktfrequenz|nps)\b"),
    ("brief", r"\b(?:brief\w*|prep(?:are)?\b(?: me)?(?: for)?|meeting prep\w*|vorbereit\w*|vorbereitung|"
              r"annual review|jahresgespräch\w*)\b"),
    ("health", r"\b(?:health|status|ampel\w*|how is|how are|wie steht|wie geht|wie läuft|wie sieht\w*|wie siehts|"
               r"wie schaut\w*|stand|zustand|lage|"
               r"need\w* attention|aufmerksamkeit|risk\w*|risiko|risiken|problem\w*|überblick|overview|red|rot|"
               r"rote[nm]?|amber|gelb\w*|green|grün\w*|going on|los)\b"),
))
# --- which figure is asked ------------------------------------------------------------------------------
# The rules a question can ask for by name (core.vocabulary holds their DE/EN names and inflections; the
# checker reads the same names). Below: what KAMs type beyond those names, and misspellings of one-word names.
RULE_METRICS = ("otif", "call_off_rate", "forecast_deviation", "emergency_air_share", "contact_cadence",
                "qualified_interactions", "nps_response_rate", "nps_score", "escalations_open_days",
                "escalations_documented", "contract_coverage", "opportunities_identified", "revenue_growth",
                "account_margin", "credit_utilisation")
ASKED_AS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((rule, re.compile(p, re.IGNORECASE)) for rule, p in (
    ("call_off_rate", r"\bcall-?offs?\b|\bcalling off\b|\bcall(?:s|ed)? off\b|\babruf(?:e|en|s|menge\w*|verhalten)?\b|"
                      r"abgerufen|\brufen\b.{0,30}\bab\b"),
    ("otif", r"\bon time\b|pünktlich\w*|\bliefertreu\w*|\bdelivery reliability|termintreu\w*"),
    ("forecast_deviation", r"forecast\w*(?:[- ]?(?:accuracy|genauigkeit|quality|qualität|abweichung))?\b|"
                           r"prognose(?:genauigkeit|güte|qualität|treue)?\b|\bvorschau"),
    ("emergency_air_share", r"\bair(?:[- ]?freight|[- ]shipments?)?\b|\bluftfracht\w*|\bflieger|\bflug\w*|"
                            r"\bexpedite\w*|\bsonderfahrt\w*|\beilfracht\w*"),
    ("contact_cadence", r"\bcontact (?:cadence|rhythm|frequency)|kontakt(?:frequenz|rhythmus|häufigkeit|takt)|"
                        r"\bcontacts? (?:per|a|each|every) month|kontakte?n? (?:pro|je|im|jeden) monat|"
                        r"monatliche[nrms]? kontakt\w*"),
    ("qualified_interactions", r"\bqualified\b|qualifiziert\w*"),
    ("nps_response_rate", r"\b(?:nps[- ])?(?:response|rücklauf)\w*"),
    ("nps_score", r"\bnps\b|\bpromoter|weiterempfehl\w*|zufriedenheit\w*|satisfaction"),
    ("escalations_open_days", r"\bescalat\w*|\beskalat\w*"),
    ("revenue_growth", r"\bgrowth\b|wachstum\w*|\bumsatzentwicklung|\bumsatzplus|\bgr[eo]w(?:s|n|ing)?\b|"
                       r"gewachsen|\bwächst|\bwuchs"),
    ("account_margin", r"\bmargins?\b|\bmargen?\b|deckungsbeitr\w*"),
    ("credit_utilisation", r"\butili[sz]\w*|\bauslastung\w*|ausgeschöpft|ausschöpfung"),
))
# one-word names a KAM misspells ("OTFI", "Liefertruee", "Abrufqoute")
ONE_WORD = {"otif": "otif", "liefertreue": "otif", "termintreue": "otif", "abrufquote": "call_off_rate",
            "calloff": "call_off_rate", "luftfracht": "emergency_air_share", "luftfrachtanteil": "emergency_air_share",
            "prognoseabweichung": "forecast_deviation", "kontaktfrequenz": "contact_cadence",
            "umsatzwachstum": "revenue_growth", "eskalationen": "escalations_open_days",
            "forecast": "forecast_deviation", "qualified": "qualified_interactions",
            "qualifizierte": "qualified_interactions"}
TYPO = 0.75  # "OTFI" for OTIF (0.75), "forcast", "qualifed", "Liefertruee"


def metric_focus(question: str) -> str | None:
    """The rule a question asks for by name, synonym or misspelling; the first one named wins."""
    found: list[tuple[int, str]] = []
    for mention in metric_mentions(question):
        keys = [k for k in RULE_METRICS if k in mention.keys]
        if keys:
            found.append((mention.start, keys[0]))
    for rule, pattern in ASKED_AS:
        hit = pattern.search(question)
        if hit:
            found.append((hit.start(), rule))
    if found:
        return min(found)[1]
    for word in WORD.findall(question):
        folded = _fold(word)
        if len(folded) >= 4:
            best = max(ONE_WORD, key=lambda name: SequenceMatcher(None, folded, name).ratio())
            if SequenceMatcher(None, folded, best).ratio() >= TYPO:
                return ONE_WORD[best]
    return None


def intents(question: str) -> list[str]:
    """The tools the question asks for, most specific first (at most two); the health roll-up only when
    nothing more specific is asked ("Wie ist der Stand der Mahnungen?" asks for receivables)."""
    found = [tool for tool, pattern in INTENTS if pattern.search(question)]
    if "price_check" not in found and PART_NUMBER.search(question) and DISCOUNT.search(question):
        found.insert(0, "price_check")  # "Brenner will 4 % auf 817.1184-04": a discount on an article
    specific = [tool for tool in found if tool != "health"]
    return (specific or found)[:2]


# a question that tries to change who asks or what the rules are: refused as a whole, never half-answered
ROLE_CHANGE = re.compile(
    r"\b(?:system\s*(?:override|prompt)|role\s*[=:]|ignore (?:all |any |your |previous |prior |the )*(?:rules|"
    r"instructions|restrictions)|ignorier\w* (?:alle |deine |die |bisherigen |vorherigen )*(?:regeln|anweisungen|"
    r"vorgaben|einschränkungen)|(?:debug|developer|admin|god)[- ]?mod(?:e|us)|you are now|du bist (?:jetzt|nun)|"
    r"act as (?:an? |the )?(?:admin|administrator|head of sales)|als (?:admin|administrator) (?:antworten|handeln))",
    re.IGNORECASE)


def is_portfolio(question: str) -> bool:
    return bool(PORTFOLIO.search(question))


def part_number(question: str) -> str | None:
    found = [p for p in PART_NUMBER.findall(question) if not ACCOUNT_ID.fullmatch(p)]
    return found[0] if found else None


def discount(question: str) -> float | None:
    """The discount asked about, as a fraction (4 % → 0.04)."""
    found = DISCOUNT.search(question)
    return float(found.group(1).replace(",", ".")) / 100 if found else None


# --- over which time --------------------------------------------------------------------------------------
MONTH_NAMES = {"jan": 1, "januar": 1, "january": 1, "feb": 2, "februar": 2, "february": 2, "mär": 3, "märz": 3,
               "maerz": 3, "mar": 3, "march": 3, "apr": 4, "april": 4, "mai": 5, "may": 5, "jun": 6, "juni": 6,
               "june": 6, "jul": 7, "juli": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
               "september": 9, "okt": 10, "oktober": 10, "oct": 10, "october": 10, "nov": 11, "november": 11,
               "dez": 12, "dezember": 12, "dec": 12, "december": 12}
_MONTH_WORD = "|".join(sorted(MONTH_NAMES, key=len, reverse=True))
LAST_MONTH = re.compile(r"\b(?:last month|previous month|letzte[nm]? monat|vormonat\w*|im letzten monat)\b", re.I)
LAST_QUARTER = re.compile(r"\b(?:last quarter|previous quarter|letzte[nms]? quartal\w*|vorquartal\w*)\b", re.I)
THIS_YEAR = re.compile(r"\b(?:this year|so far this year|year to date|ytd|dieses jahr\w*|diesem jahr|"
                       r"seit jahresbeginn|seit jahresanfang|im laufenden jahr|bisher im jahr)\b", re.I)
QUARTER = re.compile(r"\b(?:q([1-4])|([1-4])\. ?quartal)\b(?:\s*(20\d\d))?", re.I)
SINCE_MONTH = re.compile(rf"\b(?:since|seit|from|ab|von)\s+(?:anfang\s+|beginning of\s+|start of\s+)?({_MONTH_WORD})\b"
                         r"\.?(?:\s*(20\d\d))?", re.I)
IN_MONTH = re.compile(rf"\b(?:in|im|for|für|during)\s+({_MONTH_WORD})\b\.?(?:\s*(20\d\d))?", re.I)
SINCE_MEETING = re.compile(r"\b(?:since (?:our|the|my) last (?:meeting|visit|call|contact)|seit (?:unserem|dem|"
                           r"meinem) letzten (?:termin|meeting|besuch|treffen|gespräch|kontakt))\b", re.I)
TREND = re.compile(r"\b(?:trend\w*|verlauf\w*|entwickel\w*|entwicklung|course|over time|month by month|"
                   r"monthly|monatlich\w*|je monat|pro monat|per month|last (?:few|\d+|six|three) months|"
                   r"letzten (?:\d+|paar|sechs|drei) monate\w*|gestiegen|gesunken|rising|falling|improv\w*|"
                   r"verbessert|verschlechtert|worse|better)\b", re.I)
TREND_MONTHS = 6


@dataclass(frozen=True)
class AskedPeriod:
    """The time a question asks about: a rule period (``label``, as policies.periods reads it), or a monthly
    course from ``since`` on, or the time since the last meeting with the account."""

    label: str | None = None
    since: date | None = None
    since_meeting: bool = False
    words: str = ""  # how the question said it

    @property
    def any(self) -> bool:
        return bool(self.label or self.since or self.since_meeting)


def _month_of(name: str, year: str | None, as_of: date) -> date:
    month_ = MONTH_NAMES[name.lower().rstrip(".")]
    if year:
        return date(int(year), month_, 1)
    return date(as_of.year if month_ <= as_of.month else as_of.year - 1, month_, 1)


def asked_period(question: str, as_of: date) -> AskedPeriod:
    this_month = month_start(as_of)
    if hit := SINCE_MEETING.search(question):
        return AskedPeriod(since_meeting=True, words=hit.group(0))
    if hit := SINCE_MONTH.search(question):
        return AskedPeriod(since=_month_of(hit.group(1), hit.group(2), as_of), words=hit.group(0))
    if hit := LAST_MONTH.search(question):
        return AskedPeriod(label=add_months(this_month, -1).strftime("%Y-%m"), words=hit.group(0))
    if hit := LAST_QUARTER.search(question):
        first = add_months(date(as_of.year, 3 * ((as_of.month - 1) // 3) + 1, 1), -3)
        return AskedPeriod(label=f"{first.year}-Q{(first.month - 1) // 3 + 1}", words=hit.group(0))
    if hit := QUARTER.search(question):
        quarter = int(hit.group(1) or hit.group(2))
        year = int(hit.group(3)) if hit.group(3) else (as_of.year if 3 * quarter - 2 <= as_of.month
                                                       else as_of.year - 1)
        return AskedPeriod(label=f"{year}-Q{quarter}", words=hit.group(0))
    if hit := THIS_YEAR.search(question):
        return AskedPeriod(label=str(as_of.year), words=hit.group(0))
    if hit := IN_MONTH.search(question):
        start = _month_of(hit.group(1), hit.group(2), as_of)
        if start <= as_of:
            return AskedPeriod(label=start.strftime("%Y-%m"), words=hit.group(0))
    if hit := TREND.search(question):
        return AskedPeriod(since=add_months(this_month, -TREND_MONTHS), words=hit.group(0))
    return AskedPeriod()


# --- what to do over the portfolio ----------------------------------------------------------------------
Operation = str  # "count" | "worst" | "best" | "lowest" | "highest" | "filter" | "list"
COUNT = re.compile(r"\b(?:how many|how much of|number of|count|wie viele|wieviele|anzahl|wie oft|how often)\b", re.I)
WORST = re.compile(r"\b(?:worst|weakest|most critical|am schlechtesten|schlechteste[nrms]?|schwächste[nrms]?|"
                   r"kritischste[nrms]?|am kritischsten|biggest problem|größte[nrms]? problem)\b", re.I)
BEST = re.compile(r"\b(?:best|strongest|am besten|beste[nrms]?|stärkste[nrms]?)\b", re.I)
LOWEST = re.compile(r"\b(?:lowest|least|smallest|niedrigste[nrms]?|geringste[nrms]?|am niedrigsten|"
                    r"am geringsten|kleinste[nrms]?)\b", re.I)
HIGHEST = re.compile(r"\b(?:highest|most|largest|biggest|höchste[nrms]?|am höchsten|größte[nrms]?|meiste[nrms]?|"
                     r"am meisten)\b", re.I)
FILTER = re.compile(r"\b(?:breach\w*|below|under|miss\w*|fail\w*|not meet\w*|above|over|exceed\w*|red|"
                    r"verletz\w*|verfehl\w*|unter\w*|über\w*|rot\w*|nicht erreich\w*|problem\w*|kritisch\w*|"
                    r"off target|außerhalb|outside)\b", re.I)


def operation(question: str) -> Operation:
    """What a portfolio question wants of the accounts' values."""
    for name, pattern in (("count", COUNT), ("worst", WORST), ("best", BEST), ("lowest", LOWEST),
                          ("highest", HIGHEST), ("filter", FILTER)):
        if pattern.search(question):
            return name
    return "list"


OVERDUE = re.compile(r"\b(?:overdue|past due|late|unpaid|dunn\w*|überfällig\w*|mahn\w*|verzug|offen seit|"
                     r"nicht bezahlt|unbezahlt)\b", re.I)


COMPARE = re.compile(r"\b(?:compare\w*|vergleich\w*|versus|vs\.?|gegenüber)\b", re.I)


def is_compare(question: str, named: int) -> bool:
    """Two or more accounts named with a word that compares them ("X vs Y", "vergleiche X und Y")."""
    return named >= 2 and bool(COMPARE.search(question))
