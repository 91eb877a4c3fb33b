"""An NDA as clauses and sentences with offsets, and the small parsers every extractor needs (durations,
amounts, number words in German and English)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property

from knowledge.chunking import Clause, clauses
from policies.nda import Evidence

NUMBER_WORDS = {
    "ein": 1, "eine": 1, "einen": 1, "einem": 1, "einer": 1, "eines": 1, "one": 1, "a": 1, "an": 1,
    "zwei": 2, "two": 2, "drei": 3, "three": 3, "vier": 4, "four": 4, "fünf": 5, "five": 5, "sechs": 6,
    "six": 6, "sieben": 7, "seven": 7, "acht": 8, "eight": 8, "neun": 9, "nine": 9, "zehn": 10, "ten": 10,
    "elf": 11, "eleven": 11, "zwölf": 12, "twelve": 12, "dreizehn": 13, "thirteen": 13, "vierzehn": 14,
    "fourteen": 14, "fünfzehn": 15, "fifteen": 15, "sechzehn": 16, "sixteen": 16, "achtzehn": 18,
    "eighteen": 18, "zwanzig": 20, "twenty": 20, "vierundzwanzig": 24, "twenty-four": 24, "dreißig": 30,
    "thirty": 30, "sechsunddreißig": 36, "thirty-six": 36, "fünfundvierzig": 45, "forty-five": 45,
    "achtundvierzig": 48, "forty-eight": 48, "sechzig": 60, "sixty": 60, "neunzig": 90, "ninety": 90,
}
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
DURATION = re.compile(
    rf"(?<![\w.,])(?P<num>\d+(?:[.,]\d+)?|{_WORDS})\s*(?:\(\s*\d+\s*\)\s*)?"
    r"(?:(?:weitere[n]?|further|additional|volle[n]?|full|consecutive)\s+)?"
    r"(?P<unit>Jahr(?:e|en|es)?|years?|Monat(?:e|en|s)?|months?|Woche(?:n)?|weeks?|Tag(?:e|en)?|days?)\b",
    re.IGNORECASE)
AMOUNT = re.compile(r"(?P<cur1>EUR|€|USD|US\$|\$|GBP|£|CHF)\s*(?P<num1>\d[\d.,']*\d|\d)"
                    r"|(?P<num2>\d[\d.,']*\d|\d)\s*(?P<cur2>EUR|€|Euro|USD|GBP|CHF)(?![A-Za-z])", re.IGNORECASE)
CURRENCY = {"€": "EUR", "euro": "EUR", "eur": "EUR", "$": "USD", "us$": "USD", "usd": "USD", "£": "GBP", "gbp": "GBP",
            "chf": "CHF"}
# Abbreviations after which a full stop does not end a sentence.
ABBREVIATIONS = re.compile(r"(?:\b(?:Nr|Abs|bzw|ggf|inkl|Ziff|ff|vgl|ca|No|Inc|Ltd|Co|St|Art|Sec|z\.\s?B|e\.\s?V|"
                           r"i\.\s?S|u\.\s?a|d\.\s?h|e\.\s?g|i\.\s?e|U\.S)|\b[A-Z]|\d)\.$")


def number_value(token: str) -> float | None:
    token = token.lower()
    if token in NUMBER_WORDS:
        return float(NUMBER_WORDS[token])
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return None


@dataclass(frozen=True)
class Duration:
    years: float
    unit: str  # years | months | weeks | days
    start: int
    end: int


def durations(text: str) -> list[Duration]:
    """Every duration in a text, in years ("36 Monate" → 3.0, "two (2) years" → 2.0)."""
    found = []
    for match in DURATION.finditer(text):
        value = number_value(match["num"])
        if value is None:
            continue
        unit = match["unit"].lower()
        if unit.startswith(("jahr", "year")):
            found.append(Duration(value, "years", match.start(), match.end()))
        elif unit.startswith(("monat", "month")):
            found.append(Duration(value / 12, "months", match.start(), match.end()))
        elif unit.startswith(("woche", "week")):
            found.append(Duration(value / 52, "weeks", match.start(), match.end()))
        else:
            found.append(Duration(value / 365, "days", match.start(), match.end()))
    return found


def parse_amount(token: str) -> float | None:
    """``25.000`` / ``50.000,00`` (German) or ``10,000`` / ``10,000.00`` (English) as a number."""
    token = token.replace("'", "")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", token):
        return float(token.replace(".", "").replace(",", "."))
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?", token):
        return float(token.replace(",", ""))
    try:
        return float(token.replace(",", "."))
    except ValueError:
        return None


def amounts(text: str) -> list[tuple[float, str]]:
    out = []
    for match in AMOUNT.finditer(text):
        number = parse_amount(match["num1"] or match["num2"])
        currency = CURRENCY.get((match["cur1"] or match["cur2"]).lower(), (match["cur1"] or match["cur2"]).upper())
        if number is not None:
            out.append((number, currency))
    return out


def normalised(text: str) -> str:
    """Line breaks of a PDF's layout undone: hyphenated line ends joined, every whitespace run one space."""
    return re.sub(r"\s+", " ", re.sub(r"(?<=[a-zäöüß])-[ \t]*\n\s*(?=[a-zäöüß])", "", text)).strip()


@dataclass(frozen=True, eq=False)
class Sentence:
    text: str  # exactly as in the document (the evidence quote)
    start: int
    end: int
    clause: Clause

    @cached_property
    def norm(self) -> str:
        """What the patterns read."""
        return normalised(self.text)


SPLIT = re.compile(r"(?<=[.;!?])\s+(?=[(\[„\"'A-ZÄÖÜa-zäöü0-9§])|\n(?=\s*(?:\(?[a-zA-Z0-9]{1,3}[).]\s|[-•–]\s))")


class NdaText:
    """The document's text with its clauses and sentences; every piece is an exact slice with offsets."""

    def __init__(self, text: str, page_of: Callable[[int], int | None] = lambda _offset: None) -> None:
        self.text = text
        self.page_of = page_of
        self.clauses = clauses(text) or [Clause(None, "document", 0, len(text))]

    @cached_property
    def sentences(self) -> list[Sentence]:
        out: list[Sentence] = []
        for clause in self.clauses:
            body = self.text[clause.start:clause.end]
            cursor = 0
            for match in SPLIT.finditer(body):
                if ABBREVIATIONS.search(body[max(0, match.start() - 8):match.start()]):
                    continue
                out.extend(self._sentence(clause, cursor, match.start()))
                cursor = match.end()
            out.extend(self._sentence(clause, cursor, len(body)))
        return out

    @cached_property
    def _position(self) -> dict[int, int]:
        """Each sentence's index (a lookup, not a search: a long text must not make every window quadratic)."""
        return {id(s): i for i, s in enumerate(self.sentences)}

    def _sentence(self, clause: Clause, start: int, end: int) -> list[Sentence]:
        piece = self.text[clause.start + start:clause.start + end]
        stripped = piece.strip()
        if len(stripped) < 3:
            return []
        offset = clause.start + start + piece.index(stripped)
        return [Sentence(stripped, offset, offset + len(stripped), clause)]

    def matching(self, pattern: re.Pattern[str], within: Iterable[Sentence] | None = None) -> list[Sentence]:
        return [s for s in (self.sentences if within is None else within) if pattern.search(s.norm)]

    def around(self, sentence: Sentence, *, before: int = 0, after: int = 2) -> str:
        """The sentence with its neighbours in the same clause, as the patterns read them (a document without
        numbered clauses is one clause: the window keeps a reading local)."""
        index = self._position[id(sentence)]
        window = [s for s in self.sentences[max(0, index - before):index + after + 1] if s.clause == sentence.clause]
        return " ".join(s.norm for s in window)

    def in_clauses(self, chosen: Iterable[Clause]) -> list[Sentence]:
        wanted = set(chosen)
        return [s for s in self.sentences if s.clause in wanted]

    def clause_text(self, clause: Clause) -> str:
        """The clause as the patterns read it (normalised)."""
        return normalised(self.text[clause.start:clause.end])

    def clause_label(self, clause: Clause) -> str | None:
        return None if clause.number is None else f"{clause.number} {clause.heading}".strip()

    def evidence(self, sentence: Sentence) -> Evidence:
        return Evidence(quote=sentence.text, start=sentence.start, end=sentence.end,
                        page=self.page_of(sentence.start), clause=self.clause_label(sentence.clause))
