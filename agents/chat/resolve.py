"""What code can read from a question without a model: its language, the account it is about (fuzzy match
over the caller's own accounts), what it asks for (keywords, German and English) and the typed arguments
(article part number, discount). The small model fills arguments badly; this does not."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

from agents.chat.schemas import Language

GERMAN = frozenset("der die das und ist nicht mit von zu den dem ein eine einen bei für auf im sind wird wurde wie "
                   "was wer wann warum wieso welche welcher welches meiner meine mein kann können ich wir sie es "
                   "gibt haben hat noch stand beim zum zur über diese dieser diesem letzte letzten".split())
ENGLISH = frozenset("the and is not with of to a an for on in are was has have what why which who when how can "
                    "could my our do does did this that there any about".split())
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
PORTFOLIO = re.compile(r"\b(?:my accounts|my customers|all (?:my )?accounts|which (?:of my )?(?:accounts|customers)|"
                       r"meine[rn]? (?:accounts|kunden)|welche[rn]? (?:meiner )?(?:accounts|kunden)|"
                       r"alle[n]? (?:meine[n]? )?(?:accounts|kunden)|portfolio)\b", re.IGNORECASE)


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
    return a == b or (min(len(a), len(b)) >= 5 and SequenceMatcher(None, a, b).ratio() >= FUZZY)


@dataclass(frozen=True)
class AccountRef:
    id: str
    name: str


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
    tokens = _question_tokens(question)
    scored = [(_score(tokens, a), a) for a in own]
    best = max((s for s, _ in scored), default=0)
    foreign_best = max((_score(tokens, a) for a in others), default=0)
    if foreign_best > best or (not best and not is_portfolio(question) and unknown_name(question)):
        return AccountMatch([], foreign=True)
    return AccountMatch([a for s, a in scored if s == best and best])


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
              r"discuss\w*|besprochen|gesprochen|promised|zugesagt|commitment\w*|zusage\w*)\b"),
    ("kpis", r"\b(?:kpis?|kennzahl\w*|call-?off|abruf\w*|otif|liefertreue|on time|forecast\w*|prognose\w*|"
             r"air freight|luftfracht|contact cadence|kontaktfrequenz|nps)\b"),
    ("brief", r"\b(?:brief\w*|prepare (?:for )?(?:the )?meeting|meeting prep\w*|vorbereit\w*)\b"),
    ("health", r"\b(?:health|status|ampel\w*|how is|how are|wie steht|wie geht|wie läuft|stand|zustand|lage|"
               r"need\w* attention|aufmerksamkeit|risk\w*|risiko|risiken|problem\w*|überblick|overview)\b"),
))
# a KPI the question is about, so the answer leads with it
KPI_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = tuple((rule, re.compile(p, re.IGNORECASE)) for rule, p in (
    ("call_off_rate", r"call-?off|abruf"), ("otif", r"otif|liefertreue|on time|pünktlich"),
    ("forecast_deviation", r"forecast|prognose"), ("emergency_air_share", r"air freight|luftfracht"),
    ("contact_cadence", r"contact cadence|kontaktfrequenz|kontakthäufigkeit"), ("nps_score", r"\bnps\b"),
))


def intents(question: str) -> list[str]:
    """The tools the question asks for, most specific first (at most two); the health roll-up only when
    nothing more specific is asked ("Wie ist der Stand der Mahnungen?" asks for receivables)."""
    found = [tool for tool, pattern in INTENTS if pattern.search(question)]
    specific = [tool for tool in found if tool != "health"]
    return (specific or found)[:2]


def kpi_focus(question: str) -> str | None:
    return next((rule for rule, pattern in KPI_WORDS if pattern.search(question)), None)


def is_portfolio(question: str) -> bool:
    return bool(PORTFOLIO.search(question))


def part_number(question: str) -> str | None:
    found = [p for p in PART_NUMBER.findall(question) if not ACCOUNT_ID.fullmatch(p)]
    return found[0] if found else None


def discount(question: str) -> float | None:
    """The discount asked about, as a fraction (4 % → 0.04)."""
    found = DISCOUNT.search(question)
    return float(found.group(1).replace(",", ".")) / 100 if found else None
