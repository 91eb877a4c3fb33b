"""German-aware keywords: Snowball stems per chunk language for the word index, and the words a trigram
index looks up inside compounds ("Preis" in "Preisanpassung", "Strafe" in "Vertragsstrafen").

Queries carry no language of their own, so they are stemmed both ways (German and English) and either
stem may match. Function words are dropped: left in, they let BM25 rank any chunk that shares "the" or "der".
"""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

STOPWORDS = frozenset("""
a an and are as at be by can do does for from has have how i if in is it its me must my of on or our shall
that the their there this to us was we what when where which who why will with you your
aber als am an auch auf aus bei bin bis das dass dem den der des die dies diese doch du ein eine einem einen
einer eines er es für hat hatte ich ihr im in ist ja kann mit muss nach nicht noch nur oder sein sich sie
sind so über um und uns unser von vor was wer wie wir wird zu zum zur
""".split())
WORD = re.compile(r"\w+")
MAX_QUERY_TERMS = 24
MIN_TRIGRAM_WORD = 4  # shorter words are too common as parts of others


@lru_cache(maxsize=4)
def _stemmer(language: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer("german" if language == "de" else "english")


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def stems(text: str, language: str) -> str:
    """The text as stems for the word index (numbers and ids stay as they are)."""
    return " ".join(_stemmer(language).stemWords(words(text)))


def content_words(query: str) -> list[str]:
    return [w for w in dict.fromkeys(words(query)) if len(w) > 1 and w not in STOPWORDS][:MAX_QUERY_TERMS]


def query_stems(query: str) -> list[str]:
    """Every stem a query word can have, German and English."""
    found: list[str] = []
    for word in content_words(query):
        for language in ("de", "en"):
            stem = _stemmer(language).stemWord(word)
            if stem not in found:
                found.append(stem)
    return found


def trigram_words(query: str) -> list[str]:
    """The query words worth finding inside longer words."""
    return [w for w in content_words(query) if len(w) >= MIN_TRIGRAM_WORD and not w.isdigit()]
