"""One way to write numbers, percentages, money, dates and months in German and English (Babel, locales
``de_DE`` and ``en_GB``). Every template writes figures through these functions and the verifier's parser
(``core.verify``) reads exactly what they write, so a text code wrote always passes its own check.

Why Babel: the locale data (decimal and grouping marks, the space before "%" in German, where the currency
symbol goes, month names) is CLDR's, maintained upstream, instead of hand-written replace chains.
"""

from __future__ import annotations

import math
from datetime import date
from functools import cache
from typing import Literal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

Language = Literal["de", "en"]
LOCALES: dict[Language, str] = {"de": "de_DE", "en": "en_GB"}
LANGUAGES: tuple[Language, ...] = ("de", "en")


def as_language(value: str | None, default: Language = "en") -> Language:
    """A stored language code ("de", "en", "de-AT", None) as one of ours."""
    code = (value or "").lower()[:2]
    return "de" if code == "de" else "en" if code == "en" else default


def pick(language: Language, de: str, en: str) -> str:
    """The text in the reader's language."""
    return de if language == "de" else en


@cache
def _pattern(language: Language, kind: Literal["decimal", "percent"], decimals: int) -> str:
    locale = Locale.parse(LOCALES[language])
    base = (locale.percent_formats if kind == "percent" else locale.decimal_formats)[None].pattern
    whole = base.split(".")[0]  # "#,##0" (the locale's grouping), then exactly ``decimals`` decimals
    return whole.replace("0", "0" + ("." + "0" * decimals if decimals else ""), 1)


def _beyond(value: float) -> str | None:
    """A value no locale pattern can hold (infinite, or more digits than decimal arithmetic keeps) is written
    plainly instead of failing."""
    if not math.isfinite(value):
        return "–"
    return f"{value:.3g}" if abs(value) >= 1e15 else None


def number(value: float, language: Language, decimals: int = 0) -> str:
    """1234.5 → "1.234,5" / "1,234.5" (grouped, exactly ``decimals`` decimals)."""
    if (plain := _beyond(value)) is not None:
        return plain
    return format_decimal(value, format=_pattern(language, "decimal", decimals), locale=LOCALES[language])


def figure(value: float, language: Language) -> str:
    """A count or score as a reader expects it: whole numbers without decimals, others with one."""
    return number(value, language, 0 if float(value).is_integer() else 1)


def percent(ratio: float | None, language: Language, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.933 → "93,3 %" / "93.3%"; None → "–"."""
    if ratio is None:
        return "–"
    if (plain := _beyond(ratio * 100)) is not None:
        return f"{plain} %"
    return format_percent(ratio, format=_pattern(language, "percent", decimals), locale=LOCALES[language])


def points(value: float, language: Language) -> str:
    """A difference of two percentages in percentage points: 1.7 → "1,7 Prozentpunkte" / "1.7 points"."""
    return f"{number(value, language, 1)} {pick(language, 'Prozentpunkte', 'percentage points')}"


def money(value: float, currency: str, language: Language) -> str:
    """143677.32, EUR → "143.677,32 €" / "€143,677.32"."""
    if (plain := _beyond(value)) is not None:
        return f"{plain} {currency}"
    return format_currency(value, currency, locale=LOCALES[language])


def day(value: date, language: Language) -> str:
    """2026-11-26 → "26.11.2026" / "26 Nov 2026"."""
    return format_date(value, "medium", locale=LOCALES[language])


def weekday_date(value: date, language: Language) -> str:
    """2026-11-30 → "Montag, 30. November 2026" / "Monday, 30 November 2026" (a date to act on)."""
    return format_date(value, "EEEE, d. MMMM y" if language == "de" else "EEEE, d MMMM y", locale=LOCALES[language])


def month(key: str, language: Language) -> str:
    """"2026-10" → "Oktober 2026" / "October 2026"."""
    year, number_ = key.split("-")[:2]
    return format_date(date(int(year), int(number_), 1), "MMMM y", locale=LOCALES[language])
