"""Checks on what an LLM wrote, used at run time by every agent and by the eval metrics (one implementation).

- **Numbers** in a text must trace to computed facts, at the precision the text states: "62 %" traces to
  0.62 and "63 %" to 0.625, but "62.4 %" does not trace to 0.62, and a one-digit rounding such as "1" for
  0.62 does not count. German and English formats, percentages of fractions, percentage points and dates.
- **Quotes** must occur verbatim in the source (whitespace, typographic quotes, dashes and line-end
  hyphenation normalised); the match comes back with its offsets in the original text.
- **Citations** must point to ids that exist.
- **Forbidden facts** (internal figures, terms) must not appear in a customer-facing text.
- **Language and register**: text in the reader's language, formal German address, no placeholder left.

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

FailureKind = Literal["number", "date", "quote", "citation", "forbidden", "language", "claim"]


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
    sentences: list[dict[str, object]] = field(default_factory=list)  # each sentence's verdict (core.claims)

    @property
    def ok(self) -> bool:
        return not self.failures

    def feedback(self) -> str:
        """The failures as lines for a retry prompt."""
        return "\n".join(f"- {f}" for f in self.failures)

    def __add__(self, other: Verification) -> Verification:
        return Verification(self.failures + other.failures, self.checked + other.checked,
                            self.sentences + other.sentences)


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
# Tokens that contain digits but are not figures: ids (A-00001, U-KAM-001, nda-16), article numbers
# (727.1151-01), clause references
# (§ 7, Ziffer 3.1, Section 4), list markers at the start of a line, times of day. An id's segment of five or
# more digits without a leading zero is a figure glued to a label ("Q3-450000"), not part of the id.
ID = re.compile(r"\b[A-Za-z][A-Za-z0-9]*(?:[-_/][A-Za-z0-9]+)+\b")
DEFAULT_MASKS: tuple[re.Pattern[str], ...] = (
    ID,
    re.compile(r"\b\d{2,}\.\d{3,}-\d{1,3}\b"),
    re.compile(r"\b\d+(?:[.,]\d+)?(?:\s?[x×]\s?\d+(?:[.,]\d+)?)+\b"),  # dimensions (20x23x15) name a part
    re.compile(r"§+\s*\d+[a-z]?(?:\s*(?:Abs\.|Absatz)\s*\d+)?"),
    re.compile(r"\b(?:Ziffer|Ziff\.|Nr\.|Section|Sec\.|Article|Art\.|Artikel|Clause|Klausel|Abschnitt|Annex|Anlage)"
               r"\s*\d+(?:\.\d+)*", re.IGNORECASE),
    re.compile(r"^\s*\d+(?:\.\d+)*[.)]\s", re.MULTILINE),
    re.compile(r"\b\d{1,2}:\d{2}\b"),
)
FIGURE_IN_ID = re.compile(r"^[1-9]\d{4,}$")
# A figure starts with a digit (a letter before it makes a name: "H1", "KW48"); letters glued after it are its
# unit ("5kg", "450000EUR", "999k") unless they make an ordinal ("2nd") or a one-letter name ("8D report").
NUMBER = re.compile(r"(?<![\w.,])([-−+]?)(\d{1,3}(?:[.,]\d{3})+(?:[.,]\d+)?|\d+(?:[.,]\d+)?)(?![\d])"
                    r"(?P<glued>[A-Za-zÄÖÜäöüß€]*)")
NAME_SUFFIX = re.compile(r"^(?:st|nd|rd|th|te[nrms]?|er|[A-Z])$")
POINTS_AFTER = re.compile(
    r"\s?(?:Prozentpunkte|Prozentpunkten|percentage points?|pp\b|Pp\.|%-Punkte|Punkte\b|points?\b)", re.IGNORECASE)
PERCENT_AFTER = re.compile(r"\s?(?:%|Prozent\b|percent\b|per cent\b)", re.IGNORECASE)
SCALES: tuple[tuple[re.Pattern[str], float], ...] = (
    (re.compile(r"^(?:k|K|Tsd\.?|T€|TEUR|tsd\.?)(?![A-Za-z])"), 1e3),
    (re.compile(r"^(?:Mio\.?|Millionen|Million|millions?|M€|MEUR|m)(?![A-Za-z])"), 1e6),
    (re.compile(r"^(?:Mrd\.?|Milliarden?|billions?|bn|Bn)(?![A-Za-z])"), 1e9),
)
AMOUNT_BEFORE = re.compile(r"(?:EUR|€|USD|\$|CHF|GBP|£)\s?$")
AMOUNT_AFTER = re.compile(r"^\s?(?:EUR|€|Euro|USD|CHF|GBP|£|\$|Stück|Stk\.?|pcs|units?|Teile|kg)(?!\w)", re.IGNORECASE)
# a currency written straight before the figure, as Babel writes English amounts ("€1,234.50", "CHF1,234.50")
CURRENCY_GLUED = re.compile(r"(?:US\$|CHF|EUR|GBP|USD|€|£|\$)(?=\d)")
YEAR = re.compile(r"^(?:19|20)\d{2}$")
ABS_TOLERANCE = 1e-9


@dataclass(frozen=True)
class NumberToken:
    text: str
    start: int
    marker: Literal["", "percent", "points"]
    readings: tuple[tuple[float, int], ...]  # (value, decimals stated), already multiplied by ``scale``
    scale: float = 1.0  # "3 Mio." is 3 at a scale of a million: its precision is in millions
    signed: bool = False  # the text wrote a sign: only that sign's value counts
    amount: bool = False  # a currency or a unit next to it: "2026 EUR" is no year


def _decimal_mark(bodies: Iterable[str]) -> str | None:
    """The decimal mark the text proves it uses: "93,3" or "1.234,5" prove a comma, "4.25" or "1,234.5" a
    point; None when nothing (or both) is proven."""
    proven = set()
    for body in bodies:
        if "." in body and "," in body:
            proven.add("." if body.rfind(".") > body.rfind(",") else ",")
        for sep in ".,":
            if body.count(sep) == 1 and sep not in body.replace(sep, "", 1) and len(body.rpartition(sep)[2]) != 3:
                proven.add(sep)
    return proven.pop() if len(proven) == 1 else None


def _readings(body: str, decimal: str | None = None) -> list[tuple[float, int]]:
    """What a written number means: ``1.234,5`` (German), ``1,234.5`` (English), ``93,3``, ``62``. A single
    separator before exactly three digits groups thousands ("1,500" is 1500), unless the text proves it is
    its decimal mark or the whole part is 0 ("0,625")."""
    has_dot, has_comma = "." in body, "," in body
    if has_dot and has_comma:
        mark = "." if body.rfind(".") > body.rfind(",") else ","
        thousands = "," if mark == "." else "."
        whole, _, frac = body.rpartition(mark)
        if re.fullmatch(rf"\d{{1,3}}(?:\{thousands}\d{{3}})*", whole):
            return [(float(whole.replace(thousands, "") + "." + frac), len(frac))]
        return []
    sep = "." if has_dot else "," if has_comma else ""
    if not sep:
        return [(float(body), 0)]
    if re.fullmatch(rf"[1-9]\d{{0,2}}(?:\{sep}\d{{3}})+", body) and not (decimal == sep and body.count(sep) == 1):
        return [(float(body.replace(sep, "")), 0)]  # thousands separators
    if body.count(sep) == 1:
        whole, frac = body.split(sep)
        return [(float(f"{whole}.{frac}"), len(frac))]  # a decimal point or comma
    return []


def _significant_digits(body: str) -> int:
    return len(re.sub(r"[^\d]", "", body).lstrip("0"))


def _mask_id(match: re.Match[str]) -> str:
    segments = re.split(r"([-_/])", match.group(0))
    return "".join(seg if FIGURE_IN_ID.match(seg) else " " * len(seg) for seg in segments)


def _masked(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub(_mask_id if pattern is ID else lambda m: " " * len(m.group(0)), text)
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


def _scale(glued: str, rest: str) -> tuple[float, str]:
    """The multiplier written after a figure ("999k", "3 Mio.") and what follows it."""
    for pattern, factor in SCALES:
        if glued and (m := pattern.match(glued)):
            return factor, glued[m.end():] + rest
        if not glued and (m := pattern.match(rest.lstrip(" "))):
            return factor, rest.lstrip(" ")[m.end():]
    return 1.0, glued + rest


def find_numbers(text: str, *, masks: Sequence[re.Pattern[str]] = DEFAULT_MASKS) -> list[NumberToken]:
    """Every figure in the text, with what it could mean; dates, ids and clause references are not figures."""
    clean = _masked(text, masks)
    for token, offset, _day in find_dates(clean):
        clean = clean[:offset] + " " * len(token) + clean[offset + len(token):]
    clean = CURRENCY_GLUED.sub(lambda m: " " * len(m.group(0)), clean)
    matches = [m for m in NUMBER.finditer(clean) if not NAME_SUFFIX.match(m.group("glued"))]
    decimal = _decimal_mark(m.group(2) for m in matches)
    tokens = []
    for match in matches:
        sign, body, glued = match.group(1), match.group(2), match.group("glued")
        scale, rest = _scale(glued, clean[match.end():match.end() + 24])
        marker: Literal["", "percent", "points"] = (
            "points" if POINTS_AFTER.match(rest) else "percent" if PERCENT_AFTER.match(rest) else "")
        negative = sign in ("-", "−")
        readings = tuple((-v * scale if negative else v * scale, d) for v, d in _readings(body, decimal))
        amount = bool(glued or scale != 1.0 or AMOUNT_AFTER.match(rest)
                      or AMOUNT_BEFORE.search(text[max(0, match.start() - 5):match.start()]))
        tokens.append(NumberToken(text[match.start():match.end()], match.start(), marker, readings, scale,
                                  signed=bool(sign), amount=amount))
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

    A rounded figure needs at least two significant digits or a stated decimal: "63 %" may stand for 0.625 and
    "0.7 %" for 0.0069, "1" may not stand for 0.62 (a rounding that loses the figure is no trace of it). A written
    sign must be the fact's sign; an unsigned figure may stand for a negative fact ("fell 3.5 %")."""
    significant = _significant_digits(token.text)
    for target in _targets(token, facts):
        for value, decimals in token.readings:
            for candidate in (value,) if token.signed else (value, -value):
                gap = abs(candidate - target)
                slack = ABS_TOLERANCE * max(1.0, abs(target))
                if gap <= slack:
                    return True  # exactly the fact
                if (significant >= 2 or decimals >= 1) and gap <= 0.5 * 10 ** -decimals * token.scale + slack:
                    return True  # the fact, rounded to the precision the text shows
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
    written (e.g. a part number the caller put into the prompt). A figure inside the value of a text fact
    ("Rillenkugellager 6205", an invoice number) is part of that name, not a claim."""
    known = as_facts(facts)
    masks = (*masks, *(re.compile(re.escape(str(f.value))) for f in known
                       if f.unit == "text" and any(c.isdigit() for c in str(f.value))))
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
        if YEAR.match(number.text) and not number.marker and not number.amount:
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


# A quote must be long enough to point at one passage: "the" occurs in every document.
MIN_QUOTE_WORDS, MIN_QUOTE_CHARS = 2, 12


def verify_quotes(quotes: Iterable[str], source: str) -> Verification:
    result = Verification()
    for quote in quotes:
        if not quote.strip():
            continue
        result.checked += 1
        needle, _ = _normalised(quote)
        if len(needle) < MIN_QUOTE_CHARS or len(needle.split()) < MIN_QUOTE_WORDS:
            result.failures.append(Failure("quote", quote[:120], f"too short to point at one passage (at least "
                                                                 f"{MIN_QUOTE_WORDS} words, {MIN_QUOTE_CHARS} "
                                                                 "characters)"))
        elif locate_quote(quote, source) is None:
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


# --- language and register ------------------------------------------------------------------------------
_WORDS = re.compile(r"[A-Za-zÄÖÜäöüß]+")
_FUNCTION_WORDS = {
    "de": frozenset("der die das und ist nicht mit von zu den dem ein eine einen bei für auf im sind wird wurde "
                    "seit nach über unter auch noch am zum zur des als ich wir sie es sehr".split()),
    "en": frozenset("the and is not with of to a an for on in are was has have been at by from since as this "
                    "that be".split()),
}
INFORMAL_GERMAN = re.compile(r"\b(?:du|dich|dir|dein\w*|euch|euer\w*|hallo)\b", re.IGNORECASE)
PLACEHOLDER = re.compile(r"\[[^\]]*\]|\{[^}]*\}|<[^>]*>|\bX{2,}\b|Ihr Name|Your Name|TODO", re.IGNORECASE)


def verify_register(text: str, language: Literal["de", "en"], *, max_chars: int | None = None) -> Verification:
    """The text is in ``language`` (more of its function words than of the other language's), German
    addresses the reader formally, and no placeholder is left (``[Name]``, ``{date}``, ``XX``)."""
    result = Verification(checked=1)
    words = [w.lower() for w in _WORDS.findall(text)]
    other = "en" if language == "de" else "de"
    own_hits = sum(w in _FUNCTION_WORDS[language] for w in words)
    other_hits = sum(w in _FUNCTION_WORDS[other] for w in words)
    if own_hits < other_hits or (own_hits == 0 and len(words) >= 5):
        result.failures.append(Failure("language", text[:60], f"not written in {language}"))
    if language == "de" and (informal := INFORMAL_GERMAN.search(text)):
        result.failures.append(Failure("language", informal.group(0), "informal address; write formally (Sie)"))
    if placeholder := PLACEHOLDER.search(text):
        result.failures.append(Failure("language", placeholder.group(0), "a placeholder is left in the text"))
    if max_chars is not None and len(text) > max_chars:
        result.failures.append(Failure("language", f"{len(text)} characters", f"longer than {max_chars}"))
    return result
