"""Checks on what an LLM wrote, used at run time by every agent and by the eval metrics (one implementation).

- **Numbers** in a text must trace to computed facts, at the precision the text states: "62 %" traces to
  0.62 and "63 %" to 0.625, but "62.4 %" does not trace to 0.62, and a one-digit rounding such as "1" for
  0.62 does not count. German and English formats, percentages of fractions, percentage points and dates.
- **Quotes** must occur verbatim in the source (whitespace, typographic quotes, dashes and line-end
  hyphenation normalised); the match comes back with its offsets in the original text.
- **Citations** must point to ids that exist.
- **Forbidden facts** (internal figures, terms) must not appear in a customer-facing text.

Every check returns a :class:`Verification` listing what failed, so the caller can retry once with the
failures shown (``feedback()``) and otherwise fall back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from core.facts import Fact

FailureKind = Literal["number", "date", "quote", "citation", "forbidden"]


@dataclass(frozen=True)
class Failure:
    kind: FailureKind
    item: str  # the offending token, quote or id
    reason: str

    def __str__(self) -> str:
        return f"{self.kind} {self.item!r}: {self.reason}"


@dataclass
class Verification:
    failures: list[Failure] = field(default_factory=list)
    checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.failures

    def feedback(self) -> str:
        """The failures as lines for a retry prompt."""
        return "\n".join(f"- {f}" for f in self.failures)

    def __add__(self, other: Verification) -> Verification:
        return Verification(self.failures + other.failures, self.checked + other.checked)


# --- numbers -----------------------------------------------------------------------------------------
MONTHS = {name: number for number, names in enumerate((
    ("januar", "january", "jan"), ("februar", "february", "feb"), ("märz", "march", "mär", "mar"),
    ("april", "apr"), ("mai", "may"), ("juni", "june", "jun"), ("juli", "july", "jul"),
    ("august", "aug"), ("september", "sep", "sept"), ("oktober", "october", "okt", "oct"),
    ("november", "nov"), ("dezember", "december", "dez", "dec")), start=1) for name in names}
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
DATE_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), "ymd"),
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), "dmy"),
    (re.compile(rf"\b(\d{{1,2}})\.?\s+({_MONTH})\.?\s+(\d{{4}})\b", re.IGNORECASE), "d_month_y"),
    (re.compile(rf"\b({_MONTH})\.?\s+(\d{{1,2}}),?\s+(\d{{4}})\b", re.IGNORECASE), "month_d_y"),
)
# Tokens that contain digits but are not figures: ids (A-00001, U-KAM-001, nda-16), clause references
# (§ 7, Ziffer 3.1, Section 4), list markers at the start of a line, times of day.
DEFAULT_MASKS: tuple[re.Pattern[str], ...] = (
    re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:[-_/][A-Za-z0-9]+)+\b"),
    re.compile(r"§+\s*\d+[a-z]?(?:\s*(?:Abs\.|Absatz)\s*\d+)?"),
    re.compile(r"\b(?:Ziffer|Ziff\.|Nr\.|Section|Sec\.|Article|Art\.|Artikel|Clause|Klausel|Abschnitt|Annex|Anlage)"
               r"\s*\d+(?:\.\d+)*", re.IGNORECASE),
    re.compile(r"^\s*\d+(?:\.\d+)*[.)]\s", re.MULTILINE),
    re.compile(r"\b\d{1,2}:\d{2}\b"),
)
# A figure glued to letters ("8D report", "H1", "5kg") is a name, not a figure.
NUMBER = re.compile(r"(?<![\w.,])([-−+]?)(\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\dA-Za-zÄÖÜäöüß])")
POINTS_AFTER = re.compile(
    r"\s?(?:Prozentpunkte|Prozentpunkten|percentage points?|pp\b|Pp\.|%-Punkte|Punkte\b|points?\b)", re.IGNORECASE)
PERCENT_AFTER = re.compile(r"\s?(?:%|Prozent\b|percent\b|per cent\b)", re.IGNORECASE)
YEAR = re.compile(r"^(?:19|20)\d{2}$")
ABS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class NumberToken:
    text: str
    start: int
    marker: Literal["", "percent", "points"]
    readings: tuple[tuple[float, int], ...]  # (value, decimals stated)


def _readings(body: str) -> list[tuple[float, int]]:
    """Every value a written number can mean: ``1.234,5`` (German), ``1,234.5`` (English), ``93,3``, ``62``."""
    out: set[tuple[float, int]] = set()
    has_dot, has_comma = "." in body, "," in body
    if has_dot and has_comma:
        decimal = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if decimal == "." else "."
        whole, _, frac = body.rpartition(decimal)
        if re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})*", whole):
            out.add((float(whole.replace(thousands, "") + "." + frac), len(frac)))
        return sorted(out)
    sep = "." if has_dot else "," if has_comma else ""
    if not sep:
        return [(float(body), 0)]
    if re.fullmatch(rf"\d{{1,3}}(?:\{sep}\d{{3}})+", body):
        out.add((float(body.replace(sep, "")), 0))  # thousands separators
    if body.count(sep) == 1:
        whole, frac = body.split(sep)
        out.add((float(f"{whole}.{frac}"), len(frac)))  # a decimal point or comma
    return sorted(out)


def _significant_digits(body: str) -> int:
    return len(re.sub(r"[^\d]", "", body).lstrip("0"))


def _masked(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub(lambda m: " " * len(m.group(0)), text)
    return text


def _parse_date(match: re.Match[str], style: str) -> date | None:
    try:
        if style == "ymd":
            return date(int(match[1]), int(match[2]), int(match[3]))
        if style == "dmy":
            return date(int(match[3]), int(match[2]), int(match[1]))
        if style == "d_month_y":
            return date(int(match[3]), MONTHS[match[2].lower()], int(match[1]))
        return date(int(match[3]), MONTHS[match[1].lower()], int(match[2]))
    except (ValueError, KeyError):
        return None


def find_dates(text: str) -> list[tuple[str, int, date | None]]:
    """(text, offset, parsed date or None when impossible, e.g. 31.02.2026) for every written date."""
    found: list[tuple[str, int, date | None]] = []
    taken: list[tuple[int, int]] = []
    for pattern, style in DATE_PATTERNS:
        for match in pattern.finditer(text):
            if any(s < match.end() and match.start() < e for s, e in taken):
                continue
            taken.append((match.start(), match.end()))
            found.append((match.group(0), match.start(), _parse_date(match, style)))
    return sorted(found, key=lambda item: item[1])


def find_numbers(text: str, *, masks: Sequence[re.Pattern[str]] = DEFAULT_MASKS) -> list[NumberToken]:
    """Every figure in the text, with what it could mean; dates, ids and clause references are not figures."""
    clean = _masked(text, masks)
    for token, offset, _day in find_dates(clean):
        clean = clean[:offset] + " " * len(token) + clean[offset + len(token):]
    tokens = []
    for match in NUMBER.finditer(clean):
        sign, body = match.group(1), match.group(2)
        rest = clean[match.end():match.end() + 24]
        marker: Literal["", "percent", "points"] = (
            "points" if POINTS_AFTER.match(rest) else "percent" if PERCENT_AFTER.match(rest) else "")
        negative = sign in ("-", "−")
        readings = tuple((-v if negative else v, d) for v, d in _readings(body))
        tokens.append(NumberToken(text[match.start():match.end()], match.start(), marker, readings))
    return tokens


def _targets(token: NumberToken, facts: Sequence[Fact]) -> list[float]:
    """The values a fact may take when written like this token (a fraction as a percentage, …)."""
    targets = []
    for fact in facts:
        value = fact.value
        if isinstance(value, (bool, str, date)):
            continue
        if token.marker == "percent":
            if fact.unit == "points":
                targets.append(float(value))
            elif fact.unit in ("ratio", "number"):
                targets.append(float(value) * 100)
        elif token.marker == "points":
            if fact.unit in ("points", "number"):
                targets.append(float(value))
            if fact.unit in ("ratio", "number"):
                targets.append(float(value) * 100)
        else:
            targets.append(float(value))
    return targets


def traces(token: NumberToken, facts: Sequence[Fact]) -> bool:
    """True when the token is one of the facts written at the precision the token states.

    A rounded figure needs at least two significant digits: "63 %" may stand for 0.625, "1" may not stand
    for 0.62 (a rounding that loses the figure is no trace of it)."""
    significant = _significant_digits(token.text)
    for target in _targets(token, facts):
        for value, decimals in token.readings:
            for candidate in (value, -value):  # "fell 3.5 %" writes a negative figure without its sign
                gap = abs(candidate - target)
                if gap <= ABS_TOLERANCE * max(1.0, abs(target)):
                    return True  # exactly the fact
                if significant >= 2 and gap <= 0.5 * 10 ** -decimals + ABS_TOLERANCE * max(1.0, abs(target)):
                    return True  # the fact, rounded to the decimals the text shows
    return False


FactLike = Fact | float | int | date


def as_facts(items: Iterable[FactLike]) -> list[Fact]:
    facts = []
    for index, item in enumerate(items):
        if isinstance(item, Fact):
            facts.append(item)
        elif isinstance(item, date):
            facts.append(Fact(f"given.{index}", item, "date", "given"))
        else:
            facts.append(Fact(f"given.{index}", item, "number", "given"))
    return facts


def verify_numbers(text: str, facts: Iterable[FactLike], *, ignore: Collection[str] = (),
                   masks: Sequence[re.Pattern[str]] = DEFAULT_MASKS) -> Verification:
    """Every figure and date in ``text`` must be one of the facts; ``ignore`` lists tokens that are fine as
    written (e.g. a part number the caller put into the prompt)."""
    known = as_facts(facts)
    known_dates = {f.value for f in known if isinstance(f.value, date)}
    known_years = {d.year for d in known_dates} | {int(f.value) for f in known if isinstance(f.value, (int, float))
                                                   and not isinstance(f.value, bool) and float(f.value).is_integer()}
    result = Verification()
    for token, _offset, day in find_dates(_masked(text, masks)):
        result.checked += 1
        if token in ignore:
            continue
        if day is None:
            result.failures.append(Failure("date", token, "not a valid date"))
        elif day not in known_dates:
            result.failures.append(Failure("date", token, "no computed fact has this date"))
    for number in find_numbers(text, masks=masks):
        if number.text in ignore:
            continue
        result.checked += 1
        if YEAR.match(number.text) and not number.marker:
            if int(number.text) not in known_years:
                result.failures.append(Failure("number", number.text, "no computed fact is in this year"))
            continue
        if not traces(number, known):
            written = {"percent": " as a percentage", "points": " in points", "": ""}[number.marker]
            result.failures.append(Failure("number", number.text,
                                           f"written{written}, it does not trace to any computed fact at the "
                                           "precision it shows"))
    return result


# --- quotes ------------------------------------------------------------------------------------------
_CHAR_MAP = {"\u201e": '"', "\u201c": '"', "\u201d": '"', "\u00ab": '"', "\u00bb": '"', "\u2018": "'",
             "\u2019": "'", "\u201a": "'", "\u2013": "-", "\u2014": "-", "\u2011": "-", "\u00ad": ""}
_HYPHEN_BREAK = re.compile(r"-[ \t]*\n\s*(?=[a-zäöüß])")


def _normalised(text: str) -> tuple[str, list[int]]:
    """The text with whitespace runs as one space, ligatures and typographic marks folded, line-end hyphens
    joined; and for each normalised character the offset of the source character it came from."""
    joined_from: dict[int, int] = {m.start(): m.end() for m in _HYPHEN_BREAK.finditer(text)}
    out: list[str] = []
    index: list[int] = []
    position = 0
    pending_space = False
    while position < len(text):
        if position in joined_from:
            position = joined_from[position]
            continue
        char = text[position]
        if char.isspace():
            pending_space = bool(out)
            position += 1
            continue
        if pending_space:
            out.append(" ")
            index.append(position)
            pending_space = False
        folded = _CHAR_MAP.get(char)
        if folded is None:
            folded = unicodedata.normalize("NFKC", char)
        for piece in folded:
            out.append(piece)
            index.append(position)
        position += 1
    return "".join(out), index


def locate_quote(quote: str, source: str) -> tuple[int, int] | None:
    """(start, end) of ``quote`` in ``source`` (original offsets), or None when it does not occur."""
    needle, _ = _normalised(quote)
    if not needle:
        return None
    haystack, index = _normalised(source)
    at = haystack.find(needle)
    if at < 0:
        return None
    return index[at], index[at + len(needle) - 1] + 1


def verify_quotes(quotes: Iterable[str], source: str) -> Verification:
    result = Verification()
    for quote in quotes:
        if not quote.strip():
            continue
        result.checked += 1
        if locate_quote(quote, source) is None:
            result.failures.append(Failure("quote", quote[:120], "does not occur verbatim in the document"))
    return result


# --- citations and forbidden content -----------------------------------------------------------------
def verify_citations(cited: Iterable[str], known: Collection[str]) -> Verification:
    result = Verification()
    for item in cited:
        result.checked += 1
        if item not in known:
            result.failures.append(Failure("citation", item, "no such source"))
    return result


def verify_absent(text: str, forbidden: Iterable[Fact] = (), *, terms: Iterable[str] = (),
                  allowed: Iterable[Fact] = ()) -> Verification:
    """No forbidden figure (unless it is also an allowed one) and no forbidden term appears in ``text``."""
    banned, fine = list(forbidden), list(allowed)
    result = Verification()
    for number in find_numbers(text):
        result.checked += 1
        if traces(number, banned) and not traces(number, fine):
            result.failures.append(Failure("forbidden", number.text, "an internal figure in a customer-facing text"))
    lowered = text.lower()
    for term in terms:
        result.checked += 1
        if term.lower() in lowered:
            result.failures.append(Failure("forbidden", term, "an internal term in a customer-facing text"))
    return result
